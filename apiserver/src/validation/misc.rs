//! Kinds from the smaller API groups: PriorityClass, PodDisruptionBudget,
//! Lease, StorageClass, HorizontalPodAutoscaler, EndpointSlice,
//! CertificateSigningRequest.

use super::apps::{int_or_string_literal, nonnegative};
use super::field::{ErrorList, FieldError};
use super::json::{arr_at, child, index, int_at, present, str_at};
use super::meta::{Scope, immutable, same, validate_object_meta, validate_object_meta_update};
use super::names::{
    is_qualified_name, is_valid_port_num, name_is_dns_subdomain, name_is_path_segment,
};
use super::pod::{dns1123_label_errors, validate_protocol};
use super::selector::validate_label_selector;
use serde_json::{Value, json};

/// Upstream's `HighestUserDefinablePriority`.
const HIGHEST_USER_PRIORITY: i64 = 1_000_000_000;
const SYSTEM_PRIORITY_CLASSES: [&str; 2] = ["system-node-critical", "system-cluster-critical"];

/// `ValidatePriorityClass`.
pub fn validate_priority_class(pc: &Value) -> ErrorList {
    let mut errs = validate_object_meta(pc, Scope::Cluster, name_is_dns_subdomain);
    let name = pc.get("metadata").map(|m| str_at(m, "name")).unwrap_or("");
    let value = int_at(pc, "value").unwrap_or(0);
    // The built-in classes carry their fixed high values and reserved names.
    let built_in = SYSTEM_PRIORITY_CLASSES.contains(&name);
    if built_in {
        return errs;
    }
    if name.starts_with("system-") {
        errs.push(FieldError::forbidden(
            "metadata.name",
            "priority class names with 'system-' prefix are reserved",
        ));
    } else if value > HIGHEST_USER_PRIORITY {
        errs.push(FieldError::forbidden(
            "value",
            format!("maximum allowed value of a user defined priority is {HIGHEST_USER_PRIORITY}"),
        ));
    }
    if let Some(p) = present(pc, "preemptionPolicy") {
        let p = p.as_str().unwrap_or("");
        if !["Never", "PreemptLowerPriority"].contains(&p) {
            errs.push(FieldError::not_supported(
                "preemptionPolicy",
                json!(p),
                &["Never", "PreemptLowerPriority"],
            ));
        }
    }
    errs
}

/// `ValidatePriorityClassUpdate`: value and preemptionPolicy are fixed.
pub fn validate_priority_class_update(new: &Value, old: &Value) -> ErrorList {
    let mut errs = validate_object_meta_update(new, old);
    if int_at(new, "value") != int_at(old, "value") {
        errs.push(FieldError::forbidden(
            "value",
            "may not be changed in an update.",
        ));
    }
    errs.extend(immutable(
        new.get("preemptionPolicy"),
        old.get("preemptionPolicy"),
        "preemptionPolicy",
    ));
    errs
}

/// `ValidatePodDisruptionBudget` (policy/v1).
pub fn validate_pdb(pdb: &Value) -> ErrorList {
    let mut errs = validate_object_meta(pdb, Scope::Namespaced, name_is_dns_subdomain);
    let spec = pdb.get("spec").unwrap_or(&Value::Null);
    let min = present(spec, "minAvailable");
    let max = present(spec, "maxUnavailable");
    if min.is_some() && max.is_some() {
        errs.push(FieldError::invalid_literal(
            "spec",
            "policy.PodDisruptionBudgetSpec{...}",
            "minAvailable and maxUnavailable cannot be both set",
        ));
    }
    for (f, v) in [("minAvailable", min), ("maxUnavailable", max)] {
        let p = child("spec", f);
        match v {
            Some(Value::String(s)) => {
                let digits = s.strip_suffix('%').unwrap_or("");
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    errs.push(FieldError::invalid_literal(
                        &p,
                        int_or_string_literal(v),
                        "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
                    ));
                } else if digits.parse::<i64>().unwrap_or(0) > 100 {
                    errs.push(FieldError::invalid_literal(
                        &p,
                        int_or_string_literal(v),
                        "must not be greater than 100%",
                    ));
                }
            }
            Some(n) if n.as_i64().unwrap_or(0) < 0 => {
                errs.push(FieldError::invalid(
                    &p,
                    n.clone(),
                    super::meta::IS_NEGATIVE_ERROR_MSG,
                ));
            }
            _ => {}
        }
    }
    if let Some(sel) = present(spec, "selector") {
        errs.extend(validate_label_selector(sel, "spec.selector"));
    }
    if let Some(policy) = present(spec, "unhealthyPodEvictionPolicy") {
        let policy = policy.as_str().unwrap_or("");
        if !["AlwaysAllow", "IfHealthyBudget"].contains(&policy) {
            errs.push(FieldError::not_supported(
                "spec.unhealthyPodEvictionPolicy",
                json!(policy),
                &["AlwaysAllow", "IfHealthyBudget"],
            ));
        }
    }
    errs
}

