//! The plugin framework: the extension points a placement rule implements
//! (pre-filter, filter, pre-score, score, normalise) and the data they see.
//! The scheduling cycle calls these in order and knows no rule itself.

pub mod cluster;
pub mod cycle_state;
pub mod node_info;
pub mod pod_index;
pub mod pod_info;
pub mod selector;
pub mod status;

pub use cluster::ClusterObjects;
pub use cycle_state::CycleState;
pub use node_info::{NodeInfo, Snapshot};
pub use pod_info::PodInfo;
pub use status::{Code, FitError, Status};

use std::sync::Arc;

/// The highest score a plugin gives a node after normalising.
pub const MAX_NODE_SCORE: i64 = 100;

/// A rule that removes nodes where the pod cannot run.
pub trait FilterPlugin: Send + Sync {
    fn name(&self) -> &'static str;
    /// Computes per-pod state once per cycle. `Skip` turns the filter off
    /// for this pod; an unschedulable status rejects every node at once.
    fn pre_filter(&self, _state: &mut CycleState, _pod: &PodInfo, _snapshot: &Snapshot) -> Status {
        Status::success()
    }
    fn filter(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status;
}

/// A rule that ranks the nodes that passed every filter.
pub trait ScorePlugin: Send + Sync {
    fn name(&self) -> &'static str;
    /// Computes per-pod state over the feasible nodes once per cycle.
    fn pre_score(
        &self,
        _state: &mut CycleState,
        _pod: &PodInfo,
        _feasible: &[Arc<NodeInfo>],
        _snapshot: &Snapshot,
    ) {
    }
    fn score(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> i64;
    /// Brings raw scores into 0..=MAX_NODE_SCORE (raw scores already in
    /// range need not override this).
    fn normalize(&self, _state: &CycleState, _scores: &mut [i64]) {}
}

/// Scales scores so the highest becomes MAX_NODE_SCORE (or the lowest,
/// with `reverse`), upstream's `DefaultNormalizeScore`.
pub fn default_normalize(scores: &mut [i64], reverse: bool) {
    let max = scores.iter().copied().max().unwrap_or(0);
    if max == 0 {
        if reverse {
            scores.iter_mut().for_each(|s| *s = MAX_NODE_SCORE);
        }
        return;
    }
    for s in scores.iter_mut() {
        *s = MAX_NODE_SCORE * *s / max;
        if reverse {
            *s = MAX_NODE_SCORE - *s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_normalize_scales_and_reverses() {
        let cases: [(&[i64], bool, &[i64]); 4] = [
            (&[1, 2, 4], false, &[25, 50, 100]),
            (&[1, 2, 4], true, &[75, 50, 0]),
            (&[0, 0], false, &[0, 0]),
            (&[0, 0], true, &[100, 100]),
        ];
        for (input, reverse, want) in cases {
            let mut s = input.to_vec();
            default_normalize(&mut s, reverse);
            assert_eq!(s, want, "{input:?} reverse={reverse}");
        }
    }
}
