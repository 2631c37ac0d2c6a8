//! Which pods a Job owns: those that name it as controller and match its
//! selector. As upstream's ControllerRefManager does for Jobs, a Job
//! adopts matching orphans (pods with no controller, e.g. after someone
//! removed their ownerReferences) and releases the pods it controls whose
//! labels stopped matching; adoption adds the tracking finalizer and
//! release removes it, since only the Job counts what its pods did.

use super::tracking::TRACKING_FINALIZER;
use crate::controllers::pod_ownership;
use crate::controllers::podutil::controller_of;
use crate::controllers::reflected::controller_ref;
use crate::error::Result;
use apimachinery::labels::Selector;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use kube::{Resource, ResourceExt};
use std::sync::Arc;

/// What the Job does about one pod of its namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Controlled by the Job and matching (or the Job is going away: its
    /// pods then only lose their tracking finalizers).
    Owned,
    /// An orphan that matches: becomes the Job's.
    Adopt,
    /// Controlled by the Job but no longer matching: let go.
    Release,
    /// Someone else's, or not for this Job.
    Ignore,
}

/// The decision for `pod`, given whether it matches the Job's selector
/// and whether the Job is settled: being deleted (the garbage collector
/// handles its pods) or finished (upstream's controller no longer syncs
/// it). A settled Job adopts nothing and releases nothing.
pub fn claim_of(job_uid: &str, job_settled: bool, matches: bool, pod: &Pod) -> Claim {
    let pod_deleting = pod.metadata.deletion_timestamp.is_some();
    match controller_of(&pod.metadata) {
        Some(owner) if owner.uid == job_uid => {
            if matches || job_settled {
                Claim::Owned
            } else {
                Claim::Release
            }
        }
        Some(_) => Claim::Ignore,
        None if matches && !job_settled && !pod_deleting => Claim::Adopt,
        None => Claim::Ignore,
    }
}

/// The Jobs of `jobs` (the pod's namespace's) that an orphan pod should
/// wake: those whose selector matches it, as upstream's `getPodJobs`. A
/// pod with a controller wakes only its owner (through the owns stream).
pub fn jobs_for_orphan(pod: &Pod, jobs: &[Arc<Job>]) -> Vec<Arc<Job>> {
    if pod
        .owner_references()
        .iter()
        .any(|r| r.controller == Some(true))
    {
        return Vec::new();
    }
    jobs.iter()
        .filter(|j| selector_of(j).matches(pod.labels()))
        .cloned()
        .collect()
}

/// The Job's selector (`spec.selector`); a Job without one selects nothing.
fn selector_of(job: &Job) -> Selector {
    job.spec
        .as_ref()
        .and_then(|s| s.selector.as_ref())
        .and_then(|s| serde_json::to_value(s).ok())
        .and_then(|v| Selector::from_label_selector(&v).ok())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(Selector::nothing)
}

/// The pods of `pods` (one namespace's) that `job` owns after adopting
/// and releasing. An adopted pod is returned as the apiserver answered.
pub async fn claim(api: &Api<Pod>, job: &Job, pods: &[Arc<Pod>]) -> Result<Vec<Arc<Pod>>> {
    let uid = job.uid().unwrap_or_default();
    let settled = job.meta().deletion_timestamp.is_some() || super::finished(job).is_some();
    let selector = selector_of(job);
    let mut owned = Vec::new();
    for pod in pods {
        let matches = selector.matches(pod.labels());
        match claim_of(&uid, settled, matches, pod) {
            Claim::Owned => owned.push(pod.clone()),
            Claim::Adopt => {
                if let Some(adopted) =
                    pod_ownership::adopt(api, pod, controller_ref(job), Some(TRACKING_FINALIZER))
                        .await?
                {
                    owned.push(Arc::new(adopted));
                }
            }
            Claim::Release => {
                pod_ownership::release(api, pod, &uid, Some(TRACKING_FINALIZER)).await?
            }
            Claim::Ignore => {}
        }
    }
    Ok(owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

    fn pod(controller: Option<&str>, deleting: bool) -> Pod {
        Pod {
            metadata: ObjectMeta {
                owner_references: controller.map(|uid| {
                    vec![OwnerReference {
                        api_version: "batch/v1".into(),
                        kind: "Job".into(),
                        name: "j".into(),
                        uid: uid.into(),
                        controller: Some(true),
                        block_owner_deletion: Some(true),
                    }]
                }),
                deletion_timestamp: deleting.then(|| ::client::time::time(chrono::Utc::now())),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn orphans_are_adopted_and_non_matching_pods_released() {
        // Ours and matching: kept; ours and not matching: released.
        assert_eq!(
            claim_of("j", false, true, &pod(Some("j"), false)),
            Claim::Owned
        );
        assert_eq!(
            claim_of("j", false, false, &pod(Some("j"), false)),
            Claim::Release
        );
        // Released even on its way out; a settled Job keeps the link.
        assert_eq!(
            claim_of("j", false, false, &pod(Some("j"), true)),
            Claim::Release
        );
        assert_eq!(
            claim_of("j", true, false, &pod(Some("j"), false)),
            Claim::Owned
        );
        // Orphans: adopted when matching, unless the pod is going away or
        // the Job is settled.
        assert_eq!(claim_of("j", false, true, &pod(None, false)), Claim::Adopt);
        assert_eq!(
            claim_of("j", false, false, &pod(None, false)),
            Claim::Ignore
        );
        assert_eq!(claim_of("j", true, true, &pod(None, false)), Claim::Ignore);
        assert_eq!(claim_of("j", false, true, &pod(None, true)), Claim::Ignore);
        // Another controller's pod is never touched.
        assert_eq!(
            claim_of("j", false, true, &pod(Some("other"), false)),
            Claim::Ignore
        );
    }
}
