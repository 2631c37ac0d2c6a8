//! NodeAffinity: `nodeSelector` and required node affinity as a filter;
//! the weights of matching preferred terms as a score.

use crate::framework::{
    CycleState, FilterPlugin, NodeInfo, PodInfo, ScorePlugin, Status, default_normalize,
};
use client::scheduling::{RequiredNodeAffinity, preferred_score};

pub const NAME: &str = "NodeAffinity";
pub const REASON: &str = "node(s) didn't match Pod's node affinity/selector";

pub struct NodeAffinity;

impl FilterPlugin for NodeAffinity {
    fn name(&self) -> &'static str {
        NAME
    }
    fn filter(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        if RequiredNodeAffinity::of(&pod.pod).matches(&node.name, &node.labels) {
            Status::success()
        } else {
            Status::unresolvable(REASON)
        }
    }
}

impl ScorePlugin for NodeAffinity {
    fn name(&self) -> &'static str {
        NAME
    }
    fn score(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> i64 {
        let preferred = pod
            .pod
            .spec
            .as_ref()
            .and_then(|s| s.affinity.as_ref())
            .and_then(|a| a.node_affinity.as_ref())
            .and_then(|n| {
                n.preferred_during_scheduling_ignored_during_execution
                    .as_deref()
            })
            .unwrap_or_default();
        preferred_score(preferred, &node.name, &node.labels)
    }
    fn normalize(&self, _: &CycleState, scores: &mut [i64]) {
        default_normalize(scores, false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Code;
    use crate::plugins::testing::{node, pod};
    use serde_json::json;

    #[test]
    fn selector_and_required_terms_filter() {
        let ssd = node(
            json!({"metadata": {"name": "worker0", "labels": {"disktype": "ssd", "kubernetes.io/e2e-az-name": "e2e-az1"}}}),
        );
        let hdd = node(json!({"metadata": {"name": "worker1", "labels": {"disktype": "hdd"}}}));
        let required = json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [
                {"key": "kubernetes.io/e2e-az-name", "operator": "In", "values": ["e2e-az1", "e2e-az2"]}]}]}}}});
        let both = json!({"nodeSelector": {"disktype": "hdd"}, "affinity": required["affinity"]});
        let cases = [
            (
                json!({"nodeSelector": {"disktype": "ssd"}}),
                &ssd,
                Code::Success,
            ),
            (
                json!({"nodeSelector": {"disktype": "ssd"}}),
                &hdd,
                Code::UnschedulableAndUnresolvable,
            ),
            (required.clone(), &ssd, Code::Success),
            (required, &hdd, Code::UnschedulableAndUnresolvable),
            (both.clone(), &ssd, Code::UnschedulableAndUnresolvable),
            (both, &hdd, Code::UnschedulableAndUnresolvable),
        ];
        for (spec, n, want) in cases {
            let p = pod(json!({"spec": spec}));
            assert_eq!(
                FilterPlugin::filter(&NodeAffinity, &CycleState::new(), &p, n).code,
                want,
                "{spec} on {}",
                n.name
            );
        }
    }

    #[test]
    fn preferred_terms_score_by_weight() {
        let p = pod(
            json!({"spec": {"affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 1, "preference": {"matchExpressions": [{"key": "another-node-label-key", "operator": "In", "values": ["another-node-label-value"]}]}},
                {"weight": 3, "preference": {"matchExpressions": [{"key": "zone", "operator": "Exists"}]}}
            ]}}}}),
        );
        let nodes = [
            node(
                json!({"metadata": {"name": "a", "labels": {"another-node-label-key": "another-node-label-value"}}}),
            ),
            node(
                json!({"metadata": {"name": "b", "labels": {"zone": "z", "another-node-label-key": "another-node-label-value"}}}),
            ),
            node(json!({"metadata": {"name": "c"}})),
        ];
        let s = CycleState::new();
        let mut scores: Vec<i64> = nodes
            .iter()
            .map(|n| ScorePlugin::score(&NodeAffinity, &s, &p, n))
            .collect();
        assert_eq!(scores, vec![1, 4, 0]);
        ScorePlugin::normalize(&NodeAffinity, &s, &mut scores);
        assert_eq!(scores, vec![25, 100, 0]);
    }
}
