//! The pod side of the hollow kubelets: bind unscheduled pods (when asked),
//! report bound pods Running/Ready (or as their annotations ask), and
//! finish the deletion of pods being terminated. Level-triggered: each
//! pod's action is computed from the pod and the nodes, on every event of
//! the client crate's shared Pod informer and on its periodic resync.

use super::placement::fits;
use super::{HollowOptions, Played, Shared, fallback_pod_cidr, host_ip, lock};
use client::informer::{Event, SharedInformerFactory};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, Preconditions};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

/// Annotation asking for a terminal phase instead of Running.
pub const PHASE_ANNOTATION: &str = "hollow.test/phase";
/// Annotation `"false"` keeps the pod Running but not Ready.
pub const READY_ANNOTATION: &str = "hollow.test/ready";

#[derive(Debug, PartialEq)]
enum Action {
    Nothing,
    Bind(String),
    /// Report this phase and readiness.
    Report {
        phase: String,
        ready: bool,
    },
    Remove,
}

fn annotation<'a>(pod: &'a Pod, key: &str) -> Option<&'a str> {
    pod.metadata
        .annotations
        .as_ref()?
        .get(key)
        .map(String::as_str)
}

/// What the hollow kubelet (or binder) should do with `pod`.
fn decide(pod: &Pod, state: &mut super::State, bind: bool) -> Action {
    let spec = match &pod.spec {
        Some(s) => s,
        None => return Action::Nothing,
    };
    let node = spec.node_name.as_deref().unwrap_or("");
    if node.is_empty() {
        let default_scheduler = spec
            .scheduler_name
            .as_deref()
            .is_none_or(|s| s == "default-scheduler");
        if !bind || !default_scheduler || pod.metadata.deletion_timestamp.is_some() {
            return Action::Nothing;
        }
        let candidates: Vec<String> = state
            .nodes
            .values()
            .filter(|p| p.registered && !p.silent && fits(pod, &p.node.facts()))
            .map(|p| p.node.name.clone())
            .collect();
        if candidates.is_empty() {
            return Action::Nothing;
        }
        state.round_robin = state.round_robin.wrapping_add(1);
        return Action::Bind(candidates[state.round_robin % candidates.len()].clone());
    }
    match state.nodes.get(node) {
        Some(p) if !p.silent => {}
        _ => return Action::Nothing,
    }
    if pod.metadata.deletion_timestamp.is_some() {
        return Action::Remove;
    }
    let status = pod.status.as_ref();
    let phase = status.and_then(|s| s.phase.as_deref()).unwrap_or("Pending");
    if phase == "Succeeded" || phase == "Failed" {
        return Action::Nothing;
    }
    let want_phase = match annotation(pod, PHASE_ANNOTATION) {
        Some(p @ ("Failed" | "Succeeded")) => p.to_string(),
        _ => "Running".to_string(),
    };
    let want_ready = want_phase == "Running" && annotation(pod, READY_ANNOTATION) != Some("false");
    let ready_now = status
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == "Ready"))
        .is_some_and(|c| c.status == "True");
    if phase == want_phase && ready_now == want_ready {
        return Action::Nothing;
    }
    Action::Report {
        phase: want_phase,
        ready: want_ready,
    }
}

/// The `n`th address of `cidr` (IPv4).
fn address_in(cidr: &str, n: u32) -> Option<String> {
    let (base, bits) = cidr.split_once('/')?;
    let base: Ipv4Addr = base.parse().ok()?;
    let bits: u32 = bits.parse().ok()?;
    let size = 1u32.checked_shl(32 - bits).unwrap_or(u32::MAX);
    let offset = 2 + n % size.saturating_sub(3).max(1);
    Some(Ipv4Addr::from(u32::from(base) + offset).to_string())
}

fn allocate_ip(p: &mut Played) -> String {
    let cidr = p
        .pod_cidr
        .clone()
        .unwrap_or_else(|| fallback_pod_cidr(p.index));
    p.next_ip = p.next_ip.wrapping_add(1);
    address_in(&cidr, p.next_ip).unwrap_or_else(|| "172.7.0.2".into())
}

fn condition(t: &str, ok: bool, now: &Value) -> Value {
    json!({"type": t, "status": if ok { "True" } else { "False" }, "lastProbeTime": null, "lastTransitionTime": now})
}

