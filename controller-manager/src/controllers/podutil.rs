//! Facts about pods that every workload controller asks: is it active,
//! ready, available; which controller owns it; which pods to delete first;
//! and the pod a template stands for.

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use std::cmp::Ordering;

/// Not finished and not being deleted: it counts toward `replicas`.
pub fn is_active(pod: &Pod) -> bool {
    let phase = phase(pod);
    phase != "Succeeded" && phase != "Failed" && pod.metadata.deletion_timestamp.is_none()
}

pub fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("Pending")
}

/// When the pod's Ready condition turned True, if it is True.
pub fn ready_since(pod: &Pod) -> Option<Option<DateTime<Utc>>> {
    let cond = pod
        .status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready")?;
    (cond.status == "True").then(|| {
        cond.last_transition_time
            .as_ref()
            .map(|t| ::client::time::to_chrono(t.0))
    })
}

pub fn is_ready(pod: &Pod) -> bool {
    ready_since(pod).is_some()
}

/// Ready for at least `min_ready_seconds` at `now`.
pub fn is_available(pod: &Pod, min_ready_seconds: i32, now: DateTime<Utc>) -> bool {
    match ready_since(pod) {
        None => false,
        Some(_) if min_ready_seconds <= 0 => true,
        Some(None) => false,
        Some(Some(since)) => since + chrono::Duration::seconds(min_ready_seconds as i64) <= now,
    }
}

/// Seconds until a ready pod becomes available, if it is ready but not yet.
pub fn seconds_until_available(
    pod: &Pod,
    min_ready_seconds: i32,
    now: DateTime<Utc>,
) -> Option<i64> {
    let since = ready_since(pod)??;
    let at = since + chrono::Duration::seconds(min_ready_seconds as i64);
    (at > now).then(|| (at - now).num_seconds() + 1)
}

/// The ownerReference with `controller: true`, if any.
pub fn controller_of(meta: &ObjectMeta) -> Option<&OwnerReference> {
    meta.owner_references
        .as_ref()?
        .iter()
        .find(|r| r.controller == Some(true))
}

/// The controller reference an owner puts on what it creates.
pub fn controller_ref(api_version: &str, kind: &str, owner: &ObjectMeta) -> OwnerReference {
    OwnerReference {
        api_version: api_version.to_string(),
        kind: kind.to_string(),
        name: owner.name.clone().unwrap_or_default(),
        uid: owner.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// The pod `template` describes, owned by `owner`, named by the apiserver
/// from `generate_name` (or named `name` when given).
pub fn pod_from_template(
    template: &PodTemplateSpec,
    namespace: &str,
    generate_name: Option<String>,
    name: Option<String>,
    owner: OwnerReference,
) -> Pod {
    let meta = template.metadata.clone().unwrap_or_default();
    Pod {
        metadata: ObjectMeta {
            name,
            generate_name,
            namespace: Some(namespace.to_string()),
            labels: meta.labels,
            annotations: meta.annotations,
            finalizers: meta.finalizers,
            owner_references: Some(vec![owner]),
            ..Default::default()
        },
        spec: template.spec.clone(),
        status: None,
    }
}

fn phase_rank(pod: &Pod) -> u8 {
    match phase(pod) {
        "Pending" => 0,
        "Unknown" => 1,
        "Running" => 2,
        _ => 3,
    }
}

fn restarts(pod: &Pod) -> i32 {
    pod.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .map(|cs| cs.iter().map(|c| c.restart_count).max().unwrap_or(0))
        .unwrap_or(0)
}

fn deletion_cost(pod: &Pod) -> i64 {
    pod.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get("controller.kubernetes.io/pod-deletion-cost"))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Orders pods so the ones to delete first come first: unscheduled before
/// scheduled, pending before running, not ready before ready, lower
/// deletion cost first, ready for less time first, more restarts first,
/// newer before older.
pub fn deletion_order(a: &Pod, b: &Pod) -> Ordering {
    let assigned = |p: &Pod| {
        p.spec
            .as_ref()
            .and_then(|s| s.node_name.as_deref())
            .is_some_and(|n| !n.is_empty())
    };
    let created = |p: &Pod| p.metadata.creation_timestamp.as_ref().map(|t| t.0);
    assigned(a)
        .cmp(&assigned(b))
        .then(phase_rank(a).cmp(&phase_rank(b)))
        .then(is_ready(a).cmp(&is_ready(b)))
        .then(deletion_cost(a).cmp(&deletion_cost(b)))
        .then_with(
            || match (ready_since(a).flatten(), ready_since(b).flatten()) {
                (Some(x), Some(y)) => y.cmp(&x),
                _ => Ordering::Equal,
            },
        )
        .then(restarts(b).cmp(&restarts(a)))
        .then_with(|| created(b).cmp(&created(a)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, node: Option<&str>, phase: &str, ready: Option<&str>) -> Pod {
        let mut v = json!({"metadata": {"name": name, "creationTimestamp": "2024-01-01T00:00:00Z"},
            "spec": {"containers": []}, "status": {"phase": phase}});
        if let Some(n) = node {
            v["spec"]["nodeName"] = json!(n);
        }
        if let Some(t) = ready {
            v["status"]["conditions"] =
                json!([{"type": "Ready", "status": "True", "lastTransitionTime": t}]);
        }
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn deletion_ranking() {
        let mut pods = [
            pod(
                "ready-old",
                Some("n"),
                "Running",
                Some("2024-01-01T00:00:00Z"),
            ),
            pod(
                "ready-new",
                Some("n"),
                "Running",
                Some("2024-01-02T00:00:00Z"),
            ),
            pod("running-unready", Some("n"), "Running", None),
            pod("pending", Some("n"), "Pending", None),
            pod("unscheduled", None, "Pending", None),
        ];
        pods.sort_by(deletion_order);
        let names: Vec<_> = pods
            .iter()
            .map(|p| p.metadata.name.clone().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "unscheduled",
                "pending",
                "running-unready",
                "ready-new",
                "ready-old"
            ]
        );
    }

    #[test]
    fn availability() {
        let now = "2024-01-01T00:00:10Z".parse::<DateTime<Utc>>().unwrap();
        let p = pod("p", Some("n"), "Running", Some("2024-01-01T00:00:05Z"));
        assert!(is_available(&p, 0, now));
        assert!(is_available(&p, 5, now));
        assert!(!is_available(&p, 6, now));
        assert_eq!(seconds_until_available(&p, 8, now), Some(4));
        assert!(!is_available(&pod("q", None, "Pending", None), 0, now));
        let mut done = pod("d", Some("n"), "Succeeded", None);
        assert!(!is_active(&done));
        done.status = None;
        assert!(is_active(&done));
    }
}
