//! kube-scheduler as a process: leader election on the
//! `kube-system/kube-scheduler` Lease, `--config` profiles, VolumeBinding
//! with a WaitForFirstConsumer local volume, and DaemonSet-style pods
//! pinned by `matchFields metadata.name`.

use harness::net::free_port;
use harness::process::wait_until;
use harness::scheduler::{SchedCluster, spawn_scheduler};
use serde_json::{Value, json};
use std::time::Duration;

fn pod(name: &str, spec: Value) -> String {
    let mut p = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]}});
    if let (Some(s), Some(extra)) = (p["spec"].as_object_mut(), spec.as_object()) {
        s.extend(extra.clone());
    }
    p.to_string()
}

fn lease_holder(c: &SchedCluster) -> String {
    let (ok, out, _) = c.api.kubectl(&[
        "get",
        "lease",
        "kube-scheduler",
        "-n",
        "kube-system",
        "-o",
        "json",
    ]);
    if !ok {
        return String::new();
    }
    serde_json::from_str::<Value>(&out)
        .ok()
        .and_then(|v| v["spec"]["holderIdentity"].as_str().map(str::to_string))
        .unwrap_or_default()
}

#[test]
fn leader_election_hands_over_when_the_leader_stops() {
    let mut c = SchedCluster::start(&["--leader-elect=true"]);
    let first = lease_holder(&c);
    assert_eq!(
        Some(first.clone()),
        c.scheduler.leader_identity(),
        "holder {first:?}"
    );

    let standby_port = free_port();
    let mut standby = spawn_scheduler(
        &c.api,
        standby_port,
        &["--leader-elect=true"],
        "kube-scheduler-standby",
    );
    c.add_node("n1", "2", "4Gi", json!({}), json!([]));
    c.apply(&pod("a", json!({})));
    assert_eq!(c.wait_bound("default", "a"), "n1");
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        lease_holder(&c),
        first,
        "the standby must not take a held lease"
    );
    let log = std::fs::read_to_string(&standby.log).unwrap_or_default();
    assert!(
        log.contains("attempting to acquire leader lease")
            && !log.contains("successfully acquired lease"),
        "{log}"
    );

    c.scheduler.stop();
    let standby_identity = standby.leader_identity().expect("standby identity");
    let took_over = wait_until(Duration::from_secs(40), || {
        lease_holder(&c) == standby_identity
    });
    assert!(
        took_over,
        "standby never took the lease:\n{}",
        standby.log_tail(20)
    );
    c.apply(&pod("b", json!({})));
    let bound = wait_until(Duration::from_secs(30), || {
        c.node_of("default", "b") == "n1"
    });
    assert!(bound, "standby did not schedule:\n{}", standby.log_tail(30));
    standby.stop();
}

#[test]
fn config_profiles_choose_plugins_and_strategies() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("scheduler.yaml");
    std::fs::write(
        &config,
        r#"apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
percentageOfNodesToScore: 100
profiles:
- schedulerName: default-scheduler
- schedulerName: bin-packer
  plugins:
    score:
      disabled: [{name: "*"}]
      enabled: [{name: NodeResourcesFit, weight: 1}]
  pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: MostAllocated
        resources: [{name: cpu, weight: 1}]
"#,
    )
    .unwrap();
    let flag = format!("--config={}", config.display());
    let c = SchedCluster::start(&[&flag]);
    c.add_node("busy", "4", "8Gi", json!({}), json!([]));
    c.add_node("idle", "4", "8Gi", json!({}), json!([]));
    let cpu =
        |n: &str| json!([{"name": "c", "image": "busybox", "resources": {"requests": {"cpu": n}}}]);
    c.apply(&pod(
        "filler",
        json!({"nodeName": "busy", "containers": cpu("2")}),
    ));
    c.apply(&pod("spread", json!({"containers": cpu("500m")})));
    assert_eq!(c.wait_bound("default", "spread"), "idle");
    c.apply(&pod(
        "packed",
        json!({"schedulerName": "bin-packer", "containers": cpu("500m")}),
    ));
    assert_eq!(c.wait_bound("default", "packed"), "busy");
    let (ok, _, err) = c.api.kubectl(&["get", "pod", "nope"]);
    assert!(!ok && err.contains("NotFound"));
}

#[test]
fn wait_for_first_consumer_volume_pins_the_pod_to_its_node() {
    let c = SchedCluster::start(&[]);
    c.add_node("node1", "2", "4Gi", json!({}), json!([]));
    c.add_node("node2", "2", "4Gi", json!({}), json!([]));
    c.apply(
        r#"
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: local-storage}
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: WaitForFirstConsumer
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: mongodata}
spec:
  capacity: {storage: 2Gi}
  volumeMode: Filesystem
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Delete
  storageClassName: local-storage
  local: {path: /root/data}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions:
        - {key: kubernetes.io/hostname, operator: In, values: [node2]}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: mongodata}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: local-storage
  resources: {requests: {storage: 2Gi}}
"#,
    );
    c.apply(&pod(
        "mongo",
        json!({"volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "mongodata"}}]}),
    ));
    assert_eq!(c.wait_bound("default", "mongo"), "node2");
    let pv: Value =
        serde_json::from_str(&c.kubectl_ok(&["get", "pv", "mongodata", "-o", "json"])).unwrap();
    assert_eq!(pv["spec"]["claimRef"]["name"], "mongodata");
    assert_eq!(pv["spec"]["claimRef"]["namespace"], "default");

    // A claim nobody can serve: the pod stays pending with the reason.
    c.apply(&pod(
        "orphan",
        json!({"volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "missing"}}]}),
    ));
    let msg = c.wait_event("default", "orphan", "FailedScheduling");
    assert!(
        msg[0].starts_with("0/2 nodes are available: persistentvolumeclaim \"missing\" not found."),
        "{msg:?}"
    );
}

#[test]
fn daemonset_style_pods_land_on_every_node() {
    // The DaemonSet controller is not in this repository yet; these are the
    // pods it creates: one per node, pinned by matchFields metadata.name.
    let c = SchedCluster::start(&[]);
    let nodes = ["hdss7-21", "hdss7-22", "hdss7-23"];
    for n in nodes {
        c.add_node(n, "2", "4Gi", json!({}), json!([]));
    }
    c.kubectl_ok(&["cordon", "hdss7-23"]);
    for n in nodes {
        c.apply(&pod(&format!("fluentd-{n}"), json!({
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [n]}]}]}}},
            "tolerations": [{"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}]})));
    }
    for n in nodes {
        assert_eq!(c.wait_bound("default", &format!("fluentd-{n}")), n);
    }
    let out = c.kubectl_ok(&["get", "pods", "-o", "wide"]);
    assert!(
        out.lines()
            .next()
            .unwrap_or_default()
            .contains("NOMINATED NODE"),
        "{out}"
    );
}
