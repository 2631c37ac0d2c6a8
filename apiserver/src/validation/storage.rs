//! The CSI kinds of storage.k8s.io/v1 (CSIDriver, CSINode,
//! CSIStorageCapacity, VolumeAttachment) and node.k8s.io/v1's
//! RuntimeClass, as upstream's `pkg/apis/storage/validation` and
//! `pkg/apis/node/validation` check them.

use super::field::{ErrorList, FieldError};
use super::json::{arr_at, child, index, int_at, present, str_at};
use super::meta::{
    IS_NEGATIVE_ERROR_MSG, Scope, immutable, validate_labels, validate_object_meta,
    validate_object_meta_update,
};
use super::names::{is_dns1123_label, is_qualified_name, name_is_dns_subdomain};
use super::resources::{quantity_at, validate_resource_list};
use super::selector::validate_label_selector;
use serde_json::{Value, json};
use std::collections::HashSet;

/// Upstream's `csiDriverNameMaxLength`.
const CSI_DRIVER_NAME_MAX: usize = 63;
/// Upstream's `csiNodeIDMaxLength`.
const CSI_NODE_ID_MAX: usize = 192;
const VOLUME_LIFECYCLE_MODES: [&str; 2] = ["Persistent", "Ephemeral"];
const FS_GROUP_POLICIES: [&str; 3] = ["ReadWriteOnceWithFSType", "File", "None"];

/// `ValidateCSIDriverName`: what `attacher`, a CSINode driver's name and a
/// CSIDriver's own name must look like.
fn validate_csi_driver_name(name: &str, path: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    if name.is_empty() {
        errs.push(FieldError::required(path, ""));
        return errs;
    }
    if name.len() > CSI_DRIVER_NAME_MAX {
        errs.push(FieldError::too_long(path, CSI_DRIVER_NAME_MAX));
    }
    let b = name.as_bytes();
    let edge_ok = |c: u8| c.is_ascii_alphanumeric();
    let inner_ok = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.');
    let ok = edge_ok(b[0]) && edge_ok(b[b.len() - 1]) && b.iter().all(|c| inner_ok(*c));
    if !ok {
        errs.push(FieldError::invalid(
            path,
            json!(name),
            "a CSI driver name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
        ));
    }
    errs
}

fn meta_name(obj: &Value) -> &str {
    obj.get("metadata").map(|m| str_at(m, "name")).unwrap_or("")
}

/// `ValidateVolumeAttachment`.
pub fn validate_volume_attachment(va: &Value) -> ErrorList {
    let mut errs = validate_object_meta(va, Scope::Cluster, name_is_dns_subdomain);
    let spec = va.get("spec").unwrap_or(&Value::Null);
    errs.extend(validate_csi_driver_name(
        str_at(spec, "attacher"),
        "spec.attacher",
    ));
    if str_at(spec, "nodeName").is_empty() {
        errs.push(FieldError::required("spec.nodeName", ""));
    }
    let source = spec.get("source").unwrap_or(&Value::Null);
    let pv = present(source, "persistentVolumeName");
    let inline = present(source, "inlineVolumeSpec");
    const EXACTLY_ONE: &str =
        "must specify exactly one of inlineVolumeSpec and persistentVolumeName";
    match (pv, inline) {
        (None, None) => errs.push(FieldError::required("spec.source", EXACTLY_ONE)),
        (Some(_), Some(_)) => errs.push(FieldError::forbidden("spec.source", EXACTLY_ONE)),
        (Some(p), None) if p.as_str().unwrap_or("").is_empty() => errs.push(FieldError::required(
            "spec.source.persistentVolumeName",
            "must specify non empty persistentVolumeName",
        )),
        _ => {}
    }
    errs
}

/// `ValidateVolumeAttachmentUpdate`: the spec never changes.
pub fn validate_volume_attachment_update(new: &Value, old: &Value) -> ErrorList {
    let mut errs = validate_object_meta_update(new, old);
    if !super::meta::same(new.get("spec"), old.get("spec")) {
        errs.push(FieldError::invalid(
            "spec",
            new.get("spec").cloned().unwrap_or(Value::Null),
            "field is immutable",
        ));
    }
    errs.extend(
        validate_volume_attachment(new)
            .into_iter()
            .filter(|e| !e.field.starts_with("metadata.")),
    );
    errs
}

