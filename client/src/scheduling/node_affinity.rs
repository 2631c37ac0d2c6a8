//! Node selectors and node affinity (upstream's component-helpers
//! `nodeaffinity`): whether a node's labels and name satisfy a pod's
//! `spec.nodeSelector`, its required node affinity, a PersistentVolume's
//! node affinity, and how much its preferred terms weigh. The scheduler
//! filters and scores with these, the DaemonSet controller picks nodes with
//! them, and hollow nodes admit pods with them.
//!
//! Node selector terms are ORed; inside one term the `matchExpressions`
//! (on labels) and `matchFields` (only `metadata.name`) are ANDed. A term
//! with no requirement, or with a requirement upstream could not parse
//! (`NotIn` without values, `Gt` with two values, ...), matches nothing.
//! Label keys and values are not re-validated: the apiserver already did.

use k8s_openapi::api::core::v1::{
    Node, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Pod, PodSpec,
    PreferredSchedulingTerm,
};
use std::collections::BTreeMap;

/// The only field a node selector's `matchFields` may name.
pub const NODE_NAME_FIELD: &str = "metadata.name";

/// Whether `labels` carry every `key: value` of a `spec.nodeSelector` map
/// (an empty map selects every node).
pub fn matches_node_selector(
    selector: &BTreeMap<String, String>,
    labels: &BTreeMap<String, String>,
) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// One `matchExpressions` requirement against the node's label value.
fn label_requirement_matches(r: &NodeSelectorRequirement, value: Option<&str>) -> bool {
    let values = r.values.as_deref().unwrap_or_default();
    match r.operator.as_str() {
        "In" => value.is_some_and(|v| values.iter().any(|w| w == v)),
        "NotIn" => !values.is_empty() && value.is_none_or(|v| !values.iter().any(|w| w == v)),
        "Exists" => values.is_empty() && value.is_some(),
        "DoesNotExist" => values.is_empty() && value.is_none(),
        "Gt" | "Lt" => {
            let [bound] = values else { return false };
            let (Some(have), Ok(bound)) = (
                value.and_then(|v| v.parse::<i64>().ok()),
                bound.parse::<i64>(),
            ) else {
                return false;
            };
            if r.operator == "Gt" {
                have > bound
            } else {
                have < bound
            }
        }
        _ => false,
    }
}

/// One `matchFields` requirement against the node's name: `metadata.name`
/// with `In` or `NotIn` and exactly one value, as upstream's validation
/// allows.
fn field_requirement_matches(r: &NodeSelectorRequirement, node_name: &str) -> bool {
    let [value] = r.values.as_deref().unwrap_or_default() else {
        return false;
    };
    if r.key != NODE_NAME_FIELD {
        return false;
    }
    match r.operator.as_str() {
        "In" => value == node_name,
        "NotIn" => value != node_name,
        _ => false,
    }
}

/// Whether one node selector term matches the node: all its expressions
/// and fields hold. A term with neither matches nothing.
pub fn term_matches(
    term: &NodeSelectorTerm,
    node_name: &str,
    labels: &BTreeMap<String, String>,
) -> bool {
    let exprs = term.match_expressions.as_deref().unwrap_or_default();
    let fields = term.match_fields.as_deref().unwrap_or_default();
    if exprs.is_empty() && fields.is_empty() {
        return false;
    }
    exprs
        .iter()
        .all(|r| label_requirement_matches(r, labels.get(&r.key).map(String::as_str)))
        && fields
            .iter()
            .all(|r| field_requirement_matches(r, node_name))
}

/// Whether any of the terms matches (upstream's `MatchNodeSelectorTerms`):
/// no terms at all match nothing.
pub fn terms_match(
    terms: &[NodeSelectorTerm],
    node_name: &str,
    labels: &BTreeMap<String, String>,
) -> bool {
    terms.iter().any(|t| term_matches(t, node_name, labels))
}

/// The sum of the weights of the preferred terms that match the node: the
/// raw NodeAffinity score. Terms of weight zero and empty terms count for
/// nothing.
pub fn preferred_score(
    terms: &[PreferredSchedulingTerm],
    node_name: &str,
    labels: &BTreeMap<String, String>,
) -> i64 {
    terms
        .iter()
        .filter(|t| t.weight != 0 && term_matches(&t.preference, node_name, labels))
        .map(|t| i64::from(t.weight))
        .sum()
}

