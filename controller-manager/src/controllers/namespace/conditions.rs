//! The status conditions a Terminating namespace carries while the
//! namespace controller empties it, in upstream's types, reasons and
//! messages: each of the five types is True with what went wrong (or what
//! is still there) and False with its "all fine" wording otherwise, so
//! `kubectl describe namespace` shows why a deletion is stuck.

use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The condition types the namespace controller owns, in upstream's order.
pub const TYPES: [&str; 5] = [
    "NamespaceDeletionDiscoveryFailure",
    "NamespaceDeletionGroupVersionParsingFailure",
    "NamespaceDeletionContentFailure",
    "NamespaceContentRemaining",
    "NamespaceFinalizersRemaining",
];

/// What one pass over the namespace's content found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Findings {
    /// Discovery of the served resources failed with this message.
    pub discovery_error: Option<String>,
    /// Resources whose listing or deletion failed, one message each.
    pub content_errors: Vec<String>,
    /// Objects still present, by (group, resource).
    pub remaining: BTreeMap<(String, String), usize>,
    /// Objects still present, by each finalizer they carry.
    pub finalizers: BTreeMap<String, usize>,
}

impl Findings {
    /// How many objects are still in the namespace.
    pub fn remaining_total(&self) -> usize {
        self.remaining.values().sum()
    }

    /// Counts one object of `group`/`resource` still present, holding
    /// `finalizers`.
    pub fn count(&mut self, group: &str, resource: &str, finalizers: &[String]) {
        *self
            .remaining
            .entry((group.to_string(), resource.to_string()))
            .or_default() += 1;
        for f in finalizers {
            *self.finalizers.entry(f.clone()).or_default() += 1;
        }
    }

    /// (type, status, reason, message) of the condition of `kind`.
    fn condition(&self, kind: &str) -> (&'static str, &'static str, String) {
        match kind {
            "NamespaceDeletionDiscoveryFailure" => match &self.discovery_error {
                Some(e) => ("True", "DiscoveryFailed", e.clone()),
                None => (
                    "False",
                    "ResourcesDiscovered",
                    "All resources successfully discovered".into(),
                ),
            },
            "NamespaceDeletionGroupVersionParsingFailure" => (
                "False",
                "ParsedGroupVersions",
                "All legacy kube types successfully parsed".into(),
            ),
            "NamespaceDeletionContentFailure" if !self.content_errors.is_empty() => {
                let mut msgs = self.content_errors.clone();
                msgs.sort();
                (
                    "True",
                    "ContentDeletionFailed",
                    format!(
                        "Failed to delete all resource types, {} remaining: {}",
                        msgs.len(),
                        msgs.join(", ")
                    ),
                )
            }
            "NamespaceDeletionContentFailure" => (
                "False",
                "ContentDeleted",
                "All content successfully deleted, may be waiting on finalization".into(),
            ),
            "NamespaceContentRemaining" if self.remaining_total() > 0 => {
                let mut parts: Vec<String> = self
                    .remaining
                    .iter()
                    .filter(|(_, n)| **n > 0)
                    .map(|((group, resource), n)| {
                        format!("{resource}.{group} has {n} resource instances")
                    })
                    .collect();
                parts.sort();
                (
                    "True",
                    "SomeResourcesRemain",
                    format!("Some resources are remaining: {}", parts.join(", ")),
                )
            }
            "NamespaceContentRemaining" => (
                "False",
                "ContentRemoved",
                "All content successfully removed".into(),
            ),
            "NamespaceFinalizersRemaining" if self.finalizers.values().any(|n| *n > 0) => {
                let mut parts: Vec<String> = self
                    .finalizers
                    .iter()
                    .filter(|(_, n)| **n > 0)
                    .map(|(f, n)| format!("{f} in {n} resource instances"))
                    .collect();
                parts.sort();
                (
                    "True",
                    "SomeFinalizersRemain",
                    format!(
                        "Some content in the namespace has finalizers remaining: {}",
                        parts.join(", ")
                    ),
                )
            }
            _ => (
                "False",
                "ContentHasNoFinalizers",
                "All content-preserving finalizers finished".into(),
            ),
        }
    }
}

