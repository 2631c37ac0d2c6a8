//! A node with the pods the scheduler believes run on it (bound and
//! assumed) and their sums, as the filters and scores read them.

use super::pod_index::PodIndex;
use super::pod_info::{HostPort, PodInfo};
use client::scheduling::Resource;
use k8s_openapi::api::core::v1::{Node, Taint};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

#[derive(Debug, Clone, Default)]
pub struct NodeInfo {
    pub name: String,
    pub node: Option<Arc<Node>>,
    pub labels: BTreeMap<String, String>,
    pub taints: Vec<Taint>,
    pub unschedulable: bool,
    pub allocatable: Resource,
    pub requested: Resource,
    pub non_zero_requested: Resource,
    pub pods: Vec<Arc<PodInfo>>,
    pub used_ports: Vec<HostPort>,
    /// Normalised image name → size in bytes, from `status.images`.
    pub images: HashMap<String, i64>,
}

/// `nginx` → `docker.io/library/nginx:latest`, so that a pod's image and a
/// node's image list compare the way the container runtime names them.
pub fn normalize_image(name: &str) -> String {
    let mut n = name.to_string();
    let last = n.rsplit('/').next().unwrap_or_default();
    if !last.contains(':') && !last.contains('@') {
        n.push_str(":latest");
    }
    let first = n.split('/').next().unwrap_or_default();
    let has_registry =
        n.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    if !has_registry {
        if n.contains('/') {
            n = format!("docker.io/{n}");
        } else {
            n = format!("docker.io/library/{n}");
        }
    }
    n
}

impl NodeInfo {
    pub fn new(name: &str) -> NodeInfo {
        NodeInfo {
            name: name.to_string(),
            ..Default::default()
        }
    }

    /// Replaces the node object (labels, taints, allocatable, images).
    pub fn set_node(&mut self, node: Arc<Node>) {
        let spec = node.spec.as_ref();
        let status = node.status.as_ref();
        self.labels = node.metadata.labels.clone().unwrap_or_default();
        self.taints = spec.and_then(|s| s.taints.clone()).unwrap_or_default();
        self.unschedulable = spec.and_then(|s| s.unschedulable).unwrap_or(false);
        self.allocatable = Resource::from_map(status.and_then(|s| s.allocatable.as_ref()));
        self.images.clear();
        for image in status.and_then(|s| s.images.as_ref()).into_iter().flatten() {
            for n in image.names.iter().flatten() {
                self.images
                    .insert(normalize_image(n), image.size_bytes.unwrap_or(0));
            }
        }
        self.node = Some(node);
    }

    pub fn add_pod(&mut self, pod: Arc<PodInfo>) {
        self.requested.add(&pod.requests);
        self.non_zero_requested.add(&pod.non_zero_requests);
        self.used_ports.extend(pod.host_ports.iter().cloned());
        self.pods.push(pod);
    }

    /// Removes the pod `namespace/name`; returns whether it was there.
    pub fn remove_pod(&mut self, key: &str) -> bool {
        self.take_pod(key).is_some()
    }

    /// Removes the pod `namespace/name` and returns it.
    pub fn take_pod(&mut self, key: &str) -> Option<Arc<PodInfo>> {
        let i = self.pods.iter().position(|p| p.key() == key)?;
        let pod = self.pods.swap_remove(i);
        self.requested.sub(&pod.requests);
        self.non_zero_requested.sub(&pod.non_zero_requests);
        for hp in &pod.host_ports {
            if let Some(j) = self.used_ports.iter().position(|u| u == hp) {
                self.used_ports.swap_remove(j);
            }
        }
        Some(pod)
    }
}

/// The nodes as one scheduling cycle sees them; immutable during the cycle.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub nodes: Vec<Arc<NodeInfo>>,
    /// Namespace labels and workload selectors as of the cycle's start.
    pub objects: super::ClusterObjects,
    /// The pods of `nodes` grouped by namespace and labels; changed only
    /// through the methods below, which keep it in step with `nodes`.
    pub pods: PodIndex,
}

impl Snapshot {
    /// A snapshot of `nodes`, indexing their pods (the cache keeps its
    /// index incrementally instead).
    pub fn from_nodes(nodes: Vec<Arc<NodeInfo>>, objects: super::ClusterObjects) -> Snapshot {
        let mut pods = PodIndex::default();
        for n in &nodes {
            pods.set_node_labels(&n.name, &n.labels);
            for p in &n.pods {
                pods.add_pod(p, &n.name);
            }
        }
        Snapshot {
            nodes,
            objects,
            pods,
        }
    }

    pub fn get(&self, name: &str) -> Option<&Arc<NodeInfo>> {
        self.nodes.iter().find(|n| n.name == name)
    }

    /// Counts `pod` on node `name` for this cycle only (a nominated pod).
    pub fn add_pod_to(&mut self, name: &str, pod: Arc<PodInfo>) {
        if let Some(slot) = self.nodes.iter_mut().find(|n| n.name == name) {
            self.pods.add_pod(&pod, name);
            Arc::make_mut(slot).add_pod(pod);
        }
    }

    /// Puts `node` (a modified copy, as preemption tries) in place of the
    /// node of the same name.
    pub fn replace_node(&mut self, node: NodeInfo) {
        let Some(slot) = self.nodes.iter_mut().find(|n| n.name == node.name) else {
            return;
        };
        for p in &slot.pods {
            self.pods.remove_pod(p, &node.name);
        }
        for p in &node.pods {
            self.pods.add_pod(p, &node.name);
        }
        *slot = Arc::new(node);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_names_normalise_like_the_runtime() {
        let cases = [
            ("nginx", "docker.io/library/nginx:latest"),
            ("nginx:1.25", "docker.io/library/nginx:1.25"),
            ("bitnami/redis", "docker.io/bitnami/redis:latest"),
            (
                "gcr.io/google_containers/pause:2.0",
                "gcr.io/google_containers/pause:2.0",
            ),
            ("localhost:5000/app", "localhost:5000/app:latest"),
            (
                "docker.io/library/busybox:1.36",
                "docker.io/library/busybox:1.36",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(normalize_image(input), want, "{input}");
        }
    }
}
