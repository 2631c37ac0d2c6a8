//! DefaultTolerationSeconds: pods tolerate not-ready and unreachable nodes
//! for 300 s (NoExecute) unless they say otherwise, so the node lifecycle
//! controller evicts them after five minutes.

use super::{Operation, Request};
use serde_json::{Value, json};

const SECONDS: i64 = 300;

pub fn admit(req: &Request<'_>, obj: &mut Value) {
    if req.operation != Operation::Create || !req.is("", "pods") {
        return;
    }
    let Some(spec) = crate::validation::json::ensure_obj(obj, "spec") else {
        return;
    };
    let Some(Value::Array(list)) = spec
        .as_object_mut()
        .map(|o| o.entry("tolerations").or_insert_with(|| json!([])))
    else {
        return;
    };
    for key in [
        "node.kubernetes.io/not-ready",
        "node.kubernetes.io/unreachable",
    ] {
        let tolerated = list.iter().any(|t| {
            let k = t.get("key").and_then(Value::as_str).unwrap_or("");
            let effect = t.get("effect").and_then(Value::as_str).unwrap_or("");
            let op = t.get("operator").and_then(Value::as_str).unwrap_or("");
            (k == key || (k.is_empty() && op == "Exists"))
                && (effect.is_empty() || effect == "NoExecute")
        });
        if !tolerated {
            list.push(json!({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": SECONDS}));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admission::test_request;

    #[test]
    fn adds_both_tolerations_unless_present() {
        let r = test_request(Operation::Create, ("", "v1", "pods"), "default", "p");
        let mut pod = json!({"spec": {"tolerations": [
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 10}
        ]}});
        admit(&r, &mut pod);
        let t = pod["spec"]["tolerations"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0]["tolerationSeconds"], 10);
        assert_eq!(t[1]["key"], "node.kubernetes.io/not-ready");
        assert_eq!(t[1]["tolerationSeconds"], 300);
        let mut all = json!({"spec": {"tolerations": [{"operator": "Exists"}]}});
        admit(&r, &mut all);
        assert_eq!(all["spec"]["tolerations"].as_array().map(Vec::len), Some(1));
    }
}
