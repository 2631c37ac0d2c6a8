//! Which pods back a Service, on which ports: the part of the endpoints
//! and endpointslice controllers that needs no API calls.

use k8s_openapi::api::core::v1::{
    EndpointAddress, EndpointPort, EndpointSubset, ObjectReference, Pod, Service, ServicePort,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

/// One pod's address as a Service endpoint, with its readiness and the
/// service ports it serves (target ports resolved against the pod).
#[derive(Debug, Clone, PartialEq)]
pub struct PodEndpoint {
    pub address: EndpointAddress,
    pub ready: bool,
    /// Whether the pod is being deleted (EndpointSlices report it).
    pub terminating: bool,
    pub ports: Vec<EndpointPort>,
}

/// Whether a pod has a condition `type` with status `True`.
pub fn pod_condition_true(pod: &Pod, type_: &str) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == type_ && c.status == "True"))
}

/// Whether a pod has finished for good (it never comes back).
pub fn pod_is_terminal(pod: &Pod) -> bool {
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    matches!(phase, Some("Succeeded" | "Failed"))
}

/// The container port a service port's `targetPort` means for this pod:
/// numbers as they are, names looked up in the pod's containers, and the
/// service port itself when no target port is set.
pub fn resolve_target_port(sp: &ServicePort, pod: &Pod) -> Option<i32> {
    match &sp.target_port {
        None => Some(sp.port),
        Some(IntOrString::Int(n)) => Some(*n),
        Some(IntOrString::String(name)) => {
            let protocol = sp.protocol.as_deref().unwrap_or("TCP");
            let spec = pod.spec.as_ref()?;
            spec.containers
                .iter()
                .flat_map(|c| c.ports.iter().flatten())
                .find_map(|p| {
                    let same_protocol = p.protocol.as_deref().unwrap_or("TCP") == protocol;
                    (p.name.as_deref() == Some(name) && same_protocol).then_some(p.container_port)
                })
        }
    }
}

/// The endpoint a pod contributes to `svc`, or `None` when it contributes
/// nothing (no IP yet, finished, or being deleted when the service does
/// not publish not-ready addresses).
pub fn pod_endpoint(svc: &Service, pod: &Pod) -> Option<PodEndpoint> {
    let ip = pod
        .status
        .as_ref()
        .and_then(|s| s.pod_ip.clone())
        .filter(|ip| !ip.is_empty())?;
    if pod_is_terminal(pod) {
        return None;
    }
    let spec = svc.spec.as_ref()?;
    let publish_not_ready = spec.publish_not_ready_addresses.unwrap_or(false);
    let terminating = pod.metadata.deletion_timestamp.is_some();
    if terminating && !publish_not_ready {
        return None;
    }
    let pod_spec = pod.spec.as_ref();
    let svc_name = svc.metadata.name.as_deref().unwrap_or("");
    // A pod is reachable by name when it says it belongs to this subdomain.
    let hostname = pod_spec
        .filter(|s| {
            s.subdomain.as_deref() == Some(svc_name)
                && s.hostname.as_deref().is_some_and(|h| !h.is_empty())
        })
        .and_then(|s| s.hostname.clone());
    let address = EndpointAddress {
        ip,
        hostname,
        node_name: pod_spec.and_then(|s| s.node_name.clone()),
        target_ref: Some(ObjectReference {
            kind: Some("Pod".into()),
            name: pod.metadata.name.clone(),
            namespace: pod.metadata.namespace.clone(),
            uid: pod.metadata.uid.clone(),
            ..Default::default()
        }),
    };
    let ports = spec
        .ports
        .iter()
        .flatten()
        .filter_map(|sp| {
            resolve_target_port(sp, pod).map(|port| EndpointPort {
                name: sp.name.clone(),
                port,
                protocol: Some(sp.protocol.clone().unwrap_or_else(|| "TCP".into())),
                app_protocol: sp.app_protocol.clone(),
            })
        })
        .collect();
    Some(PodEndpoint {
        address,
        ready: publish_not_ready || pod_condition_true(pod, "Ready"),
        terminating,
        ports,
    })
}

