//! The garbage collector: watches every resource that can be listed,
//! watched and deleted (found through discovery), keeps the
//! ownerReferences graph in memory, and after each change applies what
//! [`graph::Graph::decide`] asks: background deletion of orphaned
//! dependents, orphaning (`--cascade=orphan`) and foreground deletion
//! (`--cascade=foreground`, `blockOwnerDeletion`).

pub mod graph;

use crate::Context;
use crate::error::Result;
use client::informer::{Event, MetadataSource};
use futures::FutureExt;
use futures::StreamExt;
use graph::{Action, Graph, ObjectNode, ResourceIndex};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::ResourceExt;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, PostParams, Preconditions, PropagationPolicy,
};
use kube::discovery::{Discovery, Scope, verbs};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

/// Kinds the collector never watches: high-volume and never owners.
const IGNORED: &[(&str, &str)] = &[("", "events"), ("events.k8s.io", "events")];
/// How often the graph is looked at even when nothing changed (retries).
const RESYNC: Duration = Duration::from_secs(10);

struct Watched {
    resource: ApiResource,
    namespaced: bool,
    synced: bool,
    uids: HashSet<String>,
}

#[derive(Default)]
struct Shared {
    graph: Graph,
    resources: Vec<Watched>,
    /// (group, kind) → resource, to tell whether an owner's kind is known.
    kinds: HashMap<(String, String), ResourceIndex>,
}

impl Shared {
    fn owner_resource(&self, r: &OwnerReference) -> Option<ResourceIndex> {
        let group = r.api_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
        self.kinds
            .get(&(group.to_string(), r.kind.clone()))
            .copied()
    }
}

fn group_of(ar: &ApiResource) -> &str {
    &ar.group
}

