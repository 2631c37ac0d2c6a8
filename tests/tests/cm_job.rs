//! Jobs through the real kube-controller-manager and hollow nodes: pods
//! succeed or fail on request (`hollow.test/phase`), and the Job counts
//! completions, backs off, fails on its limits, and (with
//! ttl-after-finished) goes away after its TTL.

use harness::controller_manager::CmCluster;
use harness::process::wait_until;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(60);

fn job(name: &str, phase: &str, spec: &str) -> String {
    format!(
        r#"apiVersion: batch/v1
kind: Job
metadata: {{name: {name}}}
spec:
{spec}
  template:
    metadata:
      annotations: {{hollow.test/phase: "{phase}"}}
    spec:
      restartPolicy: Never
      containers: [{{name: main, image: busybox}}]
"#
    )
}

fn condition(c: &CmCluster, name: &str, type_: &str) -> String {
    c.jsonpath(
        &["get", "job", name],
        &format!("{{.status.conditions[?(@.type==\"{type_}\")].status}}"),
    )
}

#[test]
fn jobs_complete_fail_and_expire() {
    let c = CmCluster::start("job,ttl-after-finished,garbage-collector", 2);

    // Three completions, two at a time.
    c.apply(&job(
        "counted",
        "Succeeded",
        "  completions: 3\n  parallelism: 2",
    ));
    // Indexed: one pod per index, reported as completedIndexes.
    c.apply(&job(
        "indexed",
        "Succeeded",
        "  completions: 3\n  parallelism: 3\n  completionMode: Indexed",
    ));
    // Pods that fail: backoffLimit 1 allows one retry (after a 10 s backoff).
    c.apply(&job("failing", "Failed", "  backoffLimit: 1"));
    // Pods that never finish, past the active deadline.
    c.apply(&job(
        "slow",
        "",
        "  activeDeadlineSeconds: 3\n  parallelism: 2\n  completions: 2",
    ));

    c.wait_for(&["get", "job", "counted"], "{.status.succeeded}", "3", WAIT);
    assert_eq!(condition(&c, "counted", "Complete"), "True");
    assert!(
        !c.jsonpath(&["get", "job", "counted"], "{.status.completionTime}")
            .is_empty()
    );
    let (ok, out, err) = c.kubectl(&[
        "wait",
        "--for=condition=complete",
        "job/counted",
        "--timeout=5s",
    ]);
    assert!(ok, "{out}\n{err}");
    let table = c.kubectl_ok(&["get", "job", "counted"]);
    assert!(table.contains("3/3"), "{table}");

    c.wait_for(
        &["get", "job", "indexed"],
        "{.status.completedIndexes}",
        "0-2",
        WAIT,
    );
    let hostnames = c.jsonpath(
        &["get", "pods", "-l", "batch.kubernetes.io/job-name=indexed"],
        "{.items[*].spec.hostname}",
    );
    let mut names: Vec<&str> = hostnames.split_whitespace().collect();
    names.sort();
    assert_eq!(names, ["indexed-0", "indexed-1", "indexed-2"]);

    c.wait_for(
        &["get", "job", "slow"],
        "{.status.conditions[?(@.type==\"Failed\")].reason}",
        "DeadlineExceeded",
        WAIT,
    );
    let gone = wait_until(WAIT, || {
        c.jsonpath(
            &["get", "pods", "-l", "batch.kubernetes.io/job-name=slow"],
            "{.items[*].metadata.name}",
        )
        .is_empty()
    });
    assert!(gone, "pods of a failed Job keep running");

    c.wait_for(
        &["get", "job", "failing"],
        "{.status.conditions[?(@.type==\"Failed\")].reason}",
        "BackoffLimitExceeded",
        WAIT,
    );
    assert_eq!(
        c.jsonpath(&["get", "job", "failing"], "{.status.failed}"),
        "2"
    );
    let events = c.kubectl_ok(&["describe", "job", "failing"]);
    assert!(
        events.contains("SuccessfulCreate") && events.contains("BackoffLimitExceeded"),
        "{events}"
    );

    // ttlSecondsAfterFinished: the finished Job and its pods go away.
    c.kubectl_ok(&[
        "patch",
        "job",
        "counted",
        "--type=merge",
        "-p",
        r#"{"spec":{"ttlSecondsAfterFinished":1}}"#,
    ]);
    let deleted = wait_until(WAIT, || !c.kubectl(&["get", "job", "counted"]).0);
    assert!(deleted, "job outlived its TTL:\n{}", c.cm.log_tail(30));
    let pods_gone = wait_until(WAIT, || {
        c.jsonpath(
            &["get", "pods", "-l", "batch.kubernetes.io/job-name=counted"],
            "{.items[*].metadata.name}",
        )
        .is_empty()
    });
    assert!(pods_gone, "pods outlived their Job");
}

