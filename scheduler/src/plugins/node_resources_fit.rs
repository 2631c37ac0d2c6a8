//! NodeResourcesFit: the pod's requests must fit in what the node has left
//! (filter); nodes are ranked by how much stays free (LeastAllocated, the
//! default) or how full they get (MostAllocated).

use crate::framework::{
    CycleState, FilterPlugin, MAX_NODE_SCORE, NodeInfo, PodInfo, ScorePlugin, Status,
};
use client::scheduling::Resource;
use std::borrow::Cow;

pub const NAME: &str = "NodeResourcesFit";

/// How nodes are ranked, from `scoringStrategy.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScoringStrategy {
    LeastAllocated,
    MostAllocated,
}

pub struct NodeResourcesFit {
    pub strategy: ScoringStrategy,
    /// (resource name, weight); cpu and memory at 1 by default.
    pub resources: Vec<(String, i64)>,
}

impl Default for NodeResourcesFit {
    fn default() -> Self {
        NodeResourcesFit {
            strategy: ScoringStrategy::LeastAllocated,
            resources: vec![("cpu".into(), 1), ("memory".into(), 1)],
        }
    }
}

/// The reasons a pod does not fit a node's remaining resources, in
/// upstream's words; empty when it fits.
pub fn insufficient_resources(pod: &Resource, node: &NodeInfo) -> Vec<Cow<'static, str>> {
    let mut reasons = Vec::new();
    if node.pods.len() as i64 + 1 > node.allocatable.allowed_pod_number {
        reasons.push(Cow::Borrowed("Too many pods"));
    }
    if pod.is_zero() {
        return reasons;
    }
    let free = |name: &str| node.allocatable.get(name) - node.requested.get(name);
    for (name, want, reason) in [
        ("cpu", pod.milli_cpu, "Insufficient cpu"),
        ("memory", pod.memory, "Insufficient memory"),
        (
            "ephemeral-storage",
            pod.ephemeral_storage,
            "Insufficient ephemeral-storage",
        ),
    ] {
        if want > 0 && want > free(name) {
            reasons.push(Cow::Borrowed(reason));
        }
    }
    for (name, want) in &pod.scalar {
        if *want > 0 && *want > free(name) {
            reasons.push(Cow::Owned(format!("Insufficient {name}")));
        }
    }
    reasons
}

impl FilterPlugin for NodeResourcesFit {
    fn name(&self) -> &'static str {
        NAME
    }
    fn filter(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let reasons = insufficient_resources(&pod.requests, node);
        if reasons.is_empty() {
            Status::success()
        } else {
            Status {
                code: crate::framework::Code::Unschedulable,
                reasons,
            }
        }
    }
}

/// (requested after placing the pod, allocatable) for one resource, with
/// cpu/memory defaults for request-less containers, as scoring counts.
pub fn requested_and_allocatable(name: &str, pod: &PodInfo, node: &NodeInfo) -> (i64, i64) {
    let (pod_req, node_req) = match name {
        "cpu" | "memory" => (
            pod.non_zero_requests.get(name),
            node.non_zero_requested.get(name),
        ),
        _ => (pod.requests.get(name), node.requested.get(name)),
    };
    (pod_req + node_req, node.allocatable.get(name))
}

impl ScorePlugin for NodeResourcesFit {
    fn name(&self) -> &'static str {
        NAME
    }
    fn score(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> i64 {
        let (mut total, mut weights) = (0, 0);
        for (name, weight) in &self.resources {
            let (requested, allocatable) = requested_and_allocatable(name, pod, node);
            if allocatable == 0 {
                continue;
            }
            let s = match self.strategy {
                ScoringStrategy::LeastAllocated if requested > allocatable => 0,
                ScoringStrategy::LeastAllocated => {
                    (allocatable - requested) * MAX_NODE_SCORE / allocatable
                }
                ScoringStrategy::MostAllocated => {
                    requested.min(allocatable) * MAX_NODE_SCORE / allocatable
                }
            };
            total += s * weight;
            weights += weight;
        }
        if weights == 0 { 0 } else { total / weights }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Code;
    use crate::plugins::testing::{node_with, pod, pod_with_requests};
    use serde_json::json;
    use std::sync::Arc;

    #[test]
    fn filter_reports_each_missing_resource() {
        let mut n = node_with("n", "2", "4Gi", json!({}));
        n.add_pod(Arc::new(pod_with_requests("old", "1500m", "1Gi")));
        let cases = [
            (pod_with_requests("a", "500m", "1Gi"), vec![]),
            (
                pod_with_requests("b", "600m", "1Gi"),
                vec!["Insufficient cpu"],
            ),
            (
                pod_with_requests("c", "600m", "4Gi"),
                vec!["Insufficient cpu", "Insufficient memory"],
            ),
            (
                pod(json!({"spec": {"containers": [{"name": "c", "image": "x",
                    "resources": {"requests": {"example.com/gpu": "1"}}}]}})),
                vec!["Insufficient example.com/gpu"],
            ),
        ];
        for (p, want) in cases {
            let st = FilterPlugin::filter(&NodeResourcesFit::default(), &CycleState::new(), &p, &n);
            assert_eq!(st.reasons, want, "{}", p.name);
            assert_eq!(st.code == Code::Success, want.is_empty());
        }
    }

    #[test]
    fn pod_count_limit() {
        let mut n = node_with("n", "2", "4Gi", json!({}));
        n.allocatable.allowed_pod_number = 1;
        assert!(
            FilterPlugin::filter(
                &NodeResourcesFit::default(),
                &CycleState::new(),
                &pod(json!({})),
                &n
            )
            .is_success()
        );
        n.add_pod(Arc::new(pod(json!({"metadata": {"name": "x"}}))));
        let st = FilterPlugin::filter(
            &NodeResourcesFit::default(),
            &CycleState::new(),
            &pod(json!({})),
            &n,
        );
        assert_eq!(st.reasons, vec!["Too many pods"]);
    }

    #[test]
    fn least_and_most_allocated() {
        let mut busy = node_with("busy", "4", "4Gi", json!({}));
        busy.add_pod(Arc::new(pod_with_requests("old", "2", "2Gi")));
        let idle = node_with("idle", "4", "4Gi", json!({}));
        let p = pod_with_requests("p", "1", "1Gi");
        let s = CycleState::new();
        let least = NodeResourcesFit::default();
        // busy: (4-3)/4 = 25 for both; idle: (4-1)/4 = 75.
        assert_eq!(ScorePlugin::score(&least, &s, &p, &busy), 25);
        assert_eq!(ScorePlugin::score(&least, &s, &p, &idle), 75);
        let most = NodeResourcesFit {
            strategy: ScoringStrategy::MostAllocated,
            ..Default::default()
        };
        assert_eq!(ScorePlugin::score(&most, &s, &p, &busy), 75);
        assert_eq!(ScorePlugin::score(&most, &s, &p, &idle), 25);
    }
}
