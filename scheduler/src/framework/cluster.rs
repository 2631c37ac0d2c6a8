//! What plugins read besides nodes and pods: namespace labels (for
//! `namespaceSelector` in pod affinity terms) and the selectors of the
//! Services, ReplicationControllers, ReplicaSets and StatefulSets (for the
//! cluster default spreading constraints, which select a pod's peers by
//! the selectors of whatever selects the pod, upstream's DefaultSelector).
//!
//! The informers keep one copy; each scheduling cycle's snapshot shares it
//! through `Arc`s, so taking a snapshot copies nothing.

use super::pod_info::PodInfo;
use super::selector::selects;
use apimachinery::labels::Selector;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

pub type Labels = BTreeMap<String, String>;

/// `(namespace, "Kind/name")` → the object's pod selector.
pub type WorkloadSelectors = BTreeMap<(String, String), Selector>;

#[derive(Debug, Clone, Default)]
pub struct ClusterObjects {
    pub namespace_labels: Arc<HashMap<String, Labels>>,
    pub workload_selectors: Arc<WorkloadSelectors>,
}

impl ClusterObjects {
    /// The labels of `namespace` (none when it is unknown).
    pub fn labels_of(&self, namespace: &str) -> Option<&Labels> {
        self.namespace_labels.get(namespace)
    }

    pub fn set_namespace(&mut self, name: &str, labels: Labels) {
        Arc::make_mut(&mut self.namespace_labels).insert(name.to_string(), labels);
    }

    pub fn remove_namespace(&mut self, name: &str) {
        Arc::make_mut(&mut self.namespace_labels).remove(name);
    }

    /// Records (or, with `None`, forgets) the selector of `kind/name`.
    /// Empty and null selectors are not kept: they select no pod here, as
    /// upstream's listers treat them.
    pub fn set_selector(&mut self, namespace: &str, kind_name: &str, selector: Option<Selector>) {
        let key = (namespace.to_string(), kind_name.to_string());
        let selectors = Arc::make_mut(&mut self.workload_selectors);
        match selector.filter(|s| !s.requirements().is_empty()) {
            Some(s) => {
                selectors.insert(key, s);
            }
            None => {
                selectors.remove(&key);
            }
        }
    }

    /// The selector that finds `pod`'s peers: every requirement of every
    /// Service, ReplicationController, ReplicaSet and StatefulSet in its
    /// namespace that selects it, ANDed. `None` when nothing selects it.
    pub fn default_selector(&self, pod: &PodInfo) -> Option<Selector> {
        let ns = pod.namespace.clone();
        let mut parts: Vec<String> = Vec::new();
        let range = (ns.clone(), String::new())..(format!("{ns}\0"), String::new());
        for ((owner_ns, _), selector) in self.workload_selectors.range(range) {
            if *owner_ns == ns && selects(selector, &pod.labels) {
                parts.push(selector.to_string());
            }
        }
        if parts.is_empty() {
            return None;
        }
        Selector::parse(&parts.join(",")).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::pod;
    use serde_json::json;

    #[test]
    fn default_selector_joins_what_selects_the_pod() {
        let mut c = ClusterObjects::default();
        let sel = |s: &str| Some(Selector::parse(s).expect("selector"));
        c.set_selector("web", "Service/front", sel("app=web"));
        c.set_selector(
            "web",
            "ReplicaSet/front-1",
            sel("app=web,pod-template-hash=1"),
        );
        c.set_selector("web", "ReplicaSet/other", sel("app=other"));
        c.set_selector("webx", "Service/x", sel("app=web,x"));
        c.set_selector("web", "Service/headless", Some(Selector::everything()));
        let p = pod(
            json!({"metadata": {"namespace": "web", "labels": {"app": "web", "pod-template-hash": "1"}}}),
        );
        let got = c.default_selector(&p).expect("selected");
        let cases = [
            (json!({"app": "web", "pod-template-hash": "1"}), true),
            (json!({"app": "web", "pod-template-hash": "2"}), false),
            (json!({"app": "web"}), false),
        ];
        for (labels, want) in cases {
            let l: Labels = serde_json::from_value(labels.clone()).expect("labels");
            assert_eq!(selects(&got, &l), want, "{labels}");
        }
        let lonely = pod(json!({"metadata": {"namespace": "web", "labels": {"app": "solo"}}}));
        assert!(c.default_selector(&lonely).is_none());
        c.set_selector("web", "Service/front", None);
        c.set_selector("web", "ReplicaSet/front-1", None);
        assert!(c.default_selector(&p).is_none());
    }
}
