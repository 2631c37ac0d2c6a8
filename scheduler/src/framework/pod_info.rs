//! A pod with what the plugins read from it computed once: requests,
//! host ports, affinity terms with parsed selectors, priority.

use super::cluster::{ClusterObjects, Labels};
use super::selector::selects;
use apimachinery::labels::Selector;
use client::scheduling::{Resource, pod_non_zero_requests, pod_requests};
use k8s_openapi::api::core::v1::{Pod, PodAffinityTerm, WeightedPodAffinityTerm};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// A host port a container asks for: (protocol, host IP, port).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostPort {
    pub protocol: String,
    pub ip: String,
    pub port: i32,
}

impl HostPort {
    /// Two host ports clash when protocol and port match and either binds
    /// every address.
    pub fn conflicts(&self, o: &HostPort) -> bool {
        self.port == o.port
            && self.protocol == o.protocol
            && (self.ip == o.ip || self.ip == "0.0.0.0" || o.ip == "0.0.0.0")
    }
}

/// One `podAffinityTerm` with its selectors parsed.
#[derive(Debug, Clone)]
pub struct AffinityTerm {
    pub selector: Selector,
    /// From `matchLabelKeys`/`mismatchLabelKeys`: must match as well.
    pub extra: Option<Selector>,
    /// `namespaces`, or the pod's own namespace when neither `namespaces`
    /// nor `namespaceSelector` is given.
    pub namespaces: BTreeSet<String>,
    /// A non-empty `namespaceSelector`, matched against namespace labels.
    pub namespace_selector: Option<Selector>,
    /// An empty `namespaceSelector` (`{}`): every namespace.
    pub all_namespaces: bool,
    pub topology_key: String,
    pub weight: i64,
}

fn parse_selector<T: serde::Serialize>(s: Option<&T>) -> Option<Selector> {
    s.and_then(|s| serde_json::to_value(s).ok())
        .and_then(|v| Selector::from_label_selector(&v).ok())
}

impl AffinityTerm {
    fn parse(pod: &Pod, term: &PodAffinityTerm, weight: i64) -> AffinityTerm {
        let labels = pod.metadata.labels.clone().unwrap_or_default();
        // A term without a selector matches no pod, as upstream.
        let selector =
            parse_selector(term.label_selector.as_ref()).unwrap_or_else(Selector::nothing);
        // matchLabelKeys / mismatchLabelKeys: the incoming pod's own values
        // narrow the selector.
        let mut extra = Vec::new();
        for k in term.match_label_keys.iter().flatten() {
            if let Some(v) = labels.get(k) {
                extra.push(format!("{k}={v}"));
            }
        }
        for k in term.mismatch_label_keys.iter().flatten() {
            if let Some(v) = labels.get(k) {
                extra.push(format!("{k}!={v}"));
            }
        }
        let extra = (!extra.is_empty() && term.label_selector.is_some())
            .then(|| Selector::parse(&extra.join(",")).ok())
            .flatten();
        let mut namespaces: BTreeSet<String> = term.namespaces.iter().flatten().cloned().collect();
        // `{}` selects every namespace; a selector that fails to parse
        // (validation refuses those) selects none.
        let ns_selector = term
            .namespace_selector
            .as_ref()
            .map(|s| parse_selector(Some(s)).unwrap_or_else(Selector::nothing));
        let all_namespaces = ns_selector.as_ref().is_some_and(Selector::is_empty);
        if namespaces.is_empty() && term.namespace_selector.is_none() {
            namespaces.insert(pod.metadata.namespace.clone().unwrap_or_default());
        }
        AffinityTerm {
            selector,
            extra,
            namespaces,
            namespace_selector: ns_selector.filter(|s| !s.is_empty()),
            all_namespaces,
            topology_key: term.topology_key.clone(),
            weight,
        }
    }

    /// Whether the term covers `namespace` (with these labels, if known).
    pub fn covers_namespace(&self, namespace: &str, labels: Option<&Labels>) -> bool {
        self.all_namespaces
            || self.namespaces.contains(namespace)
            || self
                .namespace_selector
                .as_ref()
                .is_some_and(|s| labels.is_some_and(|l| selects(s, l)))
    }

