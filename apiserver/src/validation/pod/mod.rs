//! Pods and pod templates (upstream's `ValidatePodSpec`,
//! `ValidatePodTemplateSpec`, `ValidatePodCreate`, `ValidatePodUpdate`).
//! Workload kinds reuse [`validate_pod_template_spec`].

mod container;
mod scheduling;
mod update;
mod volume;

pub(crate) use volume::VOLUME_SOURCES;

pub use container::{
    PORT_PROTOCOLS, dns1123_label_errors, validate_port_num_or_name, validate_protocol,
};
pub use scheduling::{validate_taint_effect, validate_tolerations};
pub use update::{validate_pod_status_update, validate_pod_update};

use super::field::{ErrorList, FieldError};
use super::json::{arr_at, child, index, int_at, present, str_at};
use super::meta::{Scope, validate_annotations, validate_labels, validate_object_meta};
use super::names::{is_dns1123_label, name_is_dns_subdomain};
use serde_json::{Value, json};

/// `ValidatePodCreate`: metadata, then the spec under `spec`.
pub fn validate_pod(pod: &Value) -> ErrorList {
    let mut errs = validate_object_meta(pod, Scope::Namespaced, name_is_dns_subdomain);
    errs.extend(validate_pod_spec(
        pod.get("spec").unwrap_or(&Value::Null),
        "spec",
    ));
    let spec = pod.get("spec").unwrap_or(&Value::Null);
    for list in ["containers", "initContainers"] {
        errs.extend(container::validate_containers_only_for_pod(
            arr_at(spec, list),
            &child("spec", list),
        ));
    }
    if !arr_at(spec, "ephemeralContainers").is_empty() {
        errs.push(FieldError::forbidden(
            "spec.ephemeralContainers",
            "cannot be set on create",
        ));
    }
    errs
}

/// `ValidatePodTemplateSpec` for a workload's `template` at `path`.
pub fn validate_pod_template_spec(template: &Value, path: &str) -> ErrorList {
    let meta = template.get("metadata").unwrap_or(&Value::Null);
    let mut errs = validate_labels(meta.get("labels"), &child(path, "labels"));
    errs.extend(validate_annotations(
        meta.get("annotations"),
        &child(path, "annotations"),
    ));
    let spec = template.get("spec").unwrap_or(&Value::Null);
    errs.extend(validate_pod_spec(spec, &child(path, "spec")));
    if !arr_at(spec, "ephemeralContainers").is_empty() {
        errs.push(FieldError::forbidden(
            child(&child(path, "spec"), "ephemeralContainers"),
            "ephemeral containers not allowed in pod template",
        ));
    }
    errs
}

fn label_errors(value: &str, path: &str, check: fn(&str) -> Vec<String>) -> ErrorList {
    check(value)
        .into_iter()
        .map(|m| FieldError::invalid(path, json!(value), m))
        .collect()
}

/// `ValidatePodSpec`, in upstream's order.
pub fn validate_pod_spec(spec: &Value, path: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    let (volumes, vol_errs) =
        volume::validate_volumes(arr_at(spec, "volumes"), &child(path, "volumes"));
    errs.extend(vol_errs);
    let containers = arr_at(spec, "containers");
    errs.extend(container::validate_containers(
        containers,
        &volumes,
        &child(path, "containers"),
    ));
    errs.extend(container::validate_init_containers(
        arr_at(spec, "initContainers"),
        containers,
        &volumes,
        &child(path, "initContainers"),
    ));
    errs.extend(validate_host_network(spec, path));
    match str_at(spec, "restartPolicy") {
        "Always" | "OnFailure" | "Never" => {}
        "" => errs.push(FieldError::required(child(path, "restartPolicy"), "")),
        other => errs.push(FieldError::not_supported(
            child(path, "restartPolicy"),
            json!(other),
            &["Always", "OnFailure", "Never"],
        )),
    }
    match str_at(spec, "dnsPolicy") {
        "ClusterFirstWithHostNet" | "ClusterFirst" | "Default" | "None" => {}
        "" => errs.push(FieldError::required(child(path, "dnsPolicy"), "")),
        other => errs.push(FieldError::not_supported(
            child(path, "dnsPolicy"),
            json!(other),
            &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"],
        )),
    }
    errs.extend(validate_labels(
        spec.get("nodeSelector"),
        &child(path, "nodeSelector"),
    ));
    errs.extend(validate_security_context(spec, path));
    for (i, s) in arr_at(spec, "imagePullSecrets").iter().enumerate() {
        if str_at(s, "name").is_empty() {
            errs.push(FieldError::required(
                child(&index(&child(path, "imagePullSecrets"), i), "name"),
                "",
            ));
        }
    }
    errs.extend(scheduling::validate_affinity(
        spec.get("affinity"),
        &child(path, "affinity"),
    ));
    errs.extend(validate_dns_config(spec, path));
    errs.extend(scheduling::validate_topology_spread(
        arr_at(spec, "topologySpreadConstraints"),
        &child(path, "topologySpreadConstraints"),
    ));
    let sa = str_at(spec, "serviceAccountName");
    if !sa.is_empty() {
        errs.extend(label_errors(sa, &child(path, "serviceAccountName"), |s| {
            name_is_dns_subdomain(s, false)
        }));
    }
    let node = str_at(spec, "nodeName");
    if !node.is_empty() {
        errs.extend(label_errors(node, &child(path, "nodeName"), |s| {
            name_is_dns_subdomain(s, false)
        }));
    }
    if let Some(ads) = int_at(spec, "activeDeadlineSeconds")
        && !(1..=i64::from(i32::MAX)).contains(&ads)
    {
        errs.push(FieldError::invalid(
            child(path, "activeDeadlineSeconds"),
            json!(ads),
            super::names::inclusive_range_error(1, i64::from(i32::MAX)),
        ));
    }
    for f in ["hostname", "subdomain"] {
        let v = str_at(spec, f);
        if !v.is_empty() {
            errs.extend(label_errors(v, &child(path, f), is_dns1123_label));
        }
    }
    errs.extend(scheduling::validate_tolerations(
        arr_at(spec, "tolerations"),
        &child(path, "tolerations"),
    ));
    let pc = str_at(spec, "priorityClassName");
    if !pc.is_empty() {
        errs.extend(label_errors(pc, &child(path, "priorityClassName"), |s| {
            name_is_dns_subdomain(s, false)
        }));
    }
    if let Some(pp) = present(spec, "preemptionPolicy") {
        let pp = pp.as_str().unwrap_or("");
        if !["Never", "PreemptLowerPriority"].contains(&pp) {
            errs.push(FieldError::not_supported(
                child(path, "preemptionPolicy"),
                json!(pp),
                &["Never", "PreemptLowerPriority"],
            ));
        }
    }
    if let Some(os) = present(spec, "os") {
        let name = str_at(os, "name");
        if name.is_empty() {
            errs.push(FieldError::required(child(&child(path, "os"), "name"), ""));
        } else if !["linux", "windows"].contains(&name) {
            errs.push(FieldError::not_supported(
                child(&child(path, "os"), "name"),
                json!(name),
                &["linux", "windows"],
            ));
        }
    }
    errs
}

