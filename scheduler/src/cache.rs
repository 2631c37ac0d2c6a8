//! The scheduler's view of the cluster: nodes and the pods on them,
//! including pods it has *assumed* onto a node before the binding shows up
//! in the watch, so a node is never double-booked in between.

use crate::framework::pod_index::PodIndex;
use crate::framework::{ClusterObjects, NodeInfo, PodInfo, Snapshot};
use k8s_openapi::api::core::v1::Node;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long an assumed pod whose binding finished may wait for the watch
/// to confirm it before it is dropped.
pub const ASSUME_TTL: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
struct PodState {
    node: String,
    assumed: bool,
    /// Set when the binding call returned; the TTL runs from then.
    deadline: Option<Instant>,
}

#[derive(Default)]
pub struct Cache {
    nodes: BTreeMap<String, Arc<NodeInfo>>,
    pods: HashMap<String, PodState>,
    /// Namespace labels and workload selectors, shared with snapshots.
    pub objects: ClusterObjects,
    /// The pods grouped by namespace and labels, shared with snapshots.
    index: PodIndex,
}

impl Cache {
    pub fn new() -> Cache {
        Cache::default()
    }

    fn node_mut(&mut self, name: &str) -> &mut NodeInfo {
        Arc::make_mut(
            self.nodes
                .entry(name.to_string())
                .or_insert_with(|| Arc::new(NodeInfo::new(name))),
        )
    }

    /// Adds or replaces a node; returns whether anything a filter reads
    /// changed (not just a heartbeat), so parked pods are worth a retry.
    pub fn add_or_update_node(&mut self, node: Arc<Node>) -> bool {
        let name = node.metadata.name.clone().unwrap_or_default();
        let info = self.node_mut(&name);
        let before = info.node.is_some().then(|| {
            (
                info.labels.clone(),
                info.taints.clone(),
                info.unschedulable,
                info.allocatable.clone(),
                info.images.clone(),
            )
        });
        info.set_node(node);
        let labels = info.labels.clone();
        self.index.set_node_labels(&name, &labels);
        let info = self.node_mut(&name);
        let after = (
            info.labels.clone(),
            info.taints.clone(),
            info.unschedulable,
            info.allocatable.clone(),
            info.images.clone(),
        );
        before.is_none_or(|b| b != after)
    }

    pub fn remove_node(&mut self, name: &str) {
        self.index.remove_node_labels(name);
        let keep = self.nodes.get(name).is_some_and(|n| !n.pods.is_empty());
        if keep {
            // Pods still point at it; keep their accounting, hide the node.
            self.node_mut(name).node = None;
        } else {
            self.nodes.remove(name);
        }
    }

    pub fn node_names(&self) -> Vec<String> {
        self.nodes
            .iter()
            .filter(|(_, n)| n.node.is_some())
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Takes the pod off its node (the index is the caller's business).
    fn remove_from_node(&mut self, key: &str, node: &str) -> Option<Arc<PodInfo>> {
        let mut empty_placeholder = false;
        let mut removed = None;
        if let Some(n) = self.nodes.get_mut(node) {
            let n = Arc::make_mut(n);
            removed = n.take_pod(key);
            empty_placeholder = n.node.is_none() && n.pods.is_empty();
        }
        if empty_placeholder {
            self.nodes.remove(node);
        }
        removed
    }

    /// A pod the watch shows bound to `node` (new, changed, or the
    /// confirmation of an assumed pod).
    pub fn add_or_update_pod(&mut self, info: Arc<PodInfo>, node: &str) {
        let key = info.key();
        let mut reindex = true;
        if let Some(old) = self.pods.get(&key).cloned()
            && let Some(prev) = self.remove_from_node(&key, &old.node)
        {
            // A confirmation of what is already indexed (the common
            // case) leaves the index alone, so a snapshot still in use
            // is not copied.
            let same = old.node == node
                && prev.namespace == info.namespace
                && prev.labels == info.labels
                && prev.pod.metadata.deletion_timestamp.is_some()
                    == info.pod.metadata.deletion_timestamp.is_some()
                && !prev.has_affinity()
                && !info.has_affinity();
            if same {
                reindex = false;
            } else {
                self.index.remove_pod(&prev, &old.node);
            }
        }
        if reindex {
            self.index.add_pod(&info, node);
        }
        self.node_mut(node).add_pod(info);
        self.pods.insert(
            key,
            PodState {
                node: node.to_string(),
                assumed: false,
                deadline: None,
            },
        );
    }

    pub fn remove_pod(&mut self, key: &str) {
        if let Some(old) = self.pods.remove(key)
            && let Some(prev) = self.remove_from_node(key, &old.node)
        {
            self.index.remove_pod(&prev, &old.node);
        }
    }

    pub fn contains_pod(&self, key: &str) -> bool {
        self.pods.contains_key(key)
    }

    pub fn is_assumed(&self, key: &str) -> bool {
        self.pods.get(key).is_some_and(|p| p.assumed)
    }

    /// Books `info` onto `node` before the binding is written.
    pub fn assume(&mut self, info: Arc<PodInfo>, node: &str) {
        let key = info.key();
        if self.pods.contains_key(&key) {
            return;
        }
        self.index.add_pod(&info, node);
        self.node_mut(node).add_pod(info);
        self.pods.insert(
            key,
            PodState {
                node: node.to_string(),
                assumed: true,
                deadline: None,
            },
        );
    }

    /// The binding call returned; the watch should confirm soon.
    pub fn finish_binding(&mut self, key: &str) {
        if let Some(p) = self.pods.get_mut(key).filter(|p| p.assumed) {
            p.deadline = Some(Instant::now() + ASSUME_TTL);
        }
    }

    /// The binding failed: give the room back.
    pub fn forget(&mut self, key: &str) {
        if self.is_assumed(key) {
            self.remove_pod(key);
        }
    }

    /// Drops assumed pods the watch never confirmed; returns how many.
    pub fn cleanup_expired(&mut self) -> usize {
        let now = Instant::now();
        let expired: Vec<String> = self
            .pods
            .iter()
            .filter(|(_, p)| p.assumed && p.deadline.is_some_and(|d| d <= now))
            .map(|(k, _)| k.clone())
            .collect();
        for k in &expired {
            self.remove_pod(k);
        }
        expired.len()
    }

    /// The nodes (with a Node object) as they are now.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            nodes: self
                .nodes
                .values()
                .filter(|n| n.node.is_some())
                .cloned()
                .collect(),
            objects: self.objects.clone(),
            pods: self.index.clone(),
        }
    }

