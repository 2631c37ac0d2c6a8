//! Benchmark (prints figures, asserts only correctness): a 1,000-replica
//! Deployment on 100 hollow nodes; seconds until the pods exist and until
//! the Deployment is Available, a rolling update of all of them, and the
//! controller-manager's resident memory. The daemons are taken from the
//! directory the test binary was built into, so measuring release daemons
//! takes a release build of both:
//! `cargo build --release --workspace --bins` then
//! `cargo nextest run --cargo-profile release -p tests --test cm_deployment_bench --run-ignored only --no-capture`
//! (without `--cargo-profile release` it runs the debug daemons).
//! `BENCH_REPLICAS` and `BENCH_NODES` change the size (10000 and 100 give
//! the 10,000-pod memory figure). A 10,000-replica run takes longer than
//! nextest's 5-minute limit: build with `--no-run` and run the test binary
//! from `target/release/deps/` directly with `--ignored --nocapture`.

use harness::controller_manager::CmCluster;
use harness::hollow::HollowNode;
use harness::process::wait_until;
use std::time::{Duration, Instant};

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

#[test]
#[ignore = "benchmark: prints figures, takes minutes"]
fn deployment_of_1000_pods_on_100_hollow_nodes() {
    let replicas = env_or("BENCH_REPLICAS", 1000);
    let nodes_count = env_or("BENCH_NODES", 100);
    let nodes = (0..nodes_count)
        .map(|i| HollowNode::new(&format!("hollow-{i}")))
        .collect();
    let c = CmCluster::start_with("deployment,replicaset", nodes, &[]);
    let idle_rss = rss_mib(c.cm.pid());
    let start = Instant::now();
    c.kubectl_ok(&[
        "create",
        "deployment",
        "big",
        "--image=nginx",
        &format!("--replicas={replicas}"),
    ]);
    let want = replicas.to_string();
    let field = |path: &str| c.jsonpath(&["get", "deploy", "big"], path);
    assert!(wait_until(Duration::from_secs(600), || field(
        "{.status.replicas}"
    ) == want));
    let created = start.elapsed().as_secs_f64();
    assert!(wait_until(Duration::from_secs(600), || field(
        "{.status.availableReplicas}"
    ) == want));
    let available = start.elapsed().as_secs_f64();
    let rss_after_create = rss_mib(c.cm.pid());

    // Upstream's apiserver defaults the deadline; set it so Progressing is reported.
    c.kubectl_retry(&[
        "patch",
        "deploy",
        "big",
        "-p",
        r#"{"spec":{"progressDeadlineSeconds":600}}"#,
    ]);
    assert!(wait_until(Duration::from_secs(120), || {
        field("{.status.conditions[?(@.type==\"Progressing\")].reason}") == "NewReplicaSetAvailable"
    }));
    let update = Instant::now();
    c.kubectl_retry(&["set", "image", "deploy/big", "nginx=nginx:2"]);
    assert!(wait_until(Duration::from_secs(900), || {
        let generation = field("{.metadata.generation}");
        field(
            "{.status.observedGeneration}/{.status.updatedReplicas}/{.status.availableReplicas}/{.status.replicas}",
        ) == format!("{generation}/{want}/{want}/{want}")
            && field("{.status.conditions[?(@.type==\"Progressing\")].reason}")
                == "NewReplicaSetAvailable"
    }));
    let rolled = update.elapsed().as_secs_f64();
    let rss_after_update = rss_mib(c.cm.pid());

    println!("benchmark: {replicas}-replica Deployment on {nodes_count} hollow nodes");
    println!(
        "  pods created:        {created:8.1} s  ({:.0} pods/s; goal >= 500 pods/s)",
        replicas as f64 / created
    );
    println!("  Deployment available:{available:8.1} s");
    println!("  rolling update:      {rolled:8.1} s  (goal <= 30 s)");
    println!(
        "  controller-manager RSS: idle {idle_rss:.1} MiB, {replicas} pods {rss_after_create:.1} MiB, after update {rss_after_update:.1} MiB (goal <= 100 MiB at 10,000 pods)"
    );
}
