//! kube-scheduler reading objects other than nodes and pods, through the
//! real binaries (etcd, kube-apiserver, kube-scheduler, and where a
//! controller is needed kube-controller-manager), with hollow nodes
//! playing the kubelets: namespace labels for `namespaceSelector`,
//! ReplicaSet selectors for the default spreading, and claims a
//! provisioner must serve for WaitForFirstConsumer.

use harness::hollow::HollowNode;
use harness::process::wait_until;
use harness::scheduler::SchedCluster;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

fn pod(ns: &str, name: &str, labels: Value, spec: Value) -> String {
    let mut p = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]}});
    if let (Some(s), Some(extra)) = (p["spec"].as_object_mut(), spec.as_object()) {
        s.extend(extra.clone());
    }
    p.to_string()
}

fn affinity_to_db(namespace_selector: Value) -> Value {
    let mut term = json!({"labelSelector": {"matchLabels": {"app": "db"}},
        "topologyKey": "kubernetes.io/hostname"});
    if !namespace_selector.is_null() {
        term["namespaceSelector"] = namespace_selector;
    }
    json!({"affinity": {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]}}})
}

#[test]
fn namespace_selector_places_next_to_pods_in_labelled_namespaces() {
    let c = SchedCluster::start(&[]);
    let _nodes = c.hollow_nodes(
        (0..3)
            .map(|i| HollowNode::new(&format!("hollow-{i}")))
            .collect(),
    );
    c.apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: prod, labels: {env: prod}}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: dev, labels: {env: dev}}\n");
    let pin = |node: &str| json!({"nodeSelector": {"kubernetes.io/hostname": node}});
    c.apply(&pod("prod", "db", json!({"app": "db"}), pin("hollow-1")));
    c.apply(&pod("dev", "db", json!({"app": "db"}), pin("hollow-2")));
    assert_eq!(c.wait_bound("prod", "db"), "hollow-1");
    assert_eq!(c.wait_bound("dev", "db"), "hollow-2");

    // Next to the db in the namespace labelled env=prod, from "default".
    c.apply(&pod(
        "default",
        "web-prod",
        json!({"app": "web"}),
        affinity_to_db(json!({"matchLabels": {"env": "prod"}})),
    ));
    assert_eq!(c.wait_bound("default", "web-prod"), "hollow-1");
    c.apply(&pod(
        "default",
        "web-dev",
        json!({"app": "web"}),
        affinity_to_db(
            json!({"matchExpressions": [{"key": "env", "operator": "In", "values": ["dev"]}]}),
        ),
    ));
    assert_eq!(c.wait_bound("default", "web-dev"), "hollow-2");

    // No namespaceSelector: only the pod's own namespace, where no db runs.
    c.apply(&pod(
        "default",
        "web-own",
        json!({"app": "web"}),
        affinity_to_db(Value::Null),
    ));
    let msg = c.wait_event("default", "web-own", "FailedScheduling");
    assert!(
        msg[0].starts_with("0/3 nodes are available: 3 node(s) didn't match pod affinity rules."),
        "{msg:?}"
    );

    // A namespace labelled later: the waiting pod follows the db there.
    c.apply(&pod(
        "default",
        "web-qa",
        json!({"app": "web"}),
        affinity_to_db(json!({"matchLabels": {"env": "qa"}})),
    ));
    c.wait_event("default", "web-qa", "FailedScheduling");
    c.apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: qa}\n");
    c.apply(&pod("qa", "db", json!({"app": "db"}), pin("hollow-0")));
    assert_eq!(c.wait_bound("qa", "db"), "hollow-0");
    assert_eq!(c.node_of("default", "web-qa"), "<none>");
    c.kubectl_ok(&["label", "namespace", "qa", "env=qa"]);
    assert_eq!(c.wait_bound("default", "web-qa"), "hollow-0");
}

/// The cluster default constraints (configured here as one DoNotSchedule
/// zone constraint, so the outcome is exact) select a Deployment's pods
/// through their ReplicaSet's selector: its pods spread over the zones
/// although three of the four nodes are in one zone.
#[test]
fn default_spreading_spreads_a_deployment_over_zones() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("scheduler.yaml");
    std::fs::write(
        &config,
        r#"apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
percentageOfNodesToScore: 100
profiles:
- schedulerName: default-scheduler
  pluginConfig:
  - name: PodTopologySpread
    args:
      defaultingType: List
      defaultConstraints:
      - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule}
