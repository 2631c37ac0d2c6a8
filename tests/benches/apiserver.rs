//! kube-apiserver benchmark. Prints figures; it never fails on speed.
//!
//! Everything is measured in one run on this machine, against a reference
//! measured in the same run: raw etcd puts through etcd-client over mutual
//! TLS, the store under the apiserver. Run it with release binaries:
//!
//! ```sh
//! cargo build --release --workspace --bins
//! cargo bench -p tests --bench apiserver
//! ```
//!
//! `BENCH_SCALE` (default 1.0) scales the operation counts.

use harness::apiserver::ApiCluster;
use harness::client::ApiClient;
use harness::process::{percentile, rss_mib};
use http_body_util::BodyExt;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

const CONCURRENCY: [usize; 3] = [1, 16, 64];

fn main() -> anyhow::Result<()> {
    let scale: f64 = std::env::var("BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    let count = |n: usize| ((n as f64 * scale).ceil() as usize).max(1);
    let cluster = ApiCluster::start();
    let pid = cluster.apiserver.pid();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let admin = ApiClient::connect(&cluster.kubeconfig("admin")).await?;
        let etcd = raw_etcd(&cluster).await?;
        let rss_idle = rss_mib(pid);
        println!("kube-apiserver benchmark (pid {pid}), BENCH_SCALE={scale}");
        println!();

        // 1. Creates: raw etcd puts vs pod creates through the apiserver.
        println!("{:<12} {:>14} {:>16} {:>8} {:>12} {:>12} {:>14} {:>14}", "clients", "etcd puts/s", "pod creates/s", "ratio", "create p50", "create p99", "etcd us/put", "apiserver us/create");
        let mut total_pods = 0usize;
        for (round, c) in CONCURRENCY.into_iter().enumerate() {
            let n = count([400, 2000, 4000][round]);
            let ns = format!("bench-create-{c}");
            create_namespace(&admin, &ns).await?;
            let etcd_cpu = cluster.etcd.daemon.cpu_time();
            let puts = etcd_puts(&etcd, c, n, round).await?;
            let etcd_cpu = cluster.etcd.daemon.cpu_time() - etcd_cpu;
            let apiserver_cpu = cluster.apiserver.cpu_time();
            let (creates, lat) = pod_creates(&admin, &ns, c, n).await?;
            let apiserver_cpu = cluster.apiserver.cpu_time() - apiserver_cpu;
            total_pods += n;
            println!(
                "{:<12} {:>14.0} {:>16.0} {:>8.2} {:>12} {:>12} {:>14.0} {:>14.0}",
                c,
                puts,
                creates,
                creates / puts,
                ms(percentile(&lat, 50.0)),
                ms(percentile(&lat, 99.0)),
                micros_each(etcd_cpu, n),
                micros_each(apiserver_cpu, n)
            );
        }
        println!();

        // 2. GET one pod and LIST 1,000 pods.
        let list_ns = "bench-list";
        create_namespace(&admin, list_ns).await?;
        pod_creates(&admin, list_ns, 16, 1000).await?;
        total_pods += 1000;
        let mut get_lat = Vec::new();
        for i in 0..count(1000) {
            let t = Instant::now();
            let (code, _) = admin.call("GET", &format!("/api/v1/namespaces/{list_ns}/pods/pod-{}", i % 1000), None).await?;
            anyhow::ensure!(code == 200, "GET answered {code}");
            get_lat.push(t.elapsed());
        }
        let mut list_lat = Vec::new();
        for _ in 0..count(50) {
            let t = Instant::now();
            let (code, body) = admin.call("GET", &format!("/api/v1/namespaces/{list_ns}/pods"), None).await?;
            anyhow::ensure!(code == 200, "LIST answered {code}");
            let items = serde_json::from_slice::<serde_json::Value>(&body)?["items"].as_array().map(Vec::len).unwrap_or(0);
            anyhow::ensure!(items == 1000, "LIST returned {items} pods");
            list_lat.push(t.elapsed());
        }
        println!("{:<28} {:>10} {:>10}", "read", "p50", "p99");
        println!("{:<28} {:>10} {:>10}", "GET pod", ms(percentile(&get_lat, 50.0)), ms(percentile(&get_lat, 99.0)));
        println!("{:<28} {:>10} {:>10}", "LIST 1,000 pods", ms(percentile(&list_lat, 50.0)), ms(percentile(&list_lat, 99.0)));
        println!();

        // 3. Watch delivery latency with 100 watchers.
        let (p50, p99, delivered) = watch_latency(&admin, 100, count(100)).await?;
        println!("watch delivery, 100 watchers: p50 {} p99 {} ({delivered} events)", ms(p50), ms(p99));
        println!();

        // 4. Memory with 10,000 pods stored.
        let fill = 10_000usize.saturating_sub(total_pods);
        if fill > 0 {
            let ns = "bench-rss";
            create_namespace(&admin, ns).await?;
            pod_creates(&admin, ns, 64, fill).await?;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        println!("kube-apiserver RSS: idle {rss_idle:.1} MiB, with {} pods {:.1} MiB", total_pods + fill, rss_mib(pid));
        println!();
        println!("goals: creates >= 0.8 x etcd puts at 64 clients; mutation p99 <= 50 ms; RSS with 10,000 pods <= 150 MiB");
        anyhow::Ok(())
    })
}

async fn raw_etcd(cluster: &ApiCluster) -> anyhow::Result<etcd_client::Client> {
    let read = |p: std::path::PathBuf| std::fs::read(p);
    let (ca, cert, key) = (
        read(cluster.pki.ca())?,
        read(cluster.pki.cert("apiserver-etcd-client"))?,
        read(cluster.pki.key("apiserver-etcd-client"))?,
    );
    // The same transport the apiserver uses, so the ratio compares the
    // apiserver's work, not two different TLS connections.
    let tls = apiserver::storage::transport::EtcdTls {
        ca: &ca,
        cert: &cert,
        key: &key,
    };
    let servers = [cluster.etcd.client_url.clone()];
    apiserver::storage::transport::connect(&servers, tls, etcd_client::ConnectOptions::new()).await
}

