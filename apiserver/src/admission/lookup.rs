//! Reads the plugins need (namespaces, service accounts, classes, ranges,
//! quotas). They go straight to the store today; an informer-style cache can
//! replace these functions without touching the plugins.

use crate::registry::{ListOptions, Store};
use crate::resources::{self, ResourceDef};
use crate::status::ApiError;
use serde_json::Value;

pub fn def(group: &str, version: &str, plural: &str) -> Result<&'static ResourceDef, ApiError> {
    resources::lookup(group, version, plural).ok_or_else(ApiError::not_found_path)
}

/// One object, `None` when it does not exist.
pub async fn get(
    store: &Store,
    (group, version, plural): (&str, &str, &str),
    ns: &str,
    name: &str,
) -> Result<Option<Value>, ApiError> {
    match store.get(def(group, version, plural)?, ns, name).await {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.code == 404 => Ok(None),
        Err(e) => Err(e),
    }
}

/// Every object of a kind in `ns` ("" = all or cluster-scoped).
pub async fn list(
    store: &Store,
    (group, version, plural): (&str, &str, &str),
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

pub const NAMESPACES: (&str, &str, &str) = ("", "v1", "namespaces");
pub const SERVICE_ACCOUNTS: (&str, &str, &str) = ("", "v1", "serviceaccounts");
pub const LIMIT_RANGES: (&str, &str, &str) = ("", "v1", "limitranges");
pub const RESOURCE_QUOTAS: (&str, &str, &str) = ("", "v1", "resourcequotas");
pub const PRIORITY_CLASSES: (&str, &str, &str) = ("scheduling.k8s.io", "v1", "priorityclasses");
pub const STORAGE_CLASSES: (&str, &str, &str) = ("storage.k8s.io", "v1", "storageclasses");
