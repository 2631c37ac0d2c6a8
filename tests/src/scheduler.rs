//! A real kube-scheduler (its own `system:kube-scheduler` certificate)
//! beside a real apiserver and etcd, plus helpers to register nodes with
//! capacity and to see where pods land.

use crate::apiserver::ApiCluster;
use crate::bins;
use crate::hollow::{HollowNode, HollowNodes, HollowOptions};
use crate::net::free_port;
use crate::process::{Daemon, wait_until};
use serde_json::{Value, json};
use std::process::Command;
use std::time::Duration;

pub struct SchedCluster {
    /// Dropped after the scheduler (fields drop in order).
    pub scheduler: Daemon,
    pub health_port: u16,
    pub api: ApiCluster,
}

/// Starts kube-scheduler against `api` with `extra` flags.
pub fn spawn_scheduler(
    api: &ApiCluster,
    health_port: u16,
    extra: &[&str],
    log_name: &str,
) -> Daemon {
    let mut cmd = Command::new(bins::binary("kube-scheduler"));
    cmd.arg(format!(
        "--kubeconfig={}",
        api.kubeconfig("kube-scheduler").display()
    ))
    .arg("--bind-address=127.0.0.1")
    .arg(format!("--secure-port={health_port}"))
    .args(extra)
    .env("RUST_LOG", "info,scheduler=debug");
    Daemon::spawn(log_name, &mut cmd, api.work.path())
}

impl SchedCluster {
    /// etcd + apiserver + kube-scheduler (leader election off unless
    /// `extra` says otherwise), waiting for the scheduler's /readyz.
    pub fn start(extra: &[&str]) -> SchedCluster {
        let api = ApiCluster::start();
        let health_port = free_port();
        let mut flags = Vec::new();
        if !extra.iter().any(|f| f.starts_with("--leader-elect")) {
            flags.push("--leader-elect=false");
        }
        flags.extend_from_slice(extra);
        let scheduler = spawn_scheduler(&api, health_port, &flags, "kube-scheduler");
        let c = SchedCluster {
            scheduler,
            health_port,
            api,
        };
        let ready = wait_until(Duration::from_secs(30), || c.health("/readyz").0 == 200);
        assert!(
            ready,
            "kube-scheduler not ready:\n{}",
            c.scheduler.log_tail(40)
        );
        c
    }

    /// GET on the scheduler's health port (self-signed: verified against
    /// the certificate it presents, via curl's --cacert of that cert is not
    /// possible, so the health check pins the answer by status code only).
    pub fn health(&self, path: &str) -> (u16, String) {
        health_get(self.health_port, path)
    }

    pub fn kubectl_ok(&self, args: &[&str]) -> String {
        self.api.kubectl_ok(args)
    }

