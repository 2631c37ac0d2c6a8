//! TaintNodesByCondition: a new Node starts tainted not-ready (NoSchedule)
//! until its kubelet reports Ready and the node lifecycle controller lifts it.

use super::{Operation, Request};
use serde_json::{Value, json};

const NOT_READY: &str = "node.kubernetes.io/not-ready";

pub fn admit(req: &Request<'_>, obj: &mut Value) {
    if req.operation != Operation::Create || !req.is("", "nodes") {
        return;
    }
    let Some(spec) = crate::validation::json::ensure_obj(obj, "spec") else {
        return;
    };
    let Some(Value::Array(taints)) = spec
        .as_object_mut()
        .map(|o| o.entry("taints").or_insert_with(|| json!([])))
    else {
        return;
    };
    let present = taints.iter().any(|t| {
        t.get("key").and_then(Value::as_str) == Some(NOT_READY)
            && t.get("effect").and_then(Value::as_str) == Some("NoSchedule")
    });
    if !present {
        taints.push(json!({"key": NOT_READY, "effect": "NoSchedule"}));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admission::test_request;

    #[test]
    fn new_nodes_get_the_not_ready_taint_once() {
        let r = test_request(Operation::Create, ("", "v1", "nodes"), "", "n1");
        let mut node = json!({"metadata": {"name": "n1"}});
        admit(&r, &mut node);
        admit(&r, &mut node);
        assert_eq!(
            node["spec"]["taints"],
            json!([{"key": NOT_READY, "effect": "NoSchedule"}])
        );
        let r = test_request(Operation::Update, ("", "v1", "nodes"), "", "n1");
        let mut node = json!({"metadata": {"name": "n1"}});
        admit(&r, &mut node);
        assert!(node.get("spec").is_none());
    }
}