/// The status patch a kubelet would write for `phase`/`ready`.
fn status_patch(pod: &Pod, phase: &str, ready: bool, pod_ip: &str, host_ip: &str) -> Value {
    let now = json!(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
        jiff::Timestamp::now()
    ));
    let running = phase == "Running";
    let containers: Vec<Value> = pod
        .spec
        .as_ref()
        .map(|s| s.containers.as_slice())
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let state = if running {
                json!({"running": {"startedAt": now}})
            } else {
                let code = if phase == "Succeeded" { 0 } else { 1 };
                let reason = if phase == "Succeeded" { "Completed" } else { "Error" };
                json!({"terminated": {"exitCode": code, "reason": reason, "startedAt": now, "finishedAt": now}})
            };
            json!({
                "name": c.name, "image": c.image.clone().unwrap_or_default(),
                "imageID": "", "containerID": format!("containerd://hollow{i:02}{}", pod.metadata.uid.clone().unwrap_or_default().replace('-', "")),
                "ready": ready, "started": running, "restartCount": 0, "state": state,
            })
        })
        .collect();
    let existing_ip = pod.status.as_ref().and_then(|s| s.pod_ip.clone());
    let ip = existing_ip.unwrap_or_else(|| pod_ip.to_string());
    json!({"status": {
        "phase": phase,
        "conditions": [
            condition("PodReadyToStartContainers", running, &now),
            condition("Initialized", true, &now),
            condition("Ready", ready, &now),
            condition("ContainersReady", ready, &now),
            condition("PodScheduled", true, &now),
        ],
        "hostIP": host_ip, "hostIPs": [{"ip": host_ip}],
        "podIP": ip, "podIPs": [{"ip": ip}],
        "startTime": pod.status.as_ref().and_then(|s| s.start_time.clone()).map(|t| json!(t)).unwrap_or(now.clone()),
        "containerStatuses": containers,
        "qosClass": "BestEffort",
    }})
}

async fn act(
    client: kube::Client,
    state: Shared,
    pod: Arc<Pod>,
    action: Action,
) -> Result<(), kube::Error> {
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    let name = pod.metadata.name.clone().unwrap_or_default();
    let api: Api<Pod> = Api::namespaced(client, &ns);
    match action {
        Action::Nothing => Ok(()),
        Action::Bind(node) => {
            let binding = json!({"apiVersion": "v1", "kind": "Binding",
                "metadata": {"name": name, "namespace": ns},
                "target": {"apiVersion": "v1", "kind": "Node", "name": node}});
            api.create_subresource::<_, Value>("binding", &name, &PostParams::default(), &binding)
                .await
                .map(|_| ())
        }
        Action::Report { phase, ready } => {
            let node = pod
                .spec
                .as_ref()
                .and_then(|s| s.node_name.clone())
                .unwrap_or_default();
            let (ip, host) = {
                let mut s = lock(&state);
                match s.nodes.get_mut(&node) {
                    Some(p) => (allocate_ip(p), host_ip(p.index)),
                    None => return Ok(()),
                }
            };
            let patch = status_patch(&pod, &phase, ready, &ip, &host);
            api.patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .map(|_| ())
        }
        Action::Remove => {
            let dp = DeleteParams {
                grace_period_seconds: Some(0),
                preconditions: Some(Preconditions {
                    uid: pod.metadata.uid.clone(),
                    resource_version: None,
                }),
                ..Default::default()
            };
            api.delete(&name, &dp).await.map(|_| ())
        }
    }
}

/// How often every cached pod is looked at again (what a watch event
/// alone would not retry: a write that failed, a node that came back).
const RESYNC: Duration = Duration::from_secs(2);

/// Records the podCIDR nodeipam gave one of our nodes.
fn record_pod_cidr(state: &Shared, node: &Node) {
    let name = node.metadata.name.as_deref().unwrap_or_default();
    let cidr = node.spec.as_ref().and_then(|s| s.pod_cidr.clone());
    if let (Some(p), Some(cidr)) = (lock(state).nodes.get_mut(name), cidr) {
        p.pod_cidr = Some(cidr);
    }
}

