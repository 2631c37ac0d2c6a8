//! The statefulset controller through the real binaries and kubectl, after
//! the seed's walk-through: ordered creation, stable names and claims,
//! scaling that keeps PVCs, partitioned rolling update, history and undo.

use harness::controller_manager::CmCluster;
use harness::process::wait_until;
use std::time::Duration;

const T: Duration = Duration::from_secs(90);

fn sts(name: &str, replicas: u32, extra_spec: &str, annotations: &str) -> String {
    format!(
        r#"
apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: {name}}}
spec:
  serviceName: nginx
  replicas: {replicas}
  {extra_spec}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata:
      labels: {{app: {name}}}
      annotations: {{{annotations}}}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
  volumeClaimTemplates:
  - metadata: {{name: www}}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {{requests: {{storage: 1Gi}}}}
"#
    )
}

#[test]
fn ordered_ready_waits_for_each_pod_and_parallel_does_not() {
    let c = CmCluster::start("statefulset", 2);
    c.apply(&sts("db", 3, "", "hollow.test/ready: \"false\""));
    assert!(wait_until(T, || c.pod_names("default", "app=db") == ["db-0"]));
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        c.pod_names("default", "app=db"),
        ["db-0"],
        "db-1 started before db-0 was ready"
    );
    c.kubectl_retry(&[
        "annotate",
        "pod",
        "db-0",
        "hollow.test/ready=true",
        "--overwrite",
    ]);
    assert!(wait_until(T, || c.pod_names("default", "app=db") == ["db-0", "db-1"]));
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(c.pod_names("default", "app=db").len(), 2);

    c.apply(&sts(
        "par",
        3,
        "podManagementPolicy: Parallel",
        "hollow.test/ready: \"false\"",
    ));
    assert!(wait_until(T, || c.pod_names("default", "app=par")
        == ["par-0", "par-1", "par-2"]));
}