/// Pods deleted right after they succeed are still counted: the
/// `batch.kubernetes.io/job-tracking` finalizer keeps each one until the
/// Job's status has it, then is removed so the pod goes.
#[test]
fn pods_deleted_after_success_are_still_counted() {
    let c = CmCluster::start("job", 2);
    c.apply(&job(
        "tracked",
        "Succeeded",
        "  completions: 3\n  parallelism: 3",
    ));
    let mut saw_finalizer = false;
    let done = wait_until(WAIT, || {
        let rows = c.jsonpath(
            &["get", "pods", "-l", "job-name=tracked"],
            "{range .items[*]}{.metadata.name} {.status.phase} {.metadata.finalizers}{\"\\n\"}{end}",
        );
        for row in rows.lines() {
            saw_finalizer |= row.contains("batch.kubernetes.io/job-tracking");
            let f: Vec<&str> = row.split_whitespace().collect();
            if f.get(1) == Some(&"Succeeded") {
                let _ = c.kubectl(&["delete", "pod", f[0], "--wait=false"]);
            }
        }
        condition(&c, "tracked", "Complete") == "True"
    });
    assert!(
        done,
        "{}",
        c.kubectl_ok(&["get", "job", "tracked", "-o", "yaml"])
    );
    assert!(saw_finalizer, "pods carried no tracking finalizer");
    let counts = c.jsonpath(
        &["get", "job", "tracked"],
        "{.status.succeeded}/{.status.failed}",
    );
    assert_eq!(counts, "3/0");
    // Released: the deleted pods are gone for good.
    assert!(
        wait_until(WAIT, || c
            .pod_names("default", "job-name=tracked")
            .is_empty()),
        "{:?}",
        c.pod_names("default", "job-name=tracked")
    );
    let created = c.kubectl_ok(&["get", "events"]);
    assert_eq!(
        created.matches("Created pod: tracked-").count(),
        3,
        "{created}"
    );
}

/// Upstream's conformance case "should adopt matching orphans and release
/// non-matching pods": a pod whose ownerReferences were removed but whose
/// labels still match the Job's selector is adopted back; a pod whose
/// labels were removed is released (no controller reference, no tracking
/// finalizer) and replaced.
#[test]
fn adopts_matching_orphans_and_releases_non_matching_pods() {
    let c = CmCluster::start("job", 2);
    c.apply(&job(
        "adopt-release",
        "",
        "  completions: 4\n  parallelism: 2",
    ));
    let running = |c: &CmCluster| {
        c.jsonpath(
            &[
                "get",
                "pods",
                "-l",
                "job-name=adopt-release",
                "--field-selector=status.phase=Running",
            ],
            "{.items[*].metadata.name}",
        )
    };
    let two = wait_until(WAIT, || running(&c).split_whitespace().count() == 2);
    assert!(two, "pods: {:?}\n{}", running(&c), c.cm_log());
    let pod = running(&c)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string();
    let job_uid = c.jsonpath(&["get", "job", "adopt-release"], "{.metadata.uid}");
    let controller = |c: &CmCluster| {
        c.jsonpath(
            &["get", "pod", &pod],
            "{.metadata.ownerReferences[?(@.controller==true)].kind}/{.metadata.ownerReferences[?(@.controller==true)].name}/{.metadata.ownerReferences[?(@.controller==true)].uid}",
        )
    };
    assert_eq!(controller(&c), format!("Job/adopt-release/{job_uid}"));

    // Orphaned (the patch's answer shows no ownerReferences; the Job may
    // adopt it again at once, as an orphan wakes it): the Job adopts it back.
    let orphaned = c.kubectl_retry(&[
        "patch",
        "pod",
        &pod,
        "--type=json",
        "-p",
        r#"[{"op":"remove","path":"/metadata/ownerReferences"}]"#,
        "-o=jsonpath={.metadata.ownerReferences}",
    ]);
    assert_eq!(orphaned.trim(), "");
    c.wait_for(
        &["get", "pod", &pod],
        "{.metadata.ownerReferences[?(@.controller==true)].uid}",
        &job_uid,
        WAIT,
    );
    assert_eq!(controller(&c), format!("Job/adopt-release/{job_uid}"));

    // Labels removed: the Job releases it, tracking finalizer included.
    c.kubectl_retry(&[
        "patch",
        "pod",
        &pod,
        "--type=json",
        "-p",
        r#"[{"op":"remove","path":"/metadata/labels"}]"#,
    ]);
    c.wait_for(
        &["get", "pod", &pod],
        "{.metadata.ownerReferences}",
        "",
        WAIT,
    );
    assert_eq!(
        c.jsonpath(&["get", "pod", &pod], "{.metadata.finalizers}"),
        ""
    );
    // And runs a replacement: two active pods again, the released one not
    // among them.
    let replaced = wait_until(WAIT, || {
        let names = running(&c);
        names.split_whitespace().count() == 2 && !names.contains(&pod)
    });
    assert!(replaced, "pods: {}\n{}", running(&c), c.cm_log());
    c.wait_for(
        &["get", "job", "adopt-release"],
        "{.status.active}",
        "2",
        WAIT,
    );
}
