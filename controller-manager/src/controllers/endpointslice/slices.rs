//! The EndpointSlices a Service should have: endpoints grouped by address
//! family and port list, at most [`MAX_ENDPOINTS_PER_SLICE`] per slice.

use crate::controllers::endpoints::subsets::PodEndpoint;
use k8s_openapi::api::core::v1::EndpointSubset;
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort};
use std::collections::BTreeMap;

/// Upstream's default `--max-endpoints-per-slice`.
pub const MAX_ENDPOINTS_PER_SLICE: usize = 100;

/// The content of one slice, before it has a name.
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredSlice {
    pub address_type: String,
    pub ports: Option<Vec<EndpointPort>>,
    pub endpoints: Vec<Endpoint>,
}

fn address_type(ip: &str) -> &'static str {
    if ip.parse::<std::net::Ipv6Addr>().is_ok() {
        "IPv6"
    } else {
        "IPv4"
    }
}

/// Slices for a selector Service from its pods' endpoints. A Service that
/// selects nothing still gets one empty slice, as upstream keeps one.
pub fn slices_for_pods(
    endpoints: &[PodEndpoint],
    headless_without_ports: bool,
) -> Vec<DesiredSlice> {
    let mut groups: Groups = BTreeMap::new();
    for ep in endpoints {
        if ep.ports.is_empty() && !headless_without_ports {
            continue;
        }
        let mut ports: Vec<EndpointPort> = ep
            .ports
            .iter()
            .map(|p| EndpointPort {
                name: Some(p.name.clone().unwrap_or_default()),
                port: Some(p.port),
                protocol: p.protocol.clone(),
                app_protocol: p.app_protocol.clone(),
            })
            .collect();
        ports.sort_by(|a, b| (&a.name, a.port).cmp(&(&b.name, b.port)));
        let key = (
            address_type(&ep.address.ip).to_string(),
            serde_json::to_string(&ports).unwrap_or_default(),
        );
        let ports = (!ports.is_empty()).then_some(ports);
        let endpoint = Endpoint {
            addresses: vec![ep.address.ip.clone()],
            conditions: Some(EndpointConditions {
                ready: Some(ep.ready && !ep.terminating),
                serving: Some(ep.ready),
                terminating: Some(ep.terminating),
            }),
            hostname: ep.address.hostname.clone(),
            node_name: ep.address.node_name.clone(),
            target_ref: ep.address.target_ref.clone(),
            ..Default::default()
        };
        groups
            .entry(key)
            .or_insert_with(|| (ports, Vec::new()))
            .1
            .push(endpoint);
    }
    chunk(groups)
}

/// Slices mirroring a hand-written Endpoints object (a Service without a
/// selector), so EndpointSlice consumers see those addresses too.
pub fn slices_for_subsets(subsets: &[EndpointSubset]) -> Vec<DesiredSlice> {
    let mut groups: Groups = BTreeMap::new();
    for subset in subsets {
        let ports: Vec<EndpointPort> = subset
            .ports
            .iter()
            .flatten()
            .map(|p| EndpointPort {
                name: Some(p.name.clone().unwrap_or_default()),
                port: Some(p.port),
                protocol: Some(p.protocol.clone().unwrap_or_else(|| "TCP".into())),
                app_protocol: p.app_protocol.clone(),
            })
            .collect();
        let key_ports = serde_json::to_string(&ports).unwrap_or_default();
        let ports = (!ports.is_empty()).then_some(ports);
        let ready = subset.addresses.iter().flatten().map(|a| (a, true));
        let not_ready = subset
            .not_ready_addresses
            .iter()
            .flatten()
            .map(|a| (a, false));
        for (a, is_ready) in ready.chain(not_ready) {
            let endpoint = Endpoint {
                addresses: vec![a.ip.clone()],
                conditions: Some(EndpointConditions {
                    ready: Some(is_ready),
                    serving: Some(is_ready),
                    terminating: None,
                }),
                hostname: a.hostname.clone(),
                node_name: a.node_name.clone(),
                target_ref: a.target_ref.clone(),
                ..Default::default()
            };
            let key = (address_type(&a.ip).to_string(), key_ports.clone());
            groups
                .entry(key)
                .or_insert_with(|| (ports.clone(), Vec::new()))
                .1
                .push(endpoint);
        }
    }
    chunk(groups)
}

