//! Validation of a custom resource against its version's structural
//! schema, with upstream's field paths and messages
//! (`spec.replicas: Invalid value: "string": spec.replicas in body must be
//! of type integer: "string"`).

use crate::validation::{ErrorList, ErrorType, FieldError};
use serde_json::{Value, json};

/// Validates a whole object. `apiVersion`, `kind` and `metadata` at the
/// root are the apiserver's (checked by metadata validation), not the
/// schema's.
pub fn validate_object(schema: Option<&Value>, obj: &Value) -> ErrorList {
    let mut errs = ErrorList::new();
    let Some(schema) = schema else {
        return errs;
    };
    let Some(o) = obj.as_object() else {
        return errs;
    };
    if let Some(req) = schema.get("required").and_then(Value::as_array) {
        for r in req.iter().filter_map(Value::as_str) {
            if !o.contains_key(r) && !matches!(r, "apiVersion" | "kind" | "metadata") {
                errs.push(FieldError::required(r, ""));
            }
        }
    }
    for (k, v) in o {
        if matches!(k.as_str(), "apiVersion" | "kind" | "metadata") {
            continue;
        }
        if let Some(s) = child_schema(schema, k) {
            validate(s, v, k, &mut errs);
        }
    }
    errs
}

/// The schema of property `key` of an object schema.
pub fn child_schema<'a>(schema: &'a Value, key: &str) -> Option<&'a Value> {
    schema
        .get("properties")
        .and_then(|p| p.get(key))
        .or_else(|| schema.get("additionalProperties").filter(|a| a.is_object()))
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// The JSON type name upstream shows for a value.
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_matches(want: &str, v: &Value) -> bool {
    match want {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "integer" => v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0),
        "number" => v.is_number(),
        _ => true,
    }
}

fn type_error(path: &str, want: &str, v: &Value) -> FieldError {
    let got = type_name(v);
    FieldError::invalid(
        path,
        json!(got),
        format!("{path} in body must be of type {want}: \"{got}\""),
    )
}

fn flag(schema: &Value, name: &str) -> bool {
    schema.get(name).and_then(Value::as_bool).unwrap_or(false)
}

