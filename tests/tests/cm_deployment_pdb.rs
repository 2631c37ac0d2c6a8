//! The disruption controller: PodDisruptionBudget status for a
//! Deployment's pods, following their readiness, through kubectl.

use harness::controller_manager::CmCluster;
use std::time::Duration;

const T: Duration = Duration::from_secs(90);

#[test]
fn pdb_status_follows_pod_health() {
    let c = CmCluster::start("deployment,replicaset,disruption", 2);
    c.kubectl_ok(&[
        "create",
        "deployment",
        "web",
        "--image=nginx",
        "--replicas=3",
    ]);
    c.wait_for(&["get", "deploy", "web"], "{.status.readyReplicas}", "3", T);
    c.kubectl_ok(&[
        "create",
        "pdb",
        "web-min",
        "--selector=app=web",
        "--min-available=2",
    ]);
    c.kubectl_ok(&[
        "create",
        "pdb",
        "web-max",
        "--selector=app=web",
        "--max-unavailable=34%",
    ]);
    let pdb = ["get", "pdb", "web-min"];
    let fields = "{.status.expectedPods}/{.status.currentHealthy}/{.status.desiredHealthy}/{.status.disruptionsAllowed}";
    c.wait_for(&pdb, fields, "3/3/2/1", T);
    c.wait_for(&pdb, "{.status.conditions[0].type}={.status.conditions[0].status}/{.status.conditions[0].reason}", "DisruptionAllowed=True/SufficientPods", T);
    // 34% of 3 rounds up to 2 may be unavailable: 1 must stay healthy.
    c.wait_for(&["get", "pdb", "web-max"], fields, "3/3/1/2", T);
    let table = c.kubectl_ok(&["get", "pdb", "web-min"]);
    let row: Vec<&str> = table
        .lines()
        .nth(1)
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(&row[..4], ["web-min", "2", "N/A", "1"], "{table}");

    // Two pods stop being ready: no disruption is allowed any more.
    for pod in c.pod_names("default", "app=web").iter().take(2) {
        c.kubectl_retry(&[
            "annotate",
            "pod",
            pod,
            "hollow.test/ready=false",
            "--overwrite",
        ]);
    }
    c.wait_for(&pdb, fields, "3/1/2/0", T);
    c.wait_for(
        &pdb,
        "{.status.conditions[0].reason}",
        "InsufficientPods",
        T,
    );
}

/// A `kubectl drain` eviction is charged to the budget by the apiserver
/// (the pod recorded under `disruptedPods`, one disruption less allowed,
/// a second eviction refused); the disruption controller then drops the
/// record once the pod is gone and recomputes the budget.
#[test]
fn drain_eviction_records_disrupted_pod() {
    // No disruption controller at first: the budget's status is written by
    // hand, so what the eviction writes stays visible.
    let c = CmCluster::start("deployment,replicaset", 3);
    c.kubectl_ok(&[
        "create",
        "deployment",
        "web",
        "--image=nginx",
        "--replicas=3",
    ]);
    c.wait_for(&["get", "deploy", "web"], "{.status.readyReplicas}", "3", T);
    c.kubectl_ok(&[
        "create",
        "pdb",
        "web-min",
        "--selector=app=web",
        "--min-available=2",
    ]);
    c.kubectl_retry(&[
        "patch",
        "pdb",
        "web-min",
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"observedGeneration":1,"disruptionsAllowed":1,"currentHealthy":3,"desiredHealthy":2,"expectedPods":3}}"#,
    ]);
    let nodes_of = || {
        c.jsonpath(
            &["get", "pods", "-l", "app=web"],
            "{range .items[*]}{.metadata.name} {.spec.nodeName}{\"\\n\"}{end}",
        )
    };
    let placed = nodes_of();
    let rows: Vec<(&str, &str)> = placed.lines().filter_map(|l| l.split_once(' ')).collect();
    let single = |node: &str| rows.iter().filter(|r| r.1 == node).count() == 1;
    let (victim, node) = *rows
        .iter()
        .find(|r| single(r.1))
        .unwrap_or_else(|| panic!("no node with exactly one pod: {placed}"));
    let (ok, out, err) = c.kubectl(&[
        "drain",
        node,
        "--pod-selector=app=web",
        "--ignore-daemonsets",
        "--timeout=30s",
    ]);
    assert!(ok, "{out}\n{err}");
    assert!(
        out.contains(&format!("pod/{victim} evicted")),
        "{out}\n{err}"
    );
    let disrupted = c.jsonpath(&["get", "pdb", "web-min"], "{.status.disruptedPods}");
    assert!(disrupted.contains(victim), "{disrupted}");
    c.wait_for(
        &["get", "pdb", "web-min"],
        "{.status.disruptionsAllowed}",
        "0",
        T,
    );

    // The budget is spent: another eviction is refused.
    let other = rows
        .iter()
        .find(|r| r.0 != victim)
        .map(|r| r.0)
        .unwrap_or_default();
    let eviction = format!(
        r#"{{"apiVersion":"policy/v1","kind":"Eviction","metadata":{{"name":"{other}","namespace":"default"}}}}"#
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("eviction.json");
    std::fs::write(&file, eviction).expect("write eviction");
    let (ok, out, err) = c.kubectl(&[
        "create",
        "--raw",
        &format!("/api/v1/namespaces/default/pods/{other}/eviction"),
        "-f",
        &file.display().to_string(),
    ]);
    assert!(!ok, "second eviction allowed: {out}");
    assert!(err.contains("disruption budget"), "{err}");

    // The disruption controller forgets the evicted (gone) pod.
    let (_disruption, _) = harness::controller_manager::spawn(
        &c.api,
        "kcm-disruption",
        &["--controllers=disruption", "--leader-elect=false"],
    );
    c.wait_for(
        &["get", "pdb", "web-min"],
        "{.status.disruptedPods}/{.status.currentHealthy}/{.status.disruptionsAllowed}",
        "/3/1",
        T,
    );
}
