//! The namespace controller: a deleted namespace (Terminating, still
//! holding the `kubernetes` finalizer) has every namespaced object in it
//! deleted, found through API discovery; once nothing is left the
//! finalizer is removed through `/finalize` and the apiserver lets the
//! namespace go.

use crate::Context;
use crate::controllers::run_controller;
use crate::error::Result;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, PostParams};
use kube::discovery::{Discovery, Scope, verbs};
use kube::runtime::controller::{Action, Config};
use kube::runtime::{Controller, watcher};
use kube::{Resource, ResourceExt};
use std::sync::Arc;
use std::time::Duration;

/// The finalizer the apiserver puts in every namespace's `spec.finalizers`.
pub const FINALIZER: &str = "kubernetes";

/// How soon to look again while objects are still going away.
const RECHECK: Duration = Duration::from_secs(2);

struct State {
    client: kube::Client,
}

pub async fn run(ctx: Context) -> anyhow::Result<()> {
    let client = ctx.client.clone();
    let controller = Controller::new(
        Api::<Namespace>::all(client.clone()),
        watcher::Config::default(),
    )
    .with_config(Config::default().concurrency(ctx.options.concurrent_namespace_syncs));
    run_controller(
        "namespace",
        ctx.metrics.clone(),
        controller,
        reconcile,
        Arc::new(State { client }),
    )
    .await
}

fn has_finalizer(ns: &Namespace) -> bool {
    ns.spec
        .as_ref()
        .and_then(|s| s.finalizers.as_ref())
        .is_some_and(|f| f.iter().any(|x| x == FINALIZER))
}

async fn reconcile(ns: Arc<Namespace>, st: Arc<State>) -> Result<Action> {
    if ns.meta().deletion_timestamp.is_none() || !has_finalizer(&ns) {
        return Ok(Action::await_change());
    }
    let name = ns.name_any();
    let remaining = delete_content(&st.client, &name).await?;
    if remaining > 0 {
        tracing::debug!(namespace = %name, remaining, "namespace content still going away");
        return Ok(Action::requeue(RECHECK));
    }
    let api: Api<Namespace> = Api::all(st.client.clone());
    let Some(mut cur) = api.get_opt(&name).await? else {
        return Ok(Action::await_change());
    };
    if let Some(spec) = cur.spec.as_mut() {
        spec.finalizers = Some(
            spec.finalizers
                .take()
                .unwrap_or_default()
                .into_iter()
                .filter(|f| f != FINALIZER)
                .collect(),
        );
    }
    let body = serde_json::to_vec(&cur)?;
    match api
        .replace_subresource("finalize", &name, &PostParams::default(), body)
        .await
    {
        Err(kube::Error::Api(e)) if e.code == 404 => {}
        r => {
            r?;
        }
    }
    tracing::info!(namespace = %name, "namespace emptied and finalized");
    Ok(Action::await_change())
}

/// Deletes every object of every namespaced resource in `ns`; returns how
/// many objects were still there (being deleted, or held by finalizers).
async fn delete_content(client: &kube::Client, ns: &str) -> Result<usize> {
    let discovery = Discovery::new(client.clone()).run().await?;
    let mut remaining = 0;
    for group in discovery.groups() {
        for (ar, caps) in group.recommended_resources() {
            if caps.scope != Scope::Namespaced || !caps.supports_operation(verbs::LIST) {
                continue;
            }
            let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &ar);
            let list = match api.list(&ListParams::default()).await {
                Ok(l) => l,
                // A resource that cannot be listed (gone, not served) holds nothing.
                Err(kube::Error::Api(e)) if matches!(e.code, 404 | 405) => continue,
                Err(e) => return Err(e.into()),
            };
            if list.items.is_empty() {
                continue;
            }
            remaining += list.items.len();
            if list
                .items
                .iter()
                .all(|o| o.meta().deletion_timestamp.is_some())
            {
                continue;
            }
            let dp = DeleteParams::background();
            if caps.supports_operation(verbs::DELETE_COLLECTION) {
                match api.delete_collection(&dp, &ListParams::default()).await {
                    Ok(_) => continue,
                    Err(kube::Error::Api(e)) if matches!(e.code, 404 | 405) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            for obj in list
                .items
                .iter()
                .filter(|o| o.meta().deletion_timestamp.is_none())
            {
                match api.delete(&obj.name_any(), &dp).await {
                    Err(kube::Error::Api(e)) if e.code == 404 => {}
                    r => {
                        r?;
                    }
                }
            }
        }
    }
    Ok(remaining)
}
