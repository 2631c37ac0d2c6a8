//! The default RBAC policy the apiserver stores at start-up (upstream's
//! bootstrappolicy): user-facing roles (cluster-admin, admin, edit, view), the
//! roles of the system components and controllers, and their bindings. Every
//! object carries `kubernetes.io/bootstrapping: rbac-defaults` and
//! `rbac.authorization.kubernetes.io/autoupdate: "true"`.
//!
//! admin, edit and view carry their aggregationRule and no rules, as upstream:
//! kube-controller-manager's clusterrole-aggregation controller gives them the
//! rules of the `system:aggregate-to-*` roles (and of any role labelled
//! `rbac.authorization.k8s.io/aggregate-to-<role>: "true"`); the start-up
//! reconcile leaves the rules of an aggregated role alone.
//!
//! One deliberate difference from upstream, because this cluster runs fewer
//! moving parts:
//! - kube-controller-manager runs every controller under one identity
//!   (`system:kube-controller-manager`, no `--use-service-account-credentials`),
//!   so each `system:controller:*` ClusterRoleBinding names that user as well as
//!   the controller's service account.
//!
//! Rules are written as whitespace-separated lists; `core` stands for the core
//! API group "".

mod bindings;
mod cluster_roles;
mod controller_roles;

use serde_json::{Map, Value, json};

pub use bindings::{cluster_role_bindings, role_bindings, roles};

/// Every bootstrap ClusterRole: component and user-facing roles, then controller roles.
pub fn cluster_roles() -> Vec<Value> {
    let mut all = cluster_roles::cluster_roles();
    all.extend(controller_roles::controller_roles());
    all
}

/// The controllers that get a `system:controller:<name>` ClusterRole and binding.
pub fn controller_names() -> Vec<&'static str> {
    controller_roles::CONTROLLERS.to_vec()
}

fn list(s: &str) -> Vec<String> {
    s.split_whitespace()
        .map(|w| {
            if w == "core" {
                String::new()
            } else {
                w.to_string()
            }
        })
        .collect()
}

/// A resource rule: `rule("get list", "core apps", "pods deployments/scale")`.
pub(crate) fn rule(verbs: &str, groups: &str, resources: &str) -> Value {
    json!({"apiGroups": list(groups), "resources": list(resources), "verbs": list(verbs)})
}

/// A resource rule limited to some object names.
pub(crate) fn named(verbs: &str, groups: &str, resources: &str, names: &str) -> Value {
    json!({"apiGroups": list(groups), "resourceNames": list(names),
        "resources": list(resources), "verbs": list(verbs)})
}

/// A non-resource URL rule: `urls("get", "/healthz /api/*")`.
pub(crate) fn urls(verbs: &str, paths: &str) -> Value {
    json!({"nonResourceURLs": list(paths), "verbs": list(verbs)})
}

/// The rule nearly every component has: write events in both event API groups.
pub(crate) fn events_rule() -> Value {
    rule("create patch update", "core events.k8s.io", "events")
}

fn bootstrap_metadata(name: &str, namespace: Option<&str>, extra_labels: &[(&str, &str)]) -> Value {
    let mut labels = Map::new();
    labels.insert("kubernetes.io/bootstrapping".into(), "rbac-defaults".into());
    for (k, v) in extra_labels {
        labels.insert((*k).into(), (*v).into());
    }
    let mut meta = json!({
        "name": name,
        "labels": labels,
        "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"},
    });
    if let Some(ns) = namespace {
        meta["namespace"] = ns.into();
    }
    meta
}

pub(crate) fn cluster_role(name: &str, rules: Vec<Value>) -> Value {
    cluster_role_labelled(name, &[], rules)
}

pub(crate) fn cluster_role_labelled(
    name: &str,
    labels: &[(&str, &str)],
    rules: Vec<Value>,
) -> Value {
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": bootstrap_metadata(name, None, labels),
        "rules": rules,
    })
}

pub(crate) fn role(namespace: &str, name: &str, rules: Vec<Value>) -> Value {
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": bootstrap_metadata(name, Some(namespace), &[]),
        "rules": rules,
    })
}

/// A binding subject: `("User", "alice")`, `("Group", "g")`, or `("ServiceAccount", "ns:name")`.
pub(crate) fn subject(kind: &str, name: &str) -> Value {
    match kind {
        "ServiceAccount" => {
            let (ns, sa) = name.split_once(':').unwrap_or(("", name));
            json!({"kind": "ServiceAccount", "name": sa, "namespace": ns})
        }
        _ => json!({"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": name}),
    }
}

pub(crate) fn cluster_role_binding(name: &str, role: &str, subjects: Vec<Value>) -> Value {
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": bootstrap_metadata(name, None, &[]),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": subjects,
    })
}

pub(crate) fn role_binding(namespace: &str, name: &str, role: &str, subjects: Vec<Value>) -> Value {
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": bootstrap_metadata(name, Some(namespace), &[]),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role},
        "subjects": subjects,
    })
}
