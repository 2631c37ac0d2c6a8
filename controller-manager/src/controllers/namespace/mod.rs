//! The namespace controller: a deleted namespace (Terminating, still
//! holding the `kubernetes` finalizer) has every namespaced object in it
//! deleted, found through API discovery; once nothing is left the
//! finalizer is removed through `/finalize` and the apiserver lets the
//! namespace go. Each pass records what it found as the namespace's status
//! conditions (`conditions.rs`).

mod conditions;

use crate::Context;
use crate::controllers::run_controller;
use crate::error::Result;
use conditions::Findings;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::discovery::{Discovery, Scope, verbs};
use kube::runtime::Controller;
use kube::runtime::controller::{Action, Config};
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
    let namespaces = ctx.informers.get::<Namespace>();
    let events = namespaces.subscribe().objects();
    let controller = Controller::for_shared_stream(events, namespaces.reader().await)
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
    let findings = delete_content(&st.client, &name).await;
    record_conditions(&st.client, &ns, &findings).await?;
    if findings.discovery_error.is_some() || !findings.content_errors.is_empty() {
        return Ok(Action::requeue(RECHECK));
    }
    let remaining = findings.remaining_total();
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
    match api
        .replace_subresource("finalize", &name, &PostParams::default(), &cur)
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

/// Writes the deletion conditions into the namespace's status when this
/// pass changed them (a merge patch of `status.conditions` only, so the
/// Terminating phase stays).
async fn record_conditions(
    client: &kube::Client,
    ns: &Namespace,
    findings: &Findings,
) -> Result<()> {
    let old: Vec<serde_json::Value> = ns
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .map(|c| {
            c.iter()
                .filter_map(|c| serde_json::to_value(c).ok())
                .collect()
        })
        .unwrap_or_default();
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let Some(conds) = conditions::updated(&old, findings, &now) else {
        return Ok(());
    };
    let api: Api<Namespace> = Api::all(client.clone());
    let patch = serde_json::json!({"status": {"conditions": conds}});
    match api
        .patch_status(
            &ns.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await
    {
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        r => r.map(|_| ()).map_err(Into::into),
    }
}

/// Deletes every object of every namespaced resource in `ns` and reports
/// what is still there afterwards (being deleted, or held by finalizers)
/// and what failed, for the status conditions. A failure on one resource
/// does not stop the others, as upstream.
async fn delete_content(client: &kube::Client, ns: &str) -> Findings {
    let mut findings = Findings::default();
    let discovery = match Discovery::new(client.clone()).run().await {
        Ok(d) => d,
        Err(e) => {
            findings.discovery_error = Some(e.to_string());
            return findings;
        }
    };
    for group in discovery.groups() {
        for (ar, caps) in group.recommended_resources() {
            if caps.scope != Scope::Namespaced || !caps.supports_operation(verbs::LIST) {
                continue;
            }
            let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &ar);
            if let Err(e) = delete_resource(
                &api,
                caps.supports_operation(verbs::DELETE_COLLECTION),
                &ar.group,
                &ar.plural,
                &mut findings,
            )
            .await
            {
                findings
                    .content_errors
                    .push(format!("{}.{}: {e}", ar.plural, ar.group));
            }
        }
    }
    findings
}

/// Deletes the objects of one resource and counts what remains.
async fn delete_resource(
    api: &Api<DynamicObject>,
    collection: bool,
    group: &str,
    resource: &str,
    findings: &mut Findings,
) -> std::result::Result<(), kube::Error> {
    let list = match api.list(&ListParams::default()).await {
        Ok(l) => l,
        // A resource that cannot be listed (gone, not served) holds nothing.
        Err(kube::Error::Api(e)) if matches!(e.code, 404 | 405) => return Ok(()),
        Err(e) => return Err(e),
    };
    if list.items.is_empty() {
        return Ok(());
    }
    let all_going = list
        .items
        .iter()
        .all(|o| o.meta().deletion_timestamp.is_some());
    let left = if all_going {
        list.items
    } else {
        let dp = DeleteParams::background();
        let mut done = false;
        if collection {
            match api.delete_collection(&dp, &ListParams::default()).await {
                Ok(_) => done = true,
                Err(kube::Error::Api(e)) if matches!(e.code, 404 | 405) => {}
                Err(e) => return Err(e),
            }
        }
        if !done {
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
        // What survived the delete: objects held by finalizers or a
        // grace period.
        api.list(&ListParams::default()).await?.items
    };
    for obj in &left {
        findings.count(group, resource, obj.finalizers());
    }
    Ok(())
}
