//! TaintToleration: NoSchedule and NoExecute taints keep out pods that do
//! not tolerate them (filter); untolerated PreferNoSchedule taints make a
//! node less attractive (score, fewer is better).

use crate::framework::{
    CycleState, FilterPlugin, NodeInfo, PodInfo, ScorePlugin, Status, default_normalize,
};
use client::scheduling::taints::{
    PREFER_NO_SCHEDULE, does_not_schedule, find_untolerated_taint, tolerations_tolerate_taint,
};
use k8s_openapi::api::core::v1::Toleration;

pub const NAME: &str = "TaintToleration";

pub struct TaintToleration;

fn tolerations(pod: &PodInfo) -> &[Toleration] {
    pod.pod
        .spec
        .as_ref()
        .and_then(|s| s.tolerations.as_deref())
        .unwrap_or_default()
}

impl FilterPlugin for TaintToleration {
    fn name(&self) -> &'static str {
        NAME
    }
    fn filter(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        match find_untolerated_taint(&node.taints, tolerations(pod), does_not_schedule) {
            Some(t) => Status::unresolvable(format!(
                "node(s) had untolerated taint {{{}: {}}}",
                t.key,
                t.value.as_deref().unwrap_or_default()
            )),
            None => Status::success(),
        }
    }
}

impl ScorePlugin for TaintToleration {
    fn name(&self) -> &'static str {
        NAME
    }
    fn score(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> i64 {
        // Only PreferNoSchedule tolerations (or effect-less ones) count here.
        let tols: Vec<Toleration> = tolerations(pod)
            .iter()
            .filter(|t| {
                matches!(
                    t.effect.as_deref(),
                    None | Some("") | Some("PreferNoSchedule")
                )
            })
            .cloned()
            .collect();
        node.taints
            .iter()
            .filter(|t| t.effect == PREFER_NO_SCHEDULE && !tolerations_tolerate_taint(&tols, t))
            .count() as i64
    }
    fn normalize(&self, _: &CycleState, scores: &mut [i64]) {
        default_normalize(scores, true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Code;
    use crate::plugins::testing::{node, pod};
    use serde_json::json;

    #[test]
    fn hard_taints_filter_with_upstream_message() {
        let master = node(json!({"metadata": {"name": "m"}, "spec": {"taints": [
            {"key": "node-role.kubernetes.io/master", "effect": "NoSchedule"}]}}));
        let gpu = node(json!({"metadata": {"name": "g"}, "spec": {"taints": [
            {"key": "gpu", "value": "true", "effect": "NoExecute"},
            {"key": "soft", "effect": "PreferNoSchedule"}]}}));
        let plain = pod(json!({}));
        let tolerates_gpu = pod(
            json!({"spec": {"tolerations": [{"key": "gpu", "operator": "Equal", "value": "true"}]}}),
        );
        let s = CycleState::new();
        let cases = [
            (
                &master,
                &plain,
                Code::UnschedulableAndUnresolvable,
                "node(s) had untolerated taint {node-role.kubernetes.io/master: }",
            ),
            (
                &gpu,
                &plain,
                Code::UnschedulableAndUnresolvable,
                "node(s) had untolerated taint {gpu: true}",
            ),
            (&gpu, &tolerates_gpu, Code::Success, ""),
        ];
        for (n, p, code, msg) in cases {
            let st = FilterPlugin::filter(&TaintToleration, &s, p, n);
            assert_eq!((st.code, st.message().as_str()), (code, msg), "{}", n.name);
        }
    }

    #[test]
    fn prefer_no_schedule_lowers_the_score() {
        let nodes = [
            node(json!({"metadata": {"name": "a"}})),
            node(
                json!({"metadata": {"name": "b"}, "spec": {"taints": [{"key": "x", "effect": "PreferNoSchedule"}]}}),
            ),
            node(json!({"metadata": {"name": "c"}, "spec": {"taints": [
                {"key": "x", "effect": "PreferNoSchedule"}, {"key": "y", "effect": "PreferNoSchedule"}]}})),
        ];
        let s = CycleState::new();
        let p = pod(json!({}));
        let mut scores: Vec<i64> = nodes
            .iter()
            .map(|n| ScorePlugin::score(&TaintToleration, &s, &p, n))
            .collect();
        assert_eq!(scores, vec![0, 1, 2]);
        ScorePlugin::normalize(&TaintToleration, &s, &mut scores);
        assert_eq!(scores, vec![100, 50, 0]);
        let tolerant = pod(json!({"spec": {"tolerations": [{"key": "x", "operator": "Exists"}]}}));
        assert_eq!(
            ScorePlugin::score(&TaintToleration, &s, &tolerant, &nodes[2]),
            1
        );
    }
}
