//! NodeResourcesBalancedAllocation: prefers nodes whose cpu and memory
//! would be used in similar fractions after placing the pod (one standard
//! deviation from perfectly balanced costs the whole score).

use super::node_resources_fit::requested_and_allocatable;
use crate::framework::{CycleState, MAX_NODE_SCORE, NodeInfo, PodInfo, ScorePlugin};

pub const NAME: &str = "NodeResourcesBalancedAllocation";

pub struct BalancedAllocation {
    pub resources: Vec<String>,
}

impl Default for BalancedAllocation {
    fn default() -> Self {
        BalancedAllocation {
            resources: vec!["cpu".into(), "memory".into()],
        }
    }
}

impl ScorePlugin for BalancedAllocation {
    fn name(&self) -> &'static str {
        NAME
    }
    fn score(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> i64 {
        let fractions: Vec<f64> = self
            .resources
            .iter()
            .filter_map(|name| {
                let (requested, allocatable) = requested_and_allocatable(name, pod, node);
                (allocatable > 0).then(|| (requested as f64 / allocatable as f64).min(1.0))
            })
            .collect();
        if fractions.is_empty() {
            return 0;
        }
        let mean = fractions.iter().sum::<f64>() / fractions.len() as f64;
        let variance =
            fractions.iter().map(|f| (f - mean).powi(2)).sum::<f64>() / fractions.len() as f64;
        ((1.0 - variance.sqrt()) * MAX_NODE_SCORE as f64) as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{node_with, pod_with_requests};
    use serde_json::json;

    #[test]
    fn balanced_nodes_score_higher() {
        let p = pod_with_requests("p", "1", "1Gi");
        let cases = [
            // 1/4 cpu, 1/4 memory: perfectly balanced.
            (node_with("even", "4", "4Gi", json!({})), 100),
            // 1/2 cpu, 1/8 memory: std dev 0.1875.
            (node_with("skewed", "2", "8Gi", json!({})), 81),
        ];
        for (n, want) in cases {
            assert_eq!(
                BalancedAllocation::default().score(&CycleState::new(), &p, &n),
                want,
                "{}",
                n.name
            );
        }
    }
}
