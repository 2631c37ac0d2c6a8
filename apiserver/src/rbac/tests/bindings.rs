//! User-made bindings, subjects, resourceNames, missing roles and messages.

use super::super::*;
use super::*;
use serde_json::json;

#[test]
fn role_binding_to_cluster_role_grants_only_in_its_namespace() {
    let mut policy = MemoryPolicy::bootstrap_aggregated();
    policy.role_bindings.push(json!({
        "metadata": {"name": "alice-edit", "namespace": "dev"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
        "subjects": [{"kind": "User", "name": "alice"}]
    }));
    let cases = [
        (
            res("alice", &[], "create", "apps/deployments", "dev", ""),
            true,
        ),
        (res("alice", &[], "delete", "core/pods", "dev", "p"), true),
        (res("alice", &[], "get", "core/pods/log", "dev", "p"), true),
        (
            res("alice", &[], "create", "core/pods/exec", "dev", "p"),
            true,
        ),
        (
            res("alice", &[], "patch", "apps/deployments/scale", "dev", "d"),
            true,
        ),
        (
            res(
                "alice",
                &[],
                "create",
                "rbac.authorization.k8s.io/rolebindings",
                "dev",
                "",
            ),
            false,
        ),
        (
            res("alice", &[], "create", "apps/deployments", "prod", ""),
            false,
        ),
        (res("alice", &[], "list", "core/pods", "", ""), false),
        (res("alice", &[], "list", "core/nodes", "", ""), false),
    ];
    for (attrs, allowed) in cases {
        let want = if allowed {
            Decision::Allow
        } else {
            Decision::NoOpinion
        };
        assert_eq!(authorize(&attrs, &policy), want, "{attrs:?}");
    }
}

#[test]
fn roles_subjects_and_resource_names() {
    let mut policy = MemoryPolicy::default();
    policy.roles.push(json!({
        "metadata": {"name": "cm-reader", "namespace": "app"},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["settings"], "verbs": ["get"]}]
    }));
    policy.role_bindings.push(json!({
        "metadata": {"name": "readers", "namespace": "app"},
        "roleRef": {"kind": "Role", "name": "cm-reader"},
        "subjects": [
            {"kind": "ServiceAccount", "name": "default"},
            {"kind": "ServiceAccount", "name": "builder", "namespace": "ci"},
            {"kind": "Group", "name": "auditors"}
        ]
    }));
    policy.cluster_role_bindings.push(json!({
        "metadata": {"name": "sa-without-namespace"},
        "roleRef": {"kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "ServiceAccount", "name": "default"}]
    }));
    policy.cluster_roles = MemoryPolicy::bootstrap_aggregated().cluster_roles;
    let cases = [
        (
            res(
                "system:serviceaccount:app:default",
                &[],
                "get",
                "core/configmaps",
                "app",
                "settings",
            ),
            true,
        ),
        (
            res(
                "system:serviceaccount:app:default",
                &[],
                "get",
                "core/configmaps",
                "app",
                "other",
            ),
            false,
        ),
        (
            res(
                "system:serviceaccount:app:default",
                &[],
                "list",
                "core/configmaps",
                "app",
                "",
            ),
            false,
        ),
        (
            res(
                "system:serviceaccount:other:default",
                &[],
                "get",
                "core/configmaps",
                "app",
                "settings",
            ),
            false,
        ),
        (
            res(
                "system:serviceaccount:ci:builder",
                &[],
                "get",
                "core/configmaps",
                "app",
                "settings",
            ),
            true,
        ),
        (
            res(
                "carol",
                &["auditors"],
                "get",
                "core/configmaps",
                "app",
                "settings",
            ),
            true,
        ),
        (
            res("carol", &[], "get", "core/configmaps", "app", "settings"),
            false,
        ),
        // A ServiceAccount subject without namespace never matches in a ClusterRoleBinding.
        (
            res(
                "system:serviceaccount:default:default",
                &[],
                "list",
                "core/pods",
                "default",
                "",
            ),
            false,
        ),
    ];
    for (attrs, allowed) in cases {
        let want = if allowed {
            Decision::Allow
        } else {
            Decision::NoOpinion
        };
        assert_eq!(authorize(&attrs, &policy), want, "{attrs:?}");
    }
}

#[test]
fn missing_role_gives_upstream_reason() {
    let mut policy = MemoryPolicy::default();
    policy.cluster_role_bindings.push(json!({
        "metadata": {"name": "dangling"},
        "roleRef": {"kind": "ClusterRole", "name": "gone"},
        "subjects": [{"kind": "User", "name": "dave"}]
    }));
    let attrs = res("dave", &[], "list", "core/pods", "default", "");
    let (decision, reason) = authorize_with_reason(&attrs, &policy);
    assert_eq!(decision, Decision::NoOpinion);
    assert_eq!(
        reason,
        "RBAC: clusterrole.rbac.authorization.k8s.io \"gone\" not found"
    );
    assert_eq!(
        forbidden_status_message(&attrs, &reason),
        "pods is forbidden: User \"dave\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\": RBAC: clusterrole.rbac.authorization.k8s.io \"gone\" not found"
    );
}

#[test]
fn forbidden_messages() {
    let cases = [
        (
            res(ANON, &[], "list", "core/pods", "default", ""),
            "User \"system:anonymous\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\"",
            "pods is forbidden: User \"system:anonymous\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\"",
        ),
        (
            res("bob", &[], "list", "core/nodes", "", ""),
            "User \"bob\" cannot list resource \"nodes\" in API group \"\" at the cluster scope",
            "nodes is forbidden: User \"bob\" cannot list resource \"nodes\" in API group \"\" at the cluster scope",
        ),
        (
            res("bob", &[], "get", "apps/deployments/scale", "prod", "web"),
            "User \"bob\" cannot get resource \"deployments/scale\" in API group \"apps\" in the namespace \"prod\"",
            "deployments.apps \"web\" is forbidden: User \"bob\" cannot get resource \"deployments/scale\" in API group \"apps\" in the namespace \"prod\"",
        ),
        (
            url(ANON, "get", "/api"),
            "User \"system:anonymous\" cannot get path \"/api\"",
            "forbidden: User \"system:anonymous\" cannot get path \"/api\"",
        ),
    ];
    for (attrs, message, status) in cases {
        assert_eq!(forbidden_message(&attrs), message);
        assert_eq!(forbidden_status_message(&attrs, ""), status);
    }
}
