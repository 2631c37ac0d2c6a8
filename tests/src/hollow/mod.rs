//! Hollow nodes: a test-support agent (not a product daemon) that plays the
//! kubelets of N fake Nodes. It registers each Node with its capacity,
//! labels and taints, renews its Lease in `kube-node-lease`, and moves pods
//! bound to it to Running and Ready with a podIP from the node's podCIDR.
//! Pods opt into other outcomes through annotations on their template:
//! `hollow.test/phase: Failed|Succeeded` ends them, `hollow.test/ready:
//! "false"` keeps them Running but not Ready (edit the annotation to flip
//! it). Pods being deleted are removed at once, as a kubelet does after its
//! containers stop. Until a scheduler exists, the agent can also bind
//! unscheduled pods itself, round-robin over the nodes that fit.
//!
//! The agent runs on its own thread and tokio runtime, so blocking tests
//! can use it; dropping [`HollowNodes`] stops it.

pub mod placement;
mod pods;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, Taint};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, Time};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use placement::NodeFacts;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One fake node.
#[derive(Debug, Clone)]
pub struct HollowNode {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub taints: Vec<Taint>,
    pub cpu: String,
    pub memory: String,
    pub pods: String,
}

impl HollowNode {
    pub fn new(name: &str) -> HollowNode {
        HollowNode {
            name: name.to_string(),
            labels: BTreeMap::new(),
            taints: Vec::new(),
            cpu: "4".into(),
            memory: "8Gi".into(),
            pods: "110".into(),
        }
    }

    pub fn label(mut self, key: &str, value: &str) -> HollowNode {
        self.labels.insert(key.into(), value.into());
        self
    }

    pub fn taint(mut self, key: &str, value: &str, effect: &str) -> HollowNode {
        self.taints.push(Taint {
            key: key.into(),
            value: Some(value.into()).filter(|v: &String| !v.is_empty()),
            effect: effect.into(),
            time_added: None,
        });
        self
    }

    fn facts(&self) -> NodeFacts {
        NodeFacts {
            name: self.name.clone(),
            labels: self.labels.clone(),
            taints: self.taints.clone(),
            unschedulable: false,
        }
    }
}

/// How the agent behaves.
#[derive(Debug, Clone)]
pub struct HollowOptions {
    /// Bind pods that have no node yet (the stand-in for a scheduler).
    pub bind_unscheduled: bool,
    /// Lease renewal interval (the kubelet's default is 10 s).
    pub lease_renew: Duration,
    /// Concurrent writes to the apiserver.
    pub parallelism: usize,
}

impl Default for HollowOptions {
    fn default() -> Self {
        HollowOptions {
            bind_unscheduled: true,
            lease_renew: Duration::from_secs(10),
            parallelism: 32,
        }
    }
}

/// A node the agent plays, and its runtime state.
#[derive(Debug, Clone)]
struct Played {
    node: HollowNode,
    index: usize,
    /// Silent nodes renew nothing and touch no pods (a node that died).
    silent: bool,
    registered: bool,
    pod_cidr: Option<String>,
    next_ip: u32,
}

#[derive(Default)]
struct State {
    nodes: BTreeMap<String, Played>,
    next_index: usize,
    round_robin: usize,
}

type Shared = Arc<Mutex<State>>;

/// The running agent; dropping it stops the agent (the Nodes stay).
pub struct HollowNodes {
    state: Shared,
    client: kube::Client,
    runtime: Option<tokio::runtime::Runtime>,
}

fn lock(state: &Shared) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

impl HollowNodes {
    /// Starts the agent with `kubeconfig` (an admin identity: it writes
    /// Nodes, Leases, pod status and bindings for every fake node).
    pub fn start(kubeconfig: &Path, nodes: Vec<HollowNode>, options: HollowOptions) -> HollowNodes {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("hollow runtime");
        let client = runtime.block_on(async {
            let options = client::config::ConnectOptions {
                kubeconfig: Some(kubeconfig.to_path_buf()),
                ..Default::default()
            };
            client::config::connect(&options).expect("kube client")
        });
        let state: Shared = Arc::new(Mutex::new(State::default()));
        let agent = HollowNodes {
            state: state.clone(),
            client: client.clone(),
            runtime: Some(runtime),
        };
        for n in nodes {
            agent.add_node(n);
        }
        agent.block_on(register_pending(client.clone(), state.clone()));
        agent.spawn(heartbeats(
            client.clone(),
            state.clone(),
            options.lease_renew,
        ));
        agent.spawn(pods::run(client, state, options));
        agent
    }

