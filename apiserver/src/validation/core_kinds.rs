//! The smaller core/v1 kinds: Namespace, Node, ServiceAccount, Endpoints,
//! PersistentVolume(Claim), LimitRange, ResourceQuota, Event.

use super::field::{ErrorList, FieldError};
use super::json::{arr_at, child, index, int_at, key, obj_at, present, str_at};
use super::meta::{Scope, immutable, same, validate_object_meta, validate_object_meta_update};
use super::names::{
    is_qualified_name, is_valid_port_num, name_is_dns_label, name_is_dns_subdomain,
};
use super::pod::{dns1123_label_errors, validate_protocol, validate_taint_effect};
use super::resources::{parse_quantity, validate_resource_list};
use super::selector::validate_label_selector;
use serde_json::{Value, json};

const STANDARD_FINALIZERS: [&str; 3] = ["kubernetes", "orphan", "foregroundDeletion"];

/// `ValidateNamespace`: DNS-1123 label name, finalizer names.
pub fn validate_namespace(ns: &Value) -> ErrorList {
    let mut errs = validate_object_meta(ns, Scope::Cluster, name_is_dns_label);
    let spec = ns.get("spec").unwrap_or(&Value::Null);
    for f in arr_at(spec, "finalizers") {
        let f = f.as_str().unwrap_or("");
        for m in is_qualified_name(f) {
            errs.push(FieldError::invalid("spec.finalizers", json!(f), m));
        }
        if !f.contains('/') && !STANDARD_FINALIZERS.contains(&f) {
            errs.push(FieldError::invalid(
                "spec.finalizers",
                json!(f),
                "name is neither a standard finalizer name nor is it fully qualified",
            ));
        }
    }
    errs
}

/// `ValidateNamespaceStatusUpdate`: the phase follows deletionTimestamp.
pub fn validate_namespace_status_update(new: &Value, old: &Value) -> ErrorList {
    let mut errs = validate_object_meta_update(new, old);
    let deleting = new
        .get("metadata")
        .and_then(|m| present(m, "deletionTimestamp"))
        .is_some();
    let phase = new.get("status").map(|s| str_at(s, "phase")).unwrap_or("");
    if !deleting && phase != "Active" {
        errs.push(FieldError::invalid(
            "status.Phase",
            json!(phase),
            "may only be 'Active' if `deletionTimestamp` is empty",
        ));
    } else if deleting && phase != "Terminating" {
        errs.push(FieldError::invalid(
            "status.Phase",
            json!(phase),
            "may only be 'Terminating' if `deletionTimestamp` is not empty",
        ));
    }
    errs
}

/// `a.b.c.d/n` or an IPv6 prefix.
pub fn is_cidr(s: &str) -> bool {
    match s.split_once('/') {
        Some((ip, bits)) => match (ip.parse::<std::net::IpAddr>(), bits.parse::<u8>()) {
            (Ok(std::net::IpAddr::V4(_)), Ok(b)) => b <= 32,
            (Ok(std::net::IpAddr::V6(_)), Ok(b)) => b <= 128,
            _ => false,
        },
        None => false,
    }
}

/// `ValidateNode`: taints, pod CIDRs.
pub fn validate_node(node: &Value) -> ErrorList {
    let mut errs = validate_object_meta(node, Scope::Cluster, name_is_dns_subdomain);
    let spec = node.get("spec").unwrap_or(&Value::Null);
    let mut seen = std::collections::HashSet::new();
    for (i, t) in arr_at(spec, "taints").iter().enumerate() {
        let p = index("spec.taints", i);
        let k = str_at(t, "key");
        for m in is_qualified_name(k) {
            errs.push(FieldError::invalid(child(&p, "key"), json!(k), m));
        }
        let v = str_at(t, "value");
        for m in super::names::is_valid_label_value(v) {
            errs.push(FieldError::invalid(child(&p, "value"), json!(v), m));
        }
        let effect = str_at(t, "effect");
        errs.extend(validate_taint_effect(effect, false, &child(&p, "effect")));
        if !seen.insert((k.to_string(), effect.to_string())) {
            errs.push(FieldError::duplicate(&p, json!(format!("{k}:{effect}"))));
        }
    }
    let cidrs: Vec<&str> = arr_at(spec, "podCIDRs")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for (i, c) in cidrs.iter().enumerate() {
        if !is_cidr(c) {
            errs.push(FieldError::invalid(
                index("spec.podCIDRs", i),
                json!(c),
                "must be a valid CIDR",
            ));
        }
    }
    if cidrs.len() > 2 {
        errs.push(FieldError::invalid(
            "spec.podCIDRs",
            json!(cidrs),
            "may specify no more than one CIDR for each IP family",
        ));
    }
    errs
}

