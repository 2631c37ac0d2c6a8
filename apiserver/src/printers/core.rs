//! Rows of core-group resources: namespaces, services, endpoints, nodes,
//! configmaps, secrets, service accounts, events, persistent volumes (and claims),
//! resource quotas, component statuses; plus the default row for resources
//! without a printer.

use super::json::{at, count, flag, format_labels, int, is_deleting, list, name, text};
use super::time::{age, rfc3339_utc};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;
use std::net::Ipv6Addr;
use std::time::SystemTime;

fn created(obj: &Value, now: SystemTime) -> Value {
    json!(age(at(obj, &["metadata", "creationTimestamp"]), now))
}

/// Name and creation time, as upstream's default table convertor shows any object.
pub(super) fn default_row(obj: &Value, _now: SystemTime) -> Vec<Value> {
    vec![
        json!(name(obj)),
        json!(rfc3339_utc(at(obj, &["metadata", "creationTimestamp"]))),
    ]
}

pub(super) fn namespace(obj: &Value, now: SystemTime) -> Vec<Value> {
    vec![
        json!(name(obj)),
        json!(text(obj, &["status", "phase"])),
        created(obj, now),
    ]
}

pub(super) fn config_map(obj: &Value, now: SystemTime) -> Vec<Value> {
    let data = count(obj, &["data"]) + count(obj, &["binaryData"]);
    vec![json!(name(obj)), json!(data), created(obj, now)]
}

pub(super) fn secret(obj: &Value, now: SystemTime) -> Vec<Value> {
    vec![
        json!(name(obj)),
        json!(text(obj, &["type"])),
        json!(count(obj, &["data"])),
        created(obj, now),
    ]
}

pub(super) fn service_account(obj: &Value, now: SystemTime) -> Vec<Value> {
    vec![
        json!(name(obj)),
        json!(count(obj, &["secrets"])),
        created(obj, now),
    ]
}

/// Load-balancer ingress points: IPs or hostnames, each once, in order.
pub(super) fn load_balancer_addresses(status: Option<&Value>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let ingress = status
        .and_then(|s| s.get("ingress"))
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    ingress
        .iter()
        .filter_map(|i| {
            let ip = text(i, &["ip"]);
            let host = text(i, &["hostname"]);
            let a = if ip.is_empty() { host } else { ip };
            (!a.is_empty() && seen.insert(a.to_string())).then(|| a.to_string())
        })
        .collect()
}

fn service_external_ip(svc: &Value) -> String {
    let external: Vec<&str> = list(svc, &["spec", "externalIPs"])
        .iter()
        .filter_map(Value::as_str)
        .collect();
    match text(svc, &["spec", "type"]) {
        "ClusterIP" | "NodePort" => {
            if external.is_empty() {
                "<none>".to_string()
            } else {
                external.join(",")
            }
        }
        "LoadBalancer" => {
            let mut all = load_balancer_addresses(at(svc, &["status", "loadBalancer"]));
            if !external.is_empty() {
                all.extend(external.iter().map(|s| s.to_string()));
            }
            if all.is_empty() {
                "<pending>".to_string()
            } else {
                all.join(",")
            }
        }
        "ExternalName" => text(svc, &["spec", "externalName"]).to_string(),
        _ => "<unknown>".to_string(),
    }
}

/// `80/TCP`, `80:30080/TCP`, joined with `,`; `<none>` without ports.
fn service_ports(svc: &Value) -> String {
    let ports: Vec<String> = list(svc, &["spec", "ports"])
        .iter()
        .map(|p| {
            let port = int(p, &["port"]);
            let protocol = text(p, &["protocol"]);
            match int(p, &["nodePort"]) {
                n if n > 0 => format!("{port}:{n}/{protocol}"),
                _ => format!("{port}/{protocol}"),
            }
        })
        .collect();
    if ports.is_empty() {
        "<none>".to_string()
    } else {
        ports.join(",")
    }
}

