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
use k8s_openapi::api::core::v1::{
    ConfigMap, PersistentVolumeClaim, Pod, ResourceQuota, Secret, Service,
};
use kube::ResourceExt;
use kube::api::{Api, ApiResource, DynamicObject, ListParams, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::{Controller, watcher};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use usage::{Usage, render_usage, usage_of};

/// Full recount period (upstream's --resource-quota-sync-period is 5m;
/// kinds without a watch here, like count/deployments.apps, rely on it).
const RESYNC: Duration = Duration::from_secs(30);

struct State {
    client: kube::Client,
}

/// The quotas of `ns`, to wake when an object there changes.
fn quotas_in(quotas: &Store<ResourceQuota>, ns: Option<String>) -> Vec<ObjectRef<ResourceQuota>> {
    let Some(ns) = ns else {
        return Vec::new();
    };
    quotas
        .state()
        .iter()
        .filter(|q| q.namespace().as_deref() == Some(ns.as_str()))
        .map(|q| ObjectRef::from_obj(q.as_ref()))
        .collect()
}

pub async fn run(ctx: Context) -> anyhow::Result<()> {
    let client = ctx.client.clone();
    let quotas = ctx.informers.get::<ResourceQuota>().store.clone();
    crate::controllers::reflected::wait_synced(&quotas).await;
    let q = |s: &Store<ResourceQuota>| {
        let s = s.clone();
        move |ns: Option<String>| quotas_in(&s, ns)
    };
    let (qp, qs, qc, qsec, qpvc) = (q(&quotas), q(&quotas), q(&quotas), q(&quotas), q(&quotas));
    let cfg = watcher::Config::default;
    let controller = Controller::new(Api::<ResourceQuota>::all(client.clone()), cfg())
        .watches(Api::<Pod>::all(client.clone()), cfg(), move |o| {
            qp(o.namespace())
        })
        .watches(Api::<Service>::all(client.clone()), cfg(), move |o| {
            qs(o.namespace())
        })
        .watches(Api::<ConfigMap>::all(client.clone()), cfg(), move |o| {
            qc(o.namespace())
        })
        .watches(Api::<Secret>::all(client.clone()), cfg(), move |o| {
            qsec(o.namespace())
        })
        .watches(
            Api::<PersistentVolumeClaim>::all(client.clone()),
            cfg(),
            move |o| qpvc(o.namespace()),
        )
        .with_config(
            kube::runtime::controller::Config::default()
                .debounce(crate::controllers::reflected::SETTLE),
        );
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
