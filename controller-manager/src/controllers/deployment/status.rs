//! A Deployment's status: counts summed over its ReplicaSets, and the
//! Available / Progressing / ReplicaFailure conditions with upstream's
//! reasons and messages (which `kubectl rollout status` reads).

use ::client::time::{time, to_chrono};
use chrono::{DateTime, Utc};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet};

pub const NEW_RS_CREATED: &str = "NewReplicaSetCreated";
pub const FOUND_NEW_RS: &str = "FoundNewReplicaSet";
pub const RS_UPDATED: &str = "ReplicaSetUpdated";
pub const NEW_RS_AVAILABLE: &str = "NewReplicaSetAvailable";
pub const TIMED_OUT: &str = "ProgressDeadlineExceeded";
pub const PAUSED: &str = "DeploymentPaused";
pub const RESUMED: &str = "DeploymentResumed";

fn cond(
    type_: &str,
    status: &str,
    reason: &str,
    message: String,
    now: DateTime<Utc>,
) -> DeploymentCondition {
    DeploymentCondition {
        type_: type_.into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: Some(message),
        last_update_time: Some(time(now)),
        last_transition_time: Some(time(now)),
    }
}

pub fn get<'a>(status: &'a DeploymentStatus, type_: &str) -> Option<&'a DeploymentCondition> {
    status
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_)
}

/// Sets `c` unless the same status and reason are already there; keeps
/// the transition time when only the reason changes.
pub fn set(status: &mut DeploymentStatus, mut c: DeploymentCondition) {
    let conditions = status.conditions.get_or_insert_with(Vec::new);
    if let Some(existing) = conditions.iter().find(|x| x.type_ == c.type_) {
        if existing.status == c.status && existing.reason == c.reason {
            return;
        }
        if existing.status == c.status {
            c.last_transition_time = existing.last_transition_time.clone();
        }
    }
    conditions.retain(|x| x.type_ != c.type_);
    conditions.push(c);
}

pub fn remove(status: &mut DeploymentStatus, type_: &str) {
    if let Some(cs) = status.conditions.as_mut() {
        cs.retain(|c| c.type_ != type_);
    }
}

fn rs_status(rs: &ReplicaSet) -> (i32, i32, i32) {
    let s = rs.status.as_ref();
    (
        s.map_or(0, |s| s.replicas),
        s.and_then(|s| s.ready_replicas).unwrap_or(0),
        s.and_then(|s| s.available_replicas).unwrap_or(0),
    )
}

/// The counts and the Available condition (what every sync reports).
pub fn base_status(
    d: &Deployment,
    all: &[&ReplicaSet],
    new: Option<&ReplicaSet>,
    max_unavailable: i32,
    now: DateTime<Utc>,
) -> DeploymentStatus {
    let current = d.status.clone().unwrap_or_default();
    let replicas = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let (mut total, mut ready, mut available) = (0, 0, 0);
    for rs in all {
        let (t, r, a) = rs_status(rs);
        total += t;
        ready += r;
        available += a;
    }
    let mut status = DeploymentStatus {
        observed_generation: d.metadata.generation,
        replicas: Some(total),
        updated_replicas: Some(new.map_or(0, |n| rs_status(n).0)),
        ready_replicas: Some(ready),
        // Upstream fills it only behind the alpha
        // DeploymentReplicaSetTerminatingReplicas gate.
        terminating_replicas: None,
        available_replicas: Some(available),
        unavailable_replicas: Some((replicas - available).max(0)),
        collision_count: current.collision_count,
        conditions: current.conditions.clone(),
    };
    if available >= replicas - max_unavailable {
        set(
            &mut status,
            cond(
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.".into(),
                now,
            ),
        );
    } else {
        set(
            &mut status,
            cond(
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.".into(),
                now,
            ),
        );
    }
    // A ReplicaSet that cannot create pods makes the Deployment say so.
    let failure = all.iter().find_map(|rs| {
        rs.status
            .as_ref()?
            .conditions
            .as_ref()?
            .iter()
            .find(|c| c.type_ == "ReplicaFailure" && c.status == "True")
            .cloned()
    });
    match failure {
        Some(f) => set(
            &mut status,
            cond(
                "ReplicaFailure",
                "True",
                f.reason.as_deref().unwrap_or("FailedCreate"),
                f.message.unwrap_or_default(),
                now,
            ),
        ),
        None => remove(&mut status, "ReplicaFailure"),
    }
    status
}

