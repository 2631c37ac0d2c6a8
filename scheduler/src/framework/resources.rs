//! Resource arithmetic the way the scheduler counts it: what a pod asks for
//! (containers, init containers, sidecars and overhead) and what a node can
//! still give.

use apimachinery::quantity::Quantity;
use k8s_openapi::api::core::v1::{Container, Pod};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as ApiQuantity;
use std::collections::BTreeMap;

/// CPU a container without a cpu request is counted as when spreading
/// (upstream's `DefaultMilliCPURequest`), so empty pods still spread.
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
/// Memory a container without a memory request is counted as when spreading.
pub const DEFAULT_MEMORY_REQUEST: i64 = 200 * 1024 * 1024;

/// A set of resource amounts: cpu in millicores, the rest in units.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resource {
    pub milli_cpu: i64,
    pub memory: i64,
    pub ephemeral_storage: i64,
    /// Only meaningful for a node's allocatable: how many pods it takes.
    pub allowed_pod_number: i64,
    /// Extended resources (`example.com/gpu`, `hugepages-2Mi`, ...).
    pub scalar: BTreeMap<String, i64>,
}

fn amount(name: &str, q: &ApiQuantity) -> i64 {
    match Quantity::parse(&q.0) {
        Ok(v) if name == "cpu" => v.milli_value(),
        Ok(v) => v.value(),
        // The apiserver validates quantities; a malformed one counts as zero.
        Err(_) => 0,
    }
}

impl Resource {
    /// Reads a `requests`/`allocatable`-style map.
    pub fn from_map(map: Option<&BTreeMap<String, ApiQuantity>>) -> Resource {
        let mut r = Resource::default();
        for (name, q) in map.into_iter().flatten() {
            r.set(name, amount(name, q));
        }
        r
    }

    fn set(&mut self, name: &str, v: i64) {
        match name {
            "cpu" => self.milli_cpu = v,
            "memory" => self.memory = v,
            "ephemeral-storage" => self.ephemeral_storage = v,
            "pods" => self.allowed_pod_number = v,
            _ if is_scalar(name) => {
                self.scalar.insert(name.to_string(), v);
            }
            _ => {}
        }
    }

    pub fn add(&mut self, o: &Resource) {
        self.milli_cpu += o.milli_cpu;
        self.memory += o.memory;
        self.ephemeral_storage += o.ephemeral_storage;
        self.allowed_pod_number += o.allowed_pod_number;
        for (k, v) in &o.scalar {
            *self.scalar.entry(k.clone()).or_default() += v;
        }
    }

    pub fn sub(&mut self, o: &Resource) {
        self.milli_cpu -= o.milli_cpu;
        self.memory -= o.memory;
        self.ephemeral_storage -= o.ephemeral_storage;
        self.allowed_pod_number -= o.allowed_pod_number;
        for (k, v) in &o.scalar {
            *self.scalar.entry(k.clone()).or_default() -= v;
        }
    }

    /// Element-wise maximum.
    pub fn max_with(&mut self, o: &Resource) {
        self.milli_cpu = self.milli_cpu.max(o.milli_cpu);
        self.memory = self.memory.max(o.memory);
        self.ephemeral_storage = self.ephemeral_storage.max(o.ephemeral_storage);
        for (k, v) in &o.scalar {
            let e = self.scalar.entry(k.clone()).or_default();
            *e = (*e).max(*v);
        }
    }

    /// The amount of a named resource (`cpu` in millicores).
    pub fn get(&self, name: &str) -> i64 {
        match name {
            "cpu" => self.milli_cpu,
            "memory" => self.memory,
            "ephemeral-storage" => self.ephemeral_storage,
            "pods" => self.allowed_pod_number,
            _ => self.scalar.get(name).copied().unwrap_or(0),
        }
    }

    pub fn is_zero(&self) -> bool {
        self.milli_cpu == 0
            && self.memory == 0
            && self.ephemeral_storage == 0
            && self.scalar.values().all(|v| *v == 0)
    }
}

/// Extended resources (domain-prefixed names outside kubernetes.io) and
/// hugepages are counted by name; unknown plain names are ignored.
fn is_scalar(name: &str) -> bool {
    name.starts_with("hugepages-")
        || name.starts_with("attachable-volumes-")
        || (name.contains('/') && !name.starts_with("kubernetes.io/"))
        || name.starts_with("requests.")
}

