//! The kube-controller-manager process: its identity's rights, leader
//! election on the `kube-controller-manager` Lease with failover, the
//! health and metrics server, and `--controllers`.

use harness::apiserver::ApiCluster;
use harness::bins;
use harness::controller_manager::spawn;
use harness::process::{run, wait_until};
use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn controller_manager_identity_has_controller_rights() {
    let c = ApiCluster::start();
    for args in [
        ["list", "pods", "--all-namespaces"],
        ["watch", "replicasets.apps", "--all-namespaces"],
        ["create", "pods", "-n=default"],
        ["update", "replicasets.apps/status", "-n=default"],
        ["create", "events", "-n=default"],
    ] {
        let mut a = vec!["auth", "can-i"];
        a.extend(args);
        let (ok, out, err) = c.kubectl_as("kube-controller-manager", &a);
        assert!(ok && out.trim() == "yes", "can-i {args:?}: {out} {err}");
    }
}

fn holder(c: &ApiCluster) -> String {
    let (_, out, _) = c.kubectl(&[
        "get",
        "lease",
        "kube-controller-manager",
        "-n",
        "kube-system",
        "-o=jsonpath={.spec.holderIdentity}",
    ]);
    out
}

fn https_get(c: &ApiCluster, port: u16, path: &str) -> (String, String) {
    let (_, out, err) = run(Command::new(bins::system("curl"))
        .args(["-sS", "--max-time", "5", "--cacert"])
        .arg(c.pki.ca())
        .args(["-w", "\n%{http_code}"])
        .arg(format!("https://127.0.0.1:{port}{path}")));
    let (body, code) = out.rsplit_once('\n').unwrap_or((&out, &err));
    (code.to_string(), body.to_string())
}

#[test]
fn leader_election_fails_over_and_health_is_served() {
    let c = ApiCluster::start();
    let tls = [
        format!("--tls-cert-file={}", c.pki.cert("apiserver").display()),
        format!(
            "--tls-private-key-file={}",
            c.pki.key("apiserver").display()
        ),
    ];
    let flags = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "--leader-elect=true",
            "--leader-elect-lease-duration=4s",
            "--leader-elect-renew-deadline=3s",
            "--leader-elect-retry-period=500ms",
            "--controllers=*",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.extend(tls.iter().cloned());
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let f1 = flags(&[]);
    let (mut first, port1) = spawn(
        &c,
        "kcm-1",
        &f1.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert!(
        wait_until(Duration::from_secs(30), || !holder(&c).is_empty()),
        "no leader:\n{}",
        first.log_tail(30)
    );
    let leader = holder(&c);
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    assert!(leader.starts_with(&format!("{}_", host.trim())), "{leader}");

    // Health and metrics over TLS, verified against the cluster CA.
    let (code, body) = https_get(&c, port1, "/healthz");
    assert_eq!((code.as_str(), body.as_str()), ("200", "ok"));
    let (code, metrics) = https_get(&c, port1, "/metrics");
    assert_eq!(code, "200");
    assert!(
        metrics.contains("leader_election_master_status{name=\"kube-controller-manager\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("process_resident_memory_bytes"),
        "{metrics}"
    );

    // A second instance waits as a candidate.
    let f2 = flags(&[]);
    let (_second, port2) = spawn(
        &c,
        "kcm-2",
        &f2.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert!(wait_until(Duration::from_secs(20), || https_get(
        &c, port2, "/metrics"
    )
    .0 == "200"));
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        holder(&c),
        leader,
        "the standby took the lease from a live leader"
    );
    let (_, standby_metrics) = https_get(&c, port2, "/metrics");
    assert!(
        standby_metrics
            .contains("leader_election_master_status{name=\"kube-controller-manager\"} 0"),
        "{standby_metrics}"
    );

    // The leader dies: the standby takes over within the lease duration
    // (plus a retry period and some slack for this slow machine).
    let killed = Instant::now();
    run(Command::new("kill")
        .arg("-KILL")
        .arg(first.pid().to_string()));
    first.stop();
    assert!(wait_until(Duration::from_secs(20), || {
        let h = holder(&c);
        !h.is_empty() && h != leader
    }));
    let took = killed.elapsed();
    println!(
        "failover took {:.1}s (lease duration 4s)",
        took.as_secs_f64()
    );
    assert!(took < Duration::from_secs(12), "failover took {took:?}");
    let transitions = c.kubectl_ok(&[
        "get",
        "lease",
        "kube-controller-manager",
        "-n",
        "kube-system",
        "-o=jsonpath={.spec.leaseTransitions}",
    ]);
    assert_eq!(transitions, "1");
    let events = c.kubectl_ok(&[
        "get",
        "events",
        "-n",
        "kube-system",
        "--field-selector",
        "reason=LeaderElection",
        "-o=jsonpath={.items[*].message}",
    ]);
    assert!(events.contains("became leader"), "{events}");
}

#[test]
fn unknown_controller_names_are_refused() {
    let c = ApiCluster::start();
    let (mut kcm, _) = spawn(
        &c,
        "kcm",
        &["--controllers=*,-nosuchcontroller", "--leader-elect=false"],
    );
    assert!(wait_until(Duration::from_secs(15), || !kcm.is_running()));
    let log = std::fs::read_to_string(&kcm.log).unwrap_or_default();
    assert!(
        log.contains("nosuchcontroller") && log.contains("is not in the list of known controllers"),
        "{log}"
    );
}