pub(super) async fn run(client: kube::Client, state: Shared, options: HollowOptions) {
    // The agent's own informers, as a kubelet has its own process's.
    let informers = SharedInformerFactory::with_options(client.clone(), Some(RESYNC), true);
    let node_state = state.clone();
    informers.get::<Node>().spawn_handler(move |e| {
        if let Event::Added(n) | Event::Updated { new: n, .. } = e {
            record_pod_cidr(&node_state, &n);
        }
    });
    let limit = Arc::new(Semaphore::new(options.parallelism.max(1)));
    let inflight: Arc<Mutex<HashSet<String>>> = Arc::default();
    let dispatch = move |pod: Arc<Pod>| {
        let action = decide(&pod, &mut lock(&state), options.bind_unscheduled);
        if action == Action::Nothing {
            return;
        }
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        if !inflight
            .lock()
            .map(|mut s| s.insert(uid.clone()))
            .unwrap_or(false)
        {
            return;
        }
        let (client, state, limit, inflight) = (
            client.clone(),
            state.clone(),
            limit.clone(),
            inflight.clone(),
        );
        tokio::spawn(async move {
            let _permit = limit.acquire_owned().await;
            if let Err(e) = act(client, state, pod, action).await
                && !matches!(&e, kube::Error::Api(s) if s.code == 404 || s.code == 409)
            {
                eprintln!("hollow: pod action failed: {e}");
            }
            // Let the watch deliver our own write before we look again.
            tokio::time::sleep(Duration::from_millis(300)).await;
            if let Ok(mut s) = inflight.lock() {
                s.remove(&uid);
            }
        });
    };
    // Deletions need nothing: a deleted pod has no kubelet work left.
    informers.get::<Pod>().spawn_handler(move |e| {
        if let Event::Added(p) | Event::Updated { new: p, .. } = e {
            dispatch(p);
        }
    });
    // The informers live as long as the agent's runtime.
    std::future::pending::<()>().await;
}

#[cfg(test)]
mod tests {
    use super::super::{HollowNode, State};
    use super::*;

    fn state_with(names: &[&str]) -> State {
        let mut s = State::default();
        for (i, n) in names.iter().enumerate() {
            s.nodes.insert(
                n.to_string(),
                Played {
                    node: HollowNode::new(n),
                    index: i,
                    silent: false,
                    registered: true,
                    pod_cidr: None,
                    next_ip: 2,
                },
            );
        }
        s
    }

    fn pod(v: Value) -> Pod {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn actions() {
        let mut s = state_with(&["a", "b"]);
        let unbound =
            pod(json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}}));
        let first = decide(&unbound, &mut s, true);
        let second = decide(&unbound, &mut s, true);
        assert!(matches!(first, Action::Bind(_)));
        assert_ne!(first, second, "round robin");
        assert_eq!(decide(&unbound, &mut s, false), Action::Nothing);

        let bound = pod(
            json!({"metadata": {"name": "p"}, "spec": {"nodeName": "a", "containers": [{"name": "c"}]}}),
        );
        assert_eq!(
            decide(&bound, &mut s, true),
            Action::Report {
                phase: "Running".into(),
                ready: true
            }
        );
        let elsewhere = pod(
            json!({"metadata": {"name": "p"}, "spec": {"nodeName": "zz", "containers": [{"name": "c"}]}}),
        );
        assert_eq!(decide(&elsewhere, &mut s, true), Action::Nothing);
        let failing = pod(
            json!({"metadata": {"name": "p", "annotations": {"hollow.test/phase": "Failed"}},
            "spec": {"nodeName": "a", "containers": [{"name": "c"}]}}),
        );
        assert_eq!(
            decide(&failing, &mut s, true),
            Action::Report {
                phase: "Failed".into(),
                ready: false
            }
        );
        let running_ready = pod(
            json!({"metadata": {"name": "p"}, "spec": {"nodeName": "a", "containers": [{"name": "c"}]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}),
        );
        assert_eq!(decide(&running_ready, &mut s, true), Action::Nothing);
        let unready = pod(
            json!({"metadata": {"name": "p", "annotations": {"hollow.test/ready": "false"}},
            "spec": {"nodeName": "a", "containers": [{"name": "c"}]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}),
        );
        assert_eq!(
            decide(&unready, &mut s, true),
            Action::Report {
                phase: "Running".into(),
                ready: false
            }
        );
        let deleting = pod(
            json!({"metadata": {"name": "p", "deletionTimestamp": "2024-01-01T00:00:00Z"},
            "spec": {"nodeName": "a", "containers": [{"name": "c"}]}}),
        );
        assert_eq!(decide(&deleting, &mut s, true), Action::Remove);
        s.nodes.get_mut("a").unwrap().silent = true;
        assert_eq!(decide(&deleting, &mut s, true), Action::Nothing);
    }

    #[test]
    fn addresses() {
        assert_eq!(
            address_in("172.7.21.0/24", 1).as_deref(),
            Some("172.7.21.3")
        );
        assert_eq!(
            address_in("10.244.0.0/16", 300).as_deref(),
            Some("10.244.1.46")
        );
    }
}