pub(super) fn service(svc: &Value, now: SystemTime) -> Vec<Value> {
    let cluster_ip = list(svc, &["spec", "clusterIPs"])
        .first()
        .and_then(Value::as_str)
        .unwrap_or("<none>");
    vec![
        json!(name(svc)),
        json!(text(svc, &["spec", "type"])),
        json!(cluster_ip),
        json!(service_external_ip(svc)),
        json!(service_ports(svc)),
        created(svc, now),
        json!(format_labels(at(svc, &["spec", "selector"]))),
    ]
}

/// Go's net.JoinHostPort: IPv6 addresses in brackets.
fn host_port(ip: &str, port: i64) -> String {
    if ip.parse::<Ipv6Addr>().is_ok() || ip.contains(':') {
        format!("[{ip}]:{port}")
    } else {
        format!("{ip}:{port}")
    }
}

/// Up to three `ip:port` entries, then `+ N more...`; `<none>` without subsets.
fn format_endpoints(obj: &Value) -> String {
    let subsets = list(obj, &["subsets"]);
    if subsets.is_empty() {
        return "<none>".to_string();
    }
    const MAX: usize = 3;
    let mut shown: Vec<String> = Vec::new();
    let mut total = 0usize;
    for ss in subsets {
        let addresses = list(ss, &["addresses"]);
        let ports = list(ss, &["ports"]);
        if ports.is_empty() {
            total += addresses.len();
            for a in addresses {
                if shown.len() < MAX {
                    shown.push(text(a, &["ip"]).to_string());
                }
            }
            continue;
        }
        for p in ports {
            total += addresses.len();
            for a in addresses {
                if shown.len() < MAX {
                    shown.push(host_port(text(a, &["ip"]), int(p, &["port"])));
                }
            }
        }
    }
    let joined = shown.join(",");
    if total > MAX {
        format!("{joined} + {} more...", total - MAX)
    } else {
        joined
    }
}

pub(super) fn endpoints(obj: &Value, now: SystemTime) -> Vec<Value> {
    vec![
        json!(name(obj)),
        json!(format_endpoints(obj)),
        created(obj, now),
    ]
}

/// Roles from `node-role.kubernetes.io/<role>` keys and the `kubernetes.io/role` value.
fn node_roles(node: &Value) -> Vec<String> {
    let mut roles = BTreeSet::new();
    if let Some(labels) = at(node, &["metadata", "labels"]).and_then(Value::as_object) {
        for (k, v) in labels {
            if let Some(role) = k.strip_prefix("node-role.kubernetes.io/") {
                if !role.is_empty() {
                    roles.insert(role.to_string());
                }
            } else if k == "kubernetes.io/role" {
                let v = v.as_str().unwrap_or_default();
                if !v.is_empty() {
                    roles.insert(v.to_string());
                }
            }
        }
    }
    roles.into_iter().collect()
}

fn node_address(node: &Value, kind: &str) -> String {
    list(node, &["status", "addresses"])
        .iter()
        .find(|a| text(a, &["type"]) == kind)
        .map(|a| text(a, &["address"]).to_string())
        .unwrap_or_else(|| "<none>".to_string())
}

pub(super) fn node(obj: &Value, now: SystemTime) -> Vec<Value> {
    let mut status: Vec<&str> = Vec::new();
    if let Some(ready) = list(obj, &["status", "conditions"])
        .iter()
        .rev()
        .find(|c| text(c, &["type"]) == "Ready")
    {
        status.push(if text(ready, &["status"]) == "True" {
            "Ready"
        } else {
            "NotReady"
        });
    } else {
        status.push("Unknown");
    }
    if flag(obj, &["spec", "unschedulable"]) {
        status.push("SchedulingDisabled");
    }
    let roles = node_roles(obj);
    let info = |f: &str| match text(obj, &["status", "nodeInfo", f]) {
        "" => "<unknown>".to_string(),
        v => v.to_string(),
    };
    vec![
        json!(name(obj)),
        json!(status.join(",")),
        json!(if roles.is_empty() {
            "<none>".to_string()
        } else {
            roles.join(",")
        }),
        created(obj, now),
        json!(text(obj, &["status", "nodeInfo", "kubeletVersion"])),
        json!(node_address(obj, "InternalIP")),
        json!(node_address(obj, "ExternalIP")),
        json!(info("osImage")),
        json!(info("kernelVersion")),
        json!(info("containerRuntimeVersion")),
    ]
}

