//! PersistentVolume binding, phases, reclaim and the protection
//! finalizers through the real kube-controller-manager and kubectl.

use harness::controller_manager::CmCluster;
use harness::process::wait_until;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

fn pv(name: &str, size: &str, class: &str, reclaim: &str) -> String {
    format!(
        "apiVersion: v1\nkind: PersistentVolume\nmetadata: {{name: {name}}}\nspec:\n  capacity: {{storage: {size}}}\n  accessModes: [ReadWriteOnce]\n  storageClassName: {class}\n  persistentVolumeReclaimPolicy: {reclaim}\n  hostPath: {{path: /tmp/{name}}}\n"
    )
}

fn pvc(name: &str, size: &str, class: &str) -> String {
    format!(
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {{name: {name}}}\nspec:\n  accessModes: [ReadWriteOnce]\n  storageClassName: {class}\n  resources: {{requests: {{storage: {size}}}}}\n"
    )
}

#[test]
fn claims_bind_release_and_are_protected() {
    let c = CmCluster::start("persistentvolume-binder,pv-protection,pvc-protection", 0);
    c.apply(&pv("pv-small", "1Gi", "manual", "Retain"));
    c.apply(&pv("pv-big", "5Gi", "manual", "Retain"));
    c.apply(&pv("pv-scratch", "1Gi", "scratch", "Delete"));
    c.wait_for(
        &["get", "pv", "pv-big"],
        "{.status.phase}",
        "Available",
        WAIT,
    );
    c.wait_for(
        &["get", "pv", "pv-big"],
        "{.metadata.finalizers[0]}",
        "kubernetes.io/pv-protection",
        WAIT,
    );

    // The smallest volume that fits is bound, both ways.
    c.apply(&pvc("data", "500Mi", "manual"));
    c.wait_for(&["get", "pvc", "data"], "{.status.phase}", "Bound", WAIT);
    assert_eq!(
        c.jsonpath(&["get", "pvc", "data"], "{.spec.volumeName}"),
        "pv-small"
    );
    assert_eq!(
        c.jsonpath(&["get", "pvc", "data"], "{.status.capacity.storage}"),
        "1Gi"
    );
    c.wait_for(&["get", "pv", "pv-small"], "{.status.phase}", "Bound", WAIT);
    assert_eq!(
        c.jsonpath(&["get", "pv", "pv-small"], "{.spec.claimRef.name}"),
        "data"
    );
    c.wait_for(
        &["get", "pvc", "data"],
        "{.metadata.finalizers[0]}",
        "kubernetes.io/pvc-protection",
        WAIT,
    );
    let table = c.kubectl_ok(&["get", "pvc", "data"]);
    assert!(
        table.contains("Bound") && table.contains("pv-small"),
        "{table}"
    );

    // Nothing fits: Pending, with an event.
    c.apply(&pvc("huge", "50Gi", "manual"));
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        c.jsonpath(&["get", "pvc", "huge"], "{.status.phase}"),
        "Pending"
    );

    // A claim used by a pod stays while the pod does.
    c.apply(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: user}\nspec:\n  containers: [{name: c, image: busybox}]\n  volumes: [{name: d, persistentVolumeClaim: {claimName: data}}]\n",
    );
    c.kubectl_ok(&["delete", "pvc", "data", "--wait=false"]);
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        c.kubectl(&["get", "pvc", "data"]).0,
        "claim in use was deleted"
    );
    c.kubectl_ok(&["delete", "pod", "user"]);
    let gone = wait_until(WAIT, || !c.kubectl(&["get", "pvc", "data"]).0);
    assert!(
        gone,
        "claim not released after its pod left:\n{}",
        c.cm.log_tail(30)
    );
    // Retain: the volume is Released and kept.
    c.wait_for(
        &["get", "pv", "pv-small"],
        "{.status.phase}",
        "Released",
        WAIT,
    );

    // Delete: the volume goes with its claim.
    c.apply(&pvc("tmp", "1Gi", "scratch"));
    c.wait_for(&["get", "pvc", "tmp"], "{.status.phase}", "Bound", WAIT);
    c.kubectl_ok(&["delete", "pvc", "tmp"]);
    let deleted = wait_until(WAIT, || !c.kubectl(&["get", "pv", "pv-scratch"]).0);
    assert!(
        deleted,
        "volume with reclaim policy Delete kept:\n{}",
        c.cm.log_tail(30)
    );
}

#[test]
fn wait_for_first_consumer_binds_only_once_a_node_is_selected() {
    let c = CmCluster::start("persistentvolume-binder", 0);
    c.apply(
        "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: local}\nprovisioner: kubernetes.io/no-provisioner\nvolumeBindingMode: WaitForFirstConsumer\n",
    );
    c.apply(&pv("pv-local", "1Gi", "local", "Retain"));
    c.apply(&pvc("late", "1Gi", "local"));
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        c.jsonpath(&["get", "pvc", "late"], "{.spec.volumeName}"),
        ""
    );
    let events = c.kubectl_ok(&["describe", "pvc", "late"]);
    assert!(events.contains("WaitForFirstConsumer"), "{events}");
    // The scheduler's choice arrives as an annotation: now it binds.
    c.kubectl_ok(&[
        "annotate",
        "pvc",
        "late",
        "volume.kubernetes.io/selected-node=hdss7-21",
    ]);
    c.wait_for(&["get", "pvc", "late"], "{.status.phase}", "Bound", WAIT);
    assert_eq!(
        c.jsonpath(&["get", "pvc", "late"], "{.spec.volumeName}"),
        "pv-local"
    );
}
