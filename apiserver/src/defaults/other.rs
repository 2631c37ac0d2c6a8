//! Defaults of the smaller kinds: Namespace, Secret, Node, volumes and
//! claims, LimitRange, NetworkPolicy, PriorityClass, StorageClass, HPA,
//! RBAC subjects.

use crate::validation::json::{each_mut, ensure_obj, set_default, set_default_str};
use base64::Engine;
use serde_json::{Map, Value, json};

/// Namespace: the `kubernetes` finalizer (upstream's strategy sets it on
/// create), phase Active, and the `kubernetes.io/metadata.name` label.
pub fn default_namespace(ns: &mut Value) {
    let name = ns
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if let Some(meta) = ensure_obj(ns, "metadata")
        && let Some(labels) = ensure_obj(meta, "labels").and_then(Value::as_object_mut)
        && !name.is_empty()
    {
        labels.insert("kubernetes.io/metadata.name".into(), json!(name));
    }
    if let Some(spec) = ensure_obj(ns, "spec") {
        set_default(spec, "finalizers", json!(["kubernetes"]));
    }
    if let Some(status) = ensure_obj(ns, "status") {
        set_default_str(status, "phase", "Active");
    }
}

/// Secret: type Opaque; `stringData` folded into `data` as v1's conversion
/// does (stringData wins), so stored secrets carry base64 `data` only.
pub fn default_secret(s: &mut Value) {
    set_default_str(s, "type", "Opaque");
    let Some(obj) = s.as_object_mut() else {
        return;
    };
    let Some(Value::Object(string_data)) = obj.remove("stringData") else {
        return;
    };
    let data = obj.entry("data").or_insert_with(|| json!({}));
    if data.is_null() {
        *data = json!({});
    }
    if let Some(d) = data.as_object_mut() {
        for (k, v) in string_data {
            let text = v.as_str().unwrap_or_default();
            d.insert(
                k,
                json!(base64::engine::general_purpose::STANDARD.encode(text)),
            );
        }
    }
}

/// Node: allocatable defaults to capacity.
pub fn default_node(n: &mut Value) {
    let capacity = n
        .get("status")
        .and_then(|s| s.get("capacity"))
        .filter(|c| !c.is_null())
        .cloned();
    if let Some(cap) = capacity
        && let Some(status) = ensure_obj(n, "status")
    {
        set_default(status, "allocatable", cap);
    }
}

/// PersistentVolume: phase Pending, reclaim policy Retain, volumeMode Filesystem.
pub fn default_pv(pv: &mut Value) {
    if let Some(spec) = ensure_obj(pv, "spec") {
        set_default_str(spec, "persistentVolumeReclaimPolicy", "Retain");
        set_default_str(spec, "volumeMode", "Filesystem");
    }
    if let Some(status) = ensure_obj(pv, "status") {
        set_default_str(status, "phase", "Pending");
    }
}

/// PersistentVolumeClaim (also StatefulSet claim templates): phase Pending,
/// volumeMode Filesystem.
pub fn default_pvc(pvc: &mut Value) {
    if let Some(spec) = ensure_obj(pvc, "spec") {
        set_default_str(spec, "volumeMode", "Filesystem");
    }
    if let Some(status) = ensure_obj(pvc, "status") {
        set_default_str(status, "phase", "Pending");
    }
}

/// LimitRange: a Container item's default limit falls back to max, its
/// default request to the default limit (or min).
pub fn default_limit_range(lr: &mut Value) {
    let Some(spec) = lr.get_mut("spec") else {
        return;
    };
    for item in each_mut(spec, "limits") {
        if item.get("type").and_then(Value::as_str) != Some("Container") {
            continue;
        }
        let max = item
            .get("max")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let min = item
            .get("min")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let mut default: Map<String, Value> = item
            .get("default")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for (k, v) in &max {
            default.entry(k.clone()).or_insert(v.clone());
        }
        let mut request: Map<String, Value> = item
            .get("defaultRequest")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for (k, v) in &default {
            request.entry(k.clone()).or_insert(v.clone());
        }
        for (k, v) in &min {
            request.entry(k.clone()).or_insert(v.clone());
        }
        if !default.is_empty() {
            item["default"] = Value::Object(default);
        }
        if !request.is_empty() {
            item["defaultRequest"] = Value::Object(request);
        }
    }
}

/// NetworkPolicy: port protocol TCP; policyTypes from the rules present.
pub fn default_network_policy(np: &mut Value) {
    let Some(spec) = ensure_obj(np, "spec") else {
        return;
    };
    for list in ["ingress", "egress"] {
        for rule in each_mut(spec, list) {
            for p in each_mut(rule, "ports") {
                set_default_str(p, "protocol", "TCP");
            }
        }
    }
    let has_types = spec
        .get("policyTypes")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    if !has_types {
        let mut types = vec![json!("Ingress")];
        if spec
            .get("egress")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
        {
            types.push(json!("Egress"));
        }
        spec["policyTypes"] = Value::Array(types);
    }
}

/// PriorityClass: preemptionPolicy PreemptLowerPriority.
pub fn default_priority_class(pc: &mut Value) {
    set_default_str(pc, "preemptionPolicy", "PreemptLowerPriority");
}

/// StorageClass: reclaimPolicy Delete, volumeBindingMode Immediate.
pub fn default_storage_class(sc: &mut Value) {
    set_default(sc, "reclaimPolicy", json!("Delete"));
    set_default(sc, "volumeBindingMode", json!("Immediate"));
}

/// CSIDriver (`SetDefaults_CSIDriver`): attach required, no pod info on
/// mount, no capacity tracking or republishing, fsGroup applied for
/// ReadWriteOnce volumes with a filesystem type, persistent volumes only,
/// no SELinux mount.
pub fn default_csi_driver(d: &mut Value) {
    let Some(spec) = ensure_obj(d, "spec") else {
        return;
    };
    set_default(spec, "attachRequired", json!(true));
    set_default(spec, "podInfoOnMount", json!(false));
    set_default(spec, "storageCapacity", json!(false));
    set_default(spec, "fsGroupPolicy", json!("ReadWriteOnceWithFSType"));
    set_default(spec, "volumeLifecycleModes", json!(["Persistent"]));
    set_default(spec, "requiresRepublish", json!(false));
    set_default(spec, "seLinuxMount", json!(false));
}

/// HorizontalPodAutoscaler: minReplicas 1; autoscaling/v2 also a CPU
/// utilisation metric of 80% when no metric is given.
pub fn default_hpa(hpa: &mut Value) {
    let v2 = hpa
        .get("apiVersion")
        .and_then(Value::as_str)
        .is_some_and(|v| v.starts_with("autoscaling/v2"));
    let Some(spec) = ensure_obj(hpa, "spec") else {
        return;
    };
    set_default(spec, "minReplicas", json!(1));
    if v2 {
        let empty = spec
            .get("metrics")
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty);
        if empty {
            spec["metrics"] = json!([{
                "type": "Resource",
                "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}
            }]);
        }
    }
}

/// RBAC bindings: User and Group subjects get the RBAC API group.
pub fn default_role_binding(rb: &mut Value) {
    for s in each_mut(rb, "subjects") {
        let kind = s.get("kind").and_then(Value::as_str).unwrap_or("");
        if kind == "User" || kind == "Group" {
            set_default_str(s, "apiGroup", "rbac.authorization.k8s.io");
        }
    }
}
