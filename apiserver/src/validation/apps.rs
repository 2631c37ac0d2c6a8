//! apps/v1 workloads (upstream's `pkg/apis/apps/validation`): Deployment,
//! ReplicaSet, StatefulSet, DaemonSet — selectors that match their
//! template, rollout strategies, and what updates may change.

use super::field::{ErrorList, FieldError};
use super::json::{arr_at, child, int_at, present, str_at};
use super::meta::{
    IS_NEGATIVE_ERROR_MSG, Scope, immutable, labels_of, same, validate_annotations,
    validate_labels, validate_object_meta, validate_object_meta_update,
};
use super::names::name_is_dns_subdomain;
use super::pod::validate_pod_template_spec;
use super::selector::{
    is_empty_selector, label_selector_literal, selector_matches, validate_label_selector,
};
use serde_json::{Value, json};

/// `ValidateNonnegativeField` for an optional integer.
pub fn nonnegative(v: &Value, field: &str, path: &str) -> ErrorList {
    match int_at(v, field) {
        Some(n) if n < 0 => vec![FieldError::invalid(
            child(path, field),
            json!(n),
            IS_NEGATIVE_ERROR_MSG,
        )],
        _ => Vec::new(),
    }
}

/// Go's `%#v` of an `intstr.IntOrString`.
pub fn int_or_string_literal(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => format!("intstr.IntOrString{{Type:1, IntVal:0, StrVal:{s:?}}}"),
        Some(Value::Number(n)) => format!("intstr.IntOrString{{Type:0, IntVal:{n}, StrVal:\"\"}}"),
        _ => "intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}".to_string(),
    }
}

/// The number or percentage an IntOrString holds (`"25%"` → 25).
fn int_or_percent_value(v: Option<&Value>) -> i64 {
    match v {
        Some(Value::String(s)) => s.trim_end_matches('%').parse().unwrap_or(0),
        Some(n) => n.as_i64().unwrap_or(0),
        None => 0,
    }
}

/// `ValidatePositiveIntOrPercent` and `IsNotMoreThan100Percent`.
fn validate_int_or_percent(v: Option<&Value>, path: &str, max_100: bool) -> ErrorList {
    let mut errs = ErrorList::new();
    match v {
        Some(Value::String(s)) => {
            let digits = s.strip_suffix('%').unwrap_or("");
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                errs.push(FieldError::invalid_literal(
                    path,
                    int_or_string_literal(v),
                    "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
                ));
            } else if max_100 && int_or_percent_value(v) > 100 {
                errs.push(FieldError::invalid_literal(
                    path,
                    int_or_string_literal(v),
                    "must not be greater than 100%",
                ));
            }
        }
        Some(Value::Number(n)) if n.as_i64().unwrap_or(0) < 0 => {
            errs.push(FieldError::invalid(path, json!(n), IS_NEGATIVE_ERROR_MSG));
        }
        _ => {}
    }
    errs
}

/// Selector present, valid and non-empty; template labels matched.
fn validate_selector_and_template(
    spec: &Value,
    path: &str,
    kind_word: &str,
    require: bool,
) -> ErrorList {
    let mut errs = ErrorList::new();
    let sel = present(spec, "selector");
    match sel {
        None if require => errs.push(FieldError::required(child(path, "selector"), "")),
        None => {}
        Some(s) => {
            errs.extend(validate_label_selector(s, &child(path, "selector")));
            if is_empty_selector(s) {
                errs.push(FieldError::invalid_literal(
                    child(path, "selector"),
                    label_selector_literal(Some(s)),
                    format!("empty selector is invalid for {kind_word}"),
                ));
            }
        }
    }
    let template = spec.get("template").unwrap_or(&Value::Null);
    let labels = labels_of(template.get("metadata"));
    let matches = match sel {
        // A missing selector selects nothing (upstream's LabelSelectorAsSelector(nil)).
        None => false,
        Some(s) => is_empty_selector(s) || selector_matches(s, labels),
    };
    if !matches {
        let labels_path = format!("{path}.template.metadata.labels");
        match labels {
            Some(l) => errs.push(FieldError::invalid(
                labels_path,
                Value::Object(l.clone()),
                "`selector` does not match template `labels`",
            )),
            None => errs.push(FieldError::invalid_literal(
                labels_path,
                "map[string]string(nil)",
                "`selector` does not match template `labels`",
            )),
        }
    }
    errs
}