    /// Whether `other` is a pod this term selects; `objects` gives the
    /// namespace labels a `namespaceSelector` is matched against.
    pub fn matches(&self, other: &PodInfo, objects: &ClusterObjects) -> bool {
        self.matches_labels(&other.namespace, &other.labels, objects)
    }

    /// Whether a pod in `namespace` with `labels` is one this term selects.
    pub fn matches_labels(
        &self,
        namespace: &str,
        labels: &Labels,
        objects: &ClusterObjects,
    ) -> bool {
        selects(&self.selector, labels)
            && self.extra.as_ref().is_none_or(|e| selects(e, labels))
            && self.covers_namespace(namespace, objects.labels_of(namespace))
    }
}

#[derive(Debug, Clone)]
pub struct PodInfo {
    pub pod: Arc<Pod>,
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub labels: BTreeMap<String, String>,
    pub priority: i32,
    pub requests: Resource,
    /// Requests with cpu/memory defaults filled in, for scoring.
    pub non_zero_requests: Resource,
    pub host_ports: Vec<HostPort>,
    pub required_affinity: Vec<AffinityTerm>,
    pub required_anti_affinity: Vec<AffinityTerm>,
    pub preferred_affinity: Vec<AffinityTerm>,
    pub preferred_anti_affinity: Vec<AffinityTerm>,
}

fn terms(pod: &Pod, list: Option<&Vec<PodAffinityTerm>>) -> Vec<AffinityTerm> {
    list.into_iter()
        .flatten()
        .map(|t| AffinityTerm::parse(pod, t, 1))
        .collect()
}

fn weighted(pod: &Pod, list: Option<&Vec<WeightedPodAffinityTerm>>) -> Vec<AffinityTerm> {
    list.into_iter()
        .flatten()
        .map(|t| AffinityTerm::parse(pod, &t.pod_affinity_term, i64::from(t.weight)))
        .collect()
}

impl PodInfo {
    pub fn new(pod: Arc<Pod>) -> PodInfo {
        let spec = pod.spec.as_ref();
        let affinity = spec.and_then(|s| s.affinity.as_ref());
        let pa = affinity.and_then(|a| a.pod_affinity.as_ref());
        let paa = affinity.and_then(|a| a.pod_anti_affinity.as_ref());
        let mut host_ports = Vec::new();
        for c in spec.map(|s| s.containers.as_slice()).unwrap_or_default() {
            for p in c.ports.iter().flatten() {
                if let Some(hp) = p.host_port.filter(|p| *p > 0) {
                    host_ports.push(HostPort {
                        protocol: p.protocol.clone().unwrap_or_else(|| "TCP".into()),
                        ip: p
                            .host_ip
                            .clone()
                            .filter(|ip| !ip.is_empty())
                            .unwrap_or_else(|| "0.0.0.0".into()),
                        port: hp,
                    });
                }
            }
        }
        PodInfo {
            namespace: pod.metadata.namespace.clone().unwrap_or_default(),
            name: pod.metadata.name.clone().unwrap_or_default(),
            uid: pod.metadata.uid.clone().unwrap_or_default(),
            labels: pod.metadata.labels.clone().unwrap_or_default(),
            priority: spec.and_then(|s| s.priority).unwrap_or(0),
            requests: pod_requests(&pod),
            non_zero_requests: pod_non_zero_requests(&pod),
            host_ports,
            required_affinity: terms(
                &pod,
                pa.and_then(|a| {
                    a.required_during_scheduling_ignored_during_execution
                        .as_ref()
                }),
            ),
            required_anti_affinity: terms(
                &pod,
                paa.and_then(|a| {
                    a.required_during_scheduling_ignored_during_execution
                        .as_ref()
                }),
            ),
            preferred_affinity: weighted(
                &pod,
                pa.and_then(|a| {
                    a.preferred_during_scheduling_ignored_during_execution
                        .as_ref()
                }),
            ),
            preferred_anti_affinity: weighted(
                &pod,
                paa.and_then(|a| {
                    a.preferred_during_scheduling_ignored_during_execution
                        .as_ref()
                }),
            ),
            pod,
        }
    }

    /// `namespace/name`, the queue's and the cache's key.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    pub fn has_affinity(&self) -> bool {
        !(self.required_affinity.is_empty()
            && self.required_anti_affinity.is_empty()
            && self.preferred_affinity.is_empty()
            && self.preferred_anti_affinity.is_empty())
    }
}

