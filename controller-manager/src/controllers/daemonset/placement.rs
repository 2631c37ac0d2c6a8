//! Which nodes a DaemonSet runs on, and how its pods are pinned there: the
//! node must match the pod's nodeSelector and required node affinity, and
//! its NoSchedule/NoExecute taints must be tolerated (DaemonSet pods
//! tolerate the node-condition taints, as upstream adds those
//! tolerations). Pods are pinned with a required `matchFields`
//! `metadata.name` node affinity for the scheduler to honour.

use client::scheduling::RequiredNodeAffinity;
use client::scheduling::taints::{does_not_schedule, find_untolerated_taint};
use k8s_openapi::api::core::v1::{
    Affinity, Node, NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, PodSpec,
    Toleration,
};

/// Tolerations every DaemonSet pod gets, so node trouble does not evict it.
pub fn daemon_tolerations() -> Vec<Toleration> {
    let t = |key: &str, effect: &str| Toleration {
        key: Some(key.into()),
        operator: Some("Exists".into()),
        effect: Some(effect.into()),
        ..Default::default()
    };
    vec![
        t("node.kubernetes.io/not-ready", "NoExecute"),
        t("node.kubernetes.io/unreachable", "NoExecute"),
        t("node.kubernetes.io/disk-pressure", "NoSchedule"),
        t("node.kubernetes.io/memory-pressure", "NoSchedule"),
        t("node.kubernetes.io/pid-pressure", "NoSchedule"),
        t("node.kubernetes.io/unschedulable", "NoSchedule"),
    ]
}

/// Whether a pod with `spec` should run on `node`: the node satisfies the
/// pod's required node affinity (nodeSelector included) and the pod, with
/// the daemon tolerations added, tolerates its NoSchedule and NoExecute
/// taints.
pub fn should_run(spec: &PodSpec, node: &Node) -> bool {
    if !RequiredNodeAffinity::of_spec(spec).matches_node(node) {
        return false;
    }
    let mut tolerations = spec.tolerations.clone().unwrap_or_default();
    tolerations.extend(daemon_tolerations());
    let taints = node
        .spec
        .as_ref()
        .and_then(|s| s.taints.as_deref())
        .unwrap_or_default();
    find_untolerated_taint(taints, &tolerations, does_not_schedule).is_none()
}

/// `spec` pinned to `node`: the required node affinity's name terms are
/// replaced by one `metadata.name In [node]`, and the daemon tolerations added.
pub fn pin_to_node(spec: &mut PodSpec, node: &str) {
    let pin = NodeSelectorRequirement {
        key: "metadata.name".into(),
        operator: "In".into(),
        values: Some(vec![node.to_string()]),
    };
    let affinity = spec.affinity.get_or_insert_with(Affinity::default);
    let na = affinity
        .node_affinity
        .get_or_insert_with(NodeAffinity::default);
    let required = na
        .required_during_scheduling_ignored_during_execution
        .get_or_insert_with(NodeSelector::default);
    if required.node_selector_terms.is_empty() {
        required
            .node_selector_terms
            .push(NodeSelectorTerm::default());
    }
    for term in required.node_selector_terms.iter_mut() {
        term.match_fields = Some(vec![pin.clone()]);
    }
    let tolerations = spec.tolerations.get_or_insert_with(Vec::new);
    for t in daemon_tolerations() {
        if !tolerations.contains(&t) {
            tolerations.push(t);
        }
    }
}

/// The node a DaemonSet pod is for: its nodeName, or the pinned name.
pub fn node_of(spec: &PodSpec) -> Option<String> {
    if let Some(n) = spec.node_name.as_ref().filter(|n| !n.is_empty()) {
        return Some(n.clone());
    }
    spec.affinity
        .as_ref()?
        .node_affinity
        .as_ref()?
        .required_during_scheduling_ignored_during_execution
        .as_ref()?
        .node_selector_terms
        .iter()
        .flat_map(|t| t.match_fields.iter().flatten())
        .find(|r| r.key == "metadata.name" && r.operator == "In")
        .and_then(|r| r.values.as_ref()?.first().cloned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(name: &str, labels: serde_json::Value, taints: serde_json::Value) -> Node {
        serde_json::from_value(
            json!({"metadata": {"name": name, "labels": labels}, "spec": {"taints": taints}}),
        )
        .unwrap()
    }

    fn spec(v: serde_json::Value) -> PodSpec {
        let mut base = json!({"containers": [{"name": "c", "image": "i"}]});
        base.as_object_mut()
            .unwrap()
            .extend(v.as_object().unwrap().clone());
        serde_json::from_value(base).unwrap()
    }

    #[test]
    fn eligibility() {
        let ssd = node("a", json!({"disk": "ssd"}), json!([]));
        let tainted = node(
            "b",
            json!({}),
            json!([{"key": "dedicated", "effect": "NoSchedule"}]),
        );
        let not_ready = node(
            "c",
            json!({}),
            json!([{"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}]),
        );
        let cases = [
            (spec(json!({})), &ssd, true),
            (spec(json!({"nodeSelector": {"disk": "ssd"}})), &ssd, true),
            (spec(json!({"nodeSelector": {"disk": "hdd"}})), &ssd, false),
            (spec(json!({})), &tainted, false),
            (
                spec(json!({"tolerations": [{"key": "dedicated", "operator": "Exists"}]})),
                &tainted,
                true,
            ),
            (spec(json!({})), &not_ready, true),
        ];
        for (i, (s, n, want)) in cases.iter().enumerate() {
            assert_eq!(should_run(s, n), *want, "case {i}");
        }
        let mut pinned = spec(json!({}));
        pin_to_node(&mut pinned, "a");
        assert!(should_run(&pinned, &ssd));
        assert!(!should_run(&pinned, &not_ready));
    }

    #[test]
    fn pinning() {
        let mut s = spec(
            json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": "disk", "operator": "Exists"}]}]}}}}),
        );
        pin_to_node(&mut s, "a");
        assert_eq!(node_of(&s).as_deref(), Some("a"));
        let term = &s
            .affinity
            .as_ref()
            .unwrap()
            .node_affinity
            .as_ref()
            .unwrap()
            .required_during_scheduling_ignored_during_execution
            .as_ref()
            .unwrap()
            .node_selector_terms[0];
        assert_eq!(term.match_expressions.as_ref().unwrap()[0].key, "disk");
        assert_eq!(s.tolerations.as_ref().unwrap().len(), 6);
        pin_to_node(&mut s, "b");
        assert_eq!(node_of(&s).as_deref(), Some("b"));
        assert_eq!(s.tolerations.as_ref().unwrap().len(), 6);
    }
}
