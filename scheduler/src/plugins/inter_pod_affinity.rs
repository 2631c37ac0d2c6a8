//! InterPodAffinity: required pod affinity and anti-affinity by
//! `topologyKey` (the incoming pod's terms, and existing pods' anti-affinity
//! against it) as a filter; preferred terms of both sides as a score.

use crate::framework::cluster::Labels;
use crate::framework::pod_info::AffinityTerm;
use crate::framework::{
    ClusterObjects, Code, CycleState, FilterPlugin, MAX_NODE_SCORE, NodeInfo, PodInfo, ScorePlugin,
    Snapshot, Status,
};
use std::collections::HashMap;
use std::sync::Arc;

pub const NAME: &str = "InterPodAffinity";
pub const REASON_EXISTING_ANTI: &str = "node(s) didn't satisfy existing pods anti-affinity rules";
pub const REASON_AFFINITY: &str = "node(s) didn't match pod affinity rules";
pub const REASON_ANTI: &str = "node(s) didn't match pod anti-affinity rules";
const FILTER_KEY: &str = "InterPodAffinity/filter";
const SCORE_KEY: &str = "InterPodAffinity/score";

pub struct InterPodAffinity {
    /// Weight of an existing pod's *required* affinity term that matches
    /// the incoming pod, when scoring (upstream's hardPodAffinityWeight).
    pub hard_pod_affinity_weight: i64,
}

impl Default for InterPodAffinity {
    fn default() -> Self {
        InterPodAffinity {
            hard_pod_affinity_weight: 1,
        }
    }
}

/// Matching pods per topology domain: topology key → value → count.
/// Nested so that a node's domain is looked up with borrowed strings.
type DomainCounts = HashMap<String, HashMap<String, i64>>;

fn add(counts: &mut DomainCounts, node_labels: &Labels, key: &str, n: i64) {
    let Some(value) = node_labels.get(key) else {
        return;
    };
    let values = match counts.get_mut(key) {
        Some(v) => v,
        None => counts.entry(key.to_string()).or_default(),
    };
    match values.get_mut(value) {
        Some(c) => *c += n,
        None => {
            values.insert(value.clone(), n);
        }
    }
}

fn count_at(counts: &DomainCounts, node: &NodeInfo, key: &str) -> i64 {
    node.labels
        .get(key)
        .and_then(|v| counts.get(key).and_then(|m| m.get(v)))
        .copied()
        .unwrap_or(0)
}

/// The pre-filter's per-topology counts (upstream's PreFilter state), so
/// that the filter answers each node with a few map look-ups.
#[derive(Default)]
struct FilterState {
    /// Domains where an existing pod's required anti-affinity forbids us.
    existing_anti: DomainCounts,
    /// Per domain: existing pods that match all our affinity terms.
    affinity: DomainCounts,
    /// Per domain: existing pods that match one of our anti-affinity terms.
    anti: DomainCounts,
    /// No pod matches our affinity terms but we match them ourselves: the
    /// first pod of a group may go anywhere with the topology keys.
    first_of_group: bool,
}

fn matches_all(terms: &[AffinityTerm], pod: &PodInfo, objects: &ClusterObjects) -> bool {
    terms.iter().all(|t| t.matches(pod, objects))
}