/// Turns an events.k8s.io/v1 Event into the core/v1 field names the printer reads.
pub(super) fn core_event_from_events_v1(obj: &Value) -> Value {
    let mut out = Map::new();
    let copy = |out: &mut Map<String, Value>, from: &str, to: &str| {
        if let Some(v) = obj.get(from) {
            out.insert(to.to_string(), v.clone());
        }
    };
    for (from, to) in [
        ("metadata", "metadata"),
        ("eventTime", "eventTime"),
        ("series", "series"),
        ("reportingController", "reportingComponent"),
        ("reportingInstance", "reportingInstance"),
        ("reason", "reason"),
        ("type", "type"),
        ("regarding", "involvedObject"),
        ("note", "message"),
        ("deprecatedSource", "source"),
        ("deprecatedFirstTimestamp", "firstTimestamp"),
        ("deprecatedLastTimestamp", "lastTimestamp"),
        ("deprecatedCount", "count"),
    ] {
        copy(&mut out, from, to);
    }
    Value::Object(out)
}

fn present(v: Option<&Value>) -> Option<&Value> {
    v.filter(|v| v.as_str().is_some_and(|s| !s.is_empty()))
}

pub(super) fn event(obj: &Value, now: SystemTime) -> Vec<Value> {
    let first = match present(obj.get("firstTimestamp")) {
        Some(t) => age(Some(t), now),
        None => age(present(obj.get("eventTime")), now),
    };
    let mut last = match present(obj.get("lastTimestamp")) {
        Some(t) => age(Some(t), now),
        None => first.clone(),
    };
    let mut count = int(obj, &["count"]);
    if let Some(series) = obj.get("series").filter(|s| s.is_object()) {
        last = age(series.get("lastObservedTime"), now);
        count = int(series, &["count"]);
    } else if count == 0 {
        count = 1;
    }
    let kind = text(obj, &["involvedObject", "kind"]).to_lowercase();
    let target = match text(obj, &["involvedObject", "name"]) {
        "" => kind,
        n => format!("{kind}/{n}"),
    };
    let first_non_empty = |a: &str, b: &str| {
        if a.is_empty() {
            b.to_string()
        } else {
            a.to_string()
        }
    };
    let component = first_non_empty(
        text(obj, &["source", "component"]),
        text(obj, &["reportingComponent"]),
    );
    let host = first_non_empty(
        text(obj, &["source", "host"]),
        text(obj, &["reportingInstance"]),
    );
    let source = if host.is_empty() {
        component
    } else {
        format!("{component}, {host}")
    };
    vec![
        json!(last),
        json!(text(obj, &["type"])),
        json!(text(obj, &["reason"])),
        json!(target),
        json!(text(obj, &["involvedObject", "fieldPath"])),
        json!(source),
        json!(text(obj, &["message"]).trim()),
        json!(first),
        json!(count),
        json!(name(obj)),
    ]
}

/// RWO, ROX, RWX, RWOP in that order, each once.
fn access_modes(modes: &[Value]) -> String {
    let has = |m: &str| modes.iter().any(|v| v.as_str() == Some(m));
    [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ]
    .iter()
    .filter(|(m, _)| has(m))
    .map(|(_, short)| *short)
    .collect::<Vec<_>>()
    .join(",")
}

