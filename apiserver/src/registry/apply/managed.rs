//! `metadata.managedFields`: who owns which fields, one entry per manager,
//! operation (`Apply` or `Update`), apiVersion and subresource, and how a
//! non-apply write (create, update, patch) moves ownership to its writer.

use super::fieldset::{self, FieldSet};
use crate::registry::patch::types::TypeInfo;
use serde_json::{Map, Value, json};

/// The writer of a request: upstream's `fieldManager` (or the user agent's
/// program name) with the operation and where it wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manager {
    pub name: String,
    /// `Apply` or `Update`.
    pub operation: &'static str,
    pub api_version: String,
    /// `""`, `status` or `scale`.
    pub subresource: String,
}

impl Manager {
    /// The manager of a request without `fieldManager`: the user agent up
    /// to its first `/` (`kubectl/v1.32.0 (linux/amd64) ...` is `kubectl`).
    pub fn name_from(field_manager: Option<&str>, user_agent: Option<&str>) -> String {
        match field_manager.filter(|m| !m.is_empty()) {
            Some(m) => m.to_string(),
            None => user_agent
                .and_then(|ua| ua.split('/').next())
                .unwrap_or("")
                .to_string(),
        }
    }

    /// How conflicts name this manager: `"kubectl" using apps/v1` for an
    /// updater, just `"name"` for an applier.
    pub fn describe(&self) -> String {
        let mut s = format!("{:?}", self.name);
        if !self.subresource.is_empty() {
            s.push_str(&format!(" with subresource {:?}", self.subresource));
        }
        if self.operation == "Update" {
            s.push_str(&format!(" using {}", self.api_version));
        }
        s
    }
}

/// One `managedFields` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub manager: Manager,
    pub time: String,
    pub fields: FieldSet,
}

impl Entry {
    fn to_json(&self) -> Value {
        let mut v = json!({
            "manager": self.manager.name,
            "operation": self.manager.operation,
            "apiVersion": self.manager.api_version,
            "time": self.time,
            "fieldsType": "FieldsV1",
            "fieldsV1": self.fields.to_fields_v1(),
        });
        if !self.manager.subresource.is_empty() {
            v["subresource"] = json!(self.manager.subresource);
        }
        v
    }
}

/// The entries of an object (entries that don't parse are dropped, as
/// upstream resets unreadable managed fields).
pub fn read(obj: &Value) -> Vec<Entry> {
    let Some(list) = obj
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|e| {
            let operation = match e.get("operation")?.as_str()? {
                "Apply" => "Apply",
                "Update" => "Update",
                _ => return None,
            };
            Some(Entry {
                manager: Manager {
                    name: e.get("manager")?.as_str()?.to_string(),
                    operation,
                    api_version: e.get("apiVersion")?.as_str()?.to_string(),
                    subresource: e
                        .get("subresource")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                },
                time: e
                    .get("time")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                fields: FieldSet::from_fields_v1(e.get("fieldsV1")?)?,
            })
        })
        .collect()
}

/// Writes `entries` into `obj` (dropping empty ones; no key when none).
pub fn write(obj: &mut Value, entries: &[Entry]) {
    let list: Vec<Value> = entries
        .iter()
        .filter(|e| !e.fields.is_empty())
        .map(Entry::to_json)
        .collect();
    if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        if list.is_empty() {
            m.remove("managedFields");
        } else {
            m.insert("managedFields".into(), Value::Array(list));
        }
    }
}

/// Metadata fields that are the server's or the object's identity, never a
/// manager's.
pub const UNOWNED_METADATA: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "selfLink",
    "managedFields",
    "generateName",
];

/// The object without the fields nobody owns: identity and bookkeeping
/// metadata, apiVersion/kind, and `status` for writes to the main resource.
pub fn owned_part(obj: &Value, subresource: &str) -> Map<String, Value> {
    let mut m = obj.as_object().cloned().unwrap_or_default();
    m.remove("apiVersion");
    m.remove("kind");
    if subresource.is_empty() {
        m.remove("status");
    }
    if let Some(Value::Object(meta)) = m.get_mut("metadata") {
        for f in UNOWNED_METADATA {
            meta.remove(*f);
        }
        if meta.is_empty() {
            m.remove("metadata");
        }
    }
    m
}

/// Records a non-apply write by `manager` from `old` (None at create) to
/// `new`: the fields it set or changed become its own (and no longer
/// anyone else's), removed fields are nobody's. `new` keeps the stored
/// entries when the request carried none; an explicit empty list resets.
pub fn record_update(
    types: &dyn TypeInfo,
    def: Option<&str>,
    new: &mut Value,
    old: Option<&Value>,
    manager: &Manager,
    now: &str,
) {
    let sent = new.pointer("/metadata/managedFields").cloned();
    let mut entries = match (&sent, old) {
        (Some(Value::Array(a)), _) if a.is_empty() => Vec::new(),
        (Some(_), _) => read(new),
        (None, Some(o)) => read(o),
        (None, None) => Vec::new(),
    };
    let before = old
        .map(|o| owned_part(o, &manager.subresource))
        .unwrap_or_default();
    let after = owned_part(new, &manager.subresource);
    let set = fieldset::changed(types, def, &before, &after);
    let gone = fieldset::removed(types, def, &before, &after);
    if set.is_empty() && gone.is_empty() {
        write(new, &entries);
        return;
    }
    let mut found = false;
    for e in entries.iter_mut() {
        if e.manager == *manager {
            e.fields.union(&set);
            e.fields = e.fields.difference(&gone);
            e.time = now.to_string();
            found = true;
        } else {
            e.fields = e.fields.difference(&set).difference(&gone);
        }
    }
    if !found {
        entries.push(Entry {
            manager: manager.clone(),
            time: now.to_string(),
            fields: set.difference(&gone),
        });
    }
    write(new, &entries);
}
