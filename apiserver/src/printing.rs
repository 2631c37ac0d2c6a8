//! The seam to `crate::printers` (written by the printers helper): Table
//! columns and cells. Until that module lands, every kind gets upstream's
//! default table: Name and Created At.

use serde_json::{Value, json};
use std::time::SystemTime;

/// Column definitions for a resource's Table.
pub fn column_definitions(_group: &str, _resource: &str) -> Vec<Value> {
    vec![
        json!({"name": "Name", "type": "string", "format": "name", "description": "Name must be unique within a namespace.", "priority": 0}),
        json!({"name": "Created At", "type": "date", "format": "", "description": "CreationTimestamp is a timestamp representing the server time when this object was created.", "priority": 0}),
    ]
}

/// One row's cells, in column order.
pub fn row_cells(_group: &str, _resource: &str, obj: &Value, _now: SystemTime) -> Vec<Value> {
    vec![
        obj.pointer("/metadata/name").cloned().unwrap_or(json!("")),
        obj.pointer("/metadata/creationTimestamp").cloned().unwrap_or(json!("")),
    ]
}
