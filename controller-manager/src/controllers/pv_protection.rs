//! The pv-protection controller: every PersistentVolume carries the
//! `kubernetes.io/pv-protection` finalizer, removed only once a deleted
//! volume is no longer bound to a claim.

use crate::Context;
use crate::controllers::run_controller;
use crate::error::Result;
use k8s_openapi::api::core::v1::PersistentVolume;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::Controller;
use kube::runtime::controller::Action;
use kube::{Resource, ResourceExt};
use serde_json::json;
use std::sync::Arc;

pub const FINALIZER: &str = "kubernetes.io/pv-protection";

struct State {
    client: kube::Client,
}

pub async fn run(ctx: Context) -> anyhow::Result<()> {
    let client = ctx.client.clone();
    let volumes = ctx.informers.get::<PersistentVolume>();
    let events = volumes.subscribe().objects();
    let controller = Controller::for_shared_stream(events, volumes.reader().await);
    run_controller(
        "pv-protection",
        ctx.metrics.clone(),
        controller,
        reconcile,
        Arc::new(State { client }),
    )
    .await
}

/// The finalizer list after adding or removing ours; `None` when unchanged.
pub fn finalizers_with(current: &[String], finalizer: &str, present: bool) -> Option<Vec<String>> {
    let has = current.iter().any(|f| f == finalizer);
    match (has, present) {
        (false, true) => Some(
            current
                .iter()
                .cloned()
                .chain([finalizer.to_string()])
                .collect(),
        ),
        (true, false) => Some(
            current
                .iter()
                .filter(|f| *f != finalizer)
                .cloned()
                .collect(),
        ),
        _ => None,
    }
}

async fn reconcile(pv: Arc<PersistentVolume>, st: Arc<State>) -> Result<Action> {
    let deleting = pv.meta().deletion_timestamp.is_some();
    let bound = pv.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Bound");
    let keep = !deleting || bound;
    if let Some(f) = finalizers_with(pv.finalizers(), FINALIZER, keep) {
        let api: Api<PersistentVolume> = Api::all(st.client.clone());
        let patch =
            json!({"metadata": {"finalizers": f, "resourceVersion": pv.resource_version()}});
        api.patch(
            &pv.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await?;
    }
    Ok(Action::await_change())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finalizer_edits() {
        let cur = vec!["a".to_string()];
        assert_eq!(
            finalizers_with(&cur, FINALIZER, true),
            Some(vec!["a".into(), FINALIZER.into()])
        );
        assert_eq!(finalizers_with(&cur, FINALIZER, false), None);
        let with = vec![FINALIZER.to_string(), "a".to_string()];
        assert_eq!(
            finalizers_with(&with, FINALIZER, false),
            Some(vec!["a".into()])
        );
        assert_eq!(finalizers_with(&with, FINALIZER, true), None);
    }
}
