//! Where a pod may run: tolerations (`ValidateTolerations`), affinity
//! (`validateAffinity`, node selector terms) and topology spread
//! constraints, with upstream's messages.

use super::super::field::{ErrorList, FieldError};
use super::super::json::{arr_at, child, index, int_at, present, str_at};
use super::super::names::{is_qualified_name, is_valid_label_value};
use super::super::selector::validate_label_selector;
use serde_json::{Value, json};

fn label_name_errors(k: &str, path: &str) -> ErrorList {
    is_qualified_name(k)
        .into_iter()
        .map(|m| FieldError::invalid(path, json!(k), m))
        .collect()
}

/// `validateTaintEffect`.
pub fn validate_taint_effect(effect: &str, allow_empty: bool, path: &str) -> ErrorList {
    if effect.is_empty() {
        return if allow_empty {
            Vec::new()
        } else {
            vec![FieldError::required(path, "")]
        };
    }
    if ["NoSchedule", "PreferNoSchedule", "NoExecute"].contains(&effect) {
        Vec::new()
    } else {
        vec![FieldError::not_supported(
            path,
            json!(effect),
            &["NoSchedule", "PreferNoSchedule", "NoExecute"],
        )]
    }
}

/// `ValidateTolerations`.
pub fn validate_tolerations(tolerations: &[Value], path: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    for (i, t) in tolerations.iter().enumerate() {
        let p = index(path, i);
        let key = str_at(t, "key");
        let op = str_at(t, "operator");
        let effect = str_at(t, "effect");
        let value = str_at(t, "value");
        if !key.is_empty() {
            errs.extend(label_name_errors(key, &child(&p, "key")));
        }
        if key.is_empty() && op != "Exists" {
            errs.push(FieldError::invalid(
                child(&p, "operator"),
                json!(op),
                "operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
            ));
        }
        if present(t, "tolerationSeconds").is_some() && effect != "NoExecute" {
            errs.push(FieldError::invalid(
                child(&p, "effect"),
                json!(effect),
                "effect must be 'NoExecute' when `tolerationSeconds` is set",
            ));
        }
        match op {
            "Equal" | "" => {
                let msgs = is_valid_label_value(value);
                if !msgs.is_empty() {
                    errs.push(FieldError::invalid(
                        child(&p, "operator"),
                        json!(value),
                        msgs.join(";"),
                    ));
                }
            }
            "Exists" => {
                if !value.is_empty() {
                    errs.push(FieldError::invalid_literal(
                        child(&p, "operator"),
                        toleration_literal(t),
                        "value must be empty when `operator` is 'Exists'",
                    ));
                }
            }
            other => errs.push(FieldError::not_supported(
                child(&p, "operator"),
                json!(other),
                &["Equal", "Exists"],
            )),
        }
        errs.extend(validate_taint_effect(effect, true, &child(&p, "effect")));
    }
    errs
}

/// Go's `%#v` of a `core.Toleration`.
fn toleration_literal(t: &Value) -> String {
    let secs = match int_at(t, "tolerationSeconds") {
        Some(s) => format!("&{s}"),
        None => "(*int64)(nil)".to_string(),
    };
    format!(
        "core.Toleration{{Key:{:?}, Operator:{:?}, Value:{:?}, Effect:{:?}, TolerationSeconds:{secs}}}",
        str_at(t, "key"),
        str_at(t, "operator"),
        str_at(t, "value"),
        str_at(t, "effect")
    )
}

/// `validateAffinity`: node, pod and pod anti-affinity.
pub fn validate_affinity(affinity: Option<&Value>, path: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    let Some(a) = affinity.filter(|a| !a.is_null()) else {
        return errs;
    };
    if let Some(na) = present(a, "nodeAffinity") {
        let np = child(path, "nodeAffinity");
        if let Some(req) = present(na, "requiredDuringSchedulingIgnoredDuringExecution") {
            errs.extend(validate_node_selector(
                req,
                &child(&np, "requiredDuringSchedulingIgnoredDuringExecution"),
            ));
        }
        let pp = child(&np, "preferredDuringSchedulingIgnoredDuringExecution");
        for (i, term) in arr_at(na, "preferredDuringSchedulingIgnoredDuringExecution")
            .iter()
            .enumerate()
        {
            let tp = index(&pp, i);
            errs.extend(validate_weight(term, &tp));
            if let Some(pref) = present(term, "preference") {
                errs.extend(validate_node_selector_term(pref, &child(&tp, "preference")));
            }
        }
    }
    for kind in ["podAffinity", "podAntiAffinity"] {
        let Some(pa) = present(a, kind) else {
            continue;
        };
        let kp = child(path, kind);
        let rp = child(&kp, "requiredDuringSchedulingIgnoredDuringExecution");
        for (i, term) in arr_at(pa, "requiredDuringSchedulingIgnoredDuringExecution")
            .iter()
            .enumerate()
        {
            errs.extend(validate_pod_affinity_term(term, &index(&rp, i)));
        }
        let pp = child(&kp, "preferredDuringSchedulingIgnoredDuringExecution");
        for (i, wt) in arr_at(pa, "preferredDuringSchedulingIgnoredDuringExecution")
            .iter()
            .enumerate()
        {
            let tp = index(&pp, i);
            errs.extend(validate_weight(wt, &tp));
            if let Some(term) = present(wt, "podAffinityTerm") {
                errs.extend(validate_pod_affinity_term(
                    term,
                    &child(&tp, "podAffinityTerm"),
                ));
            }
        }
    }
    errs
}

