//! Services (upstream's `ValidateService`, `ValidateServiceUpdate`) and
//! the allocation rules the service REST storage adds around them.

use super::field::{ErrorList, ErrorType, FieldError};
use super::json::{arr_at, child, index, int_at, present, str_at};
use super::meta::{Scope, validate_labels, validate_object_meta, validate_object_meta_update};
use super::names::{is_dns1123_subdomain, is_valid_port_num, name_is_dns1035_label};
use super::pod::{
    PORT_PROTOCOLS, dns1123_label_errors as pod_dns_label_errors, validate_port_num_or_name,
};
use serde_json::{Value, json};
use std::collections::HashSet;

const IP_ERROR: &str = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)";

/// The clusterIPs as upstream's strategy sees them: `clusterIPs`, or
/// `[clusterIP]` when only the singular field is set.
fn cluster_ips(spec: &Value) -> Vec<String> {
    let list: Vec<String> = arr_at(spec, "clusterIPs")
        .iter()
        .map(|v| v.as_str().unwrap_or("").to_string())
        .collect();
    if !list.is_empty() {
        return list;
    }
    let single = str_at(spec, "clusterIP");
    if single.is_empty() {
        Vec::new()
    } else {
        vec![single.to_string()]
    }
}

fn is_headless(spec: &Value) -> bool {
    cluster_ips(spec).first().map(String::as_str) == Some("None")
}

