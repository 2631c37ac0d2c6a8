//! The disruption controller: keep each PodDisruptionBudget's status
//! current: how many of its pods are healthy (Ready), how many must stay
//! healthy (`minAvailable`, or the expected count minus `maxUnavailable`),
//! and so how many voluntary disruptions (evictions) are allowed now.
//! Percentages apply to the expected pod count: the scale of the pods'
//! controllers (ReplicaSet, StatefulSet, ReplicationController), or the
//! number of matching pods when they have none.
//!
//! Pods the eviction subresource recorded under `status.disruptedPods`
//! count as unhealthy until they are gone (or start deleting), or for at
//! most [`DELETION_TIMEOUT`] if the deletion never came.

use crate::Context;
use crate::controllers::podutil::{controller_of, is_active, is_ready};
use crate::controllers::run_controller;
use crate::error::{Error, Result};
use ::client::time::{time, to_chrono};
use apimachinery::labels::Selector;
use client::informer::Store;
use k8s_openapi::api::apps::v1::{ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{Pod, ReplicationController};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::Controller;
use kube::runtime::controller::{Action, Config};
use kube::runtime::reflector::ObjectRef;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

struct State {
    pdbs: Store<PodDisruptionBudget>,
    pods: Store<Pod>,
    replicasets: Store<ReplicaSet>,
    statefulsets: Store<StatefulSet>,
    rcs: Store<ReplicationController>,
    client: kube::Client,
}

pub async fn run(ctx: Context) -> anyhow::Result<()> {
    let pdbs = ctx.informers.get::<PodDisruptionBudget>();
    let pods = ctx.informers.get::<Pod>();
    let replicasets = ctx.informers.get::<ReplicaSet>();
    let statefulsets = ctx.informers.get::<StatefulSet>();
    let rcs = ctx.informers.get::<ReplicationController>();
    let pdb_events = pdbs.subscribe().objects();
    let pod_events = pods.subscribe().objects();
    pods.wait_synced().await;
    replicasets.wait_synced().await;
    statefulsets.wait_synced().await;
    rcs.wait_synced().await;
    let state = Arc::new(State {
        pdbs: pdbs.store().clone(),
        pods: pods.store().clone(),
        replicasets: replicasets.store().clone(),
        statefulsets: statefulsets.store().clone(),
        rcs: rcs.store().clone(),
        client: ctx.client.clone(),
    });
    let lookup = pdbs.store().clone();
    let controller = Controller::for_shared_stream(pdb_events, pdbs.reader().await)
        .watches_shared_stream(pod_events, move |pod: Arc<Pod>| {
            let ns = pod.namespace().unwrap_or_default();
            lookup
                .namespaced(&ns)
                .iter()
                .filter(|b| selector_of(b).is_ok_and(|s| s.matches(pod.labels())))
                .map(|b| ObjectRef::from_obj(b.as_ref()))
                .collect::<Vec<_>>()
        })
        .with_config(Config::default().concurrency(4));
    run_controller(
        "disruption",
        ctx.metrics.clone(),
        controller,
        reconcile,
        state,
    )
    .await
}

fn selector_of(pdb: &PodDisruptionBudget) -> Result<Selector> {
    let sel = pdb.spec.as_ref().and_then(|s| s.selector.clone());
    match sel {
        // A PDB without a selector (or an empty one) matches no pods in policy/v1.
        None => Ok(Selector::nothing()),
        Some(s) => Selector::from_label_selector(&serde_json::to_value(&s)?)
            .map_err(|e| Error::invalid("selector", e.0)),
    }
}

/// How long an eviction's record keeps a pod counted as disrupted when its
/// deletion was never observed (upstream's value).
pub const DELETION_TIMEOUT: Duration = Duration::from_secs(120);

/// The `disruptedPods` entries still worth keeping: those of `live` pods
/// (present and not deleting) recorded less than [`DELETION_TIMEOUT`] ago;
/// and when the earliest kept one expires.
pub fn prune_disrupted(
    recorded: &BTreeMap<String, Time>,
    live: &[&str],
    now: chrono::DateTime<chrono::Utc>,
) -> (BTreeMap<String, Time>, Option<Duration>) {
    let timeout = chrono::Duration::from_std(DELETION_TIMEOUT).unwrap_or_default();
    let mut kept = BTreeMap::new();
    let mut recheck: Option<Duration> = None;
    for (name, at) in recorded {
        let expires = to_chrono(at.0) + timeout;
        if !live.contains(&name.as_str()) || expires <= now {
            continue;
        }
        let left = (expires - now).to_std().unwrap_or_default();
        recheck = Some(recheck.map_or(left, |r| r.min(left)));
        kept.insert(name.clone(), at.clone());
    }
    (kept, recheck)
}

/// `v` of `total`, percentages rounded up (as upstream).
fn resolve(v: &IntOrString, total: i32) -> i32 {
    match v {
        IntOrString::Int(n) => *n,
        IntOrString::String(s) => {
            let pct: i64 = s.trim_end_matches('%').parse().unwrap_or(0);
            ((pct * i64::from(total) + 99) / 100) as i32
        }
    }
}

/// (expected, desiredHealthy) for a budget.
pub fn budget(
    min_available: Option<&IntOrString>,
    max_unavailable: Option<&IntOrString>,
    matching: i32,
    scale: i32,
) -> (i32, i32) {
    match (min_available, max_unavailable) {
        (Some(IntOrString::Int(n)), _) => (matching, *n),
        (Some(pct), _) => (scale, resolve(pct, scale)),
        (None, Some(mu)) => (scale, (scale - resolve(mu, scale)).max(0)),
        (None, None) => (matching, 0),
    }
}

async fn reconcile(pdb: Arc<PodDisruptionBudget>, st: Arc<State>) -> Result<Action> {
    if st.pdbs.get(&ObjectRef::from_obj(pdb.as_ref())).is_none() {
        return Ok(Action::await_change());
    }
    let selector = selector_of(&pdb)?;
    let ns = pdb.namespace().unwrap_or_default();
    let pods: Vec<Arc<Pod>> = st
        .pods
        .namespaced(&ns)
        .into_iter()
        .filter(|p| !selector.is_empty() && selector.matches(p.labels()))
        .filter(|p| is_active(p))
        .collect();
    // The scale of the pods' controllers, each counted once.
    let mut scales: BTreeMap<String, i32> = BTreeMap::new();
    let mut uncontrolled = 0;
    for p in &pods {
        let Some(owner) = controller_of(&p.metadata) else {
            uncontrolled += 1;
            continue;
        };
        let key = ObjectRef::new(&owner.name).within(&ns);
        let replicas = match owner.kind.as_str() {
            "ReplicaSet" => st
                .replicasets
                .get(&key)
                .and_then(|r| r.spec.as_ref()?.replicas),
            "StatefulSet" => st
                .statefulsets
                .get(&ObjectRef::new(&owner.name).within(&ns))
                .and_then(|s| s.spec.as_ref()?.replicas),
            "ReplicationController" => st
                .rcs
                .get(&ObjectRef::new(&owner.name).within(&ns))
                .and_then(|r| r.spec.as_ref()?.replicas),
            _ => None,
        };
        match replicas {
            Some(r) => {
                scales.insert(owner.uid.clone(), r);
            }
            None => uncontrolled += 1,
        }
    }
    let scale = scales.values().sum::<i32>() + uncontrolled;
    let spec = pdb.spec.clone().unwrap_or_default();
    let (expected, desired) = budget(
        spec.min_available.as_ref(),
        spec.max_unavailable.as_ref(),
        pods.len() as i32,
        scale,
    );
    let current = pdb.status.clone().unwrap_or_default();
    let live: Vec<String> = pods
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .map(|p| p.name_any())
        .collect();
    let live: Vec<&str> = live.iter().map(String::as_str).collect();
    let (disrupted, recheck) = prune_disrupted(
        &current.disrupted_pods.clone().unwrap_or_default(),
        &live,
        chrono::Utc::now(),
    );
    let healthy = pods
        .iter()
        .filter(|p| is_ready(p) && !disrupted.contains_key(&p.name_any()))
        .count() as i32;
    let allowed = (healthy - desired).max(0);
    let (status, reason) = if allowed > 0 {
        ("True", "SufficientPods")
    } else {
        ("False", "InsufficientPods")
    };
    let existing = current
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "DisruptionAllowed");
    let condition = match existing {
        Some(c) if c.status == status && c.reason == reason => c.clone(),
        _ => Condition {
            type_: "DisruptionAllowed".into(),
            status: status.into(),
            reason: reason.into(),
            message: String::new(),
            last_transition_time: time(chrono::Utc::now()),
            observed_generation: pdb.metadata.generation,
        },
    };
    let next = PodDisruptionBudgetStatus {
        current_healthy: healthy,
        desired_healthy: desired,
        disruptions_allowed: allowed,
        expected_pods: expected,
        observed_generation: pdb.metadata.generation,
        disrupted_pods: (!disrupted.is_empty()).then(|| disrupted.clone()),
        conditions: Some(vec![condition]),
    };
    if Some(&next) != pdb.status.as_ref() {
        let mut body = serde_json::json!({"status": next});
        // A merge patch keeps map keys it does not mention: dropped
        // entries are sent as null.
        let had = current.disrupted_pods.iter().flatten();
        if disrupted.is_empty() {
            // Dropped as a whole, as upstream leaves an empty map out.
            if current.disrupted_pods.is_some() {
                body["status"]["disruptedPods"] = serde_json::Value::Null;
            }
        } else {
            for gone in had {
                if !disrupted.contains_key(gone.0) {
                    body["status"]["disruptedPods"][gone.0] = serde_json::Value::Null;
                }
            }
        }
        let api: Api<PodDisruptionBudget> = Api::namespaced(st.client.clone(), &ns);
        api.patch_status(
            &pdb.name_any(),
            &PatchParams::default(),
            &Patch::Merge(body),
        )
        .await?;
    }
    let every = Duration::from_secs(60);
    Ok(Action::requeue(recheck.map_or(every, |r| {
        r.min(every) + Duration::from_millis(100)
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> IntOrString {
        IntOrString::String(v.into())
    }

    #[test]
    fn budgets() {
        assert_eq!(budget(Some(&IntOrString::Int(2)), None, 3, 5), (3, 2));
        assert_eq!(budget(Some(&s("50%")), None, 3, 5), (5, 3));
        assert_eq!(budget(None, Some(&IntOrString::Int(1)), 3, 4), (4, 3));
        assert_eq!(budget(None, Some(&s("25%")), 3, 4), (4, 3));
        assert_eq!(budget(None, None, 3, 4), (3, 0));
    }

    #[test]
    fn disrupted_pods_pruned() {
        let now = chrono::Utc::now();
        let ago = |s: i64| time(now - chrono::Duration::seconds(s));
        let recorded: BTreeMap<String, Time> = [
            ("fresh".to_string(), ago(30)),
            ("expired".to_string(), ago(121)),
            ("gone".to_string(), ago(5)),
            ("older".to_string(), ago(100)),
        ]
        .into();
        let (kept, recheck) = prune_disrupted(&recorded, &["fresh", "expired", "older"], now);
        assert_eq!(kept.keys().collect::<Vec<_>>(), ["fresh", "older"]);
        // The oldest kept entry (100 s) expires in 20 s.
        let left = recheck.map(|d| d.as_secs());
        assert!(matches!(left, Some(19..=20)), "{left:?}");
        let (kept, recheck) = prune_disrupted(&recorded, &[], now);
        assert!(kept.is_empty());
        assert_eq!(recheck, None);
    }
}