/// The namespace's conditions after this pass: each owned type set from
/// `findings` (its lastTransitionTime moves only when its status changes),
/// other conditions kept. `None` when nothing changed.
pub fn updated(old: &[Value], findings: &Findings, now: &str) -> Option<Vec<Value>> {
    let mut out = old.to_vec();
    let mut changed = false;
    for kind in TYPES {
        let (status, reason, message) = findings.condition(kind);
        let existing = out
            .iter_mut()
            .find(|c| c.get("type").and_then(Value::as_str) == Some(kind));
        match existing {
            None => {
                out.push(json!({
                    "type": kind,
                    "status": status,
                    "lastTransitionTime": now,
                    "reason": reason,
                    "message": message,
                }));
                changed = true;
            }
            Some(c) => {
                let same = |k: &str, v: &str| c.get(k).and_then(Value::as_str) == Some(v);
                if same("status", status) && same("reason", reason) && same("message", &message) {
                    continue;
                }
                if !same("status", status) {
                    c["lastTransitionTime"] = json!(now);
                }
                c["status"] = json!(status);
                c["reason"] = json!(reason);
                c["message"] = json!(message);
                changed = true;
            }
        }
    }
    changed.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by_type<'a>(conds: &'a [Value], kind: &str) -> &'a Value {
        conds
            .iter()
            .find(|c| c["type"] == kind)
            .expect("condition present")
    }

    #[test]
    fn remaining_content_and_finalizers_read_like_upstream() {
        let mut f = Findings::default();
        let fin = vec!["example.com/hold".to_string()];
        f.count("", "pods", &fin);
        f.count("", "pods", &fin);
        f.count("apps", "deployments", &[]);
        let conds = updated(&[], &f, "2026-11-22T10:00:00Z").expect("first pass sets all");
        assert_eq!(conds.len(), 5);
        let c = by_type(&conds, "NamespaceContentRemaining");
        assert_eq!(c["status"], "True");
        assert_eq!(c["reason"], "SomeResourcesRemain");
        assert_eq!(
            c["message"],
            "Some resources are remaining: deployments.apps has 1 resource instances, pods. has 2 resource instances"
        );
        let c = by_type(&conds, "NamespaceFinalizersRemaining");
        assert_eq!(
            (&c["status"], &c["reason"], &c["message"]),
            (
                &json!("True"),
                &json!("SomeFinalizersRemain"),
                &json!(
                    "Some content in the namespace has finalizers remaining: example.com/hold in 2 resource instances"
                )
            )
        );
        let c = by_type(&conds, "NamespaceDeletionDiscoveryFailure");
        assert_eq!(
            (&c["status"], &c["reason"]),
            (&json!("False"), &json!("ResourcesDiscovered"))
        );
        let c = by_type(&conds, "NamespaceDeletionContentFailure");
        assert_eq!(
            c["message"],
            "All content successfully deleted, may be waiting on finalization"
        );
    }

    #[test]
    fn transitions_move_time_only_on_status_change() {
        let mut f = Findings::default();
        f.count("", "pods", &[]);
        let first = updated(&[], &f, "t1").expect("set");
        assert_eq!(
            updated(&first, &f, "t2"),
            None,
            "unchanged pass writes nothing"
        );
        let mut more = f.clone();
        more.count("", "pods", &[]);
        let second = updated(&first, &more, "t2").expect("message changed");
        let c = by_type(&second, "NamespaceContentRemaining");
        assert_eq!(c["lastTransitionTime"], "t1", "still True");
        let done = updated(&second, &Findings::default(), "t3").expect("emptied");
        let c = by_type(&done, "NamespaceContentRemaining");
        assert_eq!(
            (&c["status"], &c["reason"], &c["lastTransitionTime"]),
            (&json!("False"), &json!("ContentRemoved"), &json!("t3"))
        );
    }

    #[test]
    fn failures_become_true_conditions() {
        let f = Findings {
            discovery_error: Some("Discovery failed for some groups, 1 failing: x".into()),
            content_errors: vec!["b failed".into(), "a failed".into()],
            ..Findings::default()
        };
        let other = json!({"type": "Custom", "status": "True"});
        let conds = updated(std::slice::from_ref(&other), &f, "t").expect("set");
        assert_eq!(conds[0], other, "foreign conditions are kept");
        let c = by_type(&conds, "NamespaceDeletionDiscoveryFailure");
        assert_eq!(
            (&c["status"], &c["reason"]),
            (&json!("True"), &json!("DiscoveryFailed"))
        );
        let c = by_type(&conds, "NamespaceDeletionContentFailure");
        assert_eq!(
            c["message"],
            "Failed to delete all resource types, 2 remaining: a failed, b failed"
        );
    }
}
