//! The statefulset controller: pods with stable names `<set>-<ordinal>`,
//! created in order (each Running and Ready before the next, unless
//! `podManagementPolicy: Parallel`) and removed from the highest ordinal
//! down; each with its own PersistentVolumeClaims from
//! `volumeClaimTemplates` (`<claim>-<set>-<ordinal>`, kept when the pod
//! goes); updated by RollingUpdate from the highest ordinal down to
//! `partition`, or only when deleted (OnDelete). Templates are recorded in
//! ControllerRevisions, which `kubectl rollout history/undo` use.

pub mod revisions;

use crate::Context;
use crate::controllers::podutil::{
    controller_of, controller_ref, is_available, is_ready, phase, pod_from_template,
};
use crate::controllers::run_controller;
use crate::error::{Error, Result};
use crate::informers::controlled_by;
use client::informer::Store;
use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet, StatefulSetStatus};
use k8s_openapi::api::core::v1::{
    PersistentVolumeClaim, PersistentVolumeClaimVolumeSource, Pod, PodTemplateSpec, Volume,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::Controller;
use kube::runtime::controller::{Action, Config};
use kube::runtime::reflector::ObjectRef;
use kube::{Resource, ResourceExt};
use revisions::POD_REVISION_LABEL;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

const COMPONENT: &str = "statefulset-controller";

struct State {
    ctx: Context,
    sets: Store<StatefulSet>,
    pods: Store<Pod>,
}

pub async fn run(ctx: Context) -> anyhow::Result<()> {
    let sets = ctx.informers.get::<StatefulSet>();
    let pods = ctx.informers.get::<Pod>();
    let set_events = sets.subscribe().objects();
    let pod_events = pods.subscribe().objects();
    pods.wait_synced().await;
    let state = Arc::new(State {
        ctx: ctx.clone(),
        sets: sets.store().clone(),
        pods: pods.store().clone(),
    });
    let controller = Controller::for_shared_stream(set_events, sets.reader().await)
        .owns_shared_stream(pod_events)
        .with_config(Config::default().concurrency(ctx.options.concurrent_statefulset_syncs));
    run_controller(
        "statefulset",
        ctx.metrics.clone(),
        controller,
        reconcile,
        state,
    )
    .await
}

/// The ordinal in `<set>-<ordinal>`.
pub fn ordinal_of(set: &str, pod: &str) -> Option<i32> {
    pod.strip_prefix(set)?.strip_prefix('-')?.parse().ok()
}

fn revision_of(pod: &Pod) -> Option<&str> {
    pod.metadata
        .labels
        .as_ref()?
        .get(POD_REVISION_LABEL)
        .map(String::as_str)
}

fn healthy(pod: &Pod) -> bool {
    phase(pod) == "Running" && is_ready(pod) && pod.metadata.deletion_timestamp.is_none()
}

/// The pod for `ordinal` at `revision` (name) built from `template`.
pub fn new_pod(set: &StatefulSet, template: &PodTemplateSpec, revision: &str, ordinal: i32) -> Pod {
    let name = format!("{}-{ordinal}", set.name_any());
    let spec = set.spec.clone().unwrap_or_default();
    let mut pod = pod_from_template(
        template,
        &set.namespace().unwrap_or_default(),
        None,
        Some(name.clone()),
        controller_ref("apps/v1", "StatefulSet", &set.metadata),
    );
    let labels = pod.metadata.labels.get_or_insert_with(BTreeMap::new);
    labels.insert(POD_REVISION_LABEL.into(), revision.into());
    labels.insert("statefulset.kubernetes.io/pod-name".into(), name.clone());
    labels.insert("apps.kubernetes.io/pod-index".into(), ordinal.to_string());
    if let Some(ps) = pod.spec.as_mut() {
        ps.hostname = Some(name.clone());
        if let Some(service) = spec.service_name.as_deref().filter(|s| !s.is_empty()) {
            ps.subdomain = Some(service.into());
        }
        for claim in spec.volume_claim_templates.iter().flatten() {
            let claim_name = claim.metadata.name.clone().unwrap_or_default();
            let volumes = ps.volumes.get_or_insert_with(Vec::new);
            volumes.retain(|v| v.name != claim_name);
            volumes.push(Volume {
                name: claim_name.clone(),
                persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                    claim_name: format!("{claim_name}-{name}"),
                    read_only: None,
                }),
                ..Default::default()
            });
        }
    }
    pod
}

