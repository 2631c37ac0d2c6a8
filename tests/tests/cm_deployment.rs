//! The deployment controller through the real binaries (etcd,
//! kube-apiserver, kube-controller-manager with the deployment and
//! replicaset controllers, hollow nodes) and the real kubectl, following
//! the seed's walk-through: create, scale, rolling update, history, undo,
//! pause/resume, restart; plus Recreate, the progress deadline and
//! revisionHistoryLimit.

use harness::controller_manager::CmCluster;
use harness::process::wait_until;
use std::time::Duration;

const T: Duration = Duration::from_secs(90);

fn rs_rows(c: &CmCluster) -> Vec<(String, String)> {
    let out = c.jsonpath(
        &["get", "rs", "-l", "app=nginx-deploy"],
        "{range .items[*]}{.metadata.name} {.spec.replicas}{\"\\n\"}{end}",
    );
    let mut rows: Vec<(String, String)> = out
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    rows.sort();
    rows
}

fn history_revisions(c: &CmCluster) -> Vec<String> {
    let out = c.kubectl_ok(&["rollout", "history", "deploy", "nginx-deploy"]);
    out.lines()
        .skip_while(|l| !l.starts_with("REVISION"))
        .skip(1)
        .filter_map(|l| l.split_whitespace().next().map(String::from))
        .collect()
}