/// What a pod requires of its node (upstream's `GetRequiredNodeAffinity`):
/// its `spec.nodeSelector` AND its
/// `requiredDuringSchedulingIgnoredDuringExecution` node affinity. Borrowed
/// from the pod, so building one per pod costs nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequiredNodeAffinity<'a> {
    node_selector: Option<&'a BTreeMap<String, String>>,
    required: Option<&'a NodeSelector>,
}

impl<'a> RequiredNodeAffinity<'a> {
    /// The requirements of a pod (none when it has no spec).
    pub fn of(pod: &'a Pod) -> Self {
        pod.spec.as_ref().map(Self::of_spec).unwrap_or_default()
    }

    /// The requirements of a pod spec, e.g. a DaemonSet's template.
    pub fn of_spec(spec: &'a PodSpec) -> Self {
        let required = spec
            .affinity
            .as_ref()
            .and_then(|a| a.node_affinity.as_ref())
            .and_then(|n| {
                n.required_during_scheduling_ignored_during_execution
                    .as_ref()
            });
        RequiredNodeAffinity {
            node_selector: spec.node_selector.as_ref().filter(|s| !s.is_empty()),
            required,
        }
    }

    /// Whether the pod names no node requirement at all (no nodeSelector
    /// labels, no required node affinity), so every node qualifies and a
    /// caller can skip matching node by node.
    pub fn is_empty(&self) -> bool {
        self.node_selector.is_none() && self.required.is_none()
    }

    /// Whether a node with this name and these labels satisfies both parts.
    /// A required node affinity with no terms matches no node.
    pub fn matches(&self, node_name: &str, labels: &BTreeMap<String, String>) -> bool {
        if let Some(selector) = self.node_selector
            && !matches_node_selector(selector, labels)
        {
            return false;
        }
        self.required
            .is_none_or(|r| terms_match(&r.node_selector_terms, node_name, labels))
    }

