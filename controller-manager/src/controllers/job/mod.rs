//! The job controller: run a Job's pods until `completions` of them
//! succeed (one per index for `completionMode: Indexed`), at most
//! `parallelism` at a time, restarting failures with exponential backoff
//! until `backoffLimit`, `activeDeadlineSeconds` or a `podFailurePolicy`
//! rule fails the Job; then record Complete or Failed.

pub mod adoption;
pub mod tally;
pub mod tracking;

use crate::Context;
use crate::controllers::expectations::Expectations;
use crate::controllers::reflected::controller_ref;
use crate::controllers::run_controller;
use crate::error::{Error, Result};
use crate::events::Recorder;
use ::client::time::{time, to_chrono};
use chrono::Utc;
use client::informer::Store;
use k8s_openapi::api::batch::v1::{Job, JobCondition, JobStatus, UncountedTerminatedPods};
use k8s_openapi::api::core::v1::{EnvVar, Pod};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::Controller;
use kube::runtime::controller::{Action, Config};
use kube::runtime::reflector::ObjectRef;
use kube::{Resource, ResourceExt};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use tally::{COMPLETION_INDEX, FailureVerdict, Tally};
use tracking::{Ending, PodFacts, TRACKING_FINALIZER};

pub const CONTROLLER_UID_LABEL: &str = "batch.kubernetes.io/controller-uid";
pub const JOB_NAME_LABEL: &str = "batch.kubernetes.io/job-name";

struct State {
    client: kube::Client,
    pods: Store<Pod>,
    recorder: Recorder,
    /// Pods created or deleted that the cache does not show yet.
    expectations: Expectations,
}

pub async fn run(ctx: Context) -> anyhow::Result<()> {
    let client = ctx.client.clone();
    let job_informer = ctx.informers.get::<Job>();
    let pod_informer = ctx.informers.get::<Pod>();
    let job_changes = job_informer.subscribe().objects();
    let pod_changes = pod_informer.subscribe().objects();
    let orphan_changes = pod_informer.subscribe().objects();
    pod_informer.wait_synced().await;
    let pods = pod_informer.store().clone();
    let jobs = job_informer.store().clone();
    let controller = Controller::for_shared_stream(job_changes, job_informer.reader().await)
        .owns_shared_stream(pod_changes)
        // An orphan pod (its ownerReference removed) wakes the Jobs whose
        // selector matches it, so they adopt it without waiting for a resync.
        .watches_shared_stream(orphan_changes, move |pod: Arc<Pod>| {
            let namespace = pod.namespace().unwrap_or_default();
            adoption::jobs_for_orphan(&pod, &jobs.namespaced(&namespace))
                .iter()
                .map(|j| ObjectRef::from_obj(j.as_ref()))
                .collect::<Vec<_>>()
        })
        .with_config(Config::default().concurrency(ctx.options.concurrent_job_syncs));
    tokio::spawn(release_orphans(
        client.clone(),
        pods.clone(),
        job_informer.store().clone(),
    ));
    let state = Arc::new(State {
        client,
        pods,
        recorder: ctx.recorder("job-controller"),
        expectations: Expectations::default(),
    });
    run_controller("job", ctx.metrics.clone(), controller, reconcile, state).await
}

/// Whether a Job has a `Complete` or `Failed` condition that is true.
pub fn finished(job: &Job) -> Option<&JobCondition> {
    job.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| (c.type_ == "Complete" || c.type_ == "Failed") && c.status == "True")
}

fn condition(type_: &str, reason: &str, message: &str) -> JobCondition {
    let now = Some(time(Utc::now()));
    JobCondition {
        type_: type_.into(),
        status: "True".into(),
        reason: Some(reason.into()),
        message: Some(message.into()),
        last_probe_time: now.clone(),
        last_transition_time: now,
    }
}

