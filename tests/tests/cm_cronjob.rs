//! A CronJob creating its Jobs on schedule through the real
//! kube-controller-manager (a whole-minute schedule: the test waits for
//! the next minute).

use harness::controller_manager::CmCluster;
use harness::process::wait_until;
use std::time::Duration;

#[test]
fn cronjob_creates_jobs_on_schedule_and_respects_suspend() {
    let c = CmCluster::start("cronjob,job", 1);
    let manifest = |name: &str, suspend: bool| {
        format!(
            r#"apiVersion: batch/v1
kind: CronJob
metadata: {{name: {name}}}
spec:
  schedule: "*/1 * * * *"
  suspend: {suspend}
  concurrencyPolicy: Forbid
  jobTemplate:
    metadata:
      labels: {{cron: {name}}}
    spec:
      template:
        metadata:
          annotations: {{hollow.test/phase: Succeeded}}
        spec:
          restartPolicy: OnFailure
          containers: [{{name: hello, image: busybox}}]
"#
        )
    };
    c.apply(&manifest("hello", false));
    c.apply(&manifest("paused", true));
    let mut jobs = String::new();
    let created = wait_until(Duration::from_secs(75), || {
        jobs = c.jsonpath(
            &["get", "jobs", "-l", "cron=hello"],
            "{.items[*].metadata.name}",
        );
        !jobs.is_empty()
    });
    assert!(created, "no job created:\n{}", c.cm.log_tail(30));
    let name = jobs
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string();
    let minutes: i64 = name
        .strip_prefix("hello-")
        .and_then(|m| m.parse().ok())
        .expect("name is hello-<minutes>");
    assert!(minutes > 28_000_000, "{name}");
    assert_eq!(
        c.jsonpath(
            &["get", "job", &name],
            "{.metadata.ownerReferences[0].kind}"
        ),
        "CronJob"
    );
    assert!(
        !c.jsonpath(&["get", "cronjob", "hello"], "{.status.lastScheduleTime}")
            .is_empty()
    );
    // The Job runs to completion and the CronJob records it.
    c.wait_for(
        &["get", "job", &name],
        "{.status.succeeded}",
        "1",
        Duration::from_secs(30),
    );
    c.wait_for(
        &["get", "cronjob", "hello"],
        "{.status.active}",
        "",
        Duration::from_secs(30),
    );
    assert!(
        !c.jsonpath(&["get", "cronjob", "hello"], "{.status.lastSuccessfulTime}")
            .is_empty()
    );
    let events = c.kubectl_ok(&["describe", "cronjob", "hello"]);
    assert!(events.contains("SuccessfulCreate"), "{events}");
    // The suspended one never ran.
    assert_eq!(
        c.jsonpath(
            &["get", "jobs", "-l", "cron=paused"],
            "{.items[*].metadata.name}"
        ),
        ""
    );
    // A bad schedule is reported, not crashed on.
    let (ok, _, _) = c.kubectl(&[
        "create",
        "cronjob",
        "bad",
        "--image=busybox",
        "--schedule=61 * * * *",
    ]);
    if ok {
        let warned = wait_until(Duration::from_secs(20), || {
            c.kubectl_ok(&["describe", "cronjob", "bad"])
                .contains("InvalidSchedule")
        });
        assert!(warned, "no InvalidSchedule event");
    }
}

/// Jobs that never finish: Forbid skips the next run while one is active,
/// Replace deletes the running Job and starts the new one.
#[test]
fn concurrency_policy_forbid_and_replace() {
    let c = CmCluster::start("cronjob,job", 1);
    let manifest = |name: &str, policy: &str| {
        format!(
            r#"apiVersion: batch/v1
kind: CronJob
metadata: {{name: {name}}}
spec:
  schedule: "*/1 * * * *"
  concurrencyPolicy: {policy}
  jobTemplate:
    metadata:
      labels: {{cron: {name}}}
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{{name: sleep, image: busybox}}]
"#
        )
    };
    c.apply(&manifest("forbid", "Forbid"));
    c.apply(&manifest("replace", "Replace"));
    let jobs = |cron: &str| -> Vec<String> {
        let out = c.jsonpath(
            &["get", "jobs", "-l", &format!("cron={cron}")],
            "{range .items[*]}{.metadata.name} {.metadata.deletionTimestamp}{\"\\n\"}{end}",
        );
        // Jobs not being deleted.
        let mut v: Vec<String> = out
            .lines()
            .filter(|l| l.split_whitespace().count() == 1)
            .map(|l| l.trim().to_string())
            .collect();
        v.sort();
        v
    };
    let minute = |name: &str| -> i64 {
        name.rsplit('-')
            .next()
            .and_then(|m| m.parse().ok())
            .unwrap_or_default()
    };
    assert!(
        wait_until(Duration::from_secs(75), || jobs("replace").len() == 1
            && jobs("forbid").len() == 1),
        "first runs missing: {:?} {:?}\n{}",
        jobs("replace"),
        jobs("forbid"),
        c.cm.log_tail(30)
    );
    let first = jobs("replace")[0].clone();
    // The next minute: Replace swaps its Job for a newer one.
    let replaced = wait_until(Duration::from_secs(75), || {
        let now = jobs("replace");
        now.len() == 1 && minute(&now[0]) > minute(&first)
    });
    assert!(replaced, "{first} not replaced: {:?}", jobs("replace"));
    assert!(
        wait_until(Duration::from_secs(30), || !c
            .kubectl(&["get", "job", &first])
            .0),
        "old job {first} still there"
    );
    // Forbid kept its one active Job over the same minute.
    assert_eq!(jobs("forbid").len(), 1, "{:?}", jobs("forbid"));
    let events = c.kubectl_ok(&["get", "events"]);
    assert!(events.contains("JobAlreadyActive"), "{events}");
}