pub async fn run(ctx: Context) -> anyhow::Result<()> {
    let client = ctx.client.clone();
    let discovery = loop {
        match Discovery::new(client.clone()).run().await {
            Ok(d) => break d,
            Err(e) => {
                tracing::warn!(error = %e, "garbage collector: discovery failed; retrying");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    };
    let mut shared = Shared::default();
    for group in discovery.groups() {
        for (ar, caps) in group.recommended_resources() {
            let wanted = caps.supports_operation(verbs::LIST)
                && caps.supports_operation(verbs::WATCH)
                && caps.supports_operation(verbs::DELETE)
                && !IGNORED.contains(&(group_of(&ar), ar.plural.as_str()));
            if !wanted {
                continue;
            }
            shared
                .kinds
                .insert((ar.group.clone(), ar.kind.clone()), shared.resources.len());
            shared.resources.push(Watched {
                resource: ar,
                namespaced: caps.scope == Scope::Namespaced,
                synced: false,
                uids: HashSet::new(),
            });
        }
    }
    let shared = Arc::new(Mutex::new(shared));
    let changed = Arc::new(Notify::new());
    let resources: Vec<ApiResource> = lock(&shared)
        .resources
        .iter()
        .map(|w| w.resource.clone())
        .collect();
    for (i, ar) in resources.into_iter().enumerate() {
        // Discovery took round trips: every other controller has asked for
        // its typed informers by now, and those are shared rather than
        // watched a second time.
        let source = ctx.informers.metadata_for(&ar);
        tokio::spawn(watch_resource(source, i, shared.clone(), changed.clone()));
    }
    tracing::info!(controller = "garbage-collector", "starting controller");
    let concurrency = usize::from(ctx.options.concurrent_gc_syncs.max(1));
    loop {
        let _ = tokio::time::timeout(RESYNC, changed.notified()).await;
        // Let a burst of changes settle into one pass.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let work: Vec<(Action, ObjectNode)> = {
            let s = lock(&shared);
            s.graph
                .decide(|r| s.owner_resource(r).is_some_and(|i| s.resources[i].synced))
                .into_iter()
                .filter_map(|a| {
                    let uid = match &a {
                        Action::Delete { uid, .. }
                        | Action::RemoveOwners { uid, .. }
                        | Action::Unblock { uid }
                        | Action::RemoveFinalizer { uid, .. } => uid,
                    };
                    s.graph.objects.get(uid).cloned().map(|n| (a, n))
                })
                .collect()
        };
        futures::stream::iter(work)
            .for_each_concurrent(concurrency, |(action, node)| {
                let client = client.clone();
                let shared = shared.clone();
                let metrics = ctx.metrics.clone();
                async move {
                    match apply(&client, &shared, &action, &node).await {
                        Ok(()) => metrics.reconciled("garbage-collector", "success"),
                        Err(e) if e.is_status(404) || e.is_status(409) => {}
                        Err(e) => {
                            tracing::warn!(controller = "garbage-collector", object = %node.name, error = %e, "action failed");
                            metrics.reconciled("garbage-collector", "error");
                        }
                    }
                }
            })
            .await;
    }
}

fn lock(shared: &Mutex<Shared>) -> std::sync::MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

fn node_of(meta: &ObjectMeta, resource: ResourceIndex) -> Option<ObjectNode> {
    Some(ObjectNode {
        resource,
        namespace: meta.namespace.clone(),
        name: meta.name.clone().unwrap_or_default(),
        uid: meta.uid.clone()?,
        owners: meta.owner_references.clone().unwrap_or_default(),
        finalizers: meta.finalizers.clone().unwrap_or_default(),
        deleting: meta.deletion_timestamp.is_some(),
    })
}

/// Keeps the graph's view of one resource current, from the metadata of
/// the process's shared informer of that resource (a typed one another
/// controller runs, or a metadata-only one).
async fn watch_resource(
    source: Arc<dyn MetadataSource>,
    i: ResourceIndex,
    shared: Arc<Mutex<Shared>>,
    changed: Arc<Notify>,
) {
    let mut events = source.subscribe_metadata();
    let mut synced = source.synced();
    let apply = |event: Event<ObjectMeta>| {
        let mut s = lock(&shared);
        match event {
            Event::Added(meta) | Event::Updated { new: meta, .. } => {
                if let Some(n) = node_of(&meta, i) {
                    s.resources[i].uids.insert(n.uid.clone());
                    s.graph.objects.insert(n.uid.clone(), n);
                }
            }
            Event::Deleted(meta) => {
                if let Some(uid) = meta.uid.as_ref() {
                    s.resources[i].uids.remove(uid);
                    s.graph.objects.remove(uid);
                }
            }
        }
    };
    loop {
        tokio::select! {
            event = events.next() => match event {
                Some(e) => apply(e),
                None => return,
            },
            () = &mut synced, if !lock(&shared).resources[i].synced => {
                // What the first list delivered is queued already: take it
                // in before the resource counts as known.
                while let Some(Some(e)) = events.next().now_or_never() {
                    apply(e);
                }
                lock(&shared).resources[i].synced = true;
            }
        }
        changed.notify_one();
    }
}

fn api_for(client: &kube::Client, w: &Watched, namespace: Option<&str>) -> Api<DynamicObject> {
    match (w.namespaced, namespace) {
        (true, Some(ns)) => Api::namespaced_with(client.clone(), ns, &w.resource),
        _ => Api::all_with(client.clone(), &w.resource),
    }
}

/// Whether every one of `owners` is really gone (asked of the apiserver:
/// the graph may lag behind).
async fn confirmed_absent(
    client: &kube::Client,
    shared: &Mutex<Shared>,
    node: &ObjectNode,
    owners: &[OwnerReference],
) -> Result<bool> {
    for r in owners {
        let api = {
            let s = lock(shared);
            let Some(i) = s.owner_resource(r) else {
                return Ok(false);
            };
            api_for(client, &s.resources[i], node.namespace.as_deref())
        };
        if let Some(live) = api.get_opt(&r.name).await?
            && live.uid().as_deref() == Some(r.uid.as_str())
        {
            return Ok(false);
        }
    }
    Ok(true)
}

async fn apply(
    client: &kube::Client,
    shared: &Mutex<Shared>,
    action: &Action,
    node: &ObjectNode,
) -> Result<()> {
    let api = {
        let s = lock(shared);
        api_for(
            client,
            &s.resources[node.resource],
            node.namespace.as_deref(),
        )
    };
    match action {
        Action::Delete {
            propagation,
            confirm_absent,
            ..
        } => {
            if !confirm_absent.is_empty()
                && !confirmed_absent(client, shared, node, confirm_absent).await?
            {
                return Ok(());
            }
            let dp = DeleteParams {
                propagation_policy: Some(match propagation {
                    graph::Propagation::Foreground => PropagationPolicy::Foreground,
                    graph::Propagation::Background => PropagationPolicy::Background,
                }),
                preconditions: Some(Preconditions {
                    uid: Some(node.uid.clone()),
                    resource_version: None,
                }),
                ..Default::default()
            };
            tracing::info!(object = %node.name, propagation = propagation.as_str(), "garbage collector deleting dependent");
            api.delete(&node.name, &dp).await?;
        }
        Action::RemoveOwners {
            owners,
            confirm_absent,
            ..
        } => {
            if !confirm_absent.is_empty()
                && !confirmed_absent(client, shared, node, confirm_absent).await?
            {
                return Ok(());
            }
            let Some(mut live) = api.get_opt(&node.name).await? else {
                return Ok(());
            };
            if live.uid().as_deref() != Some(node.uid.as_str()) {
                return Ok(());
            }
            let kept: Vec<OwnerReference> = live
                .owner_references()
                .iter()
                .filter(|r| !owners.contains(&r.uid))
                .cloned()
                .collect();
            live.metadata.owner_references = (!kept.is_empty()).then_some(kept);
            api.replace(&node.name, &PostParams::default(), &live)
                .await?;
        }
        Action::Unblock { .. } => {
            let Some(mut live) = api.get_opt(&node.name).await? else {
                return Ok(());
            };
            if live.uid().as_deref() != Some(node.uid.as_str()) {
                return Ok(());
            }
            let refs: Vec<OwnerReference> = live
                .owner_references()
                .iter()
                .cloned()
                .map(|mut r| {
                    if r.block_owner_deletion == Some(true) {
                        r.block_owner_deletion = Some(false);
                    }
                    r
                })
                .collect();
            live.metadata.owner_references = Some(refs);
            tracing::info!(object = %node.name, "garbage collector unblocking owners (ownership cycle)");
            api.replace(&node.name, &PostParams::default(), &live)
                .await?;
        }
        Action::RemoveFinalizer { finalizer, .. } => {
            let Some(mut live) = api.get_opt(&node.name).await? else {
                return Ok(());
            };
            if live.uid().as_deref() != Some(node.uid.as_str()) {
                return Ok(());
            }
            let kept: Vec<String> = live
                .finalizers()
                .iter()
                .filter(|f| f != finalizer)
                .cloned()
                .collect();
            live.metadata.finalizers = Some(kept);
            api.replace(&node.name, &PostParams::default(), &live)
                .await?;
        }
    }
    Ok(())
}
