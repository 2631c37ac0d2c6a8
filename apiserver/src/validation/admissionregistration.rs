//! admissionregistration.k8s.io/v1: ValidatingAdmissionPolicy, its
//! bindings, and webhook configurations, with upstream's field paths and
//! messages for the main rules (CEL expressions are parsed here, so a
//! syntax error is refused at create as upstream refuses it).

use super::field::{ErrorList, FieldError};
use super::json::{arr_at, child, index, present, str_at};
use super::meta::{Scope, validate_object_meta};
use super::names::{is_qualified_name, name_is_dns_subdomain};
use super::selector::validate_label_selector;
use crate::admission::policy::cel;
use serde_json::{Value, json};
use std::collections::HashSet;

const OPERATIONS: &[&str] = &["*", "CONNECT", "CREATE", "DELETE", "UPDATE"];
const FAILURE_POLICIES: &[&str] = &["Fail", "Ignore"];
const MATCH_POLICIES: &[&str] = &["Equivalent", "Exact"];
const SCOPES: &[&str] = &["*", "Cluster", "Namespaced"];
const REASONS: &[&str] = &[
    "Forbidden",
    "Invalid",
    "RequestEntityTooLarge",
    "Unauthorized",
];
const ACTIONS: &[&str] = &["Audit", "Deny", "Warn"];

fn one_of(errs: &mut ErrorList, v: &Value, key: &str, path: &str, allowed: &[&str]) {
    if let Some(x) = present(v, key) {
        let s = x.as_str().unwrap_or("");
        if !allowed.contains(&s) {
            errs.push(FieldError::not_supported(
                child(path, key),
                x.clone(),
                allowed,
            ));
        }
    }
}

/// A string list of a rule: required, `*` alone.
fn rule_list(errs: &mut ErrorList, rule: &Value, key: &str, path: &str, what: &str) {
    let items: Vec<&str> = arr_at(rule, key).iter().filter_map(Value::as_str).collect();
    let p = child(path, key);
    if items.is_empty() {
        errs.push(FieldError::required(p, ""));
    } else if items.len() > 1 && items.contains(&"*") {
        errs.push(FieldError::invalid(
            p,
            json!(items),
            format!("if '*' is present, must not specify other {what}"),
        ));
    }
}

/// `Rule` + operations (webhook rules and policy resource rules).
fn validate_rule(rule: &Value, path: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    rule_list(&mut errs, rule, "operations", path, "operations");
    for (i, op) in arr_at(rule, "operations").iter().enumerate() {
        if !OPERATIONS.contains(&op.as_str().unwrap_or("")) {
            errs.push(FieldError::not_supported(
                index(&child(path, "operations"), i),
                op.clone(),
                OPERATIONS,
            ));
        }
    }
    rule_list(&mut errs, rule, "apiGroups", path, "API groups");
    rule_list(&mut errs, rule, "apiVersions", path, "API versions");
    rule_list(&mut errs, rule, "resources", path, "resources");
    one_of(&mut errs, rule, "scope", path, SCOPES);
    errs
}

fn validate_selector(errs: &mut ErrorList, v: &Value, key: &str, path: &str) {
    if let Some(sel) = present(v, key) {
        errs.extend(validate_label_selector(sel, &child(path, key)));
    }
}

/// MatchResources; `require_rules` for a policy's matchConstraints.
fn validate_match_resources(m: &Value, path: &str, require_rules: bool) -> ErrorList {
    let mut errs = ErrorList::new();
    let rules = child(path, "resourceRules");
    if require_rules && arr_at(m, "resourceRules").is_empty() {
        errs.push(FieldError::required(&rules, ""));
    }
    for key in ["resourceRules", "excludeResourceRules"] {
        for (i, r) in arr_at(m, key).iter().enumerate() {
            errs.extend(validate_rule(r, &index(&child(path, key), i)));
        }
    }
    one_of(&mut errs, m, "matchPolicy", path, MATCH_POLICIES);
    validate_selector(&mut errs, m, "namespaceSelector", path);
    validate_selector(&mut errs, m, "objectSelector", path);
    errs
}

/// An expression field: required, and it must parse.
fn validate_expression(errs: &mut ErrorList, v: &Value, key: &str, path: &str) {
    let p = child(path, key);
    let src = str_at(v, key);
    if src.trim().is_empty() {
        errs.push(FieldError::required(p, ""));
    } else if let Err(e) = cel::compile(src) {
        errs.push(FieldError::invalid(p, json!(src), e.to_string()));
    }
}

