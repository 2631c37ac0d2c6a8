//! Counting a Job's pods and deciding what the Job needs next: how many
//! pods to start (and which completion indexes), whether it has
//! succeeded or failed and why, and how long its backoff lasts. No API
//! calls here.

use k8s_openapi::api::batch::v1::{Job, PodFailurePolicyRule};
use k8s_openapi::api::core::v1::Pod;
use std::collections::BTreeSet;
use std::time::Duration;

pub const COMPLETION_INDEX: &str = "batch.kubernetes.io/job-completion-index";

/// Upstream's backoff: 10 s, doubled per failure, at most 6 minutes.
pub fn backoff(failures: i32) -> Duration {
    if failures <= 0 {
        return Duration::ZERO;
    }
    let exp = (failures - 1).min(10) as u32;
    Duration::from_secs((10u64 << exp).min(360))
}

fn phase(p: &Pod) -> &str {
    p.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("Pending")
}

/// A pod's completion index (Indexed jobs), from its annotation.
pub fn pod_index(p: &Pod) -> Option<i32> {
    let ann = p.metadata.annotations.as_ref()?.get(COMPLETION_INDEX)?;
    ann.parse().ok()
}

/// What a failure policy says about one failed pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureVerdict {
    /// Counts against backoffLimit.
    Count,
    /// Not counted.
    Ignore,
    /// Fails the whole Job, naming the rule.
    FailJob(String),
}

/// Evaluates `podFailurePolicy` rules in order for a failed pod.
pub fn failure_verdict(rules: &[PodFailurePolicyRule], pod: &Pod) -> FailureVerdict {
    let status = pod.status.as_ref();
    for (i, rule) in rules.iter().enumerate() {
        let mut hit = None;
        if let Some(req) = &rule.on_exit_codes {
            let statuses = status
                .and_then(|s| s.container_statuses.as_ref())
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            hit = statuses
                .iter()
                .filter(|cs| req.container_name.as_ref().is_none_or(|n| *n == cs.name))
                .filter_map(|cs| cs.state.as_ref()?.terminated.as_ref().map(|t| (cs.name.clone(), t.exit_code)))
                .find(|(_, code)| {
                    let listed = req.values.contains(code);
                    *code != 0 && if req.operator == "In" { listed } else { !listed }
                })
                .map(|(name, code)| format!("Container {name} for pod {}/{} failed with exit code {code} matching {} rule at index {i}", pod.metadata.namespace.as_deref().unwrap_or(""), pod.metadata.name.as_deref().unwrap_or(""), rule.action));
        }
        if let Some(patterns) = &rule.on_pod_conditions {
            let conds = status
                .and_then(|s| s.conditions.as_ref())
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            if patterns.iter().any(|p| {
                conds
                    .iter()
                    .any(|c| c.type_ == p.type_ && c.status == p.status)
            }) {
                hit = Some(format!(
                    "Pod {}/{} has condition matching {} rule at index {i}",
                    pod.metadata.namespace.as_deref().unwrap_or(""),
                    pod.metadata.name.as_deref().unwrap_or(""),
                    rule.action
                ));
            }
        }
        if let Some(message) = hit {
            return match rule.action.as_str() {
                "FailJob" => FailureVerdict::FailJob(message),
                "Ignore" => FailureVerdict::Ignore,
                _ => FailureVerdict::Count,
            };
        }
    }
    FailureVerdict::Count
}

/// The Job's pods, sorted into what matters.
#[derive(Debug, Default)]
pub struct Tally<'a> {
    pub active: Vec<&'a Pod>,
    pub ready: i32,
    pub succeeded: i32,
    pub failed: i32,
    /// Succeeded completion indexes (Indexed jobs).
    pub succeeded_indexes: BTreeSet<i32>,
    /// A failure policy rule asked to fail the Job.
    pub fail_job: Option<String>,
    /// When the newest counted failure happened (RFC 3339 order works).
    pub last_failure: Option<chrono::DateTime<chrono::Utc>>,
}

pub fn tally<'a>(job: &Job, pods: &[&'a Pod]) -> Tally<'a> {
    let spec = job.spec.as_ref();
    let rules = spec
        .and_then(|s| s.pod_failure_policy.as_ref())
        .map(|p| p.rules.as_slice())
        .unwrap_or(&[]);
    let mut t = Tally::default();
    for p in pods {
        match phase(p) {
            "Succeeded" => {
                t.succeeded += 1;
                if let Some(i) = pod_index(p) {
                    t.succeeded_indexes.insert(i);
                }
            }
            "Failed" => match failure_verdict(rules, p) {
                FailureVerdict::Ignore => {}
                FailureVerdict::FailJob(m) => {
                    t.failed += 1;
                    t.fail_job.get_or_insert(m);
                }
                FailureVerdict::Count => {
                    t.failed += 1;
                    let finished = p
                        .status
                        .as_ref()
                        .and_then(|s| s.container_statuses.as_ref())
                        .and_then(|cs| {
                            cs.iter()
                                .filter_map(|c| {
                                    c.state.as_ref()?.terminated.as_ref()?.finished_at.clone()
                                })
                                .max()
                        })
                        .or_else(|| p.metadata.creation_timestamp.clone())
                        .map(|t| ::client::time::to_chrono(t.0));
                    t.last_failure = t.last_failure.max(finished);
                }
            },
            _ if p.metadata.deletion_timestamp.is_some() => {}
            _ => {
                if crate::controllers::endpoints::subsets::pod_condition_true(p, "Ready") {
                    t.ready += 1;
                }
                t.active.push(p);
            }
        }
    }
    t
}

