//! The persistentvolume-binder: binds each Pending claim to the smallest
//! matching Available volume (or to the volume it names), both ways
//! (`PV.spec.claimRef`, `PVC.spec.volumeName`), and keeps the phases
//! right: PVs Available / Bound / Released, claims Pending / Bound / Lost.
//! Claims of a `WaitForFirstConsumer` class wait for the scheduler's
//! `volume.kubernetes.io/selected-node`. A Released volume is kept
//! (Retain) or deleted (Delete).

pub mod matching;

use crate::Context;
use crate::controllers::run_controller;
use crate::error::{Error, Result};
use crate::events::Recorder;
use k8s_openapi::api::core::v1::{ObjectReference, PersistentVolume, PersistentVolumeClaim};
use k8s_openapi::api::storage::v1::StorageClass;
use kube::api::{Api, DeleteParams, PostParams};
use kube::runtime::Controller;
use kube::runtime::controller::Action;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Resource, ResourceExt};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

pub const BIND_COMPLETED: &str = "pv.kubernetes.io/bind-completed";
pub const BOUND_BY_CONTROLLER: &str = "pv.kubernetes.io/bound-by-controller";
pub const SELECTED_NODE: &str = "volume.kubernetes.io/selected-node";

struct State {
    client: kube::Client,
    volumes: Store<PersistentVolume>,
    recorder: Recorder,
}

pub async fn run(ctx: Context) -> anyhow::Result<()> {
    let client = ctx.client.clone();
    let volume_informer = ctx.informers.get::<PersistentVolume>();
    let claim_informer = ctx.informers.get::<PersistentVolumeClaim>();
    let volume_events = (
        volume_informer.subscribe().objects(),
        volume_informer.subscribe().objects(),
    );
    let claim_events = (
        claim_informer.subscribe().objects(),
        claim_informer.subscribe().objects(),
    );
    let volumes = volume_informer.reader().await;
    let claims = claim_informer.reader().await;
    let claims_ctl = Controller::for_shared_stream(claim_events.0, claims.clone());
    // A new or freed volume may fit any pending claim.
    let claims_ctl =
        claims_ctl.watches_shared_stream(volume_events.0, move |_pv: Arc<PersistentVolume>| {
            claims
                .state()
                .iter()
                .filter(|c| c.status.as_ref().and_then(|s| s.phase.as_deref()) != Some("Bound"))
                .map(|c| ObjectRef::from_obj(c.as_ref()))
                .collect::<Vec<_>>()
        });
    let volumes_ctl = Controller::for_shared_stream(volume_events.1, volumes.clone())
        .watches_shared_stream(claim_events.1, |pvc: Arc<PersistentVolumeClaim>| {
            pvc.spec
                .as_ref()
                .and_then(|s| s.volume_name.clone())
                .map(|v| ObjectRef::<PersistentVolume>::new(&v))
        });
    let state = Arc::new(State {
        client,
        volumes,
        recorder: ctx.recorder("persistentvolume-controller"),
    });
    let a = run_controller(
        "persistentvolume-binder-claims",
        ctx.metrics.clone(),
        claims_ctl,
        reconcile_claim,
        state.clone(),
    );
    let b = run_controller(
        "persistentvolume-binder-volumes",
        ctx.metrics.clone(),
        volumes_ctl,
        reconcile_volume,
        state,
    );
    let (a, b) = futures::join!(a, b);
    a.and(b)
}

fn claim_ref(pvc: &PersistentVolumeClaim) -> ObjectReference {
    ObjectReference {
        api_version: Some("v1".into()),
        kind: Some("PersistentVolumeClaim".into()),
        name: pvc.metadata.name.clone(),
        namespace: pvc.metadata.namespace.clone(),
        uid: pvc.metadata.uid.clone(),
        resource_version: pvc.metadata.resource_version.clone(),
        ..Default::default()
    }
}

