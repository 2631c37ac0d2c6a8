//! kube-scheduler benchmark in the style of upstream's scheduler_perf:
//! many nodes and pods through our real apiserver and etcd on this
//! machine. Prints figures; it never fails on speed.
//!
//! Per workload the pods are created while no scheduler runs, then a
//! fresh kube-scheduler starts and the clock runs until a watch has seen
//! every pod bound, so the figures measure the scheduler, not pod
//! creation:
//! - `created/s`: how fast 64 concurrent clients create pods through the
//!   apiserver (no scheduler running): the API's ceiling on this machine.
//! - `bound/s`: pods bound per second from the scheduler's process start
//!   to the last binding (includes listing the nodes and pods).
//! - `steady/s`: pods bound per second from the first binding to the last
//!   (scheduler_perf's steady state).
//! - `first`: from process start to the first binding (start-up).
//! - the scheduler's resident memory and its own mean algorithm time.
//!
//! Run it with release binaries:
//!
//! ```sh
//! cargo build --release -p apiserver -p certs -p scheduler --bins
//! cargo bench -p tests --bench scheduler
//! ```
//!
//! `BENCH_NODES` (default 5000) and `BENCH_PODS` (default 10000) set the
//! sizes; the affinity, anti-affinity and spreading variants use
//! `BENCH_PODS / 10` pods each, on the same nodes.
//!
//! Reference: upstream's CI floor for SchedulingBasic at 5,000 nodes /
//! 10,000 pods is 680 pods/s (in-process apiserver, larger machine); the
//! goal reported against here is >= 1,000 pods/s and RSS <= 200 MiB.

use harness::apiserver::ApiCluster;
use harness::client::ApiClient;
use harness::net::free_port;
use harness::scheduler::{health_get, spawn_scheduler};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

const CONCURRENCY: usize = 64;

