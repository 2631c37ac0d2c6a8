//! Namespaces: created Active with the `kubernetes` finalizer, so a
//! deleted namespace stays Terminating until the namespace controller has
//! emptied it and cleared `spec.finalizers` through `/finalize`.

use super::Strategy;
use crate::resources::ResourceDef;
use serde_json::{Value, json};

pub struct Namespaces;

impl Strategy for Namespaces {
    fn prepare_for_create(&self, _def: &ResourceDef, obj: &mut Value) {
        if let Some(o) = obj.as_object_mut() {
            o.insert("status".into(), json!({ "phase": "Active" }));
            let spec = o.entry("spec").or_insert_with(|| json!({}));
            if let Some(spec) = spec.as_object_mut() {
                let fins = spec.entry("finalizers").or_insert_with(|| json!([]));
                if let Some(list) = fins.as_array_mut()
                    && !list.iter().any(|f| f == "kubernetes")
                {
                    list.push(json!("kubernetes"));
                }
            }
        }
        // Upstream labels every namespace with its own name.
        let name = crate::registry::meta::name(obj).to_string();
        if !name.is_empty() {
            let m = crate::registry::meta::metadata_mut(obj);
            let labels = m.entry("labels").or_insert_with(|| json!({}));
            if let Some(l) = labels.as_object_mut() {
                l.insert("kubernetes.io/metadata.name".into(), json!(name));
            }
        }
    }

    fn prepare_for_update(&self, _def: &ResourceDef, new: &mut Value, old: &Value) {
        // spec.finalizers only change through /finalize; status through /status.
        super::keep_field(new, old, "status");
        super::keep_field(new, old, "spec");
        let name = crate::registry::meta::name(old).to_string();
        let m = crate::registry::meta::metadata_mut(new);
        let labels = m.entry("labels").or_insert_with(|| json!({}));
        if let Some(l) = labels.as_object_mut() {
            l.insert("kubernetes.io/metadata.name".into(), json!(name));
        }
    }

    fn selectable_fields(&self) -> &'static [&'static str] {
        &["status.phase"]
    }
}

/// Does the namespace still wait for a finalizer in `spec.finalizers`?
pub fn has_spec_finalizers(ns: &Value) -> bool {
    ns.pointer("/spec/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_namespaces_are_active_with_finalizer_and_name_label() {
        let def = crate::resources::lookup("", "v1", "namespaces").expect("served");
        let mut ns = json!({"metadata": {"name": "team-a"}});
        Namespaces.prepare_for_create(def, &mut ns);
        assert_eq!(ns["status"]["phase"], "Active");
        assert_eq!(ns["spec"]["finalizers"], json!(["kubernetes"]));
        assert_eq!(
            ns["metadata"]["labels"]["kubernetes.io/metadata.name"],
            "team-a"
        );
        assert!(has_spec_finalizers(&ns));
    }
}
