//! DefaultPreemption: when a pod fits nowhere, find the node where evicting
//! lower-priority pods makes it fit with the least harm (fewest
//! PodDisruptionBudget violations, then the lowest highest-priority victim,
//! then the smallest priority sum, then the fewest victims).

use crate::framework::status::nodes_available_message;
use crate::framework::{Code, FitError, NodeInfo, PodInfo, Snapshot};
use crate::profile::Profile;
use crate::schedule::{run_filters, run_pre_filters};
use apimachinery::labels::Selector;
use std::collections::BTreeMap;
use std::sync::Arc;

pub const NOT_HELPFUL: &str = "Preemption is not helpful for scheduling";
pub const NO_VICTIMS: &str = "No preemption victims found for incoming pod";

/// A PodDisruptionBudget as preemption needs it.
#[derive(Debug, Clone)]
pub struct Pdb {
    pub namespace: String,
    pub selector: Selector,
    pub disruptions_allowed: i64,
}

/// The chosen node and the pods to evict there.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub node: String,
    pub victims: Vec<Arc<PodInfo>>,
    pub pdb_violations: usize,
}

/// Why a pod may not preempt at all, in upstream's words.
pub fn ineligible(pod: &PodInfo, snapshot: &Snapshot) -> Option<String> {
    let spec = pod.pod.spec.as_ref();
    if spec.and_then(|s| s.preemption_policy.as_deref()) == Some("Never") {
        return Some("not eligible due to preemptionPolicy=Never.".into());
    }
    let nominated = pod
        .pod
        .status
        .as_ref()
        .and_then(|s| s.nominated_node_name.as_deref())
        .filter(|n| !n.is_empty())?;
    let node = snapshot.get(nominated)?;
    let terminating = node
        .pods
        .iter()
        .any(|p| p.pod.metadata.deletion_timestamp.is_some() && p.priority < pod.priority);
    terminating.then(|| "not eligible due to a terminating pod on the nominated node.".into())
}

fn violates(victim: &PodInfo, budgets: &mut [Pdb]) -> bool {
    let mut violated = false;
    for b in budgets.iter_mut() {
        if b.namespace == victim.namespace && b.selector.matches(&victim.labels) {
            b.disruptions_allowed -= 1;
            if b.disruptions_allowed < 0 {
                violated = true;
            }
        }
    }
    violated
}

/// Whether `pod` passes the filters on `node` as modified, with the
/// pre-filters recomputed over a snapshot holding that node.
fn fits(profile: &Profile, pod: &PodInfo, snapshot: &Snapshot, node: &NodeInfo) -> bool {
    let mut snap = snapshot.clone();
    snap.replace_node(node.clone());
    match run_pre_filters(profile, pod, &snap) {
        Ok((state, skip)) => run_filters(profile, &state, &skip, pod, node).is_success(),
        Err(_) => false,
    }
}

/// The fewest victims on one node, or None when evicting every
/// lower-priority pod would still not make room.
fn victims_on(
    profile: &Profile,
    pod: &PodInfo,
    snapshot: &Snapshot,
    node: &NodeInfo,
    pdbs: &[Pdb],
) -> Option<Candidate> {
    let mut trial = node.clone();
    let mut lower: Vec<Arc<PodInfo>> = node
        .pods
        .iter()
        .filter(|p| p.priority < pod.priority)
        .cloned()
        .collect();
    if lower.is_empty() {
        return None;
    }
    for p in &lower {
        trial.remove_pod(&p.key());
    }
    if !fits(profile, pod, snapshot, &trial) {
        return None;
    }
    // Try to keep as many as possible, highest priority first; pods whose
    // eviction would break a budget get the first chance to stay.
    lower.sort_by_key(|p| std::cmp::Reverse(p.priority));
    let mut budgets = pdbs.to_vec();
    let (violating, fine): (Vec<_>, Vec<_>) = lower
        .into_iter()
        .partition(|p| violates(p, &mut budgets.clone()));
    let mut victims = Vec::new();
    let mut pdb_violations = 0;
    for (list, breaks) in [(violating, true), (fine, false)] {
        for p in list {
            trial.add_pod(p.clone());
            if !fits(profile, pod, snapshot, &trial) {
                trial.remove_pod(&p.key());
                if breaks && violates(&p, &mut budgets) {
                    pdb_violations += 1;
                }
                victims.push(p);
            }
        }
    }
    Some(Candidate {
        node: node.name.clone(),
        victims,
        pdb_violations,
    })
}