fn validate_weight(term: &Value, tp: &str) -> ErrorList {
    let w = int_at(term, "weight").unwrap_or(0);
    if (1..=100).contains(&w) {
        Vec::new()
    } else {
        vec![FieldError::invalid(
            child(tp, "weight"),
            json!(w),
            "must be in the range 1-100",
        )]
    }
}

fn validate_pod_affinity_term(term: &Value, p: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    if let Some(sel) = present(term, "labelSelector") {
        errs.extend(validate_label_selector(sel, &child(p, "labelSelector")));
    }
    if let Some(sel) = present(term, "namespaceSelector") {
        errs.extend(validate_label_selector(sel, &child(p, "namespaceSelector")));
    }
    let topo = str_at(term, "topologyKey");
    if topo.is_empty() {
        errs.push(FieldError::required(
            child(p, "topologyKey"),
            "can not be empty",
        ));
    } else {
        errs.extend(label_name_errors(topo, &child(p, "topologyKey")));
    }
    errs
}

/// `ValidateNodeSelector`: at least one term.
fn validate_node_selector(sel: &Value, p: &str) -> ErrorList {
    let terms = arr_at(sel, "nodeSelectorTerms");
    let tp = child(p, "nodeSelectorTerms");
    if terms.is_empty() {
        return vec![FieldError::required(
            tp,
            "must have at least one node selector term",
        )];
    }
    terms
        .iter()
        .enumerate()
        .flat_map(|(i, t)| validate_node_selector_term(t, &index(&tp, i)))
        .collect()
}

fn validate_node_selector_term(term: &Value, p: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    for (i, req) in arr_at(term, "matchExpressions").iter().enumerate() {
        errs.extend(validate_node_selector_requirement(
            req,
            &index(&child(p, "matchExpressions"), i),
            true,
        ));
    }
    for (i, req) in arr_at(term, "matchFields").iter().enumerate() {
        let rp = index(&child(p, "matchFields"), i);
        errs.extend(validate_node_selector_requirement(req, &rp, false));
        let k = str_at(req, "key");
        if k != "metadata.name" {
            errs.push(FieldError::invalid(
                child(&rp, "key"),
                json!(k),
                "not a valid field selector key",
            ));
        }
    }
    errs
}

fn validate_node_selector_requirement(req: &Value, p: &str, check_key: bool) -> ErrorList {
    let mut errs = ErrorList::new();
    let values = arr_at(req, "values");
    match str_at(req, "operator") {
        "In" | "NotIn" => {
            if values.is_empty() {
                errs.push(FieldError::required(
                    child(p, "values"),
                    "must be specified when `operator` is 'In' or 'NotIn'",
                ));
            }
        }
        "Exists" | "DoesNotExist" => {
            if !values.is_empty() {
                errs.push(FieldError::forbidden(
                    child(p, "values"),
                    "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                ));
            }
        }
        "Gt" | "Lt" => {
            if values.len() != 1 {
                errs.push(FieldError::required(
                    child(p, "values"),
                    "must be specified single value when `operator` is 'Lt' or 'Gt'",
                ));
            }
        }
        other => errs.push(FieldError::invalid(
            child(p, "operator"),
            json!(other),
            "not a valid selector operator",
        )),
    }
    if check_key {
        errs.extend(label_name_errors(str_at(req, "key"), &child(p, "key")));
    }
    errs
}

/// `validateTopologySpreadConstraints` (the common rules).
pub fn validate_topology_spread(constraints: &[Value], path: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    for (i, c) in constraints.iter().enumerate() {
        let p = index(path, i);
        let skew = int_at(c, "maxSkew").unwrap_or(0);
        if skew <= 0 {
            errs.push(FieldError::invalid(
                child(&p, "maxSkew"),
                json!(skew),
                "must be greater than zero",
            ));
        }
        let key = str_at(c, "topologyKey");
        if key.is_empty() {
            errs.push(FieldError::required(
                child(&p, "topologyKey"),
                "can not be empty",
            ));
        } else {
            errs.extend(label_name_errors(key, &child(&p, "topologyKey")));
        }
        let action = str_at(c, "whenUnsatisfiable");
        if action.is_empty() {
            errs.push(FieldError::required(child(&p, "whenUnsatisfiable"), ""));
        } else if !["DoNotSchedule", "ScheduleAnyway"].contains(&action) {
            errs.push(FieldError::not_supported(
                child(&p, "whenUnsatisfiable"),
                json!(action),
                &["DoNotSchedule", "ScheduleAnyway"],
            ));
        }
        if let Some(sel) = present(c, "labelSelector") {
            errs.extend(validate_label_selector(sel, &child(&p, "labelSelector")));
        }
    }
    errs
}
