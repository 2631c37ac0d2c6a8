//! A DaemonSet's history as upstream's daemonset controller keeps it: one
//! ControllerRevision per template, labelled `controller-revision-hash`
//! (the value its pods carry), found by comparing the stored template, not
//! by name. History edited by hand is taken as it is: a revision missing
//! the label gets one, duplicates of the current template are merged into
//! the newest, and a name already taken by a revision of another template
//! moves `status.collisionCount` on so that the next attempt hashes to a
//! free name.

use crate::controllers::deployment::hash::pod_template_hash;
use crate::controllers::podutil::{controller_of, controller_ref};
use crate::controllers::statefulset::revisions::{HASH_LABEL, POD_REVISION_LABEL, revision_data};
use crate::error::Result;
use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::runtime::RawExtension;
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Upstream's `DefaultDaemonSetUniqueLabelKey`: on revisions and on pods.
pub const UNIQUE_LABEL: &str = POD_REVISION_LABEL;

/// The hash a revision stands for, once labelled.
pub fn hash_of(rev: &ControllerRevision) -> Option<&str> {
    rev.labels().get(UNIQUE_LABEL).map(String::as_str)
}

/// The value to label a revision with when it lacks [`UNIQUE_LABEL`]: its
/// name, as upstream does (no hash to recompute, no collision to fear);
/// revisions written by our older releases keep the hash they carried.
pub fn missing_label(rev: &ControllerRevision) -> Option<String> {
    if rev.labels().contains_key(UNIQUE_LABEL) {
        return None;
    }
    Some(
        rev.labels()
            .get(HASH_LABEL)
            .cloned()
            .unwrap_or_else(|| rev.name_any()),
    )
}

/// Of several revisions holding the current template, the one to keep:
/// the highest revision (the later one on a tie).
pub fn keeper(current: &[ControllerRevision]) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (i, r) in current.iter().enumerate() {
        if best.is_none_or(|b| r.revision >= current[b].revision) {
            best = Some(i);
        }
    }
    best
}

/// The number the current revision must carry: above every old one.
pub fn next_revision(old: &[ControllerRevision]) -> i64 {
    old.iter().map(|r| r.revision).max().unwrap_or(0) + 1
}

/// The old revisions to delete beyond `limit`, oldest first, sparing any
/// whose hash a pod still carries.
pub fn expired(
    old: &[ControllerRevision],
    live_hashes: &BTreeSet<String>,
    limit: usize,
) -> Vec<String> {
    let mut to_kill = old.len().saturating_sub(limit);
    let mut sorted: Vec<&ControllerRevision> = old.iter().collect();
    sorted.sort_by_key(|r| r.revision);
    let mut names = Vec::new();
    for r in sorted {
        if to_kill == 0 {
            break;
        }
        if hash_of(r).is_some_and(|h| live_hashes.contains(h)) {
            continue;
        }
        names.push(r.name_any());
        to_kill -= 1;
    }
    names
}

/// The current revision of `ds` (created, relabelled or renumbered as
/// needed) and its old revisions. `pods` are the DaemonSet's pods, whose
/// hash labels follow the kept revision when duplicates are merged.
///
/// A name collision is answered with the apiserver's 409 after moving
/// `status.collisionCount` on: the reconcile is retried shortly and then
/// hashes to another name.
pub async fn construct(
    api: &Api<ControllerRevision>,
    pods: &Api<Pod>,
    sets: &Api<DaemonSet>,
    ds: &DaemonSet,
    owned_pods: &[Arc<Pod>],
) -> Result<(ControllerRevision, Vec<ControllerRevision>)> {
    let uid = ds.metadata.uid.clone().unwrap_or_default();
    let template = ds
        .spec
        .as_ref()
        .map(|s| s.template.clone())
        .unwrap_or_default();
    let data = revision_data(&template);
    let mut current = Vec::new();
    let mut old = Vec::new();
    for mut rev in api.list(&ListParams::default()).await?.items {
        if controller_of(&rev.metadata).is_none_or(|o| o.uid != uid) {
            continue;
        }
        if let Some(value) = missing_label(&rev) {
            let patch = json!({"metadata": {"labels": {UNIQUE_LABEL: value}}});
            rev = api
                .patch(
                    &rev.name_any(),
                    &PatchParams::default(),
                    &Patch::Merge(&patch),
                )
                .await?;
        }
        if rev.data.as_ref().map(|d| &d.0) == Some(&data) {
            current.push(rev);
        } else {
            old.push(rev);
        }
    }
    let next = next_revision(&old);
    let Some(keep) = keeper(&current) else {
        let cur = snapshot(api, sets, ds, data, next).await?;
        return Ok((cur, old));
    };
    let mut cur = current.swap_remove(keep);
    if let Some(hash) = hash_of(&cur).map(str::to_string) {
        for p in owned_pods {
            if !current.is_empty() && p.labels().get(UNIQUE_LABEL) != Some(&hash) {
                let patch = json!({"metadata": {"labels": {UNIQUE_LABEL: hash}}});
                pods.patch(
                    &p.name_any(),
                    &PatchParams::default(),
                    &Patch::Merge(&patch),
                )
                .await?;
            }
        }
    }
    for dup in &current {
        match api.delete(&dup.name_any(), &DeleteParams::default()).await {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            Err(e) => return Err(e.into()),
        }
    }
    if cur.revision < next {
        let patch = json!({"revision": next});
        cur = api
            .patch(
                &cur.name_any(),
                &PatchParams::default(),
                &Patch::Merge(&patch),
            )
            .await?;
    }
    Ok((cur, old))
}

