//! Adopting and releasing pods, as upstream's ControllerRefManager does: a
//! merge patch of the pod's ownerReferences (and, for Jobs, their tracking
//! finalizer) guarded by the pod's resourceVersion. A pod deleted or
//! changed meanwhile (404, 409) is left for the owner's next sync.

use crate::error::Result;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams};
use serde_json::{Value, json};

/// Adds `owner` (a controller reference) to the pod, and `finalizer` when
/// given; the pod as the apiserver answered, or `None` when it changed.
pub async fn adopt(
    api: &Api<Pod>,
    pod: &Pod,
    owner: OwnerReference,
    finalizer: Option<&str>,
) -> Result<Option<Pod>> {
    let mut refs = pod.owner_references().to_vec();
    refs.push(owner);
    let mut metadata = json!({
        "resourceVersion": pod.metadata.resource_version,
        "ownerReferences": refs,
    });
    if let Some(f) = finalizer {
        let mut finalizers = pod.finalizers().to_vec();
        if !finalizers.iter().any(|x| x == f) {
            finalizers.push(f.to_string());
        }
        metadata["finalizers"] = json!(finalizers);
    }
    let adopted = patch(api, pod, metadata).await?;
    if adopted.is_some() {
        tracing::info!(pod = %pod.name_any(), "adopted pod");
    }
    Ok(adopted)
}

/// Drops the references to `owner_uid` from the pod, and `finalizer` when
/// given.
pub async fn release(
    api: &Api<Pod>,
    pod: &Pod,
    owner_uid: &str,
    finalizer: Option<&str>,
) -> Result<()> {
    let refs: Vec<&OwnerReference> = pod
        .owner_references()
        .iter()
        .filter(|r| r.uid != owner_uid)
        .collect();
    let mut metadata = json!({
        "resourceVersion": pod.metadata.resource_version,
        "ownerReferences": or_null(json!(refs)),
    });
    if let Some(f) = finalizer {
        let kept: Vec<&String> = pod.finalizers().iter().filter(|x| *x != f).collect();
        metadata["finalizers"] = or_null(json!(kept));
    }
    if patch(api, pod, metadata).await?.is_some() {
        tracing::info!(pod = %pod.name_any(), "released pod");
    }
    Ok(())
}

/// A merge patch removes a list given as null; an empty list would stay.
fn or_null(list: Value) -> Value {
    match list.as_array() {
        Some(items) if items.is_empty() => Value::Null,
        _ => list,
    }
}

async fn patch(api: &Api<Pod>, pod: &Pod, metadata: Value) -> Result<Option<Pod>> {
    let body = json!({ "metadata": metadata });
    match api
        .patch(
            &pod.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&body),
        )
        .await
    {
        Ok(p) => Ok(Some(p)),
        Err(kube::Error::Api(e)) if e.code == 404 || e.code == 409 => Ok(None),
        Err(e) => Err(e.into()),
    }
}