/// Named expressions (matchConditions, variables): names required, unique.
fn validate_named(errs: &mut ErrorList, list: &[Value], path: &str, qualified: bool) {
    let mut seen = HashSet::new();
    for (i, c) in list.iter().enumerate() {
        let p = index(path, i);
        let name = str_at(c, "name");
        if name.is_empty() {
            errs.push(FieldError::required(child(&p, "name"), ""));
        } else if qualified {
            for m in is_qualified_name(name) {
                errs.push(FieldError::invalid(child(&p, "name"), json!(name), m));
            }
        }
        if !name.is_empty() && !seen.insert(name) {
            errs.push(FieldError::duplicate(child(&p, "name"), json!(name)));
        }
        validate_expression(errs, c, "expression", &p);
    }
}

pub fn validate_validating_admission_policy(obj: &Value) -> ErrorList {
    let mut errs = validate_object_meta(obj, Scope::Cluster, name_is_dns_subdomain);
    let null = Value::Null;
    let spec = obj.get("spec").unwrap_or(&null);
    one_of(&mut errs, spec, "failurePolicy", "spec", FAILURE_POLICIES);
    match spec.get("matchConstraints").filter(|m| m.is_object()) {
        None => errs.push(FieldError::required("spec.matchConstraints", "")),
        Some(m) => errs.extend(validate_match_resources(m, "spec.matchConstraints", true)),
    }
    if let Some(pk) = spec.get("paramKind").filter(|p| p.is_object()) {
        for key in ["apiVersion", "kind"] {
            if str_at(pk, key).is_empty() {
                errs.push(FieldError::required(child("spec.paramKind", key), ""));
            }
        }
    }
    let validations = arr_at(spec, "validations");
    if validations.is_empty() && arr_at(spec, "auditAnnotations").is_empty() {
        errs.push(FieldError::required(
            "spec.validations",
            "validations or auditAnnotations must contain at least one item",
        ));
    }
    for (i, v) in validations.iter().enumerate() {
        let p = index("spec.validations", i);
        validate_expression(&mut errs, v, "expression", &p);
        let msg = str_at(v, "message");
        if msg.contains('\n') {
            errs.push(FieldError::invalid(
                child(&p, "message"),
                json!(msg),
                "message must not contain line breaks",
            ));
        } else if msg.is_empty() && str_at(v, "expression").contains('\n') {
            errs.push(FieldError::required(
                child(&p, "message"),
                "message must be specified if expression contains line breaks",
            ));
        }
        if present(v, "messageExpression").is_some() {
            validate_expression(&mut errs, v, "messageExpression", &p);
        }
        one_of(&mut errs, v, "reason", &p, REASONS);
    }
    validate_named(
        &mut errs,
        arr_at(spec, "matchConditions"),
        "spec.matchConditions",
        true,
    );
    validate_named(
        &mut errs,
        arr_at(spec, "variables"),
        "spec.variables",
        false,
    );
    for (i, a) in arr_at(spec, "auditAnnotations").iter().enumerate() {
        let p = index("spec.auditAnnotations", i);
        if str_at(a, "key").is_empty() {
            errs.push(FieldError::required(child(&p, "key"), ""));
        }
        validate_expression(&mut errs, a, "valueExpression", &p);
    }
    errs
}

pub fn validate_validating_admission_policy_binding(obj: &Value) -> ErrorList {
    let mut errs = validate_object_meta(obj, Scope::Cluster, name_is_dns_subdomain);
    let null = Value::Null;
    let spec = obj.get("spec").unwrap_or(&null);
    if str_at(spec, "policyName").is_empty() {
        errs.push(FieldError::required("spec.policyName", ""));
    }
    let actions = arr_at(spec, "validationActions");
    if actions.is_empty() {
        errs.push(FieldError::required(
            "spec.validationActions",
            "at least one validation action is required",
        ));
    }
    let mut seen = HashSet::new();
    for (i, a) in actions.iter().enumerate() {
        let p = index("spec.validationActions", i);
        let s = a.as_str().unwrap_or("");
        if !seen.insert(s) {
            errs.push(FieldError::duplicate(p, a.clone()));
        } else if !ACTIONS.contains(&s) {
            errs.push(FieldError::not_supported(p, a.clone(), ACTIONS));
        }
    }
    if seen.contains("Deny") && seen.contains("Warn") {
        errs.push(FieldError::invalid(
            "spec.validationActions",
            json!(actions),
            "must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)",
        ));
    }
    if let Some(pr) = spec.get("paramRef").filter(|p| p.is_object()) {
        let has_name = !str_at(pr, "name").is_empty();
        let has_selector = pr.get("selector").is_some_and(Value::is_object);
        if has_name && has_selector {
            errs.push(FieldError::forbidden(
                "spec.paramRef.name",
                "name and selector are mutually exclusive",
            ));
        } else if !has_name && !has_selector {
            errs.push(FieldError::required(
                "spec.paramRef",
                "one of name or selector must be specified",
            ));
        }
        if has_selector {
            validate_selector(&mut errs, pr, "selector", "spec.paramRef");
        }
        match present(pr, "parameterNotFoundAction") {
            None => errs.push(FieldError::required(
                "spec.paramRef.parameterNotFoundAction",
                "",
            )),
            Some(_) => one_of(
                &mut errs,
                pr,
                "parameterNotFoundAction",
                "spec.paramRef",
                &["Allow", "Deny"],
            ),
        }
    }
    if let Some(m) = spec.get("matchResources").filter(|m| m.is_object()) {
        errs.extend(validate_match_resources(m, "spec.matchResources", false));
    }
    errs
}

