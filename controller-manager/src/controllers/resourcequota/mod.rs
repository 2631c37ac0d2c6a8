//! The resourcequota controller: keeps every ResourceQuota's `status.hard`
//! equal to its `spec.hard` and `status.used` equal to what the namespace
//! really holds. The apiserver's ResourceQuota admission charges creates to
//! `status.used` as they happen; this recount is what gives back what
//! deletes freed (and corrects charges for creates that later failed).

use apimachinery::quota_scopes as scopes;
use apimachinery::quota_usage as usage;

use crate::Context;
use crate::controllers::run_controller;
use crate::error::Result;
use client::informer::{Event, Store};
use futures::StreamExt;
use k8s_openapi::api::core::v1::{
    ConfigMap, PersistentVolumeClaim, Pod, ResourceQuota, Secret, Service,
};
use kube::ResourceExt;
use kube::api::{Api, ApiResource, DynamicObject, ListParams, Patch, PatchParams};
use kube::runtime::Controller;
use kube::runtime::controller::Action;
use kube::runtime::reflector::ObjectRef;
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use usage::{Usage, render_usage, usage_of};

/// Full recount period (upstream's --resource-quota-sync-period is 5m;
/// changes that do not give quota back, and kinds without an informer
/// here, like count/deployments.apps, rely on it).
const RESYNC: Duration = Duration::from_secs(30);

struct State {
    client: kube::Client,
}

/// The quotas of `ns`, to wake when an object there frees what they count.
fn quotas_in(quotas: &Store<ResourceQuota>, ns: Option<&str>) -> Vec<ObjectRef<ResourceQuota>> {
    let Some(ns) = ns else {
        return Vec::new();
    };
    quotas
        .namespaced(ns)
        .iter()
        .map(|q| ObjectRef::from_obj(q.as_ref()))
        .collect()
}

fn is_terminal(pod: &Pod) -> bool {
    matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

fn service_type(svc: &Service) -> Option<&str> {
    svc.spec.as_ref().and_then(|s| s.type_.as_deref())
}

/// Whether a change gives back quota, as upstream's replenishment decides:
/// every deletion; a pod turning terminal (it stops counting compute); a
/// Service changing type (node ports, load balancers). Creations were
/// charged by admission; everything else is caught by the periodic
/// recount.
fn replenishes<K>(event: &Event<K>, updated: impl Fn(&K, &K) -> bool) -> bool {
    match event {
        Event::Added(_) => false,
        Event::Updated { old, new } => updated(old, new),
        Event::Deleted(_) => true,
    }
}

pub async fn run(ctx: Context) -> anyhow::Result<()> {
    let client = ctx.client.clone();
    let quota_informer = ctx.informers.get::<ResourceQuota>();
    let pods = ctx.informers.get::<Pod>();
    let services = ctx.informers.get::<Service>();
    let claims = ctx.informers.get::<PersistentVolumeClaim>();
    let quota_events = quota_informer.subscribe().objects();
    let quotas = quota_informer.store().clone();
    let wake = |quotas: &Store<ResourceQuota>| {
        let quotas = quotas.clone();
        move |ns: Option<&str>| futures::stream::iter(quotas_in(&quotas, ns))
    };
    let (wp, ws, wc, wm) = (wake(&quotas), wake(&quotas), wake(&quotas), wake(&quotas));
    let pod_triggers = pods.subscribe().into_stream().flat_map(move |e| {
        let hit = replenishes(&e, |o, n| !is_terminal(o) && is_terminal(n));
        wp(hit
            .then(|| e.object().metadata.namespace.as_deref())
            .flatten())
    });
    let service_triggers = services.subscribe().into_stream().flat_map(move |e| {
        let hit = replenishes(&e, |o, n| service_type(o) != service_type(n));
        ws(hit
            .then(|| e.object().metadata.namespace.as_deref())
            .flatten())
    });
    let claim_triggers = claims.subscribe().into_stream().flat_map(move |e| {
        let hit = replenishes(&e, |_, _| false);
        wc(hit
            .then(|| e.object().metadata.namespace.as_deref())
            .flatten())
    });
    let reader = quota_informer.reader().await;
    // ConfigMaps and Secrets are only counted: their deletions are seen
    // through metadata (the typed informers other controllers run, when
    // they do; asked for after the round trip above, so those exist).
    let object_triggers = futures::stream::select_all(
        [
            ctx.informers
                .metadata_for(&ApiResource::erase::<ConfigMap>(&())),
            ctx.informers
                .metadata_for(&ApiResource::erase::<Secret>(&())),
        ]
        .map(|source| source.subscribe_metadata()),
    )
    .flat_map(move |e| {
        let hit = matches!(e, Event::Deleted(_));
        wm(hit.then(|| e.object().namespace.as_deref()).flatten())
    });
    let controller = Controller::for_shared_stream(quota_events, reader)
        .reconcile_on(pod_triggers)
        .reconcile_on(service_triggers)
        .reconcile_on(claim_triggers)
        .reconcile_on(object_triggers);
    run_controller(
        "resourcequota",
        ctx.metrics.clone(),
        controller,
        reconcile,
        Arc::new(State { client }),
    )
    .await
}

/// The served version of the groups a `count/<resource>.<group>` may name.
fn version_of(group: &str) -> &'static str {
    match group {
        "autoscaling" => "v2",
        _ => "v1",
    }
}

