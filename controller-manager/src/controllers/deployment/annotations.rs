//! The annotations a Deployment keeps on its ReplicaSets: the revision
//! (which `kubectl rollout history/undo` read), the revision history of a
//! reused ReplicaSet, desired/max replicas, and the Deployment's own
//! annotations (change-cause among them).

use std::collections::BTreeMap;

pub const REVISION: &str = "deployment.kubernetes.io/revision";
pub const REVISION_HISTORY: &str = "deployment.kubernetes.io/revision-history";
pub const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
pub const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";
pub const CHANGE_CAUSE: &str = "kubernetes.io/change-cause";

/// Deployment annotations that are not copied to ReplicaSets.
const NOT_COPIED: &[&str] = &[
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    REVISION_HISTORY,
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    "deprecated.deployment.rollback.to",
];

pub fn revision_of(annotations: Option<&BTreeMap<String, String>>) -> i64 {
    annotations
        .and_then(|a| a.get(REVISION))
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

/// The new ReplicaSet's annotations: its current ones, the Deployment's
/// copyable ones, its revision (bumped past `max_old_revision` when it is
/// not already the newest, recording the old number in the history) and
/// the replica counts.
pub fn for_new_rs(
    current: &BTreeMap<String, String>,
    deployment: &BTreeMap<String, String>,
    max_old_revision: i64,
    replicas: i32,
    max_replicas: i32,
) -> BTreeMap<String, String> {
    let mut out = current.clone();
    for (k, v) in deployment {
        if !NOT_COPIED.contains(&k.as_str()) {
            out.insert(k.clone(), v.clone());
        }
    }
    let own = revision_of(Some(current));
    if own <= max_old_revision {
        if own > 0 {
            let history = match current.get(REVISION_HISTORY) {
                Some(h) if !h.is_empty() => format!("{h},{own}"),
                _ => own.to_string(),
            };
            out.insert(REVISION_HISTORY.into(), history);
        }
        out.insert(REVISION.into(), (max_old_revision + 1).to_string());
    }
    out.insert(DESIRED_REPLICAS.into(), replicas.to_string());
    out.insert(MAX_REPLICAS.into(), max_replicas.to_string());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn new_rs_annotations() {
        let d = map(&[
            (CHANGE_CAUSE, "set image"),
            ("kubectl.kubernetes.io/last-applied-configuration", "{}"),
            (REVISION, "2"),
        ]);
        let fresh = for_new_rs(&BTreeMap::new(), &d, 2, 4, 5);
        assert_eq!(fresh.get(REVISION).map(String::as_str), Some("3"));
        assert_eq!(
            fresh.get(CHANGE_CAUSE).map(String::as_str),
            Some("set image")
        );
        assert_eq!(fresh.get(DESIRED_REPLICAS).map(String::as_str), Some("4"));
        assert_eq!(fresh.get(MAX_REPLICAS).map(String::as_str), Some("5"));
        assert!(!fresh.contains_key("kubectl.kubernetes.io/last-applied-configuration"));
        assert!(!fresh.contains_key(REVISION_HISTORY));
        // Reused (rolled back to): revision 1 becomes 3, history remembers 1.
        let reused = for_new_rs(&map(&[(REVISION, "1")]), &d, 2, 4, 5);
        assert_eq!(reused.get(REVISION).map(String::as_str), Some("3"));
        assert_eq!(reused.get(REVISION_HISTORY).map(String::as_str), Some("1"));
        // Already newest: unchanged revision.
        let same = for_new_rs(&map(&[(REVISION, "3")]), &d, 2, 4, 5);
        assert_eq!(same.get(REVISION).map(String::as_str), Some("3"));
    }
}
