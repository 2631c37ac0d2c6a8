//! The nodeipam controller (with `--allocate-node-cidrs`): give every Node
//! without one a `podCIDR` from `--cluster-cidr`, `--node-cidr-mask-size`
//! long. The pool is rebuilt from the Nodes that exist, so a deleted
//! Node's range is free again for the next Node.

pub mod cidr_set;

use crate::Context;
use crate::controllers::run_controller;
use crate::error::{Error, Result};
use cidr_set::{Cidr, CidrSet};
use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::Controller;
use kube::runtime::controller::Action;
use kube::runtime::reflector::Store;
use kube::{Resource, ResourceExt};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

struct State {
    client: kube::Client,
    nodes: Store<Node>,
    /// The empty pool for the cluster CIDR.
    pool: CidrSet,
    /// Ranges handed out whose Node does not show them yet.
    in_flight: Mutex<BTreeMap<String, Cidr>>,
    recorder: crate::events::Recorder,
}

pub async fn run(ctx: Context) -> anyhow::Result<()> {
    if !ctx.options.allocate_node_cidrs {
        tracing::info!("nodeipam: --allocate-node-cidrs is off; not allocating pod CIDRs");
        // The process treats a controller that returns as failed.
        return std::future::pending().await;
    }
    let cluster = ctx
        .options
        .cluster_cidr
        .as_deref()
        .ok_or_else(|| anyhow::anyhow!("--allocate-node-cidrs needs --cluster-cidr"))?;
    // Several comma-separated CIDRs (dual stack) use the first family's.
    let first = cluster.split(',').next().unwrap_or_default();
    let pool = CidrSet::new(first.parse()?, ctx.options.node_cidr_mask_size)?;
    let client = ctx.client.clone();
    let informer = ctx.informers.get::<Node>();
    let events = informer.subscribe().objects();
    let nodes = informer.reader().await;
    let controller = Controller::for_shared_stream(events, nodes.clone());
    let state = Arc::new(State {
        client,
        nodes,
        pool,
        in_flight: Mutex::new(BTreeMap::new()),
        recorder: ctx.recorder("cidrAllocator"),
    });
    run_controller(
        "nodeipam",
        ctx.metrics.clone(),
        controller,
        reconcile,
        state,
    )
    .await
}

fn pod_cidr(node: &Node) -> Option<&str> {
    node.spec
        .as_ref()
        .and_then(|s| s.pod_cidr.as_deref())
        .filter(|c| !c.is_empty())
}

/// The lowest range neither an existing Node nor an allocation in flight
/// holds, recorded as in flight for `node`.
fn allocate(st: &State, node: &str) -> Result<Cidr> {
    let mut in_flight = st
        .in_flight
        .lock()
        .map_err(|_| Error::invalid("nodeipam", "allocator lock poisoned"))?;
    let nodes = st.nodes.state();
    // Allocations the store now shows (or whose node left) are settled.
    in_flight.retain(|name, _| {
        nodes
            .iter()
            .any(|n| n.name_any() == *name && pod_cidr(n).is_none())
    });
    if let Some(c) = in_flight.get(node) {
        return Ok(*c);
    }
    let mut pool = st.pool.clone();
    for n in &nodes {
        if let Some(c) = pod_cidr(n).and_then(|c| c.parse::<Cidr>().ok()) {
            // Ranges outside the cluster CIDR were set by someone else.
            let _ = pool.occupy(&c);
        }
    }
    for c in in_flight.values() {
        let _ = pool.occupy(c);
    }
    let c = pool
        .allocate_next()
        .map_err(|e| Error::invalid("pod CIDR", e.to_string()))?;
    in_flight.insert(node.to_string(), c);
    Ok(c)
}

async fn reconcile(node: Arc<Node>, st: Arc<State>) -> Result<Action> {
    if pod_cidr(&node).is_some() || node.meta().deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let name = node.name_any();
    let cidr = match allocate(&st, &name) {
        Ok(c) => c,
        Err(e) => {
            st.recorder.warning(
                node.object_ref(&()),
                "CIDRNotAvailable",
                format!("Node {name} status is now: CIDRNotAvailable"),
            );
            return Err(e);
        }
    };
    let api: Api<Node> = Api::all(st.client.clone());
    let patch = json!({"spec": {"podCIDR": cidr.to_string(), "podCIDRs": [cidr.to_string()]}});
    if let Err(e) = api
        .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
    {
        st.recorder.warning(
            node.object_ref(&()),
            "CIDRAssignmentFailed",
            format!("Node {name} status is now: CIDRAssignmentFailed"),
        );
        if let Ok(mut m) = st.in_flight.lock() {
            m.remove(&name);
        }
        return Err(e.into());
    }
    tracing::info!(node = %name, pod_cidr = %cidr, "allocated pod CIDR");
    Ok(Action::await_change())
}
