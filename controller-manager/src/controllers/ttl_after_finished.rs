//! The ttl-after-finished controller: a finished Job (Complete or Failed)
//! with `ttlSecondsAfterFinished` is deleted, with its pods, that many
//! seconds after it finished.

use crate::Context;
use crate::controllers::job::finished;
use crate::controllers::run_controller;
use crate::error::Result;
use chrono::{DateTime, Utc};
use k8s_openapi::api::batch::v1::Job;
use kube::api::{Api, DeleteParams, Preconditions, PropagationPolicy};
use kube::runtime::Controller;
use kube::runtime::controller::{Action, Config};
use kube::{Resource, ResourceExt};
use std::sync::Arc;

struct State {
    client: kube::Client,
}

pub async fn run(ctx: Context) -> anyhow::Result<()> {
    let client = ctx.client.clone();
    let jobs = ctx.informers.get::<Job>();
    let events = jobs.subscribe().objects();
    let controller = Controller::for_shared_stream(events, jobs.reader().await).with_config(
        Config::default().concurrency(ctx.options.concurrent_ttl_after_finished_syncs),
    );
    run_controller(
        "ttl-after-finished",
        ctx.metrics.clone(),
        controller,
        reconcile,
        Arc::new(State { client }),
    )
    .await
}

/// When a finished Job expires, or `None` for Jobs that never do.
pub fn expires_at(job: &Job) -> Option<DateTime<Utc>> {
    let ttl = job.spec.as_ref()?.ttl_seconds_after_finished?;
    let cond = finished(job)?;
    let finished_at = job
        .status
        .as_ref()
        .and_then(|s| s.completion_time.as_ref())
        .or(cond.last_transition_time.as_ref())
        .map(|t| ::client::time::to_chrono(t.0))?;
    Some(finished_at + chrono::Duration::seconds(i64::from(ttl)))
}

async fn reconcile(job: Arc<Job>, st: Arc<State>) -> Result<Action> {
    if job.meta().deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let Some(expiry) = expires_at(&job) else {
        return Ok(Action::await_change());
    };
    let now = Utc::now();
    if now < expiry {
        return Ok(Action::requeue((expiry - now).to_std().unwrap_or_default()));
    }
    let api: Api<Job> = Api::namespaced(st.client.clone(), &job.namespace().unwrap_or_default());
    let dp = DeleteParams {
        propagation_policy: Some(PropagationPolicy::Foreground),
        preconditions: Some(Preconditions {
            uid: job.uid(),
            resource_version: None,
        }),
        ..Default::default()
    };
    tracing::info!(job = %job.name_any(), "deleting finished Job past its TTL");
    match api.delete(&job.name_any(), &dp).await {
        Err(kube::Error::Api(e)) if matches!(e.code, 404 | 409) => {}
        r => {
            r?;
        }
    }
    Ok(Action::await_change())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn job(ttl: Option<i32>, done: Option<&str>) -> Job {
        let mut j = json!({"metadata": {"name": "j"}, "spec": {"template": {}}});
        if let Some(t) = ttl {
            j["spec"]["ttlSecondsAfterFinished"] = json!(t);
        }
        if let Some(kind) = done {
            j["status"] = json!({"conditions": [{"type": kind, "status": "True", "lastTransitionTime": "2024-01-01T00:00:00Z"}]});
        }
        serde_json::from_value(j).expect("job")
    }

    #[test]
    fn expiry() {
        let t0 = DateTime::parse_from_rfc3339("2024-01-01T00:00:00Z")
            .expect("t")
            .with_timezone(&Utc);
        assert_eq!(
            expires_at(&job(Some(10), Some("Complete"))),
            Some(t0 + chrono::Duration::seconds(10))
        );
        assert_eq!(expires_at(&job(Some(0), Some("Failed"))), Some(t0));
        assert_eq!(expires_at(&job(None, Some("Complete"))), None);
        assert_eq!(expires_at(&job(Some(10), None)), None);
    }
}
