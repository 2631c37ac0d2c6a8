//! NodeName: a pod that names a node (`spec.nodeName`) fits only there.

use crate::framework::{CycleState, FilterPlugin, NodeInfo, PodInfo, Status};

pub const NAME: &str = "NodeName";
pub const REASON: &str = "node(s) didn't match the requested node name";

pub struct NodeName;

impl FilterPlugin for NodeName {
    fn name(&self) -> &'static str {
        NAME
    }
    fn filter(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        match pod.pod.spec.as_ref().and_then(|s| s.node_name.as_deref()) {
            Some(want) if !want.is_empty() && want != node.name => Status::unresolvable(REASON),
            _ => Status::success(),
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
    fn only_the_named_node_fits() {
        let n = node(json!({"metadata": {"name": "foo-node"}}));
        let cases = [
            (json!({}), Code::Success),
            (json!({"spec": {"nodeName": "foo-node"}}), Code::Success),
            (
                json!({"spec": {"nodeName": "bar"}}),
                Code::UnschedulableAndUnresolvable,
            ),
        ];
        for (p, want) in cases {
            assert_eq!(
                NodeName
                    .filter(&CycleState::new(), &pod(p.clone()), &n)
                    .code,
                want,
                "{p}"
            );
        }
    }
}