fn pod(name: &str, ns: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": {"app": "bench", "tier": "web"}},
        "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25", "ports": [{"containerPort": 80}],
            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]}
    }))
    .unwrap_or_default()
}

async fn create_namespace(client: &ApiClient, ns: &str) -> anyhow::Result<()> {
    let body = serde_json::to_vec(
        &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
    )?;
    let (code, text) = client
        .call("POST", "/api/v1/namespaces", Some(body))
        .await?;
    anyhow::ensure!(
        code == 201 || code == 409,
        "namespace create answered {code}: {}",
        String::from_utf8_lossy(&text)
    );
    Ok(())
}

/// Runs `n` operations on `c` workers; returns ops/s and per-op latencies.
async fn run_workers<F, Fut>(c: usize, n: usize, op: F) -> anyhow::Result<(f64, Vec<Duration>)>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let op = Arc::new(op);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let lat = Arc::new(Mutex::new(Vec::with_capacity(n)));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..c {
        let (op, next, lat) = (op.clone(), next.clone(), lat.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= n {
                    return anyhow::Ok(());
                }
                let t = Instant::now();
                op(i).await?;
                lat.lock().await.push(t.elapsed());
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    let lat = std::mem::take(&mut *lat.lock().await);
    Ok((rate, lat))
}

async fn etcd_puts(
    etcd: &etcd_client::Client,
    c: usize,
    n: usize,
    round: usize,
) -> anyhow::Result<f64> {
    let value = Arc::new(pod("raw", "raw"));
    let etcd = etcd.clone();
    let (rate, _) = run_workers(c, n, move |i| {
        let (mut kv, value) = (etcd.kv_client(), value.clone());
        async move {
            kv.put(format!("/bench-raw/{round}/{i}"), value.as_slice(), None)
                .await?;
            Ok(())
        }
    })
    .await?;
    Ok(rate)
}

async fn pod_creates(
    client: &ApiClient,
    ns: &str,
    c: usize,
    n: usize,
) -> anyhow::Result<(f64, Vec<Duration>)> {
    let (client, ns) = (client.clone(), ns.to_string());
    run_workers(c, n, move |i| {
        let (client, ns) = (client.clone(), ns.clone());
        async move {
            let (code, body) = client
                .call(
                    "POST",
                    &format!("/api/v1/namespaces/{ns}/pods"),
                    Some(pod(&format!("pod-{i}"), &ns)),
                )
                .await?;
            anyhow::ensure!(
                code == 201,
                "create answered {code}: {}",
                String::from_utf8_lossy(&body)
            );
            Ok(())
        }
    })
    .await
}

/// Starts `watchers` watches on one namespace, creates `events` pods one at
/// a time, and measures from just before each create to each delivery.
async fn watch_latency(
    client: &ApiClient,
    watchers: usize,
    events: usize,
) -> anyhow::Result<(Duration, Duration, usize)> {
    let ns = "bench-watch";
    create_namespace(client, ns).await?;
    let (_, list) = client
        .call("GET", &format!("/api/v1/namespaces/{ns}/pods"), None)
        .await?;
    let rv = serde_json::from_slice::<serde_json::Value>(&list)?["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or("0")
        .to_string();
    let sent: Arc<Mutex<std::collections::HashMap<String, Instant>>> = Arc::default();
    let deliveries: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let mut tasks = Vec::new();
    for _ in 0..watchers {
        let resp = client
            .send(
                "GET",
                &format!(
                    "/api/v1/namespaces/{ns}/pods?watch=1&resourceVersion={rv}&timeoutSeconds=120"
                ),
                None,
            )
            .await?;
        anyhow::ensure!(resp.status() == 200, "watch answered {}", resp.status());
        let (sent, deliveries) = (sent.clone(), deliveries.clone());
        tasks.push(tokio::spawn(async move {
            let mut body = resp.into_body();
            let mut buf = Vec::new();
            let mut seen = 0;
            while seen < events {
                let Some(frame) = body.frame().await else {
                    break;
                };
                let Ok(frame) = frame else { break };
                let Some(data) = frame.data_ref() else {
                    continue;
                };
                buf.extend_from_slice(data);
                while let Some(pos) = buf.iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = buf.drain(..=pos).collect();
                    let now = Instant::now();
                    let Ok(ev) = serde_json::from_slice::<serde_json::Value>(&line) else {
                        continue;
                    };
                    if ev["type"] != "ADDED" {
                        continue;
                    }
                    let name = ev["object"]["metadata"]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    if let Some(t) = sent.lock().await.get(&name) {
                        deliveries.lock().await.push(now - *t);
                    }
                    seen += 1;
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    for i in 0..events {
        let name = format!("watched-{i}");
        sent.lock().await.insert(name.clone(), Instant::now());
        let (code, _) = client
            .call(
                "POST",
                &format!("/api/v1/namespaces/{ns}/pods"),
                Some(pod(&name, ns)),
            )
            .await?;
        anyhow::ensure!(code == 201, "create answered {code}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for t in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(30), t).await;
    }
    let lat = deliveries.lock().await.clone();
    Ok((percentile(&lat, 50.0), percentile(&lat, 99.0), lat.len()))
}

/// CPU microseconds per operation.
fn micros_each(cpu: Duration, n: usize) -> f64 {
    cpu.as_secs_f64() * 1e6 / n as f64
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}
