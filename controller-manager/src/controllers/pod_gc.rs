//! The pod garbage collector: deletes terminated pods beyond
//! `--terminated-pod-gc-threshold` (oldest first), pods bound to Nodes
//! that no longer exist, and unscheduled pods stuck terminating.

use crate::Context;
use crate::controllers::reflected::wait_synced;
use crate::error::Result;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::ResourceExt;
use kube::api::{Api, DeleteParams};
use kube::runtime::reflector::{ObjectRef, Store};
use std::sync::Arc;
use std::time::Duration;

/// Upstream's check period.
const PERIOD: Duration = Duration::from_secs(20);

/// Which pods to delete this pass, by (namespace, name), and why.
pub fn select(
    pods: &[Arc<Pod>],
    node_exists: impl Fn(&str) -> bool,
    threshold: i64,
) -> Vec<(Arc<Pod>, &'static str)> {
    let mut out: Vec<(Arc<Pod>, &'static str)> = Vec::new();
    let phase = |p: &Pod| {
        p.status
            .as_ref()
            .and_then(|s| s.phase.clone())
            .unwrap_or_default()
    };
    let mut terminated: Vec<&Arc<Pod>> = pods
        .iter()
        .filter(|p| {
            matches!(phase(p).as_str(), "Succeeded" | "Failed")
                && p.metadata.deletion_timestamp.is_none()
        })
        .collect();
    if threshold > 0 && terminated.len() as i64 > threshold {
        terminated.sort_by_key(|p| p.metadata.creation_timestamp.clone());
        let excess = terminated.len() - threshold as usize;
        out.extend(
            terminated
                .into_iter()
                .take(excess)
                .map(|p| (p.clone(), "terminated")),
        );
    }
    for p in pods {
        let node = p
            .spec
            .as_ref()
            .and_then(|s| s.node_name.as_deref())
            .filter(|n| !n.is_empty());
        match node {
            Some(n) if !node_exists(n) => out.push((p.clone(), "orphaned")),
            None if p.metadata.deletion_timestamp.is_some() => {
                out.push((p.clone(), "unscheduled-terminating"))
            }
            _ => {}
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|(p, _)| seen.insert(p.metadata.uid.clone()));
    out
}

pub async fn run(ctx: Context) -> anyhow::Result<()> {
    let pods = ctx.informers.get::<Pod>().store.clone();
    let nodes = ctx.informers.get::<Node>().store.clone();
    wait_synced(&pods).await;
    wait_synced(&nodes).await;
    tracing::info!(controller = "pod-garbage-collector", "starting controller");
    loop {
        if let Err(e) = pass(&ctx, &pods, &nodes).await {
            tracing::warn!(error = %e, "pod gc pass failed");
        }
        tokio::time::sleep(PERIOD).await;
    }
}

async fn pass(ctx: &Context, pods: &Store<Pod>, nodes: &Store<Node>) -> Result<()> {
    let all = pods.state();
    let exists = |n: &str| nodes.get(&ObjectRef::new(n)).is_some();
    let doomed = select(&all, exists, ctx.options.terminated_pod_gc_threshold);
    let node_api: Api<Node> = Api::all(ctx.client.clone());
    for (pod, why) in doomed {
        // Confirm a missing node with the apiserver: the cache may lag.
        if why == "orphaned" {
            let node = pod
                .spec
                .as_ref()
                .and_then(|s| s.node_name.clone())
                .unwrap_or_default();
            if node_api.get_opt(&node).await?.is_some() {
                continue;
            }
        }
        let api: Api<Pod> =
            Api::namespaced(ctx.client.clone(), &pod.namespace().unwrap_or_default());
        tracing::info!(pod = %pod.name_any(), reason = why, "pod gc deleting pod");
        match api
            .delete(&pod.name_any(), &DeleteParams::default().grace_period(0))
            .await
        {
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            r => {
                r?;
            }
        }
        ctx.metrics.reconciled("pod-garbage-collector", "success");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, phase: &str, node: Option<&str>, created: &str, deleting: bool) -> Arc<Pod> {
        let mut p = json!({"metadata": {"name": name, "uid": name, "creationTimestamp": created},
            "spec": {"containers": []}, "status": {"phase": phase}});
        if let Some(n) = node {
            p["spec"]["nodeName"] = json!(n);
        }
        if deleting {
            p["metadata"]["deletionTimestamp"] = json!("2024-01-01T00:00:00Z");
        }
        Arc::new(serde_json::from_value(p).expect("pod"))
    }

    #[test]
    fn selects_excess_terminated_orphaned_and_stuck_pods() {
        let pods = vec![
            pod(
                "old-done",
                "Succeeded",
                Some("n1"),
                "2024-01-01T00:00:00Z",
                false,
            ),
            pod(
                "new-done",
                "Failed",
                Some("n1"),
                "2024-01-02T00:00:00Z",
                false,
            ),
            pod(
                "running",
                "Running",
                Some("n1"),
                "2024-01-01T00:00:00Z",
                false,
            ),
            pod(
                "orphan",
                "Running",
                Some("gone"),
                "2024-01-01T00:00:00Z",
                false,
            ),
            pod("stuck", "Pending", None, "2024-01-01T00:00:00Z", true),
            pod("pending", "Pending", None, "2024-01-01T00:00:00Z", false),
        ];
        let picked: Vec<(String, &str)> = select(&pods, |n| n == "n1", 1)
            .into_iter()
            .map(|(p, why)| (p.name_any(), why))
            .collect();
        assert_eq!(
            picked,
            [
                ("old-done".to_string(), "terminated"),
                ("orphan".to_string(), "orphaned"),
                ("stuck".to_string(), "unscheduled-terminating")
            ]
        );
        // Threshold 0 keeps every terminated pod.
        assert_eq!(select(&pods, |n| n == "n1", 0).len(), 2);
    }
}
