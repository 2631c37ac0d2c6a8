//! The deployment controller: make each Deployment's pods run its current
//! template through ReplicaSets, one per template revision. A changed
//! template gets a new ReplicaSet (named after its `pod-template-hash`)
//! that grows while the old ones shrink: within `maxSurge` and
//! `maxUnavailable` (RollingUpdate) or all old first (Recreate). Paused
//! Deployments only scale. Old revisions beyond `revisionHistoryLimit` are
//! deleted. Status reports counts and the Available/Progressing conditions,
//! including ProgressDeadlineExceeded.

pub mod annotations;
pub mod hash;
pub mod proportional;
mod replicasets;
pub mod rolling;
pub mod status;

use crate::Context;
use crate::controllers::podutil::is_active;
use crate::controllers::run_controller;
use crate::error::{Error, Result};
use crate::informers::controlled_by;
use apimachinery::labels::Selector;
use client::informer::Store;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentStatus, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::Controller;
use kube::runtime::controller::{Action, Config};
use kube::runtime::reflector::ObjectRef;
use kube::{Resource, ResourceExt};
use replicasets::{Writer, available, desired};
use rolling::RsCounts;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

struct State {
    ctx: Context,
    deployments: Store<Deployment>,
    replicasets: Store<ReplicaSet>,
    pods: Store<Pod>,
}

pub async fn run(ctx: Context) -> anyhow::Result<()> {
    let deployments = ctx.informers.get::<Deployment>();
    let replicasets = ctx.informers.get::<ReplicaSet>();
    let pods = ctx.informers.get::<Pod>();
    let d_events = deployments.subscribe().objects();
    let rs_events = replicasets.subscribe().objects();
    replicasets.wait_synced().await;
    pods.wait_synced().await;
    let state = Arc::new(State {
        ctx: ctx.clone(),
        deployments: deployments.store().clone(),
        replicasets: replicasets.store().clone(),
        pods: pods.store().clone(),
    });
    let controller = Controller::for_shared_stream(d_events, deployments.reader().await)
        .owns_shared_stream(rs_events)
        .with_config(Config::default().concurrency(ctx.options.concurrent_deployment_syncs));
    run_controller(
        "deployment",
        ctx.metrics.clone(),
        controller,
        reconcile,
        state,
    )
    .await
}

fn counts(rs: &ReplicaSet) -> RsCounts {
    RsCounts {
        name: rs.name_any(),
        desired: desired(rs),
        available: available(rs),
    }
}

async fn reconcile(d: Arc<Deployment>, st: Arc<State>) -> Result<Action> {
    if st
        .deployments
        .get(&ObjectRef::from_obj(d.as_ref()))
        .is_none()
    {
        return Ok(Action::await_change());
    }
    let spec = d.spec.as_ref().ok_or(Error::Missing("spec"))?;
    let selector = Selector::from_label_selector(&serde_json::to_value(&spec.selector)?)
        .map_err(|e| Error::invalid("selector", e.0))?;
    let dapi: Api<Deployment> =
        Api::namespaced(st.ctx.client.clone(), &d.namespace().unwrap_or_default());
    if selector.is_empty() {
        st.ctx.recorder("deployment-controller").warning(
            d.object_ref(&()),
            "SelectingAll",
            "This deployment is selecting all pods. A non-empty selector is required.".into(),
        );
        return Ok(Action::await_change());
    }
    let ns = d.namespace().unwrap_or_default();
    let in_ns: Vec<ReplicaSet> = st
        .replicasets
        .namespaced(&ns)
        .iter()
        .map(|rs| rs.as_ref().clone())
        .collect();
    let owned = replicasets::claim(&st.ctx, &d, &selector, &in_ns).await;
    let (new, old) = replicasets::split(&d, owned);
    let now = chrono::Utc::now();
    let w = Writer::new(&st.ctx, &d);

    let replicas = spec.replicas.unwrap_or(1);
    let recreate = spec.strategy.as_ref().and_then(|s| s.type_.as_deref()) == Some("Recreate");
    let (surge, unavailable) = if recreate {
        (0, 0)
    } else {
        let ru = spec
            .strategy
            .as_ref()
            .and_then(|s| s.rolling_update.as_ref());
        rolling::fenceposts(
            ru.and_then(|r| r.max_surge.as_ref()),
            ru.and_then(|r| r.max_unavailable.as_ref()),
            replicas,
        )
    };
    let max_old_revision = old
        .iter()
        .map(|rs| annotations::revision_of(Some(rs.annotations())))
        .max()
        .unwrap_or(0);
    let paused = spec.paused.unwrap_or(false);
    let mut progress_status = d.status.clone().unwrap_or_default();
    status::pause_condition(&d, &mut progress_status, now);

    let outcome = if d.metadata.deletion_timestamp.is_some() {
        Outcome {
            new,
            old,
            created: false,
            changed: false,
        }
    } else if !recreate
        && let Some(scaled) = scale_proportionally(&w, &d, &new, &old, replicas, surge).await?
    {
        scaled
    } else if paused {
        scale_paused(&w, new, old, replicas, surge).await?
    } else if recreate {
        rollout_recreate(&w, &st.pods, new, old, replicas, max_old_revision).await?
    } else {
        rollout_rolling(&w, new, old, replicas, surge, unavailable, max_old_revision).await?
    };

    // Status from what the ReplicaSets now say.
    let mut base_input = d.as_ref().clone();
    base_input.status = Some(progress_status);
    let all: Vec<&ReplicaSet> = outcome.new.iter().chain(outcome.old.iter()).collect();
    let mut next = status::base_status(&base_input, &all, outcome.new.as_ref(), unavailable, now);
    if let Some(n) = &outcome.new {
        status::new_rs_condition(&mut next, outcome.created, &n.name_any(), now);
    }
    let next = if paused {
        next
    } else {
        status::rollout_status(
            &base_input,
            next,
            outcome.new.as_ref().map(|n| n.name_any()).as_deref(),
            now,
        )
    };
    let complete = next.updated_replicas == Some(replicas)
        && next.replicas == Some(replicas)
        && next.available_replicas == Some(replicas);
    if (complete || paused) && !outcome.changed {
        w.cleanup(&outcome.old).await?;
    }
    sync_revision(&dapi, &d, outcome.new.as_ref()).await?;
    write_status(&dapi, &d, next.clone()).await?;

    if outcome.changed {
        return Ok(Action::requeue(Duration::from_secs(1)));
    }
    let deadline = if paused || complete {
        None
    } else {
        status::deadline_left(&base_input, &next, now)
    };
    Ok(match deadline {
        Some(left) => Action::requeue(Duration::from_secs((left + 1).clamp(1, 300) as u64)),
        None => Action::requeue(Duration::from_secs(300)),
    })
}