/// Validates `v` at `path` against `schema`, appending to `errs`.
pub fn validate(schema: &Value, v: &Value, path: &str, errs: &mut ErrorList) {
    if v.is_null() {
        if !flag(schema, "nullable") && schema.get("type").is_some() {
            let want = schema["type"].as_str().unwrap_or("");
            errs.push(type_error(path, want, v));
        }
        return;
    }
    if flag(schema, "x-kubernetes-int-or-string") {
        if !(v.is_string() || type_matches("integer", v)) {
            errs.push(type_error(path, "integer,string", v));
            return;
        }
    } else if let Some(want) = schema.get("type").and_then(Value::as_str)
        && !type_matches(want, v)
    {
        errs.push(type_error(path, want, v));
        return;
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(v)
    {
        let shown: Vec<String> = allowed
            .iter()
            .map(|a| match a {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        let refs: Vec<&str> = shown.iter().map(String::as_str).collect();
        errs.push(FieldError::not_supported(path, v.clone(), &refs));
    }
    match v {
        Value::String(s) => validate_string(schema, s, path, errs),
        Value::Number(_) => validate_number(schema, v, path, errs),
        Value::Array(items) => {
            validate_array(schema, items, path, errs);
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    validate(item_schema, item, &format!("{path}[{i}]"), errs);
                }
            }
        }
        Value::Object(o) => {
            if flag(schema, "x-kubernetes-embedded-resource") {
                for k in ["apiVersion", "kind"] {
                    if o.get(k).and_then(Value::as_str).unwrap_or("").is_empty() {
                        errs.push(FieldError::required(join(path, k), "must not be empty"));
                    }
                }
            }
            if let Some(req) = schema.get("required").and_then(Value::as_array) {
                for r in req.iter().filter_map(Value::as_str) {
                    if !o.contains_key(r) {
                        errs.push(FieldError::required(join(path, r), ""));
                    }
                }
            }
            let n = o.len() as u64;
            if let Some(min) = schema.get("minProperties").and_then(Value::as_u64)
                && n < min
            {
                errs.push(FieldError::invalid(
                    path,
                    json!(n),
                    format!("{path} in body should have at least {min} properties"),
                ));
            }
            if let Some(max) = schema.get("maxProperties").and_then(Value::as_u64)
                && n > max
            {
                errs.push(FieldError::new(
                    ErrorType::TooMany,
                    path,
                    json!(n),
                    format!("must have at most {max} items"),
                ));
            }
            for (k, child) in o {
                if let Some(s) = child_schema(schema, k) {
                    validate(s, child, &join(path, k), errs);
                }
            }
        }
        _ => {}
    }
}

fn validate_string(schema: &Value, s: &str, path: &str, errs: &mut ErrorList) {
    let len = s.chars().count() as u64;
    if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
        && len > max
    {
        errs.push(FieldError::too_long(path, max as usize));
    }
    if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
        && len < min
    {
        errs.push(FieldError::invalid(
            path,
            json!(s),
            format!("{path} in body should be at least {min} chars long"),
        ));
    }
    if let Some(p) = schema.get("pattern").and_then(Value::as_str) {
        match regex::Regex::new(p) {
            Ok(re) if !re.is_match(s) => errs.push(FieldError::invalid(
                path,
                json!(s),
                format!("{path} in body should match '{p}'"),
            )),
            _ => {}
        }
    }
}

fn validate_number(schema: &Value, v: &Value, path: &str, errs: &mut ErrorList) {
    let Some(x) = v.as_f64() else { return };
    if let Some(min) = schema.get("minimum").and_then(Value::as_f64) {
        let exclusive = flag(schema, "exclusiveMinimum");
        if (exclusive && x <= min) || (!exclusive && x < min) {
            let rel = if exclusive {
                "greater than"
            } else {
                "greater than or equal to"
            };
            errs.push(FieldError::invalid(
                path,
                v.clone(),
                format!("{path} in body should be {rel} {}", num(min)),
            ));
        }
    }
    if let Some(max) = schema.get("maximum").and_then(Value::as_f64) {
        let exclusive = flag(schema, "exclusiveMaximum");
        if (exclusive && x >= max) || (!exclusive && x > max) {
            let rel = if exclusive {
                "less than"
            } else {
                "less than or equal to"
            };
            errs.push(FieldError::invalid(
                path,
                v.clone(),
                format!("{path} in body should be {rel} {}", num(max)),
            ));
        }
    }
    if let Some(m) = schema.get("multipleOf").and_then(Value::as_f64)
        && m > 0.0
        && (x / m).fract() != 0.0
    {
        errs.push(FieldError::invalid(
            path,
            v.clone(),
            format!("{path} in body should be a multiple of {}", num(m)),
        ));
    }
}

/// Prints a bound as Go does (`1`, not `1.0`).
fn num(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        f.to_string()
    }
}