/// `ValidateCSIDriver` (after defaulting, so the booleans are set).
pub fn validate_csi_driver(d: &Value) -> ErrorList {
    let mut errs = validate_object_meta(d, Scope::Cluster, |_, _| Vec::new());
    errs.extend(validate_csi_driver_name(meta_name(d), "name"));
    let spec = d.get("spec").unwrap_or(&Value::Null);
    for field in [
        "attachRequired",
        "podInfoOnMount",
        "storageCapacity",
        "requiresRepublish",
    ] {
        if present(spec, field).is_none() {
            errs.push(FieldError::required(child("spec", field), ""));
        }
    }
    if let Some(p) = present(spec, "fsGroupPolicy") {
        let p = p.as_str().unwrap_or("");
        if !FS_GROUP_POLICIES.contains(&p) {
            errs.push(FieldError::not_supported(
                "spec.fsGroupPolicy",
                json!(p),
                &FS_GROUP_POLICIES,
            ));
        }
    }
    for (i, m) in arr_at(spec, "volumeLifecycleModes").iter().enumerate() {
        let m = m.as_str().unwrap_or("");
        if !VOLUME_LIFECYCLE_MODES.contains(&m) {
            errs.push(FieldError::not_supported(
                index("spec.volumeLifecycleModes", i),
                json!(m),
                &VOLUME_LIFECYCLE_MODES,
            ));
        }
    }
    let mut audiences = HashSet::new();
    for (i, t) in arr_at(spec, "tokenRequests").iter().enumerate() {
        let a = str_at(t, "audience");
        if !audiences.insert(a.to_string()) {
            errs.push(FieldError::duplicate(
                child(&index("spec.tokenRequests", i), "audience"),
                json!(a),
            ));
        }
        if let Some(s) = int_at(t, "expirationSeconds") {
            if s < 600 {
                errs.push(FieldError::invalid(
                    child(&index("spec.tokenRequests", i), "expirationSeconds"),
                    json!(s),
                    "may not specify a duration less than 10 minutes",
                ));
            } else if s > 1 << 32 {
                errs.push(FieldError::invalid(
                    child(&index("spec.tokenRequests", i), "expirationSeconds"),
                    json!(s),
                    "may not specify a duration larger than 2^32 seconds",
                ));
            }
        }
    }
    errs
}

/// `ValidateCSIDriverUpdate`: how a driver attaches and which modes it
/// serves are fixed.
pub fn validate_csi_driver_update(new: &Value, old: &Value) -> ErrorList {
    let mut errs = validate_object_meta_update(new, old);
    let spec = |o: &Value| o.get("spec").cloned().unwrap_or(Value::Null);
    let (n, o) = (spec(new), spec(old));
    for field in ["attachRequired", "fsGroupPolicy", "volumeLifecycleModes"] {
        errs.extend(immutable(n.get(field), o.get(field), &child("spec", field)));
    }
    errs.extend(
        validate_csi_driver(new)
            .into_iter()
            .filter(|e| !e.field.starts_with("metadata.")),
    );
    errs
}

/// `ValidateCSINode`.
pub fn validate_csi_node(n: &Value) -> ErrorList {
    let mut errs = validate_object_meta(n, Scope::Cluster, name_is_dns_subdomain);
    let spec = n.get("spec").unwrap_or(&Value::Null);
    let mut names = HashSet::new();
    for (i, d) in arr_at(spec, "drivers").iter().enumerate() {
        let p = index("spec.drivers", i);
        let name = str_at(d, "name");
        errs.extend(validate_csi_driver_name(name, &child(&p, "name")));
        if !name.is_empty() && !names.insert(name.to_string()) {
            errs.push(FieldError::duplicate(child(&p, "name"), json!(name)));
        }
        let node_id = str_at(d, "nodeID");
        if node_id.is_empty() {
            errs.push(FieldError::required(child(&p, "nodeID"), ""));
        } else if node_id.len() > CSI_NODE_ID_MAX {
            errs.push(FieldError::invalid(
                child(&p, "nodeID"),
                json!(node_id),
                format!("must be {CSI_NODE_ID_MAX} characters or less"),
            ));
        }
        if let Some(c) = d.pointer("/allocatable/count").and_then(Value::as_i64)
            && c < 0
        {
            errs.push(FieldError::invalid(
                child(&child(&p, "allocatable"), "count"),
                json!(c),
                IS_NEGATIVE_ERROR_MSG,
            ));
        }
        for (j, k) in arr_at(d, "topologyKeys").iter().enumerate() {
            let k = k.as_str().unwrap_or("");
            for m in is_qualified_name(k) {
                errs.push(FieldError::invalid(
                    index(&child(&p, "topologyKeys"), j),
                    json!(k),
                    m,
                ));
            }
        }
    }
    errs
}

