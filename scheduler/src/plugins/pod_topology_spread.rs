//! PodTopologySpread: keeps matching pods evenly spread over topology
//! domains. `DoNotSchedule` constraints filter (skew above `maxSkew`, with
//! `minDomains`); `ScheduleAnyway` constraints score (fewer matching pods
//! in the node's domain is better). Pods without constraints of their own
//! get the cluster default constraints when they belong to a controller.

use crate::framework::cluster::Labels;
use crate::framework::selector::selects;
use crate::framework::{
    ClusterObjects, CycleState, FilterPlugin, MAX_NODE_SCORE, NodeInfo, PodInfo, ScorePlugin,
    Snapshot, Status,
};
use apimachinery::labels::Selector;
use client::scheduling::RequiredNodeAffinity;
use k8s_openapi::api::core::v1::TopologySpreadConstraint;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

pub const NAME: &str = "PodTopologySpread";
pub const REASON: &str = "node(s) didn't match pod topology spread constraints";
pub const REASON_MISSING_LABEL: &str =
    "node(s) didn't match pod topology spread constraints (missing required label)";
const FILTER_KEY: &str = "PodTopologySpread/filter";
const SCORE_KEY: &str = "PodTopologySpread/score";

/// One constraint with its selector parsed.
#[derive(Debug, Clone)]
pub struct Constraint {
    pub max_skew: i64,
    pub topology_key: String,
    pub min_domains: i64,
    pub selector: Selector,
    pub extra: Option<Selector>,
}

impl Constraint {
    fn matches(&self, namespace: &str, pod: &PodInfo) -> bool {
        pod.namespace == namespace && self.matches_labels(&pod.labels)
    }

    fn matches_labels(&self, labels: &Labels) -> bool {
        selects(&self.selector, labels) && self.extra.as_ref().is_none_or(|e| selects(e, labels))
    }
}

pub struct PodTopologySpread {
    /// Applied to pods with no constraints of their own (upstream's
    /// `defaultConstraints`; the System defaults unless configured).
    pub default_constraints: Vec<TopologySpreadConstraint>,
}

impl Default for PodTopologySpread {
    fn default() -> Self {
        let c = |key: &str, skew: i32| TopologySpreadConstraint {
            max_skew: skew,
            topology_key: key.into(),
            when_unsatisfiable: "ScheduleAnyway".into(),
            ..Default::default()
        };
        PodTopologySpread {
            default_constraints: vec![
                c("kubernetes.io/hostname", 3),
                c("topology.kubernetes.io/zone", 5),
            ],
        }
    }
}

fn parse(pod: &PodInfo, c: &TopologySpreadConstraint, selector: Option<Selector>) -> Constraint {
    let selector = selector.unwrap_or_else(|| {
        c.label_selector
            .as_ref()
            .and_then(|s| serde_json::to_value(s).ok())
            .and_then(|v| Selector::from_label_selector(&v).ok())
            .unwrap_or_else(Selector::nothing)
    });
    let extra: Vec<String> = c
        .match_label_keys
        .iter()
        .flatten()
        .filter_map(|k| pod.labels.get(k).map(|v| format!("{k}={v}")))
        .collect();
    Constraint {
        max_skew: i64::from(c.max_skew.max(1)),
        topology_key: c.topology_key.clone(),
        min_domains: i64::from(c.min_domains.unwrap_or(1).max(1)),
        selector,
        extra: (!extra.is_empty())
            .then(|| Selector::parse(&extra.join(",")).ok())
            .flatten(),
    }
}

impl PodTopologySpread {
    /// The pod's constraints with `when_unsatisfiable == action`; a pod
    /// without constraints of its own gets the default constraints, with
    /// the selector of the Services and controllers that select it
    /// (upstream's DefaultSelector), or none when nothing selects it.
    pub fn constraints(
        &self,
        pod: &PodInfo,
        action: &str,
        objects: &ClusterObjects,
    ) -> Vec<Constraint> {
        let own = pod
            .pod
            .spec
            .as_ref()
            .and_then(|s| s.topology_spread_constraints.as_deref())
            .unwrap_or_default();
        if !own.is_empty() {
            return own
                .iter()
                .filter(|c| c.when_unsatisfiable == action)
                .map(|c| parse(pod, c, None))
                .collect();
        }
        if !self
            .default_constraints
            .iter()
            .any(|c| c.when_unsatisfiable == action)
        {
            return Vec::new();
        }
        let Some(selector) = objects.default_selector(pod) else {
            return Vec::new();
        };
        self.default_constraints
            .iter()
            .filter(|c| c.when_unsatisfiable == action)
            .map(|c| parse(pod, c, Some(selector.clone())))
            .collect()
    }
}

