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

/// One sample of the DaemonSet's pods: (node, image, ready, deleting).
fn pod_rows(c: &CmCluster, selector: &str) -> Vec<(String, String, bool, bool)> {
    let out = c.jsonpath(
        &["get", "pods", "-l", selector],
        "{range .items[*]}{.spec.nodeName} {.spec.containers[0].image} {.status.conditions[?(@.type==\"Ready\")].status} {.metadata.deletionTimestamp}{\"\\n\"}{end}",
    );
    out.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 2).then(|| {
                (
                    f[0].to_string(),
                    f[1].to_string(),
                    f.get(2) == Some(&"True"),
                    f.len() > 3,
                )
            })
        })
        .collect()
}

#[test]
fn surge_update_keeps_a_ready_pod_on_every_node() {
    let nodes = vec![HollowNode::new("node-a"), HollowNode::new("node-b")];
    let c = CmCluster::start_with("daemonset", nodes, &[]);
    c.apply(
        r#"
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: surge}
spec:
  selector: {matchLabels: {app: surge}}
  minReadySeconds: 2
  updateStrategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}
  template:
    metadata: {labels: {app: surge}}
    spec:
      containers: [{name: agent, image: "agent:1"}]
"#,
    );
    c.wait_for(
        &["get", "ds", "surge"],
        "{.status.desiredNumberScheduled}/{.status.numberAvailable}",
        "2/2",
        T,
    );
    c.kubectl_retry(&["set", "image", "ds/surge", "agent=agent:2"]);
    let deadline = std::time::Instant::now() + T;
    let (mut max_doubled, mut saw_surge) = (0, false);
    loop {
        let rows = pod_rows(&c, "app=surge");
        for node in ["node-a", "node-b"] {
            let ready = rows.iter().filter(|r| r.0 == node && r.2 && !r.3).count();
            assert!(ready >= 1, "no ready pod on {node}: {rows:?}");
        }
        let doubled = ["node-a", "node-b"]
            .iter()
            .filter(|n| rows.iter().filter(|r| &r.0 == *n && !r.3).count() > 1)
            .count();
        saw_surge |= doubled > 0;
        max_doubled = max_doubled.max(doubled);
        let done = rows.len() == 2 && rows.iter().all(|r| r.1 == "agent:2" && r.2 && !r.3);
        if done {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "update stuck: {rows:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(saw_surge, "never saw old and new pod side by side");
    assert_eq!(max_doubled, 1, "more nodes surged than maxSurge");
    c.wait_for(
        &["get", "ds", "surge"],
        "{.status.updatedNumberScheduled}/{.status.numberAvailable}",
        "2/2",
        T,
    );
}

/// The ControllerRevisions a DaemonSet selects, as `name revision` rows.
fn revisions(c: &CmCluster, ns: &str) -> Vec<String> {
    let out = c.jsonpath(
        &[
            "get",
            "controllerrevisions",
            "-n",
            ns,
            "-l",
            "daemonset-name=ds-rev",
        ],
        "{range .items[*]}{.metadata.name} {.revision}{\"\\n\"}{end}",
    );
    let mut v: Vec<String> = out.lines().map(String::from).collect();
    v.sort();
    v
}

fn revision_count_becomes(c: &CmCluster, n: usize) {
    let ok = wait_until(Duration::from_secs(60), || {
        revisions(c, "default").len() == n
    });
    assert!(
        ok,
        "wanted {n} ControllerRevisions, have {:?}\n{}",
        revisions(c, "default"),
        c.cm_log()
    );
}

/// Upstream's conformance case "should manage the lifecycle of a
/// ControllerRevision": the DaemonSet's history is edited by hand (a
/// revision made by hand with the old template under the name the next
/// template would get, the original deleted); a template change must still
/// get a ControllerRevision of its own (moving `status.collisionCount` past
/// the taken name), numbered 3.
#[test]
fn controller_revision_lifecycle_with_history_edited_by_hand() {
    let c = CmCluster::start("daemonset", 2);
    let ds = |ns: &str, grace: &str| {
        format!(
            r#"apiVersion: apps/v1
kind: DaemonSet
metadata: {{name: ds-rev, namespace: {ns}, labels: {{daemonset-name: ds-rev}}}}
spec:
  selector: {{matchLabels: {{daemonset-name: ds-rev}}}}
  template:
    metadata: {{labels: {{daemonset-name: ds-rev}}}}
    spec:
{grace}      containers: [{{name: app, image: "agnhost:2.53"}}]
"#
        )
    };
    c.apply(&ds("default", ""));
    c.wait_for(
        &["get", "ds", "ds-rev"],
        "{.status.desiredNumberScheduled}/{.status.numberReady}",
        "2/2",
        T,
    );
    let ds_uid = c.jsonpath(&["get", "ds", "ds-rev"], "{.metadata.uid}");
    let initial = revisions(&c, "default");
    assert_eq!(initial.len(), 1, "{initial:?}");
    let initial = initial[0].split(' ').next().unwrap_or_default().to_string();
    assert_eq!(
        c.jsonpath(
            &["get", "controllerrevision", &initial],
            "{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].uid}/{.revision}"
        ),
        format!("DaemonSet/{ds_uid}/1")
    );
    c.kubectl_ok(&[
        "label",
        "controllerrevision",
        &initial,
        &format!("{initial}=patched"),
    ]);

    // The name the controller gives the changed template (upstream's test
    // computes it with the controller's own hash): read from a twin.
    let changed = "      terminationGracePeriodSeconds: 1\n";
    c.kubectl_ok(&["create", "namespace", "probe"]);
    c.apply(&ds("probe", changed));
    let ok = wait_until(T, || revisions(&c, "probe").len() == 1);
    assert!(ok, "{}", c.cm_log());
    let taken = revisions(&c, "probe")[0]
        .split(' ')
        .next()
        .unwrap_or_default()
        .to_string();
    let hash = taken.trim_start_matches("ds-rev-").to_string();

    // A revision made by hand: that name, the old template, revision 2.
    let data: serde_json::Value =
        serde_json::from_str(&c.jsonpath(&["get", "controllerrevision", &initial], "{.data}"))
            .unwrap_or_default();
    assert!(data.get("spec").is_some(), "{data}");
    let by_hand = serde_json::json!({
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": {
            "name": taken,
            "labels": {"daemonset-name": "ds-rev", "controller-revision-hash": hash},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet",
                "name": "ds-rev", "uid": ds_uid, "controller": true,
                "blockOwnerDeletion": true}],
        },
        "data": data,
        "revision": 2,
    });
    let (ok, out, err) = c
        .api
        .kubectl_stdin(&["create", "-f", "-"], &by_hand.to_string());
    assert!(ok, "{out}\n{err}");
    revision_count_becomes(&c, 2);
    c.kubectl_ok(&["delete", "controllerrevision", &initial]);
    revision_count_becomes(&c, 1);
    c.kubectl_ok(&[
        "label",
        "controllerrevision",
        &taken,
        &format!("{taken}=updated"),
    ]);

    // The template changes: a new revision, whatever name was taken.
    c.kubectl_retry(&[
        "patch",
        "ds",
        "ds-rev",
        "-p",
        r#"{"spec":{"template":{"spec":{"terminationGracePeriodSeconds":1}}}}"#,
    ]);
    revision_count_becomes(&c, 2);
    c.kubectl_ok(&[
        "delete",
        "controllerrevisions",
        "-l",
        &format!("{taken}=updated"),
    ]);
    revision_count_becomes(&c, 1);
    let left = revisions(&c, "default");
    assert!(left[0].ends_with(" 3"), "{left:?}");
    let name = left[0].split(' ').next().unwrap_or_default();
    assert_eq!(
        c.jsonpath(
            &["get", "controllerrevision", name],
            "{.data.spec.template.spec.terminationGracePeriodSeconds}"
        ),
        "1"
    );
    assert_eq!(
        c.jsonpath(&["get", "ds", "ds-rev"], "{.status.collisionCount}"),
        "1"
    );
}
