//! Whether a pod may go to a hollow node: the few rules a test workload
//! needs when the hollow agent binds pods itself (no scheduler yet):
//! `nodeSelector`, required node affinity (label expressions and the
//! `metadata.name` field that DaemonSet pods are pinned with), taints
//! against tolerations, and `spec.unschedulable`.

use k8s_openapi::api::core::v1::{
    NodeSelectorRequirement, NodeSelectorTerm, Pod, Taint, Toleration,
};
use std::collections::BTreeMap;

/// What placement looks at on a node.
#[derive(Debug, Clone, Default)]
pub struct NodeFacts {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub taints: Vec<Taint>,
    pub unschedulable: bool,
}

fn requirement_holds(req: &NodeSelectorRequirement, value: Option<&String>) -> bool {
    let values = req.values.as_deref().unwrap_or(&[]);
    match req.operator.as_str() {
        "In" => value.is_some_and(|v| values.contains(v)),
        "NotIn" => !value.is_some_and(|v| values.contains(v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        "Gt" | "Lt" => {
            let (Some(v), Some(bound)) = (
                value.and_then(|v| v.parse::<i64>().ok()),
                values.first().and_then(|b| b.parse::<i64>().ok()),
            ) else {
                return false;
            };
            if req.operator == "Gt" {
                v > bound
            } else {
                v < bound
            }
        }
        _ => false,
    }
}

fn term_holds(term: &NodeSelectorTerm, node: &NodeFacts) -> bool {
    let labels_ok = term
        .match_expressions
        .iter()
        .flatten()
        .all(|r| requirement_holds(r, node.labels.get(&r.key)));
    let name = node.name.clone();
    let fields_ok = term
        .match_fields
        .iter()
        .flatten()
        .all(|r| r.key == "metadata.name" && requirement_holds(r, Some(&name)));
    labels_ok && fields_ok
}

fn tolerates(tolerations: &[Toleration], taint: &Taint) -> bool {
    tolerations.iter().any(|t| {
        let effect_ok = t
            .effect
            .as_deref()
            .is_none_or(|e| e.is_empty() || e == taint.effect);
        let key_ok = match t.key.as_deref() {
            None | Some("") => t.operator.as_deref() == Some("Exists"),
            Some(k) => k == taint.key,
        };
        let value_ok = match t.operator.as_deref() {
            Some("Exists") => true,
            _ => t.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or(""),
        };
        effect_ok && key_ok && value_ok
    })
}

/// Whether `pod` fits on `node`.
pub fn fits(pod: &Pod, node: &NodeFacts) -> bool {
    let Some(spec) = &pod.spec else { return false };
    if let Some(selector) = &spec.node_selector
        && selector.iter().any(|(k, v)| node.labels.get(k) != Some(v))
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
    if let Some(req) = required
        && !req.node_selector_terms.iter().any(|t| term_holds(t, node))
    {
        return false;
    }
    let tolerations = spec.tolerations.as_deref().unwrap_or(&[]);
    let unschedulable_taint = Taint {
        key: "node.kubernetes.io/unschedulable".into(),
        effect: "NoSchedule".into(),
        ..Default::default()
    };
    if node.unschedulable && !tolerates(tolerations, &unschedulable_taint) {
        return false;
    }
    node.taints
        .iter()
        .filter(|t| t.effect == "NoSchedule" || t.effect == "NoExecute")
        .all(|t| tolerates(tolerations, t))
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
