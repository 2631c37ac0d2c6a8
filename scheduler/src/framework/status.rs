//! The outcome of one plugin on one node, and the fit error that collects
//! them into upstream's "0/N nodes are available: ..." message.

use std::borrow::Cow;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    Success,
    /// The node does not fit now, but evicting pods could make it fit.
    Unschedulable,
    /// The node cannot fit whatever is evicted (preemption will not help).
    UnschedulableAndUnresolvable,
    /// From a pre-filter: this plugin has nothing to check for this pod.
    Skip,
    /// Something went wrong (not the pod's fault).
    Error,
}

/// A plugin's answer: a code and the reasons shown to users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub code: Code,
    /// Mostly fixed upstream texts, so no allocation per failing node.
    pub reasons: Vec<Cow<'static, str>>,
}

impl Status {
    pub fn success() -> Status {
        Status {
            code: Code::Success,
            reasons: Vec::new(),
        }
    }
    pub fn skip() -> Status {
        Status {
            code: Code::Skip,
            reasons: Vec::new(),
        }
    }
    pub fn unschedulable(reason: impl Into<Cow<'static, str>>) -> Status {
        Status {
            code: Code::Unschedulable,
            reasons: vec![reason.into()],
        }
    }
    pub fn unresolvable(reason: impl Into<Cow<'static, str>>) -> Status {
        Status {
            code: Code::UnschedulableAndUnresolvable,
            reasons: vec![reason.into()],
        }
    }
    pub fn error(reason: impl Into<Cow<'static, str>>) -> Status {
        Status {
            code: Code::Error,
            reasons: vec![reason.into()],
        }
    }
    pub fn is_success(&self) -> bool {
        self.code == Code::Success
    }
    pub fn message(&self) -> String {
        self.reasons.join(", ")
    }
}

/// Why a pod fits no node: what each node said, for the event, the
/// PodScheduled condition and preemption.
#[derive(Debug, Clone, Default)]
pub struct FitError {
    pub num_all_nodes: usize,
    /// Set when a pre-filter rejected the pod for every node at once.
    pub pre_filter_msg: Option<String>,
    /// Failing status per node name.
    pub node_statuses: BTreeMap<String, Status>,
    /// What preemption had to say, appended after the reasons.
    pub post_filter_msg: Option<String>,
}

/// "0/N nodes are available: a, b." with each reason counted over nodes
/// and sorted as strings, the way upstream prints it.
pub fn nodes_available_message(num_nodes: usize, histogram: &BTreeMap<String, usize>) -> String {
    let mut reasons: Vec<String> = histogram.iter().map(|(r, n)| format!("{n} {r}")).collect();
    reasons.sort();
    let mut msg = format!("0/{num_nodes} nodes are available:");
    if !reasons.is_empty() {
        msg.push_str(&format!(" {}.", reasons.join(", ")));
    }
    msg
}

/// Upstream's `ErrNoNodesAvailable`: the message when the cluster has no
/// nodes at all (not a fit error, so nothing else is said).
pub const NO_NODES_AVAILABLE: &str = "no nodes available to schedule pods";

impl FitError {
    pub fn message(&self) -> String {
        if self.num_all_nodes == 0 {
            return NO_NODES_AVAILABLE.to_string();
        }
        let mut msg = match &self.pre_filter_msg {
            Some(pre) => format!("0/{} nodes are available: {pre}.", self.num_all_nodes),
            None => {
                let mut histogram = BTreeMap::new();
                for status in self.node_statuses.values() {
                    for r in &status.reasons {
                        *histogram.entry(r.to_string()).or_insert(0) += 1;
                    }
                }
                nodes_available_message(self.num_all_nodes, &histogram)
            }
        };
        if let Some(post) = &self.post_filter_msg {
            msg.push_str(&format!(" {post}."));
        }
        msg
    }
}

impl std::fmt::Display for FitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_counts_and_sorts_reasons_like_upstream() {
        let mut e = FitError {
            num_all_nodes: 3,
            ..Default::default()
        };
        e.node_statuses.insert(
            "a".into(),
            Status::unresolvable(
                "node(s) had untolerated taint {node-role.kubernetes.io/master: }",
            ),
        );
        e.node_statuses
            .insert("b".into(), Status::unschedulable("Insufficient cpu"));
        e.node_statuses
            .insert("c".into(), Status::unschedulable("Insufficient cpu"));
        assert_eq!(
            e.message(),
            "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/master: }, 2 Insufficient cpu."
        );
        e.post_filter_msg = Some("preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod".into());
        assert!(e.message().ends_with("2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod."));
    }

    #[test]
    fn pre_filter_message_replaces_the_histogram() {
        let e = FitError {
            num_all_nodes: 2,
            pre_filter_msg: Some("pod has unbound immediate PersistentVolumeClaims".into()),
            ..Default::default()
        };
        assert_eq!(
            e.message(),
            "0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims."
        );
    }

    #[test]
    fn no_nodes_at_all() {
        let e = FitError::default();
        assert_eq!(e.message(), "no nodes available to schedule pods");
    }
}
