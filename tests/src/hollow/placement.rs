//! Whether a pod may go to a hollow node: the few rules a test workload
//! needs when the hollow agent binds pods itself (no scheduler yet):
//! `nodeSelector`, required node affinity (label expressions and the
//! `metadata.name` field that DaemonSet pods are pinned with), taints
//! against tolerations, and `spec.unschedulable`, each judged by
//! `client::scheduling` as the scheduler judges it.

use client::scheduling::RequiredNodeAffinity;
use client::scheduling::taints::{
    does_not_schedule, find_untolerated_taint, tolerations_tolerate_taint, unschedulable_taint,
};
use k8s_openapi::api::core::v1::{Pod, Taint};
use std::collections::BTreeMap;

/// What placement looks at on a node.
#[derive(Debug, Clone, Default)]
pub struct NodeFacts {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub taints: Vec<Taint>,
    pub unschedulable: bool,
}

/// Whether `pod` fits on `node`.
pub fn fits(pod: &Pod, node: &NodeFacts) -> bool {
    let Some(spec) = &pod.spec else { return false };
    if !RequiredNodeAffinity::of_spec(spec).matches(&node.name, &node.labels) {
        return false;
    }
    let tolerations = spec.tolerations.as_deref().unwrap_or_default();
    if node.unschedulable && !tolerations_tolerate_taint(tolerations, &unschedulable_taint()) {
        return false;
    }
    find_untolerated_taint(&node.taints, tolerations, does_not_schedule).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(spec: serde_json::Value) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": "p"}, "spec": spec})).unwrap()
    }

    fn node(name: &str, labels: &[(&str, &str)], taints: &[(&str, &str)]) -> NodeFacts {
        NodeFacts {
            name: name.into(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            taints: taints
                .iter()
                .map(|(k, e)| Taint {
                    key: k.to_string(),
                    effect: e.to_string(),
                    ..Default::default()
                })
                .collect(),
            unschedulable: false,
        }
    }

    #[test]
    fn placement_rules() {
        let plain = node("n1", &[("disktype", "ssd")], &[]);
        let tainted = node("n2", &[], &[("dedicated", "NoSchedule")]);
        let c = json!([{"name": "c", "image": "i"}]);
        let cases = [
            (pod(json!({"containers": c})), &plain, true),
            (
                pod(json!({"containers": c, "nodeSelector": {"disktype": "ssd"}})),
                &plain,
                true,
            ),
            (
                pod(json!({"containers": c, "nodeSelector": {"disktype": "hdd"}})),
                &plain,
                false,
            ),
            (pod(json!({"containers": c})), &tainted, false),
            (
                pod(
                    json!({"containers": c, "tolerations": [{"key": "dedicated", "operator": "Exists"}]}),
                ),
                &tainted,
                true,
            ),
            (
                pod(json!({"containers": c, "tolerations": [{"operator": "Exists"}]})),
                &tainted,
                true,
            ),
            (
                pod(
                    json!({"containers": c, "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}]}}}}),
                ),
                &plain,
                true,
            ),
            (
                pod(
                    json!({"containers": c, "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n9"]}]}]}}}}),
                ),
                &plain,
                false,
            ),
            (
                pod(
                    json!({"containers": c, "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [{"key": "disktype", "operator": "NotIn", "values": ["ssd"]}]}]}}}}),
                ),
                &plain,
                false,
            ),
        ];
        for (i, (p, n, want)) in cases.iter().enumerate() {
            assert_eq!(fits(p, n), *want, "case {i}");
        }
        let mut cordoned = plain.clone();
        cordoned.unschedulable = true;
        assert!(!fits(&pod(json!({"containers": c})), &cordoned));
    }
}