/// `ValidateNodeUpdate`: podCIDR(s) and providerID only from empty to set.
pub fn validate_node_update(new: &Value, old: &Value) -> ErrorList {
    let mut errs = validate_object_meta_update(new, old);
    errs.extend(
        validate_node(new)
            .into_iter()
            .filter(|e| !e.field.starts_with("metadata.")),
    );
    let null = Value::Null;
    let ns = new.get("spec").unwrap_or(&null);
    let os = old.get("spec").unwrap_or(&null);
    let old_cidrs = arr_at(os, "podCIDRs");
    if !old_cidrs.is_empty() && !same(ns.get("podCIDRs"), os.get("podCIDRs")) {
        errs.push(FieldError::forbidden(
            "spec.podCIDRs",
            "node updates may not change podCIDR except from \"\" to valid",
        ));
    }
    let old_provider = str_at(os, "providerID");
    if !old_provider.is_empty() && str_at(ns, "providerID") != old_provider {
        errs.push(FieldError::forbidden(
            "spec.providerID",
            "node updates may not change providerID except from \"\" to valid",
        ));
    }
    errs
}

/// `ValidateServiceAccount`.
pub fn validate_service_account(sa: &Value) -> ErrorList {
    validate_object_meta(sa, Scope::Namespaced, name_is_dns_subdomain)
}

/// `ValidateEndpoints`: addresses are IPs, ports named when several.
pub fn validate_endpoints(ep: &Value) -> ErrorList {
    let mut errs = validate_object_meta(ep, Scope::Namespaced, name_is_dns_subdomain);
    for (i, subset) in arr_at(ep, "subsets").iter().enumerate() {
        let sp = index("subsets", i);
        for list in ["addresses", "notReadyAddresses"] {
            for (j, a) in arr_at(subset, list).iter().enumerate() {
                let ip = str_at(a, "ip");
                if ip.parse::<std::net::IpAddr>().is_err() {
                    errs.push(FieldError::invalid(
                        format!("{sp}.{list}[{j}].ip"),
                        json!(ip),
                        "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
                    ));
                }
                let host = str_at(a, "hostname");
                if !host.is_empty() {
                    errs.extend(dns1123_label_errors(
                        host,
                        &format!("{sp}.{list}[{j}].hostname"),
                    ));
                }
            }
        }
        let ports = arr_at(subset, "ports");
        for (k, p) in ports.iter().enumerate() {
            let pp = format!("{sp}.ports[{k}]");
            let name = str_at(p, "name");
            if ports.len() > 1 && name.is_empty() {
                errs.push(FieldError::required(child(&pp, "name"), ""));
            } else if !name.is_empty() {
                errs.extend(dns1123_label_errors(name, &child(&pp, "name")));
            }
            let port = int_at(p, "port").unwrap_or(0);
            for m in is_valid_port_num(port) {
                errs.push(FieldError::invalid(child(&pp, "port"), json!(port), m));
            }
            errs.extend(validate_protocol(
                str_at(p, "protocol"),
                &child(&pp, "protocol"),
            ));
        }
    }
    errs
}

const ACCESS_MODES: [&str; 4] = [
    "ReadOnlyMany",
    "ReadWriteMany",
    "ReadWriteOnce",
    "ReadWriteOncePod",
];

fn validate_access_modes(spec: &Value, required_msg: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    let modes = arr_at(spec, "accessModes");
    if modes.is_empty() {
        errs.push(FieldError::required("spec.accessModes", required_msg));
    }
    for m in modes {
        let m = m.as_str().unwrap_or("");
        if !ACCESS_MODES.contains(&m) {
            errs.push(FieldError::not_supported(
                "spec.accessModes",
                json!(m),
                &ACCESS_MODES,
            ));
        }
    }
    if modes.len() > 1 && modes.iter().any(|m| m.as_str() == Some("ReadWriteOncePod")) {
        errs.push(FieldError::forbidden(
            "spec.accessModes",
            "may not use ReadWriteOncePod with other access modes",
        ));
    }
    errs
}

fn validate_volume_mode(spec: &Value) -> ErrorList {
    match present(spec, "volumeMode").map(|v| v.as_str().unwrap_or("")) {
        Some(m) if m != "Block" && m != "Filesystem" => {
            vec![FieldError::not_supported(
                "spec.volumeMode",
                json!(m),
                &["Block", "Filesystem"],
            )]
        }
        _ => Vec::new(),
    }
}

const PV_SOURCES: [&str; 24] = [
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "glusterfs",
    "nfs",
    "rbd",
    "quobyte",
    "cephfs",
    "iscsi",
    "cinder",
    "fc",
    "flexVolume",
    "azureFile",
    "vsphereVolume",
    "photonPersistentDisk",
    "portworxVolume",
    "scaleIO",
    "local",
    "storageos",
    "csi",
    "azureDisk",
    "flocker",
    "gitRepo",
    "emptyDir",
];

