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

/// Upstream's conformance case "should not delete dependents that have
/// both valid owner and owner that's waiting for dependents to be
/// deleted": half of a ReplicationController's pods also name a second,
/// live ReplicationController; deleting the first in the foreground
/// deletes only its own pods and strips its reference from the shared
/// ones, which keep exactly one ownerReference (the live owner's).
#[test]
fn foreground_deletion_keeps_dependents_with_another_live_owner() {
    let c = CmCluster::start("garbage-collector,replicationcontroller", 0);
    let rc = |name: &str, replicas: u32| {
        format!(
            r#"apiVersion: v1
kind: ReplicationController
metadata: {{name: {name}}}
spec:
  replicas: {replicas}
  selector: {{app: {name}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec: {{containers: [{{name: c, image: nginx}}]}}
"#
        )
    };
    c.apply(&rc("to-be-deleted", 4));
    c.apply(&rc("to-stay", 0));
    c.wait_for(
        &["get", "rc", "to-be-deleted"],
        "{.status.replicas}",
        "4",
        WAIT,
    );
    let stay_uid = c.jsonpath(&["get", "rc", "to-stay"], "{.metadata.uid}");
    assert!(!stay_uid.is_empty());
    let pods = c.pod_names("default", "app=to-be-deleted");
    assert_eq!(pods.len(), 4, "{pods:?}");
    let shared = &pods[..2];
    let patch = format!(
        r#"{{"metadata":{{"ownerReferences":[{{"apiVersion":"v1","kind":"ReplicationController","name":"to-stay","uid":"{stay_uid}"}}]}}}}"#
    );
    for p in shared {
        // A strategic merge patch: ownerReferences merge by uid.
        c.kubectl_retry(&["patch", "pod", p, "-p", &patch]);
        assert_eq!(
            c.jsonpath(&["get", "pod", p], "{.metadata.ownerReferences[*].name}"),
            "to-be-deleted to-stay"
        );
    }
    c.kubectl_ok(&[
        "delete",
        "rc",
        "to-be-deleted",
        "--cascade=foreground",
        "--wait=false",
    ]);
    let gone = wait_until(WAIT, || !c.kubectl(&["get", "rc", "to-be-deleted"]).0);
    assert!(
        gone,
        "owner not deleted: {:?}\n{}",
        c.pod_names("default", "app=to-be-deleted"),
        c.cm.log_tail(30)
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        c.pod_names("default", "app=to-be-deleted"),
        shared.to_vec(),
        "{}",
        c.cm.log_tail(30)
    );
    for p in shared {
        assert_eq!(
            c.jsonpath(&["get", "pod", p], "{.metadata.deletionTimestamp}"),
            ""
        );
        assert_eq!(
            c.jsonpath(&["get", "pod", p], "{.metadata.ownerReferences[*].uid}"),
            stay_uid,
            "pod {p} must keep exactly the live owner's reference"
        );
    }
}

/// Upstream's conformance case "should not be blocked by dependency
/// circle": pod1 is owned by pod3, pod2 by pod1, pod3 by pod2, all with
/// blockOwnerDeletion; a foreground delete of pod1 must remove all three.
#[test]
fn foreground_deletion_of_an_ownership_cycle_finishes() {
    let c = CmCluster::start("garbage-collector", 0);
    for p in ["pod1", "pod2", "pod3"] {
        c.apply(&format!(
            r#"apiVersion: v1
kind: Pod
metadata: {{name: {p}, labels: {{cycle: "yes"}}}}
spec: {{containers: [{{name: c, image: nginx}}]}}
"#
        ));
    }
    let uid = |p: &str| c.jsonpath(&["get", "pod", p], "{.metadata.uid}");
    for (dependent, owner) in [("pod1", "pod3"), ("pod2", "pod1"), ("pod3", "pod2")] {
        let patch = format!(
            r#"{{"metadata":{{"ownerReferences":[{{"apiVersion":"v1","kind":"Pod","name":"{owner}","uid":"{}","controller":true,"blockOwnerDeletion":true}}]}}}}"#,
            uid(owner)
        );
        c.kubectl_retry(&["patch", "pod", dependent, "-p", &patch]);
    }
    assert_eq!(
        c.jsonpath(
            &["get", "pod", "pod1"],
            "{.metadata.ownerReferences[0].name}"
        ),
        "pod3"
    );
    c.kubectl_ok(&[
        "delete",
        "pod",
        "pod1",
        "--cascade=foreground",
        "--wait=false",
    ]);
    let gone = wait_until(WAIT, || c.pod_names("default", "cycle=yes").is_empty());
    assert!(
        gone,
        "pods left: {:?}\n{}\n{}",
        c.pod_names("default", "cycle=yes"),
        c.kubectl(&["get", "pods", "-o", "yaml"]).1,
        c.cm.log_tail(30)
    );
}
