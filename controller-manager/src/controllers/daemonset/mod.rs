//! The daemonset controller: one pod per eligible node (see
//! [`placement`]), pinned to it through node affinity for the scheduler to
//! bind; pods on nodes that no longer qualify are deleted, failed pods
//! replaced. Template changes roll out node by node within
//! `maxUnavailable` (RollingUpdate) or wait for deletions (OnDelete);
//! templates are kept as ControllerRevisions.

pub mod history;
pub mod placement;
pub mod rolling;

use crate::Context;
use crate::controllers::podutil::{
    controller_of, controller_ref, is_available, is_ready, phase, pod_from_template,
};
use crate::controllers::run_controller;
use crate::controllers::statefulset::revisions::POD_REVISION_LABEL;
use crate::error::{Error, Result};
use crate::informers::controlled_by;
use client::informer::Store;
use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet, DaemonSetStatus};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::Controller;
use kube::runtime::controller::{Action, Config};
use kube::runtime::reflector::ObjectRef;
use kube::{Resource, ResourceExt};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

const COMPONENT: &str = "daemonset-controller";

struct State {
    ctx: Context,
    sets: Store<DaemonSet>,
    pods: Store<Pod>,
    nodes: Store<Node>,
}

pub async fn run(ctx: Context) -> anyhow::Result<()> {
    let sets = ctx.informers.get::<DaemonSet>();
    let pods = ctx.informers.get::<Pod>();
    let nodes = ctx.informers.get::<Node>();
    let set_events = sets.subscribe().objects();
    let pod_events = pods.subscribe().objects();
    let node_events = nodes.subscribe().objects();
    pods.wait_synced().await;
    nodes.wait_synced().await;
    let state = Arc::new(State {
        ctx: ctx.clone(),
        sets: sets.store().clone(),
        pods: pods.store().clone(),
        nodes: nodes.store().clone(),
    });
    let all_sets = sets.store().clone();
    let controller = Controller::for_shared_stream(set_events, sets.reader().await)
        .owns_shared_stream(pod_events)
        // A node joining, leaving or changing concerns every DaemonSet.
        .watches_shared_stream(node_events, move |_node: Arc<Node>| {
            all_sets
                .list()
                .iter()
                .map(|s| ObjectRef::from_obj(s.as_ref()))
                .collect::<Vec<_>>()
        })
        .with_config(Config::default().concurrency(ctx.options.concurrent_daemonset_syncs));
    run_controller(
        "daemonset",
        ctx.metrics.clone(),
        controller,
        reconcile,
        state,
    )
    .await
}

fn hash_of(pod: &Pod) -> Option<&str> {
    pod.metadata
        .labels
        .as_ref()?
        .get(POD_REVISION_LABEL)
        .map(String::as_str)
}