#[test]
fn seed_walkthrough_scale_partitioned_update_history_undo() {
    let c = CmCluster::start("statefulset", 2);
    c.apply(
        r#"
apiVersion: v1
kind: Service
metadata: {name: nginx, labels: {app: nginx}}
spec:
  ports: [{port: 80, name: web}]
  clusterIP: None
  selector: {app: web}
"#,
    );
    c.apply(&sts("web", 3, "", ""));
    c.wait_for(&["get", "sts", "web"], "{.status.readyReplicas}", "3", T);
    assert_eq!(
        c.pod_names("default", "app=web"),
        ["web-0", "web-1", "web-2"]
    );
    let table = c.kubectl_ok(&["get", "sts", "web"]);
    let row: Vec<&str> = table
        .lines()
        .nth(1)
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(&row[..2], ["web", "3/3"], "{table}");
    assert_eq!(
        c.jsonpath(
            &["get", "pod", "web-1"],
            "{.spec.hostname}.{.spec.subdomain}"
        ),
        "web-1.nginx"
    );
    assert_eq!(
        c.jsonpath(
            &["get", "pod", "web-1"],
            "{.spec.volumes[0].persistentVolumeClaim.claimName}"
        ),
        "www-web-1"
    );
    let pvcs = c.jsonpath(&["get", "pvc"], "{.items[*].metadata.name}");
    assert_eq!(pvcs, "www-web-0 www-web-1 www-web-2");
    let events = c.jsonpath(
        &[
            "get",
            "events",
            "--field-selector",
            "involvedObject.name=web",
        ],
        "{range .items[*]}{.message}{\"\\n\"}{end}",
    );
    let log = std::fs::read_to_string(&c.cm.log).unwrap_or_default();
    let event_log: Vec<&str> = log.lines().filter(|l| l.contains("event")).collect();
    assert!(
        events.contains("create Pod web-0 in StatefulSet web successful"),
        "{events}\n{event_log:?}"
    );
    assert!(
        events.contains("create Claim www-web-0 Pod web-0 in StatefulSet web success"),
        "{events}\n{event_log:?}"
    );

    // Scale down keeps the claims; highest ordinals go first.
    c.kubectl_retry(&["scale", "sts", "web", "--replicas=1"]);
    assert!(wait_until(T, || c.pod_names("default", "app=web") == ["web-0"]));
    assert_eq!(
        c.jsonpath(&["get", "pvc"], "{.items[*].metadata.name}"),
        "www-web-0 www-web-1 www-web-2"
    );
    c.kubectl_retry(&["scale", "sts", "web", "--replicas=3"]);
    c.wait_for(&["get", "sts", "web"], "{.status.readyReplicas}", "3", T);

    // Partitioned rolling update: only ordinals >= 2 move to the new image.
    c.kubectl_retry(&[
        "patch",
        "sts",
        "web",
        "-p",
        r#"{"spec":{"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":2}}}}"#,
    ]);
    c.kubectl_retry(&["set", "image", "sts/web", "nginx=nginx:1.28"]);
    c.wait_for(
        &["get", "pod", "web-2"],
        "{.spec.containers[0].image}",
        "nginx:1.28",
        T,
    );
    c.wait_for(
        &["get", "sts", "web"],
        "{.status.updatedReplicas}/{.status.readyReplicas}",
        "1/3",
        T,
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        c.jsonpath(
            &["get", "pod", "web-0", "web-1"],
            "{.items[*].spec.containers[0].image}"
        ),
        "nginx:1.27 nginx:1.27"
    );
    let (cur, upd) = (
        c.jsonpath(&["get", "sts", "web"], "{.status.currentRevision}"),
        c.jsonpath(&["get", "sts", "web"], "{.status.updateRevision}"),
    );
    assert_ne!(cur, upd);
    assert_eq!(
        c.jsonpath(
            &["get", "pod", "web-2"],
            "{.metadata.labels.controller-revision-hash}"
        ),
        upd
    );

    // Partition 0 finishes the update; the current revision catches up.
    c.kubectl_retry(&[
        "patch",
        "sts",
        "web",
        "-p",
        r#"{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}"#,
    ]);
    let (ok, out, err) = c.kubectl(&["rollout", "status", "sts", "web", "--timeout=90s"]);
    assert!(ok, "{out}\n{err}");
    c.wait_for(&["get", "sts", "web"], "{.status.currentRevision}", &upd, T);
    assert_eq!(
        c.jsonpath(
            &["get", "pods", "-l", "app=web"],
            "{.items[*].spec.containers[0].image}"
        ),
        "nginx:1.28 nginx:1.28 nginx:1.28"
    );

    // History from ControllerRevisions, and undo to the previous template.
    let history = c.kubectl_ok(&["rollout", "history", "sts", "web"]);
    let revs: Vec<&str> = history
        .lines()
        .skip(2)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(revs, ["1", "2"], "{history}");
    assert_eq!(
        c.jsonpath(
            &["get", "controllerrevisions", "-l", "app=web"],
            "{.items[*].revision}"
        )
        .split_whitespace()
        .count(),
        2
    );
    let out = c.kubectl_ok(&["rollout", "undo", "sts", "web"]);
    assert_eq!(out.trim(), "statefulset.apps/web rolled back");
    assert!(wait_until(T, || c.jsonpath(
        &["get", "pods", "-l", "app=web"],
        "{.items[*].spec.containers[0].image}"
    ) == "nginx:1.27 nginx:1.27 nginx:1.27"));

    // OnDelete: a template change touches no pod until it is deleted.
    c.kubectl_retry(&[
        "patch",
        "sts",
        "web",
        "-p",
        r#"{"spec":{"updateStrategy":{"type":"OnDelete","rollingUpdate":null}}}"#,
    ]);
    c.kubectl_retry(&["set", "image", "sts/web", "nginx=nginx:1.29"]);
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(
        c.jsonpath(&["get", "pod", "web-1"], "{.spec.containers[0].image}"),
        "nginx:1.27"
    );
    c.kubectl_ok(&["delete", "pod", "web-1", "--wait=false"]);
    c.wait_for(
        &["get", "pod", "web-1"],
        "{.spec.containers[0].image}",
        "nginx:1.29",
        T,
    );
}