fn phase_of_claim(pvc: &PersistentVolumeClaim) -> &str {
    pvc.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("Pending")
}

async fn reconcile_claim(pvc: Arc<PersistentVolumeClaim>, st: Arc<State>) -> Result<Action> {
    if pvc.meta().deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let ns = pvc
        .namespace()
        .ok_or(Error::Missing("metadata.namespace"))?;
    let pvs: Api<PersistentVolume> = Api::all(st.client.clone());
    let named = pvc
        .spec
        .as_ref()
        .and_then(|s| s.volume_name.clone())
        .filter(|v| !v.is_empty());
    let volume = match named {
        Some(name) => {
            match pvs.get_opt(&name).await? {
                Some(pv) => pv,
                None => {
                    if pvc.annotations().contains_key(BIND_COMPLETED)
                        && phase_of_claim(&pvc) != "Lost"
                    {
                        set_claim_phase(&st, &pvc, "Lost", None).await?;
                        st.recorder.warning(pvc.object_ref(&()), "ClaimLost", "Bound claim has lost its PersistentVolume. Data on the volume is lost!".into());
                    }
                    return Ok(Action::await_change());
                }
            }
        }
        None => {
            if waits_for_consumer(&st, &pvc).await? {
                st.recorder.normal(
                    pvc.object_ref(&()),
                    "WaitForFirstConsumer",
                    "waiting for first consumer to be created before binding".into(),
                );
                return Ok(Action::await_change());
            }
            let all = st.volumes.state();
            let refs: Vec<&PersistentVolume> = all.iter().map(Arc::as_ref).collect();
            let Some(pv) = matching::best_match(&refs, &pvc) else {
                let class = matching::claim_class(&pvc);
                let message = if class.is_empty() {
                    "no persistent volumes available for this claim and no storage class is set"
                        .to_string()
                } else {
                    format!("storageclass.storage.k8s.io \"{class}\" not found")
                };
                st.recorder
                    .normal(pvc.object_ref(&()), "FailedBinding", message);
                if pvc
                    .status
                    .as_ref()
                    .and_then(|s| s.phase.as_deref())
                    .is_none()
                {
                    set_claim_phase(&st, &pvc, "Pending", None).await?;
                }
                return Ok(Action::requeue(Duration::from_secs(15)));
            };
            pv.clone()
        }
    };
    // Volume side first: once the PV names the claim, nobody else takes it.
    let pv_claim = volume.spec.as_ref().and_then(|s| s.claim_ref.clone());
    let ours = pv_claim
        .as_ref()
        .is_some_and(|r| r.uid.as_ref() == pvc.metadata.uid.as_ref());
    if !ours {
        if pv_claim.as_ref().is_some_and(|r| r.uid.is_some()) {
            // Bound to someone else meanwhile; look again.
            return Ok(Action::requeue(Duration::from_secs(1)));
        }
        let mut pv = volume.clone();
        if let Some(spec) = pv.spec.as_mut() {
            spec.claim_ref = Some(claim_ref(&pvc));
        }
        pv.metadata
            .annotations
            .get_or_insert_with(BTreeMap::new)
            .insert(BOUND_BY_CONTROLLER.into(), "yes".into());
        pvs.replace(&pv.name_any(), &PostParams::default(), &pv)
            .await?;
    }
    let pv_name = volume.name_any();
    // Claim side: volumeName and the bind-completed annotation, then status.
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(st.client.clone(), &ns);
    let mut fresh = match claims.get_opt(&pvc.name_any()).await? {
        Some(c) => c,
        None => return Ok(Action::await_change()),
    };
    let needs_spec = fresh.spec.as_ref().and_then(|s| s.volume_name.as_deref())
        != Some(pv_name.as_str())
        || !fresh.annotations().contains_key(BIND_COMPLETED);
    if needs_spec {
        if let Some(spec) = fresh.spec.as_mut() {
            spec.volume_name = Some(pv_name.clone());
        }
        let ann = fresh.metadata.annotations.get_or_insert_with(BTreeMap::new);
        ann.insert(BIND_COMPLETED.into(), "yes".into());
        if !ours {
            ann.insert(BOUND_BY_CONTROLLER.into(), "yes".into());
        }
        fresh = claims
            .replace(&fresh.name_any(), &PostParams::default(), &fresh)
            .await?;
    }
    if phase_of_claim(&fresh) != "Bound" {
        set_claim_phase(&st, &fresh, "Bound", Some(&volume)).await?;
    }
    Ok(Action::await_change())
}