async fn reconcile(job: Arc<Job>, st: Arc<State>) -> Result<Action> {
    let ns = job
        .namespace()
        .ok_or(Error::Missing("metadata.namespace"))?;
    let uid = job.uid().ok_or(Error::Missing("metadata.uid"))?;
    let pods_api: Api<Pod> = Api::namespaced(st.client.clone(), &ns);
    let in_namespace: Vec<Arc<Pod>> = st
        .pods
        .namespaced(&ns)
        .into_iter()
        .filter(|p| p.namespace().as_deref() == Some(ns.as_str()))
        .collect();
    let owned = adoption::claim(&pods_api, &job, &in_namespace).await?;
    let key = format!("{ns}/{}", job.name_any());
    let seen = |uid: &str| {
        owned
            .iter()
            .any(|p| p.uid().as_deref() == Some(uid) && p.metadata.deletion_timestamp.is_none())
    };
    let w = Writer {
        api: &pods_api,
        st: &st,
        job: &job,
        key: &key,
    };
    // A Job going away, or finished, holds on to none of its pods.
    if job.meta().deletion_timestamp.is_some() || finished(&job).is_some() {
        for p in &owned {
            w.strip(p).await?;
        }
        if job.meta().deletion_timestamp.is_some() {
            return Ok(Action::await_change());
        }
    }
    let mut counted = (0, 0);
    if job.meta().deletion_timestamp.is_none() && finished(&job).is_none() {
        match account_finished_pods(&w, &owned).await? {
            Tracked::Wait(action) => return Ok(action),
            Tracked::Counted(s, f) => counted = (s, f),
        }
    }
    if !st.expectations.satisfied(&key, seen) {
        return Ok(Action::requeue(Duration::from_millis(300)));
    }
    let refs: Vec<&Pod> = owned.iter().map(Arc::as_ref).collect();
    let mut t = tally::tally(&job, &refs);
    let spec = job.spec.clone().unwrap_or_default();
    let old = job.status.clone().unwrap_or_default();
    let mut status = JobStatus {
        conditions: old.conditions.clone(),
        start_time: old.start_time.clone(),
        completion_time: old.completion_time.clone(),
        // The counters of tracking (see [`tracking`]): pods that finished
        // may have been deleted since.
        succeeded: Some(old.succeeded.unwrap_or(0) + counted.0),
        failed: Some(old.failed.unwrap_or(0) + counted.1),
        uncounted_terminated_pods: Some(Default::default()),
        ..Default::default()
    };
    let indexed = spec.completion_mode.as_deref() == Some("Indexed");
    if indexed {
        let recorded = tally::parse_indexes(old.completed_indexes.as_deref().unwrap_or(""));
        t.succeeded_indexes.extend(recorded);
        status.completed_indexes = Some(tally::format_indexes(&t.succeeded_indexes));
    }
    let mut requeue: Option<Duration> = None;

    if finished(&job).is_some() {
        // Leftover pods of a finished Job stop.
        w.delete_pods(&t.active).await?;
        status.active = Some(0);
        status.ready = Some(0);
        return write_status(&st, &job, status).await;
    }
    let suspended = spec.suspend.unwrap_or(false);
    if !suspended && status.start_time.is_none() {
        status.start_time = Some(time(Utc::now()));
    }
    let succeeded = status.succeeded.unwrap_or(0);
    let failed = status.failed.unwrap_or(0);
    let completions = spec.completions;
    let backoff_limit = spec.backoff_limit.unwrap_or(6);
    let deadline_passed = spec.active_deadline_seconds.and_then(|d| {
        let start = to_chrono(status.start_time.as_ref()?.0);
        let end = start + chrono::Duration::seconds(d);
        let now = Utc::now();
        if now >= end {
            Some(true)
        } else {
            requeue = Some((end - now).to_std().unwrap_or_default());
            None
        }
    });
    let failure = if let Some(m) = &t.fail_job {
        Some(("PodFailurePolicy", m.clone()))
    } else if failed > backoff_limit {
        Some((
            "BackoffLimitExceeded",
            "Job has reached the specified backoff limit".to_string(),
        ))
    } else if deadline_passed.is_some() {
        Some((
            "DeadlineExceeded",
            "Job was active longer than specified deadline".to_string(),
        ))
    } else {
        None
    };
    let complete = match completions {
        Some(c) if indexed => t.succeeded_indexes.len() as i32 >= c,
        Some(c) => succeeded >= c,
        // A work queue: done once one pod succeeded and none runs.
        None => succeeded > 0 && t.active.is_empty(),
    };
    let mut active = t.active.len() as i32;
    if let Some((reason, message)) = failure {
        w.delete_pods(&t.active).await?;
        active = 0;
        let conds = status.conditions.get_or_insert_with(Vec::new);
        conds.push(condition("FailureTarget", reason, &message));
        conds.push(condition("Failed", reason, &message));
        st.recorder.warning(job.object_ref(&()), reason, message);
    } else if complete {
        w.delete_pods(&t.active).await?;
        active = 0;
        let conds = status.conditions.get_or_insert_with(Vec::new);
        conds.push(condition(
            "SuccessCriteriaMet",
            "CompletionsReached",
            "Reached expected number of succeeded pods",
        ));
        conds.push(condition(
            "Complete",
            "CompletionsReached",
            "Reached expected number of succeeded pods",
        ));
        status.completion_time = Some(time(Utc::now()));
        st.recorder
            .normal(job.object_ref(&()), "Completed", "Job completed".into());
    } else if suspended {
        w.delete_pods(&t.active).await?;
        active = 0;
    } else {
        let parallelism = spec.parallelism.unwrap_or(1).max(0);
        let remaining = match completions {
            Some(c) if indexed => c - t.succeeded_indexes.len() as i32,
            Some(c) => c - succeeded,
            None => parallelism,
        };
        let wanted = parallelism.min(remaining.max(0));
        if active > wanted {
            let mut newest: Vec<&Pod> = t.active.clone();
            newest.sort_by_key(|p| std::cmp::Reverse(p.metadata.creation_timestamp.clone()));
            let extra: Vec<&Pod> = newest
                .into_iter()
                .take((active - wanted) as usize)
                .collect();
            w.delete_pods(&extra).await?;
            active = wanted;
        } else if active < wanted {
            let wait = waiting_for_backoff(&t, failed);
            if wait > Duration::ZERO {
                requeue = Some(requeue.map_or(wait, |r| r.min(wait)));
            } else {
                let count = (wanted - active) as usize;
                let indexes: Vec<Option<i32>> = match completions {
                    Some(c) if indexed => {
                        tally::missing_indexes(c, &t.succeeded_indexes, &t.active, count)
                            .into_iter()
                            .map(Some)
                            .collect()
                    }
                    _ => vec![None; count],
                };
                for index in indexes {
                    w.create_pod(&uid, index).await?;
                    active += 1;
                }
            }
        }
    }
    status.active = Some(active);
    status.ready = Some(t.ready.min(active));
    write_status(&st, &job, status).await?;
    // An unfinished Job is looked at again now and then even without
    // events: a trigger lost between the watches must not stall it.
    let resync = requeue.map_or(RESYNC, |r| r.min(RESYNC));
    Ok(Action::requeue(resync))
}

