//! admissionregistration.k8s.io/v1 defaults: what upstream's
//! `SetDefaults_*` fill in for policies, bindings and webhook
//! configurations, so `kubectl get -o yaml` shows the same object.

use crate::validation::json::{each_mut, ensure_obj, set_default, set_default_str};
use serde_json::{Value, json};

/// `matchPolicy: Equivalent`, `{}` selectors and rule `scope: "*"` of a
/// MatchResources (a policy's matchConstraints, a binding's matchResources).
fn default_match_resources(m: &mut Value) {
    set_default_str(m, "matchPolicy", "Equivalent");
    set_default(m, "namespaceSelector", json!({}));
    set_default(m, "objectSelector", json!({}));
    for key in ["resourceRules", "excludeResourceRules"] {
        for rule in each_mut(m, key) {
            set_default_str(rule, "scope", "*");
        }
    }
}

pub fn default_validating_admission_policy(obj: &mut Value) {
    let Some(spec) = ensure_obj(obj, "spec") else {
        return;
    };
    set_default_str(spec, "failurePolicy", "Fail");
    if let Some(m) = spec.get_mut("matchConstraints").filter(|m| m.is_object()) {
        default_match_resources(m);
    }
}

pub fn default_validating_admission_policy_binding(obj: &mut Value) {
    let Some(spec) = ensure_obj(obj, "spec") else {
        return;
    };
    if let Some(m) = spec.get_mut("matchResources").filter(|m| m.is_object()) {
        default_match_resources(m);
    }
}

/// One webhook of either configuration kind; `mutating` adds
/// `reinvocationPolicy: Never`.
fn default_webhook(w: &mut Value, mutating: bool) {
    set_default_str(w, "failurePolicy", "Fail");
    set_default_str(w, "matchPolicy", "Equivalent");
    set_default(w, "namespaceSelector", json!({}));
    set_default(w, "objectSelector", json!({}));
    set_default(w, "timeoutSeconds", json!(10));
    if mutating {
        set_default_str(w, "reinvocationPolicy", "Never");
    }
    for rule in each_mut(w, "rules") {
        set_default_str(rule, "scope", "*");
    }
    if let Some(svc) = w
        .get_mut("clientConfig")
        .and_then(|c| c.get_mut("service"))
        .filter(|s| s.is_object())
    {
        set_default(svc, "port", json!(443));
    }
}

pub fn default_webhook_configuration(obj: &mut Value, mutating: bool) {
    for w in each_mut(obj, "webhooks") {
        default_webhook(w, mutating);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_gets_fail_and_equivalent_match() {
        let mut p =
            json!({"spec": {"matchConstraints": {"resourceRules": [{"apiGroups": ["apps"]}]}}});
        default_validating_admission_policy(&mut p);
        assert_eq!(p["spec"]["failurePolicy"], "Fail");
        let m = &p["spec"]["matchConstraints"];
        assert_eq!(m["matchPolicy"], "Equivalent");
        assert_eq!(m["namespaceSelector"], json!({}));
        assert_eq!(m["objectSelector"], json!({}));
        assert_eq!(m["resourceRules"][0]["scope"], "*");
        let mut keep = json!({"spec": {"failurePolicy": "Ignore"}});
        default_validating_admission_policy(&mut keep);
        assert_eq!(keep["spec"]["failurePolicy"], "Ignore");
        assert!(keep["spec"].get("matchConstraints").is_none());
    }

    #[test]
    fn webhooks_get_upstream_defaults() {
        let mut c = json!({"webhooks": [{"name": "a.example.com", "clientConfig": {"service": {"name": "s", "namespace": "n"}}, "rules": [{}]}]});
        default_webhook_configuration(&mut c, true);
        let w = &c["webhooks"][0];
        assert_eq!(w["failurePolicy"], "Fail");
        assert_eq!(w["matchPolicy"], "Equivalent");
        assert_eq!(w["timeoutSeconds"], 10);
        assert_eq!(w["reinvocationPolicy"], "Never");
        assert_eq!(w["rules"][0]["scope"], "*");
        assert_eq!(w["clientConfig"]["service"]["port"], 443);
        let mut v = json!({"webhooks": [{"name": "b"}]});
        default_webhook_configuration(&mut v, false);
        assert!(v["webhooks"][0].get("reinvocationPolicy").is_none());
        assert!(
            v["webhooks"][0].get("sideEffects").is_none(),
            "required, never defaulted"
        );
    }
}
