//! The pod eviction subresource's disruption-budget check: an eviction of
//! a running pod covered by a PodDisruptionBudget is refused (429) when the
//! budget allows no disruption; otherwise the budget's status records the
//! pod under `disruptedPods` (so the disruption controller keeps counting
//! it as gone until it is) and one disruption less is allowed, before the
//! pod is deleted.

use crate::registry::{ListOptions, Store, meta};
use crate::resources;
use crate::status::ApiError;
use crate::validation::selector::{is_empty_selector, selector_matches};
use serde_json::{Value, json};

const VIOLATION: &str = "Cannot evict pod as it would violate the pod's disruption budget.";

/// Checks and charges the budget covering pod `name` before its eviction.
pub async fn charge_budget(
    store: &Store,
    ns: &str,
    name: &str,
    dry_run: bool,
) -> Result<(), ApiError> {
    let (Some(pods), Some(pdbs)) = (
        resources::lookup("", "v1", "pods"),
        resources::lookup("policy", "v1", "poddisruptionbudgets"),
    ) else {
        return Ok(());
    };
    let pod = store.get(pods, ns, name).await?;
    let phase = pod
        .pointer("/status/phase")
        .and_then(Value::as_str)
        .unwrap_or("");
    // Pods that are not running, or already going, disrupt nothing.
    if matches!(phase, "Succeeded" | "Failed" | "Pending")
        || pod.pointer("/metadata/deletionTimestamp").is_some()
    {
        return Ok(());
    }
    let labels = pod.pointer("/metadata/labels").and_then(Value::as_object);
    let list = store.list(pdbs, ns, &ListOptions::default()).await?;
    let covering: Vec<&Value> = list
        .get("items")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter(|b| {
                    b.pointer("/spec/selector")
                        .is_some_and(|s| !is_empty_selector(s) && selector_matches(s, labels))
                })
                .collect()
        })
        .unwrap_or_default();
    let budget = match covering.as_slice() {
        [] => return Ok(()),
        [one] => meta::name(one).to_string(),
        _ => {
            return Err(ApiError::internal(
                "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
            ));
        }
    };
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let pod_name = name.to_string();
    store
        .patch(pdbs, ns, &budget, "status", dry_run, &|current: &Value| {
            let generation = current
                .pointer("/metadata/generation")
                .and_then(Value::as_i64);
            let observed = current
                .pointer("/status/observedGeneration")
                .and_then(Value::as_i64);
            let allowed = current
                .pointer("/status/disruptionsAllowed")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            if observed < generation || allowed <= 0 {
                return Err(ApiError::new(429, "TooManyRequests", VIOLATION));
            }
            let mut next = current.clone();
            let status = &mut next["status"];
            status["disruptionsAllowed"] = json!(allowed - 1);
            if !status["disruptedPods"].is_object() {
                status["disruptedPods"] = json!({});
            }
            status["disruptedPods"][&pod_name] = json!(now);
            Ok(next)
        })
        .await?;
    Ok(())
}
