//! Reads the plugins need (namespaces, service accounts, classes, ranges,
//! quotas): answered from the watch-fed [`super::cache`] when it can, from
//! etcd otherwise (unsynced cache, a name it does not know yet).

use super::cache::Kind;
use crate::registry::{ListOptions, Store};
use crate::resources::{self, ResourceDef};
use crate::status::ApiError;
use serde_json::Value;

pub fn def(group: &str, version: &str, plural: &str) -> Result<&'static ResourceDef, ApiError> {
    resources::lookup(group, version, plural).ok_or_else(ApiError::not_found_path)
}

/// One object, `None` when it does not exist. A cache miss is confirmed
/// live: the object may have been created a moment ago.
pub async fn get(
    store: &Store,
    kind @ (group, version, plural): Kind,
    ns: &str,
    name: &str,
) -> Result<Option<Value>, ApiError> {
    if let Some(v) = store
        .admission
        .caches
        .of(kind)
        .and_then(|c| c.cached(ns, name))
    {
        return Ok(Some(v));
    }
    live_get(store, (group, version, plural), ns, name).await
}

/// One object read from etcd.
pub async fn live_get(
    store: &Store,
    (group, version, plural): Kind,
    ns: &str,
    name: &str,
) -> Result<Option<Value>, ApiError> {
    match store.get(def(group, version, plural)?, ns, name).await {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.code == 404 => Ok(None),
        Err(e) => Err(e),
    }
}

/// Every object of a kind in `ns` ("" = all or cluster-scoped), from the
/// cache when it can answer.
pub async fn list(store: &Store, kind: Kind, ns: &str) -> Result<Vec<Value>, ApiError> {
    let cache = store.admission.caches.of(kind);
    if let Some(items) = cache.and_then(|c| c.cached_list(ns)) {
        return Ok(items);
    }
    // A synced cache that cannot answer wants an empty list confirmed:
    // one request at a time asks etcd, the others then read its answer.
    let _confirming = match cache {
        Some(c) if c.is_synced() => {
            let guard = c.confirming().await;
            if let Some(items) = c.cached_list(ns) {
                return Ok(items);
            }
            Some(guard)
        }
        _ => None,
    };
    let items = live_list(store, kind, ns).await?;
    if let Some(c) = cache {
        c.note_live_list(ns, items.len());
    }
    Ok(items)
}

/// Every object of a kind in `ns`, read from etcd.
pub async fn live_list(
    store: &Store,
    (group, version, plural): Kind,
    ns: &str,
) -> Result<Vec<Value>, ApiError> {
    let l = store
        .list(def(group, version, plural)?, ns, &ListOptions::default())
        .await?;
    Ok(l.get("items")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default())
}

/// The namespace `name` (the one function a namespace cache replaces).
pub async fn namespace(store: &Store, name: &str) -> Result<Option<Value>, ApiError> {
    get(store, NAMESPACES, "", name).await
}

pub const NAMESPACES: Kind = ("", "v1", "namespaces");
pub const SERVICE_ACCOUNTS: Kind = ("", "v1", "serviceaccounts");
pub const LIMIT_RANGES: Kind = ("", "v1", "limitranges");
pub const RESOURCE_QUOTAS: Kind = ("", "v1", "resourcequotas");
pub const PRIORITY_CLASSES: Kind = ("scheduling.k8s.io", "v1", "priorityclasses");
pub const STORAGE_CLASSES: Kind = ("storage.k8s.io", "v1", "storageclasses");
pub const RUNTIME_CLASSES: Kind = ("node.k8s.io", "v1", "runtimeclasses");