fn validate_array(schema: &Value, items: &[Value], path: &str, errs: &mut ErrorList) {
    let n = items.len();
    if let Some(max) = schema.get("maxItems").and_then(Value::as_u64)
        && n as u64 > max
    {
        errs.push(FieldError::too_many(path, n, max as usize));
    }
    if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
        && (n as u64) < min
    {
        errs.push(FieldError::invalid(
            path,
            json!(n),
            format!("{path} in body should have at least {min} items"),
        ));
    }
    if flag(schema, "uniqueItems")
        || schema.get("x-kubernetes-list-type").and_then(Value::as_str) == Some("set")
    {
        for (i, a) in items.iter().enumerate() {
            if items[..i].contains(a) {
                errs.push(FieldError::duplicate(format!("{path}[{i}]"), a.clone()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "spec": {
                    "type": "object",
                    "required": ["replicas"],
                    "properties": {
                        "replicas": {"type": "integer", "minimum": 1, "maximum": 10},
                        "mode": {"type": "string", "enum": ["fast", "slow"]},
                        "id": {"type": "string", "pattern": "^[a-z]+$", "minLength": 2, "maxLength": 5},
                        "tags": {"type": "array", "minItems": 1, "maxItems": 2, "items": {"type": "string"}},
                        "note": {"type": "string", "nullable": true},
                        "port": {"x-kubernetes-int-or-string": true},
                        "template": {"type": "object", "x-kubernetes-embedded-resource": true, "x-kubernetes-preserve-unknown-fields": true},
                        "ratio": {"type": "number", "minimum": 0, "exclusiveMinimum": true}
                    }
                }
            }
        })
    }

    fn messages(obj: Value) -> Vec<String> {
        validate_object(Some(&schema()), &obj)
            .iter()
            .map(|e| e.to_string())
            .collect()
    }

    #[test]
    fn schema_rules_report_upstream_paths_and_messages() {
        let cases: Vec<(Value, Vec<&str>)> = vec![
            (json!({"spec": {"replicas": 3}}), vec![]),
            (
                json!({"spec": {"replicas": "three"}}),
                vec![
                    r#"spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string""#,
                ],
            ),
            (json!({"spec": {}}), vec!["spec.replicas: Required value"]),
            (
                json!({"spec": {"replicas": 0}}),
                vec![
                    "spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1",
                ],
            ),
            (
                json!({"spec": {"replicas": 11}}),
                vec![
                    "spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10",
                ],
            ),
            (
                json!({"spec": {"replicas": 1, "mode": "medium"}}),
                vec![r#"spec.mode: Unsupported value: "medium": supported values: "fast", "slow""#],
            ),
            (
                json!({"spec": {"replicas": 1, "id": "A1"}}),
                vec![r#"spec.id: Invalid value: "A1": spec.id in body should match '^[a-z]+$'"#],
            ),
            (
                json!({"spec": {"replicas": 1, "id": "a"}}),
                vec![
                    r#"spec.id: Invalid value: "a": spec.id in body should be at least 2 chars long"#,
                ],
            ),
            (
                json!({"spec": {"replicas": 1, "id": "abcdefg"}}),
                vec!["spec.id: Too long: must have at most 5 bytes"],
            ),
            (
                json!({"spec": {"replicas": 1, "tags": []}}),
                vec!["spec.tags: Invalid value: 0: spec.tags in body should have at least 1 items"],
            ),
            (
                json!({"spec": {"replicas": 1, "tags": ["a", "b", "c"]}}),
                vec!["spec.tags: Too many: 3: must have at most 2 items"],
            ),
            (
                json!({"spec": {"replicas": 1, "tags": [1]}}),
                vec![
                    r#"spec.tags[0]: Invalid value: "integer": spec.tags[0] in body must be of type string: "integer""#,
                ],
            ),
            (json!({"spec": {"replicas": 1, "note": null}}), vec![]),
            (
                json!({"spec": {"replicas": null}}),
                vec![
                    r#"spec.replicas: Invalid value: "null": spec.replicas in body must be of type integer: "null""#,
                ],
            ),
            (json!({"spec": {"replicas": 1, "port": "http"}}), vec![]),
            (json!({"spec": {"replicas": 1, "port": 80}}), vec![]),
            (
                json!({"spec": {"replicas": 1, "port": true}}),
                vec![
                    r#"spec.port: Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean""#,
                ],
            ),
            (
                json!({"spec": {"replicas": 1, "template": {"kind": "Pod"}}}),
                vec!["spec.template.apiVersion: Required value: must not be empty"],
            ),
            (
                json!({"spec": {"replicas": 1, "ratio": 0}}),
                vec!["spec.ratio: Invalid value: 0: spec.ratio in body should be greater than 0"],
            ),
        ];
        for (obj, want) in cases {
            assert_eq!(messages(obj.clone()), want, "{obj}");
        }
    }

    #[test]
    fn metadata_and_type_fields_are_not_the_schemas() {
        let s = json!({"type": "object", "required": ["spec"], "properties": {"spec": {"type": "object"}}});
        let errs = validate_object(
            Some(&s),
            &json!({"apiVersion": "x/v1", "kind": "K", "metadata": {"name": "a"}}),
        );
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].field, "spec");
        assert!(validate_object(None, &json!({"spec": 1})).is_empty());
    }
}