/// Picks the candidate that harms least, or says why there is none (the
/// "preemption: ..." part of the FailedScheduling message).
pub fn find_candidate(
    profile: &Profile,
    pod: &PodInfo,
    snapshot: &Snapshot,
    fit: &FitError,
    pdbs: &[Pdb],
) -> Result<Candidate, String> {
    if let Some(why) = ineligible(pod, snapshot) {
        return Err(format!("preemption: {why}"));
    }
    let mut histogram: BTreeMap<String, usize> = BTreeMap::new();
    let mut candidates = Vec::new();
    for node in &snapshot.nodes {
        let status = fit.node_statuses.get(&node.name);
        if status.is_some_and(|s| s.code == Code::UnschedulableAndUnresolvable) {
            *histogram.entry(NOT_HELPFUL.into()).or_default() += 1;
            continue;
        }
        match victims_on(profile, pod, snapshot, node, pdbs) {
            Some(c) => candidates.push(c),
            None => *histogram.entry(NO_VICTIMS.into()).or_default() += 1,
        }
    }
    let best = candidates.into_iter().min_by_key(|c| {
        let highest = c
            .victims
            .iter()
            .map(|v| v.priority)
            .max()
            .unwrap_or(i32::MIN);
        let sum: i64 = c.victims.iter().map(|v| i64::from(v.priority)).sum();
        (c.pdb_violations, highest, sum, c.victims.len())
    });
    best.ok_or_else(|| {
        format!(
            "preemption: {}",
            nodes_available_message(snapshot.nodes.len(), &histogram).trim_end_matches('.')
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{default_profile, node_with, pod, snapshot};
    use crate::schedule::Algorithm;
    use serde_json::json;

    fn prio(name: &str, cpu: &str, priority: i32, labels: serde_json::Value) -> PodInfo {
        pod(
            json!({"metadata": {"name": name, "labels": labels}, "spec": {"priority": priority, "containers": [
            {"name": "c", "image": "x", "resources": {"requests": {"cpu": cpu}}}]}}),
        )
    }

    fn full_node(name: &str, pods: &[(&str, &str, i32)]) -> NodeInfo {
        let mut n = node_with(name, "2", "8Gi", json!({"kubernetes.io/hostname": name}));
        for (p, cpu, pr) in pods {
            n.add_pod(Arc::new(prio(p, cpu, *pr, json!({"app": *p}))));
        }
        n
    }

    fn preempt(snap: &Snapshot, p: &PodInfo, pdbs: &[Pdb]) -> Result<Candidate, String> {
        let fit = Algorithm::default()
            .schedule(&default_profile(), p, snap)
            .unwrap_err();
        find_candidate(&default_profile(), p, snap, &fit, pdbs)
    }

    #[test]
    fn evicts_the_fewest_lowest_priority_pods() {
        let snap = snapshot(vec![
            full_node("a", &[("a1", "1", 10), ("a2", "1", 10)]),
            full_node("b", &[("b1", "1", 1), ("b2", "1", 500)]),
        ]);
        let c = preempt(&snap, &prio("hi", "1", 100, json!({})), &[]).unwrap();
        assert_eq!(c.node, "b");
        assert_eq!(
            c.victims
                .iter()
                .map(|v| v.name.as_str())
                .collect::<Vec<_>>(),
            vec!["b1"]
        );
    }

    #[test]
    fn budgets_steer_the_choice() {
        let snap = snapshot(vec![
            full_node("a", &[("a1", "2", 1)]),
            full_node("b", &[("b1", "2", 1)]),
        ]);
        let pdb = Pdb {
            namespace: "default".into(),
            selector: Selector::parse("app=a1").unwrap(),
            disruptions_allowed: 0,
        };
        let c = preempt(&snap, &prio("hi", "1", 100, json!({})), &[pdb]).unwrap();
        assert_eq!((c.node.as_str(), c.pdb_violations), ("b", 0));
    }

    #[test]
    fn explains_when_no_victims_help() {
        let snap = snapshot(vec![full_node("a", &[("a1", "2", 1000)])]);
        let err = preempt(&snap, &prio("hi", "1", 100, json!({})), &[]).unwrap_err();
        assert_eq!(
            err,
            "preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod"
        );
        let never = pod(
            json!({"metadata": {"name": "n"}, "spec": {"priority": 2000, "preemptionPolicy": "Never",
            "containers": [{"name": "c", "image": "x", "resources": {"requests": {"cpu": "1"}}}]}}),
        );
        assert_eq!(
            preempt(&snap, &never, &[]).unwrap_err(),
            "preemption: not eligible due to preemptionPolicy=Never."
        );
    }
}
