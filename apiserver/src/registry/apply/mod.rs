//! Server-side apply (`application/apply-patch+yaml`): the applied
//! configuration is merged into the live object, the applier owns exactly
//! the fields it applied (recorded in `metadata.managedFields`), fields it
//! applied before and no longer applies are removed unless someone else
//! owns them, and changing a field another manager owns is a conflict
//! (409) unless the request forces it, which moves ownership.
//!
//! `fieldset` holds the path sets and their `FieldsV1` encoding, `managed`
//! the entries and the bookkeeping of ordinary (non-apply) writes, `merge`
//! the object operations.

pub mod fieldset;
pub mod managed;
pub mod merge;
pub mod options;

#[cfg(test)]
mod tests;

use crate::registry::patch::types::TypeInfo;
use crate::status::ApiError;
use fieldset::FieldSet;
use managed::{Entry, Manager};
use serde_json::{Map, Value, json};

/// One apply request: who applies, whether it forces, and the type
/// information of the object.
pub struct Apply<'a> {
    pub manager: Manager,
    pub force: bool,
    pub types: &'a dyn TypeInfo,
    pub def: Option<&'a str>,
    /// The time written into the manager's entry (RFC 3339).
    pub now: String,
}

impl Apply<'_> {
    fn owns_as_applier(&self, e: &Entry) -> bool {
        e.manager.name == self.manager.name
            && e.manager.operation == "Apply"
            && e.manager.subresource == self.manager.subresource
    }

    /// The object to create when nothing exists yet: the configuration,
    /// owned entirely by the applier.
    pub fn to_new(&self, applied: &Value) -> Value {
        let mut obj = applied.clone();
        let set = fieldset::of_object(
            self.types,
            self.def,
            &managed::owned_part(applied, &self.manager.subresource),
        );
        managed::write(
            &mut obj,
            &[Entry {
                manager: self.manager.clone(),
                time: self.now.clone(),
                fields: set,
            }],
        );
        obj
    }

    /// `applied` applied to `live`; a 409 on conflicts unless forced.
    pub fn to_live(&self, live: &Value, applied: &Value) -> Result<Value, ApiError> {
        let sub = self.manager.subresource.as_str();
        let applied_part = managed::owned_part(applied, sub);
        let live_part = managed::owned_part(live, sub);
        let new_set = fieldset::of_object(self.types, self.def, &applied_part);
        let merged = merge::merge(self.types, self.def, &live_part, &applied_part);
        let mut touched = fieldset::changed(self.types, self.def, &live_part, &merged);
        touched.union(&fieldset::removed(
            self.types, self.def, &live_part, &merged,
        ));

        let mut entries = managed::read(live);
        let conflicts: Vec<(String, Vec<Vec<String>>)> = entries
            .iter()
            .filter(|e| !self.owns_as_applier(e))
            .filter_map(|e| {
                let c = e.fields.intersection(&new_set).intersection(&touched);
                (!c.is_empty()).then(|| (e.manager.describe(), c.paths()))
            })
            .collect();
        if !conflicts.is_empty() && !self.force {
            return Err(conflict_error(&conflicts));
        }

        let mut others = FieldSet::default();
        let mut previous = FieldSet::default();
        for e in entries.iter_mut() {
            if self.owns_as_applier(e) {
                previous = e.fields.clone();
            } else {
                if self.force {
                    e.fields = e.fields.difference(&new_set);
                }
                others.union(&e.fields);
            }
        }
        let gone = previous.difference(&new_set).difference(&others);
        let mut result = merged;
        merge::remove(self.types, self.def, &mut result, &gone);

        entries.retain(|e| !self.owns_as_applier(e));
        entries.push(Entry {
            manager: self.manager.clone(),
            time: self.now.clone(),
            fields: new_set,
        });
        let mut out = recombine(live, result, sub);
        managed::write(&mut out, &entries);
        Ok(out)
    }
}

/// The owned part put back together with what nobody owns (identity
/// metadata, apiVersion/kind, and status for the main resource).
fn recombine(live: &Value, mut part: Map<String, Value>, sub: &str) -> Value {
    let mut keep = live.as_object().cloned().unwrap_or_default();
    let live_meta = keep
        .remove("metadata")
        .and_then(|m| m.as_object().cloned())
        .unwrap_or_default();
    let mut meta = match part.remove("metadata") {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    for (k, v) in live_meta {
        if managed::UNOWNED_METADATA.contains(&k.as_str()) {
            meta.insert(k, v);
        }
    }
    for k in ["apiVersion", "kind"] {
        if let Some(v) = keep.get(k) {
            part.insert(k.into(), v.clone());
        }
    }
    if sub.is_empty()
        && let Some(s) = keep.get("status")
    {
        part.insert("status".into(), s.clone());
    }
    part.insert("metadata".into(), Value::Object(meta));
    Value::Object(part)
}

/// Upstream's conflict answer: `Apply failed with 1 conflict: conflict
/// with "kubectl-client-side-apply" using apps/v1: .spec.replicas`, one
/// `FieldManagerConflict` cause per path.
pub fn conflict_error(conflicts: &[(String, Vec<Vec<String>>)]) -> ApiError {
    let n: usize = conflicts.iter().map(|(_, p)| p.len()).sum();
    let mut causes = Vec::new();
    for (who, paths) in conflicts {
        for p in paths {
            causes.push(json!({
                "reason": "FieldManagerConflict",
                "message": format!("conflict with {who}"),
                "field": fieldset::render_path(p),
            }));
        }
    }
    let text = if n == 1 {
        let (who, paths) = &conflicts[0];
        format!("conflict with {who}: {}", fieldset::render_path(&paths[0]))
    } else {
        let mut lines = Vec::new();
        for (who, paths) in conflicts {
            lines.push(format!("conflicts with {who}:"));
            for p in paths {
                lines.push(format!("- {}", fieldset::render_path(p)));
            }
        }
        lines.join("\n")
    };
    let plural = if n == 1 { "" } else { "s" };
    let mut e = ApiError::new(
        409,
        "Conflict",
        format!("Apply failed with {n} conflict{plural}: {text}"),
    );
    e.details = json!({ "causes": causes });
    e
}