/// The beta storage-class annotation wins over spec.storageClassName.
fn storage_class(obj: &Value) -> String {
    match text(
        obj,
        &[
            "metadata",
            "annotations",
            "volume.beta.kubernetes.io/storage-class",
        ],
    ) {
        "" => text(obj, &["spec", "storageClassName"]).to_string(),
        a => a.to_string(),
    }
}

fn or_unset(v: &str) -> String {
    if v.is_empty() {
        "<unset>".to_string()
    } else {
        v.to_string()
    }
}

fn storage_quantity(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => "0".to_string(),
    }
}

pub(super) fn persistent_volume(obj: &Value, now: SystemTime) -> Vec<Value> {
    let claim = match at(obj, &["spec", "claimRef"]) {
        Some(c) if c.is_object() => {
            format!("{}/{}", text(c, &["namespace"]), text(c, &["name"]))
        }
        _ => String::new(),
    };
    let phase = if is_deleting(obj) {
        "Terminating"
    } else {
        text(obj, &["status", "phase"])
    };
    vec![
        json!(name(obj)),
        json!(storage_quantity(at(obj, &["spec", "capacity", "storage"]))),
        json!(access_modes(list(obj, &["spec", "accessModes"]))),
        json!(text(obj, &["spec", "persistentVolumeReclaimPolicy"])),
        json!(phase),
        json!(claim),
        json!(storage_class(obj)),
        json!(or_unset(text(obj, &["spec", "volumeAttributesClassName"]))),
        json!(text(obj, &["status", "reason"])),
        created(obj, now),
        json!(or_unset(text(obj, &["spec", "volumeMode"]))),
    ]
}

pub(super) fn persistent_volume_claim(obj: &Value, now: SystemTime) -> Vec<Value> {
    let phase = if is_deleting(obj) {
        "Terminating"
    } else {
        text(obj, &["status", "phase"])
    };
    let volume = text(obj, &["spec", "volumeName"]);
    let (capacity, modes) = if volume.is_empty() {
        (String::new(), String::new())
    } else {
        (
            storage_quantity(at(obj, &["status", "capacity", "storage"])),
            access_modes(list(obj, &["status", "accessModes"])),
        )
    };
    vec![
        json!(name(obj)),
        json!(phase),
        json!(volume),
        json!(capacity),
        json!(modes),
        json!(storage_class(obj)),
        json!(or_unset(text(obj, &["spec", "volumeAttributesClassName"]))),
        created(obj, now),
        json!(or_unset(text(obj, &["spec", "volumeMode"]))),
    ]
}

/// `resource: used/hard` for every hard limit, split into requests and `limits.*`.
pub(super) fn resource_quota(obj: &Value, now: SystemTime) -> Vec<Value> {
    let mut resources: Vec<&String> = at(obj, &["status", "hard"])
        .and_then(Value::as_object)
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    resources.sort();
    let mut requests = Vec::new();
    let mut limits = Vec::new();
    for r in resources {
        let entry = format!(
            "{r}: {}/{}",
            storage_quantity(at(obj, &["status", "used", r])),
            storage_quantity(at(obj, &["status", "hard", r]))
        );
        if r.split('.').count() > 1 && r.starts_with("limits.") {
            limits.push(entry);
        } else {
            requests.push(entry);
        }
    }
    vec![
        json!(name(obj)),
        created(obj, now),
        json!(requests.join(", ")),
        json!(limits.join(", ")),
    ]
}

pub(super) fn component_status(obj: &Value, _now: SystemTime) -> Vec<Value> {
    let healthy = list(obj, &["conditions"])
        .iter()
        .find(|c| text(c, &["type"]) == "Healthy");
    let (status, message, error) = match healthy {
        Some(c) => (
            if text(c, &["status"]) == "True" {
                "Healthy"
            } else {
                "Unhealthy"
            },
            text(c, &["message"]),
            text(c, &["error"]),
        ),
        None => ("Unknown", "", ""),
    };
    vec![
        json!(name(obj)),
        json!(status),
        json!(message),
        json!(error),
    ]
}