/// The template rules every replicated workload shares.
fn validate_template(spec: &Value, path: &str, kind: &str, deadline_invalid: bool) -> ErrorList {
    let template_path = child(path, "template");
    let template = spec.get("template").unwrap_or(&Value::Null);
    let mut errs = if kind == "StatefulSet" {
        // Upstream checks only the template's labels and annotations for
        // StatefulSets: its mounts may name volumeClaimTemplates, which are
        // not pod volumes.
        let meta = template.get("metadata").unwrap_or(&Value::Null);
        let mut e = validate_labels(meta.get("labels"), &child(&template_path, "labels"));
        e.extend(validate_annotations(
            meta.get("annotations"),
            &child(&template_path, "annotations"),
        ));
        e
    } else {
        validate_pod_template_spec(template, &template_path)
    };
    let tspec = template.get("spec").unwrap_or(&Value::Null);
    let restart = str_at(tspec, "restartPolicy");
    if restart != "Always" {
        errs.push(FieldError::not_supported(
            format!("{template_path}.spec.restartPolicy"),
            json!(restart),
            &["Always"],
        ));
    }
    if let Some(ads) = present(tspec, "activeDeadlineSeconds") {
        let p = format!("{template_path}.spec.activeDeadlineSeconds");
        let msg = format!("activeDeadlineSeconds in {kind} is not Supported");
        if deadline_invalid {
            errs.push(FieldError::invalid(p, ads.clone(), msg));
        } else {
            errs.push(FieldError::forbidden(p, msg));
        }
    }
    errs
}

/// `ValidateDeployment`.
pub fn validate_deployment(obj: &Value) -> ErrorList {
    let mut errs = validate_object_meta(obj, Scope::Namespaced, name_is_dns_subdomain);
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    let p = "spec";
    errs.extend(nonnegative(spec, "replicas", p));
    errs.extend(validate_selector_and_template(spec, p, "deployment", true));
    errs.extend(validate_template(spec, p, "ReplicaSet", true));
    let strategy = spec.get("strategy").unwrap_or(&Value::Null);
    let sp = "spec.strategy";
    match str_at(strategy, "type") {
        "Recreate" => {
            if present(strategy, "rollingUpdate").is_some() {
                errs.push(FieldError::forbidden(
                    child(sp, "rollingUpdate"),
                    "may not be specified when strategy `type` is 'Recreate'",
                ));
            }
        }
        "RollingUpdate" => match present(strategy, "rollingUpdate") {
            None => errs.push(FieldError::required(
                child(sp, "rollingUpdate"),
                "this should be defaulted and never be nil",
            )),
            Some(ru) => {
                let rp = child(sp, "rollingUpdate");
                let (mu, ms) = (ru.get("maxUnavailable"), ru.get("maxSurge"));
                errs.extend(validate_int_or_percent(
                    mu,
                    &child(&rp, "maxUnavailable"),
                    false,
                ));
                errs.extend(validate_int_or_percent(ms, &child(&rp, "maxSurge"), false));
                if int_or_percent_value(mu) == 0 && int_or_percent_value(ms) == 0 {
                    errs.push(FieldError::invalid_literal(
                        child(&rp, "maxUnavailable"),
                        int_or_string_literal(mu),
                        "may not be 0 when `maxSurge` is 0",
                    ));
                }
                if matches!(mu, Some(Value::String(_))) && int_or_percent_value(mu) > 100 {
                    errs.push(FieldError::invalid_literal(
                        child(&rp, "maxUnavailable"),
                        int_or_string_literal(mu),
                        "must not be greater than 100%",
                    ));
                }
            }
        },
        other => errs.push(FieldError::not_supported(
            child(sp, "type"),
            json!(other),
            &["Recreate", "RollingUpdate"],
        )),
    }
    errs.extend(nonnegative(spec, "minReadySeconds", p));
    errs.extend(nonnegative(spec, "revisionHistoryLimit", p));
    if let Some(pds) = int_at(spec, "progressDeadlineSeconds") {
        errs.extend(nonnegative(spec, "progressDeadlineSeconds", p));
        if pds <= int_at(spec, "minReadySeconds").unwrap_or(0) {
            errs.push(FieldError::invalid(
                "spec.progressDeadlineSeconds",
                json!(pds),
                "must be greater than minReadySeconds",
            ));
        }
    }
    errs
}

