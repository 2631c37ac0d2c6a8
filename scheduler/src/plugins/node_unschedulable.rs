//! NodeUnschedulable: a cordoned node (`spec.unschedulable`) takes only
//! pods that tolerate the `node.kubernetes.io/unschedulable` taint.

use crate::framework::{CycleState, FilterPlugin, NodeInfo, PodInfo, Status};
use client::scheduling::taints::{tolerations_tolerate_taint, unschedulable_taint};

pub const NAME: &str = "NodeUnschedulable";
pub const REASON: &str = "node(s) were unschedulable";

pub struct NodeUnschedulable;

impl FilterPlugin for NodeUnschedulable {
    fn name(&self) -> &'static str {
        NAME
    }
    fn filter(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        if !node.unschedulable {
            return Status::success();
        }
        let tolerations = pod
            .pod
            .spec
            .as_ref()
            .and_then(|s| s.tolerations.as_deref())
            .unwrap_or_default();
        if tolerations_tolerate_taint(tolerations, &unschedulable_taint()) {
            Status::success()
        } else {
            Status::unresolvable(REASON)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Code;
    use crate::plugins::testing::{node, pod};
    use serde_json::json;

    #[test]
    fn cordoned_nodes_need_a_toleration() {
        let cordoned = node(json!({"metadata": {"name": "n"}, "spec": {"unschedulable": true}}));
        let open = node(json!({"metadata": {"name": "n"}}));
        let plain = pod(json!({}));
        let tolerant = pod(json!({"spec": {"tolerations": [
            {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}]}}));
        let s = CycleState::new();
        let cases = [
            (&open, &plain, Code::Success),
            (&cordoned, &plain, Code::UnschedulableAndUnresolvable),
            (&cordoned, &tolerant, Code::Success),
        ];
        for (n, p, want) in cases {
            assert_eq!(NodeUnschedulable.filter(&s, p, n).code, want);
        }
        assert_eq!(
            NodeUnschedulable.filter(&s, &plain, &cordoned).reasons,
            vec![REASON]
        );
    }
}
