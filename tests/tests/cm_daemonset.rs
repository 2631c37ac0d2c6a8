//! The daemonset controller through the real binaries and kubectl: one pod
//! per eligible node (nodeSelector, taints), a node joining, pods pinned by
//! node affinity, and a rolling update.

use harness::controller_manager::CmCluster;
use harness::hollow::HollowNode;
use harness::process::wait_until;
use std::time::Duration;

const T: Duration = Duration::from_secs(90);

fn pods_by_node(c: &CmCluster, selector: &str) -> Vec<String> {
    let out = c.jsonpath(
        &["get", "pods", "-l", selector],
        "{range .items[*]}{.spec.nodeName}{\"\\n\"}{end}",
    );
    let mut v: Vec<String> = out.lines().map(String::from).collect();
    v.sort();
    v
}

#[test]
fn one_pod_per_eligible_node_join_taints_and_rolling_update() {
    let nodes = vec![
        HollowNode::new("node-a").label("disktype", "ssd"),
        HollowNode::new("node-b"),
        HollowNode::new("node-c").taint("dedicated", "db", "NoSchedule"),
    ];
    let c = CmCluster::start_with("daemonset", nodes, &[]);
    c.apply(
        r#"
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: logs}
spec:
  selector: {matchLabels: {app: logs}}
  updateStrategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 1}}
  template:
    metadata: {labels: {app: logs}}
    spec:
      containers: [{name: agent, image: "agent:1"}]
"#,
    );
    // The tainted node gets no pod; the others one each.
    c.wait_for(
        &["get", "ds", "logs"],
        "{.status.desiredNumberScheduled}/{.status.numberReady}",
        "2/2",
        T,
    );
    assert_eq!(pods_by_node(&c, "app=logs"), ["node-a", "node-b"]);
    let pod = c.pod_names("default", "app=logs")[0].clone();
    let pinned = c.jsonpath(
        &["get", "pod", &pod],
        "{.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].key}",
    );
    assert_eq!(pinned, "metadata.name");
    let table = c.kubectl_ok(&["get", "ds", "logs"]);
    let row: Vec<&str> = table
        .lines()
        .nth(1)
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(&row[..6], ["logs", "2", "2", "2", "2", "2"], "{table}");

    // A node joins: it gets a pod.
    if let Some(h) = &c.hollow {
        h.add_node(HollowNode::new("node-d"));
    }
    c.wait_for(
        &["get", "ds", "logs"],
        "{.status.desiredNumberScheduled}/{.status.numberReady}",
        "3/3",
        T,
    );
    assert_eq!(pods_by_node(&c, "app=logs"), ["node-a", "node-b", "node-d"]);

    // Tolerating the taint adds the tainted node; a nodeSelector narrows it to one.
    c.kubectl_retry(&["patch", "ds", "logs", "-p", r#"{"spec":{"template":{"spec":{"tolerations":[{"key":"dedicated","operator":"Exists"}]}}}}"#]);
    c.wait_for(
        &["get", "ds", "logs"],
        "{.status.desiredNumberScheduled}/{.status.updatedNumberScheduled}/{.status.numberReady}",
        "4/4/4",
        T,
    );
    assert_eq!(
        pods_by_node(&c, "app=logs"),
        ["node-a", "node-b", "node-c", "node-d"]
    );
    let (ok, out, err) = c.kubectl(&["rollout", "status", "ds", "logs", "--timeout=60s"]);
    assert!(ok, "{out}\n{err}");
    assert!(
        out.contains("daemon set \"logs\" successfully rolled out"),
        "{out}"
    );
    let history = c.kubectl_ok(&["rollout", "history", "ds", "logs"]);
    assert!(
        history.contains("1 ") && history.contains("2 "),
        "{history}"
    );

    c.kubectl_retry(&[
        "patch",
        "ds",
        "logs",
        "-p",
        r#"{"spec":{"template":{"spec":{"nodeSelector":{"disktype":"ssd"}}}}}"#,
    ]);
    assert!(
        wait_until(T, || pods_by_node(&c, "app=logs") == ["node-a"]),
        "{:?}",
        pods_by_node(&c, "app=logs")
    );
    c.wait_for(
        &["get", "ds", "logs"],
        "{.status.desiredNumberScheduled}/{.status.numberReady}",
        "1/1",
        T,
    );
    let events = c.jsonpath(
        &[
            "get",
            "events",
            "--field-selector",
            "involvedObject.name=logs",
        ],
        "{range .items[*]}{.source.component}:{.reason}{\"\\n\"}{end}",
    );
    assert!(
        events.contains("daemonset-controller:SuccessfulCreate"),
        "{events}"
    );
    assert!(
        events.contains("daemonset-controller:SuccessfulDelete"),
        "{events}"
    );
}