/// The claims `ordinal` needs, named `<claim>-<set>-<ordinal>`.
pub fn claims_for(set: &StatefulSet, ordinal: i32) -> Vec<PersistentVolumeClaim> {
    let spec = set.spec.clone().unwrap_or_default();
    let selector_labels = spec.selector.match_labels.clone().unwrap_or_default();
    spec.volume_claim_templates
        .unwrap_or_default()
        .into_iter()
        .map(|t| {
            let claim = t.metadata.name.clone().unwrap_or_default();
            let mut labels = t.metadata.labels.clone().unwrap_or_default();
            labels.extend(selector_labels.clone());
            PersistentVolumeClaim {
                metadata: ObjectMeta {
                    name: Some(format!("{claim}-{}-{ordinal}", set.name_any())),
                    namespace: set.namespace(),
                    labels: Some(labels),
                    annotations: t.metadata.annotations.clone(),
                    ..Default::default()
                },
                spec: t.spec.clone(),
                status: None,
            }
        })
        .collect()
}

fn selector_string(labels: &BTreeMap<String, String>) -> String {
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

async fn reconcile(set: Arc<StatefulSet>, st: Arc<State>) -> Result<Action> {
    if st.sets.get(&ObjectRef::from_obj(set.as_ref())).is_none()
        || set.metadata.deletion_timestamp.is_some()
    {
        return Ok(Action::await_change());
    }
    let spec = set.spec.clone().ok_or(Error::Missing("spec"))?;
    let ns = set.namespace().unwrap_or_default();
    let name = set.name_any();
    let uid = set.metadata.uid.clone().unwrap_or_default();
    let client = st.ctx.client.clone();
    let recorder = st.ctx.recorder(COMPONENT);
    let set_ref = set.object_ref(&());
    let match_labels = spec.selector.match_labels.clone().unwrap_or_default();

    // Revisions: the update revision is the current template's.
    let cr_api: Api<ControllerRevision> = Api::namespaced(client.clone(), &ns);
    let revs = revisions::owned(&cr_api, &uid, &selector_string(&match_labels)).await?;
    let status = set.status.clone().unwrap_or_default();
    let (update_rev, revs) = revisions::ensure(
        &cr_api,
        &set.metadata,
        "apps/v1",
        "StatefulSet",
        &match_labels,
        &spec.template,
        status.collision_count,
        revs,
    )
    .await?;
    let update_name = update_rev.name_any();
    let current_name = status
        .current_revision
        .clone()
        .filter(|c| revs.iter().any(|r| r.name_any() == *c))
        .unwrap_or_else(|| update_name.clone());
    let current_template = revs
        .iter()
        .find(|r| r.name_any() == current_name)
        .and_then(revisions::template_of)
        .unwrap_or_else(|| spec.template.clone());

    let mut pods: BTreeMap<i32, Arc<Pod>> = BTreeMap::new();
    for p in controlled_by(&st.pods, &uid) {
        if p.metadata.namespace.as_deref() == Some(ns.as_str())
            && controller_of(&p.metadata).is_some_and(|o| o.uid == uid)
            && let Some(ord) = ordinal_of(&name, &p.name_any())
        {
            pods.insert(ord, p);
        }
    }
    let replicas = spec.replicas.unwrap_or(1);
    let parallel = spec.pod_management_policy.as_deref() == Some("Parallel");
    let strategy = spec.update_strategy.clone().unwrap_or_default();
    let on_delete = strategy.type_.as_deref() == Some("OnDelete");
    let partition = strategy
        .rolling_update
        .as_ref()
        .and_then(|r| r.partition)
        .unwrap_or(0);
    let pod_api: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let pvc_api: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), &ns);

    let delete = |pod: Arc<Pod>| {
        let pod_api = pod_api.clone();
        let recorder = recorder.clone();
        let set_ref = set_ref.clone();
        let name = name.clone();
        async move {
            match pod_api
                .delete(&pod.name_any(), &DeleteParams::default())
                .await
            {
                Ok(_) => recorder.normal(
                    set_ref,
                    "SuccessfulDelete",
                    format!(
                        "delete Pod {} in StatefulSet {name} successful",
                        pod.name_any()
                    ),
                ),
                Err(kube::Error::Api(e)) if e.code == 404 => {}
                Err(e) => return Err(Error::from(e)),
            }
            Ok(())
        }
    };

    'sync: {
        // Create missing pods (with their claims) and replace failed ones.
        for ord in 0..replicas {
            match pods.get(&ord) {
                None => {
                    let (rev, template) =
                        if !on_delete && ord < partition && current_name != update_name {
                            (&current_name, &current_template)
                        } else {
                            (&update_name, &spec.template)
                        };
                    let pod = new_pod(&set, template, rev, ord);
                    for claim in claims_for(&set, ord) {
                        let claim_name = claim.name_any();
                        if pvc_api.get_opt(&claim_name).await?.is_none() {
                            match pvc_api.create(&PostParams::default(), &claim).await {
                                Ok(_) => recorder.normal(set_ref.clone(), "SuccessfulCreate", format!("create Claim {claim_name} Pod {} in StatefulSet {name} success", pod.name_any())),
                                Err(kube::Error::Api(e)) if e.code == 409 => {}
                                Err(e) => {
                                    recorder.warning(set_ref.clone(), "FailedCreate", format!("create Claim {claim_name} for Pod {} in StatefulSet {name} failed error: {e}", pod.name_any()));
                                    return Err(e.into());
                                }
                            }
                        }
                    }
                    match pod_api.create(&PostParams::default(), &pod).await {
                        Ok(_) => recorder.normal(
                            set_ref.clone(),
                            "SuccessfulCreate",
                            format!(
                                "create Pod {} in StatefulSet {name} successful",
                                pod.name_any()
                            ),
                        ),
                        Err(kube::Error::Api(e)) if e.code == 409 => {}
                        Err(e) => {
                            recorder.warning(
                                set_ref.clone(),
                                "FailedCreate",
                                format!(
                                    "create Pod {} in StatefulSet {name} failed error: {e}",
                                    pod.name_any()
                                ),
                            );
                            return Err(e.into());
                        }
                    }
                    if !parallel {
                        break 'sync;
                    }
                }
                Some(p)
                    if matches!(phase(p), "Failed" | "Succeeded")
                        && p.metadata.deletion_timestamp.is_none() =>
                {
                    delete(p.clone()).await?;
                    if !parallel {
                        break 'sync;
                    }
                }
                Some(p) if !healthy(p) && !parallel => break 'sync,
                Some(_) => {}
            }
        }
        // Scale down from the highest ordinal; ordered: one at a time, all others healthy.
        let condemned: Vec<Arc<Pod>> = pods
            .range(replicas..)
            .rev()
            .map(|(_, p)| p.clone())
            .collect();
        if !condemned.is_empty() {
            if parallel {
                for p in condemned
                    .into_iter()
                    .filter(|p| p.metadata.deletion_timestamp.is_none())
                {
                    delete(p).await?;
                }
            } else if condemned
                .iter()
                .all(|p| p.metadata.deletion_timestamp.is_none())
                && pods.range(..replicas).all(|(_, p)| healthy(p))
            {
                delete(condemned[0].clone()).await?;
            }
            break 'sync;
        }
        // Rolling update, highest ordinal first, down to the partition.
        if !on_delete
            && pods.range(..replicas).all(|(_, p)| healthy(p))
            && pods.len() as i32 == replicas
        {
            for ord in (partition.max(0)..replicas).rev() {
                if let Some(p) = pods.get(&ord)
                    && revision_of(p) != Some(update_name.as_str())
                {
                    delete(p.clone()).await?;
                    break 'sync;
                }
            }
        }
    }

    // Status from the pods as they were seen.
    let now = chrono::Utc::now();
    let min_ready = spec.min_ready_seconds.unwrap_or(0);
    let live: Vec<&Arc<Pod>> = pods
        .values()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .collect();
    let count = |f: &dyn Fn(&Pod) -> bool| live.iter().filter(|p| f(p)).count() as i32;
    let updated = count(&|p| revision_of(p) == Some(update_name.as_str()));
    let current = count(&|p| revision_of(p) == Some(current_name.as_str()));
    let mut next = StatefulSetStatus {
        observed_generation: set.metadata.generation,
        replicas: live.len() as i32,
        ready_replicas: Some(count(&|p| is_ready(p))),
        available_replicas: Some(count(&|p| is_available(p, min_ready, now))),
        current_replicas: Some(current),
        updated_replicas: Some(updated),
        current_revision: Some(current_name.clone()),
        update_revision: Some(update_name.clone()),
        collision_count: status.collision_count,
        conditions: status.conditions.clone(),
    };
    if updated == replicas && live.len() as i32 == replicas {
        next.current_revision = Some(update_name.clone());
        next.current_replicas = Some(updated);
    }
    if Some(&next) != set.status.as_ref() {
        let api: Api<StatefulSet> = Api::namespaced(client.clone(), &ns);
        api.patch_status(
            &name,
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"status": next})),
        )
        .await?;
    }
    let in_use: Vec<String> = [current_name, update_name]
        .into_iter()
        .chain(
            pods.values()
                .filter_map(|p| revision_of(p).map(String::from)),
        )
        .collect();
    let limit = spec.revision_history_limit.unwrap_or(10).max(0) as usize;
    revisions::cleanup(&cr_api, &revs, &in_use, limit).await?;
    Ok(Action::requeue(Duration::from_secs(60)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set() -> StatefulSet {
        serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "default", "uid": "u1"},
            "spec": {"serviceName": "nginx", "replicas": 2, "selector": {"matchLabels": {"app": "nginx"}},
                "template": {"metadata": {"labels": {"app": "nginx"}}, "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}},
                "volumeClaimTemplates": [{"metadata": {"name": "www"}, "spec": {"accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "1Gi"}}}}]}
        }))
        .unwrap()
    }

    #[test]
    fn pod_identity_and_claims() {
        let s = set();
        let pod = new_pod(&s, &s.spec.as_ref().unwrap().template, "web-abc", 1);
        assert_eq!(pod.metadata.name.as_deref(), Some("web-1"));
        let labels = pod.metadata.labels.clone().unwrap();
        assert_eq!(labels["controller-revision-hash"], "web-abc");
        assert_eq!(labels["statefulset.kubernetes.io/pod-name"], "web-1");
        assert_eq!(labels["apps.kubernetes.io/pod-index"], "1");
        let ps = pod.spec.unwrap();
        assert_eq!(
            (ps.hostname.as_deref(), ps.subdomain.as_deref()),
            (Some("web-1"), Some("nginx"))
        );
        let vol = &ps.volumes.unwrap()[0];
        assert_eq!(
            vol.persistent_volume_claim.as_ref().unwrap().claim_name,
            "www-web-1"
        );
        let claims = claims_for(&s, 1);
        assert_eq!(claims[0].metadata.name.as_deref(), Some("www-web-1"));
        assert_eq!(claims[0].metadata.labels.as_ref().unwrap()["app"], "nginx");
        assert_eq!(ordinal_of("web", "web-12"), Some(12));
        assert_eq!(ordinal_of("web", "webx-1"), None);
        assert_eq!(ordinal_of("web", "web-a"), None);
    }
}