/// The status as upstream's encoding stores it: its counters are
/// `omitempty` integers, so a zero reads back as absent.
pub fn as_stored(mut s: DeploymentStatus) -> DeploymentStatus {
    for c in [
        &mut s.replicas,
        &mut s.updated_replicas,
        &mut s.ready_replicas,
        &mut s.available_replicas,
        &mut s.unavailable_replicas,
    ] {
        if *c == Some(0) {
            *c = None;
        }
    }
    if s.observed_generation == Some(0) {
        s.observed_generation = None;
    }
    s
}

fn is_complete(d: &Deployment, s: &DeploymentStatus) -> bool {
    let replicas = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    s.updated_replicas == Some(replicas)
        && s.replicas == Some(replicas)
        && s.available_replicas == Some(replicas)
        && s.observed_generation >= d.metadata.generation
}

/// Whether `new` shows progress over the Deployment's last status.
fn made_progress(old: &DeploymentStatus, new: &DeploymentStatus) -> bool {
    let v = |x: Option<i32>| x.unwrap_or(0);
    let old_old = v(old.replicas) - v(old.updated_replicas);
    let new_old = v(new.replicas) - v(new.updated_replicas);
    v(new.updated_replicas) > v(old.updated_replicas)
        || new_old < old_old
        || v(new.ready_replicas) > v(old.ready_replicas)
        || v(new.available_replicas) > v(old.available_replicas)
}

/// Seconds left before the Progressing condition times out, if it can.
pub fn deadline_left(d: &Deployment, s: &DeploymentStatus, now: DateTime<Utc>) -> Option<i64> {
    let deadline = d.spec.as_ref()?.progress_deadline_seconds?;
    let c = get(s, "Progressing")?;
    if matches!(
        c.reason.as_deref(),
        Some(NEW_RS_AVAILABLE | TIMED_OUT | PAUSED)
    ) {
        return None;
    }
    let from = to_chrono(c.last_update_time.as_ref()?.0);
    Some((from + chrono::Duration::seconds(i64::from(deadline)) - now).num_seconds())
}

/// Adds the Progressing condition for a rollout in progress or done.
pub fn rollout_status(
    d: &Deployment,
    mut s: DeploymentStatus,
    new_name: Option<&str>,
    now: DateTime<Utc>,
) -> DeploymentStatus {
    let has_deadline = d
        .spec
        .as_ref()
        .and_then(|s| s.progress_deadline_seconds)
        .is_some();
    if !has_deadline {
        remove(&mut s, "Progressing");
        return s;
    }
    let old = d.status.clone().unwrap_or_default();
    let quoted = |n: Option<&str>| format!("{:?}", n.unwrap_or_default());
    if is_complete(d, &s) {
        if new_name.is_some() {
            set(
                &mut s,
                cond(
                    "Progressing",
                    "True",
                    NEW_RS_AVAILABLE,
                    format!(
                        "ReplicaSet {} has successfully progressed.",
                        quoted(new_name)
                    ),
                    now,
                ),
            );
        }
    } else if made_progress(&old, &s) {
        let mut c = cond(
            "Progressing",
            "True",
            RS_UPDATED,
            format!("ReplicaSet {} is progressing.", quoted(new_name)),
            now,
        );
        if let Some(existing) = get(&s, "Progressing")
            && existing.status == "True"
        {
            c.last_transition_time = existing.last_transition_time.clone();
        }
        // Always refresh lastUpdateTime: progress resets the deadline.
        remove(&mut s, "Progressing");
        set(&mut s, c);
    } else if deadline_left(d, &s, now).is_some_and(|left| left < 0) {
        set(
            &mut s,
            cond(
                "Progressing",
                "False",
                TIMED_OUT,
                format!("ReplicaSet {} has timed out progressing.", quoted(new_name)),
                now,
            ),
        );
    }
    s
}

/// The Progressing condition a (un)paused Deployment shows.
pub fn pause_condition(d: &Deployment, s: &mut DeploymentStatus, now: DateTime<Utc>) {
    if d.spec
        .as_ref()
        .and_then(|s| s.progress_deadline_seconds)
        .is_none()
    {
        return;
    }
    let paused = d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false);
    let reason = get(s, "Progressing").and_then(|c| c.reason.clone());
    if paused && reason.as_deref() != Some(PAUSED) {
        set(
            s,
            cond(
                "Progressing",
                "Unknown",
                PAUSED,
                "Deployment is paused".into(),
                now,
            ),
        );
    } else if !paused && reason.as_deref() == Some(PAUSED) {
        set(
            s,
            cond(
                "Progressing",
                "Unknown",
                RESUMED,
                "Deployment is resumed".into(),
                now,
            ),
        );
    }
}

