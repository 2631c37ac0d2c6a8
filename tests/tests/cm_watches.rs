//! One list+watch per kind: a kube-controller-manager running every
//! controller opens at most one watch per resource in its first 30 s,
//! counted from the apiserver's audit log (each watch request is one
//! `ResponseStarted` event with its own auditID).
//!
//! `KUBE_CONTROLLER_MANAGER=/path/to/binary` measures another build (the
//! table is printed before the assertion, for before/after comparisons).

use harness::apiserver::ApiCluster;
use harness::bins;
use harness::net::free_port;
use harness::process::Daemon;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

const POLICY: &str = "apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
  verbs: [watch]
- level: None
";

/// Watches opened per `resource.group` by `user`, from an audit log.
fn watches_by_resource(log: &std::path::Path, user: &str) -> BTreeMap<String, usize> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let mut ids: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in text.lines() {
        let Ok(e) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if e["verb"] != "watch" || e["user"]["username"] != user {
            continue;
        }
        let r = &e["objectRef"];
        let resource = r["resource"].as_str().unwrap_or_default();
        let key = match r["apiGroup"].as_str().filter(|g| !g.is_empty()) {
            Some(group) => format!("{resource}.{group}"),
            None => resource.to_string(),
        };
        ids.entry(key)
            .or_default()
            .insert(e["auditID"].as_str().unwrap_or_default().to_string());
    }
    ids.into_iter().map(|(k, v)| (k, v.len())).collect()
}

#[test]
fn every_controller_shares_one_watch_per_kind() {
    let dir = tempfile::tempdir().expect("tmp");
    let policy = dir.path().join("policy.yaml");
    std::fs::write(&policy, POLICY).expect("policy");
    let log = dir.path().join("audit.log");
    let api = ApiCluster::start_with(&[
        &format!("--audit-policy-file={}", policy.display()),
        &format!("--audit-log-path={}", log.display()),
    ]);
    let binary = std::env::var_os("KUBE_CONTROLLER_MANAGER")
        .map(PathBuf::from)
        .unwrap_or_else(|| bins::binary("kube-controller-manager"));
    let mut cmd = Command::new(binary);
    cmd.arg(format!(
        "--kubeconfig={}",
        api.kubeconfig("kube-controller-manager").display()
    ))
    .arg("--bind-address=127.0.0.1")
    .arg(format!("--secure-port={}", free_port()))
    .arg(format!("--root-ca-file={}", api.pki.ca().display()))
    .arg("--cluster-cidr=172.7.0.0/16")
    .arg("--allocate-node-cidrs=true")
    .arg("--controllers=*")
    .arg("--leader-elect=false");
    let mut cm = Daemon::spawn("kube-controller-manager", &mut cmd, api.work.path());
    std::thread::sleep(Duration::from_secs(30));
    assert!(
        cm.is_running(),
        "controller-manager exited:\n{}",
        cm.log_tail(30)
    );

    let counts = watches_by_resource(&log, "system:kube-controller-manager");
    let table: Vec<String> = counts.iter().map(|(r, n)| format!("{n:>3}  {r}")).collect();
    println!("watches opened in 30 s by resource:\n{}", table.join("\n"));
    let cm_log = std::fs::read_to_string(&cm.log).unwrap_or_default();
    for l in cm_log
        .lines()
        .filter(|l| l.contains("WARN") || l.contains("ERROR"))
        .take(20)
    {
        println!("LOG {l}");
    }
    assert!(
        counts.contains_key("pods"),
        "no pod watch seen:\n{}",
        table.join("\n")
    );
    let repeated: Vec<&String> = counts
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(r, _)| r)
        .collect();
    assert!(
        repeated.is_empty(),
        "more than one watch of {repeated:?}:\n{}\ncontroller-manager log:\n{}",
        table.join("\n"),
        cm.log_tail(30)
    );
}