    pub fn node(&self, name: &str) -> Option<Arc<NodeInfo>> {
        self.nodes.get(name).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::pod_with_requests;
    use serde_json::json;

    fn node(name: &str) -> Arc<Node> {
        Arc::new(
            serde_json::from_value(json!({"metadata": {"name": name},
            "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}}}))
            .unwrap(),
        )
    }

    #[test]
    fn assumed_pods_count_until_confirmed_or_forgotten() {
        let mut c = Cache::new();
        c.add_or_update_node(node("n1"));
        let p = Arc::new(pod_with_requests("p", "1", "1Gi"));
        c.assume(p.clone(), "n1");
        assert!(c.is_assumed("default/p"));
        assert_eq!(c.snapshot().nodes[0].requested.milli_cpu, 1000);
        // The watch confirms: counted once, no longer assumed.
        c.add_or_update_pod(p.clone(), "n1");
        assert!(!c.is_assumed("default/p"));
        assert_eq!(c.snapshot().nodes[0].requested.milli_cpu, 1000);
        c.remove_pod("default/p");
        assert_eq!(c.snapshot().nodes[0].requested.milli_cpu, 0);

        c.assume(p, "n1");
        c.forget("default/p");
        assert_eq!(c.snapshot().nodes[0].pods.len(), 0);
    }

    #[test]
    fn only_relevant_node_changes_count() {
        let mut c = Cache::new();
        assert!(c.add_or_update_node(node("n1")), "a new node");
        assert!(!c.add_or_update_node(node("n1")), "a heartbeat");
        let cordoned: Node = serde_json::from_value(
            json!({"metadata": {"name": "n1"}, "spec": {"unschedulable": true},
            "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}}}),
        )
        .unwrap();
        assert!(c.add_or_update_node(Arc::new(cordoned)));
    }

    #[test]
    fn snapshots_do_not_change_under_the_cycle() {
        let mut c = Cache::new();
        c.add_or_update_node(node("n1"));
        let snap = c.snapshot();
        c.assume(Arc::new(pod_with_requests("p", "1", "1Gi")), "n1");
        assert_eq!(snap.nodes[0].pods.len(), 0);
        assert_eq!(c.snapshot().nodes[0].pods.len(), 1);
    }

    #[test]
    fn pods_on_unknown_nodes_are_kept_but_not_offered() {
        let mut c = Cache::new();
        c.add_or_update_pod(Arc::new(pod_with_requests("p", "1", "1Gi")), "ghost");
        assert!(c.snapshot().nodes.is_empty());
        c.add_or_update_node(node("ghost"));
        assert_eq!(c.snapshot().nodes[0].requested.milli_cpu, 1000);
        c.remove_node("ghost");
        assert!(c.snapshot().nodes.is_empty());
        c.remove_pod("default/p");
        assert!(c.node("ghost").is_none());
    }

    #[test]
    fn expired_assumptions_are_dropped() {
        let mut c = Cache::new();
        c.add_or_update_node(node("n1"));
        c.assume(Arc::new(pod_with_requests("p", "1", "1Gi")), "n1");
        assert_eq!(
            c.cleanup_expired(),
            0,
            "no deadline before binding finishes"
        );
        c.finish_binding("default/p");
        c.pods.get_mut("default/p").unwrap().deadline = Some(Instant::now());
        assert_eq!(c.cleanup_expired(), 1);
    }

    /// The pod index follows assume, confirmation, moves and removal, and
    /// a snapshot keeps what it saw.
    #[test]
    fn pod_index_follows_the_cache() {
        let total = |snap: &Snapshot| -> Vec<(String, u32)> {
            let mut v: Vec<(String, u32)> = snap
                .pods
                .groups()
                .flat_map(|g| g.nodes.iter().map(|(n, c)| (n.clone(), c.all)))
                .collect();
            v.sort();
            v
        };
        let mut c = Cache::new();
        c.add_or_update_node(node("n1"));
        c.add_or_update_node(node("n2"));
        let p = Arc::new(pod_with_requests("p", "1", "1Gi"));
        c.assume(p.clone(), "n1");
        let before = c.snapshot();
        c.add_or_update_pod(p.clone(), "n1");
        assert_eq!(total(&c.snapshot()), vec![("n1".to_string(), 1)]);
        c.add_or_update_pod(p.clone(), "n2");
        assert_eq!(total(&c.snapshot()), vec![("n2".to_string(), 1)]);
        assert_eq!(total(&before), vec![("n1".to_string(), 1)]);
        assert_eq!(
            c.snapshot().pods.node_labels("n2").map(|l| l.len()),
            Some(c.node("n2").map(|n| n.labels.len()).unwrap_or(0))
        );
        c.remove_pod("default/p");
        assert!(total(&c.snapshot()).is_empty());
        c.remove_node("n2");
        assert!(c.snapshot().pods.node_labels("n2").is_none());
    }
}
