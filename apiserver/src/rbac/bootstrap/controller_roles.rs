//! One `system:controller:<name>` ClusterRole per kube-controller-manager
//! controller, with the rights upstream gives that controller.

use super::{cluster_role, events_rule, named, rule};
use serde_json::Value;

const READ: &str = "get list watch";
const CRUD: &str = "create delete get list patch update watch";

/// Controllers with a bootstrap role, in name order.
pub(super) const CONTROLLERS: &[&str] = &[
    "attachdetach-controller",
    "certificate-controller",
    "clusterrole-aggregation-controller",
    "cronjob-controller",
    "daemon-set-controller",
    "deployment-controller",
    "disruption-controller",
    "endpoint-controller",
    "endpointslice-controller",
    "endpointslicemirroring-controller",
    "ephemeral-volume-controller",
    "expand-controller",
    "generic-garbage-collector",
    "horizontal-pod-autoscaler",
    "job-controller",
    "legacy-service-account-token-cleaner",
    "namespace-controller",
    "node-controller",
    "persistent-volume-binder",
    "pod-garbage-collector",
    "pv-protection-controller",
    "pvc-protection-controller",
    "replicaset-controller",
    "replication-controller",
    "resourcequota-controller",
    "root-ca-cert-publisher",
    "route-controller",
    "service-account-controller",
    "service-controller",
    "statefulset-controller",
    "ttl-after-finished-controller",
    "ttl-controller",
];