"#,
    )
    .unwrap();
    let c = SchedCluster::start(&[&format!("--config={}", config.display())]);
    let zone = |i: usize, z: &str| {
        HollowNode::new(&format!("hollow-{i}")).label("topology.kubernetes.io/zone", z)
    };
    let _nodes = c.hollow_nodes(vec![
        zone(0, "zone-a"),
        zone(1, "zone-a"),
        zone(2, "zone-a"),
        zone(3, "zone-b"),
    ]);
    let _cm = c.controller_manager("deployment,replicaset");
    c.apply(
        r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 4
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: c, image: nginx}]
"#,
    );
    let mut per_zone: BTreeMap<String, usize> = BTreeMap::new();
    let ok = wait_until(Duration::from_secs(60), || {
        let out = c.kubectl_ok(&["get", "pods", "-l", "app=web", "-o", "json"]);
        let v: Value = serde_json::from_str(&out).unwrap_or(Value::Null);
        let nodes: Vec<String> = v["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["spec"]["nodeName"].as_str().map(str::to_string))
            .collect();
        per_zone = nodes
            .iter()
            .map(|n| if n == "hollow-3" { "zone-b" } else { "zone-a" })
            .fold(BTreeMap::new(), |mut m, z| {
                *m.entry(z.to_string()).or_default() += 1;
                m
            });
        nodes.len() == 4
    });
    assert!(ok, "{per_zone:?}\n{}", c.scheduler.log_tail(60));
    assert_eq!(
        per_zone,
        BTreeMap::from([("zone-a".to_string(), 2), ("zone-b".to_string(), 2)])
    );

    // A bare pod that no controller selects gets no default constraint:
    // it may go to the crowded zone (hollow-0 is pinned by its selector).
    c.apply(&pod(
        "default",
        "bare",
        json!({"app": "bare"}),
        json!({"nodeSelector": {"kubernetes.io/hostname": "hollow-0"}}),
    ));
    assert_eq!(c.wait_bound("default", "bare"), "hollow-0");
}

/// A WaitForFirstConsumer claim whose class names a provisioner: the
/// scheduler picks a node, writes it into the claim's
/// `volume.kubernetes.io/selected-node`, and keeps the pod unbound until
/// the claim is Bound. There is no external provisioner here, so the
/// volume is made by hand ("manually by the system administrator") on the
/// selected node; the persistentvolume-binder binds the claim to it and
/// only then is the pod bound, to that node.
#[test]
fn wait_for_first_consumer_provisioning_keeps_the_pod_pending() {
    let c = SchedCluster::start(&[]);
    let _nodes = c.hollow_nodes(vec![
        HollowNode::new("hollow-0"),
        HollowNode::new("hollow-1"),
    ]);
    let _cm = c.controller_manager("persistentvolume-binder");
    c.apply(
        r#"apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: fast}
provisioner: example.com/fast-disks
volumeBindingMode: WaitForFirstConsumer
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: fast
  resources: {requests: {storage: 1Gi}}
"#,
    );
    c.apply(&pod(
        "default",
        "app",
        json!({}),
        json!({"volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]}),
    ));
    let mut selected = String::new();
    let ok = wait_until(Duration::from_secs(30), || {
        selected = c.kubectl_ok(&[
            "get",
            "pvc",
            "data",
            "-o",
            "jsonpath={.metadata.annotations.volume\\.kubernetes\\.io/selected-node}",
        ]);
        !selected.is_empty()
    });
    assert!(ok, "no selected-node; log:\n{}", c.scheduler.log_tail(60));
    assert!(
        selected == "hollow-0" || selected == "hollow-1",
        "{selected}"
    );
    // Still pending a while later: no volume exists yet.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(c.node_of("default", "app"), "<none>");
    let phase = c.kubectl_ok(&["get", "pvc", "data", "-o", "jsonpath={.status.phase}"]);
    assert_eq!(phase, "Pending");

    // The administrator provisions a volume on the selected node.
    c.apply(&format!(
        r#"apiVersion: v1
kind: PersistentVolume
metadata: {{name: data-{selected}}}
spec:
  capacity: {{storage: 1Gi}}
  accessModes: [ReadWriteOnce]
  storageClassName: fast
  local: {{path: /mnt/data}}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions:
        - {{key: kubernetes.io/hostname, operator: In, values: [{selected}]}}
"#
    ));
    assert_eq!(c.wait_bound("default", "app"), selected);
    let volume = c.kubectl_ok(&["get", "pvc", "data", "-o", "jsonpath={.spec.volumeName}"]);
    assert_eq!(volume, format!("data-{selected}"));
}
