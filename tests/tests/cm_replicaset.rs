//! The replicaset and replicationcontroller controllers through the real
//! binaries: etcd, kube-apiserver, kube-controller-manager, hollow nodes,
//! driven by the real kubectl.

use harness::controller_manager::CmCluster;
use std::time::Duration;

const T: Duration = Duration::from_secs(60);

const RS: &str = r#"
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: frontend
  labels: {app: guestbook}
spec:
  replicas: 3
  selector:
    matchLabels: {tier: frontend}
  template:
    metadata:
      labels: {tier: frontend}
    spec:
      containers:
      - name: php-redis
        image: gcr.io/google_samples/gb-frontend:v3
"#;

#[test]
fn replicaset_scales_adopts_releases_and_records_events() {
    let c = CmCluster::start("replicaset", 2);
    c.apply(RS);
    let rs = ["get", "rs", "frontend"];
    c.wait_for(&rs, "{.status.readyReplicas}", "3", T);
    c.wait_for(&rs, "{.status.availableReplicas}", "3", T);
    let pods = c.pod_names("default", "tier=frontend");
    assert_eq!(pods.len(), 3, "{pods:?}");
    assert!(
        pods.iter()
            .all(|p| p.starts_with("frontend-") && p.len() == "frontend-".len() + 5),
        "{pods:?}"
    );
    // Each pod names the ReplicaSet as its controller.
    let owner = c.jsonpath(&["get", "pod", &pods[0]], "{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}/{.metadata.ownerReferences[0].controller}");
    assert_eq!(owner, "ReplicaSet/frontend/true");
    // The kubectl table shows the counts.
    let table = c.kubectl_ok(&["get", "rs", "frontend"]);
    let row: Vec<&str> = table
        .lines()
        .nth(1)
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(&row[..4], ["frontend", "3", "3", "3"], "{table}");

    // Scale up and down with kubectl scale.
    c.kubectl_ok(&["scale", "rs", "frontend", "--replicas=5"]);
    c.wait_for(&rs, "{.status.readyReplicas}", "5", T);
    c.kubectl_ok(&["scale", "rs", "frontend", "--replicas=2"]);
    c.wait_for(&rs, "{.status.replicas}", "2", T);
    assert!(harness::process::wait_until(T, || c
        .pod_names("default", "tier=frontend")
        .len()
        == 2));

    // A deleted pod is replaced.
    let victim = c.pod_names("default", "tier=frontend")[0].clone();
    c.kubectl_ok(&["delete", "pod", &victim, "--wait=false"]);
    assert!(harness::process::wait_until(T, || {
        let now = c.pod_names("default", "tier=frontend");
        now.len() == 2 && !now.contains(&victim)
    }));

    // Relabelling a pod releases it (its ownerReference goes) and a new one is made.
    let released = c.pod_names("default", "tier=frontend")[0].clone();
    c.kubectl_ok(&["label", "pod", &released, "tier=debug", "--overwrite"]);
    c.wait_for(
        &["get", "pod", &released],
        "{.metadata.ownerReferences}",
        "",
        T,
    );
    assert!(harness::process::wait_until(T, || c
        .pod_names("default", "tier=frontend")
        .len()
        == 2));

    // An orphan matching the selector is adopted, and an extra pod is deleted.
    c.kubectl_ok(&["label", "pod", &released, "tier=frontend", "--overwrite"]);
    c.wait_for(
        &["get", "pod", &released],
        "{.metadata.ownerReferences[0].name}",
        "frontend",
        T,
    );
    assert!(harness::process::wait_until(T, || c
        .pod_names("default", "tier=frontend")
        .len()
        == 2));

    // Events like upstream's, visible in kubectl describe.
    let described = c.kubectl_ok(&["describe", "rs", "frontend"]);
    assert!(described.contains("SuccessfulCreate"), "{described}");
    assert!(described.contains("replicaset-controller"), "{described}");
    assert!(described.contains("Created pod: frontend-"), "{described}");
    assert!(described.contains("SuccessfulDelete"), "{described}");
    let reasons = c.jsonpath(
        &[
            "get",
            "events",
            "--field-selector",
            "involvedObject.name=frontend",
        ],
        "{range .items[*]}{.reason}/{.source.component}{\"\\n\"}{end}",
    );
    assert!(
        reasons
            .lines()
            .any(|l| l == "SuccessfulCreate/replicaset-controller"),
        "{reasons}"
    );
}

#[test]
fn replicaset_reports_failed_creates() {
    let c = CmCluster::start("replicaset", 1);
    // A quota of 1 pod: the second create fails and the RS says why.
    c.kubectl_ok(&["create", "quota", "pods", "--hard=pods=1"]);
    // Let the quota settle (its status is what admission counts against).
    harness::process::wait_until(Duration::from_secs(5), || {
        !c.jsonpath(&["get", "quota", "pods"], "{.status.hard.pods}")
            .is_empty()
    });
    c.apply(&RS.replace("replicas: 3", "replicas: 2"));
    c.wait_for(
        &["get", "rs", "frontend"],
        "{.status.conditions[0].type}/{.status.conditions[0].reason}",
        "ReplicaFailure/FailedCreate",
        T,
    );
    c.wait_for(&["get", "rs", "frontend"], "{.status.replicas}", "1", T);
    let message = c.jsonpath(
        &["get", "rs", "frontend"],
        "{.status.conditions[0].message}",
    );
    assert!(message.contains("exceeded quota"), "{message}");
    let described = c.kubectl_ok(&["describe", "rs", "frontend"]);
    assert!(described.contains("FailedCreate"), "{described}");
}

#[test]
fn replicationcontroller_keeps_replicas() {
    let c = CmCluster::start("replicationcontroller", 2);
    c.apply(
        r#"
apiVersion: v1
kind: ReplicationController
metadata:
  name: nginx
spec:
  replicas: 3
  selector: {app: nginx}
  template:
    metadata:
      labels: {app: nginx}
    spec:
      containers:
      - name: nginx
        image: nginx
"#,
    );
    c.wait_for(&["get", "rc", "nginx"], "{.status.readyReplicas}", "3", T);
    c.kubectl_ok(&["scale", "rc", "nginx", "--replicas=1"]);
    c.wait_for(&["get", "rc", "nginx"], "{.status.replicas}", "1", T);
    assert!(harness::process::wait_until(T, || c
        .pod_names("default", "app=nginx")
        .len()
        == 1));
    let described = c.kubectl_ok(&["describe", "rc", "nginx"]);
    assert!(described.contains("replication-controller"), "{described}");
}
