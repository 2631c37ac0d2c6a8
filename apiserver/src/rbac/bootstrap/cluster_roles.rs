//! ClusterRoles for people (cluster-admin, admin, edit, view and their aggregate-to
//! pieces), for discovery, and for the system components.

use super::{cluster_role, cluster_role_labelled, events_rule, named, rule, urls};
use serde_json::{Value, json};

const READ: &str = "get list watch";
const WRITE: &str = "create delete deletecollection patch update";
const ALL: &str = "create delete deletecollection get list patch update watch";

fn aggregate_to_view_rules() -> Vec<Value> {
    vec![
        rule(
            READ,
            "core",
            "configmaps endpoints persistentvolumeclaims persistentvolumeclaims/status pods replicationcontrollers replicationcontrollers/scale serviceaccounts services services/status",
        ),
        rule(
            READ,
            "core",
            "bindings events limitranges namespaces/status pods/log pods/status replicationcontrollers/status resourcequotas resourcequotas/status",
        ),
        rule(READ, "core", "namespaces"),
        rule(READ, "discovery.k8s.io", "endpointslices"),
        rule(
            READ,
            "apps",
            "controllerrevisions daemonsets daemonsets/status deployments deployments/scale deployments/status replicasets replicasets/scale replicasets/status statefulsets statefulsets/scale statefulsets/status",
        ),
        rule(
            READ,
            "autoscaling",
            "horizontalpodautoscalers horizontalpodautoscalers/status",
        ),
        rule(READ, "batch", "cronjobs cronjobs/status jobs jobs/status"),
        rule(
            READ,
            "extensions",
            "daemonsets daemonsets/status deployments deployments/scale deployments/status ingresses ingresses/status networkpolicies replicasets replicasets/scale replicasets/status replicationcontrollers/scale",
        ),
        rule(
            READ,
            "policy",
            "poddisruptionbudgets poddisruptionbudgets/status",
        ),
        rule(
            READ,
            "networking.k8s.io",
            "ingresses ingresses/status networkpolicies",
        ),
    ]
}

fn aggregate_to_edit_rules() -> Vec<Value> {
    vec![
        rule(
            READ,
            "core",
            "pods/attach pods/exec pods/portforward pods/proxy secrets services/proxy",
        ),
        rule("impersonate", "core", "serviceaccounts"),
        rule(
            WRITE,
            "core",
            "pods pods/attach pods/exec pods/portforward pods/proxy",
        ),
        rule("create", "core", "pods/eviction"),
        rule(
            WRITE,
            "core",
            "configmaps events persistentvolumeclaims replicationcontrollers replicationcontrollers/scale secrets serviceaccounts services services/proxy",
        ),
        rule("create", "core", "serviceaccounts/token"),
        rule(
            WRITE,
            "apps",
            "daemonsets deployments deployments/rollback deployments/scale replicasets replicasets/scale statefulsets statefulsets/scale",
        ),
        rule(WRITE, "autoscaling", "horizontalpodautoscalers"),
        rule(WRITE, "batch", "cronjobs jobs"),
        rule(
            WRITE,
            "extensions",
            "daemonsets deployments deployments/rollback deployments/scale ingresses networkpolicies replicasets replicasets/scale replicationcontrollers/scale",
        ),
        rule(WRITE, "policy", "poddisruptionbudgets"),
        rule(WRITE, "networking.k8s.io", "ingresses networkpolicies"),
        rule(ALL, "coordination.k8s.io", "leases"),
    ]
}

fn aggregate_to_admin_rules() -> Vec<Value> {
    vec![
        rule(
            "create",
            "authorization.k8s.io",
            "localsubjectaccessreviews",
        ),
        rule(ALL, "rbac.authorization.k8s.io", "rolebindings roles"),
    ]
}

/// A user-facing role that collects its rules from the ClusterRoles labelled
/// `selector_label: "true"`: stored with its aggregationRule and no rules, as
/// upstream; kube-controller-manager's clusterrole-aggregation controller
/// fills them in (and the bootstrap never overwrites them).
fn aggregated(name: &str, labels: &[(&str, &str)], selector_label: &str) -> Value {
    let mut role = cluster_role_labelled(name, labels, Vec::new());
    role["aggregationRule"] =
        json!({"clusterRoleSelectors": [{"matchLabels": {selector_label: "true"}}]});
    role
}

