//! Pod resource requests the way upstream's component-helpers count them
//! (`PodRequests`): what a pod asks of a node is its app containers plus
//! its sidecars (init containers with `restartPolicy: Always`), or the
//! peak of its init phase if that is larger (each init container runs
//! beside the sidecars started before it), plus `spec.overhead`. The
//! scheduler fits and scores pods with it; the kubelet admits them with it.

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

    /// Adds `o` to every amount (a pod joining a node, a container joining
    /// its pod).
    pub fn add(&mut self, o: &Resource) {
        self.milli_cpu += o.milli_cpu;
        self.memory += o.memory;
        self.ephemeral_storage += o.ephemeral_storage;
        self.allowed_pod_number += o.allowed_pod_number;
        for (k, v) in &o.scalar {
            *self.scalar.entry(k.clone()).or_default() += v;
        }
    }

    /// Takes `o` off every amount (a pod leaving a node).
    pub fn sub(&mut self, o: &Resource) {
        self.milli_cpu -= o.milli_cpu;
        self.memory -= o.memory;
        self.ephemeral_storage -= o.ephemeral_storage;
        self.allowed_pod_number -= o.allowed_pod_number;
        for (k, v) in &o.scalar {
            *self.scalar.entry(k.clone()).or_default() -= v;
        }
    }

    /// Element-wise maximum: the peak of phases that do not run at once
    /// (init containers one after another).
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

    /// Whether nothing is asked for (the pod count aside), which lets a
    /// pod skip the resource fit.
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
        // Only a missing request is filled in: an explicit zero stays zero.
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

fn requests(pod: &Pod, non_zero: bool) -> Resource {
    let Some(spec) = pod.spec.as_ref() else {
        return Resource::default();
    };
    let mut total = Resource::default();
    for c in &spec.containers {
        total.add(&container_requests(c, non_zero));
    }
    // Sidecars keep running once started: they add to the pod's total and
    // to every init container that starts after them.
    let mut sidecars = Resource::default();
    let mut init_peak = Resource::default();
    for c in spec.init_containers.iter().flatten() {
        let r = container_requests(c, non_zero);
        if c.restart_policy.as_deref() == Some("Always") {
            total.add(&r);
            sidecars.add(&r);
            init_peak.max_with(&sidecars);
        } else {
            let mut during = sidecars.clone();
            during.add(&r);
            init_peak.max_with(&during);
        }
    }
    total.max_with(&init_peak);
    if let Some(overhead) = spec.overhead.as_ref() {
        total.add(&Resource::from_map(Some(overhead)));
    }
    total
}

/// What a pod asks of a node (upstream's `PodRequests`): containers without
/// a request ask for nothing of that resource.
pub fn pod_requests(pod: &Pod) -> Resource {
    requests(pod, false)
}