type Groups = BTreeMap<(String, String), (Option<Vec<EndpointPort>>, Vec<Endpoint>)>;

fn chunk(groups: Groups) -> Vec<DesiredSlice> {
    let mut out = Vec::new();
    for ((address_type, _), (ports, mut endpoints)) in groups {
        endpoints.sort_by(|a, b| a.addresses.cmp(&b.addresses));
        for part in endpoints.chunks(MAX_ENDPOINTS_PER_SLICE) {
            out.push(DesiredSlice {
                address_type: address_type.clone(),
                ports: ports.clone(),
                endpoints: part.to_vec(),
            });
        }
    }
    if out.is_empty() {
        out.push(DesiredSlice {
            address_type: "IPv4".into(),
            ports: None,
            endpoints: Vec::new(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{EndpointAddress, EndpointPort as CorePort};

    fn ep(ip: &str, ready: bool, port: i32) -> PodEndpoint {
        PodEndpoint {
            address: EndpointAddress {
                ip: ip.into(),
                ..Default::default()
            },
            ready,
            terminating: false,
            ports: vec![CorePort {
                name: Some("http".into()),
                port,
                protocol: Some("TCP".into()),
                app_protocol: None,
            }],
        }
    }

    #[test]
    fn groups_by_ports_and_chunks_by_hundred() {
        let mut eps: Vec<PodEndpoint> = (0..150)
            .map(|i| ep(&format!("10.0.{}.{}", i / 200, i % 200), true, 80))
            .collect();
        eps.push(ep("10.1.0.1", false, 81));
        eps.push(ep("fd00::1", true, 80));
        let slices = slices_for_pods(&eps, false);
        let shape: Vec<(&str, i32, usize)> = slices
            .iter()
            .map(|s| {
                (
                    s.address_type.as_str(),
                    s.ports.as_ref().and_then(|p| p[0].port).unwrap_or(0),
                    s.endpoints.len(),
                )
            })
            .collect();
        assert_eq!(
            shape,
            [
                ("IPv4", 80, 100),
                ("IPv4", 80, 50),
                ("IPv4", 81, 1),
                ("IPv6", 80, 1)
            ]
        );
        let not_ready = &slices[2].endpoints[0];
        assert_eq!(
            not_ready.conditions.as_ref().and_then(|c| c.ready),
            Some(false)
        );
    }

    #[test]
    fn no_endpoints_keeps_one_empty_slice() {
        let slices = slices_for_pods(&[], false);
        assert_eq!(
            slices,
            [DesiredSlice {
                address_type: "IPv4".into(),
                ports: None,
                endpoints: vec![]
            }]
        );
    }

    #[test]
    fn mirrors_subsets() {
        let subsets: Vec<EndpointSubset> = serde_json::from_value(serde_json::json!([{
            "addresses": [{"ip": "10.4.7.21"}, {"ip": "10.4.7.22"}],
            "notReadyAddresses": [{"ip": "10.4.7.23"}],
            "ports": [{"port": 3306}]}]))
        .expect("subsets");
        let slices = slices_for_subsets(&subsets);
        assert_eq!(slices.len(), 1);
        let ready: Vec<(String, Option<bool>)> = slices[0]
            .endpoints
            .iter()
            .map(|e| {
                (
                    e.addresses[0].clone(),
                    e.conditions.as_ref().and_then(|c| c.ready),
                )
            })
            .collect();
        assert_eq!(
            ready,
            [
                ("10.4.7.21".into(), Some(true)),
                ("10.4.7.22".into(), Some(true)),
                ("10.4.7.23".into(), Some(false))
            ]
        );
        assert_eq!(
            slices[0].ports.as_ref().expect("ports")[0]
                .protocol
                .as_deref(),
            Some("TCP")
        );
    }
}
