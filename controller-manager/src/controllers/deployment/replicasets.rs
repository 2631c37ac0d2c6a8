//! What the deployment controller writes: ReplicaSet ownership (adopt and
//! release), the new ReplicaSet (created or found, annotated), scaling with
//! `ScalingReplicaSet` events, and the cleanup of old revisions.

use super::annotations;
use super::hash::{LABEL, equal_ignoring_hash, pod_template_hash};
use crate::Context;
use crate::controllers::podutil::{controller_of, controller_ref};
use crate::error::{Error, Result};
use crate::events::Recorder;
use apimachinery::labels::Selector;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, ReplicaSetSpec};
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, Preconditions};
use kube::{Resource, ResourceExt};
use serde_json::json;
use std::collections::BTreeMap;

pub fn desired(rs: &ReplicaSet) -> i32 {
    rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0)
}

pub fn available(rs: &ReplicaSet) -> i32 {
    rs.status
        .as_ref()
        .and_then(|s| s.available_replicas)
        .unwrap_or(0)
}

/// The ReplicaSets `d` owns after adopting matching orphans and releasing
/// owned ones that stopped matching.
pub async fn claim(
    ctx: &Context,
    d: &Deployment,
    selector: &Selector,
    all: &[ReplicaSet],
) -> Vec<ReplicaSet> {
    let uid = d.metadata.uid.clone().unwrap_or_default();
    let api: Api<ReplicaSet> =
        Api::namespaced(ctx.client.clone(), &d.namespace().unwrap_or_default());
    let mut owned = Vec::new();
    for rs in all {
        let matches = selector.matches(rs.labels());
        match controller_of(&rs.metadata) {
            Some(r) if r.uid == uid => {
                if matches {
                    owned.push(rs.clone());
                } else {
                    let patch = json!({"metadata": {"ownerReferences": null, "resourceVersion": rs.metadata.resource_version}});
                    let _ = api
                        .patch(
                            &rs.name_any(),
                            &PatchParams::default(),
                            &Patch::Merge(&patch),
                        )
                        .await;
                }
            }
            Some(_) => {}
            None if matches
                && d.metadata.deletion_timestamp.is_none()
                && rs.metadata.deletion_timestamp.is_none() =>
            {
                let mut refs = rs.metadata.owner_references.clone().unwrap_or_default();
                refs.push(controller_ref("apps/v1", "Deployment", &d.metadata));
                let patch = json!({"metadata": {"ownerReferences": refs, "resourceVersion": rs.metadata.resource_version}});
                if let Ok(adopted) = api
                    .patch(
                        &rs.name_any(),
                        &PatchParams::default(),
                        &Patch::Merge(&patch),
                    )
                    .await
                {
                    owned.push(adopted);
                }
            }
            None => {}
        }
    }
    owned
}

/// Splits owned ReplicaSets into the one matching the Deployment's
/// template (the oldest, if several) and the others, oldest first.
pub fn split(d: &Deployment, mut owned: Vec<ReplicaSet>) -> (Option<ReplicaSet>, Vec<ReplicaSet>) {
    owned.sort_by(|a, b| {
        a.metadata
            .creation_timestamp
            .as_ref()
            .map(|t| t.0)
            .cmp(&b.metadata.creation_timestamp.as_ref().map(|t| t.0))
            .then(
                annotations::revision_of(a.annotations().into())
                    .cmp(&annotations::revision_of(b.annotations().into())),
            )
            .then(a.name_any().cmp(&b.name_any()))
    });
    let template = d
        .spec
        .as_ref()
        .map(|s| s.template.clone())
        .unwrap_or_default();
    let pos = owned.iter().position(|rs| {
        rs.spec
            .as_ref()
            .and_then(|s| s.template.as_ref())
            .is_some_and(|t| equal_ignoring_hash(t, &template))
    });
    let new = pos.map(|i| owned.remove(i));
    (new, owned)
}