/// Whether a Service is headless (`clusterIP: None`).
pub fn is_headless(svc: &Service) -> bool {
    svc.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()) == Some("None")
}

/// The Endpoints subsets for a Service: addresses grouped by identical
/// port lists, ready ones in `addresses` and the rest in
/// `notReadyAddresses`, everything sorted so an unchanged set of pods
/// gives an unchanged object.
pub fn endpoint_subsets(svc: &Service, pods: &[&Pod]) -> Vec<EndpointSubset> {
    let headless_without_ports = is_headless(svc)
        && svc
            .spec
            .as_ref()
            .and_then(|s| s.ports.as_ref())
            .is_none_or(Vec::is_empty);
    type Group = (
        Vec<EndpointPort>,
        Vec<EndpointAddress>,
        Vec<EndpointAddress>,
    );
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    for pod in pods {
        let Some(mut ep) = pod_endpoint(svc, pod) else {
            continue;
        };
        if ep.ports.is_empty() && !headless_without_ports {
            continue;
        }
        ep.ports
            .sort_by(|a, b| (&a.name, a.port).cmp(&(&b.name, b.port)));
        let key = serde_json::to_string(&ep.ports).unwrap_or_default();
        let g = groups
            .entry(key)
            .or_insert_with(|| (ep.ports.clone(), Vec::new(), Vec::new()));
        if ep.ready {
            g.1.push(ep.address)
        } else {
            g.2.push(ep.address)
        }
    }
    groups
        .into_values()
        .map(|(ports, mut ready, mut not_ready)| {
            sort_addresses(&mut ready);
            sort_addresses(&mut not_ready);
            EndpointSubset {
                addresses: (!ready.is_empty()).then_some(ready),
                not_ready_addresses: (!not_ready.is_empty()).then_some(not_ready),
                ports: (!ports.is_empty()).then_some(ports),
            }
        })
        .collect()
}