/// A workload: its name, how many pods, and the extra pod spec of pod i.
type Workload = (&'static str, usize, fn(usize) -> Value);
const ZONES: usize = 10;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn main() -> anyhow::Result<()> {
    let nodes = env("BENCH_NODES", 5000);
    let pods = env("BENCH_PODS", 10_000);
    let cluster = ApiCluster::start();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let admin = rt.block_on(ApiClient::connect(&cluster.kubeconfig("admin")))?;

    println!("kube-scheduler benchmark: {nodes} nodes, {pods} pods (SchedulingBasic)");
    let t = Instant::now();
    rt.block_on(create_nodes(&admin, nodes))?;
    println!(
        "created {nodes} nodes in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    println!(
        "{:<26} {:>11} {:>10} {:>9} {:>9} {:>8} {:>8} {:>10}",
        "workload", "bound", "created/s", "bound/s", "steady/s", "first", "RSS MiB", "algo mean"
    );

    let workloads: Vec<Workload> = vec![
        ("SchedulingBasic", pods, |_| json!({})),
        ("SchedulingNodeAffinity", pods / 10, |_| {
            json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [
                    {"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["zone-1", "zone-2"]}]}]}}}})
        }),
        ("SchedulingPodAntiAffinity", pods / 10, |_| {
            json!({"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                {"labelSelector": {"matchLabels": {"group": "anti"}}, "topologyKey": "kubernetes.io/hostname"}]}}})
        }),
        ("SchedulingTopologySpread", pods / 10, |_| {
            json!({"topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": {"group": "spread"}}}]})
        }),
    ];
    for (i, (name, count, extra)) in workloads.into_iter().enumerate() {
        let ns = format!("bench-{i}");
        let group = match name {
            "SchedulingPodAntiAffinity" => "anti",
            "SchedulingTopologySpread" => "spread",
            _ => "plain",
        };
        let r = rt.block_on(run_workload(&admin, &cluster, &ns, group, count, extra))?;
        println!(
            "{:<26} {:>11} {:>10.0} {:>9.0} {:>9.0} {:>8} {:>8.1} {:>10}",
            name,
            format!("{}/{}", r.bound, count),
            r.created_rate,
            r.rate,
            r.steady_rate,
            format!("{:.1} s", r.first.as_secs_f64()),
            r.rss_mib,
            format!("{:.3} ms", r.algorithm_ms),
        );
        if let Some(log) = r.exited {
            anyhow::bail!("kube-scheduler exited:\n{log}");
        }
    }
    println!();
    println!(
        "created/s = API pod creation with no scheduler running; bound/s = scheduler process start to last binding;"
    );
    println!(
        "steady/s = first to last binding; algo mean = filter+score per attempt (scheduler_scheduling_algorithm_duration_seconds)"
    );
    println!(
        "reference: upstream CI floor 680 pods/s (SchedulingBasic 5000/10000); goal >= 1000 pods/s, RSS <= 200 MiB"
    );
    Ok(())
}

/// The mean of a Prometheus histogram in the scheduler's /metrics, in ms.
fn histogram_mean_ms(metrics: &str, name: &str) -> f64 {
    let metric = |n: &str| {
        metrics
            .lines()
            .find(|l| l.starts_with(n))
            .and_then(|l| l.split_whitespace().last())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let (sum, n) = (
        metric(&format!("{name}_sum")),
        metric(&format!("{name}_count")),
    );
    if n > 0.0 { sum / n * 1000.0 } else { 0.0 }
}

async fn create_nodes(client: &ApiClient, n: usize) -> anyhow::Result<()> {
    run_parallel(n, {
        let client = client.clone();
        move |i| {
            let client = client.clone();
            async move {
                let name = format!("node-{i}");
                let zone = format!("zone-{}", i % ZONES);
                let node = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": {
                    "kubernetes.io/hostname": name, "topology.kubernetes.io/zone": zone, "kubernetes.io/os": "linux"}}});
                let (code, body) = client.call("POST", "/api/v1/nodes", Some(node.to_string().into_bytes())).await?;
                anyhow::ensure!(code == 201, "node create {code}: {}", String::from_utf8_lossy(&body));
                // The kubelet's part: report capacity through the status subresource.
                let mut node: Value = serde_json::from_slice(&body)?;
                node["status"] = json!({
                    "capacity": {"cpu": "4", "memory": "32Gi", "pods": "110"},
                    "allocatable": {"cpu": "4", "memory": "32Gi", "pods": "110"},
                    "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}]});
                let (code, body) = client
                    .call("PUT", &format!("/api/v1/nodes/{name}/status"), Some(node.to_string().into_bytes()))
                    .await?;
                anyhow::ensure!(code == 200, "node status update {code}: {}", String::from_utf8_lossy(&body));
                Ok(())
            }
        }
    })
    .await
}

struct WorkloadResult {
    /// Pods the load generator created per second, no scheduler running.
    created_rate: f64,
    bound: usize,
    /// Scheduler start to last binding.
    rate: f64,
    /// First binding to last binding.
    steady_rate: f64,
    /// Scheduler start to first binding.
    first: Duration,
    rss_mib: f64,
    algorithm_ms: f64,
    /// The scheduler's log tail if it died.
    exited: Option<String>,
}

/// Creates `count` pods in `ns` with no scheduler running, then starts a
/// kube-scheduler and waits until a watch has seen each pod bound.
async fn run_workload(
    client: &ApiClient,
    cluster: &ApiCluster,
    ns: &str,
    group: &str,
    count: usize,
    extra: fn(usize) -> Value,
) -> anyhow::Result<WorkloadResult> {
    let (code, _) = client
        .call(
            "POST",
            "/api/v1/namespaces",
            Some(
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
                    .to_string()
                    .into_bytes(),
            ),
        )
        .await?;
    anyhow::ensure!(code == 201 || code == 409, "namespace create {code}");
    let (_, list) = client
        .call(
            "GET",
            &format!("/api/v1/namespaces/{ns}/pods?limit=1"),
            None,
        )
        .await?;
    let rv = serde_json::from_slice::<Value>(&list)?["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or("0")
        .to_string();
    let bound: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();

    let resp = client
        .send("GET", &format!("/api/v1/namespaces/{ns}/pods?watch=1&resourceVersion={rv}&allowWatchBookmarks=false&timeoutSeconds=3600"), None)
        .await?;
    anyhow::ensure!(resp.status() == 200, "watch answered {}", resp.status());
    let watch = {
        let bound = bound.clone();
        tokio::spawn(async move {
            let mut body = resp.into_body();
            let mut buf = Vec::new();
            while let Some(Ok(frame)) = body.frame().await {
                let Some(data) = frame.data_ref() else {
                    continue;
                };
                buf.extend_from_slice(data);
                while let Some(pos) = buf.iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = buf.drain(..=pos).collect();
                    let now = Instant::now();
                    let Ok(ev) = serde_json::from_slice::<Value>(&line) else {
                        continue;
                    };
                    if ev["object"]["spec"]["nodeName"]
                        .as_str()
                        .is_some_and(|n| !n.is_empty())
                    {
                        let name = ev["object"]["metadata"]["name"]
                            .as_str()
                            .unwrap_or_default()
                            .to_string();
                        let mut b = bound.lock().await;
                        b.entry(name).or_insert(now);
                        if b.len() >= count {
                            return;
                        }
                    }
                }
            }
        })
    };

    let start = Instant::now();
    let ns_owned = ns.to_string();
    let group = group.to_string();
    run_parallel(count, {
        let client = client.clone();
        move |i| {
            let (client, ns, group) = (client.clone(), ns_owned.clone(), group.clone());
            async move {
                let name = format!("pod-{i}");
                let mut spec = json!({"containers": [{"name": "pause", "image": "registry.k8s.io/pause:3.10",
                    "resources": {"requests": {"cpu": "100m", "memory": "500Mi"}}}]});
                if let (Some(s), Some(e)) = (spec.as_object_mut(), extra(i).as_object()) {
                    s.extend(e.clone());
                }
                let pod = json!({"apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": name, "namespace": ns, "labels": {"group": group}}, "spec": spec});
                let (code, body) = client.call("POST", &format!("/api/v1/namespaces/{ns}/pods"), Some(pod.to_string().into_bytes())).await?;
                anyhow::ensure!(code == 201, "pod create {code}: {}", String::from_utf8_lossy(&body));
                Ok(())
            }
        }
    })
    .await?;
    let created_rate = count as f64 / start.elapsed().as_secs_f64().max(1e-9);

    let port = free_port();
    let started = Instant::now();
    let mut sched = spawn_scheduler(
        cluster,
        port,
        &["--leader-elect=false"],
        &format!("kube-scheduler-{ns}"),
    );
    let pid = sched.pid();
    let deadline = Duration::from_secs(120 + count as u64 / 20);
    let _ = tokio::time::timeout(deadline, watch).await;
    let bound = bound.lock().await;
    let first = bound.values().min().copied().unwrap_or(started);
    let last = bound.values().max().copied().unwrap_or(started);
    let (_, metrics) = health_get(port, "/metrics");
    let exited = (!sched.is_running()).then(|| sched.log_tail(30));
    let result = WorkloadResult {
        created_rate,
        bound: bound.len(),
        rate: bound.len() as f64 / last.duration_since(started).as_secs_f64().max(1e-9),
        steady_rate: bound.len().saturating_sub(1) as f64
            / last.duration_since(first).as_secs_f64().max(1e-9),
        first: first.saturating_duration_since(started),
        rss_mib: rss_mib(pid, "VmHWM:"),
        algorithm_ms: histogram_mean_ms(
            &metrics,
            "scheduler_scheduling_algorithm_duration_seconds",
        ),
        exited,
    };
    drop(sched);
    Ok(result)
}

async fn run_parallel<F, Fut>(n: usize, op: F) -> anyhow::Result<()>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let op = Arc::new(op);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let (op, next) = (op.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= n {
                    return anyhow::Ok(());
                }
                op(i).await?;
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(())
}

fn rss_mib(pid: u32, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with(field)).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|kb| kb.parse::<f64>().ok())
            })
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}