    /// Registers a node with `cpu`/`memory` allocatable, 110 pods, the
    /// hostname label plus `labels`, and `taints`.
    pub fn add_node(&self, name: &str, cpu: &str, memory: &str, labels: Value, taints: Value) {
        let mut all_labels = json!({"kubernetes.io/hostname": name, "kubernetes.io/os": "linux"});
        if let (Some(a), Some(extra)) = (all_labels.as_object_mut(), labels.as_object()) {
            a.extend(extra.clone());
        }
        let node = json!({"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": all_labels}, "spec": {"taints": taints}});
        let (ok, out, err) = self
            .api
            .kubectl_stdin(&["create", "-f", "-"], &node.to_string());
        assert!(ok, "create node {name}: {out}{err}");
        let status = json!({"status": {
            "capacity": {"cpu": cpu, "memory": memory, "pods": "110"},
            "allocatable": {"cpu": cpu, "memory": memory, "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status"}],
        }});
        self.kubectl_ok(&[
            "patch",
            "node",
            name,
            "--subresource=status",
            "--type=merge",
            "-p",
            &status.to_string(),
        ]);
    }

    /// Plays `nodes` with the hollow-node agent (registration, Leases,
    /// pods moved to Running), as kubelets would; the scheduler, not the
    /// agent, binds pods. Drop the agent before the cluster.
    pub fn hollow_nodes(&self, nodes: Vec<HollowNode>) -> HollowNodes {
        let agent = HollowNodes::start(
            &self.api.kubeconfig("admin"),
            nodes,
            HollowOptions {
                bind_unscheduled: false,
                ..HollowOptions::default()
            },
        );
        let names = agent.node_names();
        let ok = wait_until(Duration::from_secs(30), || {
            let out = self.kubectl_ok(&["get", "nodes", "-o", "name"]);
            names.iter().all(|n| out.contains(&format!("node/{n}")))
        });
        assert!(ok, "hollow nodes did not register: {names:?}");
        agent
    }

    /// A kube-controller-manager running `controllers` (a `--controllers`
    /// value) beside the scheduler; drop it before the cluster.
    pub fn controller_manager(&self, controllers: &str) -> Daemon {
        let flag = format!("--controllers={controllers}");
        crate::controller_manager::spawn(
            &self.api,
            "kube-controller-manager",
            &[&flag, "--leader-elect=false"],
        )
        .0
    }

    /// Applies a manifest with kubectl.
    pub fn apply(&self, manifest: &str) {
        let (ok, out, err) = self.api.kubectl_stdin(&["apply", "-f", "-"], manifest);
        assert!(ok, "kubectl apply: {out}{err}");
    }

    /// The pod's node as `kubectl get pod -o wide` shows it ("<none>" when
    /// unbound).
    pub fn node_of(&self, ns: &str, pod: &str) -> String {
        let out = self.kubectl_ok(&["get", "pod", pod, "-n", ns, "-o", "wide", "--no-headers"]);
        // NAME READY STATUS RESTARTS AGE IP NODE NOMINATED READINESS
        out.split_whitespace()
            .nth(6)
            .unwrap_or_default()
            .to_string()
    }

    /// Waits until the pod is bound; returns the node.
    pub fn wait_bound(&self, ns: &str, pod: &str) -> String {
        let mut node = String::new();
        let ok = wait_until(Duration::from_secs(30), || {
            node = self.node_of(ns, pod);
            !node.is_empty() && node != "<none>"
        });
        assert!(
            ok,
            "pod {ns}/{pod} not bound; scheduler log:\n{}",
            self.scheduler.log_tail(120)
        );
        node
    }

    /// The pod as JSON.
    pub fn pod(&self, ns: &str, pod: &str) -> Value {
        let out = self.kubectl_ok(&["get", "pod", pod, "-n", ns, "-o", "json"]);
        serde_json::from_str(&out).unwrap_or(Value::Null)
    }

    /// Messages of the pod's events with `reason`.
    pub fn events(&self, ns: &str, pod: &str, reason: &str) -> Vec<String> {
        let out = self.kubectl_ok(&[
            "get",
            "events",
            "-n",
            ns,
            "-o",
            "json",
            &format!("--field-selector=involvedObject.name={pod},reason={reason}"),
        ]);
        let v: Value = serde_json::from_str(&out).unwrap_or(Value::Null);
        v["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["message"].as_str().map(str::to_string))
            .collect()
    }

    /// Waits for an event with `reason` on the pod; returns its messages.
    pub fn wait_event(&self, ns: &str, pod: &str, reason: &str) -> Vec<String> {
        let mut msgs = Vec::new();
        let ok = wait_until(Duration::from_secs(30), || {
            msgs = self.events(ns, pod, reason);
            !msgs.is_empty()
        });
        assert!(
            ok,
            "no {reason} event for {ns}/{pod}; scheduler log:\n{}",
            self.scheduler.log_tail(120)
        );
        msgs
    }
}

/// An HTTPS GET to a daemon's self-signed health port on loopback. The
/// certificate is fetched first and then used as the only trusted CA, so
/// the request is verified (no skip-verify).
pub fn health_get(port: u16, path: &str) -> (u16, String) {
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(_) => return (0, String::new()),
    };
    let pem = dir.path().join("serving.pem");
    let fetch = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "openssl s_client -connect 127.0.0.1:{port} -showcerts </dev/null 2>/dev/null | openssl x509 > {} 2>/dev/null",
            pem.display()
        ))
        .status();
    if !fetch.map(|s| s.success()).unwrap_or(false) {
        return (0, String::new());
    }
    let out = Command::new(bins::system("curl"))
        .args(["-sS", "--max-time", "10", "--cacert"])
        .arg(&pem)
        .args([
            "--resolve",
            &format!("localhost:{port}:127.0.0.1"),
            "-w",
            "\n%{http_code}",
        ])
        .arg(format!("https://localhost:{port}{path}"))
        .output();
    let Ok(out) = out else {
        return (0, String::new());
    };
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", &text));
    (code.trim().parse().unwrap_or(0), body.to_string())
}