/// `ValidateReplicaSet`.
pub fn validate_replica_set(obj: &Value) -> ErrorList {
    let mut errs = validate_object_meta(obj, Scope::Namespaced, name_is_dns_subdomain);
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    errs.extend(nonnegative(spec, "replicas", "spec"));
    errs.extend(nonnegative(spec, "minReadySeconds", "spec"));
    // Upstream's ReplicaSet message really says "deployment".
    errs.extend(validate_selector_and_template(
        spec,
        "spec",
        "deployment",
        true,
    ));
    errs.extend(validate_template(spec, "spec", "ReplicaSet", true));
    errs
}

/// `ValidateStatefulSet`.
pub fn validate_stateful_set(obj: &Value) -> ErrorList {
    let mut errs = validate_object_meta(obj, Scope::Namespaced, name_is_dns_subdomain);
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    match str_at(spec, "podManagementPolicy") {
        "" => errs.push(FieldError::required("spec.podManagementPolicy", "")),
        "OrderedReady" | "Parallel" => {}
        other => errs.push(FieldError::invalid(
            "spec.podManagementPolicy",
            json!(other),
            "must be 'OrderedReady' or 'Parallel'",
        )),
    }
    let us = spec.get("updateStrategy").unwrap_or(&Value::Null);
    match str_at(us, "type") {
        "" => errs.push(FieldError::required("spec.updateStrategy", "")),
        "OnDelete" => {
            if let Some(ru) = present(us, "rollingUpdate") {
                errs.push(FieldError::invalid(
                    "spec.updateStrategy.rollingUpdate",
                    ru.clone(),
                    "only allowed for updateStrategy 'RollingUpdate'",
                ));
            }
        }
        "RollingUpdate" => {
            if let Some(ru) = present(us, "rollingUpdate") {
                errs.extend(nonnegative(
                    ru,
                    "partition",
                    "spec.updateStrategy.rollingUpdate",
                ));
            }
        }
        _ => errs.push(FieldError::invalid(
            "spec.updateStrategy",
            us.clone(),
            "must be 'RollingUpdate' or 'OnDelete'",
        )),
    }
    if let Some(policy) = present(spec, "persistentVolumeClaimRetentionPolicy") {
        for f in ["whenDeleted", "whenScaled"] {
            let v = str_at(policy, f);
            if !["Retain", "Delete"].contains(&v) {
                errs.push(FieldError::not_supported(
                    format!("spec.persistentVolumeClaimRetentionPolicy.{f}"),
                    json!(v),
                    &["Retain", "Delete"],
                ));
            }
        }
    }
    if let Some(ord) = present(spec, "ordinals") {
        errs.extend(nonnegative(ord, "start", "spec.ordinals"));
    }
    errs.extend(nonnegative(spec, "replicas", "spec"));
    errs.extend(nonnegative(spec, "minReadySeconds", "spec"));
    errs.extend(validate_selector_and_template(
        spec,
        "spec",
        "statefulset",
        true,
    ));
    errs.extend(validate_template(spec, "spec", "StatefulSet", false));
    for (i, pvc) in arr_at(spec, "volumeClaimTemplates").iter().enumerate() {
        let name = pvc.get("metadata").map(|m| str_at(m, "name")).unwrap_or("");
        if name.is_empty() {
            errs.push(FieldError::required(
                format!("spec.volumeClaimTemplates[{i}].metadata.name"),
                "",
            ));
        }
    }
    errs
}

