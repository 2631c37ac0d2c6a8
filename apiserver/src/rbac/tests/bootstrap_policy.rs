//! Decisions under the bootstrap policy, and the shape of its objects.

use super::super::*;
use super::*;
use serde_json::json;

#[test]
fn bootstrap_policy_decisions() {
    let policy = MemoryPolicy::bootstrap();
    let node = |verb: &str, resource: &str, ns: &str, name: &str| {
        res(
            "system:node:n1",
            &["system:nodes"],
            verb,
            resource,
            ns,
            name,
        )
    };
    let cases: Vec<(Attributes, bool)> = vec![
        // admin certificate (O=system:masters) may do anything.
        (
            res(
                "admin",
                &["system:masters"],
                "delete",
                "core/secrets",
                "kube-system",
                "x",
            ),
            true,
        ),
        (
            res(
                "admin",
                &["system:masters"],
                "create",
                "apps/deployments",
                "default",
                "",
            ),
            true,
        ),
        (
            res(
                "admin",
                &["system:masters"],
                "get",
                "core/nodes/proxy",
                "",
                "n1",
            ),
            true,
        ),
        (url("admin", "get", "/metrics"), false),
        (
            Attributes {
                groups: vec!["system:masters".into()],
                ..url("admin", "get", "/metrics")
            },
            true,
        ),
        (
            res(
                "kube-apiserver-kubelet-client",
                &["system:masters"],
                "get",
                "core/nodes/log",
                "",
                "n1",
            ),
            true,
        ),
        // scheduler
        (
            res(
                SCHED,
                &[],
                "create",
                "core/pods/binding",
                "default",
                "web-0",
            ),
            true,
        ),
        (
            res(SCHED, &[], "create", "core/bindings", "default", ""),
            true,
        ),
        (res(SCHED, &[], "list", "core/nodes", "", ""), true),
        (res(SCHED, &[], "watch", "core/pods", "", ""), true),
        (
            res(SCHED, &[], "patch", "core/pods/status", "default", "web-0"),
            true,
        ),
        (
            res(SCHED, &[], "delete", "core/secrets", "default", "s"),
            false,
        ),
        (res(SCHED, &[], "create", "core/pods", "default", ""), false),
        (
            res(
                SCHED,
                &[],
                "get",
                "coordination.k8s.io/leases",
                "kube-system",
                "kube-scheduler",
            ),
            true,
        ),
        (
            res(
                SCHED,
                &[],
                "update",
                "coordination.k8s.io/leases",
                "kube-system",
                "kube-scheduler",
            ),
            true,
        ),
        (
            res(
                SCHED,
                &[],
                "update",
                "coordination.k8s.io/leases",
                "default",
                "other",
            ),
            false,
        ),
        (
            res(SCHED, &[], "patch", "core/persistentvolumes", "", "pv1"),
            true,
        ),
        (
            res(
                SCHED,
                &[],
                "get",
                "core/configmaps",
                "kube-system",
                "extension-apiserver-authentication",
            ),
            true,
        ),
        (
            res(SCHED, &[], "get", "core/configmaps", "kube-system", "other"),
            false,
        ),
        // kube-proxy
        (res(PROXY, &[], "list", "core/services", "", ""), true),
        (
            res(
                PROXY,
                &[],
                "watch",
                "discovery.k8s.io/endpointslices",
                "",
                "",
            ),
            true,
        ),
        (res(PROXY, &[], "get", "core/nodes", "", "n1"), true),
        (
            res(PROXY, &[], "create", "events.k8s.io/events", "default", ""),
            true,
        ),
        (
            res(PROXY, &[], "get", "core/secrets", "default", "s"),
            false,
        ),
        (
            res(PROXY, &[], "update", "core/services", "default", "web"),
            false,
        ),
        // controller-manager, under its single identity, has its controllers' rights.
        (res(KCM, &[], "create", "core/pods", "default", ""), true),
        (
            res(KCM, &[], "create", "apps/replicasets", "default", ""),
            true,
        ),
        (
            res(
                KCM,
                &[],
                "update",
                "apps/deployments/status",
                "default",
                "web",
            ),
            true,
        ),
        (
            res(
                KCM,
                &[],
                "create",
                "discovery.k8s.io/endpointslices",
                "default",
                "",
            ),
            true,
        ),
        (
            res(KCM, &[], "update", "core/endpoints", "default", "web"),
            true,
        ),
        (res(KCM, &[], "delete", "core/namespaces", "", "old"), true),
        (
            res(KCM, &[], "update", "core/namespaces/finalize", "", "old"),
            true,
        ),
        (res(KCM, &[], "patch", "core/nodes", "", "n1"), true),
        (res(KCM, &[], "list", "apps/statefulsets", "", ""), true),
        (
            res(KCM, &[], "get", "apps/deployments/scale", "default", "web"),
            true,
        ),
        (
            res(
                KCM,
                &[],
                "create",
                "coordination.k8s.io/leases",
                "kube-system",
                "",
            ),
            true,
        ),
        (
            res(
                KCM,
                &[],
                "create",
                "rbac.authorization.k8s.io/clusterrolebindings",
                "",
                "",
            ),
            false,
        ),
        // nodes: RBAC alone grants a kubelet nothing (the Node authorizer
        // in authz/node.rs decides its requests, as upstream).
        (node("create", "core/nodes", "", ""), false),
        (node("patch", "core/nodes/status", "", "n1"), false),
        (node("get", "core/secrets", "default", "s"), false),
        (
            node(
                "create",
                "authorization.k8s.io/selfsubjectaccessreviews",
                "",
                "",
            ),
            true,
        ),
        // kube-controller-manager's aggregation controller rewrites ClusterRoles.
        (
            res(
                "system:kube-controller-manager",
                &[],
                "escalate",
                "rbac.authorization.k8s.io/clusterroles",
                "",
                "view",
            ),
            true,
        ),
        (
            res(
                "system:kube-scheduler",
                &[],
                "escalate",
                "rbac.authorization.k8s.io/clusterroles",
                "",
                "view",
            ),
            false,
        ),
        // flanneld
        (res("flanneld", &[], "list", "core/nodes", "", ""), true),
        (
            res("flanneld", &[], "patch", "core/nodes/status", "", "n1"),
            true,
        ),
        (
            res("flanneld", &[], "get", "core/pods", "default", "p"),
            true,
        ),
        (res("flanneld", &[], "patch", "core/nodes", "", "n1"), false),
        // anonymous
        (url(ANON, "get", "/healthz"), true),
        (url(ANON, "get", "/version"), true),
        (url(ANON, "get", "/livez"), true),
        (url(ANON, "get", "/api"), false),
        (url(ANON, "post", "/healthz"), false),
        (res(ANON, &[], "list", "core/pods", "default", ""), false),
        // any authenticated user: discovery and self reviews only
        (url("bob", "get", "/api/v1"), true),
        (url("bob", "get", "/apis/apps/v1"), true),
        (url("bob", "get", "/openapi/v2"), true),
        (url("bob", "get", "/metrics"), false),
        (
            res(
                "bob",
                &[],
                "create",
                "authorization.k8s.io/selfsubjectaccessreviews",
                "",
                "",
            ),
            true,
        ),
        (res("bob", &[], "list", "core/pods", "default", ""), false),
        // kube-dns service account
        (
            res(
                "system:serviceaccount:kube-system:kube-dns",
                &[],
                "watch",
                "core/services",
                "",
                "",
            ),
            true,
        ),
        (
            res(
                "system:serviceaccount:default:kube-dns",
                &[],
                "watch",
                "core/services",
                "",
                "",
            ),
            false,
        ),
    ];
    for (i, (attrs, allowed)) in cases.iter().enumerate() {
        let want = if *allowed {
            Decision::Allow
        } else {
            Decision::NoOpinion
        };
        assert_eq!(authorize(attrs, &policy), want, "case {i}: {attrs:?}");
    }
}