#[test]
fn seed_walkthrough_create_scale_update_history_undo_pause_resume_restart() {
    let c = CmCluster::start("deployment,replicaset", 2);
    let out = c.kubectl_ok(&[
        "create",
        "deployment",
        "nginx-deploy",
        "--image=docker.io/library/nginx:latest",
    ]);
    assert_eq!(out.trim(), "deployment.apps/nginx-deploy created");
    c.wait_for(
        &["get", "deploy", "nginx-deploy"],
        "{.status.availableReplicas}",
        "1",
        T,
    );
    // Upstream's apiserver defaults progressDeadlineSeconds to 600; main's
    // apiserver does not default Deployments yet, so set it as it would.
    if c.jsonpath(
        &["get", "deploy", "nginx-deploy"],
        "{.spec.progressDeadlineSeconds}",
    )
    .is_empty()
    {
        c.kubectl_retry(&[
            "patch",
            "deploy",
            "nginx-deploy",
            "-p",
            r#"{"spec":{"progressDeadlineSeconds":600}}"#,
        ]);
    }
    let table = c.kubectl_ok(&["get", "deploy"]);
    let row: Vec<&str> = table
        .lines()
        .nth(1)
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(&row[..4], ["nginx-deploy", "1/1", "1", "1"], "{table}");

    // The ReplicaSet is named after the pod-template-hash, which labels it and its pods.
    let rs = rs_rows(&c);
    assert_eq!(rs.len(), 1, "{rs:?}");
    let (rs1, _) = &rs[0];
    let hash = c.jsonpath(&["get", "rs", rs1], "{.metadata.labels.pod-template-hash}");
    assert_eq!(*rs1, format!("nginx-deploy-{hash}"));
    assert!(hash.len() >= 5 && hash.len() <= 10, "{hash}");
    let pods = c.pod_names("default", &format!("pod-template-hash={hash}"));
    assert_eq!(pods.len(), 1);
    assert!(pods[0].starts_with(&format!("{rs1}-")));
    assert_eq!(
        c.jsonpath(
            &["get", "rs", rs1],
            "{.metadata.annotations.deployment\\.kubernetes\\.io/revision}"
        ),
        "1"
    );

    // Scale: same ReplicaSet; rollout status finishes with upstream's words.
    c.kubectl_retry(&["scale", "deployment", "nginx-deploy", "--replicas=4"]);
    let (ok, out, err) = c.kubectl(&[
        "rollout",
        "status",
        "deploy",
        "nginx-deploy",
        "--timeout=90s",
    ]);
    assert!(ok, "{out}\n{err}");
    assert!(
        out.trim_end()
            .ends_with("deployment \"nginx-deploy\" successfully rolled out"),
        "{out}"
    );
    assert_eq!(rs_rows(&c), vec![(rs1.clone(), "4".to_string())]);

    // Rolling update with kubectl set image --record: a second ReplicaSet takes over.
    let (ok, out, err) = c.kubectl(&[
        "set",
        "image",
        "deployment/nginx-deploy",
        "nginx=nginx:1.28",
        "--record",
    ]);
    assert!(ok, "{out}\n{err}");
    assert!(
        out.contains("deployment.apps/nginx-deploy image updated"),
        "{out}"
    );
    let (ok, out, err) = c.kubectl(&[
        "rollout",
        "status",
        "deploy",
        "nginx-deploy",
        "--timeout=90s",
    ]);
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("successfully rolled out"), "{out}");
    c.wait_for(
        &["get", "deploy", "nginx-deploy"],
        "{.status.updatedReplicas}/{.status.replicas}/{.status.availableReplicas}",
        "4/4/4",
        T,
    );
    let rs = rs_rows(&c);
    assert_eq!(rs.len(), 2, "{rs:?}");
    let rs2 = rs
        .iter()
        .find(|(n, _)| n != rs1)
        .map(|(n, _)| n.clone())
        .unwrap_or_default();
    assert!(
        rs.contains(&(rs1.clone(), "0".into())) && rs.contains(&(rs2.clone(), "4".into())),
        "{rs:?}"
    );
    let images = c.jsonpath(
        &["get", "pods", "-l", "app=nginx-deploy"],
        "{.items[*].spec.containers[0].image}",
    );
    assert!(
        images.split_whitespace().all(|i| i == "nginx:1.28"),
        "{images}"
    );

    // History: two revisions, the second with the recorded command as change-cause.
    let history = c.kubectl_ok(&["rollout", "history", "deploy", "nginx-deploy"]);
    let lines: Vec<&str> = history.lines().map(str::trim_end).collect();
    assert_eq!(
        &lines[..3],
        [
            "deployment.apps/nginx-deploy",
            "REVISION  CHANGE-CAUSE",
            "1         <none>"
        ],
        "{history}"
    );
    assert!(
        lines[3]
            .starts_with("2         kubectl set image deployment/nginx-deploy nginx=nginx:1.28"),
        "{history}"
    );
    let rev1 = c.kubectl_ok(&[
        "rollout",
        "history",
        "deploy",
        "nginx-deploy",
        "--revision=1",
    ]);
    assert!(
        rev1.contains("deployment.apps/nginx-deploy with revision #1"),
        "{rev1}"
    );
    assert!(rev1.contains("docker.io/library/nginx:latest"), "{rev1}");
    assert!(
        rev1.contains(&format!("pod-template-hash={hash}")),
        "{rev1}"
    );

    // Events as upstream words them.
    let mut described = String::new();
    let wanted = [
        "deployment-controller".to_string(),
        format!("Scaled up replica set {rs2} to 1 from 0"),
        format!("Scaled down replica set {rs1} to 0 from "),
        "NewReplicaSetAvailable".to_string(),
    ];
    let seen = wait_until(T, || {
        described = c.kubectl_ok(&["describe", "deploy", "nginx-deploy"]);
        wanted.iter().all(|w| described.contains(w.as_str()))
    });
    assert!(seen, "wanted {wanted:?} in:\n{described}");

    // Undo to revision 1: the first ReplicaSet comes back as revision 3.
    let out = c.kubectl_ok(&[
        "rollout",
        "undo",
        "deployment",
        "nginx-deploy",
        "--to-revision=1",
    ]);
    assert_eq!(out.trim(), "deployment.apps/nginx-deploy rolled back");
    let mut want = vec![
        (rs1.clone(), "4".to_string()),
        (rs2.clone(), "0".to_string()),
    ];
    want.sort();
    assert!(wait_until(T, || rs_rows(&c) == want), "{:?}", rs_rows(&c));
    assert!(
        wait_until(T, || history_revisions(&c) == ["2", "3"]),
        "{:?}",
        history_revisions(&c)
    );
    assert_eq!(
        c.jsonpath(
            &["get", "deploy", "nginx-deploy"],
            "{.metadata.annotations.deployment\\.kubernetes\\.io/revision}"
        ),
        "3"
    );
    assert_eq!(
        c.jsonpath(
            &["get", "rs", rs1],
            "{.metadata.annotations.deployment\\.kubernetes\\.io/revision-history}"
        ),
        "1"
    );
    let (ok, out, err) = c.kubectl(&[
        "rollout",
        "status",
        "deploy",
        "nginx-deploy",
        "--timeout=90s",
    ]);
    assert!(ok, "{out}\n{err}");

    // Pause: edits make no new ReplicaSet until resume.
    assert_eq!(
        c.kubectl_ok(&["rollout", "pause", "deploy", "nginx-deploy"])
            .trim(),
        "deployment.apps/nginx-deploy paused"
    );
    c.kubectl_retry(&[
        "annotate",
        "deployment",
        "nginx-deploy",
        "kubernetes.io/change-cause=update to 1.9.1",
        "--overwrite",
    ]);
    c.kubectl_retry(&[
        "set",
        "image",
        "deployment/nginx-deploy",
        "nginx=nginx:1.9.1",
    ]);
    c.wait_for(
        &["get", "deploy", "nginx-deploy"],
        "{.status.conditions[?(@.type==\"Progressing\")].reason}",
        "DeploymentPaused",
        T,
    );
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        rs_rows(&c).len(),
        2,
        "paused deployment made a ReplicaSet: {:?}",
        rs_rows(&c)
    );
    let (ok, _, err) = c.kubectl(&["rollout", "undo", "deploy", "nginx-deploy"]);
    assert!(
        !ok && err.contains("you cannot rollback a paused deployment"),
        "{err}"
    );
    assert_eq!(
        c.kubectl_ok(&["rollout", "resume", "deploy", "nginx-deploy"])
            .trim(),
        "deployment.apps/nginx-deploy resumed"
    );
    let (ok, out, err) = c.kubectl(&[
        "rollout",
        "status",
        "deploy",
        "nginx-deploy",
        "--timeout=90s",
    ]);
    assert!(ok, "{out}\n{err}");
    assert!(
        wait_until(T, || history_revisions(&c) == ["2", "3", "4"]),
        "{:?}",
        history_revisions(&c)
    );
    let history = c.kubectl_ok(&["rollout", "history", "deploy", "nginx-deploy"]);
    assert!(history.contains("4         update to 1.9.1"), "{history}");

    // Restart: a new revision with the restartedAt annotation on the template.
    assert_eq!(
        c.kubectl_ok(&["rollout", "restart", "deploy", "nginx-deploy"])
            .trim(),
        "deployment.apps/nginx-deploy restarted"
    );
    let (ok, out, err) = c.kubectl(&[
        "rollout",
        "status",
        "deploy",
        "nginx-deploy",
        "--timeout=90s",
    ]);
    assert!(ok, "{out}\n{err}");
    assert!(
        wait_until(T, || history_revisions(&c) == ["2", "3", "4", "5"]),
        "{:?}",
        history_revisions(&c)
    );
    let restarted = c.jsonpath(
        &["get", "pods", "-l", "app=nginx-deploy"],
        "{.items[0].metadata.annotations.kubectl\\.kubernetes\\.io/restartedAt}",
    );
    assert!(!restarted.is_empty());
}