/// Whether the claim's class binds only once a pod using it is scheduled
/// (and the scheduler has not picked a node yet).
async fn waits_for_consumer(st: &State, pvc: &PersistentVolumeClaim) -> Result<bool> {
    let class = matching::claim_class(pvc);
    if class.is_empty() || pvc.annotations().contains_key(SELECTED_NODE) {
        return Ok(false);
    }
    let classes: Api<StorageClass> = Api::all(st.client.clone());
    let mode = classes
        .get_opt(class)
        .await?
        .and_then(|c| c.volume_binding_mode);
    Ok(mode.as_deref() == Some("WaitForFirstConsumer"))
}

async fn set_claim_phase(
    st: &State,
    pvc: &PersistentVolumeClaim,
    phase: &str,
    pv: Option<&PersistentVolume>,
) -> Result<()> {
    let mut updated = pvc.clone();
    let status = updated.status.get_or_insert_with(Default::default);
    status.phase = Some(phase.into());
    if let Some(spec) = pv.and_then(|v| v.spec.as_ref()) {
        status.capacity = spec.capacity.clone();
        status.access_modes = spec.access_modes.clone();
    }
    let api: Api<PersistentVolumeClaim> =
        Api::namespaced(st.client.clone(), &pvc.namespace().unwrap_or_default());
    api.replace_status(&pvc.name_any(), &PostParams::default(), &updated)
        .await?;
    Ok(())
}

async fn reconcile_volume(pv: Arc<PersistentVolume>, st: Arc<State>) -> Result<Action> {
    if pv.meta().deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let phase = pv
        .status
        .as_ref()
        .and_then(|s| s.phase.clone())
        .unwrap_or_default();
    let claim = pv.spec.as_ref().and_then(|s| s.claim_ref.clone());
    let want = match &claim {
        None => "Available",
        // Pre-bound by name only: waiting for that claim.
        Some(r) if r.uid.is_none() => "Available",
        Some(r) => {
            let claims: Api<PersistentVolumeClaim> = Api::namespaced(
                st.client.clone(),
                r.namespace.as_deref().unwrap_or("default"),
            );
            let live = claims
                .get_opt(r.name.as_deref().unwrap_or_default())
                .await?;
            let same = live.as_ref().is_some_and(|c| c.metadata.uid == r.uid);
            if same { "Bound" } else { "Released" }
        }
    };
    if phase != want {
        let mut updated = (*pv).clone();
        updated.status.get_or_insert_with(Default::default).phase = Some(want.into());
        let api: Api<PersistentVolume> = Api::all(st.client.clone());
        api.replace_status(&pv.name_any(), &PostParams::default(), &updated)
            .await?;
        // The reclaim happens on the pass that sees the new phase.
        return Ok(Action::await_change());
    }
    let policy = pv
        .spec
        .as_ref()
        .and_then(|s| s.persistent_volume_reclaim_policy.clone())
        .unwrap_or_else(|| "Retain".into());
    if want == "Released" && policy == "Delete" {
        let api: Api<PersistentVolume> = Api::all(st.client.clone());
        tracing::info!(volume = %pv.name_any(), "claim gone; deleting volume (reclaim policy Delete)");
        match api.delete(&pv.name_any(), &DeleteParams::default()).await {
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            r => {
                r?;
            }
        }
    }
    Ok(Action::await_change())
}