/// `ValidateCSINodeUpdate`: a driver's node ID and topology keys stay as
/// registered (drivers may come and go).
pub fn validate_csi_node_update(new: &Value, old: &Value) -> ErrorList {
    let mut errs = validate_object_meta_update(new, old);
    let old_drivers = old.pointer("/spec/drivers").and_then(Value::as_array);
    for (i, d) in new
        .pointer("/spec/drivers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let Some(o) = old_drivers
            .into_iter()
            .flatten()
            .find(|o| str_at(o, "name") == str_at(d, "name"))
        else {
            continue;
        };
        let p = index("spec.drivers", i);
        for field in ["nodeID", "topologyKeys"] {
            errs.extend(immutable(d.get(field), o.get(field), &child(&p, field)));
        }
    }
    errs.extend(
        validate_csi_node(new)
            .into_iter()
            .filter(|e| !e.field.starts_with("metadata.")),
    );
    errs
}

/// `ValidateCSIStorageCapacity`.
pub fn validate_csi_storage_capacity(c: &Value) -> ErrorList {
    let mut errs = validate_object_meta(c, Scope::Namespaced, name_is_dns_subdomain);
    let class = str_at(c, "storageClassName");
    if class.is_empty() {
        errs.push(FieldError::required("storageClassName", ""));
    } else {
        for m in name_is_dns_subdomain(class, false) {
            errs.push(FieldError::invalid("storageClassName", json!(class), m));
        }
    }
    if let Some(t) = present(c, "nodeTopology") {
        errs.extend(validate_label_selector(t, "nodeTopology"));
    }
    for field in ["capacity", "maximumVolumeSize"] {
        if let Some(v) = present(c, field)
            && let Some(q) = quantity_at(v, field, &mut errs)
            && q.is_negative()
        {
            errs.push(FieldError::invalid(field, v.clone(), IS_NEGATIVE_ERROR_MSG));
        }
    }
    errs
}

/// `ValidateCSIStorageCapacityUpdate`: only the capacities change.
pub fn validate_csi_storage_capacity_update(new: &Value, old: &Value) -> ErrorList {
    let mut errs = validate_object_meta_update(new, old);
    for field in ["storageClassName", "nodeTopology"] {
        errs.extend(immutable(new.get(field), old.get(field), field));
    }
    errs.extend(
        validate_csi_storage_capacity(new)
            .into_iter()
            .filter(|e| !e.field.starts_with("metadata.")),
    );
    errs
}

/// `ValidateRuntimeClass`.
pub fn validate_runtime_class(rc: &Value) -> ErrorList {
    let mut errs = validate_object_meta(rc, Scope::Cluster, name_is_dns_subdomain);
    let handler = str_at(rc, "handler");
    if handler.is_empty() {
        errs.push(FieldError::required("handler", ""));
    } else {
        for m in is_dns1123_label(handler) {
            errs.push(FieldError::invalid("handler", json!(handler), m));
        }
    }
    if let Some(fixed) = rc.pointer("/overhead/podFixed") {
        errs.extend(validate_resource_list(Some(fixed), "overhead.podFixed"));
    }
    if let Some(s) = present(rc, "scheduling") {
        errs.extend(validate_labels(
            s.get("nodeSelector"),
            "scheduling.nodeSelector",
        ));
        errs.extend(super::pod::validate_tolerations(
            arr_at(s, "tolerations"),
            "scheduling.tolerations",
        ));
        let mut seen = HashSet::new();
        for (i, t) in arr_at(s, "tolerations").iter().enumerate() {
            let k = (
                str_at(t, "key").to_string(),
                str_at(t, "operator").to_string(),
                str_at(t, "value").to_string(),
                str_at(t, "effect").to_string(),
            );
            if !seen.insert(k) {
                errs.push(FieldError::duplicate(
                    index("scheduling.tolerations", i),
                    t.clone(),
                ));
            }
        }
    }
    errs
}

/// `ValidateRuntimeClassUpdate`: the handler is fixed.
pub fn validate_runtime_class_update(new: &Value, old: &Value) -> ErrorList {
    let mut errs = validate_object_meta_update(new, old);
    errs.extend(immutable(new.get("handler"), old.get("handler"), "handler"));
    errs.extend(
        validate_runtime_class(new)
            .into_iter()
            .filter(|e| !e.field.starts_with("metadata.")),
    );
    errs
}