/// The rules of one controller's role (without the events rule most of them share).
fn controller_rules(name: &str) -> (Vec<Value>, bool) {
    // (rules, whether the controller also writes events)
    match name {
        "attachdetach-controller" => (
            vec![
                rule(
                    "list watch",
                    "core",
                    "persistentvolumeclaims persistentvolumes",
                ),
                rule(READ, "core", "nodes"),
                rule("patch update", "core", "nodes/status"),
                rule("list watch", "core", "pods"),
                rule(
                    "create delete get list watch",
                    "storage.k8s.io",
                    "volumeattachments",
                ),
                rule(READ, "storage.k8s.io", "csidrivers"),
                rule(READ, "storage.k8s.io", "csinodes"),
            ],
            true,
        ),
        "certificate-controller" => (
            vec![
                rule(
                    "delete get list watch",
                    "certificates.k8s.io",
                    "certificatesigningrequests",
                ),
                rule(
                    "update",
                    "certificates.k8s.io",
                    "certificatesigningrequests/approval certificatesigningrequests/status",
                ),
                named(
                    "approve",
                    "certificates.k8s.io",
                    "signers",
                    "kubernetes.io/kube-apiserver-client-kubelet",
                ),
                named(
                    "sign",
                    "certificates.k8s.io",
                    "signers",
                    "kubernetes.io/kube-apiserver-client kubernetes.io/kube-apiserver-client-kubelet kubernetes.io/kubelet-serving kubernetes.io/legacy-unknown",
                ),
                rule("create", "authorization.k8s.io", "subjectaccessreviews"),
            ],
            true,
        ),
        "clusterrole-aggregation-controller" => (
            vec![rule(
                "escalate get list patch update watch",
                "rbac.authorization.k8s.io",
                "clusterroles",
            )],
            false,
        ),
        "cronjob-controller" => (
            vec![
                rule("get list update watch", "batch", "cronjobs"),
                rule(CRUD, "batch", "jobs"),
                rule("update", "batch", "cronjobs/status"),
                rule("update", "batch", "cronjobs/finalizers"),
                rule("delete list watch", "core", "pods"),
            ],
            true,
        ),
        "daemon-set-controller" => (
            vec![
                rule(READ, "apps extensions", "daemonsets"),
                rule("update", "apps extensions", "daemonsets/status"),
                rule("update", "apps extensions", "daemonsets/finalizers"),
                rule("list watch", "core", "nodes"),
                rule("create delete list patch watch", "core", "pods"),
                rule("create", "core", "pods/binding"),
                rule(CRUD, "apps", "controllerrevisions"),
            ],
            true,
        ),
        "deployment-controller" => (
            vec![
                rule("get list update watch", "apps extensions", "deployments"),
                rule("update", "apps extensions", "deployments/status"),
                rule("update", "apps extensions", "deployments/finalizers"),
                rule(CRUD, "apps extensions", "replicasets"),
                rule("get list update watch", "core", "pods"),
            ],
            true,
        ),
        "disruption-controller" => (
            vec![
                rule(READ, "apps extensions", "deployments"),
                rule(READ, "apps extensions", "replicasets"),
                rule(READ, "core", "replicationcontrollers"),
                rule(READ, "policy", "poddisruptionbudgets"),
                rule(READ, "apps", "statefulsets"),
                rule("update", "policy", "poddisruptionbudgets/status"),
                rule("patch update", "core", "pods/status"),
                rule("get", "*", "*/scale"),
            ],
            true,
        ),
        "endpoint-controller" => (
            vec![
                rule(READ, "core", "pods services"),
                rule("create delete get list update watch", "core", "endpoints"),
                rule("create", "core", "endpoints/restricted"),
            ],
            true,
        ),
        "endpointslice-controller" => (
            vec![
                rule(READ, "core", "nodes pods services"),
                rule("update", "core", "services/finalizers"),
                rule(
                    "create delete get list update watch",
                    "discovery.k8s.io",
                    "endpointslices",
                ),
            ],
            true,
        ),
        "endpointslicemirroring-controller" => (
            vec![
                rule(READ, "core", "endpoints services"),
                rule("update", "core", "services/finalizers"),
                rule("update", "core", "endpoints/finalizers"),
                rule(
                    "create delete get list update watch",
                    "discovery.k8s.io",
                    "endpointslices",
                ),
            ],
            true,
        ),
        "ephemeral-volume-controller" => (
            vec![
                rule(READ, "core", "pods"),
                rule("update", "core", "pods/finalizers"),
                rule("create get list watch", "core", "persistentvolumeclaims"),
            ],
            true,
        ),
        "expand-controller" => (
            vec![
                rule("get list patch update watch", "core", "persistentvolumes"),
                rule("patch update", "core", "persistentvolumeclaims/status"),
                rule(READ, "core", "persistentvolumeclaims"),
            ],
            true,
        ),
        "generic-garbage-collector" => (
            vec![rule("delete get list patch update watch", "*", "*")],
            true,
        ),
        "horizontal-pod-autoscaler" => (
            vec![
                rule(READ, "autoscaling", "horizontalpodautoscalers"),
                rule("update", "autoscaling", "horizontalpodautoscalers/status"),
                rule("get update", "*", "*/scale"),
                rule("list watch", "core", "pods"),
                rule("list watch", "metrics.k8s.io", "pods"),
                rule(READ, "custom.metrics.k8s.io", "*"),
                rule(READ, "external.metrics.k8s.io", "*"),
            ],
            true,
        ),
        "job-controller" => (
            vec![
                rule("get list patch update watch", "batch", "jobs"),
                rule("update", "batch", "jobs/status"),
                rule("update", "batch", "jobs/finalizers"),
                rule("create delete list patch watch", "core", "pods"),
            ],
            true,
        ),
        "legacy-service-account-token-cleaner" => (
            vec![
                named(
                    "get",
                    "core",
                    "configmaps",
                    "kube-apiserver-legacy-service-account-token-tracking",
                ),
                rule("delete patch", "core", "secrets"),
            ],
            false,
        ),
        "namespace-controller" => (
            vec![
                rule("delete get list watch", "core", "namespaces"),
                rule("update", "core", "namespaces/finalize namespaces/status"),
                rule("delete deletecollection get list watch", "*", "*"),
            ],
            false,
        ),
        "node-controller" => (
            vec![
                rule("delete get list patch update watch", "core", "nodes"),
                rule("patch update", "core", "nodes/status"),
                rule("patch update", "core", "pods/status"),
                rule("delete get list watch", "core", "pods"),
            ],
            true,
        ),
        "persistent-volume-binder" => (
            vec![
                rule(
                    "create delete get list update watch",
                    "core",
                    "persistentvolumes",
                ),
                rule("update", "core", "persistentvolumes/status"),
                rule("get list update watch", "core", "persistentvolumeclaims"),
                rule("update", "core", "persistentvolumeclaims/status"),
                rule("create delete get list watch", "core", "pods"),
                rule(READ, "storage.k8s.io", "storageclasses"),
                rule("list watch", "core", "nodes"),
                events_rule(),
                rule("watch", "core", "events"),
            ],
            false,
        ),
        "pod-garbage-collector" => (
            vec![
                rule("delete list watch", "core", "pods"),
                rule(READ, "core", "nodes"),
                rule("patch", "core", "pods/status"),
            ],
            false,
        ),
        "pv-protection-controller" => (
            vec![rule("get list update watch", "core", "persistentvolumes")],
            true,
        ),
        "pvc-protection-controller" => (
            vec![
                rule("get list update watch", "core", "persistentvolumeclaims"),
                rule("update", "core", "persistentvolumeclaims/status"),
                rule(READ, "core", "pods"),
            ],
            true,
        ),
        "replicaset-controller" => (
            vec![
                rule("get list update watch", "apps extensions", "replicasets"),
                rule("update", "apps extensions", "replicasets/status"),
                rule("update", "apps extensions", "replicasets/finalizers"),
                rule("create delete list patch watch", "core", "pods"),
            ],
            true,
        ),
        "replication-controller" => (
            vec![
                rule("get list update watch", "core", "replicationcontrollers"),
                rule("update", "core", "replicationcontrollers/status"),
                rule("update", "core", "replicationcontrollers/finalizers"),
                rule("create delete list patch watch", "core", "pods"),
            ],
            true,
        ),
        "resourcequota-controller" => (
            vec![
                rule("list watch", "*", "*"),
                rule("update", "core", "resourcequotas/status"),
            ],
            true,
        ),
        "root-ca-cert-publisher" => (vec![rule("create update", "core", "configmaps")], true),
        "route-controller" => (
            vec![
                rule("list watch", "core", "nodes"),
                rule("patch", "core", "nodes/status"),
            ],
            true,
        ),
        "service-account-controller" => (vec![rule("create", "core", "serviceaccounts")], true),
        "service-controller" => (
            vec![
                rule(READ, "core", "services"),
                rule("patch update", "core", "services/status"),
                rule("list watch", "core", "nodes"),
            ],
            true,
        ),
        "statefulset-controller" => (
            vec![
                rule("list watch", "core", "pods"),
                rule(READ, "apps", "statefulsets"),
                rule("update", "apps", "statefulsets/status"),
                rule("update", "apps", "statefulsets/finalizers"),
                rule("create delete get patch update", "core", "pods"),
                rule(CRUD, "apps", "controllerrevisions"),
                rule("create get list watch", "core", "persistentvolumeclaims"),
                rule("delete update", "core", "persistentvolumeclaims"),
                rule("update", "core", "pods/finalizers"),
            ],
            true,
        ),
        "ttl-after-finished-controller" => {
            (vec![rule("delete get list watch", "batch", "jobs")], true)
        }
        "ttl-controller" => (vec![rule("list patch update watch", "core", "nodes")], true),
        _ => (Vec::new(), false),
    }
}

/// The `system:controller:*` ClusterRoles.
pub(super) fn controller_roles() -> Vec<Value> {
    CONTROLLERS
        .iter()
        .map(|name| {
            let (mut rules, events) = controller_rules(name);
            if events {
                rules.push(events_rule());
            }
            cluster_role(&format!("system:controller:{name}"), rules)
        })
        .collect()
}
