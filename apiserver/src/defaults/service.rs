//! Service and Endpoints defaults (`SetDefaults_Service`, endpoint ports),
//! plus the single-stack IPv4 family fields that upstream's service REST
//! storage fills in when it allocates a ClusterIP (this cluster is IPv4 only).

use crate::validation::json::{each_mut, ensure_obj, set_default, set_default_str};
use serde_json::{Value, json};

/// `SetDefaults_Service`.
pub fn default_service(svc: &mut Value) {
    let Some(spec) = ensure_obj(svc, "spec") else {
        return;
    };
    set_default_str(spec, "sessionAffinity", "None");
    if spec.get("sessionAffinity").and_then(Value::as_str) == Some("ClientIP")
        && let Some(cfg) = ensure_obj(spec, "sessionAffinityConfig")
        && let Some(ip) = ensure_obj(cfg, "clientIP")
    {
        set_default(ip, "timeoutSeconds", json!(10800));
    }
    set_default_str(spec, "type", "ClusterIP");
    for p in each_mut(spec, "ports") {
        set_default_str(p, "protocol", "TCP");
        let port = p.get("port").cloned().unwrap_or(json!(0));
        let unset = match p.get("targetPort") {
            None | Some(Value::Null) => true,
            Some(Value::Number(n)) => n.as_i64() == Some(0),
            Some(Value::String(s)) => s.is_empty(),
            Some(_) => false,
        };
        if unset && let Some(o) = p.as_object_mut() {
            o.insert("targetPort".into(), port);
        }
    }
    let ty = spec
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if ty == "NodePort" || ty == "LoadBalancer" {
        set_default_str(spec, "externalTrafficPolicy", "Cluster");
    }
    if ["NodePort", "LoadBalancer", "ClusterIP"].contains(&ty.as_str()) {
        set_default(spec, "internalTrafficPolicy", json!("Cluster"));
    }
    if ty == "LoadBalancer" {
        set_default(spec, "allocateLoadBalancerNodePorts", json!(true));
    }
    if ty != "ExternalName" {
        set_default(spec, "ipFamilyPolicy", json!("SingleStack"));
        set_default(spec, "ipFamilies", json!(["IPv4"]));
    }
}

/// Endpoints ports default to TCP.
pub fn default_endpoints(ep: &mut Value) {
    for subset in each_mut(ep, "subsets") {
        for p in each_mut(subset, "ports") {
            set_default_str(p, "protocol", "TCP");
        }
    }
}

/// EndpointSlice ports default to TCP (with an empty name).
pub fn default_endpoint_slice(es: &mut Value) {
    for p in each_mut(es, "ports") {
        set_default(p, "name", json!(""));
        set_default(p, "protocol", json!("TCP"));
    }
}
