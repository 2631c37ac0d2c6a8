//! Tables for custom resources: Name, then the version's
//! `additionalPrinterColumns` (or Age when it has none), as upstream's
//! custom resource table convertor prints them.

use super::jsonpath;
use super::registry::{CustomResource, PrinterColumn};
use crate::resources::ResourceDef;
use serde_json::{Value, json};
use std::time::SystemTime;

/// The columns of a version: the CRD's, or the default Age column.
fn columns(cr: &CustomResource, version: &str) -> Vec<PrinterColumn> {
    let given = cr
        .version(version)
        .map(|v| v.columns.clone())
        .unwrap_or_default();
    if !given.is_empty() {
        return given;
    }
    vec![PrinterColumn {
        name: "Age".into(),
        type_: "date".into(),
        format: String::new(),
        description: "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata".into(),
        priority: 0,
        json_path: ".metadata.creationTimestamp".into(),
    }]
}

/// `TableColumnDefinition`s for a custom resource, `None` for built-ins.
pub fn column_definitions(def: &ResourceDef) -> Option<Vec<Value>> {
    let cr = super::custom(def)?;
    let mut out = vec![json!({
        "name": "Name", "type": "string", "format": "name", "priority": 0,
        "description": "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
    })];
    for c in columns(&cr, def.version) {
        out.push(json!({
            "name": c.name, "type": c.type_, "format": c.format,
            "description": c.description, "priority": c.priority,
        }));
    }
    Some(out)
}

/// The row cells of one custom resource, `None` for built-ins.
pub fn row_cells(def: &ResourceDef, obj: &Value, now: SystemTime) -> Option<Vec<Value>> {
    let cr = super::custom(def)?;
    let mut cells = vec![json!(
        obj.pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
    )];
    for c in columns(&cr, def.version) {
        cells.push(cell(&c, obj, now));
    }
    Some(cells)
}

/// One cell: the selected value in the column's type; several values are
/// joined with commas; nothing selected is `null` (kubectl shows `<none>`).
fn cell(c: &PrinterColumn, obj: &Value, now: SystemTime) -> Value {
    let found = jsonpath::select(obj, &c.json_path);
    let Some(first) = found.first() else {
        return Value::Null;
    };
    if found.len() > 1 {
        let parts: Vec<String> = found.iter().map(|v| plain(v)).collect();
        return json!(parts.join(","));
    }
    match (c.type_.as_str(), first) {
        ("date", Value::String(s)) => match chrono::DateTime::parse_from_rfc3339(s) {
            Ok(t) => {
                let then = SystemTime::UNIX_EPOCH
                    + std::time::Duration::from_secs(t.timestamp().max(0) as u64);
                let age = now.duration_since(then).unwrap_or_default();
                json!(crate::printers::human_duration(age))
            }
            Err(_) => json!(s),
        },
        ("integer", v) if v.is_i64() || v.is_u64() => (*first).clone(),
        ("number", v) if v.is_number() => (*first).clone(),
        ("boolean", Value::Bool(_)) => (*first).clone(),
        (_, Value::String(s)) => json!(s),
        (_, v) => json!(plain(v)),
    }
}

/// A value as JSONPath output prints it (strings unquoted).
fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_follow_column_types() {
        let now = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000 + 7200);
        let obj = json!({"metadata": {"name": "a", "creationTimestamp": "2023-11-14T22:13:20Z"},
            "spec": {"hosts": ["x", "y"], "replicas": 3, "on": true, "gateway": "g"}});
        let col = |t: &str, p: &str| PrinterColumn {
            name: "C".into(),
            type_: t.into(),
            format: String::new(),
            description: String::new(),
            priority: 0,
            json_path: p.into(),
        };
        let cases = vec![
            (col("string", ".spec.hosts"), json!("[\"x\",\"y\"]")),
            (col("string", ".spec.hosts[*]"), json!("x,y")),
            (col("integer", ".spec.replicas"), json!(3)),
            (col("boolean", ".spec.on"), json!(true)),
            (col("string", ".spec.gateway"), json!("g")),
            (col("string", ".spec.none"), Value::Null),
            (col("date", ".metadata.creationTimestamp"), json!("120m")),
        ];
        for (c, want) in cases {
            assert_eq!(cell(&c, &obj, now), want, "{}", c.json_path);
        }
    }
}
