//! Ownership: a set owns the pods that name it as controller and match its
//! selector. It adopts matching orphans and releases owned pods that no
//! longer match (their labels were edited), as upstream's
//! ControllerRefManager does.

use super::kind::{ReplicaKind, SpecView};
use crate::Context;
use crate::controllers::pod_ownership;
use crate::controllers::podutil::{controller_of, controller_ref};
use crate::error::Result;
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use kube::api::Api;
use std::sync::Arc;

/// The pods `set` owns after adopting and releasing.
pub async fn claim<K: ReplicaKind>(
    ctx: &Context,
    set: &K,
    view: &SpecView,
    pods: &[Arc<Pod>],
) -> Result<Vec<Arc<Pod>>> {
    let uid = set.meta().uid.clone().unwrap_or_default();
    let ns = set.namespace().unwrap_or_default();
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), &ns);
    let set_terminating = set.meta().deletion_timestamp.is_some();
    let mut owned = Vec::new();
    for pod in pods {
        let matches = !view.selector.is_empty() && view.selector.matches(pod.labels());
        match controller_of(&pod.metadata) {
            Some(owner) if owner.uid == uid => {
                if matches || pod.metadata.deletion_timestamp.is_some() {
                    owned.push(pod.clone());
                } else {
                    release(&api, pod, &uid).await;
                }
            }
            Some(_) => {}
            None => {
                if matches
                    && !set_terminating
                    && pod.metadata.deletion_timestamp.is_none()
                    && adopt(&api, pod, set).await
                {
                    owned.push(pod.clone());
                }
            }
        }
    }
    Ok(owned)
}

async fn adopt<K: ReplicaKind>(api: &Api<Pod>, pod: &Pod, set: &K) -> bool {
    let owner = controller_ref(&K::api_version(&()), &K::kind(&()), set.meta());
    match pod_ownership::adopt(api, pod, owner, None).await {
        Ok(adopted) => adopted.is_some(),
        Err(e) => {
            tracing::debug!(pod = %pod.name_any(), error = %e, "could not adopt pod");
            false
        }
    }
}

async fn release(api: &Api<Pod>, pod: &Pod, owner_uid: &str) {
    if let Err(e) = pod_ownership::release(api, pod, owner_uid, None).await {
        tracing::debug!(pod = %pod.name_any(), error = %e, "could not release pod");
    }
}
