//! rbac.authorization.k8s.io/v1: Roles, ClusterRoles and their bindings
//! (upstream's `pkg/apis/rbac/validation`).

use super::field::{ErrorList, FieldError};
use super::json::{arr_at, child, index, present, str_at};
use super::meta::{Scope, validate_object_meta, validate_object_meta_update};
use super::names::{name_is_dns_subdomain, name_is_path_segment};
use super::selector::validate_label_selector;
use serde_json::{Value, json};

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// `ValidatePolicyRule`.
fn validate_policy_rule(rule: &Value, namespaced: bool, p: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    if arr_at(rule, "verbs").is_empty() {
        errs.push(FieldError::required(
            child(p, "verbs"),
            "verbs must contain at least one value",
        ));
    }
    let urls = arr_at(rule, "nonResourceURLs");
    if !urls.is_empty() {
        if namespaced {
            errs.push(FieldError::invalid(
                child(p, "nonResourceURLs"),
                json!(urls),
                "namespaced rules cannot apply to non-resource URLs",
            ));
        }
        let has_resources = ["apiGroups", "resources", "resourceNames"]
            .iter()
            .any(|f| !arr_at(rule, f).is_empty());
        if has_resources {
            errs.push(FieldError::invalid(
                child(p, "nonResourceURLs"),
                json!(urls),
                "rules cannot apply to both regular resources and non-resource URLs",
            ));
        }
        return errs;
    }
    if arr_at(rule, "apiGroups").is_empty() {
        errs.push(FieldError::required(
            child(p, "apiGroups"),
            "resource rules must supply at least one api group",
        ));
    }
    if arr_at(rule, "resources").is_empty() {
        errs.push(FieldError::required(
            child(p, "resources"),
            "resource rules must supply at least one resource",
        ));
    }
    errs
}

/// `ValidateRole` / `ValidateClusterRole`.
pub fn validate_role(obj: &Value, cluster: bool) -> ErrorList {
    let scope = if cluster {
        Scope::Cluster
    } else {
        Scope::Namespaced
    };
    let mut errs = validate_object_meta(obj, scope, name_is_path_segment);
    for (i, rule) in arr_at(obj, "rules").iter().enumerate() {
        errs.extend(validate_policy_rule(rule, !cluster, &index("rules", i)));
    }
    if cluster && let Some(agg) = present(obj, "aggregationRule") {
        let selectors = arr_at(agg, "clusterRoleSelectors");
        if selectors.is_empty() {
            errs.push(FieldError::required(
                "aggregationRule.clusterRoleSelectors",
                "at least one clusterRoleSelector required if aggregationRule is non-nil",
            ));
        }
        for (i, s) in selectors.iter().enumerate() {
            errs.extend(validate_label_selector(
                s,
                &index("aggregationRule.clusterRoleSelectors", i),
            ));
        }
    }
    errs
}

/// `ValidateRoleBinding` / `ValidateClusterRoleBinding`.
pub fn validate_role_binding(obj: &Value, cluster: bool) -> ErrorList {
    let scope = if cluster {
        Scope::Cluster
    } else {
        Scope::Namespaced
    };
    let mut errs = validate_object_meta(obj, scope, name_is_path_segment);
    let rr = obj.get("roleRef").unwrap_or(&Value::Null);
    let group = str_at(rr, "apiGroup");
    if group != RBAC_GROUP {
        errs.push(FieldError::not_supported(
            "roleRef.apiGroup",
            json!(group),
            &[RBAC_GROUP],
        ));
    }
    let kind = str_at(rr, "kind");
    let kinds: &[&str] = if cluster {
        &["ClusterRole"]
    } else {
        &["Role", "ClusterRole"]
    };
    if !kinds.contains(&kind) {
        errs.push(FieldError::not_supported(
            "roleRef.kind",
            json!(kind),
            kinds,
        ));
    }
    let name = str_at(rr, "name");
    if name.is_empty() {
        errs.push(FieldError::required("roleRef.name", ""));
    } else {
        for m in name_is_path_segment(name, false) {
            errs.push(FieldError::invalid("roleRef.name", json!(name), m));
        }
    }
    for (i, s) in arr_at(obj, "subjects").iter().enumerate() {
        errs.extend(validate_subject(s, !cluster, &index("subjects", i)));
    }
    errs
}

fn validate_subject(s: &Value, namespaced: bool, p: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    let name = str_at(s, "name");
    if name.is_empty() {
        errs.push(FieldError::required(child(p, "name"), ""));
    }
    let group = str_at(s, "apiGroup");
    match str_at(s, "kind") {
        "ServiceAccount" => {
            if !name.is_empty() {
                for m in name_is_dns_subdomain(name, false) {
                    errs.push(FieldError::invalid(child(p, "name"), json!(name), m));
                }
            }
            if !group.is_empty() {
                errs.push(FieldError::not_supported(
                    child(p, "apiGroup"),
                    json!(group),
                    &[""],
                ));
            }
            if !namespaced && str_at(s, "namespace").is_empty() {
                errs.push(FieldError::required(child(p, "namespace"), ""));
            }
        }
        "User" | "Group" => {
            if group != RBAC_GROUP {
                errs.push(FieldError::not_supported(
                    child(p, "apiGroup"),
                    json!(group),
                    &[RBAC_GROUP],
                ));
            }
        }
        other => errs.push(FieldError::not_supported(
            child(p, "kind"),
            json!(other),
            &["ServiceAccount", "User", "Group"],
        )),
    }
    errs
}

/// Binding updates: `roleRef` can never change.
pub fn validate_role_binding_update(new: &Value, old: &Value, cluster: bool) -> ErrorList {
    let mut errs = validate_object_meta_update(new, old);
    errs.extend(
        validate_role_binding(new, cluster)
            .into_iter()
            .filter(|e| !e.field.starts_with("metadata.")),
    );
    let (n, o) = (new.get("roleRef"), old.get("roleRef"));
    if n != o {
        let rr = n.unwrap_or(&Value::Null);
        errs.push(FieldError::invalid_literal(
            "roleRef",
            format!(
                "rbac.RoleRef{{APIGroup:{:?}, Kind:{:?}, Name:{:?}}}",
                str_at(rr, "apiGroup"),
                str_at(rr, "kind"),
                str_at(rr, "name")
            ),
            "cannot change roleRef",
        ));
    }
    errs
}