/// How a pod ended, for tracking (None while it runs).
fn ending_of(job: &Job, p: &Pod) -> Option<Ending> {
    let rules = job
        .spec
        .as_ref()
        .and_then(|s| s.pod_failure_policy.as_ref())
        .map(|p| p.rules.as_slice())
        .unwrap_or(&[]);
    let phase = p
        .status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("");
    match phase {
        "Succeeded" => Some(Ending::Succeeded),
        "Failed" => Some(match tally::failure_verdict(rules, p) {
            FailureVerdict::Ignore => Ending::Ignored,
            _ => Ending::Failed,
        }),
        // Deleted while running: a failure.
        _ if p.metadata.deletion_timestamp.is_some() => Some(Ending::Failed),
        _ => None,
    }
}

/// The outcome of one tracking step.
enum Tracked {
    /// Pods are still between finishing and being counted: the Job's other
    /// decisions wait for the next sync.
    Wait(Action),
    /// All finished pods are counted; these (succeeded, failed) are new.
    Counted(i32, i32),
}

/// One tracking step (see [`tracking`]).
async fn account_finished_pods(w: &Writer<'_>, owned: &[Arc<Pod>]) -> Result<Tracked> {
    let job = w.job;
    let old = job.status.clone().unwrap_or_default();
    let facts: Vec<PodFacts> = owned
        .iter()
        .map(|p| PodFacts {
            uid: p.uid().unwrap_or_default(),
            has_finalizer: p.finalizers().iter().any(|f| f == TRACKING_FINALIZER),
            ending: ending_of(job, p),
        })
        .collect();
    let recorded = old.uncounted_terminated_pods.clone().unwrap_or_default();
    let as_set =
        |v: Option<Vec<String>>| v.unwrap_or_default().into_iter().collect::<BTreeSet<_>>();
    let (rs, rf) = (as_set(recorded.succeeded), as_set(recorded.failed));
    let a = tracking::account(&facts, &rs, &rf);
    if !a.pending() {
        return Ok(Tracked::Counted(a.moved_succeeded, a.moved_failed));
    }
    let unchanged = a.uncounted_succeeded == rs
        && a.uncounted_failed == rf
        && a.moved_succeeded == 0
        && a.moved_failed == 0;
    if !unchanged {
        let mut status = old.clone();
        status.succeeded = Some(old.succeeded.unwrap_or(0) + a.moved_succeeded);
        status.failed = Some(old.failed.unwrap_or(0) + a.moved_failed);
        status.uncounted_terminated_pods = Some(UncountedTerminatedPods {
            succeeded: Some(a.uncounted_succeeded.iter().cloned().collect()),
            failed: Some(a.uncounted_failed.iter().cloned().collect()),
        });
        write_status(w.st, job, status).await?;
    }
    for p in owned
        .iter()
        .filter(|p| p.uid().is_some_and(|u| a.strip.contains(&u)))
    {
        w.strip(p).await?;
    }
    Ok(Tracked::Wait(Action::requeue(Duration::from_millis(300))))
}