async fn reconcile(ds: Arc<DaemonSet>, st: Arc<State>) -> Result<Action> {
    if st.sets.get(&ObjectRef::from_obj(ds.as_ref())).is_none()
        || ds.metadata.deletion_timestamp.is_some()
    {
        return Ok(Action::await_change());
    }
    let spec = ds.spec.clone().ok_or(Error::Missing("spec"))?;
    let ns = ds.namespace().unwrap_or_default();
    let name = ds.name_any();
    let uid = ds.metadata.uid.clone().unwrap_or_default();
    let client = st.ctx.client.clone();
    let recorder = st.ctx.recorder(COMPONENT);
    let ds_ref = ds.object_ref(&());
    let owned: Vec<Arc<Pod>> = controlled_by(&st.pods, &uid)
        .into_iter()
        .filter(|p| {
            p.metadata.namespace.as_deref() == Some(ns.as_str())
                && controller_of(&p.metadata).is_some_and(|o| o.uid == uid)
        })
        .collect();
    let cr_api: Api<ControllerRevision> = Api::namespaced(client.clone(), &ns);
    let pod_api: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let ds_api: Api<DaemonSet> = Api::namespaced(client.clone(), &ns);
    let status = ds.status.clone().unwrap_or_default();
    let (rev, old_revs) = history::construct(&cr_api, &pod_api, &ds_api, &ds, &owned).await?;
    let hash = history::hash_of(&rev).unwrap_or_default().to_string();

    let mut by_node: BTreeMap<String, Vec<Arc<Pod>>> = BTreeMap::new();
    for p in &owned {
        if let Some(node) = p.spec.as_ref().and_then(placement::node_of) {
            by_node.entry(node).or_default().push(p.clone());
        }
    }
    let template_spec = spec.template.spec.clone().unwrap_or_default();
    let nodes = st.nodes.list();
    let mut to_create: Vec<String> = Vec::new();
    let mut to_delete: Vec<Arc<Pod>> = Vec::new();
    let (mut desired, mut scheduled, mut misscheduled) = (0, 0, 0);
    let strategy = spec.update_strategy.clone().unwrap_or_default();
    let min_ready = spec.min_ready_seconds.unwrap_or(0);
    let now = chrono::Utc::now();
    let rolling_update = strategy.type_.as_deref() != Some("OnDelete");
    let ru = strategy.rolling_update.as_ref();
    let (max_surge, max_unavailable) = rolling::budgets(
        ru.and_then(|r| r.max_surge.as_ref()),
        ru.and_then(|r| r.max_unavailable.as_ref()),
        nodes
            .iter()
            .filter(|n| placement::should_run(&template_spec, n))
            .count() as i32,
    );
    let surge = rolling_update && max_surge > 0;
    let mut surge_nodes: Vec<rolling::NodePods> = Vec::new();
    for node in &nodes {
        let node_name = node.name_any();
        let pods: Vec<Arc<Pod>> = by_node.remove(&node_name).unwrap_or_default();
        let live: Vec<&Arc<Pod>> = pods
            .iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
            .collect();
        if placement::should_run(&template_spec, node) {
            desired += 1;
            let running: Vec<&&Arc<Pod>> = live.iter().filter(|p| phase(p) != "Failed").collect();
            for failed in live.iter().filter(|p| phase(p) == "Failed") {
                to_delete.push((*failed).clone());
            }
            match running.len() {
                0 if pods
                    .iter()
                    .all(|p| p.metadata.deletion_timestamp.is_none() || phase(p) == "Failed") =>
                {
                    to_create.push(node_name)
                }
                0 => {}
                _ => {
                    scheduled += 1;
                    // Keep the oldest; extras go. While surging a node may
                    // hold the oldest pod of each revision (old and updated).
                    let mut sorted: Vec<&&Arc<Pod>> = running.clone();
                    sorted.sort_by_key(|p| p.metadata.creation_timestamp.as_ref().map(|t| t.0));
                    let (mut oldest_new, mut oldest_old) = (None, None);
                    for p in sorted {
                        let updated = hash_of(p) == Some(hash.as_str());
                        let keep = match (surge, updated) {
                            (true, true) => oldest_new.is_none(),
                            (true, false) => oldest_old.is_none(),
                            (false, _) => oldest_new.is_none() && oldest_old.is_none(),
                        };
                        match (keep, updated) {
                            (true, true) => oldest_new = Some(*p),
                            (true, false) => oldest_old = Some(*p),
                            (false, _) => to_delete.push((*p).clone()),
                        }
                    }
                    let fact = |p: Option<&Arc<Pod>>| {
                        p.map(|p| (p.name_any(), is_available(p, min_ready, now)))
                    };
                    surge_nodes.push(rolling::NodePods {
                        node: node_name.clone(),
                        old: fact(oldest_old),
                        new: fact(oldest_new),
                    });
                }
            }
        } else if !live.is_empty() {
            misscheduled += 1;
            to_delete.extend(live.into_iter().cloned());
        }
    }

    // Rolling update: surge new pods first, or replace old-revision pods
    // within maxUnavailable.
    let current: Vec<Arc<Pod>> = owned
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .cloned()
        .collect();
    if surge {
        let plan = rolling::plan_surge(&surge_nodes, max_surge);
        to_create.extend(plan.create_on);
        to_delete.extend(
            current
                .iter()
                .filter(|p| plan.delete.contains(&p.name_any()))
                .cloned(),
        );
    } else if rolling_update && to_create.is_empty() {
        let unavailable = current
            .iter()
            .filter(|p| !is_available(p, min_ready, now))
            .count() as i32
            + (desired - scheduled).max(0);
        let mut budget = max_unavailable - unavailable;
        let mut old: Vec<&Arc<Pod>> = current
            .iter()
            .filter(|p| hash_of(p) != Some(hash.as_str()))
            .collect();
        // Unavailable old pods first: replacing them costs nothing.
        old.sort_by_key(|p| is_available(p, min_ready, now));
        for p in old {
            if !is_available(p, min_ready, now) {
                to_delete.push(p.clone());
            } else if budget > 0 {
                to_delete.push(p.clone());
                budget -= 1;
            }
        }
    }

    for node in &to_create {
        let mut pod = pod_from_template(
            &spec.template,
            &ns,
            Some(format!("{name}-")),
            None,
            controller_ref("apps/v1", "DaemonSet", &ds.metadata),
        );
        pod.metadata
            .labels
            .get_or_insert_with(BTreeMap::new)
            .insert(POD_REVISION_LABEL.into(), hash.clone());
        if let Some(ps) = pod.spec.as_mut() {
            placement::pin_to_node(ps, node);
        }
        match pod_api.create(&PostParams::default(), &pod).await {
            Ok(created) => recorder.normal(
                ds_ref.clone(),
                "SuccessfulCreate",
                format!("Created pod: {}", created.name_any()),
            ),
            Err(e) => {
                recorder.warning(
                    ds_ref.clone(),
                    "FailedCreate",
                    format!("Error creating: {e}"),
                );
                return Err(e.into());
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    for p in to_delete {
        if !seen.insert(p.metadata.uid.clone()) {
            continue;
        }
        match pod_api
            .delete(&p.name_any(), &DeleteParams::default())
            .await
        {
            Ok(_) => recorder.normal(
                ds_ref.clone(),
                "SuccessfulDelete",
                format!("Deleted pod: {}", p.name_any()),
            ),
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            Err(e) => return Err(e.into()),
        }
    }

    let count = |f: &dyn Fn(&Pod) -> bool| current.iter().filter(|p| f(p)).count() as i32;
    let available = count(&|p| is_available(p, min_ready, now));
    let next = DaemonSetStatus {
        observed_generation: ds.metadata.generation,
        desired_number_scheduled: desired,
        current_number_scheduled: scheduled,
        number_misscheduled: misscheduled,
        number_ready: count(&|p| is_ready(p)),
        number_available: Some(available),
        number_unavailable: Some((desired - available).max(0)),
        updated_number_scheduled: Some(count(&|p| hash_of(p) == Some(hash.as_str()))),
        collision_count: status.collision_count,
        conditions: status.conditions.clone(),
    };
    if Some(&next) != ds.status.as_ref() {
        ds_api
            .patch_status(
                &name,
                &PatchParams::default(),
                &Patch::Merge(serde_json::json!({"status": next})),
            )
            .await?;
    }
    let limit = spec.revision_history_limit.unwrap_or(10).max(0) as usize;
    let live_hashes = owned
        .iter()
        .filter_map(|p| hash_of(p).map(str::to_string))
        .collect();
    for name in history::expired(&old_revs, &live_hashes, limit) {
        match cr_api.delete(&name, &DeleteParams::default()).await {
            Ok(_) | Err(kube::Error::Api(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    // A ready pod becomes available minReadySeconds later without any
    // event: look again then (a surge step waits on exactly that).
    let maturing = current
        .iter()
        .any(|p| is_ready(p) && !is_available(p, min_ready, now));
    let again = if maturing { 1 } else { 60 };
    Ok(Action::requeue(Duration::from_secs(again)))
}
