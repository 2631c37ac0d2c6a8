//! The pod garbage collector: deletes terminated pods beyond
//! `--terminated-pod-gc-threshold` (oldest first), pods bound to Nodes
//! that no longer exist, unscheduled pods stuck terminating, and
//! terminating pods on a NotReady Node tainted
//! `node.kubernetes.io/out-of-service` (the administrator declared the
//! node down for good: its kubelet will never confirm the deletion).

use crate::Context;
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
    out_of_service: impl Fn(&str) -> bool,
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
            Some(n) if p.metadata.deletion_timestamp.is_some() && out_of_service(n) => {
                out.push((p.clone(), "out-of-service"))
            }
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

/// The taint an administrator puts on a Node that is down for good.
pub const OUT_OF_SERVICE_TAINT: &str = "node.kubernetes.io/out-of-service";

/// A Node that is not Ready and carries the out-of-service NoExecute taint.
pub fn is_out_of_service(node: &Node) -> bool {
    let tainted = node
        .spec
        .as_ref()
        .and_then(|s| s.taints.as_ref())
        .is_some_and(|ts| {
            ts.iter()
                .any(|t| t.key == OUT_OF_SERVICE_TAINT && t.effect == "NoExecute")
        });
    let ready = node
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
    tainted && !ready
}

pub async fn run(ctx: Context) -> anyhow::Result<()> {
    let pod_informer = ctx.informers.get::<Pod>();
    let node_informer = ctx.informers.get::<Node>();
    pod_informer.wait_synced().await;
    let pods = pod_informer.reader().await;
    let nodes = node_informer.reader().await;
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
    let out_of_service = |n: &str| {
        nodes
            .get(&ObjectRef::new(n))
            .is_some_and(|node| is_out_of_service(&node))
    };
    let doomed = select(
        &all,
        exists,
        out_of_service,
        ctx.options.terminated_pod_gc_threshold,
    );
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
        let picked: Vec<(String, &str)> = select(&pods, |n| n == "n1", |_| false, 1)
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
        assert_eq!(select(&pods, |n| n == "n1", |_| false, 0).len(), 2);
    }

    #[test]
    fn terminating_pods_on_out_of_service_nodes() {
        let pods = vec![
            pod(
                "going",
                "Running",
                Some("down"),
                "2024-01-01T00:00:00Z",
                true,
            ),
            pod(
                "running",
                "Running",
                Some("down"),
                "2024-01-01T00:00:00Z",
                false,
            ),
            pod(
                "elsewhere",
                "Running",
                Some("n1"),
                "2024-01-01T00:00:00Z",
                true,
            ),
        ];
        let picked: Vec<(String, &str)> =
            select(&pods, |n| n == "n1" || n == "down", |n| n == "down", 0)
                .into_iter()
                .map(|(p, why)| (p.name_any(), why))
                .collect();
        assert_eq!(picked, [("going".to_string(), "out-of-service")]);
    }

    #[test]
    fn out_of_service_needs_taint_and_not_ready() {
        let node = |ready: &str, taint: Option<&str>| -> Node {
            let mut n = json!({"metadata": {"name": "n"}, "spec": {},
                "status": {"conditions": [{"type": "Ready", "status": ready}]}});
            if let Some(effect) = taint {
                n["spec"]["taints"] = json!([{"key": OUT_OF_SERVICE_TAINT, "effect": effect}]);
            }
            serde_json::from_value(n).expect("node")
        };
        let cases = [
            ("False", Some("NoExecute"), true),
            ("Unknown", Some("NoExecute"), true),
            ("True", Some("NoExecute"), false),
            ("False", Some("NoSchedule"), false),
            ("False", None, false),
        ];
        for (ready, taint, want) in cases {
            assert_eq!(
                is_out_of_service(&node(ready, taint)),
                want,
                "{ready} {taint:?}"
            );
        }
    }
}
