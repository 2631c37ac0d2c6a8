//! Watch fan-out benchmark: per-node watchers of pods
//! (`fieldSelector=spec.nodeName=<node>`, what every kubelet opens) plus
//! 10 cluster-wide watchers, while pods are created and then bound to the
//! nodes. Prints delivery latency (bind → the right node's watcher), the
//! apiserver's CPU per etcd event (utime+stime from /proc/<pid>/stat), its
//! RSS and the etcd watches open — with the watch cache, and beside it the
//! same run with `--watch-cache=false` (every API watch its own etcd
//! watch: how the apiserver served watches before the cache), both in one
//! run of this program. It never fails on speed.
//!
//! ```sh
//! cargo build --workspace --bins
//! cargo build -p tests --bench watch_fanout    # the debug binaries
//! BENCH_SCALE=1 target/debug/deps/watch_fanout-<hash>
//! # or in release: cargo build --release --workspace --bins &&
//! #                cargo bench -p tests --bench watch_fanout
//! ```
//!
//! `BENCH_SCALE` (default 1.0: 1,000 nodes, 10,000 pods) scales nodes and
//! pods for the cached run; `BENCH_BEFORE_SCALE` (default 0.1) those of
//! the uncached run (1,000 etcd watches each decoding every event is slow
//! enough that the full scale would take hours); `BENCH_MODES`
//! (`cache,nocache`) picks the runs.

use harness::apiserver::ApiCluster;
use harness::client::ApiClient;
use harness::process::{cpu_time, percentile, rss_mib};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

const CLUSTER_WIDE: usize = 10;
/// Watches per HTTP/2 connection (below the server's stream limit).
const PER_CONNECTION: usize = 100;
const CONCURRENCY: usize = 16;
/// LISTs of every pod per kind of read.
const LISTS: usize = 5;