/// `namespace/name` of a pod object.
pub fn pod_key(pod: &Pod) -> String {
    format!(
        "{}/{}",
        pod.metadata.namespace.as_deref().unwrap_or_default(),
        pod.metadata.name.as_deref().unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn info(v: serde_json::Value) -> PodInfo {
        PodInfo::new(Arc::new(serde_json::from_value(v).expect("pod")))
    }

    #[test]
    fn host_ports_default_protocol_and_address() {
        let p = info(
            json!({"metadata": {"name": "p", "namespace": "d"}, "spec": {"containers": [
                {"name": "a", "image": "x", "ports": [{"containerPort": 80, "hostPort": 8080}, {"containerPort": 53}]}
            ]}}),
        );
        assert_eq!(
            p.host_ports,
            vec![HostPort {
                protocol: "TCP".into(),
                ip: "0.0.0.0".into(),
                port: 8080
            }]
        );
    }

    #[test]
    fn host_port_conflicts() {
        let hp = |proto: &str, ip: &str, port| HostPort {
            protocol: proto.into(),
            ip: ip.into(),
            port,
        };
        let cases = [
            (hp("TCP", "0.0.0.0", 80), hp("TCP", "10.0.0.1", 80), true),
            (hp("TCP", "10.0.0.2", 80), hp("TCP", "10.0.0.1", 80), false),
            (hp("UDP", "0.0.0.0", 80), hp("TCP", "0.0.0.0", 80), false),
            (hp("TCP", "0.0.0.0", 81), hp("TCP", "0.0.0.0", 80), false),
        ];
        for (a, b, want) in cases {
            assert_eq!(a.conflicts(&b), want, "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn affinity_terms_default_to_own_namespace() {
        let p = info(
            json!({"metadata": {"name": "p", "namespace": "web", "labels": {"app": "a"}}, "spec": {
                "containers": [{"name": "a", "image": "x"}],
                "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                    {"labelSelector": {"matchLabels": {"app": "a"}}, "topologyKey": "kubernetes.io/hostname"}
                ]}}
            }}),
        );
        let t = &p.required_anti_affinity[0];
        let objects = ClusterObjects::default();
        assert!(t.matches(&p, &objects));
        let mut other = p.clone();
        other.namespace = "db".into();
        assert!(!t.matches(&other, &objects));
    }

    /// namespaces / namespaceSelector combinations, as upstream reads them.
    #[test]
    fn namespace_selector_terms() {
        let mut objects = ClusterObjects::default();
        objects.set_namespace("web", [("team".to_string(), "a".to_string())].into());
        objects.set_namespace("db", [("team".to_string(), "b".to_string())].into());
        objects.set_namespace("own", Labels::new());
        let cases = [
            // (namespaces, namespaceSelector, covered namespaces of web/db/own)
            (json!(null), json!(null), [false, false, true]),
            (json!(null), json!({}), [true, true, true]),
            (
                json!(null),
                json!({"matchLabels": {"team": "a"}}),
                [true, false, false],
            ),
            (json!(["db"]), json!(null), [false, true, false]),
            (
                json!(["db"]),
                json!({"matchLabels": {"team": "a"}}),
                [true, true, false],
            ),
            (
                json!(null),
                json!({"matchExpressions": [{"key": "team", "operator": "Exists"}]}),
                [true, true, false],
            ),
        ];
        for (namespaces, ns_selector, want) in cases {
            let mut term = json!({"labelSelector": {"matchLabels": {"app": "a"}}, "topologyKey": "kubernetes.io/hostname"});
            if !namespaces.is_null() {
                term["namespaces"] = namespaces.clone();
            }
            if !ns_selector.is_null() {
                term["namespaceSelector"] = ns_selector.clone();
            }
            let p = info(
                json!({"metadata": {"name": "p", "namespace": "own", "labels": {"app": "a"}}, "spec": {
                    "containers": [{"name": "a", "image": "x"}],
                    "affinity": {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]}}
                }}),
            );
            let t = &p.required_affinity[0];
            let got: Vec<bool> = ["web", "db", "own"]
                .iter()
                .map(|ns| {
                    let mut other = p.clone();
                    other.namespace = ns.to_string();
                    t.matches(&other, &objects)
                })
                .collect();
            assert_eq!(got, want, "namespaces {namespaces} selector {ns_selector}");
        }
    }
}