struct Outcome {
    new: Option<ReplicaSet>,
    old: Vec<ReplicaSet>,
    /// The new ReplicaSet was created in this sync.
    created: bool,
    /// Some ReplicaSet was scaled in this sync.
    changed: bool,
}

/// Finds or creates the new ReplicaSet and refreshes its annotations.
async fn ensure_new(
    w: &Writer<'_>,
    new: Option<ReplicaSet>,
    initial: i32,
    max_old_revision: i64,
    max_replicas: i32,
) -> Result<(ReplicaSet, bool)> {
    match new {
        Some(rs) => Ok((
            w.refresh_new(rs, max_old_revision, max_replicas).await?,
            false,
        )),
        None => w.create_new(initial, max_old_revision, max_replicas).await,
    }
}

async fn rollout_rolling(
    w: &Writer<'_>,
    new: Option<ReplicaSet>,
    mut old: Vec<ReplicaSet>,
    replicas: i32,
    surge: i32,
    unavailable: i32,
    max_old_revision: i64,
) -> Result<Outcome> {
    let old_total: i32 = old.iter().map(desired).sum();
    let initial = rolling::new_rs_replicas(replicas, surge, 0, old_total);
    let (mut new_rs, created) =
        ensure_new(w, new, initial, max_old_revision, replicas + surge).await?;
    if created {
        return Ok(Outcome {
            new: Some(new_rs),
            old,
            created,
            changed: initial > 0,
        });
    }
    let target = rolling::new_rs_replicas(
        replicas,
        surge,
        desired(&new_rs),
        old_total + desired(&new_rs),
    );
    if target != desired(&new_rs) {
        new_rs = w.scale(&new_rs, target, replicas + surge).await?;
        return Ok(Outcome {
            new: Some(new_rs),
            old,
            created,
            changed: true,
        });
    }
    let sizes = rolling::old_rs_replicas(
        replicas,
        unavailable,
        Some(&counts(&new_rs)),
        &old.iter().map(counts).collect::<Vec<_>>(),
    );
    let mut changed = false;
    for (rs, size) in old.iter_mut().zip(sizes) {
        if size != desired(rs) {
            *rs = w.scale(rs, size, replicas + surge).await?;
            changed = true;
        }
    }
    Ok(Outcome {
        new: Some(new_rs),
        old,
        created,
        changed,
    })
}

async fn rollout_recreate(
    w: &Writer<'_>,
    pods: &Store<Pod>,
    new: Option<ReplicaSet>,
    mut old: Vec<ReplicaSet>,
    replicas: i32,
    max_old_revision: i64,
) -> Result<Outcome> {
    let mut changed = false;
    for rs in old.iter_mut() {
        if desired(rs) > 0 {
            *rs = w.scale(rs, 0, replicas).await?;
            changed = true;
        }
    }
    let old_uids: HashSet<String> = old
        .iter()
        .filter_map(|rs| rs.metadata.uid.clone())
        .collect();
    let old_pods_running = old_uids.iter().any(|uid| {
        controlled_by(pods, uid)
            .iter()
            .any(|p| is_active(p) || p.metadata.deletion_timestamp.is_some())
    });
    if changed || old_pods_running {
        return Ok(Outcome {
            new,
            old,
            created: false,
            changed: true,
        });
    }
    let (mut new_rs, created) = ensure_new(w, new, replicas, max_old_revision, replicas).await?;
    if !created && desired(&new_rs) != replicas {
        new_rs = w.scale(&new_rs, replicas, replicas).await?;
        changed = true;
    }
    Ok(Outcome {
        new: Some(new_rs),
        old,
        created,
        changed: changed || created,
    })
}