/// [`pod_requests`] with a missing cpu or memory request counted as
/// [`DEFAULT_MILLI_CPU_REQUEST`] / [`DEFAULT_MEMORY_REQUEST`]: what the
/// scheduler's scores count, so that pods without requests still spread.
pub fn pod_non_zero_requests(pod: &Pod) -> Resource {
    requests(pod, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn pod(spec: Value) -> Pod {
        serde_json::from_value(json!({"spec": spec})).expect("pod")
    }

    fn c(name: &str, cpu: &str, mem: &str) -> Value {
        json!({"name": name, "image": "x", "resources": {"requests": {"cpu": cpu, "memory": mem}}})
    }

    fn sidecar(name: &str, cpu: &str, mem: &str) -> Value {
        let mut s = c(name, cpu, mem);
        s["restartPolicy"] = json!("Always");
        s
    }

    const MI: i64 = 1 << 20;

    #[test]
    fn requests_count_the_upstream_way() {
        let cases = [
            ("no containers", json!({"containers": []}), 0, 0),
            (
                "containers add up",
                json!({"containers": [c("a", "100m", "1Mi"), c("b", "200m", "2Mi")]}),
                300,
                3 * MI,
            ),
            (
                "an init container larger than the app wins, per resource",
                json!({"containers": [c("a", "100m", "5Mi")], "initContainers": [c("i", "1", "1Mi")]}),
                1000,
                5 * MI,
            ),
            (
                "init containers run one at a time: the largest counts",
                json!({"containers": [c("a", "100m", "1Mi")],
                       "initContainers": [c("i", "700m", "1Mi"), c("j", "500m", "3Mi")]}),
                700,
                3 * MI,
            ),
            (
                "a sidecar adds to the app and to later init containers",
                json!({"containers": [c("a", "100m", "1Mi")],
                       "initContainers": [sidecar("s", "500m", "1Mi"), c("i", "600m", "1Mi")]}),
                1100,
                2 * MI,
            ),
            (
                "a sidecar started after an init container does not add to it",
                json!({"containers": [c("a", "100m", "1Mi")],
                       "initContainers": [c("i", "600m", "1Mi"), sidecar("s", "500m", "1Mi")]}),
                600,
                2 * MI,
            ),
            (
                "sidecars add up",
                json!({"containers": [c("a", "100m", "1Mi")],
                       "initContainers": [sidecar("s", "100m", "1Mi"), sidecar("t", "200m", "1Mi")]}),
                400,
                3 * MI,
            ),
            (
                "overhead is added",
                json!({"containers": [c("a", "100m", "1Mi")], "overhead": {"cpu": "250m", "memory": "1Mi"}}),
                350,
                2 * MI,
            ),
            (
                "overhead is added after the init peak",
                json!({"containers": [c("a", "100m", "1Mi")], "initContainers": [c("i", "1", "1Mi")],
                       "overhead": {"cpu": "250m"}}),
                1250,
                MI,
            ),
            (
                "a malformed quantity counts as zero",
                json!({"containers": [c("a", "lots", "1Mi")]}),
                0,
                MI,
            ),
        ];
        for (name, spec, cpu, mem) in cases {
            let r = pod_requests(&pod(spec));
            assert_eq!((r.milli_cpu, r.memory), (cpu, mem), "{name}");
        }
        assert_eq!(pod_requests(&Pod::default()), Resource::default());
    }

    #[test]
    fn non_zero_requests_fill_in_only_missing_requests() {
        let bare = json!({"name": "b", "image": "x"});
        let zero_cpu = json!({"name": "z", "image": "x", "resources": {"requests": {"cpu": "0"}}});
        let cases = [
            (
                "a bare container",
                json!({"containers": [bare]}),
                (0, 0),
                (DEFAULT_MILLI_CPU_REQUEST, DEFAULT_MEMORY_REQUEST),
            ),
            (
                "an explicit zero stays zero",
                json!({"containers": [zero_cpu]}),
                (0, 0),
                (0, DEFAULT_MEMORY_REQUEST),
            ),
            (
                "set requests are kept",
                json!({"containers": [c("a", "1", "1Mi")]}),
                (1000, MI),
                (1000, MI),
            ),
            (
                "each container gets the defaults",
                json!({"containers": [bare, c("a", "1", "1Mi")]}),
                (1000, MI),
                (
                    1000 + DEFAULT_MILLI_CPU_REQUEST,
                    MI + DEFAULT_MEMORY_REQUEST,
                ),
            ),
            (
                "init containers get them too",
                json!({"containers": [c("a", "10m", "1Mi")], "initContainers": [bare]}),
                (10, MI),
                (DEFAULT_MILLI_CPU_REQUEST, DEFAULT_MEMORY_REQUEST),
            ),
        ];
        for (name, spec, plain, non_zero) in cases {
            let p = pod(spec);
            let (r, n) = (pod_requests(&p), pod_non_zero_requests(&p));
            assert_eq!((r.milli_cpu, r.memory), plain, "{name}");
            assert_eq!((n.milli_cpu, n.memory), non_zero, "{name} (non-zero)");
        }
    }

    #[test]
    fn extended_resources_are_counted_by_name() {
        let r = Resource::from_map(Some(&BTreeMap::from([
            ("example.com/gpu".to_string(), ApiQuantity("2".into())),
            ("hugepages-2Mi".to_string(), ApiQuantity("4Mi".into())),
            ("pods".to_string(), ApiQuantity("110".into())),
            ("cpu".to_string(), ApiQuantity("1500m".into())),
            ("ephemeral-storage".to_string(), ApiQuantity("1Gi".into())),
            ("kubernetes.io/unknown".to_string(), ApiQuantity("1".into())),
            ("unknown".to_string(), ApiQuantity("1".into())),
        ])));
        assert_eq!(r.get("example.com/gpu"), 2);
        assert_eq!(r.get("hugepages-2Mi"), 4 * MI);
        assert_eq!(r.allowed_pod_number, 110);
        assert_eq!(r.milli_cpu, 1500);
        assert_eq!(r.ephemeral_storage, 1 << 30);
        assert_eq!(r.get("kubernetes.io/unknown"), 0);
        assert_eq!(r.get("unknown"), 0);
        assert_eq!(r.scalar.len(), 2);
    }

    #[test]
    fn arithmetic() {
        let a = Resource {
            milli_cpu: 100,
            memory: 5,
            scalar: BTreeMap::from([("x/y".into(), 2)]),
            ..Default::default()
        };
        let b = Resource {
            milli_cpu: 300,
            memory: 1,
            scalar: BTreeMap::from([("x/y".into(), 1)]),
            ..Default::default()
        };
        let mut sum = a.clone();
        sum.add(&b);
        assert_eq!((sum.milli_cpu, sum.memory, sum.get("x/y")), (400, 6, 3));
        sum.sub(&b);
        assert_eq!(sum, a);
        let mut peak = a.clone();
        peak.max_with(&b);
        assert_eq!((peak.milli_cpu, peak.memory, peak.get("x/y")), (300, 5, 2));
        assert!(Resource::default().is_zero());
        assert!(!a.is_zero());
    }
}
