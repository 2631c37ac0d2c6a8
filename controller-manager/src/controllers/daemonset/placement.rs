//! Which nodes a DaemonSet runs on, and how its pods are pinned there: the
//! node must match the pod's nodeSelector and required node affinity, and
//! its NoSchedule/NoExecute taints must be tolerated (DaemonSet pods
//! tolerate the node-condition taints, as upstream adds those
//! tolerations). Pods are pinned with a required `matchFields`
//! `metadata.name` node affinity for the scheduler to honour.

use k8s_openapi::api::core::v1::{
    Affinity, Node, NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, PodSpec,
    Taint, Toleration,
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

fn tolerated(tolerations: &[Toleration], taint: &Taint) -> bool {
    tolerations.iter().any(|t| {
        let effect_ok = t
            .effect
            .as_deref()
            .is_none_or(|e| e.is_empty() || e == taint.effect);
        let key_ok = match t.key.as_deref() {
            None | Some("") => t.operator.as_deref() == Some("Exists"),
            Some(k) => k == taint.key,
        };
        let value_ok = t.operator.as_deref() == Some("Exists")
            || t.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or("");
        effect_ok && key_ok && value_ok
    })
}

fn requirement_holds(r: &NodeSelectorRequirement, value: Option<&String>) -> bool {
    let values = r.values.as_deref().unwrap_or(&[]);
    match r.operator.as_str() {
        "In" => value.is_some_and(|v| values.contains(v)),
        "NotIn" => !value.is_some_and(|v| values.contains(v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        _ => false,
    }
}

/// Whether a pod with `spec` should run on `node`.
pub fn should_run(spec: &PodSpec, node: &Node) -> bool {
    let labels = node.metadata.labels.clone().unwrap_or_default();
    let name = node.metadata.name.clone().unwrap_or_default();
    if let Some(sel) = &spec.node_selector
        && sel.iter().any(|(k, v)| labels.get(k) != Some(v))
    {
        return false;
    }
    let required = spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|n| {
            n.required_during_scheduling_ignored_during_execution
                .as_ref()
        });
    if let Some(req) = required {
        let ok = req.node_selector_terms.iter().any(|term| {
            term.match_expressions
                .iter()
                .flatten()
                .all(|r| requirement_holds(r, labels.get(&r.key)))
                && term
                    .match_fields
                    .iter()
                    .flatten()
                    .all(|r| r.key == "metadata.name" && requirement_holds(r, Some(&name)))
        });
        if !ok {
            return false;
        }
    }
    let mut tolerations = spec.tolerations.clone().unwrap_or_default();
    tolerations.extend(daemon_tolerations());
    node.spec
        .as_ref()
        .and_then(|s| s.taints.as_ref())
        .into_iter()
        .flatten()
        .filter(|t| t.effect == "NoSchedule" || t.effect == "NoExecute")
        .all(|t| tolerated(&tolerations, t))
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
