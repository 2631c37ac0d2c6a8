//! The status a ReplicaSet (or ReplicationController) reports, computed
//! from the pods it owns.

use crate::controllers::podutil::{is_available, is_ready};
use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::Pod;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The counts of `status`, from the active pods the set owns.
pub fn compute(
    active: &[&Pod],
    template_labels: &BTreeMap<String, String>,
    min_ready_seconds: i32,
    generation: Option<i64>,
    failure: Option<&str>,
    current: &Value,
    now: DateTime<Utc>,
) -> Value {
    let fully_labeled = active
        .iter()
        .filter(|p| {
            let labels = p.metadata.labels.clone().unwrap_or_default();
            template_labels
                .iter()
                .all(|(k, v)| labels.get(k) == Some(v))
        })
        .count();
    let ready = active.iter().filter(|p| is_ready(p)).count();
    let available = active
        .iter()
        .filter(|p| is_available(p, min_ready_seconds, now))
        .count();
    let conditions = match failure {
        Some(message) => {
            let existing = current
                .get("conditions")
                .and_then(Value::as_array)
                .and_then(|cs| cs.iter().find(|c| c["type"] == "ReplicaFailure"))
                .filter(|c| c["message"] == message)
                .cloned();
            json!([existing.unwrap_or_else(|| json!({
                "type": "ReplicaFailure",
                "status": "True",
                "reason": "FailedCreate",
                "message": message,
                "lastTransitionTime": ::client::time::time(now),
            }))])
        }
        None => Value::Null,
    };
    let mut status = json!({
        "replicas": active.len(),
        "fullyLabeledReplicas": fully_labeled,
        "readyReplicas": ready,
        "availableReplicas": available,
        "observedGeneration": generation,
        "conditions": conditions,
    });
    // Zero counts are omitted on the wire, as upstream's omitempty does.
    if let Some(m) = status.as_object_mut() {
        for k in ["fullyLabeledReplicas", "readyReplicas", "availableReplicas"] {
            if m.get(k) == Some(&json!(0)) {
                m.insert(k.to_string(), Value::Null);
            }
        }
    }
    status
}

/// Whether `desired` (nulls meaning absent or zero) differs from `current`.
pub fn differs(desired: &Value, current: &Value) -> bool {
    let Some(d) = desired.as_object() else {
        return false;
    };
    d.iter().any(|(k, v)| {
        let cur = current.get(k).unwrap_or(&Value::Null);
        let zeroish = |x: &Value| x.is_null() || *x == json!(0) || *x == json!([]);
        if zeroish(v) && zeroish(cur) {
            return false;
        }
        v != cur
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(labels: Value, ready_at: Option<&str>) -> Pod {
        let mut v =
            json!({"metadata": {"name": "p", "labels": labels}, "status": {"phase": "Running"}});
        if let Some(t) = ready_at {
            v["status"]["conditions"] =
                json!([{"type": "Ready", "status": "True", "lastTransitionTime": t}]);
        }
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn counts() {
        let now = "2024-01-01T00:01:00Z".parse().unwrap();
        let tl: BTreeMap<String, String> =
            [("app".into(), "web".into()), ("tier".into(), "fe".into())].into();
        let pods = [
            pod(
                json!({"app": "web", "tier": "fe"}),
                Some("2024-01-01T00:00:00Z"),
            ),
            pod(json!({"app": "web"}), Some("2024-01-01T00:00:50Z")),
            pod(json!({"app": "web", "tier": "fe"}), None),
        ];
        let refs: Vec<&Pod> = pods.iter().collect();
        let s = compute(&refs, &tl, 30, Some(4), None, &Value::Null, now);
        assert_eq!(s["replicas"], 3);
        assert_eq!(s["fullyLabeledReplicas"], 2);
        assert_eq!(s["readyReplicas"], 2);
        assert_eq!(s["availableReplicas"], 1);
        assert_eq!(s["observedGeneration"], 4);
        let failed = compute(&[], &tl, 0, Some(1), Some("quota"), &Value::Null, now);
        assert_eq!(failed["conditions"][0]["reason"], "FailedCreate");
        assert_eq!(failed["readyReplicas"], Value::Null);
        assert!(!differs(&failed, &failed));
        assert!(differs(&s, &json!({"replicas": 3})));
        assert!(!differs(
            &json!({"replicas": 0, "readyReplicas": null}),
            &json!({})
        ));
    }
}
