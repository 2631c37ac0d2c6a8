//! What exists on every start: the system namespaces and the system
//! priority classes. Created when missing, left alone when present.

use crate::registry::Store;
use crate::resources;
use crate::status::ApiError;
use serde_json::{Value, json};
use std::time::Duration;

/// The namespaces upstream creates at start.
pub const SYSTEM_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

fn priority_classes() -> Vec<Value> {
    [("system-node-critical", 2000001000), ("system-cluster-critical", 2000000000)]
        .iter()
        .map(|(name, value)| {
            json!({
                "apiVersion": "scheduling.k8s.io/v1",
                "kind": "PriorityClass",
                "metadata": { "name": name },
                "value": value,
                "globalDefault": false,
                "preemptionPolicy": "PreemptLowerPriority",
                "description": if *name == "system-node-critical" {
                    "Used for system critical pods that must not be moved from their current node."
                } else {
                    "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary."
                },
            })
        })
        .collect()
}

/// Creates `obj` unless it exists.
async fn ensure(store: &Store, group: &str, kind: &str, obj: Value) -> Result<(), ApiError> {
    let def = resources::by_kind(group, kind).ok_or_else(ApiError::not_found_path)?;
    let ns = obj.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("").to_string();
    match store.create(def, &ns, obj, false).await {
        Ok(_) => Ok(()),
        Err(e) if e.code == 409 => Ok(()),
        Err(e) => Err(e),
    }
}

/// Runs the bootstrap once; errors (etcd not up yet) are returned so the
/// caller can retry.
pub async fn run_once(store: &Store) -> Result<(), ApiError> {
    for ns in SYSTEM_NAMESPACES {
        ensure(store, "", "Namespace", json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})).await?;
    }
    for pc in priority_classes() {
        ensure(store, "scheduling.k8s.io", "PriorityClass", pc).await?;
    }
    Ok(())
}

/// Retries the bootstrap until it succeeds (etcd may start after us).
pub async fn run(store: Store) {
    loop {
        match run_once(&store).await {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!("bootstrap not done yet: {e}");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}