impl FilterPlugin for InterPodAffinity {
    fn name(&self) -> &'static str {
        NAME
    }
    fn pre_filter(&self, state: &mut CycleState, pod: &PodInfo, snapshot: &Snapshot) -> Status {
        let objects = &snapshot.objects;
        let index = &snapshot.pods;
        let mut st = FilterState::default();
        // Existing pods' required anti-affinity against us.
        for (node, existing) in index.with_affinity() {
            let Some(labels) = index.node_labels(node) else {
                continue;
            };
            for t in &existing.required_anti_affinity {
                if t.matches(pod, objects) {
                    add(&mut st.existing_anti, labels, &t.topology_key, 1);
                }
            }
        }
        let own_terms = !pod.required_affinity.is_empty() || !pod.required_anti_affinity.is_empty();
        if own_terms {
            // Our terms, matched once per group of identically labelled
            // pods, counted on the nodes the group's members run on.
            for group in index.groups() {
                let (ns, group_labels) = (&group.namespace, &group.labels);
                let affinity = !pod.required_affinity.is_empty()
                    && pod
                        .required_affinity
                        .iter()
                        .all(|t| t.matches_labels(ns, group_labels, objects));
                let anti: Vec<&AffinityTerm> = pod
                    .required_anti_affinity
                    .iter()
                    .filter(|t| t.matches_labels(ns, group_labels, objects))
                    .collect();
                if !affinity && anti.is_empty() {
                    continue;
                }
                for (node, count) in &group.nodes {
                    let Some(labels) = index.node_labels(node) else {
                        continue;
                    };
                    let n = i64::from(count.all);
                    if affinity {
                        for t in &pod.required_affinity {
                            add(&mut st.affinity, labels, &t.topology_key, n);
                        }
                    }
                    for t in &anti {
                        add(&mut st.anti, labels, &t.topology_key, n);
                    }
                }
            }
        }
        if st.existing_anti.is_empty() && !own_terms {
            return Status::skip();
        }
        st.first_of_group = st.affinity.is_empty()
            && !pod.required_affinity.is_empty()
            && matches_all(&pod.required_affinity, pod, objects);
        state.write(FILTER_KEY, st);
        Status::success()
    }

    fn filter(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let Some(st) = state.read::<FilterState>(FILTER_KEY) else {
            return Status::success();
        };
        if st
            .existing_anti
            .keys()
            .any(|key| count_at(&st.existing_anti, node, key) > 0)
        {
            return Status::unschedulable(REASON_EXISTING_ANTI);
        }
        if !pod.required_affinity.is_empty() {
            let has_keys = pod
                .required_affinity
                .iter()
                .all(|t| node.labels.contains_key(&t.topology_key));
            let satisfied = has_keys
                && pod
                    .required_affinity
                    .iter()
                    .all(|t| count_at(&st.affinity, node, &t.topology_key) > 0);
            if !(satisfied || st.first_of_group && has_keys) {
                return Status {
                    code: Code::UnschedulableAndUnresolvable,
                    reasons: vec![REASON_AFFINITY.into()],
                };
            }
        }
        if pod
            .required_anti_affinity
            .iter()
            .any(|t| count_at(&st.anti, node, &t.topology_key) > 0)
        {
            return Status::unschedulable(REASON_ANTI);
        }
        Status::success()
    }
}

