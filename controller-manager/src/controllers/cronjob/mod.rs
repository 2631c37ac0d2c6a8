//! The cronjob controller: at each time the schedule names (in
//! `timeZone`, else UTC) create a Job `<cronjob>-<minutes since epoch>`
//! from `jobTemplate`, unless suspended, too late
//! (`startingDeadlineSeconds`) or forbidden by `concurrencyPolicy`
//! (Forbid skips while a Job runs, Replace deletes the running ones);
//! keep only `successfulJobsHistoryLimit` / `failedJobsHistoryLimit`
//! finished Jobs.

pub mod schedule;

use crate::Context;
use crate::controllers::job::finished;
use crate::controllers::reflected::{controller_ref, is_controlled_by};
use crate::controllers::run_controller;
use crate::error::{Error, Result};
use crate::events::Recorder;
use ::client::time::{time, to_chrono};
use chrono::{DateTime, Utc};
use client::informer::Store;
use k8s_openapi::api::batch::v1::{CronJob, CronJobStatus, Job};
use k8s_openapi::api::core::v1::ObjectReference;
use kube::api::{Api, DeleteParams, PostParams};
use kube::runtime::Controller;
use kube::runtime::controller::{Action, Config};
use kube::{Resource, ResourceExt};
use schedule::Schedule;
use std::sync::Arc;
use std::time::Duration;

pub const SCHEDULED_TIMESTAMP_ANNOTATION: &str = "batch.kubernetes.io/cronjob-scheduled-timestamp";
/// Upstream gives up counting missed runs past this many.
const MAX_MISSED: usize = 100;

struct State {
    client: kube::Client,
    jobs: Store<Job>,
    recorder: Recorder,
}

pub async fn run(ctx: Context) -> anyhow::Result<()> {
    let client = ctx.client.clone();
    let cron_informer = ctx.informers.get::<CronJob>();
    let job_informer = ctx.informers.get::<Job>();
    let cron_changes = cron_informer.subscribe().objects();
    let job_changes = job_informer.subscribe().objects();
    job_informer.wait_synced().await;
    let jobs = job_informer.store().clone();
    let controller = Controller::for_shared_stream(cron_changes, cron_informer.reader().await)
        .owns_shared_stream(job_changes)
        .with_config(Config::default().concurrency(ctx.options.concurrent_cron_job_syncs));
    let state = Arc::new(State {
        client,
        jobs,
        recorder: ctx.recorder("cronjob-controller"),
    });
    run_controller("cronjob", ctx.metrics.clone(), controller, reconcile, state).await
}

/// The latest scheduled time in (`earliest`, `now`], and how many there
/// were (capped at [`MAX_MISSED`] + 1).
pub fn most_recent_missed<Tz: chrono::TimeZone>(
    s: &Schedule,
    earliest: DateTime<Tz>,
    now: &DateTime<Tz>,
) -> (Option<DateTime<Tz>>, usize) {
    let mut latest = None;
    let mut count = 0;
    let mut t = earliest;
    while let Some(next) = s.next_after(&t) {
        if next > *now {
            break;
        }
        count += 1;
        latest = Some(next.clone());
        t = next;
        if count > MAX_MISSED {
            // Too many to walk: jump to the last one before now.
            let mut back = now.clone() - chrono::Duration::days(1);
            let mut last = None;
            while let Some(n) = s.next_after(&back) {
                if n > *now {
                    break;
                }
                last = Some(n.clone());
                back = n;
            }
            return (last.or(latest), count);
        }
    }
    (latest, count)
}

fn job_ref(job: &Job) -> ObjectReference {
    ObjectReference {
        api_version: Some("batch/v1".into()),
        kind: Some("Job".into()),
        name: job.metadata.name.clone(),
        namespace: job.metadata.namespace.clone(),
        uid: job.metadata.uid.clone(),
        resource_version: job.metadata.resource_version.clone(),
        ..Default::default()
    }
}

