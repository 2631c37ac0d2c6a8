//! The node-lifecycle controller: a Node whose kubelet neither renewed its
//! Lease nor posted status for `--node-monitor-grace-period` gets its
//! conditions set to Unknown (and its pods marked not ready); condition
//! taints (`not-ready`, `unreachable`, pressure, `unschedulable`) follow
//! the conditions; pods that do not tolerate a NoExecute taint are
//! evicted, at once or when their `tolerationSeconds` run out.

pub mod taints;

use crate::Context;
use crate::error::Result;
use crate::events::Recorder;
use ::client::time::{time, to_chrono};
use chrono::{DateTime, Utc};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, NodeCondition, Pod, PodCondition};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Resource, ResourceExt};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use taints::Eviction;

pub const LEASE_NAMESPACE: &str = "kube-node-lease";

struct State {
    client: kube::Client,
    nodes: Store<Node>,
    pods: client::informer::Store<Pod>,
    leases: Store<Lease>,
    grace: chrono::Duration,
    /// Nodes get a full grace period from the controller's start: it did
    /// not watch them before.
    started: DateTime<Utc>,
    recorder: Recorder,
}

pub async fn run(ctx: Context) -> anyhow::Result<()> {
    let nodes = ctx.informers.get::<Node>();
    let pods = ctx.informers.get::<Pod>();
    let leases = ctx.informers.get::<Lease>();
    nodes.wait_synced().await;
    pods.wait_synced().await;
    leases.wait_synced().await;
    let st = Arc::new(State {
        client: ctx.client.clone(),
        nodes: nodes.reader().await,
        pods: pods.store().clone(),
        leases: leases.reader().await,
        grace: chrono::Duration::from_std(ctx.options.node_monitor_grace_period)?,
        started: Utc::now(),
        recorder: ctx.recorder("node-controller"),
    });
    tracing::info!(controller = "node-lifecycle", "starting controller");
    let period = ctx
        .options
        .node_monitor_period
        .max(Duration::from_millis(500));
    loop {
        for node in st.nodes.state() {
            let outcome = check_node(&st, &node, Utc::now()).await;
            ctx.metrics.reconciled(
                "node-lifecycle",
                if outcome.is_ok() { "success" } else { "error" },
            );
            if let Err(e) = outcome
                && !e.is_status(409)
                && !e.is_status(404)
            {
                tracing::warn!(node = %node.name_any(), error = %e, "node check failed");
            }
        }
        tokio::time::sleep(period).await;
    }
}

/// The newest sign of life: the Lease renewal, the Ready condition's
/// heartbeat, or this controller's start.
fn last_heartbeat(st: &State, node: &Node) -> DateTime<Utc> {
    let lease = st
        .leases
        .get(&ObjectRef::new(&node.name_any()).within(LEASE_NAMESPACE))
        .and_then(|l| l.spec.as_ref()?.renew_time.as_ref().map(|t| to_chrono(t.0)));
    let ready = node
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready"))
        .and_then(|c| c.last_heartbeat_time.as_ref().map(|t| to_chrono(t.0)));
    [lease, ready, Some(st.started)]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(st.started)
}

fn ready_status(node: &Node) -> Option<&str> {
    node.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready")
        .map(|c| c.status.as_str())
}

async fn check_node(st: &State, node: &Node, now: DateTime<Utc>) -> Result<()> {
    let name = node.name_any();
    let nodes: Api<Node> = Api::all(st.client.clone());
    if now - last_heartbeat(st, node) > st.grace && ready_status(node) != Some("Unknown") {
        mark_unknown(st, node, now).await?;
        // Taints follow on the next pass, from the written conditions.
        return Ok(());
    }
    if let Some(t) = taints::reconcile_taints(node, now) {
        let patch = json!({"spec": {"taints": t}});
        nodes
            .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await?;
        return Ok(());
    }
    let node_taints = node
        .spec
        .as_ref()
        .and_then(|s| s.taints.clone())
        .unwrap_or_default();
    if !node_taints.iter().any(|t| t.effect == "NoExecute") {
        return Ok(());
    }
    for pod in pods_on(st, &name) {
        if pod.metadata.deletion_timestamp.is_some()
            || taints::eviction(&pod, &node_taints, now) != Eviction::Now
        {
            continue;
        }
        let api: Api<Pod> =
            Api::namespaced(st.client.clone(), &pod.namespace().unwrap_or_default());
        st.recorder.normal(
            pod.object_ref(&()),
            "TaintManagerEviction",
            format!(
                "Marking for deletion Pod {}/{}",
                pod.namespace().unwrap_or_default(),
                pod.name_any()
            ),
        );
        match api.delete(&pod.name_any(), &DeleteParams::default()).await {
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            r => {
                r?;
            }
        }
    }
    Ok(())
}

fn pods_on(st: &State, node: &str) -> Vec<Arc<Pod>> {
    crate::informers::pods_on_node(&st.pods, node)
}

/// Conditions to Unknown ("Kubelet stopped posting node status."), the
/// node's pods to not ready.
async fn mark_unknown(st: &State, node: &Node, now: DateTime<Utc>) -> Result<()> {
    let name = node.name_any();
    let mut updated = node.clone();
    let status = updated.status.get_or_insert_with(Default::default);
    let conds = status.conditions.get_or_insert_with(Vec::new);
    for type_ in ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"] {
        if !conds.iter().any(|c| c.type_ == type_) {
            conds.push(NodeCondition {
                type_: type_.into(),
                ..Default::default()
            });
        }
    }
    for c in conds.iter_mut().filter(|c| {
        matches!(
            c.type_.as_str(),
            "Ready" | "MemoryPressure" | "DiskPressure" | "PIDPressure"
        )
    }) {
        c.status = "Unknown".into();
        c.reason = Some("NodeStatusUnknown".into());
        c.message = Some("Kubelet stopped posting node status.".into());
        c.last_transition_time = Some(time(now));
    }
    let nodes: Api<Node> = Api::all(st.client.clone());
    nodes
        .replace_status(&name, &PostParams::default(), &updated)
        .await?;
    tracing::info!(node = %name, "node stopped posting status; marked Unknown");
    st.recorder.normal(
        node.object_ref(&()),
        "NodeNotReady",
        format!("Node {name} status is now: NodeNotReady"),
    );
    for pod in pods_on(st, &name) {
        let ready = crate::controllers::endpoints::subsets::pod_condition_true(&pod, "Ready");
        if !ready {
            continue;
        }
        // The cached pod is compacted (compact.rs), so only its conditions
        // are written back, guarded by its resourceVersion.
        let mut conditions = pod
            .status
            .as_ref()
            .and_then(|s| s.conditions.clone())
            .unwrap_or_default();
        for c in conditions.iter_mut().filter(|c| c.type_ == "Ready") {
            *c = PodCondition {
                type_: "Ready".into(),
                status: "False".into(),
                last_transition_time: Some(time(now)),
                ..Default::default()
            };
        }
        let api: Api<Pod> =
            Api::namespaced(st.client.clone(), &pod.namespace().unwrap_or_default());
        let patch = serde_json::json!({
            "metadata": {"resourceVersion": pod.metadata.resource_version},
            "status": {"conditions": conditions},
        });
        if let Err(e) = api
            .patch_status(
                &pod.name_any(),
                &PatchParams::default(),
                &Patch::Merge(patch),
            )
            .await
        {
            tracing::debug!(pod = %pod.name_any(), error = %e, "could not mark pod not ready");
        }
    }
    Ok(())
}