impl ScorePlugin for InterPodAffinity {
    fn name(&self) -> &'static str {
        NAME
    }
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        _: &[Arc<NodeInfo>],
        snapshot: &Snapshot,
    ) {
        let objects = &snapshot.objects;
        let index = &snapshot.pods;
        let mut scores = DomainCounts::new();
        // Our preferred terms, per group of identically labelled pods.
        if !pod.preferred_affinity.is_empty() || !pod.preferred_anti_affinity.is_empty() {
            for group in index.groups() {
                let (ns, group_labels) = (&group.namespace, &group.labels);
                let weighted: Vec<(&AffinityTerm, i64)> = pod
                    .preferred_affinity
                    .iter()
                    .map(|t| (t, t.weight))
                    .chain(pod.preferred_anti_affinity.iter().map(|t| (t, -t.weight)))
                    .filter(|(t, _)| t.matches_labels(ns, group_labels, objects))
                    .collect();
                if weighted.is_empty() {
                    continue;
                }
                for (node, count) in &group.nodes {
                    let Some(labels) = index.node_labels(node) else {
                        continue;
                    };
                    for (t, w) in &weighted {
                        add(
                            &mut scores,
                            labels,
                            &t.topology_key,
                            w * i64::from(count.all),
                        );
                    }
                }
            }
        }
        // Existing pods' terms that select us.
        for (node, existing) in index.with_affinity() {
            let Some(labels) = index.node_labels(node) else {
                continue;
            };
            for t in &existing.required_affinity {
                if self.hard_pod_affinity_weight > 0 && t.matches(pod, objects) {
                    add(
                        &mut scores,
                        labels,
                        &t.topology_key,
                        self.hard_pod_affinity_weight,
                    );
                }
            }
            for t in &existing.preferred_affinity {
                if t.matches(pod, objects) {
                    add(&mut scores, labels, &t.topology_key, t.weight);
                }
            }
            for t in &existing.preferred_anti_affinity {
                if t.matches(pod, objects) {
                    add(&mut scores, labels, &t.topology_key, -t.weight);
                }
            }
        }
        state.write(SCORE_KEY, scores);
    }

    fn score(&self, state: &CycleState, _: &PodInfo, node: &NodeInfo) -> i64 {
        let Some(scores) = state.read::<DomainCounts>(SCORE_KEY) else {
            return 0;
        };
        scores.keys().map(|k| count_at(scores, node, k)).sum()
    }

    fn normalize(&self, _: &CycleState, scores: &mut [i64]) {
        let (Some(min), Some(max)) = (scores.iter().min().copied(), scores.iter().max().copied())
        else {
            return;
        };
        let diff = max - min;
        for s in scores.iter_mut() {
            *s = if diff == 0 {
                0
            } else {
                MAX_NODE_SCORE * (*s - min) / diff
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{node, pod, snapshot};
    use serde_json::{Value, json};

    fn node_in(name: &str, zone: &str) -> NodeInfo {
        node(
            json!({"metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, "zone": zone}}}),
        )
    }

    fn labelled(name: &str, labels: Value, affinity: Value) -> Arc<PodInfo> {
        Arc::new(pod(
            json!({"metadata": {"name": name, "labels": labels}, "spec": {"affinity": affinity}}),
        ))
    }

    fn term(key: &str, value: &str, topology: &str) -> Value {
        json!({"labelSelector": {"matchExpressions": [{"key": key, "operator": "In", "values": [value]}]}, "topologyKey": topology})
    }

    fn run(snap: &Snapshot, p: &PodInfo) -> Vec<(String, Code)> {
        let mut state = CycleState::new();
        let pre = FilterPlugin::pre_filter(&InterPodAffinity::default(), &mut state, p, snap);
        snap.nodes
            .iter()
            .map(|n| {
                let code = if pre.code == Code::Skip {
                    Code::Success
                } else {
                    FilterPlugin::filter(&InterPodAffinity::default(), &state, p, n).code
                };
                (n.name.clone(), code)
            })
            .collect()
    }

    #[test]
    fn required_affinity_by_zone_and_anti_affinity_by_host() {
        let mut n1 = node_in("n1", "z1");
        let n2 = node_in("n2", "z1");
        let mut n3 = node_in("n3", "z2");
        n1.add_pod(labelled("s1", json!({"security": "S1"}), json!({})));
        n3.add_pod(labelled("s2", json!({"security": "S2"}), json!({})));
        let snap = snapshot(vec![n1, n2, n3]);
        let seed = pod(
            json!({"metadata": {"name": "with-pod-affinity"}, "spec": {"affinity": {
                "podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term("security", "S1", "zone")]},
                "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term("security", "S1", "kubernetes.io/hostname")]}
            }}}),
        );
        assert_eq!(
            run(&snap, &seed),
            vec![
                ("n1".to_string(), Code::Unschedulable),
                ("n2".to_string(), Code::Success),
                ("n3".to_string(), Code::UnschedulableAndUnresolvable),
            ]
        );
    }

    #[test]
    fn existing_anti_affinity_and_first_of_group() {
        let mut n1 = node_in("n1", "z1");
        let n2 = node_in("n2", "z2");
        n1.add_pod(labelled(
            "lonely",
            json!({}),
            json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term("app", "web", "zone")]}}),
        ));
        let snap = snapshot(vec![n1, n2]);
        let web = pod(json!({"metadata": {"name": "web", "labels": {"app": "web"}}}));
        assert_eq!(run(&snap, &web)[0].1, Code::Unschedulable);
        assert_eq!(run(&snap, &web)[1].1, Code::Success);
        // A pod whose affinity selects itself may start a group anywhere.
        let first = pod(
            json!({"metadata": {"name": "f", "labels": {"app": "db"}}, "spec": {"affinity": {
            "podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term("app", "db", "zone")]}}}}),
        );
        assert!(
            run(&snap, &first)
                .iter()
                .all(|(_, c)| *c != Code::UnschedulableAndUnresolvable)
        );
    }

    /// A namespaceSelector picks the namespaces by their labels; without
    /// one only the pod's own namespace counts.
    #[test]
    fn namespace_selector_finds_pods_in_labelled_namespaces() {
        let mut n1 = node_in("n1", "z1");
        let mut n2 = node_in("n2", "z1");
        let n3 = node_in("n3", "z2");
        let in_ns = |name: &str, ns: &str| {
            Arc::new(pod(
                json!({"metadata": {"name": name, "namespace": ns, "labels": {"app": "db"}}}),
            ))
        };
        n1.add_pod(in_ns("db-prod", "prod"));
        n2.add_pod(in_ns("db-dev", "dev"));
        let mut snap = snapshot(vec![n1, n2, n3]);
        snap.objects
            .set_namespace("prod", [("env".to_string(), "prod".to_string())].into());
        snap.objects
            .set_namespace("dev", [("env".to_string(), "dev".to_string())].into());
        let with_term = |extra: Value| {
            let mut t = term("app", "db", "kubernetes.io/hostname");
            if let (Some(t), Some(e)) = (t.as_object_mut(), extra.as_object()) {
                t.extend(e.clone());
            }
            pod(json!({"metadata": {"name": "web"}, "spec": {"affinity": {
                "podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [t]}}}}))
        };
        let ok = Code::Success;
        let no = Code::UnschedulableAndUnresolvable;
        let cases = [
            (
                json!({"namespaceSelector": {"matchLabels": {"env": "prod"}}}),
                [ok, no, no],
            ),
            (
                json!({"namespaceSelector": {"matchExpressions": [{"key": "env", "operator": "Exists"}]}}),
                [ok, ok, no],
            ),
            (json!({"namespaceSelector": {}}), [ok, ok, no]),
            (json!({"namespaces": ["dev"]}), [no, ok, no]),
            (
                json!({"namespaces": ["dev"], "namespaceSelector": {"matchLabels": {"env": "prod"}}}),
                [ok, ok, no],
            ),
            (json!({}), [no, no, no]),
        ];
        for (extra, want) in cases {
            let got: Vec<Code> = run(&snap, &with_term(extra.clone()))
                .into_iter()
                .map(|(_, c)| c)
                .collect();
            assert_eq!(got, want, "{extra}");
        }
    }

    #[test]
    fn preferred_anti_affinity_scores_away() {
        let mut n1 = node_in("n1", "z1");
        let n2 = node_in("n2", "z1");
        n1.add_pod(labelled("s2", json!({"security": "S2"}), json!({})));
        let snap = snapshot(vec![n1, n2]);
        let p = pod(
            json!({"spec": {"affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 100, "podAffinityTerm": term("security", "S2", "kubernetes.io/hostname")}]}}}}),
        );
        let plugin = InterPodAffinity::default();
        let mut state = CycleState::new();
        plugin.pre_score(&mut state, &p, &snap.nodes, &snap);
        let mut scores: Vec<i64> = snap
            .nodes
            .iter()
            .map(|n| plugin.score(&state, &p, n))
            .collect();
        assert_eq!(scores, vec![-100, 0]);
        plugin.normalize(&state, &mut scores);
        assert_eq!(scores, vec![0, 100]);
    }
}