async fn reconcile(cj: Arc<CronJob>, st: Arc<State>) -> Result<Action> {
    if cj.meta().deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let ns = cj.namespace().ok_or(Error::Missing("metadata.namespace"))?;
    let uid = cj.uid().ok_or(Error::Missing("metadata.uid"))?;
    let spec = cj.spec.clone().unwrap_or_default();
    let jobs_api: Api<Job> = Api::namespaced(st.client.clone(), &ns);
    let mut owned: Vec<Arc<Job>> = st
        .jobs
        .namespaced(&ns)
        .into_iter()
        .filter(|j| {
            j.namespace().as_deref() == Some(ns.as_str()) && is_controlled_by(j.as_ref(), &uid)
        })
        .collect();
    owned.sort_by_key(|j| j.metadata.creation_timestamp.clone());
    let old = cj.status.clone().unwrap_or_default();
    let mut status = CronJobStatus {
        last_schedule_time: old.last_schedule_time.clone(),
        ..Default::default()
    };
    status.last_successful_time = owned
        .iter()
        .filter(|j| finished(j).is_some_and(|c| c.type_ == "Complete"))
        .filter_map(|j| j.status.as_ref()?.completion_time.clone())
        .max()
        .or(old.last_successful_time.clone());

    // History limits: oldest finished Jobs beyond the limits go.
    let keep_ok = spec.successful_jobs_history_limit.unwrap_or(3).max(0) as usize;
    let keep_failed = spec.failed_jobs_history_limit.unwrap_or(1).max(0) as usize;
    for (kind, keep) in [("Complete", keep_ok), ("Failed", keep_failed)] {
        let done: Vec<&Arc<Job>> = owned
            .iter()
            .filter(|j| finished(j).is_some_and(|c| c.type_ == kind))
            .collect();
        for j in done.iter().take(done.len().saturating_sub(keep)) {
            delete_job(&jobs_api, j, &st.recorder, &cj).await?;
        }
    }
    let mut running: Vec<Arc<Job>> = owned
        .into_iter()
        .filter(|j| finished(j).is_none() && j.metadata.deletion_timestamp.is_none())
        .collect();

    let schedule = match Schedule::parse(&spec.schedule) {
        Ok(s) => s,
        Err(e) => {
            st.recorder.warning(
                cj.object_ref(&()),
                "InvalidSchedule",
                format!("invalid schedule: {}: {e}", spec.schedule),
            );
            status.active = Some(running.iter().map(|j| job_ref(j)).collect());
            write_status(&st, &cj, status).await?;
            return Ok(Action::await_change());
        }
    };
    let tz: chrono_tz::Tz = match spec.time_zone.as_deref() {
        None => chrono_tz::UTC,
        Some(name) => match name.parse() {
            Ok(tz) => tz,
            Err(_) => {
                st.recorder.warning(
                    cj.object_ref(&()),
                    "UnknownTimeZone",
                    format!("invalid timeZone: {name:?}"),
                );
                return Ok(Action::await_change());
            }
        },
    };
    let now = Utc::now().with_timezone(&tz);
    let mut earliest = status
        .last_schedule_time
        .as_ref()
        .or(cj.metadata.creation_timestamp.as_ref())
        .map(|t| to_chrono(t.0).with_timezone(&tz))
        .unwrap_or(now);
    if let Some(d) = spec.starting_deadline_seconds {
        let floor = now - chrono::Duration::seconds(d);
        if floor > earliest {
            earliest = floor;
        }
    }
    let (missed, count) = most_recent_missed(&schedule, earliest, &now);
    if count > MAX_MISSED {
        st.recorder.warning(
            cj.object_ref(&()),
            "TooManyMissedTimes",
            "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew".into(),
        );
    }
    let policy = spec.concurrency_policy.as_deref().unwrap_or("Allow");
    let decision = run_decision(
        policy,
        spec.suspend.unwrap_or(false),
        missed.is_some(),
        running.len(),
    );
    if let (Some(at), RunDecision::Start | RunDecision::ReplaceAndStart) = (missed, decision) {
        if decision == RunDecision::ReplaceAndStart {
            for j in std::mem::take(&mut running) {
                delete_job(&jobs_api, &j, &st.recorder, &cj).await?;
            }
        }
        if let Some(job) = create_job(&jobs_api, &cj, &at.with_timezone(&Utc), &st.recorder).await?
        {
            running.push(Arc::new(job));
        }
        status.last_schedule_time = Some(time(at.with_timezone(&Utc)));
    } else if decision == RunDecision::SkipForbidden {
        tracing::debug!(cronjob = %cj.name_any(), "a Job is running; skipping this run (Forbid)");
        st.recorder.normal(
            cj.object_ref(&()),
            "JobAlreadyActive",
            "Not starting job because prior execution is running and concurrency policy is Forbid"
                .into(),
        );
    }
    status.active = (!running.is_empty()).then(|| running.iter().map(|j| job_ref(j)).collect());
    write_status(&st, &cj, status).await?;
    // Wake up for the next scheduled time.
    let next = schedule.next_after(&Utc::now().with_timezone(&tz));
    Ok(match next {
        Some(n) => Action::requeue(
            (n.with_timezone(&Utc) - Utc::now())
                .to_std()
                .unwrap_or_default()
                + Duration::from_millis(100),
        ),
        None => Action::await_change(),
    })
}

/// What to do about a due run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunDecision {
    /// Nothing is due, or the CronJob is suspended.
    Nothing,
    Start,
    /// `Replace`: delete the running Jobs, then start.
    ReplaceAndStart,
    /// `Forbid` while a Job still runs: this run is skipped.
    SkipForbidden,
}

