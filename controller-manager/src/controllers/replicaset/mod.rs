//! The replicaset and replicationcontroller controllers: make each set
//! have `replicas` active pods built from its template. Pods are matched by
//! selector and owned through a controller ownerReference: matching orphans
//! are adopted, owned pods that stop matching are released. Missing pods
//! are created in slow-start batches (1, 2, 4, ...) that stop at the first
//! failure; extra pods are deleted in the order of
//! [`deletion_order`](crate::controllers::podutil::deletion_order).

mod claim;
pub mod kind;
mod scale;
pub mod status;

use crate::Context;
use crate::controllers::expectations::Expectations;
use crate::controllers::podutil::{controller_of, is_active, seconds_until_available};
use crate::controllers::run_controller;
use crate::error::Result;
use client::informer::Store;
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::{Pod, ReplicationController};
use kind::ReplicaKind;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::Controller;
use kube::runtime::controller::{Action, Config};
use kube::runtime::reflector::ObjectRef;
use kube::{Resource, ResourceExt};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// The most pods created or deleted in one sync (upstream's burstReplicas).
pub const BURST: usize = 500;

pub async fn run(ctx: Context) -> anyhow::Result<()> {
    run_kind::<ReplicaSet>(ctx).await
}

/// The replicationcontroller controller (same logic, older kind).
pub async fn run_rc(ctx: Context) -> anyhow::Result<()> {
    run_kind::<ReplicationController>(ctx).await
}

struct State<K: ReplicaKind> {
    ctx: Context,
    pods: Store<Pod>,
    sets: Store<K>,
    expectations: Expectations,
}

/// The sets a pod event concerns: its controller when that is a `K`, or,
/// for an orphan, every set in its namespace whose selector matches it.
fn sets_for_pod<K: ReplicaKind>(pod: &Pod, sets: &Store<K>) -> Vec<ObjectRef<K>> {
    let ns = pod.namespace().unwrap_or_default();
    if let Some(owner) = controller_of(&pod.metadata) {
        if owner.kind == K::kind(&()) {
            return vec![ObjectRef::new(&owner.name).within(&ns)];
        }
        return Vec::new();
    }
    let labels = pod.labels();
    sets.namespaced(&ns)
        .iter()
        .filter(|s| {
            s.spec_view()
                .is_ok_and(|v| !v.selector.is_empty() && v.selector.matches(labels))
        })
        .map(|s| ObjectRef::from_obj(s.as_ref()))
        .collect()
}

async fn run_kind<K: ReplicaKind>(ctx: Context) -> anyhow::Result<()> {
    let pods = ctx.informers.get::<Pod>();
    let sets = ctx.informers.get::<K>();
    let set_events = sets.subscribe().objects();
    let pod_events = pods.subscribe().objects();
    pods.wait_synced().await;
    let state = Arc::new(State {
        ctx: ctx.clone(),
        pods: pods.store().clone(),
        sets: sets.store().clone(),
        expectations: Expectations::default(),
    });
    let lookup = sets.store().clone();
    let controller = Controller::for_shared_stream(set_events, sets.reader().await)
        .watches_shared_stream(pod_events, move |pod: Arc<Pod>| {
            sets_for_pod::<K>(&pod, &lookup)
        })
        .with_config(Config::default().concurrency(K::concurrency(&ctx.options)));
    run_controller(
        K::CONTROLLER,
        ctx.metrics.clone(),
        controller,
        reconcile::<K>,
        state,
    )
    .await
}

/// The message of the ReplicaFailure condition the status already shows.
fn standing_failure(status: &serde_json::Value) -> Option<String> {
    status
        .get("conditions")?
        .as_array()?
        .iter()
        .find(|c| c["type"] == "ReplicaFailure" && c["status"] == "True")?
        .get("message")?
        .as_str()
        .map(String::from)
}

fn key_of<K: Resource>(obj: &K) -> String {
    format!(
        "{}/{}",
        obj.meta().namespace.as_deref().unwrap_or_default(),
        obj.meta().name.as_deref().unwrap_or_default()
    )
}

async fn reconcile<K: ReplicaKind>(set: Arc<K>, st: Arc<State<K>>) -> Result<Action> {
    let key = key_of(set.as_ref());
    // The cache may hold a deleted set that the trigger still names.
    if st.sets.get(&ObjectRef::from_obj(set.as_ref())).is_none() {
        st.expectations.forget(&key);
        return Ok(Action::await_change());
    }
    let view = set.spec_view()?;
    let ns = set.namespace().unwrap_or_default();
    let in_namespace: Vec<Arc<Pod>> = st.pods.namespaced(&ns);
    let live: HashMap<&str, bool> = in_namespace
        .iter()
        .filter_map(|p| {
            Some((
                p.metadata.uid.as_deref()?,
                p.metadata.deletion_timestamp.is_none(),
            ))
        })
        .collect();
    let owned = claim::claim(&st.ctx, set.as_ref(), &view, &in_namespace).await?;
    let active: Vec<&Pod> = owned
        .iter()
        .map(Arc::as_ref)
        .filter(|p| is_active(p))
        .collect();

    let terminating = set.meta().deletion_timestamp.is_some();
    let current = set.status_json();
    let failure = if !terminating
        && st
            .expectations
            .satisfied(&key, |uid| live.get(uid).copied().unwrap_or(false))
    {
        scale::scale(
            &st.ctx,
            &st.expectations,
            &key,
            set.as_ref(),
            &view,
            &active,
        )
        .await?
    } else {
        // Not scaling this time: a standing failure still stands.
        standing_failure(&current)
    };

    let now = chrono::Utc::now();
    let template_labels = view
        .template
        .metadata
        .as_ref()
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    let desired = status::compute(
        &active,
        &template_labels,
        view.min_ready_seconds,
        set.meta().generation,
        failure.as_deref(),
        &current,
        now,
    );
    if status::differs(&desired, &current) {
        let api: Api<K> = Api::namespaced(st.ctx.client.clone(), &ns);
        api.patch_status(
            &set.name_any(),
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({ "status": desired })),
        )
        .await?;
    }
    // Come back when a ready pod turns available, or to retry a failure.
    let wait = active
        .iter()
        .filter_map(|p| seconds_until_available(p, view.min_ready_seconds, now))
        .min()
        .map(|s| Duration::from_secs(s.max(1) as u64));
    Ok(match (failure, wait) {
        (Some(_), _) => Action::requeue(Duration::from_secs(5)),
        (None, Some(w)) => Action::requeue(w),
        (None, None) => Action::requeue(Duration::from_secs(300)),
    })
}
