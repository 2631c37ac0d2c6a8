//! networking.k8s.io/v1: Ingress (rules, pathType, backends, TLS hosts)
//! and NetworkPolicy (selectors, ports, peers, policy types).

use super::core_kinds::is_cidr;
use super::field::{ErrorList, FieldError};
use super::json::{arr_at, child, index, int_at, present, str_at};
use super::meta::{Scope, validate_object_meta};
use super::names::{
    is_dns1123_subdomain, is_valid_port_name, is_valid_port_num, name_is_dns_subdomain,
    name_is_dns1035_label,
};
use super::pod::PORT_PROTOCOLS;
use super::selector::validate_label_selector;
use serde_json::{Value, json};

const WILDCARD_MSG: &str = "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

fn host_errors(host: &str, path: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    if host.parse::<std::net::IpAddr>().is_ok() {
        errs.push(FieldError::invalid(
            path,
            json!(host),
            "must be a DNS name, not an IP address",
        ));
        return errs;
    }
    if host.contains('*') {
        let ok = host
            .strip_prefix("*.")
            .is_some_and(|rest| is_dns1123_subdomain(rest).is_empty());
        if !ok {
            errs.push(FieldError::invalid(path, json!(host), WILDCARD_MSG));
        }
    } else {
        for m in is_dns1123_subdomain(host) {
            errs.push(FieldError::invalid(path, json!(host), m));
        }
    }
    errs
}

/// `ValidateIngressCreate` / `ValidateIngressSpec`.
pub fn validate_ingress(ing: &Value) -> ErrorList {
    let mut errs = validate_object_meta(ing, Scope::Namespaced, name_is_dns_subdomain);
    let spec = ing.get("spec").unwrap_or(&Value::Null);
    let rules = arr_at(spec, "rules");
    let default_backend = present(spec, "defaultBackend");
    if rules.is_empty() && default_backend.is_none() {
        errs.push(FieldError::invalid_literal(
            "spec",
            "[]networking.IngressRule(nil)",
            "either `defaultBackend` or `rules` must be specified",
        ));
    }
    if let Some(b) = default_backend {
        errs.extend(validate_backend(b, "spec.defaultBackend"));
    }
    for (i, rule) in rules.iter().enumerate() {
        let rp = index("spec.rules", i);
        let host = str_at(rule, "host");
        if !host.is_empty() {
            errs.extend(host_errors(host, &child(&rp, "host")));
        }
        let Some(http) = present(rule, "http") else {
            continue;
        };
        let hp = child(&rp, "http");
        let paths = arr_at(http, "paths");
        if paths.is_empty() {
            errs.push(FieldError::required(child(&hp, "paths"), ""));
        }
        for (j, path) in paths.iter().enumerate() {
            let pp = index(&child(&hp, "paths"), j);
            errs.extend(validate_http_path(path, &pp));
        }
    }
    for (i, tls) in arr_at(spec, "tls").iter().enumerate() {
        for (j, h) in arr_at(tls, "hosts").iter().enumerate() {
            let h = h.as_str().unwrap_or("");
            errs.extend(host_errors(
                h,
                &index(&child(&index("spec.tls", i), "hosts"), j),
            ));
        }
    }
    if let Some(class) = present(spec, "ingressClassName") {
        let class = class.as_str().unwrap_or("");
        for m in name_is_dns_subdomain(class, false) {
            errs.push(FieldError::invalid(
                "spec.ingressClassName",
                json!(class),
                m,
            ));
        }
    }
    errs
}

const PATH_TYPES: [&str; 3] = ["Exact", "ImplementationSpecific", "Prefix"];

