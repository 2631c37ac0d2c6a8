//! Pruning: fields a structural schema does not specify are dropped before
//! an object is stored (unless `x-kubernetes-preserve-unknown-fields`), as
//! upstream does. The dropped paths are returned so `fieldValidation`
//! can warn about them or refuse them.

use serde_json::{Map, Value};

/// Fields upstream keeps in an object's (or embedded resource's) metadata.
const OBJECT_META: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];

/// Prunes a whole custom resource in place; returns the dropped paths
/// (`spec.foo`, `spec.items[0].bar`). Without a schema nothing is pruned.
pub fn prune_object(schema: Option<&Value>, obj: &mut Value) -> Vec<String> {
    let mut dropped = Vec::new();
    let Some(schema) = schema else {
        return dropped;
    };
    if let Some(o) = obj.as_object_mut() {
        prune_map(schema, o, "", true, &mut dropped);
    }
    dropped
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn flag(schema: &Value, name: &str) -> bool {
    schema.get(name).and_then(Value::as_bool).unwrap_or(false)
}

/// `root`/embedded objects keep apiVersion, kind and ObjectMeta's fields.
fn prune_map(
    schema: &Value,
    o: &mut Map<String, Value>,
    path: &str,
    resource: bool,
    dropped: &mut Vec<String>,
) {
    let preserve = flag(schema, "x-kubernetes-preserve-unknown-fields");
    let props = schema.get("properties").and_then(Value::as_object);
    let additional = schema.get("additionalProperties");
    let keys: Vec<String> = o.keys().cloned().collect();
    for k in keys {
        let here = join(path, &k);
        if resource && matches!(k.as_str(), "apiVersion" | "kind") {
            continue;
        }
        if resource && k == "metadata" {
            if let Some(m) = o.get_mut("metadata").and_then(Value::as_object_mut) {
                let unknown: Vec<String> = m
                    .keys()
                    .filter(|f| !OBJECT_META.contains(&f.as_str()))
                    .cloned()
                    .collect();
                for f in unknown {
                    m.remove(&f);
                    dropped.push(join(&here, &f));
                }
            }
            continue;
        }
        let child_schema = props
            .and_then(|p| p.get(&k))
            .or_else(|| additional.filter(|a| a.is_object()));
        match child_schema {
            Some(s) => {
                if let Some(v) = o.get_mut(&k) {
                    prune_value(s, v, &here, dropped);
                }
            }
            None if preserve || additional == Some(&Value::Bool(true)) => {}
            None => {
                o.remove(&k);
                dropped.push(here);
            }
        }
    }
}

fn prune_value(schema: &Value, v: &mut Value, path: &str, dropped: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            let embedded = flag(schema, "x-kubernetes-embedded-resource");
            prune_map(schema, o, path, embedded, dropped)
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter_mut().enumerate() {
                    prune_value(item_schema, item, &format!("{path}[{i}]"), dropped);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn prunes_what_the_schema_does_not_specify() {
        let schema = json!({
            "type": "object",
            "properties": {
                "spec": {"type": "object", "properties": {
                    "size": {"type": "integer"},
                    "items": {"type": "array", "items": {"type": "object", "properties": {"a": {"type": "string"}}}},
                    "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true, "properties": {"known": {"type": "object", "properties": {}}}},
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "template": {"type": "object", "x-kubernetes-embedded-resource": true, "properties": {"spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}
                }},
                "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
            }
        });
        let cases = vec![
            (
                json!({"apiVersion": "x/v1", "kind": "K", "metadata": {"name": "a", "bogus": 1}, "spec": {"size": 1, "extra": true}, "top": 1}),
                json!({"apiVersion": "x/v1", "kind": "K", "metadata": {"name": "a"}, "spec": {"size": 1}}),
                vec!["metadata.bogus", "spec.extra", "top"],
            ),
            (
                json!({"spec": {"items": [{"a": "x", "b": "y"}]}}),
                json!({"spec": {"items": [{"a": "x"}]}}),
                vec!["spec.items[0].b"],
            ),
            (
                json!({"spec": {"free": {"anything": {"deep": 1}, "known": {"gone": 1}}}}),
                json!({"spec": {"free": {"anything": {"deep": 1}, "known": {}}}}),
                vec!["spec.free.known.gone"],
            ),
            (
                json!({"spec": {"labels": {"a": "b"}}, "status": {"x": 1}}),
                json!({"spec": {"labels": {"a": "b"}}, "status": {"x": 1}}),
                vec![],
            ),
            (
                json!({"spec": {"template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"c": 1}, "other": 2}}}),
                json!({"spec": {"template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"c": 1}}}}),
                vec!["spec.template.other"],
            ),
        ];
        for (mut obj, want, paths) in cases {
            let got = prune_object(Some(&schema), &mut obj);
            assert_eq!(obj, want);
            assert_eq!(got, paths);
        }
    }

    #[test]
    fn preserve_at_root_keeps_everything() {
        let schema = json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true});
        let mut obj = json!({"spec": {"hosts": ["a"]}, "whatever": 1});
        let before = obj.clone();
        assert!(prune_object(Some(&schema), &mut obj).is_empty());
        assert_eq!(obj, before);
    }
}
