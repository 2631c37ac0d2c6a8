//! NodeRestriction: a kubelet (`system:node:<name>` in `system:nodes`) may
//! write only its own Node (without touching restricted labels or taints),
//! mirror pods bound to itself and the status of its own pods, and its own
//! Lease in kube-node-lease.

use super::{Operation, Request, forbidden};
use crate::status::ApiError;
use serde_json::Value;
use std::collections::BTreeMap;

/// The node a request comes from, when it comes from one.
fn node_of<'a>(req: &Request<'a>) -> Option<&'a str> {
    let name = req.user.name.strip_prefix("system:node:")?;
    req.user
        .groups
        .iter()
        .any(|g| g == "system:nodes")
        .then_some(name)
        .filter(|n| !n.is_empty())
}

pub fn validate(req: &Request<'_>, obj: &Value) -> Result<(), ApiError> {
    let Some(node) = node_of(req) else {
        return Ok(());
    };
    match (req.def.group, req.def.plural) {
        ("", "pods") => pods(req, node, obj),
        ("", "nodes") => nodes(req, node, obj),
        ("coordination.k8s.io", "leases") => leases(req, node),
        ("storage.k8s.io", "csinodes") => csi_nodes(req, node),
        _ => Ok(()),
    }
}

fn node_name(pod: &Value) -> &str {
    pod.pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn pods(req: &Request<'_>, node: &str, pod: &Value) -> Result<(), ApiError> {
    match (req.operation, req.subresource) {
        (Operation::Create, "") => {
            if !super::service_account::is_mirror_pod(pod) {
                return Err(forbidden(
                    req,
                    format!(
                        "pod does not have \"kubernetes.io/config.mirror\" annotation, node \"{node}\" can only create mirror pods"
                    ),
                ));
            }
            if node_name(pod) != node {
                return Err(forbidden(
                    req,
                    format!(
                        "node \"{node}\" can only create pods with spec.nodeName set to itself"
                    ),
                ));
            }
            let sa = pod
                .pointer("/spec/serviceAccountName")
                .and_then(Value::as_str)
                .unwrap_or("");
            if !sa.is_empty() {
                return Err(forbidden(
                    req,
                    format!("node \"{node}\" can not create pods that reference a service account"),
                ));
            }
            Ok(())
        }
        (Operation::Update, "status") => {
            let bound = req.old.map(node_name).unwrap_or("");
            if bound != node {
                return Err(forbidden(
                    req,
                    format!(
                        "node \"{node}\" can only update pod status for pods with spec.nodeName set to itself"
                    ),
                ));
            }
            Ok(())
        }
        (Operation::Delete, _) => {
            if node_name(pod) != node {
                return Err(forbidden(
                    req,
                    format!(
                        "node \"{node}\" can only delete pods with spec.nodeName set to itself"
                    ),
                ));
            }
            Ok(())
        }
        (op, _) => Err(forbidden(
            req,
            format!(
                "unexpected operation {}, node \"{node}\" can only create and delete mirror pods",
                op.as_str()
            ),
        )),
    }
}

fn labels(obj: &Value) -> BTreeMap<String, String> {
    obj.pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// Labels a kubelet may set on its Node in the kubernetes.io / k8s.io
/// domains; every other label there (and all of node-restriction.kubernetes.io/)
/// is reserved for administrators.
const KUBELET_LABELS: &[&str] = &[
    "kubernetes.io/hostname",
    "kubernetes.io/arch",
    "kubernetes.io/os",
    "beta.kubernetes.io/arch",
    "beta.kubernetes.io/os",
    "beta.kubernetes.io/instance-type",
    "node.kubernetes.io/instance-type",
    "failure-domain.beta.kubernetes.io/region",
    "failure-domain.beta.kubernetes.io/zone",
    "topology.kubernetes.io/region",
    "topology.kubernetes.io/zone",
];
const KUBELET_LABEL_NAMESPACES: &[&str] = &["kubelet.kubernetes.io", "node.kubernetes.io"];

fn restricted_label(key: &str) -> bool {
    let Some((domain, _)) = key.split_once('/') else {
        return false;
    };
    if domain == "node-restriction.kubernetes.io"
        || domain.ends_with(".node-restriction.kubernetes.io")
    {
        return true;
    }
    let in_k8s = ["kubernetes.io", "k8s.io"]
        .iter()
        .any(|d| domain == *d || domain.ends_with(&format!(".{d}")));
    if !in_k8s || KUBELET_LABELS.contains(&key) {
        return false;
    }
    !KUBELET_LABEL_NAMESPACES
        .iter()
        .any(|ns| domain == *ns || domain.ends_with(&format!(".{ns}")))
}

fn nodes(req: &Request<'_>, node: &str, obj: &Value) -> Result<(), ApiError> {
    let target = if req.operation == Operation::Create {
        crate::registry::meta::name(obj)
    } else {
        req.name
    };
    if target != node {
        return Err(forbidden(
            req,
            format!("node \"{node}\" is not allowed to modify node \"{target}\""),
        ));
    }
    let new = labels(obj);
    match req.operation {
        Operation::Create => {
            let bad: Vec<&str> = new
                .keys()
                .filter(|k| restricted_label(k))
                .map(String::as_str)
                .collect();
            if !bad.is_empty() {
                return Err(forbidden(
                    req,
                    format!(
                        "node \"{node}\" is not allowed to set the following labels: {}",
                        bad.join(", ")
                    ),
                ));
            }
        }
        Operation::Update => {
            let old = req.old.map(labels).unwrap_or_default();
            let mut changed: Vec<&str> = new
                .iter()
                .filter(|(k, v)| old.get(*k) != Some(*v))
                .map(|(k, _)| k.as_str())
                .chain(
                    old.keys()
                        .filter(|k| !new.contains_key(*k))
                        .map(String::as_str),
                )
                .filter(|k| restricted_label(k))
                .collect();
            changed.sort_unstable();
            changed.dedup();
            if !changed.is_empty() {
                return Err(forbidden(
                    req,
                    format!(
                        "node \"{node}\" is not allowed to modify labels: {}",
                        changed.join(", ")
                    ),
                ));
            }
            let taints = |v: &Value| {
                v.pointer("/spec/taints")
                    .cloned()
                    .filter(|t| t.as_array().is_some_and(|a| !a.is_empty()))
            };
            if req.subresource.is_empty() && req.old.map(taints) != Some(taints(obj)) {
                return Err(forbidden(
                    req,
                    format!("node \"{node}\" is not allowed to modify taints"),
                ));
            }
        }
        Operation::Delete => {}
    }
    Ok(())
}

fn leases(req: &Request<'_>, node: &str) -> Result<(), ApiError> {
    if req.namespace != "kube-node-lease" {
        return Err(forbidden(
            req,
            "can only access leases in the \"kube-node-lease\" namespace",
        ));
    }
    if req.name != node {
        return Err(forbidden(
            req,
            "can only access node lease with the same name as the requesting node",
        ));
    }
    Ok(())
}

/// A kubelet writes only the CSINode named after its own Node.
fn csi_nodes(req: &Request<'_>, node: &str) -> Result<(), ApiError> {
    if req.name != node {
        return Err(forbidden(
            req,
            "can only access CSINode with the same name as the requesting node",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admission::test_request;
    use crate::authn::UserInfo;
    use serde_json::json;

    fn as_node(mut r: Request<'static>, node: &str) -> Request<'static> {
        r.user = Box::leak(Box::new(UserInfo {
            name: format!("system:node:{node}"),
            uid: String::new(),
            groups: vec!["system:nodes".into()],
        }));
        r
    }

    #[test]
    fn nodes_write_only_themselves_without_restricted_labels() {
        let r = as_node(
            test_request(Operation::Update, ("", "v1", "nodes"), "", "n2"),
            "n1",
        );
        let e = validate(&r, &json!({"metadata": {"name": "n2"}})).expect_err("other node");
        assert_eq!(
            e.message,
            "nodes \"n2\" is forbidden: node \"n1\" is not allowed to modify node \"n2\""
        );
        let old: &'static Value = Box::leak(Box::new(
            json!({"metadata": {"name": "n1", "labels": {"a": "1"}}}),
        ));
        let mut r = as_node(
            test_request(Operation::Update, ("", "v1", "nodes"), "", "n1"),
            "n1",
        );
        r.old = Some(old);
        assert!(validate(&r, &json!({"metadata": {"name": "n1", "labels": {"a": "2", "kubernetes.io/hostname": "n1"}}})).is_ok());
        let e = validate(&r, &json!({"metadata": {"name": "n1", "labels": {"a": "1", "node-restriction.kubernetes.io/pool": "x"}}})).expect_err("restricted");
        assert_eq!(
            e.message,
            "nodes \"n1\" is forbidden: node \"n1\" is not allowed to modify labels: node-restriction.kubernetes.io/pool"
        );
        let e = validate(&r, &json!({"metadata": {"name": "n1", "labels": {"a": "1"}}, "spec": {"taints": [{"key": "k", "effect": "NoSchedule"}]}})).expect_err("taints");
        assert!(
            e.message.ends_with("is not allowed to modify taints"),
            "{}",
            e.message
        );
    }

    #[test]
    fn pods_only_mirror_and_bound_to_itself() {
        let r = as_node(
            test_request(Operation::Create, ("", "v1", "pods"), "default", "p"),
            "n1",
        );
        let e = validate(&r, &json!({"spec": {"nodeName": "n1"}})).expect_err("not mirror");
        assert!(
            e.message.contains("can only create mirror pods"),
            "{}",
            e.message
        );
        let mirror = json!({"metadata": {"annotations": {"kubernetes.io/config.mirror": "h"}}, "spec": {"nodeName": "n1"}});
        assert!(validate(&r, &mirror).is_ok());
        let r = as_node(
            test_request(Operation::Delete, ("", "v1", "pods"), "default", "p"),
            "n1",
        );
        let e = validate(&r, &json!({"spec": {"nodeName": "n2"}})).expect_err("other node's pod");
        assert_eq!(
            e.message,
            "pods \"p\" is forbidden: node \"n1\" can only delete pods with spec.nodeName set to itself"
        );
        // Anyone else is not concerned.
        let r = test_request(Operation::Delete, ("", "v1", "pods"), "default", "p");
        assert!(validate(&r, &json!({"spec": {"nodeName": "n2"}})).is_ok());
    }

    #[test]
    fn csi_nodes_only_its_own() {
        for op in [Operation::Create, Operation::Update, Operation::Delete] {
            let r = as_node(
                test_request(op, ("storage.k8s.io", "v1", "csinodes"), "", "n2"),
                "n1",
            );
            let e = validate(&r, &json!({})).expect_err("another node's CSINode");
            assert!(
                e.message
                    .ends_with("can only access CSINode with the same name as the requesting node")
            );
            let r = as_node(
                test_request(op, ("storage.k8s.io", "v1", "csinodes"), "", "n1"),
                "n1",
            );
            assert!(validate(&r, &json!({})).is_ok());
        }
    }

    #[test]
    fn leases_only_its_own() {
        let r = as_node(
            test_request(
                Operation::Update,
                ("coordination.k8s.io", "v1", "leases"),
                "kube-node-lease",
                "n2",
            ),
            "n1",
        );
        let e = validate(&r, &json!({})).expect_err("other lease");
        assert!(
            e.message
                .ends_with("can only access node lease with the same name as the requesting node")
        );
        let r = as_node(
            test_request(
                Operation::Update,
                ("coordination.k8s.io", "v1", "leases"),
                "kube-node-lease",
                "n1",
            ),
            "n1",
        );
        assert!(validate(&r, &json!({})).is_ok());
    }
}