fn validate_http_path(path: &Value, pp: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    let p = str_at(path, "path");
    match present(path, "pathType").and_then(Value::as_str) {
        None => errs.push(FieldError::required(
            child(pp, "pathType"),
            "pathType must be specified",
        )),
        Some(t) if !PATH_TYPES.contains(&t) => {
            errs.push(FieldError::not_supported(
                child(pp, "pathType"),
                json!(t),
                &PATH_TYPES,
            ));
        }
        Some("ImplementationSpecific") => {
            if !p.is_empty() && !p.starts_with('/') {
                errs.push(FieldError::invalid(
                    child(pp, "path"),
                    json!(p),
                    "must be an absolute path",
                ));
            }
        }
        Some(_) => {
            if !p.starts_with('/') {
                errs.push(FieldError::invalid(
                    child(pp, "path"),
                    json!(p),
                    "must be an absolute path",
                ));
            }
            for bad in ["//", "/./", "/../", "%2f", "%2F"] {
                if p.contains(bad) {
                    errs.push(FieldError::invalid(
                        child(pp, "path"),
                        json!(p),
                        format!("must not contain '{bad}'"),
                    ));
                }
            }
        }
    }
    match present(path, "backend") {
        Some(b) => errs.extend(validate_backend(b, &child(pp, "backend"))),
        None => errs.push(FieldError::invalid(
            child(pp, "backend"),
            json!(""),
            "resource or service backend is required",
        )),
    }
    errs
}

/// `validateIngressBackend`.
fn validate_backend(b: &Value, path: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    let resource = present(b, "resource");
    let service = present(b, "service");
    match (resource, service) {
        (Some(_), Some(_)) => errs.push(FieldError::invalid(
            path,
            json!(""),
            "cannot set both resource and service backends",
        )),
        (Some(r), None) => {
            if str_at(r, "kind").is_empty() {
                errs.push(FieldError::required(format!("{path}.resource.kind"), ""));
            }
            if str_at(r, "name").is_empty() {
                errs.push(FieldError::required(format!("{path}.resource.name"), ""));
            }
        }
        (None, Some(s)) => {
            let name = str_at(s, "name");
            let np = format!("{path}.service.name");
            if name.is_empty() {
                errs.push(FieldError::required(np, ""));
            } else {
                for m in name_is_dns1035_label(name, false) {
                    errs.push(FieldError::invalid(&np, json!(name), m));
                }
            }
            let port = s.get("port").unwrap_or(&Value::Null);
            let port_name = str_at(port, "name");
            let number = int_at(port, "number").unwrap_or(0);
            if !port_name.is_empty() && number != 0 {
                errs.push(FieldError::invalid(
                    path,
                    json!(""),
                    "cannot set both port name & port number",
                ));
            } else if !port_name.is_empty() {
                for m in is_valid_port_name(port_name) {
                    errs.push(FieldError::invalid(
                        format!("{path}.service.port.name"),
                        json!(port_name),
                        m,
                    ));
                }
            } else if number != 0 {
                for m in is_valid_port_num(number) {
                    errs.push(FieldError::invalid(
                        format!("{path}.service.port.number"),
                        json!(number),
                        m,
                    ));
                }
            } else {
                errs.push(FieldError::required(
                    path,
                    "port name or number is required",
                ));
            }
        }
        (None, None) => errs.push(FieldError::invalid(
            path,
            json!(""),
            "resource or service backend is required",
        )),
    }
    errs
}

/// `ValidateNetworkPolicy`.
pub fn validate_network_policy(np: &Value) -> ErrorList {
    let mut errs = validate_object_meta(np, Scope::Namespaced, name_is_dns_subdomain);
    let spec = np.get("spec").unwrap_or(&Value::Null);
    if let Some(sel) = present(spec, "podSelector") {
        errs.extend(validate_label_selector(sel, "spec.podSelector"));
    }
    for (dir, peers) in [("ingress", "from"), ("egress", "to")] {
        for (i, rule) in arr_at(spec, dir).iter().enumerate() {
            let rp = index(&child("spec", dir), i);
            for (j, port) in arr_at(rule, "ports").iter().enumerate() {
                errs.extend(validate_policy_port(port, &index(&child(&rp, "ports"), j)));
            }
            for (j, peer) in arr_at(rule, peers).iter().enumerate() {
                errs.extend(validate_peer(peer, &index(&child(&rp, peers), j)));
            }
        }
    }
    let types = arr_at(spec, "policyTypes");
    for (i, t) in types.iter().enumerate() {
        let t = t.as_str().unwrap_or("");
        if !["Ingress", "Egress"].contains(&t) {
            errs.push(FieldError::not_supported(
                index("spec.policyTypes", i),
                json!(t),
                &["Ingress", "Egress"],
            ));
        }
    }
    if types.len() > 2 {
        errs.push(FieldError::invalid(
            "spec.policyTypes",
            json!(types),
            "may not specify more than two policyTypes",
        ));
    }
    errs
}