/// `ValidateService`.
pub fn validate_service(svc: &Value) -> ErrorList {
    let mut errs = validate_object_meta(svc, Scope::Namespaced, name_is_dns1035_label);
    let null = Value::Null;
    let spec = svc.get("spec").unwrap_or(&null);
    let ty = str_at(spec, "type");
    let ports = arr_at(spec, "ports");
    let headless = is_headless(spec);
    let ips = cluster_ips(spec);
    if ports.is_empty() && !headless && ty != "ExternalName" {
        errs.push(FieldError::required("spec.ports", ""));
    }
    match ty {
        "LoadBalancer" | "NodePort" => {
            if headless {
                errs.push(FieldError::invalid(
                    "spec.clusterIPs[0]",
                    json!("None"),
                    format!("may not be set to 'None' for {ty} services"),
                ));
            }
            if ty == "LoadBalancer" {
                for (i, p) in ports.iter().enumerate() {
                    if int_at(p, "port") == Some(10250) {
                        errs.push(FieldError::invalid(
                            index("spec.ports", i),
                            json!(10250),
                            "may not expose port 10250 externally since it is used by kubelet",
                        ));
                    }
                }
            }
        }
        "ExternalName" => {
            if !ips.is_empty() {
                errs.push(FieldError::forbidden(
                    "spec.clusterIPs",
                    "may not be set for ExternalName services",
                ));
            }
            if !arr_at(spec, "ipFamilies").is_empty() {
                errs.push(FieldError::forbidden(
                    "spec.ipFamilies",
                    "may not be set for ExternalName services",
                ));
            }
            if present(spec, "ipFamilyPolicy").is_some() {
                errs.push(FieldError::forbidden(
                    "spec.ipFamilyPolicy",
                    "may not be set for ExternalName services",
                ));
            }
            let cname = str_at(spec, "externalName");
            let cname = cname.strip_suffix('.').unwrap_or(cname);
            if cname.is_empty() {
                errs.push(FieldError::required("spec.externalName", ""));
            } else {
                for m in is_dns1123_subdomain(cname) {
                    errs.push(FieldError::invalid("spec.externalName", json!(cname), m));
                }
            }
        }
        _ => {}
    }
    let mut names = HashSet::new();
    for (i, p) in ports.iter().enumerate() {
        errs.extend(validate_service_port(
            p,
            ports.len() > 1,
            &mut names,
            &index("spec.ports", i),
        ));
    }
    if let Some(sel) = present(spec, "selector") {
        errs.extend(validate_labels(Some(sel), "spec.selector"));
    }
    match str_at(spec, "sessionAffinity") {
        "" => errs.push(FieldError::required("spec.sessionAffinity", "")),
        "ClientIP" => {
            let t = spec
                .get("sessionAffinityConfig")
                .and_then(|c| c.get("clientIP"))
                .and_then(|c| c.get("timeoutSeconds"))
                .and_then(Value::as_i64);
            match t {
                None => errs.push(FieldError::required(
                    "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
                    "",
                )),
                Some(t) if !(1..=86400).contains(&t) => errs.push(FieldError::invalid(
                    "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
                    json!(t),
                    "must be greater than 0 and less than 86400",
                )),
                Some(_) => {}
            }
        }
        "None" => {
            if present(spec, "sessionAffinityConfig").is_some() {
                errs.push(FieldError::forbidden(
                    "spec.sessionAffinityConfig",
                    "must not be set when session affinity is None",
                ));
            }
        }
        other => errs.push(FieldError::not_supported(
            "spec.sessionAffinity",
            json!(other),
            &["ClientIP", "None"],
        )),
    }
    errs.extend(validate_cluster_ips(spec, &ips));
    for (i, ip) in arr_at(spec, "externalIPs").iter().enumerate() {
        let ip = ip.as_str().unwrap_or("");
        if ip.parse::<std::net::IpAddr>().is_err() {
            errs.push(FieldError::invalid(
                index("spec.externalIPs", i),
                json!(ip),
                IP_ERROR,
            ));
        }
    }
    const TYPES: [&str; 4] = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
    if ty.is_empty() {
        errs.push(FieldError::required("spec.type", ""));
    } else if !TYPES.contains(&ty) {
        errs.push(FieldError::not_supported("spec.type", json!(ty), &TYPES));
    }
    if ty == "ClusterIP" {
        for (i, p) in ports.iter().enumerate() {
            if int_at(p, "nodePort").unwrap_or(0) != 0 {
                errs.push(FieldError::forbidden(
                    child(&index("spec.ports", i), "nodePort"),
                    "may not be used when `type` is 'ClusterIP'",
                ));
            }
        }
    }
    let mut node_ports = HashSet::new();
    let mut port_keys = HashSet::new();
    for (i, p) in ports.iter().enumerate() {
        let protocol = str_at(p, "protocol");
        let node_port = int_at(p, "nodePort").unwrap_or(0);
        if node_port != 0 && !node_ports.insert((protocol.to_string(), node_port)) {
            errs.push(FieldError::duplicate(
                child(&index("spec.ports", i), "nodePort"),
                json!(node_port),
            ));
        }
        let port = int_at(p, "port").unwrap_or(0);
        if !port_keys.insert((protocol.to_string(), port)) {
            errs.push(FieldError::with_literal(
                ErrorType::Duplicate,
                index("spec.ports", i),
                format!(
                    "core.ServicePort{{Name:\"\", Protocol:{protocol:?}, AppProtocol:(*string)(nil), Port:{port}, TargetPort:intstr.IntOrString{{Type:0, IntVal:0, StrVal:\"\"}}, NodePort:0}}"
                ),
                "",
            ));
        }
    }
    errs.extend(validate_traffic_policies(spec, ty));
    errs
}

fn validate_service_port(
    p: &Value,
    require_name: bool,
    names: &mut HashSet<String>,
    path: &str,
) -> ErrorList {
    let mut errs = ErrorList::new();
    let name = str_at(p, "name");
    if require_name && name.is_empty() {
        errs.push(FieldError::required(child(path, "name"), ""));
    } else if !name.is_empty() {
        errs.extend(pod_dns_label_errors(name, &child(path, "name")));
        if !names.insert(name.to_string()) {
            errs.push(FieldError::duplicate(child(path, "name"), json!(name)));
        }
    }
    let port = int_at(p, "port").unwrap_or(0);
    for m in is_valid_port_num(port) {
        errs.push(FieldError::invalid(child(path, "port"), json!(port), m));
    }
    let protocol = str_at(p, "protocol");
    if protocol.is_empty() {
        errs.push(FieldError::required(child(path, "protocol"), ""));
    } else if !PORT_PROTOCOLS.contains(&protocol) {
        errs.push(FieldError::not_supported(
            child(path, "protocol"),
            json!(protocol),
            &PORT_PROTOCOLS,
        ));
    }
    errs.extend(validate_port_num_or_name(
        p.get("targetPort"),
        &child(path, "targetPort"),
    ));
    errs
}

