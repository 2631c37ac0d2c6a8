//! One scheduling attempt for one pod against a snapshot: pre-filter,
//! filter enough nodes, pre-score, score, normalise, weigh, pick the best
//! (ties at random). Knows the extension points, not the rules.

use crate::framework::{Code, CycleState, FitError, NodeInfo, PodInfo, Snapshot, Status};
use crate::profile::Profile;
use rand::Rng;
use std::sync::Arc;

/// Upstream's floor on how many feasible nodes to look for.
const MIN_FEASIBLE_NODES_TO_FIND: usize = 100;
const MIN_FEASIBLE_PERCENTAGE: usize = 5;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleResult {
    pub node: String,
    pub evaluated_nodes: usize,
    pub feasible_nodes: usize,
}

/// The state kept between attempts: where the next node search starts,
/// so that successive pods look at different nodes first.
#[derive(Default)]
pub struct Algorithm {
    next_start: usize,
}

/// How many feasible nodes to find before scoring, given the cluster size.
pub fn num_feasible_nodes_to_find(percentage: u32, num_all: usize) -> usize {
    if num_all < MIN_FEASIBLE_NODES_TO_FIND {
        return num_all;
    }
    let pct = if percentage == 0 {
        (50usize.saturating_sub(num_all / 125)).max(MIN_FEASIBLE_PERCENTAGE)
    } else {
        percentage as usize
    };
    if pct >= 100 {
        return num_all;
    }
    (num_all * pct / 100).max(MIN_FEASIBLE_NODES_TO_FIND)
}

/// Runs every pre-filter; returns the cycle state and, per filter (in
/// profile order), whether it asked to be skipped; or the status that
/// rejects all nodes.
pub fn run_pre_filters(
    profile: &Profile,
    pod: &PodInfo,
    snapshot: &Snapshot,
) -> Result<(CycleState, Vec<bool>), Status> {
    let mut state = CycleState::new();
    let mut skip = vec![false; profile.filters.len()];
    for (i, f) in profile.filters.iter().enumerate() {
        let s = f.pre_filter(&mut state, pod, snapshot);
        match s.code {
            Code::Success => {}
            Code::Skip => skip[i] = true,
            _ => return Err(s),
        }
    }
    Ok((state, skip))
}

/// Runs the filters on one node; the first failure decides.
pub fn run_filters(
    profile: &Profile,
    state: &CycleState,
    skip: &[bool],
    pod: &PodInfo,
    node: &NodeInfo,
) -> Status {
    for (f, skipped) in profile.filters.iter().zip(skip) {
        if *skipped {
            continue;
        }
        let s = f.filter(state, pod, node);
        if !s.is_success() {
            return s;
        }
    }
    Status::success()
}

impl Algorithm {
    pub fn schedule(
        &mut self,
        profile: &Profile,
        pod: &PodInfo,
        snapshot: &Snapshot,
    ) -> Result<ScheduleResult, FitError> {
        let n = snapshot.nodes.len();
        let mut fit_error = FitError {
            num_all_nodes: n,
            ..Default::default()
        };
        if n == 0 {
            return Err(fit_error);
        }
        let (mut state, skip) = match run_pre_filters(profile, pod, snapshot) {
            Ok(v) => v,
            Err(s) => {
                fit_error.pre_filter_msg = Some(s.message());
                for node in &snapshot.nodes {
                    fit_error.node_statuses.insert(node.name.clone(), s.clone());
                }
                return Err(fit_error);
            }
        };
        let want = num_feasible_nodes_to_find(profile.percentage_of_nodes_to_score, n);
        let mut feasible: Vec<Arc<NodeInfo>> = Vec::with_capacity(want.min(n));
        let start = self.next_start % n;
        let mut evaluated = 0;
        // Kept cheaply and turned into the fit error only when nothing fits.
        let mut failures: Vec<(&Arc<NodeInfo>, Status)> = Vec::new();
        for i in 0..n {
            let node = &snapshot.nodes[(start + i) % n];
            evaluated += 1;
            let s = run_filters(profile, &state, &skip, pod, node);
            if s.is_success() {
                feasible.push(node.clone());
                if feasible.len() >= want {
                    break;
                }
            } else {
                failures.push((node, s));
            }
        }
        self.next_start = (start + evaluated) % n;
        if feasible.is_empty() {
            fit_error.node_statuses = failures
                .into_iter()
                .map(|(node, s)| (node.name.clone(), s))
                .collect();
            return Err(fit_error);
        }
        let feasible_nodes = feasible.len();
        if feasible.len() == 1 {
            return Ok(ScheduleResult {
                node: feasible[0].name.clone(),
                evaluated_nodes: evaluated,
                feasible_nodes,
            });
        }
        let totals = score_nodes(profile, &mut state, pod, &feasible, snapshot);
        Ok(ScheduleResult {
            node: select_host(&feasible, &totals),
            evaluated_nodes: evaluated,
            feasible_nodes,
        })
    }
}

