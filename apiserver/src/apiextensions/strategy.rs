//! The store's per-kind behaviour for CRDs and for custom resources.

use super::{CLEANUP_FINALIZER, crd_validation, defaulting, pruning, schema};
use crate::registry::meta;
use crate::registry::strategy::{StatusReset, Strategy, keep_field};
use crate::resources::ResourceDef;
use crate::validation::{self, ErrorList};
use serde_json::{Value, json};

/// The strategy for `def` when it is a CRD or a custom resource.
pub fn for_resource(def: &ResourceDef) -> Option<&'static dyn Strategy> {
    static CRDS: CrdStrategy = CrdStrategy;
    static CUSTOM: CustomResourceStrategy = CustomResourceStrategy;
    if def.group == super::GROUP && def.plural == "customresourcedefinitions" {
        Some(&CRDS)
    } else if super::is_custom(def) {
        Some(&CUSTOM)
    } else {
        None
    }
}

/// CustomResourceDefinitions.
pub struct CrdStrategy;

/// Upstream's v1 defaults: singular, listKind, conversion strategy.
pub fn default_crd(crd: &mut Value) {
    let Some(spec) = crd.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    if let Some(names) = spec.get_mut("names").and_then(Value::as_object_mut) {
        let kind = names
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if names
            .get("singular")
            .and_then(Value::as_str)
            .unwrap_or("")
            .is_empty()
            && !kind.is_empty()
        {
            names.insert("singular".into(), json!(kind.to_lowercase()));
        }
        if names
            .get("listKind")
            .and_then(Value::as_str)
            .unwrap_or("")
            .is_empty()
            && !kind.is_empty()
        {
            names.insert("listKind".into(), json!(format!("{kind}List")));
        }
    }
    if !spec.contains_key("conversion") {
        spec.insert("conversion".into(), json!({"strategy": "None"}));
    }
}

impl Strategy for CrdStrategy {
    /// Upstream's CRD status strategy: status writes are not for metadata.
    fn status_reset(&self, _def: &ResourceDef) -> StatusReset {
        StatusReset::SpecAndMetadata(&["labels", "annotations", "ownerReferences"])
    }

    fn prepare_for_create(&self, _def: &ResourceDef, obj: &mut Value) {
        default_crd(obj);
        let storage: Vec<Value> = obj
            .pointer("/spec/versions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
            .filter_map(|v| v.get("name").cloned())
            .collect();
        if let Some(o) = obj.as_object_mut() {
            o.insert(
                "status".into(),
                json!({"conditions": [], "acceptedNames": {"plural": "", "kind": ""}, "storedVersions": storage}),
            );
        }
        let m = meta::metadata_mut(obj);
        let mut fins = m
            .get("finalizers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if !fins.iter().any(|f| f == CLEANUP_FINALIZER) {
            fins.push(json!(CLEANUP_FINALIZER));
        }
        m.insert("finalizers".into(), Value::Array(fins));
    }

    fn prepare_for_update(&self, _def: &ResourceDef, new: &mut Value, old: &Value) {
        default_crd(new);
        keep_field(new, old, "status");
        // A new storage version joins storedVersions (objects may be
        // written at it from now on).
        let sv = new
            .pointer("/spec/versions")
            .and_then(Value::as_array)
            .and_then(|vs| {
                vs.iter()
                    .find(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
            })
            .and_then(|v| v.get("name").cloned());
        if let Some(sv) = sv
            && let Some(stored) = new
                .pointer_mut("/status/storedVersions")
                .and_then(Value::as_array_mut)
            && !stored.contains(&sv)
        {
            stored.push(sv);
        }
    }

    fn tracks_generation(&self) -> bool {
        true
    }

    fn validate_create(&self, _def: &ResourceDef, obj: &Value) -> ErrorList {
        crd_validation::validate_crd(obj)
    }

    fn validate_update(&self, _def: &ResourceDef, new: &Value, old: &Value) -> ErrorList {
        crd_validation::validate_crd_update(new, old)
    }
}

/// Objects of custom resources: pruning, defaulting and schema validation
/// of the request's version; stored at the CRD's storage version.
pub struct CustomResourceStrategy;

fn schema_of(def: &ResourceDef) -> Option<Value> {
    super::custom(def)?.version(def.version)?.schema.clone()
}

fn has_status(def: &ResourceDef) -> bool {
    def.subresources.contains(&"status")
}

/// Prunes and defaults, then stamps the storage version.
fn normalize(def: &ResourceDef, obj: &mut Value) {
    let Some(cr) = super::custom(def) else { return };
    let schema = cr.version(def.version).and_then(|v| v.schema.as_ref());
    pruning::prune_object(schema, obj);
    defaulting::default_object(schema, obj);
    let sv = cr.storage_version();
    if !sv.is_empty()
        && let Some(o) = obj.as_object_mut()
    {
        o.insert("apiVersion".into(), json!(format!("{}/{sv}", cr.group)));
    }
}

impl Strategy for CustomResourceStrategy {
    fn prepare_for_create(&self, def: &ResourceDef, obj: &mut Value) {
        if has_status(def)
            && let Some(o) = obj.as_object_mut()
        {
            o.remove("status");
        }
        normalize(def, obj);
    }

    fn prepare_for_update(&self, def: &ResourceDef, new: &mut Value, old: &Value) {
        if has_status(def) {
            keep_field(new, old, "status");
        }
        normalize(def, new);
    }

    fn prepare_for_status_update(&self, def: &ResourceDef, new: &mut Value) {
        normalize(def, new);
    }

    /// Upstream's custom resource status strategy copies the whole stored
    /// object and sets only `status` (managedFields are recorded after).
    fn status_reset(&self, _def: &ResourceDef) -> StatusReset {
        StatusReset::AllButStatus
    }

    fn validate_status_update(&self, def: &ResourceDef, new: &Value, old: &Value) -> ErrorList {
        let mut errs = validation::validate_status_update(def.group, def.kind, new, old);
        errs.extend(schema::validate_object(schema_of(def).as_ref(), new));
        errs
    }

    fn tracks_generation(&self) -> bool {
        true
    }

    fn validate_create(&self, def: &ResourceDef, obj: &Value) -> ErrorList {
        let mut errs = validation::validate_create(def.group, def.kind, obj);
        errs.extend(schema::validate_object(schema_of(def).as_ref(), obj));
        errs
    }

    fn validate_update(&self, def: &ResourceDef, new: &Value, old: &Value) -> ErrorList {
        let mut errs = validation::validate_update(def.group, def.kind, new, old);
        errs.extend(schema::validate_object(schema_of(def).as_ref(), new));
        errs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crd_create_defaults_names_status_and_finalizer() {
        let mut c = json!({"metadata": {"name": "ws.e.com"}, "spec": {"group": "e.com", "names": {"plural": "ws", "kind": "W"},
            "versions": [{"name": "v1", "storage": true}]}, "status": {"conditions": [{"type": "Established"}]}});
        let def = crate::resources::lookup(super::super::GROUP, "v1", "customresourcedefinitions")
            .expect("served");
        CrdStrategy.prepare_for_create(def, &mut c);
        assert_eq!(c["spec"]["names"]["singular"], "w");
        assert_eq!(c["spec"]["names"]["listKind"], "WList");
        assert_eq!(c["spec"]["conversion"]["strategy"], "None");
        assert_eq!(c["status"]["storedVersions"], json!(["v1"]));
        assert_eq!(c["status"]["conditions"], json!([]));
        assert_eq!(c["metadata"]["finalizers"], json!([CLEANUP_FINALIZER]));
    }
}