/// A scaling event (the Deployment's `replicas` changed) while more than
/// one ReplicaSet is active spreads the change over them proportionally;
/// `None` when there is no such event, so the rollout proceeds.
async fn scale_proportionally(
    w: &Writer<'_>,
    d: &Deployment,
    new: &Option<ReplicaSet>,
    old: &[ReplicaSet],
    replicas: i32,
    surge: i32,
) -> Result<Option<Outcome>> {
    let all: Vec<&ReplicaSet> = new.iter().chain(old.iter()).collect();
    let active: Vec<&ReplicaSet> = all.iter().copied().filter(|rs| desired(rs) > 0).collect();
    if active.len() < 2 {
        return Ok(None);
    }
    let annotation = |rs: &ReplicaSet, key: &str| -> Option<i32> {
        rs.annotations().get(key).and_then(|v| v.parse().ok())
    };
    let wanted: Vec<Option<i32>> = active
        .iter()
        .map(|rs| annotation(rs, annotations::DESIRED_REPLICAS))
        .collect();
    if !proportional::is_scaling_event(replicas, &wanted) {
        return Ok(None);
    }
    let numbers: Vec<proportional::ActiveRs> = active
        .iter()
        .map(|rs| proportional::ActiveRs {
            name: rs.name_any(),
            replicas: desired(rs),
            max_replicas: annotation(rs, annotations::MAX_REPLICAS),
            newness: (
                rs.metadata
                    .creation_timestamp
                    .as_ref()
                    .map_or(0, |t| t.0.as_second()),
                rs.name_any(),
            ),
        })
        .collect();
    let status_replicas = d.status.as_ref().and_then(|s| s.replicas).unwrap_or(0);
    let sizes = proportional::proportional_sizes(&numbers, replicas, surge, status_replicas);
    let mut resized: std::collections::HashMap<String, ReplicaSet> = Default::default();
    for (rs, size) in active.iter().zip(sizes) {
        resized.insert(rs.name_any(), w.scale(rs, size, replicas + surge).await?);
    }
    let pick = |rs: &ReplicaSet| resized.get(&rs.name_any()).cloned().unwrap_or(rs.clone());
    Ok(Some(Outcome {
        new: new.as_ref().map(pick),
        old: old.iter().map(pick).collect(),
        created: false,
        changed: true,
    }))
}

/// Paused: no new ReplicaSet and no rollout, but `replicas` still applies
/// to the newest active ReplicaSet (when only one is active).
async fn scale_paused(
    w: &Writer<'_>,
    new: Option<ReplicaSet>,
    mut old: Vec<ReplicaSet>,
    replicas: i32,
    surge: i32,
) -> Result<Outcome> {
    let mut new = new;
    let active_old: Vec<usize> = (0..old.len()).filter(|i| desired(&old[*i]) > 0).collect();
    let new_active = new.as_ref().is_some_and(|n| desired(n) > 0);
    let mut changed = false;
    match (new.as_ref(), active_old.as_slice(), new_active) {
        (Some(n), [], _) if desired(n) != replicas => {
            new = Some(w.scale(n, replicas, replicas + surge).await?);
            changed = true;
        }
        (_, [i], false) if desired(&old[*i]) != replicas => {
            old[*i] = w.scale(&old[*i], replicas, replicas + surge).await?;
            changed = true;
        }
        _ => {}
    }
    Ok(Outcome {
        new,
        old,
        created: false,
        changed,
    })
}

/// Keeps the Deployment's revision annotation equal to its new ReplicaSet's.
async fn sync_revision(
    api: &Api<Deployment>,
    d: &Deployment,
    new: Option<&ReplicaSet>,
) -> Result<()> {
    let Some(new) = new else { return Ok(()) };
    let Some(rev) = new.annotations().get(annotations::REVISION) else {
        return Ok(());
    };
    if d.annotations().get(annotations::REVISION) == Some(rev) {
        return Ok(());
    }
    let patch = serde_json::json!({"metadata": {"annotations": {annotations::REVISION: rev}}});
    api.patch(
        &d.name_any(),
        &PatchParams::default(),
        &Patch::Merge(&patch),
    )
    .await?;
    Ok(())
}

async fn write_status(api: &Api<Deployment>, d: &Deployment, next: DeploymentStatus) -> Result<()> {
    let current = d.status.clone().unwrap_or_default();
    // The apiserver stores status as upstream encodes it, without zero
    // counters: compare in that form, or every sync would write again.
    if status::as_stored(current) == status::as_stored(next.clone()) {
        return Ok(());
    }
    let patch = serde_json::json!({"status": next});
    api.patch_status(
        &d.name_any(),
        &PatchParams::default(),
        &Patch::Merge(&patch),
    )
    .await?;
    Ok(())
}
