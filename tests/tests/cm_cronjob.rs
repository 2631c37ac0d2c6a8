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
