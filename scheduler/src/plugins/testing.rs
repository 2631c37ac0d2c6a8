//! Builders for the plugins' table-driven tests.

use crate::framework::{NodeInfo, PodInfo, Snapshot};
use serde_json::{Value, json};
use std::sync::Arc;

pub fn pod(v: Value) -> PodInfo {
    let mut v = v;
    if v.pointer("/metadata/namespace").is_none() {
        v["metadata"]["namespace"] = json!("default");
    }
    if v.pointer("/metadata/name").is_none() {
        v["metadata"]["name"] = json!("p");
    }
    if v.pointer("/spec/containers").is_none() {
        v["spec"]["containers"] = json!([{"name": "c", "image": "busybox"}]);
    }
    PodInfo::new(Arc::new(serde_json::from_value(v).expect("pod")))
}

/// A pod asking for `cpu`/`memory` in one container.
pub fn pod_with_requests(name: &str, cpu: &str, mem: &str) -> PodInfo {
    pod(json!({"metadata": {"name": name}, "spec": {"containers": [
        {"name": "c", "image": "busybox", "resources": {"requests": {"cpu": cpu, "memory": mem}}}
    ]}}))
}

pub fn node(v: Value) -> NodeInfo {
    let n: k8s_openapi::api::core::v1::Node = serde_json::from_value(v).expect("node");
    let mut info = NodeInfo::new(n.metadata.name.as_deref().unwrap_or("n"));
    info.set_node(Arc::new(n));
    info
}

/// A node with `cpu`/`memory` allocatable and 110 pods.
pub fn node_with(name: &str, cpu: &str, mem: &str, labels: Value) -> NodeInfo {
    node(json!({"metadata": {"name": name, "labels": labels},
        "status": {"allocatable": {"cpu": cpu, "memory": mem, "pods": "110"}}}))
}

pub fn snapshot(nodes: Vec<NodeInfo>) -> Snapshot {
    Snapshot::from_nodes(
        nodes.into_iter().map(Arc::new).collect(),
        Default::default(),
    )
}

/// Upstream's default plugin set with default weights.
pub fn default_profile() -> crate::profile::Profile {
    use crate::plugins::{
        DEFAULT_FILTERS, DEFAULT_SCORES, PluginArgs, filter_plugin, score_plugin,
    };
    let args = PluginArgs::default();
    crate::profile::Profile {
        scheduler_name: "default-scheduler".into(),
        filters: DEFAULT_FILTERS
            .iter()
            .filter_map(|n| filter_plugin(n, &args))
            .collect(),
        scores: DEFAULT_SCORES
            .iter()
            .filter_map(|(n, w)| score_plugin(n, &args).map(|p| (p, *w)))
            .collect(),
        preemption: true,
        volumes: None,
        percentage_of_nodes_to_score: 0,
    }
}
