//! Cached, watched copies of resources for the cluster controllers: a
//! reflector kept current by a background watch, read by reconciles
//! instead of listing the apiserver on every pass.

use futures::StreamExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::Api;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Resource, ResourceExt};
use serde::de::DeserializeOwned;
use std::fmt::Debug;

/// Starts watching `api` into a store; the watch restarts with backoff on
/// errors and lives as long as the process.
pub fn reflect<K>(api: Api<K>, cfg: watcher::Config) -> Store<K>
where
    K: Resource<DynamicType = ()> + Clone + Debug + DeserializeOwned + Send + Sync + 'static,
{
    let (reader, writer) = reflector::store();
    let stream = watcher(api, cfg).default_backoff().reflect(writer);
    tokio::spawn(stream.for_each(|event| {
        if let Err(e) = event {
            tracing::debug!(error = %e, "watch error; retrying");
        }
        futures::future::ready(())
    }));
    reader
}

/// An ownerReference that makes `owner` the managing controller of an
/// object, blocking the owner's foreground deletion until it is gone.
pub fn controller_ref<K: Resource<DynamicType = ()>>(owner: &K) -> OwnerReference {
    OwnerReference {
        api_version: K::api_version(&()).into_owned(),
        kind: K::kind(&()).into_owned(),
        name: owner.meta().name.clone().unwrap_or_default(),
        uid: owner.meta().uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// Whether `obj` is controlled by the object with uid `uid`.
pub fn is_controlled_by<K: Resource>(obj: &K, uid: &str) -> bool {
    obj.owner_references()
        .iter()
        .any(|r| r.controller == Some(true) && r.uid == uid)
}

/// RFC 3339 "now", as Kubernetes writes timestamps.
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Waits until `store` has its first full list. kube-runtime's readiness
/// signal wakes only the last of several concurrent waiters (one oneshot
/// behind a mutex), and the shared informers have several, so each waiter
/// polls again on a short timer.
pub async fn wait_synced<K>(store: &Store<K>)
where
    K: Resource + Clone + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone,
{
    loop {
        match tokio::time::timeout(
            std::time::Duration::from_millis(200),
            store.wait_until_ready(),
        )
        .await
        {
            Ok(_) => return,
            Err(_) => continue,
        }
    }
}

/// How long a controller lets triggers settle before reconciling: a
/// separate watch (used because shared streams do not report deletions)
/// may wake a reconcile a moment before the shared cache shows the change.
pub const SETTLE: std::time::Duration = std::time::Duration::from_millis(150);