/// `ValidateLease` (coordination.k8s.io/v1).
pub fn validate_lease(lease: &Value) -> ErrorList {
    let mut errs = validate_object_meta(lease, Scope::Namespaced, name_is_dns_subdomain);
    let spec = lease.get("spec").unwrap_or(&Value::Null);
    if let Some(d) = int_at(spec, "leaseDurationSeconds").filter(|d| *d <= 0) {
        errs.push(FieldError::invalid(
            "spec.leaseDurationSeconds",
            json!(d),
            "must be greater than 0",
        ));
    }
    errs.extend(nonnegative(spec, "leaseTransitions", "spec"));
    errs
}

/// `ValidateStorageClass`.
pub fn validate_storage_class(sc: &Value) -> ErrorList {
    let mut errs = validate_object_meta(sc, Scope::Cluster, name_is_dns_subdomain);
    let provisioner = str_at(sc, "provisioner");
    if provisioner.is_empty() {
        errs.push(FieldError::required("provisioner", ""));
    } else {
        for m in is_qualified_name(&provisioner.to_lowercase()) {
            errs.push(FieldError::invalid("provisioner", json!(provisioner), m));
        }
    }
    if let Some(p) = present(sc, "reclaimPolicy") {
        let p = p.as_str().unwrap_or("");
        if !["Delete", "Retain"].contains(&p) {
            errs.push(FieldError::not_supported(
                "reclaimPolicy",
                json!(p),
                &["Delete", "Retain"],
            ));
        }
    }
    if let Some(m) = present(sc, "volumeBindingMode") {
        let m = m.as_str().unwrap_or("");
        if !["Immediate", "WaitForFirstConsumer"].contains(&m) {
            errs.push(FieldError::not_supported(
                "volumeBindingMode",
                json!(m),
                &["Immediate", "WaitForFirstConsumer"],
            ));
        }
    }
    errs
}

/// `ValidateStorageClassUpdate`: provisioning settings are fixed.
pub fn validate_storage_class_update(new: &Value, old: &Value) -> ErrorList {
    let mut errs = validate_object_meta_update(new, old);
    if !same(new.get("parameters"), old.get("parameters")) {
        errs.push(FieldError::forbidden(
            "parameters",
            "updates to parameters are forbidden.",
        ));
    }
    if str_at(new, "provisioner") != str_at(old, "provisioner") {
        errs.push(FieldError::forbidden(
            "provisioner",
            "updates to provisioner are forbidden.",
        ));
    }
    if !same(new.get("reclaimPolicy"), old.get("reclaimPolicy")) {
        errs.push(FieldError::forbidden(
            "reclaimPolicy",
            "updates to reclaimPolicy are forbidden.",
        ));
    }
    errs.extend(immutable(
        new.get("volumeBindingMode"),
        old.get("volumeBindingMode"),
        "volumeBindingMode",
    ));
    errs
}

