//! The pods of the cluster grouped by namespace and labels (upstream's
//! PreFilter state walks every pod per attempt; replicas share their
//! labels, so matching a selector once per group instead of once per pod
//! turns the walk over ~10,000 pods into one over a handful of groups and
//! the nodes their members run on). Pods with affinity terms are listed
//! apart, for the checks of existing pods' terms.
//!
//! The cache keeps the index current as pods are added, assumed and
//! removed; a snapshot shares it (copy-on-write).

use super::cluster::Labels;
use super::pod_info::PodInfo;
use std::collections::HashMap;
use std::sync::Arc;

/// Pods on one node in a group: all of them, and those being deleted
/// (which spreading does not count).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Count {
    pub all: u32,
    pub terminating: u32,
}

/// Pods sharing a namespace and a label set, counted per node.
#[derive(Debug, Clone, Default)]
pub struct PodGroup {
    pub namespace: String,
    pub labels: Labels,
    pub nodes: HashMap<String, Count>,
}

type GroupKey = (String, Labels);

#[derive(Debug, Clone, Default)]
pub struct PodIndex {
    groups: HashMap<GroupKey, Arc<PodGroup>>,
    /// Pod key → (node, pod) for pods with any pod (anti-)affinity term.
    with_affinity: Arc<HashMap<String, (String, Arc<PodInfo>)>>,
    /// Node name → labels, for the nodes of the snapshot.
    node_labels: Arc<HashMap<String, Arc<Labels>>>,
    /// Label key → value → how many nodes carry it: the topology domains,
    /// without a walk over the nodes.
    domains: Arc<HashMap<String, HashMap<String, u32>>>,
}

impl PodIndex {
    pub fn groups(&self) -> impl Iterator<Item = &PodGroup> {
        self.groups.values().map(|g| g.as_ref())
    }

    pub fn with_affinity(&self) -> impl Iterator<Item = (&str, &Arc<PodInfo>)> {
        self.with_affinity.values().map(|(n, p)| (n.as_str(), p))
    }

    /// The labels of node `name`, if it is in the snapshot.
    pub fn node_labels(&self, name: &str) -> Option<&Labels> {
        self.node_labels.get(name).map(|l| l.as_ref())
    }

    /// The values of label `key` over the snapshot's nodes, with how many
    /// nodes carry each.
    pub fn domains(&self, key: &str) -> Option<&HashMap<String, u32>> {
        self.domains.get(key)
    }