/// One webhook of either configuration kind.
fn validate_webhook(w: &Value, path: &str, mutating: bool) -> ErrorList {
    let mut errs = ErrorList::new();
    let name = str_at(w, "name");
    if name.is_empty() {
        errs.push(FieldError::required(child(path, "name"), ""));
    } else if name.split('.').count() < 3 {
        errs.push(FieldError::invalid(
            child(path, "name"),
            json!(name),
            "should be a domain with at least three segments separated by dots",
        ));
    }
    for (i, r) in arr_at(w, "rules").iter().enumerate() {
        errs.extend(validate_rule(r, &index(&child(path, "rules"), i)));
    }
    one_of(&mut errs, w, "failurePolicy", path, FAILURE_POLICIES);
    one_of(&mut errs, w, "matchPolicy", path, MATCH_POLICIES);
    if mutating {
        one_of(
            &mut errs,
            w,
            "reinvocationPolicy",
            path,
            &["IfNeeded", "Never"],
        );
    }
    match present(w, "sideEffects") {
        None => errs.push(FieldError::required(
            child(path, "sideEffects"),
            "must specify one of None, NoneOnDryRun",
        )),
        Some(_) => one_of(&mut errs, w, "sideEffects", path, &["None", "NoneOnDryRun"]),
    }
    let versions = arr_at(w, "admissionReviewVersions");
    if versions.is_empty() {
        errs.push(FieldError::required(
            child(path, "admissionReviewVersions"),
            "must specify one of v1, v1beta1",
        ));
    } else if !versions
        .iter()
        .any(|v| matches!(v.as_str(), Some("v1" | "v1beta1")))
    {
        errs.push(FieldError::invalid(
            child(path, "admissionReviewVersions"),
            json!(versions),
            "must include at least one of v1, v1beta1",
        ));
    }
    if let Some(t) = present(w, "timeoutSeconds")
        && !t.as_i64().is_some_and(|t| (1..=30).contains(&t))
    {
        errs.push(FieldError::invalid(
            child(path, "timeoutSeconds"),
            t.clone(),
            "the timeout value must be between 1 and 30 seconds",
        ));
    }
    let cc = w.get("clientConfig").unwrap_or(&Value::Null);
    let cc_path = child(path, "clientConfig");
    let url = str_at(cc, "url");
    let service = cc.get("service").filter(|s| s.is_object());
    match (url.is_empty(), service) {
        (true, None) | (false, Some(_)) => errs.push(FieldError::required(
            &cc_path,
            "exactly one of url or service is required",
        )),
        (false, None) if !url.starts_with("https://") => errs.push(FieldError::invalid(
            child(&cc_path, "url"),
            json!(url),
            "'https' is the only allowed URL scheme",
        )),
        (true, Some(s)) => {
            let sp = child(&cc_path, "service");
            for key in ["name", "namespace"] {
                if str_at(s, key).is_empty() {
                    errs.push(FieldError::required(
                        child(&sp, key),
                        format!("service {key} is required"),
                    ));
                }
            }
        }
        _ => {}
    }
    validate_selector(&mut errs, w, "namespaceSelector", path);
    validate_selector(&mut errs, w, "objectSelector", path);
    validate_named(
        &mut errs,
        arr_at(w, "matchConditions"),
        &child(path, "matchConditions"),
        true,
    );
    errs
}