/// Whether a node counts for spreading: it carries every constraint's key
/// and the pod's node selector and required node affinity allow it.
fn eligible(pod: &PodInfo, constraints: &[Constraint], name: &str, labels: &Labels) -> bool {
    constraints
        .iter()
        .all(|c| labels.contains_key(&c.topology_key))
        && RequiredNodeAffinity::of(&pod.pod).matches(name, labels)
}

/// Matching pods per (constraint index, domain value), over the eligible
/// nodes. Every eligible domain is present (with 0 when empty); the pods
/// are counted per group of identically labelled pods.
fn count(
    pod: &PodInfo,
    constraints: &[Constraint],
    snapshot: &Snapshot,
) -> Vec<HashMap<String, i64>> {
    let mut counts: Vec<HashMap<String, i64>> = vec![HashMap::new(); constraints.len()];
    let node_constrained = !RequiredNodeAffinity::of(&pod.pod).is_empty();
    if let ([c], false) = (constraints, node_constrained) {
        // One key and no node selection: every node with the key is
        // eligible, and the index knows their domains.
        for domain in snapshot
            .pods
            .domains(&c.topology_key)
            .into_iter()
            .flatten()
            .map(|(d, _)| d)
        {
            counts[0].insert(domain.clone(), 0);
        }
    } else {
        walk_eligible_domains(pod, constraints, snapshot, &mut counts);
    }
    let index = &snapshot.pods;
    for group in index.groups() {
        if group.namespace != pod.namespace {
            continue;
        }
        for (i, c) in constraints.iter().enumerate() {
            if !c.matches_labels(&group.labels) {
                continue;
            }
            for (node, n) in &group.nodes {
                let Some(labels) = index.node_labels(node) else {
                    continue;
                };
                let Some(domain) = labels.get(&c.topology_key) else {
                    continue;
                };
                // Domains of ineligible nodes are absent from the map.
                let Some(sum) = counts[i].get_mut(domain) else {
                    continue;
                };
                if eligible(pod, constraints, node, labels) {
                    *sum += i64::from(n.all - n.terminating);
                }
            }
        }
    }
    counts
}

/// Registers (with 0) the domains of every eligible node.
fn walk_eligible_domains(
    pod: &PodInfo,
    constraints: &[Constraint],
    snapshot: &Snapshot,
    counts: &mut [HashMap<String, i64>],
) {
    for node in &snapshot.nodes {
        if !eligible(pod, constraints, &node.name, &node.labels) {
            continue;
        }
        for (i, c) in constraints.iter().enumerate() {
            if let Some(domain) = node.labels.get(&c.topology_key)
                && !counts[i].contains_key(domain)
            {
                counts[i].insert(domain.clone(), 0);
            }
        }
    }
}

struct FilterState {
    constraints: Vec<Constraint>,
    counts: Vec<HashMap<String, i64>>,
    /// Smallest count per constraint (0 while fewer than minDomains exist).
    min: Vec<i64>,
}

impl FilterPlugin for PodTopologySpread {
    fn name(&self) -> &'static str {
        NAME
    }
    fn pre_filter(&self, state: &mut CycleState, pod: &PodInfo, snapshot: &Snapshot) -> Status {
        let constraints = self.constraints(pod, "DoNotSchedule", &snapshot.objects);
        if constraints.is_empty() {
            return Status::skip();
        }
        let counts = count(pod, &constraints, snapshot);
        let min = constraints
            .iter()
            .zip(&counts)
            .map(|(c, m)| {
                if (m.len() as i64) < c.min_domains {
                    0
                } else {
                    m.values().copied().min().unwrap_or(0)
                }
            })
            .collect();
        state.write(
            FILTER_KEY,
            FilterState {
                constraints,
                counts,
                min,
            },
        );
        Status::success()
    }

    fn filter(&self, state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let Some(st) = state.read::<FilterState>(FILTER_KEY) else {
            return Status::success();
        };
        for (i, c) in st.constraints.iter().enumerate() {
            let Some(domain) = node.labels.get(&c.topology_key) else {
                return Status::unresolvable(REASON_MISSING_LABEL);
            };
            let self_match = i64::from(c.matches(&pod.namespace, pod));
            let here = st.counts[i].get(domain).copied().unwrap_or(0);
            if here + self_match - st.min[i] > c.max_skew {
                return Status::unschedulable(REASON);
            }
        }
        Status::success()
    }
}

struct ScoreState {
    constraints: Vec<Constraint>,
    counts: Vec<HashMap<String, i64>>,
    weights: Vec<f64>,
}