fn container_requests(c: &Container, non_zero: bool) -> Resource {
    let requests = c.resources.as_ref().and_then(|r| r.requests.as_ref());
    let mut r = Resource::from_map(requests);
    if non_zero {
        let has = |n: &str| requests.is_some_and(|m| m.contains_key(n));
        if !has("cpu") {
            r.milli_cpu = DEFAULT_MILLI_CPU_REQUEST;
        }
        if !has("memory") {
            r.memory = DEFAULT_MEMORY_REQUEST;
        }
    }
    r
}

/// What a pod asks of a node: the larger of (app containers + sidecars)
/// and the peak of the init phase (each init container runs alone beside
/// the sidecars started before it), plus the pod overhead. With
/// `non_zero`, containers without cpu/memory requests count the defaults.
pub fn pod_requests(pod: &Pod, non_zero: bool) -> Resource {
    let Some(spec) = pod.spec.as_ref() else {
        return Resource::default();
    };
    let mut app = Resource::default();
    for c in &spec.containers {
        app.add(&container_requests(c, non_zero));
    }
    let mut sidecars = Resource::default();
    let mut init_peak = Resource::default();
    for c in spec.init_containers.iter().flatten() {
        let r = container_requests(c, non_zero);
        if c.restart_policy.as_deref() == Some("Always") {
            sidecars.add(&r);
            init_peak.max_with(&sidecars);
        } else {
            let mut during = sidecars.clone();
            during.add(&r);
            init_peak.max_with(&during);
        }
    }
    app.add(&sidecars);
    app.max_with(&init_peak);
    if let Some(overhead) = spec.overhead.as_ref() {
        app.add(&Resource::from_map(Some(overhead)));
    }
    app
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(v: serde_json::Value) -> Pod {
        serde_json::from_value(v).expect("pod")
    }

    fn c(name: &str, cpu: &str, mem: &str) -> serde_json::Value {
        json!({"name": name, "image": "x", "resources": {"requests": {"cpu": cpu, "memory": mem}}})
    }

    #[test]
    fn requests_count_the_upstream_way() {
        let cases = [
            (
                "two containers add up",
                json!({"containers": [c("a", "100m", "1Mi"), c("b", "200m", "2Mi")]}),
                300,
                3 << 20,
            ),
            (
                "an init container larger than the app wins",
                json!({"containers": [c("a", "100m", "1Mi")], "initContainers": [c("i", "1", "1Mi")]}),
                1000,
                1 << 20,
            ),
            (
                "a sidecar adds to the app and to later init containers",
                json!({
                    "containers": [c("a", "100m", "1Mi")],
                    "initContainers": [
                        {"name": "s", "image": "x", "restartPolicy": "Always",
                         "resources": {"requests": {"cpu": "500m", "memory": "1Mi"}}},
                        c("i", "600m", "1Mi")
                    ]
                }),
                1100,
                2 << 20,
            ),
            (
                "overhead is added",
                json!({"containers": [c("a", "100m", "1Mi")], "overhead": {"cpu": "250m", "memory": "1Mi"}}),
                350,
                2 << 20,
            ),
        ];
        for (name, spec, cpu, mem) in cases {
            let r = pod_requests(&pod(json!({"spec": spec})), false);
            assert_eq!((r.milli_cpu, r.memory), (cpu, mem), "{name}");
        }
    }

    #[test]
    fn non_zero_requests_fill_in_defaults() {
        let p = pod(json!({"spec": {"containers": [{"name": "a", "image": "x"}]}}));
        assert_eq!(pod_requests(&p, false), Resource::default());
        let r = pod_requests(&p, true);
        assert_eq!(r.milli_cpu, DEFAULT_MILLI_CPU_REQUEST);
        assert_eq!(r.memory, DEFAULT_MEMORY_REQUEST);
    }

    #[test]
    fn extended_resources_are_counted_by_name() {
        let r = Resource::from_map(Some(&BTreeMap::from([
            ("example.com/gpu".to_string(), ApiQuantity("2".into())),
            ("pods".to_string(), ApiQuantity("110".into())),
            ("cpu".to_string(), ApiQuantity("1500m".into())),
        ])));
        assert_eq!(r.get("example.com/gpu"), 2);
        assert_eq!(r.allowed_pod_number, 110);
        assert_eq!(r.milli_cpu, 1500);
    }
}
