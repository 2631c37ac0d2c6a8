//! Defaulting: `default` values of a structural schema fill absent fields
//! (and nulls of non-nullable fields) when an object is created or updated.

use serde_json::Value;

/// Applies the schema's defaults to a whole custom resource in place.
pub fn default_object(schema: Option<&Value>, obj: &mut Value) {
    if let Some(s) = schema {
        apply(s, obj);
    }
}

fn apply(schema: &Value, v: &mut Value) {
    match v {
        Value::Object(o) => {
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (k, s) in props {
                    let Some(d) = s.get("default") else { continue };
                    let nullable = s.get("nullable").and_then(Value::as_bool) == Some(true);
                    match o.get(k) {
                        None => {
                            o.insert(k.clone(), d.clone());
                        }
                        Some(Value::Null) if !nullable => {
                            o.insert(k.clone(), d.clone());
                        }
                        _ => {}
                    }
                }
            }
            let additional = schema.get("additionalProperties").filter(|a| a.is_object());
            for (k, child) in o.iter_mut() {
                let s = schema
                    .get("properties")
                    .and_then(|p| p.get(k))
                    .or(additional);
                if let Some(s) = s {
                    apply(s, child);
                }
            }
        }
        Value::Array(items) => {
            if let Some(s) = schema.get("items") {
                for item in items {
                    apply(s, item);
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
    fn defaults_fill_absent_fields_at_every_level() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "default": {}, "properties": {
            "replicas": {"type": "integer", "default": 1},
            "mode": {"type": "string", "default": "fast"},
            "note": {"type": "string", "nullable": true, "default": "n"},
            "ports": {"type": "array", "items": {"type": "object", "properties": {"protocol": {"type": "string", "default": "TCP"}}}},
            "labels": {"type": "object", "additionalProperties": {"type": "object", "properties": {"v": {"type": "integer", "default": 0}}}}
        }}}});
        let cases = vec![
            (
                json!({}),
                json!({"spec": {"replicas": 1, "mode": "fast", "note": "n"}}),
            ),
            (
                json!({"spec": {"replicas": 3, "mode": null, "note": null}}),
                json!({"spec": {"replicas": 3, "mode": "fast", "note": null}}),
            ),
            (
                json!({"spec": {"replicas": 2, "mode": "slow", "note": "x", "ports": [{}, {"protocol": "UDP"}]}}),
                json!({"spec": {"replicas": 2, "mode": "slow", "note": "x", "ports": [{"protocol": "TCP"}, {"protocol": "UDP"}]}}),
            ),
            (
                json!({"spec": {"replicas": 2, "mode": "slow", "note": "x", "labels": {"a": {}}}}),
                json!({"spec": {"replicas": 2, "mode": "slow", "note": "x", "labels": {"a": {"v": 0}}}}),
            ),
        ];
        for (mut obj, want) in cases {
            default_object(Some(&schema), &mut obj);
            assert_eq!(obj, want);
        }
    }
}