pub struct Writer<'a> {
    pub ctx: &'a Context,
    pub d: &'a Deployment,
    pub api: Api<ReplicaSet>,
    pub recorder: Recorder,
    pub d_ref: ObjectReference,
}

impl<'a> Writer<'a> {
    pub fn new(ctx: &'a Context, d: &'a Deployment) -> Writer<'a> {
        Writer {
            ctx,
            d,
            api: Api::namespaced(ctx.client.clone(), &d.namespace().unwrap_or_default()),
            recorder: ctx.recorder("deployment-controller"),
            d_ref: d.object_ref(&()),
        }
    }

    fn replicas(&self) -> i32 {
        self.d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
    }

    /// Sets `spec.replicas` (and the replica annotations) of `rs`, recording
    /// `ScalingReplicaSet` when the size changes.
    pub async fn scale(&self, rs: &ReplicaSet, to: i32, max_replicas: i32) -> Result<ReplicaSet> {
        let from = desired(rs);
        let annotations = rs.annotations();
        let want_desired = self.replicas().to_string();
        let want_max = max_replicas.to_string();
        if from == to
            && annotations.get(annotations::DESIRED_REPLICAS) == Some(&want_desired)
            && annotations.get(annotations::MAX_REPLICAS) == Some(&want_max)
        {
            return Ok(rs.clone());
        }
        let patch = json!({
            "metadata": {
                "resourceVersion": rs.metadata.resource_version,
                "annotations": {annotations::DESIRED_REPLICAS: want_desired, annotations::MAX_REPLICAS: want_max},
            },
            "spec": {"replicas": to},
        });
        let out = self
            .api
            .patch(
                &rs.name_any(),
                &PatchParams::default(),
                &Patch::Merge(&patch),
            )
            .await?;
        if from != to {
            let direction = if to > from { "up" } else { "down" };
            self.recorder.normal(
                self.d_ref.clone(),
                "ScalingReplicaSet",
                format!(
                    "Scaled {direction} replica set {} to {to} from {from}",
                    rs.name_any()
                ),
            );
        }
        Ok(out)
    }

    /// Brings the new ReplicaSet's annotations and minReadySeconds up to date.
    pub async fn refresh_new(
        &self,
        rs: ReplicaSet,
        max_old_revision: i64,
        max_replicas: i32,
    ) -> Result<ReplicaSet> {
        let current = rs.annotations().clone();
        let want = annotations::for_new_rs(
            &current,
            self.d.annotations(),
            max_old_revision,
            self.replicas(),
            max_replicas,
        );
        let min_ready = self.d.spec.as_ref().and_then(|s| s.min_ready_seconds);
        let rs_min_ready = rs.spec.as_ref().and_then(|s| s.min_ready_seconds);
        if want == current && min_ready.unwrap_or(0) == rs_min_ready.unwrap_or(0) {
            return Ok(rs);
        }
        let patch = json!({
            "metadata": {"resourceVersion": rs.metadata.resource_version, "annotations": want},
            "spec": {"minReadySeconds": min_ready},
        });
        Ok(self
            .api
            .patch(
                &rs.name_any(),
                &PatchParams::default(),
                &Patch::Merge(&patch),
            )
            .await?)
    }

    /// Creates the ReplicaSet for the Deployment's template with `replicas`.
    /// Returns it and whether it was created (false: found after a race).
    /// A name taken by a different template bumps `collisionCount`.
    pub async fn create_new(
        &self,
        replicas: i32,
        max_old_revision: i64,
        max_replicas: i32,
    ) -> Result<(ReplicaSet, bool)> {
        let spec = self.d.spec.as_ref().ok_or(Error::Missing("spec"))?;
        let collision = self.d.status.as_ref().and_then(|s| s.collision_count);
        let hash = pod_template_hash(&spec.template, collision);
        let mut template = spec.template.clone();
        let mut meta = template.metadata.clone().unwrap_or_default();
        let mut labels = meta.labels.clone().unwrap_or_default();
        labels.insert(LABEL.into(), hash.clone());
        meta.labels = Some(labels.clone());
        template.metadata = Some(meta);
        let mut selector: LabelSelector = spec.selector.clone();
        selector
            .match_labels
            .get_or_insert_with(BTreeMap::new)
            .insert(LABEL.into(), hash.clone());
        let name = format!("{}-{hash}", self.d.name_any());
        let rs = ReplicaSet {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: self.d.namespace(),
                labels: Some(labels),
                annotations: Some(annotations::for_new_rs(
                    &BTreeMap::new(),
                    self.d.annotations(),
                    max_old_revision,
                    self.replicas(),
                    max_replicas,
                )),
                owner_references: Some(vec![controller_ref(
                    "apps/v1",
                    "Deployment",
                    &self.d.metadata,
                )]),
                ..Default::default()
            },
            spec: Some(ReplicaSetSpec {
                replicas: Some(replicas),
                min_ready_seconds: spec.min_ready_seconds,
                selector,
                template: Some(template),
            }),
            status: None,
        };
        match self.api.create(&PostParams::default(), &rs).await {
            Ok(created) => {
                if replicas > 0 {
                    self.recorder.normal(
                        self.d_ref.clone(),
                        "ScalingReplicaSet",
                        format!("Scaled up replica set {name} to {replicas} from 0"),
                    );
                }
                Ok((created, true))
            }
            Err(kube::Error::Api(e)) if e.code == 409 => {
                let existing = self.api.get(&name).await?;
                let ours = controller_of(&existing.metadata)
                    .is_some_and(|r| Some(&r.uid) == self.d.metadata.uid.as_ref());
                let same = existing
                    .spec
                    .as_ref()
                    .and_then(|s| s.template.as_ref())
                    .is_some_and(|t| equal_ignoring_hash(t, &spec.template));
                if ours && same {
                    return Ok((existing, false));
                }
                let count = collision.unwrap_or(0) + 1;
                let dapi: Api<Deployment> = Api::namespaced(
                    self.ctx.client.clone(),
                    &self.d.namespace().unwrap_or_default(),
                );
                dapi.patch_status(
                    &self.d.name_any(),
                    &PatchParams::default(),
                    &Patch::Merge(json!({"status": {"collisionCount": count}})),
                )
                .await?;
                Err(Error::invalid(
                    "replicaset name",
                    format!("{name} is taken by another template; collisionCount is now {count}"),
                ))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes the oldest empty old ReplicaSets beyond `revisionHistoryLimit`.
    pub async fn cleanup(&self, old: &[ReplicaSet]) -> Result<()> {
        let limit = self
            .d
            .spec
            .as_ref()
            .and_then(|s| s.revision_history_limit)
            .unwrap_or(10)
            .max(0) as usize;
        let mut empty: Vec<&ReplicaSet> = old
            .iter()
            .filter(|rs| {
                desired(rs) == 0
                    && rs.status.as_ref().map_or(0, |s| s.replicas) == 0
                    && rs.metadata.deletion_timestamp.is_none()
            })
            .collect();
        if empty.len() <= limit {
            return Ok(());
        }
        empty.sort_by_key(|rs| annotations::revision_of(Some(rs.annotations())));
        for rs in &empty[..empty.len() - limit] {
            let dp = DeleteParams {
                preconditions: Some(Preconditions {
                    uid: rs.metadata.uid.clone(),
                    resource_version: rs.metadata.resource_version.clone(),
                }),
                ..Default::default()
            };
            match self.api.delete(&rs.name_any(), &dp).await {
                Ok(_) => tracing::info!(replicaset = %rs.name_any(), "deleted old replica set"),
                Err(kube::Error::Api(e)) if e.code == 404 || e.code == 409 => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}