/// The Progressing condition when the new ReplicaSet was just made or found.
pub fn new_rs_condition(s: &mut DeploymentStatus, created: bool, name: &str, now: DateTime<Utc>) {
    if created {
        set(
            s,
            cond(
                "Progressing",
                "True",
                NEW_RS_CREATED,
                format!("Created new replica set {name:?}"),
                now,
            ),
        );
    } else if get(s, "Progressing").is_none() {
        set(
            s,
            cond(
                "Progressing",
                "True",
                FOUND_NEW_RS,
                format!("Found new replica set {name:?}"),
                now,
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(replicas: i32, status: serde_json::Value) -> Deployment {
        serde_json::from_value(json!({"metadata": {"name": "d", "generation": 2},
            "spec": {"replicas": replicas, "progressDeadlineSeconds": 600, "selector": {}, "template": {}},
            "status": status})).unwrap()
    }

    fn rs(name: &str, replicas: i32, ready: i32, available: i32) -> ReplicaSet {
        serde_json::from_value(json!({"metadata": {"name": name},
            "status": {"replicas": replicas, "readyReplicas": ready, "availableReplicas": available}})).unwrap()
    }

    #[test]
    fn complete_rollout() {
        let now = Utc::now();
        let d = deployment(3, json!({"replicas": 3, "updatedReplicas": 2}));
        let new = rs("d-new", 3, 3, 3);
        let s = base_status(&d, &[&new], Some(&new), 0, now);
        assert_eq!(
            (
                s.replicas,
                s.updated_replicas,
                s.available_replicas,
                s.unavailable_replicas
            ),
            (Some(3), Some(3), Some(3), Some(0))
        );
        assert_eq!(
            get(&s, "Available").unwrap().reason.as_deref(),
            Some("MinimumReplicasAvailable")
        );
        let s = rollout_status(&d, s, Some("d-new"), now);
        let p = get(&s, "Progressing").unwrap();
        assert_eq!(p.reason.as_deref(), Some(NEW_RS_AVAILABLE));
        assert_eq!(
            p.message.as_deref(),
            Some("ReplicaSet \"d-new\" has successfully progressed.")
        );
    }

    #[test]
    fn stalled_rollout_times_out() {
        let now = Utc::now();
        let old_update = time(now - chrono::Duration::seconds(700));
        let d = deployment(
            2,
            json!({"replicas": 3, "updatedReplicas": 1, "readyReplicas": 2, "availableReplicas": 2, "conditions": [
            {"type": "Progressing", "status": "True", "reason": RS_UPDATED, "lastUpdateTime": old_update, "lastTransitionTime": old_update}]}),
        );
        let old = rs("d-old", 2, 2, 2);
        let new = rs("d-new", 1, 0, 0);
        let s = base_status(&d, &[&old, &new], Some(&new), 0, now);
        assert_eq!(get(&s, "Available").unwrap().status, "True");
        let s = rollout_status(&d, s, Some("d-new"), now);
        let p = get(&s, "Progressing").unwrap();
        assert_eq!(
            (p.status.as_str(), p.reason.as_deref()),
            ("False", Some(TIMED_OUT))
        );
        assert_eq!(
            p.message.as_deref(),
            Some("ReplicaSet \"d-new\" has timed out progressing.")
        );
    }

    #[test]
    fn pause_and_resume() {
        let now = Utc::now();
        let mut d = deployment(1, json!({}));
        d.spec.as_mut().unwrap().paused = Some(true);
        let mut s = DeploymentStatus::default();
        pause_condition(&d, &mut s, now);
        assert_eq!(
            get(&s, "Progressing").unwrap().reason.as_deref(),
            Some(PAUSED)
        );
        d.spec.as_mut().unwrap().paused = Some(false);
        pause_condition(&d, &mut s, now);
        assert_eq!(
            get(&s, "Progressing").unwrap().message.as_deref(),
            Some("Deployment is resumed")
        );
    }
}
