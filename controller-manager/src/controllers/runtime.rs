//! What every controller shares around kube-runtime's `Controller`: the
//! error policy and the loop that drives it and counts reconciles.

use crate::error::Error;
use crate::metrics::Metrics;
use futures::StreamExt;
use kube::Resource;
use kube::runtime::Controller;
use kube::runtime::controller::Action;
use std::fmt::Debug;
use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

/// How long to wait before retrying an object whose reconcile failed: soon
/// after a write conflict, slowly for objects the user must fix.
pub fn retry_after(error: &Error) -> Duration {
    match error {
        Error::Kube(kube::Error::Api(s)) if s.code == 409 => Duration::from_millis(200),
        Error::Kube(kube::Error::Api(s)) if s.code == 404 => Duration::from_secs(1),
        Error::Invalid { .. } => Duration::from_secs(60),
        _ => Duration::from_secs(5),
    }
}

/// The error policy every controller uses.
pub fn requeue_on_error<K, C>(_obj: Arc<K>, error: &Error, _ctx: Arc<C>) -> Action {
    Action::requeue(retry_after(error))
}

/// Runs `controller` with `reconcile` until its watches end, logging and
/// counting each reconcile under `name`.
pub async fn run_controller<K, C, F, Fut>(
    name: &'static str,
    metrics: Arc<Metrics>,
    controller: Controller<K>,
    reconcile: F,
    ctx: Arc<C>,
) -> anyhow::Result<()>
where
    K: Resource + Clone + Debug + serde::de::DeserializeOwned + Send + Sync + 'static,
    K::DynamicType: Debug + Eq + Hash + Clone + Unpin + Send + Sync,
    C: Send + Sync + 'static,
    F: FnMut(Arc<K>, Arc<C>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Action, Error>> + Send + 'static,
{
    tracing::info!(controller = name, "starting controller");
    controller
        .run(reconcile, requeue_on_error, ctx)
        .for_each(|result| {
            match result {
                Ok((obj, _)) => {
                    tracing::trace!(controller = name, object = %obj, "reconciled");
                    metrics.reconciled(name, "success");
                }
                Err(kube::runtime::controller::Error::ReconcilerFailed(e, obj)) => {
                    if e.is_status(409) {
                        tracing::debug!(controller = name, object = %obj, error = %e, "conflict; retrying");
                    } else {
                        tracing::warn!(controller = name, object = %obj, error = %e, "reconcile failed");
                    }
                    metrics.reconciled(name, "error");
                }
                Err(e) => tracing::debug!(controller = name, error = %e, "controller event"),
            }
            futures::future::ready(())
        })
        .await;
    tracing::info!(controller = name, "controller stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::Status;

    fn api(code: u16) -> Error {
        Error::Kube(kube::Error::Api(
            Status::failure("", "").with_code(code).boxed(),
        ))
    }

    #[test]
    fn backoff_by_cause() {
        assert_eq!(retry_after(&api(409)), Duration::from_millis(200));
        assert_eq!(retry_after(&api(404)), Duration::from_secs(1));
        assert_eq!(retry_after(&api(500)), Duration::from_secs(5));
        assert_eq!(
            retry_after(&Error::invalid("selector", "bad")),
            Duration::from_secs(60)
        );
    }
}