    /// [`Self::matches`] for a Node object.
    pub fn matches_node(&self, node: &Node) -> bool {
        let empty = BTreeMap::new();
        let labels = node.metadata.labels.as_ref().unwrap_or(&empty);
        self.matches(node.metadata.name.as_deref().unwrap_or_default(), labels)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn term(v: &Value) -> NodeSelectorTerm {
        serde_json::from_value(v.clone()).expect("term")
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn expr(key: &str, op: &str, values: Value) -> Value {
        json!({"matchExpressions": [{"key": key, "operator": op, "values": values}]})
    }

    fn field(key: &str, op: &str, values: Value) -> Value {
        json!({"matchFields": [{"key": key, "operator": op, "values": values}]})
    }

    #[test]
    fn node_selector_maps() {
        let node = labels(&[("disktype", "ssd"), ("zone", "a")]);
        let cases = [
            ("empty selects every node", labels(&[]), true),
            ("one label", labels(&[("disktype", "ssd")]), true),
            (
                "all labels",
                labels(&[("disktype", "ssd"), ("zone", "a")]),
                true,
            ),
            ("another value", labels(&[("disktype", "hdd")]), false),
            (
                "a missing label",
                labels(&[("disktype", "ssd"), ("gpu", "true")]),
                false,
            ),
        ];
        for (name, selector, want) in cases {
            assert_eq!(matches_node_selector(&selector, &node), want, "{name}");
        }
    }

    #[test]
    fn each_operator() {
        let node = labels(&[("zone", "a"), ("cores", "8"), ("name", "n")]);
        let cases = [
            ("In holds", expr("zone", "In", json!(["a", "b"])), true),
            (
                "In with another value",
                expr("zone", "In", json!(["b"])),
                false,
            ),
            (
                "In on a missing label",
                expr("gpu", "In", json!(["a"])),
                false,
            ),
            ("In without values", expr("zone", "In", json!([])), false),
            ("NotIn holds", expr("zone", "NotIn", json!(["b"])), true),
            (
                "NotIn with the value",
                expr("zone", "NotIn", json!(["a", "b"])),
                false,
            ),
            (
                "NotIn on a missing label",
                expr("gpu", "NotIn", json!(["b"])),
                true,
            ),
            (
                "NotIn without values is invalid",
                expr("gpu", "NotIn", json!([])),
                false,
            ),
            (
                "Exists holds",
                json!({"matchExpressions": [{"key": "zone", "operator": "Exists"}]}),
                true,
            ),
            (
                "Exists on a missing label",
                json!({"matchExpressions": [{"key": "gpu", "operator": "Exists"}]}),
                false,
            ),
            (
                "Exists with values is invalid",
                expr("zone", "Exists", json!(["a"])),
                false,
            ),
            (
                "DoesNotExist holds",
                json!({"matchExpressions": [{"key": "gpu", "operator": "DoesNotExist"}]}),
                true,
            ),
            (
                "DoesNotExist on a present label",
                json!({"matchExpressions": [{"key": "zone", "operator": "DoesNotExist"}]}),
                false,
            ),
            (
                "DoesNotExist with values is invalid",
                expr("gpu", "DoesNotExist", json!(["a"])),
                false,
            ),
            ("Gt holds", expr("cores", "Gt", json!(["4"])), true),
            ("Gt is strict", expr("cores", "Gt", json!(["8"])), false),
            ("Lt holds", expr("cores", "Lt", json!(["16"])), true),
            ("Lt fails", expr("cores", "Lt", json!(["4"])), false),
            (
                "Gt on a non-integer label",
                expr("zone", "Gt", json!(["4"])),
                false,
            ),
            (
                "Gt on a missing label",
                expr("gpu", "Gt", json!(["4"])),
                false,
            ),
            (
                "Gt with a non-integer bound",
                expr("cores", "Gt", json!(["x"])),
                false,
            ),
            (
                "Gt with two values is invalid",
                expr("cores", "Gt", json!(["4", "5"])),
                false,
            ),
            (
                "Lt without values is invalid",
                expr("cores", "Lt", json!([])),
                false,
            ),
            (
                "unknown operator",
                expr("zone", "Equals", json!(["a"])),
                false,
            ),
            (
                "expressions are ANDed",
                json!({"matchExpressions": [
                    {"key": "zone", "operator": "In", "values": ["a"]},
                    {"key": "cores", "operator": "Lt", "values": ["4"]}]}),
                false,
            ),
            ("an empty term matches nothing", json!({}), false),
            (
                "empty lists match nothing",
                json!({"matchExpressions": [], "matchFields": []}),
                false,
            ),
        ];
        for (name, t, want) in cases {
            assert_eq!(term_matches(&term(&t), "n1", &node), want, "{name}: {t}");
        }
    }

    #[test]
    fn match_fields_name_the_node() {
        let node = labels(&[("zone", "a")]);
        let cases = [
            (
                "In the name",
                field(NODE_NAME_FIELD, "In", json!(["n1"])),
                true,
            ),
            (
                "In another name",
                field(NODE_NAME_FIELD, "In", json!(["n2"])),
                false,
            ),
            (
                "NotIn another name",
                field(NODE_NAME_FIELD, "NotIn", json!(["n2"])),
                true,
            ),
            (
                "NotIn the name",
                field(NODE_NAME_FIELD, "NotIn", json!(["n1"])),
                false,
            ),
            (
                "two values are invalid",
                field(NODE_NAME_FIELD, "In", json!(["n1", "n2"])),
                false,
            ),
            (
                "no value is invalid",
                field(NODE_NAME_FIELD, "NotIn", json!([])),
                false,
            ),
            (
                "other operators are invalid",
                json!({"matchFields": [{"key": NODE_NAME_FIELD, "operator": "Exists"}]}),
                false,
            ),
            (
                "other fields are invalid",
                field("metadata.namespace", "NotIn", json!(["x"])),
                false,
            ),
            (
                "fields AND expressions",
                json!({"matchFields": [{"key": NODE_NAME_FIELD, "operator": "In", "values": ["n1"]}],
                       "matchExpressions": [{"key": "zone", "operator": "In", "values": ["b"]}]}),
                false,
            ),
            (
                "fields and expressions both hold",
                json!({"matchFields": [{"key": NODE_NAME_FIELD, "operator": "In", "values": ["n1"]}],
                       "matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}),
                true,
            ),
        ];
        for (name, t, want) in cases {
            assert_eq!(term_matches(&term(&t), "n1", &node), want, "{name}: {t}");
        }
    }

    #[test]
    fn terms_are_ored() {
        let node = labels(&[("zone", "a")]);
        let b = term(&expr("zone", "In", json!(["b"])));
        let a = term(&expr("zone", "In", json!(["a"])));
        let invalid = term(&expr("zone", "NotIn", json!([])));
        let empty = term(&json!({}));
        let cases = [
            ("no terms match nothing", vec![], false),
            ("one matching term of two", vec![b.clone(), a.clone()], true),
            ("no matching term", vec![b.clone()], false),
            ("an empty term is skipped", vec![empty, a.clone()], true),
            ("an invalid term is skipped", vec![invalid.clone(), a], true),
            ("only an invalid term", vec![invalid], false),
        ];
        for (name, terms, want) in cases {
            assert_eq!(terms_match(&terms, "n", &node), want, "{name}");
        }
    }

    #[test]
    fn required_node_affinity_is_selector_and_terms() {
        let required = json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a", "b"]}]}]}}});
        let no_terms = json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": []}}});
        let ssd_a = labels(&[("disktype", "ssd"), ("zone", "a")]);
        let hdd_c = labels(&[("disktype", "hdd"), ("zone", "c")]);
        let hdd_a = labels(&[("disktype", "hdd"), ("zone", "a")]);
        let cases = [
            ("no requirement", json!({}), &hdd_c, true),
            (
                "an empty nodeSelector",
                json!({"nodeSelector": {}}),
                &hdd_c,
                true,
            ),
            (
                "nodeSelector holds",
                json!({"nodeSelector": {"disktype": "ssd"}}),
                &ssd_a,
                true,
            ),
            (
                "nodeSelector fails",
                json!({"nodeSelector": {"disktype": "ssd"}}),
                &hdd_a,
                false,
            ),
            (
                "affinity holds",
                json!({"affinity": required}),
                &hdd_a,
                true,
            ),
            (
                "affinity fails",
                json!({"affinity": required}),
                &hdd_c,
                false,
            ),
            (
                "both hold",
                json!({"nodeSelector": {"disktype": "ssd"}, "affinity": required}),
                &ssd_a,
                true,
            ),
            (
                "selector fails, affinity holds",
                json!({"nodeSelector": {"disktype": "ssd"}, "affinity": required}),
                &hdd_a,
                false,
            ),
            (
                "required with no terms",
                json!({"affinity": no_terms}),
                &ssd_a,
                false,
            ),
            (
                "affinity without node affinity",
                json!({"affinity": {}}),
                &ssd_a,
                true,
            ),
        ];
        for (name, spec, node_labels, want) in cases {
            let mut spec = spec;
            spec["containers"] = json!([]);
            let pod: Pod = serde_json::from_value(json!({"spec": spec})).expect("pod");
            assert_eq!(
                RequiredNodeAffinity::of(&pod).matches("n", node_labels),
                want,
                "{name}"
            );
        }
        assert!(RequiredNodeAffinity::of(&Pod::default()).matches("n", &hdd_c));
        assert!(RequiredNodeAffinity::of(&Pod::default()).is_empty());
    }

    #[test]
    fn empty_when_nothing_is_required() {
        let cases = [
            (json!({}), true),
            (json!({"nodeSelector": {}}), true),
            (json!({"affinity": {"nodeAffinity": {}}}), true),
            (json!({"nodeSelector": {"zone": "a"}}), false),
            (
                json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": []}}}}),
                false,
            ),
        ];
        for (spec, want) in cases {
            let mut spec = spec;
            spec["containers"] = json!([]);
            let spec: PodSpec = serde_json::from_value(spec.clone()).expect("spec");
            assert_eq!(
                RequiredNodeAffinity::of_spec(&spec).is_empty(),
                want,
                "{spec:?}"
            );
        }
    }

    #[test]
    fn matches_a_node_object_by_name_and_labels() {
        let spec: PodSpec = serde_json::from_value(json!({"containers": [], "nodeSelector": {"zone": "a"},
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}]}}}}))
        .expect("spec");
        let node = |name: &str, zone: Option<&str>| -> Node {
            serde_json::from_value(
                json!({"metadata": {"name": name, "labels": zone.map(|z| json!({"zone": z}))}}),
            )
            .expect("node")
        };
        let required = RequiredNodeAffinity::of_spec(&spec);
        assert!(required.matches_node(&node("n1", Some("a"))));
        assert!(!required.matches_node(&node("n2", Some("a"))));
        assert!(!required.matches_node(&node("n1", None)));
    }

    #[test]
    fn preferred_terms_add_their_weights() {
        let terms: Vec<PreferredSchedulingTerm> = serde_json::from_value(json!([
            {"weight": 1, "preference": {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]}},
            {"weight": 3, "preference": {"matchExpressions": [{"key": "zone", "operator": "Exists"}]}},
            {"weight": 0, "preference": {"matchExpressions": [{"key": "zone", "operator": "Exists"}]}},
            {"weight": 50, "preference": {}}
        ]))
        .expect("terms");
        let cases = [
            ("both match", labels(&[("disk", "ssd"), ("zone", "a")]), 4),
            ("one matches", labels(&[("disk", "ssd")]), 1),
            ("the other matches", labels(&[("zone", "a")]), 3),
            ("none matches", labels(&[]), 0),
        ];
        for (name, node, want) in cases {
            assert_eq!(preferred_score(&terms, "n", &node), want, "{name}");
        }
    }
}