#[test]
fn recreate_progress_deadline_and_history_limit() {
    let c = CmCluster::start("deployment,replicaset", 2);
    c.apply(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  revisionHistoryLimit: 1
  progressDeadlineSeconds: 5
  strategy: {type: Recreate}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "web:1"}]
"#,
    );
    c.wait_for(
        &["get", "deploy", "web"],
        "{.status.availableReplicas}",
        "3",
        T,
    );
    c.wait_for(
        &["get", "deploy", "web"],
        "{.status.conditions[?(@.type==\"Available\")].reason}",
        "MinimumReplicasAvailable",
        T,
    );

    // Recreate: the new ReplicaSet only starts once no old pod is left.
    c.kubectl_retry(&["set", "image", "deploy/web", "web=web:2"]);
    let mut overlap = false;
    assert!(wait_until(T, || {
        let images = c.jsonpath(
            &["get", "pods", "-l", "app=web"],
            "{.items[*].spec.containers[0].image}",
        );
        let set: std::collections::BTreeSet<&str> = images.split_whitespace().collect();
        overlap |= set.len() > 1;
        images.split_whitespace().count() == 3 && set.len() == 1 && set.contains("web:2")
    }));
    assert!(!overlap, "old and new pods ran together under Recreate");
    let described = c.kubectl_ok(&["describe", "deploy", "web"]);
    assert!(
        described.contains("StrategyType:       Recreate"),
        "{described}"
    );
    let events = c.jsonpath(
        &[
            "get",
            "events",
            "--field-selector",
            "involvedObject.kind=Deployment,involvedObject.name=web",
        ],
        "{range .items[*]}{.message}{\"\\n\"}{end}",
    );
    assert!(events.contains("Scaled down replica set web-"), "{events}");

    // A rollout whose pods never become ready exceeds its progress deadline.
    c.kubectl_retry(&["patch", "deploy", "web", "-p", r#"{"spec":{"template":{"metadata":{"annotations":{"hollow.test/ready":"false"}},"spec":{"containers":[{"name":"web","image":"web:3"}]}}}}"#]);
    c.wait_for(
        &["get", "deploy", "web"],
        "{.status.conditions[?(@.type==\"Progressing\")].reason}",
        "ProgressDeadlineExceeded",
        T,
    );
    let (ok, _, err) = c.kubectl(&["rollout", "status", "deploy", "web", "--timeout=20s"]);
    assert!(!ok);
    assert!(
        err.contains("error: deployment \"web\" exceeded its progress deadline"),
        "{err}"
    );
    let available = c.jsonpath(
        &["get", "deploy", "web"],
        "{.status.conditions[?(@.type==\"Available\")].status}",
    );
    assert_eq!(available, "False");

    // A good template completes the rollout; then revisionHistoryLimit 1
    // leaves one old ReplicaSet of the three.
    c.kubectl_retry(&["patch", "deploy", "web", "-p", r#"{"spec":{"template":{"metadata":{"annotations":null},"spec":{"containers":[{"name":"web","image":"web:4"}]}}}}"#]);
    c.wait_for(
        &["get", "deploy", "web"],
        "{.status.conditions[?(@.type==\"Progressing\")].reason}",
        "NewReplicaSetAvailable",
        T,
    );
    assert!(
        wait_until(T, || {
            let n = c.jsonpath(&["get", "rs", "-l", "app=web"], "{.items[*].metadata.name}");
            n.split_whitespace().count() == 2
        }),
        "{}",
        c.kubectl_ok(&["get", "rs"])
    );
}

/// Sizes of the Deployment's ReplicaSets by image: (image, spec.replicas).
fn rs_sizes(c: &CmCluster, selector: &str) -> Vec<(String, String)> {
    let out = c.jsonpath(
        &["get", "rs", "-l", selector],
        "{range .items[*]}{.spec.template.spec.containers[0].image} {.spec.replicas}{\"\\n\"}{end}",
    );
    let mut v: Vec<(String, String)> = out
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    v.sort();
    v
}

#[test]
fn scaling_mid_rollout_is_proportional() {
    let c = CmCluster::start("deployment,replicaset", 2);
    c.apply(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: prop}
spec:
  replicas: 10
  selector: {matchLabels: {app: prop}}
  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 3, maxUnavailable: 2}}
  template:
    metadata: {labels: {app: prop}}
    spec:
      containers: [{name: web, image: "web:1"}]
"#,
    );
    c.wait_for(
        &["get", "deploy", "prop"],
        "{.status.availableReplicas}",
        "10",
        T,
    );
    // The new pods never become ready: the rollout stops at 8 old + 5 new.
    c.kubectl_retry(&[
        "patch",
        "deploy",
        "prop",
        "-p",
        r#"{"spec":{"template":{"metadata":{"annotations":{"hollow.test/ready":"false"}},"spec":{"containers":[{"name":"web","image":"web:2"}]}}}}"#,
    ]);
    let stalled = [
        ("web:1".to_string(), "8".to_string()),
        ("web:2".to_string(), "5".to_string()),
    ];
    assert!(
        wait_until(T, || rs_sizes(&c, "app=prop") == stalled),
        "{:?}",
        rs_sizes(&c, "app=prop")
    );
    // 20 replicas (+3 surge) over 8:5 of 13 gives 14:9.
    c.kubectl_ok(&["scale", "deploy", "prop", "--replicas=20"]);
    let scaled = [
        ("web:1".to_string(), "14".to_string()),
        ("web:2".to_string(), "9".to_string()),
    ];
    assert!(
        wait_until(T, || rs_sizes(&c, "app=prop") == scaled),
        "{:?}",
        rs_sizes(&c, "app=prop")
    );
}