/// `ValidateDaemonSet`.
pub fn validate_daemon_set(obj: &Value) -> ErrorList {
    let mut errs = validate_object_meta(obj, Scope::Namespaced, name_is_dns_subdomain);
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    errs.extend(validate_selector_and_template(
        spec,
        "spec",
        "daemonset",
        false,
    ));
    errs.extend(validate_template(spec, "spec", "DaemonSet", true));
    errs.extend(nonnegative(spec, "minReadySeconds", "spec"));
    errs.extend(nonnegative(spec, "templateGeneration", "spec"));
    let us = spec.get("updateStrategy").unwrap_or(&Value::Null);
    match str_at(us, "type") {
        "OnDelete" => {}
        "RollingUpdate" => match present(us, "rollingUpdate") {
            None => errs.push(FieldError::required(
                "spec.updateStrategy.rollingUpdate",
                "",
            )),
            Some(ru) => {
                let rp = "spec.updateStrategy.rollingUpdate";
                let (mu, ms) = (ru.get("maxUnavailable"), ru.get("maxSurge"));
                errs.extend(validate_int_or_percent(
                    mu,
                    &child(rp, "maxUnavailable"),
                    true,
                ));
                errs.extend(validate_int_or_percent(ms, &child(rp, "maxSurge"), true));
                let has_unavailable = int_or_percent_value(mu) != 0;
                let has_surge = int_or_percent_value(ms) != 0;
                if has_unavailable && has_surge {
                    errs.push(FieldError::invalid_literal(
                        child(rp, "maxSurge"),
                        int_or_string_literal(ms),
                        "may not be set when maxUnavailable is non-zero",
                    ));
                } else if !has_unavailable && !has_surge {
                    errs.push(FieldError::required(
                        child(rp, "maxUnavailable"),
                        "cannot be 0 when maxSurge is 0",
                    ));
                }
            }
        },
        other => errs.push(FieldError::not_supported(
            "spec.updateStrategy",
            json!(other),
            &["RollingUpdate", "OnDelete"],
        )),
    }
    errs.extend(nonnegative(spec, "revisionHistoryLimit", "spec"));
    errs
}

/// `ValidateImmutableField` for `spec.selector`, shown as upstream's Go literal.
fn selector_immutable(new: &Value, old: &Value) -> ErrorList {
    let n = new.get("spec").and_then(|s| s.get("selector"));
    let o = old.get("spec").and_then(|s| s.get("selector"));
    if immutable(n, o, "spec.selector").is_empty() {
        return Vec::new();
    }
    vec![FieldError::invalid_literal(
        "spec.selector",
        label_selector_literal(n),
        super::meta::FIELD_IMMUTABLE,
    )]
}

/// Update rules per apps kind: metadata, the spec again, an immutable
/// selector, and StatefulSet's short list of mutable spec fields.
pub fn validate_apps_update(kind: &str, new: &Value, old: &Value) -> ErrorList {
    let mut errs = validate_object_meta_update(new, old);
    let spec_errs = match kind {
        "Deployment" => validate_deployment(new),
        "ReplicaSet" => validate_replica_set(new),
        "StatefulSet" => validate_stateful_set(new),
        _ => validate_daemon_set(new),
    };
    // validate_object_meta's create-only checks repeat the update's; keep the spec part.
    errs.extend(
        spec_errs
            .into_iter()
            .filter(|e| !e.field.starts_with("metadata.")),
    );
    errs.extend(selector_immutable(new, old));
    if kind == "StatefulSet" {
        let mut n = new.get("spec").cloned().unwrap_or(Value::Null);
        let o = old.get("spec").cloned().unwrap_or(Value::Null);
        if let Some(m) = n.as_object_mut() {
            for f in [
                "replicas",
                "template",
                "updateStrategy",
                "minReadySeconds",
                "ordinals",
                "revisionHistoryLimit",
                "persistentVolumeClaimRetentionPolicy",
            ] {
                match o.get(f) {
                    Some(v) => m.insert(f.into(), v.clone()),
                    None => m.remove(f),
                };
            }
        }
        if !same(Some(&n), Some(&o)) {
            errs.push(FieldError::forbidden(
                "spec",
                "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
            ));
        }
    }
    errs
}

/// Status updates: metadata rules and non-negative counters.
pub fn validate_apps_status_update(new: &Value, old: &Value) -> ErrorList {
    let mut errs = validate_object_meta_update(new, old);
    let status = new.get("status").unwrap_or(&Value::Null);
    for f in [
        "replicas",
        "updatedReplicas",
        "readyReplicas",
        "availableReplicas",
        "unavailableReplicas",
        "currentReplicas",
        "fullyLabeledReplicas",
        "observedGeneration",
        "collisionCount",
        "currentNumberScheduled",
        "numberMisscheduled",
        "desiredNumberScheduled",
        "numberReady",
        "updatedNumberScheduled",
        "numberAvailable",
        "numberUnavailable",
    ] {
        errs.extend(nonnegative(status, f, "status"));
    }
    errs
}