/// `completedIndexes` text: sorted ranges, `1,3-5,7`.
pub fn format_indexes(indexes: &BTreeSet<i32>) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut iter = indexes.iter().copied().peekable();
    while let Some(start) = iter.next() {
        let mut end = start;
        while iter.peek() == Some(&(end + 1)) {
            end += 1;
            iter.next();
        }
        out.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
    }
    out.join(",")
}

/// Parses `completedIndexes` text back (the inverse of [`format_indexes`]);
/// malformed parts are skipped.
pub fn parse_indexes(text: &str) -> BTreeSet<i32> {
    let mut out = BTreeSet::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.parse::<i32>(), b.parse::<i32>()) {
                    out.extend(a..=b);
                }
            }
            None => {
                if let Ok(i) = part.parse() {
                    out.insert(i);
                }
            }
        }
    }
    out
}

/// Completion indexes that have neither succeeded nor an active pod,
/// lowest first, at most `limit` of them.
pub fn missing_indexes(
    completions: i32,
    succeeded: &BTreeSet<i32>,
    active: &[&Pod],
    limit: usize,
) -> Vec<i32> {
    let running: BTreeSet<i32> = active.iter().filter_map(|p| pod_index(p)).collect();
    (0..completions)
        .filter(|i| !succeeded.contains(i) && !running.contains(i))
        .take(limit)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(phase: &str, extra: serde_json::Value) -> Pod {
        let mut p =
            json!({"metadata": {"name": "p", "namespace": "ns"}, "status": {"phase": phase}});
        if let (Some(a), Some(b)) = (p.as_object_mut(), extra.as_object()) {
            for (k, v) in b {
                if k == "status" {
                    if let (Some(s), Some(v)) = (
                        a.get_mut("status").and_then(|s| s.as_object_mut()),
                        v.as_object(),
                    ) {
                        s.extend(v.clone());
                    }
                } else {
                    a.insert(k.clone(), v.clone());
                }
            }
        }
        serde_json::from_value(p).expect("pod")
    }

    fn exit(code: i32) -> serde_json::Value {
        json!({"status": {"containerStatuses": [{"name": "main", "image": "i", "imageID": "", "ready": false, "restartCount": 0,
            "state": {"terminated": {"exitCode": code, "finishedAt": "2024-01-01T00:00:00Z"}}}]}})
    }

    fn job(spec: serde_json::Value) -> Job {
        serde_json::from_value(json!({"metadata": {"name": "j"}, "spec": spec})).expect("job")
    }

    #[test]
    fn backoff_doubles_up_to_six_minutes() {
        let got: Vec<u64> = [0, 1, 2, 3, 6, 7, 20]
            .iter()
            .map(|f| backoff(*f).as_secs())
            .collect();
        assert_eq!(got, [0, 10, 20, 40, 320, 360, 360]);
    }

    #[test]
    fn counts_pods_by_phase() {
        let (a, b, c, d) = (
            pod("Running", json!({})),
            pod("Succeeded", json!({})),
            pod("Failed", exit(1)),
            pod("Pending", json!({})),
        );
        let t = tally(&job(json!({"template": {}})), &[&a, &b, &c, &d]);
        assert_eq!((t.active.len(), t.succeeded, t.failed), (2, 1, 1));
        assert!(t.last_failure.is_some());
    }

    #[test]
    fn pod_failure_policy_rules_apply_in_order() {
        let j = job(json!({"template": {}, "podFailurePolicy": {"rules": [
            {"action": "FailJob", "onExitCodes": {"containerName": "main", "operator": "In", "values": [42]}},
            {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]},
            {"action": "Count", "onExitCodes": {"operator": "NotIn", "values": [0]}}]}}));
        let rules = &j
            .spec
            .as_ref()
            .and_then(|s| s.pod_failure_policy.as_ref())
            .expect("policy")
            .rules;
        assert!(
            matches!(failure_verdict(rules, &pod("Failed", exit(42))), FailureVerdict::FailJob(m) if m.contains("exit code 42"))
        );
        let disrupted = pod(
            "Failed",
            json!({"status": {"conditions": [{"type": "DisruptionTarget", "status": "True"}]}}),
        );
        assert_eq!(failure_verdict(rules, &disrupted), FailureVerdict::Ignore);
        assert_eq!(
            failure_verdict(rules, &pod("Failed", exit(3))),
            FailureVerdict::Count
        );
        let failed42 = pod("Failed", exit(42));
        let t = tally(&j, &[&failed42, &disrupted]);
        assert_eq!(t.failed, 1);
        assert!(t.fail_job.is_some());
    }

    #[test]
    fn indexes_parse_back() {
        for text in ["", "0", "1,3-5,7", "0-9"] {
            assert_eq!(format_indexes(&parse_indexes(text)), text);
        }
        assert_eq!(parse_indexes("2,x,4-"), BTreeSet::from([2]));
    }

    #[test]
    fn indexes() {
        let set: BTreeSet<i32> = [0, 1, 2, 4, 6, 7].into_iter().collect();
        assert_eq!(format_indexes(&set), "0-2,4,6-7");
        assert_eq!(format_indexes(&BTreeSet::new()), "");
        let running = pod(
            "Running",
            json!({"metadata": {"name": "p", "annotations": {COMPLETION_INDEX: "3"}}}),
        );
        assert_eq!(missing_indexes(8, &set, &[&running], 5), [5]);
        assert_eq!(missing_indexes(8, &BTreeSet::new(), &[], 2), [0, 1]);
    }
}