/// The `concurrencyPolicy` rule for a run that is due (`due`) while
/// `running` Jobs of the CronJob have not finished.
pub fn run_decision(policy: &str, suspended: bool, due: bool, running: usize) -> RunDecision {
    match (suspended || !due, policy, running) {
        (true, _, _) => RunDecision::Nothing,
        (false, "Forbid", n) if n > 0 => RunDecision::SkipForbidden,
        (false, "Replace", n) if n > 0 => RunDecision::ReplaceAndStart,
        _ => RunDecision::Start,
    }
}

/// Creates the Job for the run scheduled at `at`; `None` when it exists.
async fn create_job(
    api: &Api<Job>,
    cj: &CronJob,
    at: &DateTime<Utc>,
    recorder: &Recorder,
) -> Result<Option<Job>> {
    let template = cj
        .spec
        .as_ref()
        .map(|s| s.job_template.clone())
        .unwrap_or_default();
    let mut job = Job {
        spec: template.spec,
        ..Default::default()
    };
    let meta = template.metadata.unwrap_or_default();
    job.metadata.labels = meta.labels;
    let mut annotations = meta.annotations.unwrap_or_default();
    annotations.insert(
        SCHEDULED_TIMESTAMP_ANNOTATION.into(),
        at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    );
    job.metadata.annotations = Some(annotations);
    let name = format!("{}-{}", cj.name_any(), at.timestamp() / 60);
    job.metadata.name = Some(name.clone());
    job.metadata.namespace = cj.namespace();
    job.metadata.owner_references = Some(vec![controller_ref(cj)]);
    match api.create(&PostParams::default(), &job).await {
        Ok(created) => {
            recorder.normal(
                cj.object_ref(&()),
                "SuccessfulCreate",
                format!("Created job {name}"),
            );
            Ok(Some(created))
        }
        Err(kube::Error::Api(e)) if e.code == 409 => Ok(None),
        Err(e) => {
            recorder.warning(
                cj.object_ref(&()),
                "FailedCreate",
                format!("Error creating job: {e}"),
            );
            Err(e.into())
        }
    }
}

async fn delete_job(api: &Api<Job>, job: &Job, recorder: &Recorder, cj: &CronJob) -> Result<()> {
    match api
        .delete(&job.name_any(), &DeleteParams::background())
        .await
    {
        Ok(_) => {
            recorder.normal(
                cj.object_ref(&()),
                "SuccessfulDelete",
                format!("Deleted job {}", job.name_any()),
            );
            Ok(())
        }
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        Err(e) => Err(e.into()),
    }
}

async fn write_status(st: &State, cj: &CronJob, status: CronJobStatus) -> Result<()> {
    if cj.status.as_ref() == Some(&status) {
        return Ok(());
    }
    let api: Api<CronJob> = Api::namespaced(st.client.clone(), &cj.namespace().unwrap_or_default());
    let mut updated = cj.clone();
    updated.status = Some(status);
    api.replace_status(&cj.name_any(), &PostParams::default(), &updated)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("time")
            .with_timezone(&Utc)
    }

    #[test]
    fn missed_runs() {
        let s = Schedule::parse("*/5 * * * *").expect("schedule");
        let cases = [
            ("2024-01-01T00:00:00Z", "2024-01-01T00:04:59Z", None, 0),
            (
                "2024-01-01T00:00:00Z",
                "2024-01-01T00:05:00Z",
                Some("2024-01-01T00:05:00Z"),
                1,
            ),
            (
                "2024-01-01T00:00:00Z",
                "2024-01-01T00:17:00Z",
                Some("2024-01-01T00:15:00Z"),
                3,
            ),
        ];
        for (from, now, want, n) in cases {
            let (got, count) = most_recent_missed(&s, at(from), &at(now));
            assert_eq!((got, count), (want.map(at), n), "{from} .. {now}");
        }
        // Weeks of missed minutes: capped count, still the latest time.
        let s = Schedule::parse("* * * * *").expect("schedule");
        let (got, count) =
            most_recent_missed(&s, at("2024-01-01T00:00:00Z"), &at("2024-01-20T10:30:30Z"));
        assert_eq!(got, Some(at("2024-01-20T10:30:00Z")));
        assert!(count > MAX_MISSED);
    }

    #[test]
    fn concurrency_policies() {
        use RunDecision::*;
        let cases = [
            ("Allow", false, true, 2, Start),
            ("Forbid", false, true, 1, SkipForbidden),
            ("Forbid", false, true, 0, Start),
            ("Replace", false, true, 1, ReplaceAndStart),
            ("Replace", false, true, 0, Start),
            ("Allow", true, true, 0, Nothing),
            ("Allow", false, false, 0, Nothing),
        ];
        for (policy, suspended, due, running, want) in cases {
            assert_eq!(
                run_decision(policy, suspended, due, running),
                want,
                "{policy} {suspended} {due} {running}"
            );
        }
    }

    #[test]
    fn job_names_count_minutes_since_the_epoch() {
        assert_eq!(at("2024-01-01T00:05:00Z").timestamp() / 60, 28_401_125);
    }
}
