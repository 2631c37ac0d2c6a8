//! Applying the allocators to a Service: fill in `clusterIP(s)` and
//! `nodePort`s on create, keep them on update, give them back on delete or
//! when the write fails.

use super::{AllocError, ServiceAllocators};
use crate::status::ApiError;
use crate::validation::FieldError;
use serde_json::{Value, json};
use std::net::Ipv4Addr;

/// What one write claimed (released again if the write fails) and what it
/// gave up (released once the write succeeded).
#[derive(Debug, Default)]
pub struct Changes {
    pub claimed_ips: Vec<Ipv4Addr>,
    pub claimed_ports: Vec<i64>,
    pub dropped_ports: Vec<i64>,
}

fn invalid(name: &str, field: &str, value: Value, detail: String) -> ApiError {
    ApiError::invalid(
        "Service",
        "",
        name,
        &vec![FieldError::invalid(field, value, detail)],
    )
}

fn ip_error(a: &ServiceAllocators, name: &str, ip: Ipv4Addr, e: AllocError) -> ApiError {
    match e {
        AllocError::OutOfRange => invalid(
            name,
            "spec.clusterIPs[0]",
            json!(ip.to_string()),
            format!(
                "failed to allocate IP {ip}: the provided IP ({ip}) is not in the valid range. The range of valid IPs is {}",
                a.cidr
            ),
        ),
        AllocError::AlreadyAllocated => invalid(
            name,
            "spec.clusterIPs[0]",
            json!(ip.to_string()),
            format!("failed to allocate IP {ip}: provided IP is already allocated"),
        ),
        AllocError::Full => ApiError::internal(format!(
            "failed to allocate a serviceIP: range is full ({})",
            a.cidr
        )),
        AllocError::Storage(s) => s.to_api(),
    }
}

fn port_error(a: &ServiceAllocators, name: &str, idx: usize, port: i64, e: AllocError) -> ApiError {
    let field = format!("spec.ports[{idx}].nodePort");
    match e {
        AllocError::OutOfRange => invalid(
            name,
            &field,
            json!(port),
            format!(
                "provided port is not in the valid range. The range of valid ports is {}",
                a.ports
            ),
        ),
        AllocError::AlreadyAllocated => invalid(
            name,
            &field,
            json!(port),
            "provided port is already allocated".into(),
        ),
        AllocError::Full => ApiError::internal(format!(
            "failed to allocate a nodePort: range is full ({})",
            a.ports
        )),
        AllocError::Storage(s) => s.to_api(),
    }
}

/// Releases everything `changes` claimed (after a failed write).
pub async fn rollback(a: &ServiceAllocators, changes: &Changes) {
    for ip in &changes.claimed_ips {
        let _ = a.release_ip(*ip).await;
    }
    for p in &changes.claimed_ports {
        let _ = a.release_port(*p).await;
    }
}

/// Releases what an update gave up (after a successful write).
pub async fn commit(a: &ServiceAllocators, changes: &Changes) {
    for p in &changes.dropped_ports {
        let _ = a.release_port(*p).await;
    }
}

/// Releases the addresses and ports of a deleted Service.
pub async fn release_all(a: &ServiceAllocators, svc: &Value) {
    for ip in svc
        .pointer("/spec/clusterIPs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(ip) = ip.as_str().and_then(|s| s.parse().ok()) {
            let _ = a.release_ip(ip).await;
        }
    }
    for p in node_ports(svc) {
        let _ = a.release_port(p).await;
    }
}