/// `ValidateHorizontalPodAutoscaler` (autoscaling/v1 and v2).
pub fn validate_hpa(hpa: &Value) -> ErrorList {
    let mut errs = validate_object_meta(hpa, Scope::Namespaced, name_is_dns_subdomain);
    let spec = hpa.get("spec").unwrap_or(&Value::Null);
    let min = int_at(spec, "minReplicas");
    let max = int_at(spec, "maxReplicas").unwrap_or(0);
    if let Some(m) = min.filter(|m| *m < 1) {
        errs.push(FieldError::invalid(
            "spec.minReplicas",
            json!(m),
            "must be greater than or equal to 1",
        ));
    }
    if max < 1 {
        errs.push(FieldError::invalid(
            "spec.maxReplicas",
            json!(max),
            "must be greater than 0",
        ));
    }
    if let Some(m) = min
        && max < m
    {
        errs.push(FieldError::invalid(
            "spec.maxReplicas",
            json!(max),
            "must be greater than or equal to `minReplicas`",
        ));
    }
    let target = spec.get("scaleTargetRef").unwrap_or(&Value::Null);
    for f in ["kind", "name"] {
        let v = str_at(target, f);
        let p = format!("spec.scaleTargetRef.{f}");
        if v.is_empty() {
            errs.push(FieldError::required(p, ""));
        } else {
            for m in name_is_path_segment(v, false) {
                errs.push(FieldError::invalid(&p, json!(v), m));
            }
        }
    }
    if let Some(pct) = int_at(spec, "targetCPUUtilizationPercentage").filter(|p| *p < 1) {
        errs.push(FieldError::invalid(
            "spec.targetCPUUtilizationPercentage",
            json!(pct),
            "must be greater than 0",
        ));
    }
    for (i, metric) in arr_at(spec, "metrics").iter().enumerate() {
        errs.extend(validate_metric(metric, &index("spec.metrics", i)));
    }
    errs
}

const METRIC_TYPES: [&str; 5] = [
    "ContainerResource",
    "External",
    "Object",
    "Pods",
    "Resource",
];

fn validate_metric(metric: &Value, p: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    let ty = str_at(metric, "type");
    if ty.is_empty() {
        errs.push(FieldError::required(
            child(p, "type"),
            "must specify a metric source type",
        ));
        return errs;
    }
    if !METRIC_TYPES.contains(&ty) {
        errs.push(FieldError::not_supported(
            child(p, "type"),
            json!(ty),
            &METRIC_TYPES,
        ));
        return errs;
    }
    let field = match ty {
        "ContainerResource" => "containerResource",
        "External" => "external",
        "Object" => "object",
        "Pods" => "pods",
        _ => "resource",
    };
    let Some(source) = present(metric, field) else {
        errs.push(FieldError::required(
            child(p, field),
            "must populate information for the given metric source",
        ));
        return errs;
    };
    let sp = child(p, field);
    if (ty == "Resource" || ty == "ContainerResource") && str_at(source, "name").is_empty() {
        errs.push(FieldError::required(
            child(&sp, "name"),
            "must specify a resource name",
        ));
    }
    if let Some(target) = present(source, "target") {
        let tp = child(&sp, "target");
        match str_at(target, "type") {
            "Utilization" => match int_at(target, "averageUtilization") {
                None => errs.push(FieldError::required(
                    child(&tp, "averageUtilization"),
                    "must set either a target raw value or a target utilization",
                )),
                Some(u) if u <= 0 => errs.push(FieldError::invalid(
                    child(&tp, "averageUtilization"),
                    json!(u),
                    "must be greater than 0",
                )),
                Some(_) => {}
            },
            "Value" | "AverageValue" => {}
            "" => errs.push(FieldError::required(
                child(&tp, "type"),
                "must specify a metric target type",
            )),
            other => errs.push(FieldError::not_supported(
                child(&tp, "type"),
                json!(other),
                &["AverageValue", "Utilization", "Value"],
            )),
        }
    }
    errs
}

const ADDRESS_TYPES: [&str; 3] = ["FQDN", "IPv4", "IPv6"];