fn validate_policy_port(port: &Value, pp: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    if let Some(proto) = present(port, "protocol") {
        let proto = proto.as_str().unwrap_or("");
        if !PORT_PROTOCOLS.contains(&proto) {
            errs.push(FieldError::not_supported(
                child(pp, "protocol"),
                json!(proto),
                &["TCP", "UDP", "SCTP"],
            ));
        }
    }
    match port.get("port") {
        Some(Value::String(name)) => {
            for m in is_valid_port_name(name) {
                errs.push(FieldError::invalid(child(pp, "port"), json!(name), m));
            }
            if present(port, "endPort").is_some() {
                errs.push(FieldError::forbidden(
                    child(pp, "endPort"),
                    "may not be specified when `port` is non-numeric",
                ));
            }
        }
        Some(Value::Number(n)) => {
            let n = n.as_i64().unwrap_or(0);
            for m in is_valid_port_num(n) {
                errs.push(FieldError::invalid(child(pp, "port"), json!(n), m));
            }
            if let Some(end) = int_at(port, "endPort")
                && end < n
            {
                errs.push(FieldError::invalid(
                    child(pp, "endPort"),
                    json!(end),
                    "must be greater than or equal to `port`",
                ));
            }
        }
        _ => {
            if present(port, "endPort").is_some() {
                errs.push(FieldError::required(
                    child(pp, "port"),
                    "must be specified when `endPort` is specified",
                ));
            }
        }
    }
    errs
}

fn validate_peer(peer: &Value, pp: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    let pod = present(peer, "podSelector");
    let ns = present(peer, "namespaceSelector");
    let ip = present(peer, "ipBlock");
    if let Some(s) = pod {
        errs.extend(validate_label_selector(s, &child(pp, "podSelector")));
    }
    if let Some(s) = ns {
        errs.extend(validate_label_selector(s, &child(pp, "namespaceSelector")));
    }
    match (pod.is_some() || ns.is_some(), ip) {
        (false, None) => errs.push(FieldError::required(pp, "must specify a peer")),
        (true, Some(_)) => errs.push(FieldError::forbidden(
            pp,
            "may not specify both podSelector/namespaceSelector and ipBlock",
        )),
        (false, Some(block)) => {
            let cidr = str_at(block, "cidr");
            let bp = child(pp, "ipBlock");
            if cidr.is_empty() {
                errs.push(FieldError::required(child(&bp, "cidr"), ""));
            } else if !is_cidr(cidr) {
                errs.push(FieldError::invalid(
                    child(&bp, "cidr"),
                    json!(cidr),
                    "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
                ));
            }
            for (i, e) in arr_at(block, "except").iter().enumerate() {
                let e = e.as_str().unwrap_or("");
                if !is_cidr(e) {
                    errs.push(FieldError::invalid(
                        index(&child(&bp, "except"), i),
                        json!(e),
                        "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
                    ));
                }
            }
        }
        (true, None) => {}
    }
    errs
}

/// `ValidateIngressClassUpdate`: the controller that implements a class
/// may not change.
pub fn validate_ingress_class_update(new: &Value, old: &Value) -> ErrorList {
    super::meta::immutable(
        new.pointer("/spec/controller"),
        old.pointer("/spec/controller"),
        "spec.controller",
    )
}
