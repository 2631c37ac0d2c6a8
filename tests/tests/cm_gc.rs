//! Cascading deletion through the garbage collector: background,
//! foreground (`blockOwnerDeletion`) and orphan propagation, driven by
//! `kubectl delete --cascade=...`.

use harness::controller_manager::CmCluster;
use harness::process::wait_until;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

/// An owner ConfigMap and `n` dependents pointing at it.
fn family(c: &CmCluster, owner: &str, n: usize, block: bool) {
    c.kubectl_ok(&["create", "configmap", owner]);
    let uid = c.jsonpath(&["get", "configmap", owner], "{.metadata.uid}");
    assert!(!uid.is_empty());
    for i in 0..n {
        c.apply(&format!(
            r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: {owner}-dep-{i}
  labels: {{family: {owner}}}
  ownerReferences:
  - {{apiVersion: v1, kind: ConfigMap, name: {owner}, uid: {uid}, blockOwnerDeletion: {block}}}
"#
        ));
    }
}

fn members(c: &CmCluster, owner: &str) -> String {
    c.jsonpath(
        &["get", "configmaps", "-l", &format!("family={owner}")],
        "{.items[*].metadata.name}",
    )
}

#[test]
fn background_deletion_removes_dependents() {
    let c = CmCluster::start("garbage-collector", 0);
    family(&c, "bg", 2, false);
    c.kubectl_ok(&["delete", "configmap", "bg", "--cascade=background"]);
    let gone = wait_until(WAIT, || members(&c, "bg").is_empty());
    assert!(
        gone,
        "dependents left: {}\n{}",
        members(&c, "bg"),
        c.cm.log_tail(30)
    );
}

#[test]
fn orphan_deletion_keeps_dependents_without_the_owner_reference() {
    let c = CmCluster::start("garbage-collector", 0);
    family(&c, "or", 2, true);
    let (ok, out, err) = c.kubectl(&[
        "delete",
        "configmap",
        "or",
        "--cascade=orphan",
        "--timeout=30s",
    ]);
    assert!(ok, "{out}\n{err}\n{}", c.cm.log_tail(30));
    let gone = wait_until(WAIT, || !c.kubectl(&["get", "configmap", "or"]).0);
    assert!(gone, "owner still there:\n{}", c.cm.log_tail(30));
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(members(&c, "or"), "or-dep-0 or-dep-1");
    assert_eq!(
        c.jsonpath(
            &["get", "configmap", "or-dep-0"],
            "{.metadata.ownerReferences}"
        ),
        ""
    );
}

#[test]
fn foreground_deletion_removes_dependents_before_the_owner() {
    let c = CmCluster::start("garbage-collector", 0);
    family(&c, "fg", 2, true);
    // Hold one dependent with a finalizer: the owner must wait for it.
    c.kubectl_ok(&[
        "patch",
        "configmap",
        "fg-dep-0",
        "--type=merge",
        "-p",
        r#"{"metadata":{"finalizers":["test.example/hold"]}}"#,
    ]);
    let (ok, out, err) = c.kubectl(&[
        "delete",
        "configmap",
        "fg",
        "--cascade=foreground",
        "--wait=false",
    ]);
    assert!(ok, "{out}\n{err}");
    c.wait_for(
        &["get", "configmap", "fg-dep-1"],
        "{.metadata.name}",
        "",
        WAIT,
    );
    // The owner is still there, deleting, while a blocking dependent is.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        c.jsonpath(&["get", "configmap", "fg"], "{.metadata.finalizers}"),
        r#"["foregroundDeletion"]"#
    );
    assert!(
        !c.jsonpath(
            &["get", "configmap", "fg-dep-0"],
            "{.metadata.deletionTimestamp}"
        )
        .is_empty()
    );
    // Releasing the dependent lets the owner go.
    c.kubectl_ok(&[
        "patch",
        "configmap",
        "fg-dep-0",
        "--type=merge",
        "-p",
        r#"{"metadata":{"finalizers":null}}"#,
    ]);
    let gone = wait_until(WAIT, || !c.kubectl(&["get", "configmap", "fg"]).0);
    assert!(gone, "owner not released:\n{}", c.cm.log_tail(30));
    assert_eq!(members(&c, "fg"), "");
}

#[test]
fn replicaset_pods_follow_cascade_policies() {
    let c = CmCluster::start("garbage-collector,replicaset", 2);
    let rs = |name: &str| {
        format!(
            r#"apiVersion: apps/v1
kind: ReplicaSet
metadata: {{name: {name}}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec: {{containers: [{{name: c, image: nginx}}]}}
"#
        )
    };
    c.apply(&rs("keep"));
    c.apply(&rs("drop"));
    let two = |app: &str| {
        wait_until(WAIT, || {
            c.pod_names("default", &format!("app={app}")).len() == 2
        })
    };
    assert!(
        two("keep") && two("drop"),
        "pods not created:\n{}",
        c.cm.log_tail(30)
    );
    c.kubectl_ok(&["delete", "rs", "keep", "--cascade=orphan"]);
    c.kubectl_ok(&["delete", "rs", "drop"]);
    let dropped = wait_until(WAIT, || c.pod_names("default", "app=drop").is_empty());
    assert!(
        dropped,
        "pods of a deleted ReplicaSet remain:\n{}",
        c.cm.log_tail(30)
    );
    assert_eq!(c.pod_names("default", "app=keep").len(), 2);
}
