//! Pods: status starts Pending with a QoS class; selectable by node,
//! phase and a few spec fields.

use super::{StatusReset, Strategy, keep_field};
use crate::resources::ResourceDef;
use serde_json::{Value, json};

pub struct Pods;

impl Strategy for Pods {
    fn prepare_for_create(&self, _def: &ResourceDef, obj: &mut Value) {
        let qos = qos_class(obj);
        if let Some(o) = obj.as_object_mut() {
            o.insert(
                "status".into(),
                json!({ "phase": "Pending", "qosClass": qos }),
            );
        }
    }

    fn prepare_for_update(&self, _def: &ResourceDef, new: &mut Value, old: &Value) {
        keep_field(new, old, "status");
    }

    /// Upstream's `podStatusStrategy`: old kubelets corrupt owner
    /// references, so pods/status never changes them.
    fn status_reset(&self, _def: &ResourceDef) -> StatusReset {
        StatusReset::SpecAndMetadata(&["ownerReferences"])
    }

    fn selectable_fields(&self) -> &'static [&'static str] {
        &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ]
    }

    fn field_value(&self, obj: &Value, field: &str) -> Option<String> {
        match field {
            // An absent hostNetwork selects as "false", as upstream.
            "spec.hostNetwork" => {
                Some(super::path_value(obj, field).unwrap_or_else(|| "false".to_string()))
            }
            f => super::path_value(obj, f),
        }
    }
}

/// Upstream's QoS rule: no requests or limits anywhere → BestEffort;
/// every container with cpu and memory limits equal to its requests →
/// Guaranteed; otherwise Burstable.
pub fn qos_class(pod: &Value) -> &'static str {
    let containers: Vec<&Value> = ["containers", "initContainers"]
        .iter()
        .filter_map(|k| pod.pointer(&format!("/spec/{k}")).and_then(Value::as_array))
        .flatten()
        .collect();
    let mut any = false;
    let mut guaranteed = !containers.is_empty();
    for c in &containers {
        let requests = c.pointer("/resources/requests").and_then(Value::as_object);
        let limits = c.pointer("/resources/limits").and_then(Value::as_object);
        if requests.is_some_and(|r| !r.is_empty()) || limits.is_some_and(|l| !l.is_empty()) {
            any = true;
        }
        for res in ["cpu", "memory"] {
            let limit = limits.and_then(|l| l.get(res));
            // A request defaults to the limit when only the limit is set.
            let request = requests.and_then(|r| r.get(res)).or(limit);
            if limit.is_none() || request != limit {
                guaranteed = false;
            }
        }
    }
    if !any {
        "BestEffort"
    } else if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qos_classes() {
        let be = json!({"spec": {"containers": [{"name": "a"}]}});
        assert_eq!(qos_class(&be), "BestEffort");
        let g = json!({"spec": {"containers": [{"resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]}});
        assert_eq!(qos_class(&g), "Guaranteed");
        let b = json!({"spec": {"containers": [{"resources": {"requests": {"cpu": "100m"}}}]}});
        assert_eq!(qos_class(&b), "Burstable");
    }

    #[test]
    fn created_pods_are_pending() {
        let def = crate::resources::lookup("", "v1", "pods").expect("pods served");
        let mut p =
            json!({"spec": {"containers": [{"name": "a"}]}, "status": {"phase": "Running"}});
        Pods.prepare_for_create(def, &mut p);
        assert_eq!(p["status"]["phase"], "Pending");
        assert_eq!(p["status"]["qosClass"], "BestEffort");
    }
}