pub fn validate_webhook_configuration(obj: &Value, mutating: bool) -> ErrorList {
    let mut errs = validate_object_meta(obj, Scope::Cluster, name_is_dns_subdomain);
    let mut seen = HashSet::new();
    for (i, w) in arr_at(obj, "webhooks").iter().enumerate() {
        let p = index("webhooks", i);
        let name = str_at(w, "name");
        if !name.is_empty() && !seen.insert(name) {
            errs.push(FieldError::duplicate(child(&p, "name"), json!(name)));
        }
        errs.extend(validate_webhook(w, &p, mutating));
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(errs: &ErrorList) -> Vec<String> {
        errs.iter()
            .map(|e| format!("{}: {}", e.field, e.kind.text()))
            .collect()
    }

    #[test]
    fn policies_table() {
        let rules = json!([{"apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["deployments"]}]);
        let cases: Vec<(Value, Vec<&str>)> = vec![
            (
                json!({"matchConstraints": {"resourceRules": rules}, "validations": [{"expression": "object.spec.replicas <= 5"}]}),
                vec![],
            ),
            (
                json!({"validations": [{"expression": "true"}]}),
                vec!["spec.matchConstraints: Required value"],
            ),
            (
                json!({"matchConstraints": {}, "validations": [{"expression": "true"}]}),
                vec!["spec.matchConstraints.resourceRules: Required value"],
            ),
            (
                json!({"matchConstraints": {"resourceRules": rules}}),
                vec!["spec.validations: Required value"],
            ),
            (
                json!({"matchConstraints": {"resourceRules": rules}, "failurePolicy": "Sometimes", "validations": [{"expression": "true", "reason": "Teapot"}]}),
                vec![
                    "spec.failurePolicy: Unsupported value",
                    "spec.validations[0].reason: Unsupported value",
                ],
            ),
            (
                json!({"matchConstraints": {"resourceRules": rules}, "validations": [{"expression": "1 +"}]}),
                vec!["spec.validations[0].expression: Invalid value"],
            ),
            (
                json!({"matchConstraints": {"resourceRules": [{"apiGroups": ["*", "apps"], "apiVersions": ["v1"], "operations": ["PATCH"], "resources": ["x"]}]}, "validations": [{"expression": "true"}]}),
                vec![
                    "spec.matchConstraints.resourceRules[0].operations[0]: Unsupported value",
                    "spec.matchConstraints.resourceRules[0].apiGroups: Invalid value",
                ],
            ),
        ];
        for (spec, want) in cases {
            let obj = json!({"metadata": {"name": "p.example.com"}, "spec": spec});
            assert_eq!(
                fields(&validate_validating_admission_policy(&obj)),
                want,
                "{spec}"
            );
        }
    }

    #[test]
    fn bindings_and_webhooks_table() {
        let b = |spec: Value| {
            validate_validating_admission_policy_binding(
                &json!({"metadata": {"name": "b"}, "spec": spec}),
            )
        };
        assert!(b(json!({"policyName": "p", "validationActions": ["Deny"]})).is_empty());
        assert_eq!(
            fields(&b(
                json!({"policyName": "p", "validationActions": ["Deny", "Warn"]})
            )),
            ["spec.validationActions: Invalid value"]
        );
        assert_eq!(
            fields(&b(
                json!({"validationActions": ["Deny"], "paramRef": {"name": "x", "selector": {}}})
            )),
            [
                "spec.policyName: Required value",
                "spec.paramRef.name: Forbidden",
                "spec.paramRef.parameterNotFoundAction: Required value"
            ]
        );
        let w = |hook: Value| {
            validate_webhook_configuration(
                &json!({"metadata": {"name": "w"}, "webhooks": [hook]}),
                true,
            )
        };
        let good = json!({"name": "a.example.com", "sideEffects": "None", "admissionReviewVersions": ["v1"], "clientConfig": {"url": "https://h.example.com/x"}});
        assert!(w(good.clone()).is_empty());
        let mut bad = good.clone();
        bad["name"] = json!("short");
        bad["timeoutSeconds"] = json!(31);
        bad["clientConfig"] = json!({"url": "http://h/x"});
        bad.as_object_mut().map(|o| o.remove("sideEffects"));
        assert_eq!(
            fields(&w(bad)),
            [
                "webhooks[0].name: Invalid value",
                "webhooks[0].sideEffects: Required value",
                "webhooks[0].timeoutSeconds: Invalid value",
                "webhooks[0].clientConfig.url: Invalid value"
            ]
        );
    }
}