#[test]
fn bootstrap_objects_are_well_formed() {
    let all: Vec<Value> = bootstrap::cluster_roles()
        .into_iter()
        .chain(bootstrap::roles())
        .chain(bootstrap::cluster_role_bindings())
        .chain(bootstrap::role_bindings())
        .collect();
    let mut names = std::collections::BTreeSet::new();
    for obj in &all {
        let meta = &obj["metadata"];
        assert_eq!(
            meta["labels"]["kubernetes.io/bootstrapping"], "rbac-defaults",
            "{obj}"
        );
        assert_eq!(
            meta["annotations"]["rbac.authorization.kubernetes.io/autoupdate"], "true",
            "{obj}"
        );
        let key = format!("{}/{}/{}", obj["kind"], namespace_of(obj), name_of(obj));
        assert!(names.insert(key.clone()), "duplicate {key}");
        let ns_scoped = matches!(obj["kind"].as_str(), Some("Role" | "RoleBinding"));
        assert_eq!(ns_scoped, !namespace_of(obj).is_empty(), "{key}");
    }
    // Every binding points at a role that exists.
    let policy = MemoryPolicy::bootstrap();
    for b in bootstrap::cluster_role_bindings() {
        let role = b["roleRef"]["name"].as_str().unwrap_or_default();
        assert!(policy.cluster_role(role).is_some(), "{role}");
    }
    for b in bootstrap::role_bindings() {
        let role = b["roleRef"]["name"].as_str().unwrap_or_default();
        assert!(policy.role(namespace_of(&b), role).is_some(), "{role}");
    }
    // admin/edit/view keep their aggregation rule and the labels that chain them.
    let edit = policy.cluster_role("edit").expect("edit");
    assert_eq!(
        edit["aggregationRule"]["clusterRoleSelectors"][0]["matchLabels"]["rbac.authorization.k8s.io/aggregate-to-edit"],
        "true"
    );
    assert_eq!(
        edit["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-admin"],
        "true"
    );
    let view = policy.cluster_role("view").expect("view");
    assert_eq!(
        view["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-edit"],
        "true"
    );
    assert!(
        policy
            .cluster_role("admin")
            .is_some_and(|a| a["aggregationRule"].is_object())
    );
    for name in [
        "cluster-admin",
        "admin",
        "edit",
        "view",
        "system:discovery",
        "system:basic-user",
        "system:public-info-viewer",
        "system:node",
        "system:node-proxier",
        "system:kube-scheduler",
        "system:kube-controller-manager",
        "system:kube-dns",
        "system:volume-scheduler",
        "system:monitoring",
        "system:auth-delegator",
        "flannel",
        "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
        "system:certificates.k8s.io:kube-apiserver-client-approver",
        "system:controller:deployment-controller",
        "system:controller:namespace-controller",
        "system:controller:clusterrole-aggregation-controller",
    ] {
        assert!(policy.cluster_role(name).is_some(), "missing {name}");
    }
    // Rules are PolicyRules: verbs always present, resources or nonResourceURLs.
    for role in bootstrap::cluster_roles()
        .iter()
        .chain(bootstrap::roles().iter())
    {
        for r in role["rules"].as_array().expect("rules") {
            assert!(r["verbs"].as_array().is_some_and(|v| !v.is_empty()), "{r}");
            assert!(
                r["resources"].is_array() != r["nonResourceURLs"].is_array(),
                "{r}"
            );
        }
    }
}