/// How often an unfinished Job is reconciled without a trigger.
const RESYNC: Duration = Duration::from_secs(10);

/// How long until the next pod may start after `failed` failures.
fn waiting_for_backoff(t: &Tally, failed: i32) -> Duration {
    let Some(last) = t.last_failure else {
        return Duration::ZERO;
    };
    let until = last + chrono::Duration::from_std(tally::backoff(failed)).unwrap_or_default();
    (until - Utc::now()).to_std().unwrap_or(Duration::ZERO)
}

async fn write_status(st: &State, job: &Job, status: JobStatus) -> Result<Action> {
    if job.status.as_ref() == Some(&status) {
        return Ok(Action::await_change());
    }
    let api: Api<Job> = Api::namespaced(st.client.clone(), &job.namespace().unwrap_or_default());
    let mut updated = job.clone();
    updated.status = Some(status);
    api.replace_status(&job.name_any(), &PostParams::default(), &updated)
        .await?;
    Ok(Action::await_change())
}

/// Pod writes for one Job, recorded as expectations and Events.
struct Writer<'a> {
    api: &'a Api<Pod>,
    st: &'a State,
    job: &'a Job,
    key: &'a str,
}

impl Writer<'_> {
    async fn create_pod(&self, uid: &str, index: Option<i32>) -> Result<()> {
        let job = self.job;
        let name = job.name_any();
        let template = job
            .spec
            .as_ref()
            .map(|s| s.template.clone())
            .unwrap_or_default();
        let mut pod = Pod {
            spec: template.spec,
            ..Default::default()
        };
        let mut meta = template.metadata.unwrap_or_default();
        let labels = meta.labels.get_or_insert_with(BTreeMap::new);
        for (k, v) in [
            (CONTROLLER_UID_LABEL, uid),
            ("controller-uid", uid),
            (JOB_NAME_LABEL, &name),
            ("job-name", &name),
        ] {
            labels.insert(k.into(), v.into());
        }
        meta.generate_name = Some(match index {
            Some(i) => format!("{name}-{i}-"),
            None => format!("{name}-"),
        });
        if let Some(i) = index {
            labels.insert(COMPLETION_INDEX.into(), i.to_string());
            meta.annotations
                .get_or_insert_with(BTreeMap::new)
                .insert(COMPLETION_INDEX.into(), i.to_string());
            if let Some(spec) = pod.spec.as_mut() {
                spec.hostname.get_or_insert_with(|| format!("{name}-{i}"));
                for c in &mut spec.containers {
                    c.env.get_or_insert_with(Vec::new).push(EnvVar {
                        name: "JOB_COMPLETION_INDEX".into(),
                        value: Some(i.to_string()),
                        value_from: None,
                    });
                }
            }
        }
        meta.name = None;
        meta.namespace = job.namespace();
        meta.owner_references = Some(vec![controller_ref(job)]);
        meta.finalizers
            .get_or_insert_with(Vec::new)
            .push(TRACKING_FINALIZER.into());
        pod.metadata = meta;
        let created = self.api.create(&PostParams::default(), &pod).await?;
        if let Some(uid) = created.uid() {
            self.st.expectations.created(self.key, uid);
        }
        self.st.recorder.normal(
            job.object_ref(&()),
            "SuccessfulCreate",
            format!("Created pod: {}", created.name_any()),
        );
        Ok(())
    }

    /// Removes the tracking finalizer from `pod` (a no-op without it).
    async fn strip(&self, pod: &Pod) -> Result<()> {
        strip_finalizer(self.api, pod).await
    }

    async fn delete_pods(&self, pods: &[&Pod]) -> Result<()> {
        for p in pods {
            // The controller's own deletions are not failures to count.
            self.strip(p).await?;
            match self
                .api
                .delete(&p.name_any(), &DeleteParams::default())
                .await
            {
                Ok(_) => {
                    if let Some(uid) = p.uid() {
                        self.st.expectations.deleted(self.key, uid);
                    }
                    let message = format!("Deleted pod: {}", p.name_any());
                    self.st
                        .recorder
                        .normal(self.job.object_ref(&()), "SuccessfulDelete", message);
                }
                Err(kube::Error::Api(e)) if e.code == 404 => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}

/// Removes the tracking finalizer from `pod`, guarded by its
/// resourceVersion; a pod already gone is fine.
async fn strip_finalizer(api: &Api<Pod>, pod: &Pod) -> Result<()> {
    if !pod.finalizers().iter().any(|f| f == TRACKING_FINALIZER) {
        return Ok(());
    }
    let rest: Vec<&String> = pod
        .finalizers()
        .iter()
        .filter(|f| *f != TRACKING_FINALIZER)
        .collect();
    let patch = serde_json::json!({"metadata": {
        "resourceVersion": pod.metadata.resource_version,
        "finalizers": if rest.is_empty() { serde_json::Value::Null } else { serde_json::json!(rest) },
    }});
    match api
        .patch(
            &pod.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Pods whose Job is gone keep no tracking finalizer: looked for now and
/// then, since no Job sync sees them any more.
async fn release_orphans(client: kube::Client, pods: Store<Pod>, jobs: Store<Job>) {
    loop {
        tokio::time::sleep(Duration::from_secs(5)).await;
        let live: BTreeSet<String> = jobs
            .list()
            .iter()
            .filter(|j| j.metadata.deletion_timestamp.is_none())
            .filter_map(|j| j.uid())
            .collect();
        for p in pods.list() {
            let orphan = p.finalizers().iter().any(|f| f == TRACKING_FINALIZER)
                && !p
                    .owner_references()
                    .iter()
                    .any(|r| r.controller == Some(true) && live.contains(&r.uid));
            if orphan {
                let api: Api<Pod> =
                    Api::namespaced(client.clone(), &p.namespace().unwrap_or_default());
                if let Err(e) = strip_finalizer(&api, &p).await {
                    tracing::debug!("releasing pod {}: {e}", p.name_any());
                }
            }
        }
    }
}