fn sort_addresses(a: &mut [EndpointAddress]) {
    a.sort_by(|x, y| {
        let xk = (
            x.ip.parse::<std::net::IpAddr>().ok(),
            &x.ip,
            x.target_ref.as_ref().and_then(|r| r.uid.as_ref()),
        );
        let yk = (
            y.ip.parse::<std::net::IpAddr>().ok(),
            &y.ip,
            y.target_ref.as_ref().and_then(|r| r.uid.as_ref()),
        );
        xk.cmp(&yk)
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn svc(spec: serde_json::Value) -> Service {
        serde_json::from_value(
            json!({"metadata": {"name": "web", "namespace": "default"}, "spec": spec}),
        )
        .expect("service")
    }

    fn pod(name: &str, ip: &str, ready: bool, extra: serde_json::Value) -> Pod {
        let mut p = json!({
            "metadata": {"name": name, "namespace": "default", "uid": format!("uid-{name}")},
            "spec": {"nodeName": "node1", "containers": [{"name": "c", "image": "i",
                "ports": [{"name": "http", "containerPort": 8080}, {"name": "dns", "containerPort": 53, "protocol": "UDP"}]}]},
            "status": {"phase": "Running", "podIP": ip,
                "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}]}
        });
        merge(&mut p, extra);
        serde_json::from_value(p).expect("pod")
    }

    fn merge(a: &mut serde_json::Value, b: serde_json::Value) {
        match (a, b) {
            (serde_json::Value::Object(a), serde_json::Value::Object(b)) => {
                for (k, v) in b {
                    merge(a.entry(k).or_insert(serde_json::Value::Null), v);
                }
            }
            (a, b) => *a = b,
        }
    }

    fn ips(a: &Option<Vec<EndpointAddress>>) -> Vec<String> {
        a.iter().flatten().map(|x| x.ip.clone()).collect()
    }

    #[test]
    fn ready_and_not_ready_addresses_sorted_by_ip() {
        let s =
            svc(json!({"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}));
        let (a, b, c) = (
            pod("a", "10.0.0.10", true, json!({})),
            pod("b", "10.0.0.9", true, json!({})),
            pod("c", "10.0.0.5", false, json!({})),
        );
        let subsets = endpoint_subsets(&s, &[&a, &b, &c]);
        assert_eq!(subsets.len(), 1);
        assert_eq!(ips(&subsets[0].addresses), ["10.0.0.9", "10.0.0.10"]);
        assert_eq!(ips(&subsets[0].not_ready_addresses), ["10.0.0.5"]);
        let ports = subsets[0].ports.as_ref().expect("ports");
        assert_eq!(
            (ports[0].port, ports[0].protocol.as_deref()),
            (8080, Some("TCP"))
        );
        let r = subsets[0].addresses.as_ref().expect("a")[0]
            .target_ref
            .as_ref()
            .expect("ref");
        assert_eq!(
            (r.kind.as_deref(), r.name.as_deref()),
            (Some("Pod"), Some("b"))
        );
    }

    #[test]
    fn publish_not_ready_addresses_counts_every_pod_ready() {
        let s = svc(
            json!({"selector": {"app": "web"}, "publishNotReadyAddresses": true, "ports": [{"port": 80}]}),
        );
        let a = pod("a", "10.0.0.1", false, json!({}));
        let subsets = endpoint_subsets(&s, &[&a]);
        assert_eq!(ips(&subsets[0].addresses), ["10.0.0.1"]);
        assert_eq!(subsets[0].ports.as_ref().expect("p")[0].port, 80);
    }

    #[test]
    fn named_target_ports_resolve_per_pod() {
        let s = svc(json!({"selector": {"app": "web"}, "ports": [
            {"name": "web", "port": 80, "targetPort": "http"},
            {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": "dns"}]}));
        let a = pod("a", "10.0.0.1", true, json!({}));
        // b names its port differently: it serves only dns.
        let b = pod(
            "b",
            "10.0.0.2",
            true,
            json!({"spec": {"containers": [{"name": "c", "image": "i",
            "ports": [{"name": "other", "containerPort": 9090}, {"name": "dns", "containerPort": 5353, "protocol": "UDP"}]}]}}),
        );
        let subsets = endpoint_subsets(&s, &[&a, &b]);
        assert_eq!(subsets.len(), 2);
        let both = subsets
            .iter()
            .find(|s| s.ports.as_ref().is_some_and(|p| p.len() == 2))
            .expect("a's subset");
        assert_eq!(ips(&both.addresses), ["10.0.0.1"]);
        let ports: Vec<(Option<&str>, i32)> = both
            .ports
            .iter()
            .flatten()
            .map(|p| (p.name.as_deref(), p.port))
            .collect();
        assert_eq!(ports, [(Some("dns"), 53), (Some("web"), 8080)]);
        let dns_only = subsets
            .iter()
            .find(|s| s.ports.as_ref().is_some_and(|p| p.len() == 1))
            .expect("b's subset");
        assert_eq!(dns_only.ports.as_ref().expect("p")[0].port, 5353);
    }

    #[test]
    fn pods_without_ip_terminal_or_deleted_are_left_out() {
        let s = svc(json!({"selector": {"app": "web"}, "ports": [{"port": 80}]}));
        let no_ip = pod("a", "", true, json!({}));
        let done = pod(
            "b",
            "10.0.0.2",
            false,
            json!({"status": {"phase": "Succeeded"}}),
        );
        let going = pod(
            "c",
            "10.0.0.3",
            true,
            json!({"metadata": {"deletionTimestamp": "2024-01-01T00:00:00Z"}}),
        );
        assert!(endpoint_subsets(&s, &[&no_ip, &done, &going]).is_empty());
    }

    #[test]
    fn headless_without_ports_lists_addresses_and_hostnames() {
        let s = svc(json!({"selector": {"app": "web"}, "clusterIP": "None"}));
        let a = pod(
            "a",
            "10.0.0.1",
            true,
            json!({"spec": {"hostname": "web-0", "subdomain": "web"}}),
        );
        let subsets = endpoint_subsets(&s, &[&a]);
        assert_eq!(subsets.len(), 1);
        assert!(subsets[0].ports.is_none());
        assert_eq!(
            subsets[0].addresses.as_ref().expect("a")[0]
                .hostname
                .as_deref(),
            Some("web-0")
        );
    }
}