/// `validatePodHostNetworkDeps`: with hostNetwork, hostPort must equal containerPort.
fn validate_host_network(spec: &Value, path: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    if !spec
        .get("hostNetwork")
        .and_then(Value::as_bool)
        .unwrap_or(false)
    {
        return errs;
    }
    for list in ["containers", "initContainers"] {
        for (ci, c) in arr_at(spec, list).iter().enumerate() {
            for (pi, port) in arr_at(c, "ports").iter().enumerate() {
                let host = int_at(port, "hostPort").unwrap_or(0);
                let cport = int_at(port, "containerPort").unwrap_or(0);
                if host != cport {
                    errs.push(FieldError::invalid(
                        format!("{path}.{list}[{ci}].ports[{pi}].hostPort"),
                        json!(host),
                        "must match `containerPort` when `hostNetwork` is true",
                    ));
                }
            }
        }
    }
    errs
}

/// The pod-level `securityContext` numbers upstream range-checks.
fn validate_security_context(spec: &Value, path: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    let Some(sc) = present(spec, "securityContext") else {
        return errs;
    };
    let sp = child(path, "securityContext");
    for f in ["runAsUser", "runAsGroup", "fsGroup"] {
        if let Some(v) = int_at(sc, f)
            && !(0..=i64::from(i32::MAX)).contains(&v)
        {
            errs.push(FieldError::invalid(
                child(&sp, f),
                json!(v),
                super::names::inclusive_range_error(0, i64::from(i32::MAX)),
            ));
        }
    }
    for (i, g) in arr_at(sc, "supplementalGroups").iter().enumerate() {
        let v = g.as_i64().unwrap_or(-1);
        if !(0..=i64::from(i32::MAX)).contains(&v) {
            errs.push(FieldError::invalid(
                index(&child(&sp, "supplementalGroups"), i),
                json!(v),
                super::names::inclusive_range_error(0, i64::from(i32::MAX)),
            ));
        }
    }
    errs
}

/// `validatePodDNSConfig`: dnsPolicy None needs nameservers; limits on counts.
fn validate_dns_config(spec: &Value, path: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    let policy = str_at(spec, "dnsPolicy");
    let config = present(spec, "dnsConfig");
    let cp = child(path, "dnsConfig");
    if policy == "None" {
        match config {
            None => errs.push(FieldError::required(
                &cp,
                "must provide `dnsConfig` when `dnsPolicy` is None",
            )),
            Some(c) if arr_at(c, "nameservers").is_empty() => {
                errs.push(FieldError::required(
                    child(&cp, "nameservers"),
                    "must provide at least one DNS nameserver when `dnsPolicy` is None",
                ));
            }
            Some(_) => {}
        }
    }
    let Some(c) = config else {
        return errs;
    };
    let ns = arr_at(c, "nameservers");
    if ns.len() > 3 {
        errs.push(FieldError::invalid(
            child(&cp, "nameservers"),
            json!(ns),
            "must not have more than 3 nameservers",
        ));
    }
    for (i, n) in ns.iter().enumerate() {
        let s = n.as_str().unwrap_or("");
        if s.parse::<std::net::IpAddr>().is_err() {
            errs.push(FieldError::invalid(
                index(&child(&cp, "nameservers"), i),
                json!(s),
                "must be a valid IP address",
            ));
        }
    }
    let searches = arr_at(c, "searches");
    if searches.len() > 32 {
        errs.push(FieldError::invalid(
            child(&cp, "searches"),
            json!(searches),
            "must not have more than 32 search paths",
        ));
    }
    for (i, o) in arr_at(c, "options").iter().enumerate() {
        if str_at(o, "name").is_empty() {
            errs.push(FieldError::required(
                child(&index(&child(&cp, "options"), i), "name"),
                "Option.Name must not be empty",
            ));
        }
    }
    errs
}

#[cfg(test)]
mod tests;