/// `ValidateEndpointSlice` (discovery.k8s.io/v1).
pub fn validate_endpoint_slice(es: &Value) -> ErrorList {
    let mut errs = validate_object_meta(es, Scope::Namespaced, name_is_dns_subdomain);
    let address_type = str_at(es, "addressType");
    if address_type.is_empty() {
        errs.push(FieldError::required("addressType", ""));
    } else if !ADDRESS_TYPES.contains(&address_type) {
        errs.push(FieldError::not_supported(
            "addressType",
            json!(address_type),
            &ADDRESS_TYPES,
        ));
    }
    let endpoints = arr_at(es, "endpoints");
    if endpoints.len() > 1000 {
        errs.push(FieldError::too_many("endpoints", endpoints.len(), 1000));
    }
    for (i, ep) in endpoints.iter().enumerate() {
        let p = index("endpoints", i);
        let addresses = arr_at(ep, "addresses");
        if addresses.is_empty() {
            errs.push(FieldError::required(
                child(&p, "addresses"),
                "must contain at least 1 address",
            ));
        } else if addresses.len() > 100 {
            errs.push(FieldError::too_many(
                child(&p, "addresses"),
                addresses.len(),
                100,
            ));
        }
        for (j, a) in addresses.iter().enumerate() {
            let a = a.as_str().unwrap_or("");
            let ap = index(&child(&p, "addresses"), j);
            let ok = match address_type {
                "IPv4" => a.parse::<std::net::Ipv4Addr>().is_ok(),
                "IPv6" => a.parse::<std::net::Ipv6Addr>().is_ok(),
                _ => super::names::is_dns1123_subdomain(a).is_empty(),
            };
            if !ok {
                let msg = match address_type {
                    "IPv4" => "must be a valid IPv4 address",
                    "IPv6" => "must be a valid IPv6 address",
                    _ => "must be a valid DNS subdomain",
                };
                errs.push(FieldError::invalid(ap, json!(a), msg));
            }
        }
        let host = str_at(ep, "hostname");
        if !host.is_empty() {
            errs.extend(dns1123_label_errors(host, &child(&p, "hostname")));
        }
    }
    let ports = arr_at(es, "ports");
    let mut names = std::collections::HashSet::new();
    for (i, port) in ports.iter().enumerate() {
        let p = index("ports", i);
        let name = str_at(port, "name");
        if !name.is_empty() {
            errs.extend(dns1123_label_errors(name, &child(&p, "name")));
        }
        if !names.insert(name.to_string()) {
            errs.push(FieldError::duplicate(child(&p, "name"), json!(name)));
        }
        errs.extend(validate_protocol(
            str_at(port, "protocol"),
            &child(&p, "protocol"),
        ));
        if let Some(n) = int_at(port, "port") {
            for m in is_valid_port_num(n) {
                errs.push(FieldError::invalid(child(&p, "port"), json!(n), m));
            }
        }
    }
    errs
}

/// EndpointSlice updates: addressType is fixed.
pub fn validate_endpoint_slice_update(new: &Value, old: &Value) -> ErrorList {
    let mut errs = validate_object_meta_update(new, old);
    errs.extend(
        validate_endpoint_slice(new)
            .into_iter()
            .filter(|e| !e.field.starts_with("metadata.")),
    );
    errs.extend(immutable(
        new.get("addressType"),
        old.get("addressType"),
        "addressType",
    ));
    errs
}

/// `ValidateCertificateSigningRequestCreate`: a request and a signer.
pub fn validate_csr(csr: &Value) -> ErrorList {
    let mut errs = validate_object_meta(csr, Scope::Cluster, name_is_path_segment);
    let spec = csr.get("spec").unwrap_or(&Value::Null);
    let signer = str_at(spec, "signerName");
    if signer.is_empty() {
        errs.push(FieldError::required("spec.signerName", ""));
    } else if !signer.contains('/') {
        errs.push(FieldError::invalid(
            "spec.signerName",
            json!(signer),
            "must be a fully qualified domain and path of the form 'example.com/signer-name'",
        ));
    }
    errs.extend(super::csr::validate_spec(csr));
    errs
}
