//! A node going silent: NotReady (conditions Unknown) after the grace
//! period, the unreachable taints, eviction of pods that do not tolerate
//! them (at once, or after tolerationSeconds), through the real
//! kube-controller-manager and hollow nodes. Pod GC removes pods whose
//! node is deleted.

use harness::controller_manager::CmCluster;
use harness::process::wait_until;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(40);

fn pod(name: &str, node: &str, toleration_seconds: Option<u32>) -> String {
    let tolerations = match toleration_seconds {
        Some(s) => format!(
            "  tolerations:\n  - {{key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: {s}}}\n"
        ),
        None => String::new(),
    };
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec:\n  nodeName: {node}\n  containers: [{{name: c, image: busybox}}]\n{tolerations}"
    )
}

#[test]
fn silent_node_goes_not_ready_gets_tainted_and_its_pods_are_evicted() {
    let c = CmCluster::start_with(
        "node-lifecycle,pod-garbage-collector",
        vec![
            harness::hollow::HollowNode::new("hollow-0"),
            harness::hollow::HollowNode::new("hollow-1"),
        ],
        // Hollow nodes renew their Leases every 10 s.
        &[
            "--node-monitor-grace-period=14s",
            "--node-monitor-period=1s",
        ],
    );
    c.wait_for(
        &["get", "node", "hollow-0"],
        "{.status.conditions[?(@.type==\"Ready\")].status}",
        "True",
        WAIT,
    );
    // The apiserver's DefaultTolerationSeconds gives every pod without its
    // own unreachable toleration 300 s, as upstream; "plain" asks for 0 s.
    c.apply(&pod("plain", "hollow-0", Some(0)));
    c.apply(&pod("patient", "hollow-0", Some(8)));
    c.apply(&pod("elsewhere", "hollow-1", None));
    c.wait_for(&["get", "pod", "plain"], "{.status.phase}", "Running", WAIT);
    c.wait_for(
        &["get", "pod", "patient"],
        "{.status.phase}",
        "Running",
        WAIT,
    );

    c.hollow.as_ref().expect("hollow").silence("hollow-0");
    c.wait_for(
        &["get", "node", "hollow-0"],
        "{.status.conditions[?(@.type==\"Ready\")].status}",
        "Unknown",
        WAIT,
    );
    assert_eq!(
        c.jsonpath(
            &["get", "node", "hollow-0"],
            "{.status.conditions[?(@.type==\"Ready\")].reason}"
        ),
        "NodeStatusUnknown"
    );
    let table = c.kubectl_ok(&["get", "nodes"]);
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("hollow-0") && l.contains("NotReady")),
        "{table}"
    );
    c.wait_for(
        &["get", "node", "hollow-0"],
        "{.spec.taints[*].key}",
        "node.kubernetes.io/unreachable node.kubernetes.io/unreachable",
        WAIT,
    );
    // The pod tolerating 0 s is evicted at once, the patient one after
    // its tolerationSeconds. (They stay Terminating: the silent node's
    // kubelet cannot confirm that their containers stopped.)
    let evicted = |name: &str| {
        wait_until(WAIT, || {
            !c.jsonpath(&["get", "pod", name], "{.metadata.deletionTimestamp}")
                .is_empty()
        })
    };
    assert!(
        evicted("plain"),
        "untolerating pod not evicted:\n{}",
        c.cm.log_tail(30)
    );
    assert_eq!(
        c.jsonpath(&["get", "pod", "patient"], "{.metadata.deletionTimestamp}"),
        "",
        "evicted before its tolerationSeconds"
    );
    assert!(
        evicted("patient"),
        "tolerating pod not evicted after tolerationSeconds:\n{}",
        c.cm.log_tail(30)
    );
    assert_eq!(
        c.jsonpath(
            &["get", "pod", "elsewhere"],
            "{.metadata.deletionTimestamp}"
        ),
        "",
        "a pod on a healthy node was evicted"
    );
    let events = c.kubectl_ok(&[
        "get",
        "events",
        "--field-selector=reason=TaintManagerEviction",
    ]);
    assert!(
        events.contains("Marking for deletion Pod default/plain"),
        "{events}"
    );
    assert_eq!(
        c.jsonpath(&["get", "node", "hollow-1"], "{.spec.taints[*].key}"),
        ""
    );

    // The node speaks again: Ready, taints gone.
    c.hollow.as_ref().expect("hollow").revive("hollow-0");
    c.wait_for(
        &["get", "node", "hollow-0"],
        "{.status.conditions[?(@.type==\"Ready\")].status}",
        "True",
        WAIT,
    );
    c.wait_for(
        &["get", "node", "hollow-0"],
        "{.spec.taints[*].key}",
        "",
        WAIT,
    );
}

#[test]
fn pods_of_deleted_nodes_are_collected() {
    let c = CmCluster::start("pod-garbage-collector", 1);
    c.apply(&pod("stranded", "hollow-0", None));
    c.wait_for(
        &["get", "pod", "stranded"],
        "{.status.phase}",
        "Running",
        WAIT,
    );
    c.hollow.as_ref().expect("hollow").remove_node("hollow-0");
    let gone = wait_until(Duration::from_secs(60), || {
        !c.kubectl(&["get", "pod", "stranded"]).0
    });
    assert!(
        gone,
        "pod of a deleted node not collected:\n{}",
        c.cm.log_tail(30)
    );
}

/// A terminating pod on a silent node stays until its kubelet confirms;
/// once the administrator taints the node out-of-service, pod GC
/// force-deletes it.
#[test]
fn terminating_pods_on_out_of_service_nodes_are_collected() {
    let c = CmCluster::start_with(
        "node-lifecycle,pod-garbage-collector",
        vec![harness::hollow::HollowNode::new("hollow-0")],
        &[
            "--node-monitor-grace-period=14s",
            "--node-monitor-period=1s",
        ],
    );
    // Tolerating unreachable for good: only the out-of-service path can
    // remove it.
    c.apply(&pod("stuck", "hollow-0", Some(3600)));
    c.wait_for(&["get", "pod", "stuck"], "{.status.phase}", "Running", WAIT);
    c.hollow.as_ref().expect("hollow").silence("hollow-0");
    c.wait_for(
        &["get", "node", "hollow-0"],
        "{.status.conditions[?(@.type==\"Ready\")].status}",
        "Unknown",
        WAIT,
    );
    c.kubectl_ok(&["delete", "pod", "stuck", "--wait=false"]);
    assert!(
        !c.jsonpath(&["get", "pod", "stuck"], "{.metadata.deletionTimestamp}")
            .is_empty()
    );
    c.kubectl_ok(&[
        "taint",
        "node",
        "hollow-0",
        "node.kubernetes.io/out-of-service=nodeshutdown:NoExecute",
    ]);
    // Pod GC runs every 20 s.
    assert!(
        wait_until(Duration::from_secs(50), || !c
            .kubectl(&["get", "pod", "stuck"])
            .0),
        "pod still there: {}",
        c.kubectl_ok(&["get", "pod", "stuck", "-o", "yaml"])
    );
}