/// `ValidatePersistentVolume`.
pub fn validate_pv(pv: &Value) -> ErrorList {
    let mut errs = validate_object_meta(pv, Scope::Cluster, name_is_dns_subdomain);
    let spec = pv.get("spec").unwrap_or(&Value::Null);
    errs.extend(validate_access_modes(spec, ""));
    let capacity = obj_at(spec, "capacity");
    match capacity {
        None => errs.push(FieldError::required("spec.capacity", "")),
        Some(c) if c.is_empty() => errs.push(FieldError::required("spec.capacity", "")),
        Some(c) => {
            if !c.contains_key("storage") || c.len() > 1 {
                errs.push(FieldError::not_supported(
                    "spec.capacity",
                    Value::Object(c.clone()),
                    &["storage"],
                ));
            }
            errs.extend(validate_resource_list(
                spec.get("capacity"),
                "spec.capacity",
            ));
        }
    }
    let policy = str_at(spec, "persistentVolumeReclaimPolicy");
    if !policy.is_empty() && !["Delete", "Recycle", "Retain"].contains(&policy) {
        errs.push(FieldError::not_supported(
            "spec.persistentVolumeReclaimPolicy",
            json!(policy),
            &["Delete", "Recycle", "Retain"],
        ));
    }
    let sources: Vec<&str> = PV_SOURCES
        .iter()
        .copied()
        .filter(|s| present(spec, s).is_some())
        .collect();
    if sources.is_empty() {
        errs.push(FieldError::required("spec", "must specify a volume type"));
    }
    for s in sources.iter().skip(1) {
        errs.push(FieldError::forbidden(
            child("spec", s),
            "may not specify more than 1 volume type",
        ));
    }
    if let Some(hp) = present(spec, "hostPath")
        && str_at(hp, "path").is_empty()
    {
        errs.push(FieldError::required("spec.hostPath.path", ""));
    }
    if let Some(nfs) = present(spec, "nfs") {
        if str_at(nfs, "server").is_empty() {
            errs.push(FieldError::required("spec.nfs.server", ""));
        }
        let path = str_at(nfs, "path");
        if path.is_empty() {
            errs.push(FieldError::required("spec.nfs.path", ""));
        } else if !path.starts_with('/') {
            errs.push(FieldError::invalid(
                "spec.nfs.path",
                json!(path),
                "must be an absolute path",
            ));
        }
    }
    errs.extend(validate_volume_mode(spec));
    errs
}

/// `ValidatePersistentVolumeClaim`: access modes, a positive storage request.
pub fn validate_pvc(pvc: &Value) -> ErrorList {
    let mut errs = validate_object_meta(pvc, Scope::Namespaced, name_is_dns_subdomain);
    let spec = pvc.get("spec").unwrap_or(&Value::Null);
    errs.extend(validate_pvc_spec(spec));
    errs
}

fn validate_pvc_spec(spec: &Value) -> ErrorList {
    let mut errs = validate_access_modes(spec, "at least 1 access mode is required");
    if let Some(sel) = present(spec, "selector") {
        errs.extend(validate_label_selector(sel, "spec.selector"));
    }
    let storage = spec
        .get("resources")
        .and_then(|r| r.get("requests"))
        .and_then(|r| r.get("storage"));
    let sp = key("spec.resources", "storage");
    match storage {
        None => errs.push(FieldError::required(&sp, "")),
        Some(v) => match parse_quantity(v) {
            Err(m) => errs.push(FieldError::invalid(&sp, v.clone(), m)),
            Ok(q) => {
                errs.extend(super::resources::validate_quantity_value(
                    "storage", &q, &sp,
                ));
                if !q.is_negative() && q.is_zero() {
                    errs.push(FieldError::invalid(
                        &sp,
                        json!(q.to_string()),
                        "must be greater than zero",
                    ));
                }
            }
        },
    }
    errs.extend(validate_volume_mode(spec));
    errs
}

/// `ValidatePersistentVolumeClaimUpdate`: only the storage request (upward)
/// and the attributes class may change.
pub fn validate_pvc_update(new: &Value, old: &Value) -> ErrorList {
    let mut errs = validate_object_meta_update(new, old);
    let null = Value::Null;
    let ns = new.get("spec").unwrap_or(&null);
    let os = old.get("spec").unwrap_or(&null);
    errs.extend(validate_pvc_spec(ns));
    // The binder fills volumeName; setting it on an unbound claim is allowed.
    let old_unbound = str_at(os, "volumeName").is_empty();
    let strip = |s: &Value| {
        let mut c = s.clone();
        if let Some(o) = c.as_object_mut() {
            o.remove("resources");
            o.remove("volumeAttributesClassName");
            if old_unbound {
                o.remove("volumeName");
            }
        }
        c
    };
    if !same(Some(&strip(ns)), Some(&strip(os))) {
        errs.push(FieldError::forbidden(
            "spec",
            "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims",
        ));
    }
    let q = |s: &Value| {
        s.get("resources")
            .and_then(|r| r.get("requests"))
            .and_then(|r| r.get("storage"))
            .and_then(|v| parse_quantity(v).ok())
    };
    if let (Some(n), Some(o)) = (q(ns), q(os))
        && n < o
    {
        errs.push(FieldError::forbidden(
            "spec.resources.requests.storage",
            "field can not be less than previous value",
        ));
    }
    errs
}