/// Creates the revision of the current template, named after its hash.
async fn snapshot(
    api: &Api<ControllerRevision>,
    sets: &Api<DaemonSet>,
    ds: &DaemonSet,
    data: serde_json::Value,
    revision: i64,
) -> Result<ControllerRevision> {
    let spec = ds.spec.clone().unwrap_or_default();
    let collision_count = ds.status.as_ref().and_then(|s| s.collision_count);
    let hash = pod_template_hash(&spec.template, collision_count);
    let name = format!("{}-{hash}", ds.name_any());
    let mut labels: BTreeMap<String, String> = spec
        .template
        .metadata
        .as_ref()
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    labels.insert(UNIQUE_LABEL.into(), hash);
    let rev = ControllerRevision {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            namespace: ds.namespace(),
            labels: Some(labels),
            annotations: ds.metadata.annotations.clone().map(|mut a| {
                a.remove("kubectl.kubernetes.io/last-applied-configuration");
                a
            }),
            owner_references: Some(vec![controller_ref("apps/v1", "DaemonSet", &ds.metadata)]),
            ..Default::default()
        },
        data: Some(RawExtension(data.clone())),
        revision,
    };
    let taken = match api.create(&PostParams::default(), &rev).await {
        Ok(created) => return Ok(created),
        Err(kube::Error::Api(e)) if e.code == 409 => e,
        Err(e) => return Err(e.into()),
    };
    let existing = api.get(&name).await?;
    if existing.data.as_ref().map(|d| &d.0) == Some(&data) {
        return Ok(existing);
    }
    // Another template holds the name. Move the collision count on, unless
    // the count just used was stale (then simply retry with the fresh one).
    let live = sets.get(&ds.name_any()).await?;
    let live_count = live.status.as_ref().and_then(|s| s.collision_count);
    if live_count == collision_count {
        let bumped = collision_count.unwrap_or(0) + 1;
        tracing::info!(daemonset = %ds.name_any(), collision_count = bumped, "ControllerRevision name taken; bumping collisionCount");
        sets.patch_status(
            &ds.name_any(),
            &PatchParams::default(),
            &Patch::Merge(
                json!({"metadata": {"resourceVersion": live.metadata.resource_version},
                "status": {"collisionCount": bumped}}),
            ),
        )
        .await?;
    }
    Err(kube::Error::Api(taken).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rev(name: &str, revision: i64, labels: &[(&str, &str)]) -> ControllerRevision {
        ControllerRevision {
            metadata: ObjectMeta {
                name: Some(name.into()),
                labels: Some(
                    labels
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                ),
                ..Default::default()
            },
            data: None,
            revision,
        }
    }

    #[test]
    fn unlabelled_revisions_get_their_name_or_old_hash() {
        assert_eq!(missing_label(&rev("ds-abc", 1, &[])), Some("ds-abc".into()));
        assert_eq!(
            missing_label(&rev("ds-abc", 1, &[(HASH_LABEL, "abc")])),
            Some("abc".into())
        );
        assert_eq!(
            missing_label(&rev("ds-abc", 1, &[(UNIQUE_LABEL, "x")])),
            None
        );
    }

    #[test]
    fn duplicates_keep_the_newest_and_numbers_go_up() {
        let cur = [rev("a", 1, &[]), rev("b", 2, &[]), rev("c", 2, &[])];
        assert_eq!(keeper(&cur), Some(2));
        assert_eq!(keeper(&[]), None);
        assert_eq!(next_revision(&[]), 1);
        assert_eq!(next_revision(&[rev("a", 4, &[]), rev("b", 2, &[])]), 5);
    }

    #[test]
    fn expired_spares_revisions_pods_still_use() {
        let old = [
            rev("r3", 3, &[(UNIQUE_LABEL, "h3")]),
            rev("r1", 1, &[(UNIQUE_LABEL, "h1")]),
            rev("r2", 2, &[(UNIQUE_LABEL, "h2")]),
        ];
        let live: BTreeSet<String> = ["h1".to_string()].into();
        assert_eq!(expired(&old, &live, 1), ["r2", "r3"]);
        assert_eq!(expired(&old, &live, 2), ["r2"]);
        assert!(expired(&old, &live, 3).is_empty());
    }
}