async fn reconcile(quota: Arc<ResourceQuota>, st: Arc<State>) -> Result<Action> {
    let ns = quota.namespace().unwrap_or_default();
    let hard: Map<String, Value> = serde_json::to_value(
        quota
            .spec
            .as_ref()
            .and_then(|s| s.hard.clone())
            .unwrap_or_default(),
    )?
    .as_object()
    .cloned()
    .unwrap_or_default();
    let hard_usage = usage::parse_usage(Some(&Value::Object(hard.clone())));
    let quota_value = serde_json::to_value(quota.as_ref())?;
    let mut total = Usage::new();
    for (group, plural) in usage::resources_for(hard_usage.keys()) {
        let version = version_of(&group);
        let api_version = if group.is_empty() {
            version.to_string()
        } else {
            format!("{group}/{version}")
        };
        let ar = ApiResource {
            group: group.clone(),
            version: version.to_string(),
            api_version,
            kind: String::new(),
            plural: plural.clone(),
        };
        let api: Api<DynamicObject> = Api::namespaced_with(st.client.clone(), &ns, &ar);
        let list = match api.list(&ListParams::default()).await {
            Ok(l) => l,
            // A kind this apiserver does not serve counts as none.
            Err(kube::Error::Api(e)) if e.code == 404 => continue,
            Err(e) => return Err(e.into()),
        };
        for item in list.items {
            let v = serde_json::to_value(&item)?;
            // A scoped quota counts only the pods its scopes select.
            if !scopes::applies(&quota_value, &group, &plural, &v) {
                continue;
            }
            for (k, m) in usage_of(&group, &plural, &v) {
                *total.entry(k).or_insert(0) += m;
            }
        }
    }
    let used: Usage = hard_usage
        .keys()
        .map(|k| (k.clone(), total.get(k).copied().unwrap_or(0)))
        .collect();
    let status = quota.status.clone().unwrap_or_default();
    let current_used = serde_json::to_value(status.used.unwrap_or_default())?;
    let current_hard = serde_json::to_value(status.hard.unwrap_or_default())?;
    let want_used = Value::Object(render_usage(&used));
    let want_hard = Value::Object(hard.clone());
    if usage::same(&current_used, &want_used) && usage::same(&current_hard, &want_hard) {
        return Ok(Action::requeue(RESYNC));
    }
    // Keys no longer limited are removed (null in a merge patch).
    let mut used_patch = want_used.as_object().cloned().unwrap_or_default();
    let mut hard_patch = hard;
    let gone = |cur: &Value, keep: &mut Map<String, Value>| {
        for k in cur
            .as_object()
            .map(|m| m.keys().cloned().collect::<BTreeSet<_>>())
            .unwrap_or_default()
        {
            keep.entry(k).or_insert(Value::Null);
        }
    };
    gone(&current_used, &mut used_patch);
    gone(&current_hard, &mut hard_patch);
    let api: Api<ResourceQuota> = Api::namespaced(st.client.clone(), &ns);
    api.patch_status(
        &quota.name_any(),
        &PatchParams::default(),
        &Patch::Merge(&json!({"status": {"hard": hard_patch, "used": used_patch}})),
    )
    .await?;
    Ok(Action::requeue(RESYNC))
}
