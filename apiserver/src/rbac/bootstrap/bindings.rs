//! Bootstrap ClusterRoleBindings, and the namespaced Roles and RoleBindings
//! (leader election and authentication-config reading in kube-system).

use super::controller_roles::CONTROLLERS;
use super::{cluster_role_binding, events_rule, named, role, role_binding, rule, subject};
use serde_json::Value;

const KCM: &str = "system:kube-controller-manager";
const SCHEDULER: &str = "system:kube-scheduler";

/// Who holds which ClusterRole by default.
pub fn cluster_role_bindings() -> Vec<Value> {
    let crb = |name: &str, subjects: Vec<Value>| cluster_role_binding(name, name, subjects);
    let unbound = |name: &str| {
        let mut b = cluster_role_binding(name, name, Vec::new());
        if let Some(o) = b.as_object_mut() {
            o.remove("subjects");
        }
        b
    };
    let mut all = vec![
        crb("cluster-admin", vec![subject("Group", "system:masters")]),
        crb(
            "system:monitoring",
            vec![subject("Group", "system:monitoring")],
        ),
        crb(
            "system:discovery",
            vec![subject("Group", "system:authenticated")],
        ),
        crb(
            "system:basic-user",
            vec![subject("Group", "system:authenticated")],
        ),
        crb(
            "system:public-info-viewer",
            vec![
                subject("Group", "system:authenticated"),
                subject("Group", "system:unauthenticated"),
            ],
        ),
        // Kept without subjects, as upstream: the Node authorizer decides what a kubelet
        // may do; the binding is there for an admin who wants RBAC to grant it instead.
        unbound("system:node"),
        crb(
            "system:node-proxier",
            vec![subject("User", "system:kube-proxy")],
        ),
        crb("system:kube-controller-manager", vec![subject("User", KCM)]),
        crb(
            "system:kube-dns",
            vec![subject("ServiceAccount", "kube-system:kube-dns")],
        ),
        crb("system:kube-scheduler", vec![subject("User", SCHEDULER)]),
        crb("system:volume-scheduler", vec![subject("User", SCHEDULER)]),
        crb(
            "system:service-account-issuer-discovery",
            vec![subject("Group", "system:serviceaccounts")],
        ),
        crb("flannel", vec![subject("User", "flanneld")]),
    ];
    // One identity runs every controller here, so each controller binding names it too.
    all.extend(CONTROLLERS.iter().map(|c| {
        let name = format!("system:controller:{c}");
        cluster_role_binding(
            &name,
            &name,
            vec![
                subject("ServiceAccount", &format!("kube-system:{c}")),
                subject("User", KCM),
            ],
        )
    }));
    all
}

/// Namespaced bootstrap Roles (metadata.namespace set).
pub fn roles() -> Vec<Value> {
    let leader_locking = || {
        vec![
            rule(
                "create get list update watch",
                "coordination.k8s.io",
                "leases",
            ),
            rule(
                "create get list update watch",
                "coordination.k8s.io",
                "leasecandidates",
            ),
        ]
    };
    vec![
        role(
            "kube-system",
            "extension-apiserver-authentication-reader",
            vec![named(
                "get list watch",
                "core",
                "configmaps",
                "extension-apiserver-authentication",
            )],
        ),
        role(
            "kube-system",
            "system::leader-locking-kube-controller-manager",
            leader_locking(),
        ),
        role(
            "kube-system",
            "system::leader-locking-kube-scheduler",
            leader_locking(),
        ),
        role(
            "kube-system",
            "system:controller:bootstrap-signer",
            vec![rule("get list watch", "core", "secrets")],
        ),
        role(
            "kube-system",
            "system:controller:cloud-provider",
            vec![rule("create get list watch", "core", "configmaps")],
        ),
        role(
            "kube-system",
            "system:controller:token-cleaner",
            vec![
                rule("delete get list watch", "core", "secrets"),
                events_rule(),
            ],
        ),
        role(
            "kube-public",
            "system:controller:bootstrap-signer",
            vec![
                rule("get list watch", "core", "configmaps"),
                named("update", "core", "configmaps", "cluster-info"),
                events_rule(),
            ],
        ),
    ]
}

/// Namespaced bootstrap RoleBindings (metadata.namespace set).
pub fn role_bindings() -> Vec<Value> {
    let sa = |name: &str| subject("ServiceAccount", &format!("kube-system:{name}"));
    vec![
        role_binding(
            "kube-system",
            "system::extension-apiserver-authentication-reader",
            "extension-apiserver-authentication-reader",
            vec![subject("User", KCM), subject("User", SCHEDULER)],
        ),
        role_binding(
            "kube-system",
            "system::leader-locking-kube-controller-manager",
            "system::leader-locking-kube-controller-manager",
            vec![
                subject("User", KCM),
                sa("kube-controller-manager"),
                sa("leader-election-controller"),
            ],
        ),
        role_binding(
            "kube-system",
            "system::leader-locking-kube-scheduler",
            "system::leader-locking-kube-scheduler",
            vec![subject("User", SCHEDULER), sa("kube-scheduler")],
        ),
        role_binding(
            "kube-system",
            "system:controller:bootstrap-signer",
            "system:controller:bootstrap-signer",
            vec![sa("bootstrap-signer")],
        ),
        role_binding(
            "kube-system",
            "system:controller:cloud-provider",
            "system:controller:cloud-provider",
            vec![sa("cloud-provider")],
        ),
        role_binding(
            "kube-system",
            "system:controller:token-cleaner",
            "system:controller:token-cleaner",
            vec![sa("token-cleaner"), subject("User", KCM)],
        ),
        role_binding(
            "kube-public",
            "system:controller:bootstrap-signer",
            "system:controller:bootstrap-signer",
            vec![sa("bootstrap-signer"), subject("User", KCM)],
        ),
    ]
}