    fn spawn(&self, fut: impl std::future::Future<Output = ()> + Send + 'static) {
        if let Some(rt) = &self.runtime {
            rt.spawn(fut);
        }
    }

    fn block_on<T>(&self, fut: impl std::future::Future<Output = T>) -> Option<T> {
        self.runtime.as_ref().map(|rt| rt.block_on(fut))
    }

    /// A node joins: registered at once.
    pub fn add_node(&self, node: HollowNode) {
        {
            let mut s = lock(&self.state);
            let index = s.next_index;
            s.next_index += 1;
            s.nodes.insert(
                node.name.clone(),
                Played {
                    node,
                    index,
                    silent: false,
                    registered: false,
                    pod_cidr: None,
                    next_ip: 2,
                },
            );
        }
        if self.runtime.is_some() {
            self.block_on(register_pending(self.client.clone(), self.state.clone()));
        }
    }

    /// A node leaves: the agent stops playing it and deletes the Node.
    pub fn remove_node(&self, name: &str) {
        lock(&self.state).nodes.remove(name);
        let api: Api<Node> = Api::all(self.client.clone());
        let _ = self.block_on(async { api.delete(name, &DeleteParams::default()).await });
    }

    /// The node goes silent: no more Lease renewals, status or pod updates.
    pub fn silence(&self, name: &str) {
        if let Some(p) = lock(&self.state).nodes.get_mut(name) {
            p.silent = true;
        }
    }

    /// The node speaks again.
    pub fn revive(&self, name: &str) {
        if let Some(p) = lock(&self.state).nodes.get_mut(name) {
            p.silent = false;
        }
    }

    pub fn node_names(&self) -> Vec<String> {
        lock(&self.state).nodes.keys().cloned().collect()
    }
}

impl Drop for HollowNodes {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_timeout(Duration::from_secs(2));
        }
    }
}

/// The node's InternalIP: 10.4.7.21, .22, ... as in the seed's address plan,
/// then further /24s for large benchmarks.
fn host_ip(index: usize) -> String {
    let n = 21 + index;
    format!("10.4.{}.{}", 7 + n / 250, n % 250)
}

/// The podCIDR used until nodeipam has set one: 172.7.<21+i>.0/24 style,
/// spilling into 10.128.0.0/9 for large node counts.
fn fallback_pod_cidr(index: usize) -> String {
    let n = 21 + index;
    if n < 255 {
        format!("172.7.{n}.0/24")
    } else {
        format!("10.{}.{}.0/24", 128 + n / 256, n % 256)
    }
}

fn now() -> Time {
    Time(jiff::Timestamp::now())
}

