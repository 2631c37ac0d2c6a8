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
