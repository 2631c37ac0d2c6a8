//! ControllerRevisions: one per distinct pod template of a StatefulSet (or
//! DaemonSet), holding the template as the patch `kubectl rollout undo`
//! applies, numbered in order of use, labelled with their hash.

use crate::controllers::deployment::hash::pod_template_hash;
use crate::controllers::podutil::{controller_of, controller_ref};
use crate::error::Result;
use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::runtime::RawExtension;
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;
use std::collections::BTreeMap;

/// The label carrying a revision's hash, and on pods the revision name.
pub const HASH_LABEL: &str = "controller.kubernetes.io/hash";
pub const POD_REVISION_LABEL: &str = "controller-revision-hash";

/// What a revision stores: the template as a replacing patch.
pub fn revision_data(template: &PodTemplateSpec) -> serde_json::Value {
    let mut t = serde_json::to_value(template).unwrap_or_default();
    if let Some(o) = t.as_object_mut() {
        o.insert("$patch".into(), json!("replace"));
    }
    json!({"spec": {"template": t}})
}

/// The template a revision stores.
pub fn template_of(rev: &ControllerRevision) -> Option<PodTemplateSpec> {
    let data = rev.data.as_ref()?.0.clone();
    let mut t = data.get("spec")?.get("template")?.clone();
    if let Some(o) = t.as_object_mut() {
        o.remove("$patch");
    }
    serde_json::from_value(t).ok()
}

/// The revisions `owner` controls, oldest revision first.
pub async fn owned(
    api: &Api<ControllerRevision>,
    owner_uid: &str,
    selector: &str,
) -> Result<Vec<ControllerRevision>> {
    let list = api.list(&ListParams::default().labels(selector)).await?;
    let mut revs: Vec<ControllerRevision> = list
        .items
        .into_iter()
        .filter(|r| controller_of(&r.metadata).is_some_and(|o| o.uid == owner_uid))
        .collect();
    revs.sort_by_key(|r| r.revision);
    Ok(revs)
}

/// Finds the revision for `template` (bumping its number when an older
/// one is reused) or creates it; returns it and the updated list.
#[allow(clippy::too_many_arguments)]
pub async fn ensure(
    api: &Api<ControllerRevision>,
    owner: &ObjectMeta,
    api_version: &str,
    kind: &str,
    labels: &BTreeMap<String, String>,
    template: &PodTemplateSpec,
    collision_count: Option<i32>,
    mut revs: Vec<ControllerRevision>,
) -> Result<(ControllerRevision, Vec<ControllerRevision>)> {
    let max = revs.iter().map(|r| r.revision).max().unwrap_or(0);
    let data = revision_data(template);
    if let Some(i) = revs
        .iter()
        .position(|r| r.data.as_ref().map(|d| &d.0) == Some(&data))
    {
        if revs[i].revision < max {
            let patch = json!({"revision": max + 1});
            revs[i] = api
                .patch(
                    &revs[i].name_any(),
                    &PatchParams::default(),
                    &Patch::Merge(&patch),
                )
                .await?;
        }
        let found = revs[i].clone();
        return Ok((found, revs));
    }
    let hash = pod_template_hash(template, collision_count);
    let mut rev_labels = labels.clone();
    rev_labels.insert(HASH_LABEL.into(), hash.clone());
    let rev = ControllerRevision {
        metadata: ObjectMeta {
            name: Some(format!("{}-{hash}", owner.name.clone().unwrap_or_default())),
            namespace: owner.namespace.clone(),
            labels: Some(rev_labels),
            annotations: owner.annotations.clone().map(|mut a| {
                a.remove("kubectl.kubernetes.io/last-applied-configuration");
                a
            }),
            owner_references: Some(vec![controller_ref(api_version, kind, owner)]),
            ..Default::default()
        },
        data: Some(RawExtension(data)),
        revision: max + 1,
    };
    let created = match api.create(&PostParams::default(), &rev).await {
        Ok(c) => c,
        Err(kube::Error::Api(e)) if e.code == 409 => api.get(&rev.name_any()).await?,
        Err(e) => return Err(e.into()),
    };
    revs.push(created.clone());
    Ok((created, revs))
}

/// Deletes the oldest revisions no pod uses beyond `limit`.
pub async fn cleanup(
    api: &Api<ControllerRevision>,
    revs: &[ControllerRevision],
    in_use: &[String],
    limit: usize,
) -> Result<()> {
    let unused: Vec<&ControllerRevision> = revs
        .iter()
        .filter(|r| !in_use.contains(&r.name_any()))
        .collect();
    if unused.len() <= limit {
        return Ok(());
    }
    for r in &unused[..unused.len() - limit] {
        match api.delete(&r.name_any(), &DeleteParams::default()).await {
            Ok(_) | Err(kube::Error::Api(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_round_trips() {
        let t: PodTemplateSpec =
            serde_json::from_value(json!({"metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}}))
            .unwrap();
        let data = revision_data(&t);
        assert_eq!(data["spec"]["template"]["$patch"], "replace");
        let rev = ControllerRevision {
            data: Some(RawExtension(data)),
            revision: 1,
            metadata: Default::default(),
        };
        assert_eq!(template_of(&rev), Some(t));
    }
}