fn user_facing_roles() -> Vec<Value> {
    vec![
        cluster_role("cluster-admin", vec![rule("*", "*", "*"), urls("*", "*")]),
        aggregated("admin", &[], "rbac.authorization.k8s.io/aggregate-to-admin"),
        aggregated(
            "edit",
            &[("rbac.authorization.k8s.io/aggregate-to-admin", "true")],
            "rbac.authorization.k8s.io/aggregate-to-edit",
        ),
        aggregated(
            "view",
            &[("rbac.authorization.k8s.io/aggregate-to-edit", "true")],
            "rbac.authorization.k8s.io/aggregate-to-view",
        ),
        cluster_role_labelled(
            "system:aggregate-to-admin",
            &[("rbac.authorization.k8s.io/aggregate-to-admin", "true")],
            aggregate_to_admin_rules(),
        ),
        cluster_role_labelled(
            "system:aggregate-to-edit",
            &[("rbac.authorization.k8s.io/aggregate-to-edit", "true")],
            aggregate_to_edit_rules(),
        ),
        cluster_role_labelled(
            "system:aggregate-to-view",
            &[("rbac.authorization.k8s.io/aggregate-to-view", "true")],
            aggregate_to_view_rules(),
        ),
    ]
}

fn discovery_roles() -> Vec<Value> {
    vec![
        cluster_role(
            "system:discovery",
            vec![urls(
                "get",
                "/api /api/* /apis /apis/* /healthz /livez /openapi /openapi/* /readyz /version /version/",
            )],
        ),
        cluster_role(
            "system:basic-user",
            vec![
                rule(
                    "create",
                    "authorization.k8s.io",
                    "selfsubjectaccessreviews selfsubjectrulesreviews",
                ),
                rule("create", "authentication.k8s.io", "selfsubjectreviews"),
            ],
        ),
        cluster_role(
            "system:public-info-viewer",
            vec![urls("get", "/healthz /livez /readyz /version /version/")],
        ),
        cluster_role(
            "system:monitoring",
            vec![urls(
                "get",
                "/healthz /healthz/* /livez /livez/* /metrics /metrics/slis /readyz /readyz/*",
            )],
        ),
        cluster_role(
            "system:service-account-issuer-discovery",
            vec![urls(
                "get",
                "/.well-known/openid-configuration /openid/v1/jwks",
            )],
        ),
        cluster_role(
            "system:auth-delegator",
            vec![
                rule("create", "authentication.k8s.io", "tokenreviews"),
                rule("create", "authorization.k8s.io", "subjectaccessreviews"),
            ],
        ),
    ]
}

