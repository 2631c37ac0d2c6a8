//! The field a resource's watchers are indexed by, so an event is offered
//! only to the watchers it can concern: pods by `spec.nodeName`, what every
//! kubelet watches (`fieldSelector=spec.nodeName=<node>`).

use crate::registry::selection::Filter;
use serde_json::Value;

/// The indexed field of the resource stored under `path`, if any.
pub fn indexed_field(path: &str) -> Option<&'static str> {
    (path == "pods").then_some("spec.nodeName")
}

/// The value of the indexed field in `obj` (unscheduled pods: "").
pub fn value_of(field: &str, obj: &Value) -> String {
    match field {
        "spec.nodeName" => obj
            .pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        _ => String::new(),
    }
}

/// The index bucket a watcher with `filter` belongs in: the value its field
/// selector pins the indexed field to; None when it must see every event.
pub fn bucket_of(field: Option<&str>, filter: &Filter) -> Option<String> {
    field
        .and_then(|f| filter.exact_field(f))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pods_are_indexed_by_node_name() {
        assert_eq!(indexed_field("pods"), Some("spec.nodeName"));
        assert_eq!(indexed_field("configmaps"), None);
        let pod = json!({"spec": {"nodeName": "n1"}});
        assert_eq!(value_of("spec.nodeName", &pod), "n1");
        assert_eq!(value_of("spec.nodeName", &json!({"spec": {}})), "");
        let pods = crate::resources::lookup("", "v1", "pods").expect("served");
        let strategy = crate::registry::strategy::for_resource(pods);
        let f = Filter::new(None, Some("spec.nodeName=n1"), strategy).unwrap();
        assert_eq!(bucket_of(Some("spec.nodeName"), &f).as_deref(), Some("n1"));
        let f = Filter::new(None, Some("spec.nodeName!=n1"), strategy).unwrap();
        assert_eq!(bucket_of(Some("spec.nodeName"), &f), None);
    }
}
