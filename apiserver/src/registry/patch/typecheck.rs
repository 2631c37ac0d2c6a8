//! A patched object must still fit its type: a patch can put a string where
//! the schema wants an integer (`{"spec":{"replicas":"many"}}`), which no
//! later check would notice in a JSON value. This walks the result beside
//! its definition and reports the first value of the wrong JSON type, as
//! upstream's schema validation words it.

use crate::schema::ref_name;
use crate::validation::FieldError;
use serde_json::Value;

/// The first misplaced value of `obj`, an object of definition `def`.
pub fn first_mismatch(def: &str, obj: &Value) -> Option<FieldError> {
    let schema = crate::schema::definitions().get(def)?;
    check(schema, obj, "")
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_string()
    } else {
        format!("{path}.{field}")
    }
}

fn mismatch(path: &str, want: &str, v: &Value) -> Option<FieldError> {
    let got = json_type(v);
    Some(FieldError::invalid(
        path,
        Value::String(got.to_string()),
        format!("{path} in body must be of type {want}: {got:?}"),
    ))
}

fn check(schema: &Value, v: &Value, path: &str) -> Option<FieldError> {
    if v.is_null() {
        return None;
    }
    if let Some(name) = ref_name(schema) {
        // Quantities and int-or-strings take numbers and strings alike.
        if name.ends_with(".IntOrString") || name.ends_with(".Quantity") {
            return match v {
                Value::Number(_) | Value::String(_) => None,
                _ => mismatch(path, "string", v),
            };
        }
        let def = crate::schema::definitions().get(name)?;
        return check(def, v, path);
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("integer") | Some("number") if !v.is_number() => mismatch(path, "integer", v),
        Some("boolean") if !v.is_boolean() => mismatch(path, "boolean", v),
        Some("string") if !v.is_string() => mismatch(path, "string", v),
        Some("array") => {
            let items = v.as_array();
            let Some(items) = items else {
                return mismatch(path, "array", v);
            };
            let item_schema = schema.get("items")?;
            items
                .iter()
                .enumerate()
                .find_map(|(i, x)| check(item_schema, x, &format!("{path}[{i}]")))
        }
        Some("object") | None if schema.get("properties").is_some() => {
            let Some(obj) = v.as_object() else {
                return mismatch(path, "object", v);
            };
            let props = schema.get("properties")?;
            obj.iter()
                .find_map(|(k, x)| props.get(k).and_then(|p| check(p, x, &join(path, k))))
        }
        Some("object") => {
            let Some(obj) = v.as_object() else {
                return mismatch(path, "object", v);
            };
            let values = schema.get("additionalProperties")?;
            obj.iter()
                .find_map(|(k, x)| check(values, x, &join(path, k)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wrong_json_types_are_found() {
        let d = "io.k8s.api.apps.v1.Deployment";
        let ok = json!({"metadata": {"name": "w", "labels": {"a": "b"}}, "spec": {"replicas": 2,
            "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
            "template": {"spec": {"containers": [{"name": "c", "resources": {"limits": {"cpu": 1, "memory": "1Gi"}}}]}}}});
        assert_eq!(first_mismatch(d, &ok), None);
        let bad = json!({"spec": {"replicas": "many"}});
        let e = first_mismatch(d, &bad).expect("mismatch");
        assert_eq!(
            e.to_string(),
            "spec.replicas: Invalid value: \"string\": spec.replicas in body must be of type integer: \"string\""
        );
        let bad =
            json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "args": "x"}]}}}});
        assert!(first_mismatch(d, &bad).is_some_and(|e| {
            e.to_string()
                .starts_with("spec.template.spec.containers[0].args:")
        }));
        let bad = json!({"metadata": {"labels": {"a": 1}}});
        assert!(first_mismatch(d, &bad).is_some());
    }
}