fn component_roles() -> Vec<Value> {
    vec![
        cluster_role(
            "system:node",
            vec![
                rule("create", "authentication.k8s.io", "tokenreviews"),
                rule(
                    "create",
                    "authorization.k8s.io",
                    "localsubjectaccessreviews subjectaccessreviews",
                ),
                rule(READ, "core", "services"),
                rule("create get list watch", "core", "nodes"),
                rule("patch update", "core", "nodes/status"),
                rule("patch update", "core", "nodes"),
                rule("create patch update", "core", "events"),
                rule(READ, "core", "pods"),
                rule("create delete", "core", "pods"),
                rule("patch update", "core", "pods/status"),
                rule("create", "core", "pods/eviction"),
                rule(READ, "core", "configmaps secrets"),
                rule("get", "core", "persistentvolumeclaims persistentvolumes"),
                rule("get", "core", "endpoints"),
                rule(
                    "create get list watch",
                    "certificates.k8s.io",
                    "certificatesigningrequests",
                ),
                rule(
                    "create delete get patch update",
                    "coordination.k8s.io",
                    "leases",
                ),
                rule("get", "storage.k8s.io", "volumeattachments"),
                rule("create", "core", "serviceaccounts/token"),
                rule("get patch update", "core", "persistentvolumeclaims/status"),
                rule(READ, "storage.k8s.io", "csidrivers"),
                rule(
                    "create delete get patch update",
                    "storage.k8s.io",
                    "csinodes",
                ),
                rule(READ, "node.k8s.io", "runtimeclasses"),
            ],
        ),
        cluster_role(
            "system:node-proxier",
            vec![
                rule("list watch", "core", "endpoints services"),
                rule(READ, "core", "nodes"),
                events_rule(),
                rule("list watch", "discovery.k8s.io", "endpointslices"),
            ],
        ),
        cluster_role(
            "system:node-bootstrapper",
            vec![rule(
                "create get list watch",
                "certificates.k8s.io",
                "certificatesigningrequests",
            )],
        ),
        cluster_role(
            "system:node-problem-detector",
            vec![
                rule("get", "core", "nodes"),
                rule("patch", "core", "nodes/status"),
                events_rule(),
            ],
        ),
        cluster_role(
            "system:kubelet-api-admin",
            vec![
                rule(READ, "core", "nodes"),
                rule("proxy", "core", "nodes"),
                rule(
                    "*",
                    "core",
                    "nodes/log nodes/metrics nodes/proxy nodes/stats",
                ),
            ],
        ),
        cluster_role(
            "system:kube-scheduler",
            vec![
                events_rule(),
                rule("create", "coordination.k8s.io", "leases"),
                named(
                    "get update",
                    "coordination.k8s.io",
                    "leases",
                    "kube-scheduler",
                ),
                rule(READ, "core", "nodes"),
                rule("delete get list watch", "core", "pods"),
                rule("create", "core", "bindings pods/binding"),
                rule("patch update", "core", "pods/status"),
                rule(READ, "core", "replicationcontrollers services"),
                rule(READ, "apps extensions", "replicasets"),
                rule(READ, "apps", "statefulsets"),
                rule(READ, "policy", "poddisruptionbudgets"),
                rule(READ, "core", "persistentvolumeclaims persistentvolumes"),
                rule("create", "authentication.k8s.io", "tokenreviews"),
                rule("create", "authorization.k8s.io", "subjectaccessreviews"),
                rule(READ, "storage.k8s.io", "csinodes"),
                rule(READ, "core", "namespaces"),
                rule(READ, "storage.k8s.io", "csidrivers"),
                rule(READ, "storage.k8s.io", "csistoragecapacities"),
            ],
        ),
        cluster_role(
            "system:volume-scheduler",
            vec![
                rule("get list patch update watch", "core", "persistentvolumes"),
                rule(READ, "storage.k8s.io", "storageclasses"),
                rule(
                    "get list patch update watch",
                    "core",
                    "persistentvolumeclaims",
                ),
            ],
        ),
        cluster_role(
            "system:kube-controller-manager",
            vec![
                events_rule(),
                rule("create", "coordination.k8s.io", "leases"),
                named(
                    "get update",
                    "coordination.k8s.io",
                    "leases",
                    "kube-controller-manager",
                ),
                rule("create", "core", "secrets serviceaccounts"),
                rule("delete", "core", "secrets"),
                rule(
                    "get",
                    "core",
                    "configmaps namespaces secrets serviceaccounts",
                ),
                rule("update", "core", "secrets serviceaccounts"),
                rule("create", "authentication.k8s.io", "tokenreviews"),
                rule("create", "authorization.k8s.io", "subjectaccessreviews"),
                rule("list watch", "*", "*"),
                rule("create", "core", "serviceaccounts/token"),
            ],
        ),
        cluster_role(
            "system:kube-dns",
            vec![rule("list watch", "core", "endpoints services")],
        ),
        cluster_role(
            "system:kube-aggregator",
            vec![rule(READ, "core", "endpoints services")],
        ),
        cluster_role(
            "system:persistent-volume-provisioner",
            vec![
                rule("create delete get list watch", "core", "persistentvolumes"),
                rule("get list update watch", "core", "persistentvolumeclaims"),
                rule(READ, "storage.k8s.io", "storageclasses"),
                rule("watch", "core", "events"),
                events_rule(),
            ],
        ),
        cluster_role(
            "system:heapster",
            vec![
                rule(READ, "core", "events namespaces nodes pods"),
                rule(READ, "extensions", "deployments"),
            ],
        ),
        // flanneld's --kube-subnet-mgr reads nodes' podCIDRs and annotates its own node.
        cluster_role(
            "flannel",
            vec![
                rule("get", "core", "pods"),
                rule("get list watch", "core", "nodes"),
                rule("patch", "core", "nodes/status"),
            ],
        ),
    ]
}

fn certificate_roles() -> Vec<Value> {
    let approver = |name: &str, signer: &str| {
        cluster_role(
            &format!("system:certificates.k8s.io:{name}"),
            vec![named("approve", "certificates.k8s.io", "signers", signer)],
        )
    };
    vec![
        cluster_role(
            "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
            vec![rule(
                "create",
                "certificates.k8s.io",
                "certificatesigningrequests/nodeclient",
            )],
        ),
        cluster_role(
            "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
            vec![rule(
                "create",
                "certificates.k8s.io",
                "certificatesigningrequests/selfnodeclient",
            )],
        ),
        approver(
            "kube-apiserver-client-approver",
            "kubernetes.io/kube-apiserver-client",
        ),
        approver(
            "kube-apiserver-client-kubelet-approver",
            "kubernetes.io/kube-apiserver-client-kubelet",
        ),
        approver("kubelet-serving-approver", "kubernetes.io/kubelet-serving"),
        approver("legacy-unknown-approver", "kubernetes.io/legacy-unknown"),
    ]
}

/// The non-controller ClusterRoles.
pub(super) fn cluster_roles() -> Vec<Value> {
    let mut all = user_facing_roles();
    all.extend(discovery_roles());
    all.extend(component_roles());
    all.extend(certificate_roles());
    all
}