/// The weighted sum of every score plugin's normalised score per node.
pub fn score_nodes(
    profile: &Profile,
    state: &mut CycleState,
    pod: &PodInfo,
    feasible: &[Arc<NodeInfo>],
    snapshot: &Snapshot,
) -> Vec<i64> {
    for (p, _) in &profile.scores {
        p.pre_score(state, pod, feasible, snapshot);
    }
    let mut totals = vec![0i64; feasible.len()];
    let mut scores = vec![0i64; feasible.len()];
    for (p, weight) in &profile.scores {
        for (i, node) in feasible.iter().enumerate() {
            scores[i] = p.score(state, pod, node);
        }
        p.normalize(state, &mut scores);
        for (t, s) in totals.iter_mut().zip(&scores) {
            *t += s * weight;
        }
    }
    totals
}

/// The highest total; among equals, each has the same chance.
fn select_host(nodes: &[Arc<NodeInfo>], totals: &[i64]) -> String {
    let mut rng = rand::thread_rng();
    let mut best = 0;
    let mut ties = 1;
    for i in 1..totals.len() {
        if totals[i] > totals[best] {
            best = i;
            ties = 1;
        } else if totals[i] == totals[best] {
            ties += 1;
            if rng.gen_range(0..ties) == 0 {
                best = i;
            }
        }
    }
    nodes[best].name.clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{
        default_profile, node, node_with, pod, pod_with_requests, snapshot,
    };
    use serde_json::json;

    #[test]
    fn feasible_node_counts_follow_upstream() {
        let cases = [
            (0, 50, 50),
            (0, 1000, 420),
            (0, 5000, 500),
            (0, 6000, 300),
            (0, 200, 100),
            (30, 1000, 300),
            (100, 1000, 1000),
        ];
        for (pct, all, want) in cases {
            assert_eq!(
                num_feasible_nodes_to_find(pct, all),
                want,
                "{pct}% of {all}"
            );
        }
    }

    #[test]
    fn picks_the_roomier_node_and_reports_fit_errors() {
        let mut busy = node_with("busy", "4", "8Gi", json!({}));
        busy.add_pod(Arc::new(pod_with_requests("old", "3", "6Gi")));
        let idle = node_with("idle", "4", "8Gi", json!({}));
        let tainted = node(json!({"metadata": {"name": "master"}, "spec": {"taints": [
            {"key": "node-role.kubernetes.io/master", "effect": "NoSchedule"}]},
            "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}}}));
        let snap = snapshot(vec![busy, idle, tainted]);
        let p = profile_test_pod("500m");
        let mut algo = Algorithm::default();
        for _ in 0..5 {
            assert_eq!(
                algo.schedule(&default_profile(), &p, &snap).unwrap().node,
                "idle"
            );
        }
        let big = profile_test_pod("5");
        let err = algo.schedule(&default_profile(), &big, &snap).unwrap_err();
        assert_eq!(
            err.message(),
            "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/master: }, 2 Insufficient cpu."
        );
        let empty = algo
            .schedule(&default_profile(), &p, &snapshot(vec![]))
            .unwrap_err();
        assert_eq!(empty.message(), "no nodes available to schedule pods");
    }

    fn profile_test_pod(cpu: &str) -> PodInfo {
        pod(json!({"metadata": {"name": "p"}, "spec": {"containers": [
            {"name": "c", "image": "x", "resources": {"requests": {"cpu": cpu}}}]}}))
    }

    #[test]
    fn ties_are_broken_at_random() {
        let snap = snapshot(
            (0..4)
                .map(|i| node_with(&format!("n{i}"), "4", "8Gi", json!({})))
                .collect(),
        );
        let mut seen = std::collections::BTreeSet::new();
        let mut algo = Algorithm::default();
        for _ in 0..200 {
            seen.insert(
                algo.schedule(&default_profile(), &profile_test_pod("1"), &snap)
                    .unwrap()
                    .node,
            );
        }
        assert_eq!(seen.len(), 4, "{seen:?}");
    }
}

#[cfg(test)]
mod timing {
    use super::*;
    use crate::plugins::testing::{default_profile, node_with, pod, pod_with_requests};
    use serde_json::json;

    /// Prints the cost of one attempt at 5,000 nodes (run with
    /// `cargo test --release -p scheduler timing -- --ignored --nocapture`).
    #[test]
    #[ignore]
    fn attempt_cost_at_5000_nodes() {
        let nodes: Vec<NodeInfo> = (0..5000)
            .map(|i| {
                let mut n = node_with(&format!("node-{i}"), "4", "32Gi", json!({"kubernetes.io/hostname": format!("node-{i}"), "topology.kubernetes.io/zone": format!("zone-{}", i % 10)}));
                n.add_pod(Arc::new(pod_with_requests(&format!("p{i}"), "100m", "500Mi")));
                // As in the benchmark: about 13,000 pods, some with
                // anti-affinity and some spread, in their own namespaces.
                n.add_pod(Arc::new(pod(json!({"metadata": {"name": format!("q{i}"), "namespace": "bench-0", "labels": {"group": "plain"}}}))));
                if i % 5 == 0 {
                    n.add_pod(Arc::new(pod(json!({"metadata": {"name": format!("a{i}"), "namespace": "bench-2", "labels": {"group": "anti"}},
                        "spec": {"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                            {"labelSelector": {"matchLabels": {"group": "anti"}}, "topologyKey": "kubernetes.io/hostname"}]}}}}))));
                } else if i % 5 == 1 {
                    n.add_pod(Arc::new(pod(json!({"metadata": {"name": format!("s{i}"), "namespace": "bench-3", "labels": {"group": "spread"}}}))));
                }
                n
            })
            .collect();
        let snap = crate::plugins::testing::snapshot(nodes);
        let profile = default_profile();
        let cases = [
            (
                "basic",
                pod(
                    json!({"spec": {"containers": [{"name": "c", "image": "x", "resources": {"requests": {"cpu": "100m"}}}]}}),
                ),
            ),
            (
                "node affinity",
                pod(
                    json!({"spec": {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [{"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["zone-1", "zone-2"]}]}]}}}}}),
                ),
            ),
            (
                "spread",
                pod(
                    json!({"metadata": {"labels": {"g": "s"}}, "spec": {"topologySpreadConstraints": [{"maxSkew": 1,
                "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": {"g": "s"}}}]}}),
                ),
            ),
            (
                "anti-affinity",
                pod(
                    json!({"metadata": {"namespace": "bench-2", "labels": {"group": "anti"}}, "spec": {"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                {"labelSelector": {"matchLabels": {"group": "anti"}}, "topologyKey": "kubernetes.io/hostname"}]}}}}),
                ),
            ),
            (
                "spread (bench)",
                pod(
                    json!({"metadata": {"namespace": "bench-3", "labels": {"group": "spread"}}, "spec": {"topologySpreadConstraints": [{"maxSkew": 1,
                "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": {"group": "spread"}}}]}}),
                ),
            ),
        ];
        for (name, p) in cases {
            let mut algo = Algorithm::default();
            let t = std::time::Instant::now();
            for _ in 0..100 {
                algo.schedule(&profile, &p, &snap).unwrap();
            }
            println!(
                "{name}: {:.3} ms per attempt",
                t.elapsed().as_secs_f64() * 10.0
            );
        }
    }
}