    fn count_domains(&mut self, labels: &Labels, add: bool) {
        let domains = Arc::make_mut(&mut self.domains);
        for (k, v) in labels {
            let values = domains.entry(k.clone()).or_default();
            let n = values.entry(v.clone()).or_default();
            if add {
                *n += 1;
            } else {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    values.remove(v);
                }
            }
            if values.is_empty() {
                domains.remove(k);
            }
        }
    }

    pub fn set_node_labels(&mut self, name: &str, labels: &Labels) {
        if self.node_labels.get(name).is_some_and(|l| **l == *labels) {
            return;
        }
        self.remove_node_labels(name);
        self.count_domains(labels, true);
        Arc::make_mut(&mut self.node_labels).insert(name.to_string(), Arc::new(labels.clone()));
    }

    pub fn remove_node_labels(&mut self, name: &str) {
        if let Some(old) = self.node_labels.get(name).cloned() {
            self.count_domains(&old, false);
            Arc::make_mut(&mut self.node_labels).remove(name);
        }
    }

    fn change(&mut self, pod: &Arc<PodInfo>, node: &str, add: bool) {
        let key = (pod.namespace.clone(), pod.labels.clone());
        let terminating = u32::from(pod.pod.metadata.deletion_timestamp.is_some());
        if add {
            let group = self.groups.entry(key).or_insert_with(|| {
                Arc::new(PodGroup {
                    namespace: pod.namespace.clone(),
                    labels: pod.labels.clone(),
                    nodes: HashMap::new(),
                })
            });
            let c = Arc::make_mut(group)
                .nodes
                .entry(node.to_string())
                .or_default();
            c.all += 1;
            c.terminating += terminating;
            if pod.has_affinity() {
                Arc::make_mut(&mut self.with_affinity)
                    .insert(pod.key(), (node.to_string(), pod.clone()));
            }
            return;
        }
        let mut empty = false;
        if let Some(group) = self.groups.get_mut(&key) {
            let g = Arc::make_mut(group);
            if let Some(c) = g.nodes.get_mut(node) {
                c.all = c.all.saturating_sub(1);
                c.terminating = c.terminating.saturating_sub(terminating);
                if c.all == 0 {
                    g.nodes.remove(node);
                }
            }
            empty = g.nodes.is_empty();
        }
        if empty {
            self.groups.remove(&key);
        }
        if pod.has_affinity() && self.with_affinity.contains_key(&pod.key()) {
            Arc::make_mut(&mut self.with_affinity).remove(&pod.key());
        }
    }

    pub fn add_pod(&mut self, pod: &Arc<PodInfo>, node: &str) {
        self.change(pod, node, true);
    }

    pub fn remove_pod(&mut self, pod: &Arc<PodInfo>, node: &str) {
        self.change(pod, node, false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::pod;
    use serde_json::json;

    #[test]
    fn groups_count_per_node_and_empty_groups_go() {
        let mut idx = PodIndex::default();
        let web = |name: &str| {
            Arc::new(pod(
                json!({"metadata": {"name": name, "labels": {"app": "web"}}}),
            ))
        };
        let anti = Arc::new(pod(
            json!({"metadata": {"name": "a", "labels": {"app": "db"}}, "spec": {"affinity": {"podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [{"labelSelector": {"matchLabels": {"app": "db"}}, "topologyKey": "zone"}]}}}}),
        ));
        idx.add_pod(&web("w1"), "n1");
        idx.add_pod(&web("w2"), "n1");
        idx.add_pod(&web("w3"), "n2");
        idx.add_pod(&anti, "n2");
        let snapshot = idx.clone();
        let counts = |idx: &PodIndex| {
            let mut v: Vec<(String, String, u32)> = idx
                .groups()
                .flat_map(|g| {
                    g.nodes
                        .iter()
                        .map(|(n, c)| (g.labels["app"].clone(), n.clone(), c.all))
                })
                .collect();
            v.sort();
            v
        };
        let s = |a: &str, n: &str, c| (a.to_string(), n.to_string(), c);
        assert_eq!(
            counts(&idx),
            vec![s("db", "n2", 1), s("web", "n1", 2), s("web", "n2", 1)]
        );
        assert_eq!(idx.with_affinity().count(), 1);
        idx.remove_pod(&web("w3"), "n2");
        idx.remove_pod(&anti, "n2");
        assert_eq!(counts(&idx), vec![s("web", "n1", 2)]);
        assert_eq!(idx.with_affinity().count(), 0);
        let zone = |z: &str| -> Labels { [("zone".to_string(), z.to_string())].into() };
        idx.set_node_labels("n1", &zone("a"));
        idx.set_node_labels("n2", &zone("a"));
        idx.set_node_labels("n3", &zone("b"));
        idx.set_node_labels("n2", &zone("b"));
        let domains = |idx: &PodIndex| {
            let mut v: Vec<(String, u32)> = idx
                .domains("zone")
                .into_iter()
                .flatten()
                .map(|(k, n)| (k.clone(), *n))
                .collect();
            v.sort();
            v
        };
        assert_eq!(
            domains(&idx),
            vec![("a".to_string(), 1), ("b".to_string(), 2)]
        );
        idx.remove_node_labels("n1");
        assert_eq!(domains(&idx), vec![("b".to_string(), 2)]);
        // A snapshot taken before is not changed.
        assert_eq!(counts(&snapshot).len(), 3);
        assert_eq!(snapshot.with_affinity().count(), 1);
    }
}