fn validate_cluster_ips(spec: &Value, ips: &[String]) -> ErrorList {
    let mut errs = ErrorList::new();
    let single = str_at(spec, "clusterIP");
    let listed = arr_at(spec, "clusterIPs");
    if !listed.is_empty() && listed[0].as_str() != Some(single) && !single.is_empty() {
        errs.push(FieldError::invalid(
            "spec.clusterIPs",
            json!(listed),
            "first value must match `clusterIP`",
        ));
    }
    if ips.len() > 2 {
        errs.push(FieldError::invalid(
            "spec.clusterIPs",
            json!(ips),
            "may only hold up to 2 values",
        ));
    }
    for (i, ip) in ips.iter().enumerate() {
        if i == 0 && ip == "None" {
            if ips.len() > 1 {
                errs.push(FieldError::invalid(
                    "spec.clusterIPs",
                    json!(ips),
                    "'None' must be the first and only value",
                ));
            }
            continue;
        }
        if ip.parse::<std::net::IpAddr>().is_err() {
            errs.push(FieldError::invalid(
                index("spec.clusterIPs", i),
                json!(ip),
                IP_ERROR,
            ));
        }
    }
    for (i, f) in arr_at(spec, "ipFamilies").iter().enumerate() {
        let f = f.as_str().unwrap_or("");
        if !["IPv4", "IPv6"].contains(&f) {
            errs.push(FieldError::not_supported(
                index("spec.ipFamilies", i),
                json!(f),
                &["IPv4", "IPv6"],
            ));
        }
    }
    if let Some(policy) = present(spec, "ipFamilyPolicy") {
        let policy = policy.as_str().unwrap_or("");
        const POLICIES: [&str; 3] = ["PreferDualStack", "RequireDualStack", "SingleStack"];
        if !POLICIES.contains(&policy) {
            errs.push(FieldError::not_supported(
                "spec.ipFamilyPolicy",
                json!(policy),
                &POLICIES,
            ));
        }
    }
    errs
}

fn validate_traffic_policies(spec: &Value, ty: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    let etp = str_at(spec, "externalTrafficPolicy");
    let external = ty == "NodePort" || ty == "LoadBalancer";
    if external {
        if etp.is_empty() {
            errs.push(FieldError::required("spec.externalTrafficPolicy", ""));
        } else if !["Cluster", "Local"].contains(&etp) {
            errs.push(FieldError::not_supported(
                "spec.externalTrafficPolicy",
                json!(etp),
                &["Cluster", "Local"],
            ));
        }
    } else if !etp.is_empty() {
        errs.push(FieldError::invalid(
            "spec.externalTrafficPolicy",
            json!(etp),
            "may only be set for externally-accessible services",
        ));
    }
    if let Some(hc) = int_at(spec, "healthCheckNodePort").filter(|p| *p != 0)
        && !(ty == "LoadBalancer" && etp == "Local")
    {
        errs.push(FieldError::invalid(
            "spec.healthCheckNodePort",
            json!(hc),
            "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
        ));
    }
    if let Some(itp) = present(spec, "internalTrafficPolicy") {
        let itp = itp.as_str().unwrap_or("");
        if !["Cluster", "Local"].contains(&itp) {
            errs.push(FieldError::not_supported(
                "spec.internalTrafficPolicy",
                json!(itp),
                &["Cluster", "Local"],
            ));
        }
    } else if ["ClusterIP", "NodePort", "LoadBalancer"].contains(&ty) {
        errs.push(FieldError::required("spec.internalTrafficPolicy", ""));
    }
    errs
}

/// `ValidateServiceUpdate`: metadata rules, a fixed primary clusterIP
/// (unless ExternalName is involved), then everything `validate_service` checks.
pub fn validate_service_update(new: &Value, old: &Value) -> ErrorList {
    let mut errs = validate_object_meta_update(new, old);
    let null = Value::Null;
    let ns = new.get("spec").unwrap_or(&null);
    let os = old.get("spec").unwrap_or(&null);
    let (nt, ot) = (str_at(ns, "type"), str_at(os, "type"));
    if nt != "ExternalName" && ot != "ExternalName" {
        let (n_ips, o_ips) = (cluster_ips(ns), cluster_ips(os));
        if n_ips.is_empty() && !o_ips.is_empty() {
            errs.push(FieldError::invalid_literal(
                "spec.clusterIPs[0]",
                "[]string(nil)",
                "primary clusterIP can not be unset",
            ));
        }
        if let (Some(n0), Some(o0)) = (n_ips.first(), o_ips.first())
            && n0 != o0
        {
            errs.push(FieldError::invalid(
                "spec.clusterIPs[0]",
                json!(n_ips),
                "may not change once set",
            ));
        }
    }
    errs.extend(validate_service(new));
    errs
}

