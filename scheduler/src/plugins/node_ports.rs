//! NodePorts: a host port can be taken by one pod per node (per protocol
//! and address; 0.0.0.0 takes every address).

use crate::framework::{CycleState, FilterPlugin, NodeInfo, PodInfo, Status};

pub const NAME: &str = "NodePorts";
pub const REASON: &str = "node(s) didn't have free ports for the requested pod ports";

pub struct NodePorts;

impl FilterPlugin for NodePorts {
    fn name(&self) -> &'static str {
        NAME
    }
    fn pre_filter(
        &self,
        _: &mut CycleState,
        pod: &PodInfo,
        _: &crate::framework::Snapshot,
    ) -> Status {
        if pod.host_ports.is_empty() {
            Status::skip()
        } else {
            Status::success()
        }
    }
    fn filter(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let clash = pod
            .host_ports
            .iter()
            .any(|want| node.used_ports.iter().any(|used| used.conflicts(want)));
        if clash {
            Status::unschedulable(REASON)
        } else {
            Status::success()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Code;
    use crate::plugins::testing::{node, pod};
    use serde_json::json;
    use std::sync::Arc;

    fn with_port(name: &str, port: i32, ip: &str) -> PodInfo {
        pod(
            json!({"metadata": {"name": name}, "spec": {"containers": [{"name": "c", "image": "x",
            "ports": [{"containerPort": 80, "hostPort": port, "hostIP": ip}]}]}}),
        )
    }

    #[test]
    fn host_ports_conflict_per_node() {
        let mut n = node(json!({"metadata": {"name": "n"}}));
        n.add_pod(Arc::new(with_port("old", 8080, "")));
        let cases = [
            (with_port("a", 8080, ""), Code::Unschedulable),
            (with_port("b", 8081, ""), Code::Success),
            (with_port("c", 8080, "10.0.0.1"), Code::Unschedulable),
        ];
        for (p, want) in cases {
            assert_eq!(
                NodePorts.filter(&CycleState::new(), &p, &n).code,
                want,
                "{}",
                p.name
            );
        }
        assert!(n.remove_pod("default/old"));
        assert!(
            NodePorts
                .filter(&CycleState::new(), &with_port("a", 8080, ""), &n)
                .is_success()
        );
    }
}