fn node_status(p: &Played) -> serde_json::Value {
    let n = &p.node;
    let ready = json!({
        "type": "Ready", "status": "True", "reason": "KubeletReady",
        "message": "kubelet is posting ready status",
        "lastHeartbeatTime": now(), "lastTransitionTime": now(),
    });
    let pressure = |t: &str, reason: &str, msg: &str| {
        json!({
            "type": t, "status": "False", "reason": reason, "message": msg,
            "lastHeartbeatTime": now(), "lastTransitionTime": now(),
        })
    };
    json!({
        "capacity": {"cpu": n.cpu, "memory": n.memory, "pods": n.pods, "ephemeral-storage": "100Gi"},
        "allocatable": {"cpu": n.cpu, "memory": n.memory, "pods": n.pods, "ephemeral-storage": "100Gi"},
        "conditions": [
            pressure("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
            pressure("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            pressure("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            ready,
        ],
        "addresses": [
            {"type": "InternalIP", "address": host_ip(p.index)},
            {"type": "Hostname", "address": n.name},
        ],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        "nodeInfo": {
            "machineID": "", "systemUUID": "", "bootID": "", "kernelVersion": "hollow",
            "osImage": "hollow node", "containerRuntimeVersion": "hollow://1.0",
            "kubeletVersion": "v1.32.0", "kubeProxyVersion": "v1.32.0",
            "operatingSystem": "linux", "architecture": "amd64",
        },
    })
}

/// Registers every node not registered yet (create, or adopt an existing
/// Node of that name), and reads back its podCIDR.
async fn register_pending(client: kube::Client, state: Shared) {
    let pending: Vec<Played> = lock(&state)
        .nodes
        .values()
        .filter(|p| !p.registered)
        .cloned()
        .collect();
    let api: Api<Node> = Api::all(client.clone());
    for p in pending {
        let mut labels = p.node.labels.clone();
        labels.insert("kubernetes.io/hostname".into(), p.node.name.clone());
        labels.insert("kubernetes.io/os".into(), "linux".into());
        labels.insert("kubernetes.io/arch".into(), "amd64".into());
        let node: Node = match serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": p.node.name, "labels": labels},
            "spec": {"taints": p.node.taints},
        })) {
            Ok(n) => n,
            Err(_) => continue,
        };
        match api.create(&PostParams::default(), &node).await {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 409 => {}
            Err(e) => {
                eprintln!("hollow: cannot register node {}: {e}", p.node.name);
                continue;
            }
        }
        let status = json!({"status": node_status(&p)});
        if let Err(e) = api
            .patch_status(
                &p.node.name,
                &PatchParams::default(),
                &Patch::Merge(&status),
            )
            .await
        {
            eprintln!("hollow: cannot post status of {}: {e}", p.node.name);
        }
        renew_lease(&client, &p.node.name).await;
        if let Some(played) = lock(&state).nodes.get_mut(&p.node.name) {
            played.registered = true;
        }
    }
}

async fn renew_lease(client: &kube::Client, node: &str) {
    let api: Api<Lease> = Api::namespaced(client.clone(), "kube-node-lease");
    let renewed = json!({"spec": {"holderIdentity": node, "leaseDurationSeconds": 40,
        "renewTime": MicroTime(jiff::Timestamp::now())}});
    match api
        .patch(node, &PatchParams::default(), &Patch::Merge(&renewed))
        .await
    {
        Ok(_) => {}
        Err(kube::Error::Api(e)) if e.code == 404 => {
            let lease: Result<Lease, _> = serde_json::from_value(json!({
                "metadata": {"name": node, "namespace": "kube-node-lease"},
                "spec": renewed["spec"],
            }));
            if let Ok(lease) = lease
                && let Err(e) = api.create(&PostParams::default(), &lease).await
            {
                eprintln!("hollow: cannot create lease {node}: {e}");
            }
        }
        Err(e) => eprintln!("hollow: cannot renew lease {node}: {e}"),
    }
}

/// Renews Leases every `every`, posts node status every fourth round, and
/// picks up podCIDRs that nodeipam assigned.
async fn heartbeats(client: kube::Client, state: Shared, every: Duration) {
    let nodes: Api<Node> = Api::all(client.clone());
    let mut round = 0u64;
    loop {
        tokio::time::sleep(every).await;
        round += 1;
        register_pending(client.clone(), state.clone()).await;
        let speaking: Vec<Played> = lock(&state)
            .nodes
            .values()
            .filter(|p| !p.silent && p.registered)
            .cloned()
            .collect();
        let writes = speaking.into_iter().map(|p| {
            let client = client.clone();
            let nodes = nodes.clone();
            async move {
                renew_lease(&client, &p.node.name).await;
                if round.is_multiple_of(4) {
                    let status = json!({"status": node_status(&p)});
                    let _ = nodes
                        .patch_status(
                            &p.node.name,
                            &PatchParams::default(),
                            &Patch::Merge(&status),
                        )
                        .await;
                }
            }
        });
        futures::stream::iter(writes)
            .buffer_unordered(16)
            .for_each(|_| async {})
            .await;
    }
}

use futures::StreamExt;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_follow_the_seed_plan() {
        assert_eq!(host_ip(0), "10.4.7.21");
        assert_eq!(host_ip(1), "10.4.7.22");
        assert_eq!(fallback_pod_cidr(0), "172.7.21.0/24");
        assert_eq!(fallback_pod_cidr(1), "172.7.22.0/24");
        assert_eq!(fallback_pod_cidr(300), "10.129.65.0/24");
    }
}