/// `ValidateServiceStatusUpdate`: metadata rules and load-balancer ingress IPs.
pub fn validate_service_status_update(new: &Value, old: &Value) -> ErrorList {
    let mut errs = validate_object_meta_update(new, old);
    let ingress = new
        .get("status")
        .and_then(|s| s.get("loadBalancer"))
        .map(|lb| arr_at(lb, "ingress"))
        .unwrap_or(&[]);
    for (i, ing) in ingress.iter().enumerate() {
        let ip = str_at(ing, "ip");
        if !ip.is_empty() && ip.parse::<std::net::IpAddr>().is_err() {
            errs.push(FieldError::invalid(
                format!("status.loadBalancer.ingress[{i}].ip"),
                json!(ip),
                IP_ERROR,
            ));
        }
    }
    errs
}

/// What upstream's service REST update keeps from the stored object when a
/// client omits it (as `kubectl apply` does): clusterIP(s), ipFamilies and
/// ipFamilyPolicy, and node ports of ports that still exist. The apiserver
/// calls this before validating an update.
pub fn carry_over_service_allocations(new: &mut Value, old: &Value) {
    let null = Value::Null;
    let os = old.get("spec").unwrap_or(&null);
    let Some(ns) = new.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    let same_type = ns
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP")
        == os
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("ClusterIP");
    if !same_type && ns.get("type").and_then(Value::as_str) == Some("ExternalName") {
        return;
    }
    for f in ["clusterIP", "clusterIPs"] {
        let missing = ns
            .get(f)
            .is_none_or(|v| v.is_null() || v.as_str() == Some(""));
        if missing && let Some(v) = os.get(f).filter(|v| !v.is_null()) {
            ns.insert(f.into(), v.clone());
        }
    }
    for f in ["ipFamilies", "ipFamilyPolicy"] {
        if ns.get(f).is_none_or(Value::is_null)
            && let Some(v) = os.get(f).filter(|v| !v.is_null())
        {
            ns.insert(f.into(), v.clone());
        }
    }
    let ty = ns.get("type").and_then(Value::as_str).unwrap_or("");
    if ty == "NodePort" || ty == "LoadBalancer" {
        let old_ports = arr_at(os, "ports");
        if let Some(ports) = ns.get_mut("ports").and_then(Value::as_array_mut) {
            for p in ports {
                let has = p.get("nodePort").and_then(Value::as_i64).unwrap_or(0) != 0;
                if has {
                    continue;
                }
                let matching = old_ports.iter().find(|op| {
                    op.get("port") == p.get("port")
                        && str_at(op, "protocol")
                            == p.get("protocol").and_then(Value::as_str).unwrap_or("TCP")
                });
                if let Some(np) = matching
                    .and_then(|op| op.get("nodePort"))
                    .filter(|v| !v.is_null())
                    && let Some(o) = p.as_object_mut()
                {
                    o.insert("nodePort".into(), np.clone());
                }
            }
        }
    }
}

/// The node-port range check the allocator makes
/// (`--service-node-port-range`, 30000-32767 by default).
pub fn validate_node_port_range(svc: &Value, lo: i64, hi: i64) -> ErrorList {
    let null = Value::Null;
    let spec = svc.get("spec").unwrap_or(&null);
    let mut errs = ErrorList::new();
    for (i, p) in arr_at(spec, "ports").iter().enumerate() {
        let np = int_at(p, "nodePort").unwrap_or(0);
        if np != 0 && !(lo..=hi).contains(&np) {
            errs.push(FieldError::invalid(
                child(&index("spec.ports", i), "nodePort"),
                json!(np),
                format!(
                    "provided port is not in the valid range. The range of valid ports is {lo}-{hi}"
                ),
            ));
        }
    }
    errs
}