fn env_f64(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn main() -> anyhow::Result<()> {
    let scale = env_f64("BENCH_SCALE", 1.0);
    let before_scale = env_f64("BENCH_BEFORE_SCALE", 0.1);
    let modes = std::env::var("BENCH_MODES").unwrap_or_else(|_| "cache,nocache".into());
    let profile = if harness::bins::target_dir().ends_with("release") {
        "release"
    } else {
        "debug"
    };
    println!("watch fan-out benchmark ({profile} build of kube-apiserver)");
    println!(
        "{:<26} {:>6} {:>7} {:>9} {:>10} {:>10} {:>14} {:>12} {:>10} {:>12}",
        "run",
        "nodes",
        "pods",
        "events",
        "p50",
        "p99",
        "CPU µs/event",
        "delivered",
        "RSS MiB",
        "etcd watches"
    );
    let mut lists = Vec::new();
    for mode in modes.split(',') {
        let (args, s): (&[&str], f64) = match mode {
            "cache" => (&[], scale),
            "nocache" => (&["--watch-cache=false"], before_scale),
            other => anyhow::bail!("unknown mode {other}"),
        };
        let nodes = ((1000.0 * s).round() as usize).max(1);
        let pods = ((10000.0 * s).round() as usize).max(1);
        let r = run(args, nodes, pods)?;
        println!(
            "{:<26} {:>6} {:>7} {:>9} {:>10} {:>10} {:>14.0} {:>12} {:>10.1} {:>12}",
            if mode == "cache" {
                "watch cache"
            } else {
                "--watch-cache=false"
            },
            nodes,
            pods,
            r.events,
            ms(r.p50),
            ms(r.p99),
            r.cpu_us_per_event,
            format!("{}/{}", r.delivered, pods),
            r.rss_mib,
            format!(
                "{:.0} (+{:.0})",
                r.etcd_watchers,
                r.etcd_watchers - r.etcd_watchers_idle
            ),
        );
        lists.push(format!(
            "{mode:<8} LIST of {pods} pods: resourceVersion=0 p50 {} p99 {}; consistent p50 {} p99 {}",
            ms(r.list_rv0.0),
            ms(r.list_rv0.1),
            ms(r.list_consistent.0),
            ms(r.list_consistent.1)
        ));
    }
    println!();
    for l in &lists {
        println!("{l}");
    }
    println!();
    println!(
        "events = etcd events of pods (create + bind); CPU = apiserver utime+stime over creates and binds / events;"
    );
    println!(
        "etcd watches = etcd_debugging_mvcc_watcher_total during the run (+ the growth the API watches caused)"
    );
    println!("goals: RSS <= 200 MiB at 10,000 pods; one etcd watch per resource");
    Ok(())
}

struct Figures {
    events: usize,
    p50: Duration,
    p99: Duration,
    cpu_us_per_event: f64,
    delivered: usize,
    rss_mib: f64,
    etcd_watchers: f64,
    etcd_watchers_idle: f64,
    list_rv0: (Duration, Duration),
    list_consistent: (Duration, Duration),
}

fn run(args: &[&str], nodes: usize, pods: usize) -> anyhow::Result<Figures> {
    let cluster = ApiCluster::start_with(args);
    let pid = cluster.apiserver.pid();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let admin = ApiClient::connect(&cluster.kubeconfig("admin")).await?;
        let ns = "bench";
        let body = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
        admin.call("POST", "/api/v1/namespaces", Some(serde_json::to_vec(&body)?)).await?;
        let (_, list) = admin.call("GET", "/api/v1/pods", None).await?;
        let rv = serde_json::from_slice::<Value>(&list)?["metadata"]["resourceVersion"]
            .as_str()
            .unwrap_or("0")
            .to_string();
        let idle_watchers = cluster.etcd_watchers();

        // The watchers: one per node, plus the cluster-wide ones.
        let bound_at: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
        let latencies: Arc<Mutex<Vec<Duration>>> = Arc::default();
        let delivered = Arc::new(AtomicUsize::new(0));
        let mut conns = Vec::new();
        let mut tasks = Vec::new();
        for w in 0..nodes + CLUSTER_WIDE {
            if w % PER_CONNECTION == 0 {
                conns.push(ApiClient::connect(&cluster.kubeconfig("admin")).await?);
            }
            let client = conns.last().expect("a connection");
            let node = (w < nodes).then(|| format!("node-{w}"));
            let sel = node
                .as_ref()
                .map(|n| format!("&fieldSelector=spec.nodeName%3D{n}"))
                .unwrap_or_default();
            let path = format!("/api/v1/pods?watch=1&resourceVersion={rv}&timeoutSeconds=1800{sel}");
            let resp = client.send("GET", &path, None).await?;
            anyhow::ensure!(resp.status() == 200, "watch answered {}", resp.status());
            let (bound_at, latencies, delivered) = (bound_at.clone(), latencies.clone(), delivered.clone());
            tasks.push(tokio::spawn(async move {
                let mut body = resp.into_body();
                let mut buf = Vec::new();
                while let Some(Ok(frame)) = body.frame().await {
                    let Some(data) = frame.data_ref() else { continue };
                    buf.extend_from_slice(data);
                    while let Some(pos) = buf.iter().position(|b| *b == b'\n') {
                        let line: Vec<u8> = buf.drain(..=pos).collect();
                        let Some(node) = &node else { continue };
                        let now = Instant::now();
                        let Ok(ev) = serde_json::from_slice::<Value>(&line) else { continue };
                        if ev["object"]["spec"]["nodeName"].as_str() != Some(node) {
                            continue;
                        }
                        let name = ev["object"]["metadata"]["name"].as_str().unwrap_or_default();
                        if let Some(t) = bound_at.lock().await.get(name) {
                            latencies.lock().await.push(now - *t);
                            delivered.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            }));
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        let watchers_open = cluster.etcd_watchers();

        // Creates, then binds; CPU over both.
        let cpu0 = cpu_time(pid);
        let next = Arc::new(AtomicUsize::new(0));
        let mut workers = Vec::new();
        for _ in 0..CONCURRENCY {
            let (admin, next) = (admin.clone(), next.clone());
            workers.push(tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= pods {
                        return anyhow::Ok(());
                    }
                    let (code, out) = admin
                        .call("POST", &format!("/api/v1/namespaces/{ns}/pods"), Some(pod(&format!("pod-{i}"), ns)))
                        .await?;
                    anyhow::ensure!(code == 201, "create answered {code}: {}", String::from_utf8_lossy(&out));
                }
            }));
        }
        for w in workers {
            w.await??;
        }
        let next = Arc::new(AtomicUsize::new(0));
        let mut workers = Vec::new();
        for _ in 0..CONCURRENCY {
            let (admin, next, bound_at) = (admin.clone(), next.clone(), bound_at.clone());
            workers.push(tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= pods {
                        return anyhow::Ok(());
                    }
                    let name = format!("pod-{i}");
                    let binding = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": name},
                        "target": {"apiVersion": "v1", "kind": "Node", "name": format!("node-{}", i % nodes)}});
                    bound_at.lock().await.insert(name.clone(), Instant::now());
                    let (code, out) = admin
                        .call("POST", &format!("/api/v1/namespaces/{ns}/pods/{name}/binding"), Some(serde_json::to_vec(&binding)?))
                        .await?;
                    anyhow::ensure!(code == 201, "bind answered {code}: {}", String::from_utf8_lossy(&out));
                }
            }));
        }
        for w in workers {
            w.await??;
        }
        // Until every bind reached its node's watcher (or 120 s).
        let deadline = Instant::now() + Duration::from_secs(120);
        while delivered.load(Ordering::Relaxed) < pods && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let cpu = cpu_time(pid) - cpu0;
        let rss_mib = rss_mib(pid);
        // LIST of every pod: at resourceVersion=0 (the cache when it is on)
        // and consistent (etcd), alternating.
        let (mut cached, mut consistent) = (Vec::new(), Vec::new());
        for _ in 0..LISTS {
            for (rv, out) in [("&resourceVersion=0", &mut cached), ("", &mut consistent)] {
                let t = Instant::now();
                let (code, body) = admin.call("GET", &format!("/api/v1/namespaces/{ns}/pods?limit=0{rv}"), None).await?;
                anyhow::ensure!(code == 200, "LIST answered {code}");
                out.push(t.elapsed());
                let n = serde_json::from_slice::<Value>(&body)?["items"].as_array().map_or(0, Vec::len);
                anyhow::ensure!(n == pods, "LIST returned {n} pods");
            }
        }
        for t in tasks {
            t.abort();
        }
        let lat = latencies.lock().await.clone();
        let events = 2 * pods;
        anyhow::Ok(Figures {
            events,
            p50: percentile(&lat, 50.0),
            p99: percentile(&lat, 99.0),
            cpu_us_per_event: cpu.as_secs_f64() * 1e6 / events as f64,
            delivered: delivered.load(Ordering::Relaxed),
            rss_mib,
            etcd_watchers: watchers_open,
            etcd_watchers_idle: idle_watchers,
            list_rv0: (percentile(&cached, 50.0), percentile(&cached, 99.0)),
            list_consistent: (percentile(&consistent, 50.0), percentile(&consistent, 99.0)),
        })
    })
}

fn pod(name: &str, ns: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": {"app": "bench"}},
        "spec": {"containers": [{"name": "c", "image": "nginx:1.25",
            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}
    }))
    .unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}