/// `ValidateLimitRange`.
pub fn validate_limit_range(lr: &Value) -> ErrorList {
    let mut errs = validate_object_meta(lr, Scope::Namespaced, name_is_dns_subdomain);
    let spec = lr.get("spec").unwrap_or(&Value::Null);
    for (i, item) in arr_at(spec, "limits").iter().enumerate() {
        let p = index("spec.limits", i);
        let ty = str_at(item, "type");
        const TYPES: [&str; 3] = ["Container", "PersistentVolumeClaim", "Pod"];
        if !TYPES.contains(&ty) {
            errs.push(FieldError::not_supported(
                child(&p, "type"),
                json!(ty),
                &TYPES,
            ));
        }
        for f in [
            "max",
            "min",
            "default",
            "defaultRequest",
            "maxLimitRequestRatio",
        ] {
            errs.extend(validate_resource_list(item.get(f), &child(&p, f)));
        }
        if let (Some(min), Some(max)) = (obj_at(item, "min"), obj_at(item, "max")) {
            for (k, mv) in min {
                let (Some(maxv), Ok(minq)) = (max.get(k), parse_quantity(mv)) else {
                    continue;
                };
                if let Ok(maxq) = parse_quantity(maxv)
                    && minq > maxq
                {
                    errs.push(FieldError::invalid(
                        key(&child(&p, "min"), k),
                        json!(minq.to_string()),
                        format!("min value {minq} is greater than max value {maxq}"),
                    ));
                }
            }
        }
        if ty == "Pod" {
            for f in ["default", "defaultRequest"] {
                if obj_at(item, f).is_some_and(|m| !m.is_empty()) {
                    errs.push(FieldError::forbidden(
                        child(&p, f),
                        "may not be specified when `type` is 'Pod'",
                    ));
                }
            }
        }
    }
    errs
}

/// `ValidateResourceQuota`: resource names and non-negative amounts, scopes.
pub fn validate_resource_quota(rq: &Value) -> ErrorList {
    let mut errs = validate_object_meta(rq, Scope::Namespaced, name_is_dns_subdomain);
    let spec = rq.get("spec").unwrap_or(&Value::Null);
    errs.extend(validate_resource_list(spec.get("hard"), "spec.hard"));
    const SCOPES: [&str; 6] = [
        "BestEffort",
        "CrossNamespacePodAffinity",
        "NotBestEffort",
        "NotTerminating",
        "PriorityClass",
        "Terminating",
    ];
    for s in arr_at(spec, "scopes") {
        let s = s.as_str().unwrap_or("");
        if !SCOPES.contains(&s) {
            errs.push(FieldError::not_supported("spec.scopes", json!(s), &SCOPES));
        }
    }
    errs
}

/// Status updates of quotas: the same resource rules on `status.hard/used`.
pub fn validate_resource_quota_status_update(new: &Value, old: &Value) -> ErrorList {
    let mut errs = validate_object_meta_update(new, old);
    let status = new.get("status").unwrap_or(&Value::Null);
    errs.extend(validate_resource_list(status.get("hard"), "status.hard"));
    errs.extend(validate_resource_list(status.get("used"), "status.used"));
    errs
}

/// core/v1 Event: namespaced, and its involvedObject in the same namespace.
pub fn validate_event(ev: &Value) -> ErrorList {
    let mut errs = validate_object_meta(ev, Scope::Namespaced, name_is_dns_subdomain);
    let ns = ev
        .get("metadata")
        .map(|m| str_at(m, "namespace"))
        .unwrap_or("");
    let io = ev.get("involvedObject").unwrap_or(&Value::Null);
    let io_ns = str_at(io, "namespace");
    if !io_ns.is_empty() && io_ns != ns {
        errs.push(FieldError::invalid(
            "involvedObject.namespace",
            json!(io_ns),
            "does not match event.namespace",
        ));
    }
    errs
}

/// Kinds whose whole object is fixed after create except metadata.
pub fn validate_spec_immutable(new: &Value, old: &Value, field: &str) -> ErrorList {
    immutable(new.get(field), old.get(field), field)
}