/// Marks a node that lacks a constraint's key: it gets 0 after normalising.
const INVALID: i64 = i64::MIN;

impl ScorePlugin for PodTopologySpread {
    fn name(&self) -> &'static str {
        NAME
    }
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        feasible: &[Arc<NodeInfo>],
        snapshot: &Snapshot,
    ) {
        let constraints = self.constraints(pod, "ScheduleAnyway", &snapshot.objects);
        if constraints.is_empty() {
            return;
        }
        let counts = count(pod, &constraints, snapshot);
        // Domains among the feasible nodes weigh each constraint: spreading
        // over many hosts matters more than over two zones.
        let weights = constraints
            .iter()
            .map(|c| {
                let domains: HashSet<&String> = feasible
                    .iter()
                    .filter_map(|n| n.labels.get(&c.topology_key))
                    .collect();
                ((domains.len() + 2) as f64).ln()
            })
            .collect();
        state.write(
            SCORE_KEY,
            ScoreState {
                constraints,
                counts,
                weights,
            },
        );
    }

    fn score(&self, state: &CycleState, _: &PodInfo, node: &NodeInfo) -> i64 {
        let Some(st) = state.read::<ScoreState>(SCORE_KEY) else {
            return 0;
        };
        let mut total = 0.0;
        for (i, c) in st.constraints.iter().enumerate() {
            let Some(domain) = node.labels.get(&c.topology_key) else {
                return INVALID;
            };
            let n = st.counts[i].get(domain).copied().unwrap_or(0);
            total += n as f64 * st.weights[i] + (c.max_skew - 1) as f64;
        }
        total.round() as i64
    }

    fn normalize(&self, state: &CycleState, scores: &mut [i64]) {
        if state.read::<ScoreState>(SCORE_KEY).is_none() {
            return;
        }
        let valid = scores.iter().copied().filter(|s| *s != INVALID);
        let (min, max) = valid.fold((i64::MAX, i64::MIN), |(lo, hi), s| (lo.min(s), hi.max(s)));
        for s in scores.iter_mut() {
            *s = if *s == INVALID {
                0
            } else if max == 0 {
                MAX_NODE_SCORE
            } else {
                MAX_NODE_SCORE * (max + min - *s) / max
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Code;
    use crate::plugins::testing::{node, pod, snapshot};
    use serde_json::{Value, json};

    fn zone_node(name: &str, zone: Option<&str>, app_pods: usize) -> NodeInfo {
        let labels = match zone {
            Some(z) => json!({"kubernetes.io/hostname": name, "zone": z}),
            None => json!({"kubernetes.io/hostname": name}),
        };
        let mut n = node(json!({"metadata": {"name": name, "labels": labels}}));
        for i in 0..app_pods {
            n.add_pod(Arc::new(pod(
                json!({"metadata": {"name": format!("{name}-{i}"), "labels": {"app": "web"}}}),
            )));
        }
        n
    }

    fn spread(extra: Value) -> PodInfo {
        let mut c = json!({"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule",
            "labelSelector": {"matchLabels": {"app": "web"}}});
        if let (Some(c), Some(e)) = (c.as_object_mut(), extra.as_object()) {
            c.extend(e.clone());
        }
        pod(
            json!({"metadata": {"name": "new", "labels": {"app": "web"}}, "spec": {"topologySpreadConstraints": [c]}}),
        )
    }

    fn codes(snap: &Snapshot, p: &PodInfo) -> Vec<Code> {
        let plugin = PodTopologySpread::default();
        let mut state = CycleState::new();
        FilterPlugin::pre_filter(&plugin, &mut state, p, snap);
        snap.nodes
            .iter()
            .map(|n| FilterPlugin::filter(&plugin, &state, p, n).code)
            .collect()
    }

    #[test]
    fn max_skew_and_missing_labels() {
        let snap = snapshot(vec![
            zone_node("a", Some("z1"), 2),
            zone_node("b", Some("z2"), 1),
            zone_node("c", None, 0),
        ]);
        assert_eq!(
            codes(&snap, &spread(json!({}))),
            vec![
                Code::Unschedulable,
                Code::Success,
                Code::UnschedulableAndUnresolvable
            ]
        );
        assert_eq!(
            codes(&snap, &spread(json!({"maxSkew": 2})))[0],
            Code::Success
        );
    }

    #[test]
    fn min_domains_treats_missing_domains_as_empty() {
        let snap = snapshot(vec![
            zone_node("a", Some("z1"), 1),
            zone_node("b", Some("z2"), 1),
        ]);
        assert_eq!(
            codes(&snap, &spread(json!({}))),
            vec![Code::Success, Code::Success]
        );
        // With minDomains 3 only two domains exist, so the global minimum is 0.
        assert_eq!(
            codes(&snap, &spread(json!({"minDomains": 3}))),
            vec![Code::Unschedulable, Code::Unschedulable]
        );
    }

    #[test]
    fn schedule_anyway_prefers_emptier_domains() {
        let snap = snapshot(vec![
            zone_node("a", Some("z1"), 3),
            zone_node("b", Some("z2"), 0),
        ]);
        let p = spread(json!({"whenUnsatisfiable": "ScheduleAnyway"}));
        let plugin = PodTopologySpread::default();
        let mut state = CycleState::new();
        plugin.pre_score(&mut state, &p, &snap.nodes, &snap);
        let mut scores: Vec<i64> = snap
            .nodes
            .iter()
            .map(|n| plugin.score(&state, &p, n))
            .collect();
        plugin.normalize(&state, &mut scores);
        assert!(scores[1] > scores[0], "{scores:?}");
        assert_eq!(scores[1], 100);
    }

    /// The cluster defaults select a pod's peers by what selects the pod
    /// (here a ReplicaSet and a Service), not by the pod's own labels.
    #[test]
    fn defaults_use_the_selectors_of_what_selects_the_pod() {
        let plugin = PodTopologySpread::default();
        let mut objects = ClusterObjects::default();
        let sel = |s: &str| Some(apimachinery::labels::Selector::parse(s).expect("selector"));
        objects.set_selector(
            "default",
            "ReplicaSet/web-1",
            sel("app=web,pod-template-hash=1"),
        );
        objects.set_selector("default", "Service/web", sel("app=web"));
        let member = pod(
            json!({"metadata": {"labels": {"app": "web", "pod-template-hash": "1", "extra": "x"}}}),
        );
        let bare = pod(json!({"metadata": {"labels": {"app": "db"}}}));
        type Case<'a> = (&'a PodInfo, &'a str, Vec<(&'a str, i64)>);
        let cases: [Case; 3] = [
            (
                &member,
                "ScheduleAnyway",
                vec![
                    ("kubernetes.io/hostname", 3),
                    ("topology.kubernetes.io/zone", 5),
                ],
            ),
            (&member, "DoNotSchedule", vec![]),
            (&bare, "ScheduleAnyway", vec![]),
        ];
        for (p, action, want) in cases {
            let constraints = plugin.constraints(p, action, &objects);
            let got: Vec<(&str, i64)> = constraints
                .iter()
                .map(|c| (c.topology_key.as_str(), c.max_skew))
                .collect();
            assert_eq!(got, want, "{} {action}", p.name);
        }
        // The selector is the ReplicaSet's and the Service's, not the pod's
        // labels: a peer without `extra` counts, another revision does not.
        let c = &plugin.constraints(&member, "ScheduleAnyway", &objects)[0];
        let peer = pod(
            json!({"metadata": {"name": "peer", "labels": {"app": "web", "pod-template-hash": "1"}}}),
        );
        let old_revision = pod(
            json!({"metadata": {"name": "old", "labels": {"app": "web", "pod-template-hash": "0"}}}),
        );
        assert!(c.matches("default", &peer));
        assert!(!c.matches("default", &old_revision));
    }

    /// A Deployment's pods spread over zones by the defaults alone.
    #[test]
    fn defaults_score_emptier_zones_higher() {
        let mut objects = ClusterObjects::default();
        objects.set_selector(
            "default",
            "ReplicaSet/web-1",
            Some(apimachinery::labels::Selector::parse("app=web").expect("selector")),
        );
        let zoned = |name: &str, zone: &str, pods: usize| {
            let mut n = node(json!({"metadata": {"name": name, "labels": {
                "kubernetes.io/hostname": name, "topology.kubernetes.io/zone": zone}}}));
            for i in 0..pods {
                n.add_pod(Arc::new(pod(
                    json!({"metadata": {"name": format!("{name}-{i}"), "labels": {"app": "web"}}}),
                )));
            }
            n
        };
        let mut snap = snapshot(vec![zoned("a", "z1", 2), zoned("b", "z2", 0)]);
        snap.objects = objects;
        let p = pod(json!({"metadata": {"name": "new", "labels": {"app": "web"}}}));
        let plugin = PodTopologySpread::default();
        let mut state = CycleState::new();
        plugin.pre_score(&mut state, &p, &snap.nodes, &snap);
        let mut scores: Vec<i64> = snap
            .nodes
            .iter()
            .map(|n| plugin.score(&state, &p, n))
            .collect();
        plugin.normalize(&state, &mut scores);
        assert!(scores[1] > scores[0], "{scores:?}");
    }
}