fn node_ports(svc: &Value) -> Vec<i64> {
    svc.pointer("/spec/ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("nodePort").and_then(Value::as_i64))
        .filter(|p| *p != 0)
        .collect()
}

/// Fills in cluster IPs and node ports of `svc`; `old` is the stored
/// Service on update. On error nothing stays claimed.
pub async fn assign(
    a: &ServiceAllocators,
    svc: &mut Value,
    old: Option<&Value>,
) -> Result<Changes, ApiError> {
    let mut changes = Changes::default();
    match assign_inner(a, svc, old, &mut changes).await {
        Ok(()) => Ok(changes),
        Err(e) => {
            rollback(a, &changes).await;
            Err(e)
        }
    }
}

async fn assign_inner(
    a: &ServiceAllocators,
    svc: &mut Value,
    old: Option<&Value>,
    changes: &mut Changes,
) -> Result<(), ApiError> {
    let name = crate::registry::meta::name(svc).to_string();
    if !svc.get("spec").is_some_and(Value::is_object) {
        svc["spec"] = json!({});
    }
    let spec = &mut svc["spec"];
    let kind = spec
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP")
        .to_string();
    spec["type"] = json!(kind);
    if kind == "ExternalName" {
        return Ok(());
    }
    // Cluster IP: kept from the stored object on update.
    let old_ip = old
        .and_then(|o| o.pointer("/spec/clusterIP"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    let asked = spec
        .get("clusterIP")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .or_else(|| spec.pointer("/clusterIPs/0").and_then(Value::as_str))
        .unwrap_or("")
        .to_string();
    let ip = match (old_ip, asked.as_str()) {
        (Some(o), "") => o.to_string(),
        (Some(o), a) if a == o => o.to_string(),
        (Some(o), a) => {
            return Err(invalid(
                &name,
                "spec.clusterIPs[0]",
                json!(a),
                format!("may not change once set (was {o:?})"),
            ));
        }
        (None, "None") => "None".to_string(),
        (None, "") => {
            let ip = a
                .allocate_ip(None)
                .await
                .map_err(|e| ip_error(a, &name, a.first_ip(), e))?;
            changes.claimed_ips.push(ip);
            ip.to_string()
        }
        (None, wanted) => {
            let ip: Ipv4Addr = wanted.parse().map_err(|_| {
                invalid(
                    &name,
                    "spec.clusterIPs[0]",
                    json!(wanted),
                    "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)".into(),
                )
            })?;
            a.allocate_ip(Some(ip))
                .await
                .map_err(|e| ip_error(a, &name, ip, e))?;
            changes.claimed_ips.push(ip);
            ip.to_string()
        }
    };
    spec["clusterIP"] = json!(ip);
    spec["clusterIPs"] = json!([ip]);
    if spec.get("ipFamilies").is_none() {
        spec["ipFamilies"] = json!(["IPv4"]);
    }
    if spec.get("ipFamilyPolicy").is_none() {
        spec["ipFamilyPolicy"] = json!("SingleStack");
    }
    // Node ports for NodePort and LoadBalancer Services.
    let old_ports = old.map(node_ports).unwrap_or_default();
    let wants_node_ports = matches!(kind.as_str(), "NodePort" | "LoadBalancer");
    let mut kept = Vec::new();
    if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
        for (idx, p) in ports.iter_mut().enumerate() {
            if !wants_node_ports {
                if let Some(o) = p.as_object_mut() {
                    o.remove("nodePort");
                }
                continue;
            }
            let asked = p
                .get("nodePort")
                .and_then(Value::as_i64)
                .filter(|n| *n != 0);
            let port = match asked {
                Some(n) if old_ports.contains(&n) => n,
                Some(n) => {
                    a.allocate_port(Some(n))
                        .await
                        .map_err(|e| port_error(a, &name, idx, n, e))?;
                    changes.claimed_ports.push(n);
                    n
                }
                None => {
                    let n = a
                        .allocate_port(None)
                        .await
                        .map_err(|e| port_error(a, &name, idx, 0, e))?;
                    changes.claimed_ports.push(n);
                    n
                }
            };
            kept.push(port);
            p["nodePort"] = json!(port);
        }
    }
    changes.dropped_ports = old_ports
        .into_iter()
        .filter(|p| !kept.contains(p))
        .collect();
    Ok(())
}
