//! The pvc-protection controller: every PersistentVolumeClaim carries the
//! `kubernetes.io/pvc-protection` finalizer, removed once a deleted claim
//! is used by no pod that is still running or may run.

use crate::Context;
use crate::controllers::pv_protection::finalizers_with;
use crate::controllers::run_controller;
use crate::error::Result;
use client::informer::Store;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::Controller;
use kube::runtime::controller::Action;
use kube::runtime::reflector::ObjectRef;
use kube::{Resource, ResourceExt};
use serde_json::json;
use std::sync::Arc;

pub const FINALIZER: &str = "kubernetes.io/pvc-protection";

struct State {
    client: kube::Client,
    pods: Store<Pod>,
}

pub async fn run(ctx: Context) -> anyhow::Result<()> {
    let client = ctx.client.clone();
    let claims = ctx.informers.get::<PersistentVolumeClaim>();
    let pod_informer = ctx.informers.get::<Pod>();
    let claim_events = claims.subscribe().objects();
    let pod_events = pod_informer.subscribe().objects();
    pod_informer.wait_synced().await;
    let pods = pod_informer.store().clone();
    // A pod going away may release the claims it mounts.
    let controller = Controller::for_shared_stream(claim_events, claims.reader().await)
        .watches_shared_stream(pod_events, |pod: Arc<Pod>| {
            let ns = pod.namespace().unwrap_or_default();
            claims_of(&pod)
                .into_iter()
                .map(|c| ObjectRef::new(&c).within(&ns))
                .collect::<Vec<_>>()
        });
    run_controller(
        "pvc-protection",
        ctx.metrics.clone(),
        controller,
        reconcile,
        Arc::new(State { client, pods }),
    )
    .await
}

/// The claims a pod mounts.
pub fn claims_of(pod: &Pod) -> Vec<String> {
    pod.spec
        .iter()
        .flat_map(|s| s.volumes.iter().flatten())
        .filter_map(|v| {
            v.persistent_volume_claim
                .as_ref()
                .map(|c| c.claim_name.clone())
        })
        .collect()
}

fn in_use(st: &State, ns: &str, claim: &str) -> bool {
    st.pods.namespaced(ns).iter().any(|p| {
        let done = matches!(
            p.status.as_ref().and_then(|s| s.phase.as_deref()),
            Some("Succeeded" | "Failed")
        );
        !done && claims_of(p).iter().any(|c| c == claim)
    })
}

async fn reconcile(pvc: Arc<PersistentVolumeClaim>, st: Arc<State>) -> Result<Action> {
    let ns = pvc.namespace().unwrap_or_default();
    let deleting = pvc.meta().deletion_timestamp.is_some();
    let keep = !deleting || in_use(&st, &ns, &pvc.name_any());
    if let Some(f) = finalizers_with(pvc.finalizers(), FINALIZER, keep) {
        let api: Api<PersistentVolumeClaim> = Api::namespaced(st.client.clone(), &ns);
        let patch =
            json!({"metadata": {"finalizers": f, "resourceVersion": pvc.resource_version()}});
        api.patch(
            &pvc.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await?;
    }
    Ok(Action::await_change())
}