#[test]
fn view_is_read_only_and_edit_cannot_touch_rbac() {
    // Without the aggregation controller, the aggregated roles grant nothing.
    let bare = MemoryPolicy::bootstrap();
    for name in ["admin", "edit", "view"] {
        let role = bare.cluster_role(name).expect("aggregated role");
        assert_eq!(role["rules"], json!([]), "{name}");
        assert!(role["aggregationRule"].is_object(), "{name}");
    }
    let mut policy = MemoryPolicy::bootstrap_aggregated();
    for (user, role) in [("vera", "view"), ("ed", "edit"), ("ada", "admin")] {
        policy.cluster_role_bindings.push(json!({
            "metadata": {"name": user},
            "roleRef": {"kind": "ClusterRole", "name": role},
            "subjects": [{"kind": "User", "name": user}]
        }));
    }
    let cases = [
        (res("vera", &[], "list", "core/pods", "default", ""), true),
        (
            res("vera", &[], "get", "core/secrets", "default", "s"),
            false,
        ),
        (
            res("vera", &[], "delete", "core/pods", "default", "p"),
            false,
        ),
        (res("vera", &[], "watch", "batch/jobs", "default", ""), true),
        (res("ed", &[], "get", "core/secrets", "default", "s"), true),
        (
            res(
                "ed",
                &[],
                "update",
                "apps/statefulsets/scale",
                "default",
                "db",
            ),
            true,
        ),
        (
            res(
                "ed",
                &[],
                "create",
                "rbac.authorization.k8s.io/roles",
                "default",
                "",
            ),
            false,
        ),
        (
            res(
                "ada",
                &[],
                "create",
                "rbac.authorization.k8s.io/roles",
                "default",
                "",
            ),
            true,
        ),
        (res("ada", &[], "delete", "core/nodes", "", "n1"), false),
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