/// `ValidatePodTemplate`: metadata and the template as any workload's.
pub fn validate_pod_template(pt: &Value) -> ErrorList {
    let mut errs = validate_object_meta(pt, Scope::Namespaced, name_is_dns_subdomain);
    errs.extend(super::pod::validate_pod_template_spec(
        pt.get("template").unwrap_or(&Value::Null),
        "template",
    ));
    errs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(errs: ErrorList) -> Vec<String> {
        errs.into_iter()
            .map(|e| format!("{}: {}", e.field, e.body()))
            .collect()
    }

    #[test]
    fn volume_attachments() {
        let ok = json!({"metadata": {"name": "va", "resourceVersion": "1"}, "spec": {"attacher": "csi.example.com",
            "nodeName": "n1", "source": {"persistentVolumeName": "pv1"}}});
        assert!(validate_volume_attachment(&ok).is_empty());
        let bad = json!({"metadata": {"name": "va"}, "spec": {"attacher": "-bad", "source": {}}});
        let f = fields(validate_volume_attachment(&bad));
        assert!(
            f.iter()
                .any(|e| e.starts_with("spec.attacher: Invalid value")),
            "{f:?}"
        );
        assert!(
            f.iter()
                .any(|e| e.starts_with("spec.nodeName: Required value")),
            "{f:?}"
        );
        assert!(
            f.iter().any(|e| e == "spec.source: Required value: must specify exactly one of inlineVolumeSpec and persistentVolumeName"),
            "{f:?}"
        );
        let mut changed = ok.clone();
        changed["spec"]["nodeName"] = json!("n2");
        let f = fields(validate_volume_attachment_update(&changed, &ok));
        assert!(
            f.iter()
                .any(|e| e.starts_with("spec: Invalid value") && e.ends_with("field is immutable")),
            "{f:?}"
        );
        let mut status = ok.clone();
        status["status"] = json!({"attached": true});
        assert_eq!(
            fields(validate_volume_attachment_update(&status, &ok)),
            Vec::<String>::new()
        );
    }

    #[test]
    fn csi_drivers_and_nodes() {
        let d = json!({"metadata": {"name": "csi.example.com"}, "spec": {"attachRequired": true,
            "podInfoOnMount": false, "storageCapacity": false, "requiresRepublish": false,
            "volumeLifecycleModes": ["Persistent"]}});
        assert!(validate_csi_driver(&d).is_empty());
        let mut bad = d.clone();
        bad["metadata"]["name"] = json!("bad name");
        bad["spec"]["volumeLifecycleModes"] = json!(["Sometimes"]);
        let f = fields(validate_csi_driver(&bad));
        assert!(
            f.iter().any(|e| e.starts_with("name: Invalid value")),
            "{f:?}"
        );
        assert!(
            f.iter()
                .any(|e| e.starts_with("spec.volumeLifecycleModes[0]: Unsupported value")),
            "{f:?}"
        );
        let mut flipped = d.clone();
        flipped["spec"]["attachRequired"] = json!(false);
        assert!(!validate_csi_driver_update(&flipped, &d).is_empty());

        let n = json!({"metadata": {"name": "n1"}, "spec": {"drivers": [
            {"name": "csi.example.com", "nodeID": "n1"}]}});
        assert!(validate_csi_node(&n).is_empty());
        let bad = json!({"metadata": {"name": "n1"}, "spec": {"drivers": [
            {"name": "csi.example.com"}, {"name": "csi.example.com", "nodeID": "x"}]}});
        let f = fields(validate_csi_node(&bad));
        assert!(
            f.contains(&"spec.drivers[0].nodeID: Required value".to_string()),
            "{f:?}"
        );
        assert!(
            f.iter()
                .any(|e| e.starts_with("spec.drivers[1].name: Duplicate value")),
            "{f:?}"
        );
    }

    #[test]
    fn capacities_and_runtime_classes() {
        let c = json!({"metadata": {"name": "c", "namespace": "default"},
            "storageClassName": "fast", "capacity": "10Gi"});
        assert!(validate_csi_storage_capacity(&c).is_empty());
        let bad = json!({"metadata": {"name": "c", "namespace": "default"}, "capacity": "-1"});
        let f = fields(validate_csi_storage_capacity(&bad));
        assert!(
            f.contains(&"storageClassName: Required value".to_string()),
            "{f:?}"
        );
        assert!(
            f.iter().any(|e| e.starts_with("capacity: Invalid value")),
            "{f:?}"
        );

        let rc = json!({"metadata": {"name": "gvisor"}, "handler": "runsc",
            "overhead": {"podFixed": {"cpu": "250m"}}});
        assert!(validate_runtime_class(&rc).is_empty());
        let bad = json!({"metadata": {"name": "x"}, "handler": "Not_A_Label"});
        let f = fields(validate_runtime_class(&bad));
        assert!(
            f.iter().any(|e| e.starts_with("handler: Invalid value")),
            "{f:?}"
        );
        let mut changed = rc.clone();
        changed["handler"] = json!("runc");
        let f = fields(validate_runtime_class_update(&changed, &rc));
        assert!(
            f.iter()
                .any(|e| e.starts_with("handler: Invalid value")
                    && e.ends_with("field is immutable")),
            "{f:?}"
        );
    }
}
