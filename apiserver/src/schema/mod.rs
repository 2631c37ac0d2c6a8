//! The API's schemas: every definition reachable from the served kinds, as
//! OpenAPI v2 JSON schemas under upstream's names, plus the patch metadata
//! (`x-kubernetes-patch-strategy`, list types, ...) that strategic merge,
//! server-side apply and the OpenAPI documents read.
//!
//! The schemas come from k8s-openapi's `schemars` implementations (they carry
//! upstream's definition names and descriptions); the patch metadata comes
//! from the hand-kept table in `field_meta.rs`, because k8s-openapi does not
//! carry upstream's Go struct tags. Everything is built once, on first use.

mod build;
pub mod canonical;
mod encoding_rules;
mod field_meta;
#[cfg(test)]
mod tests;
pub mod typecheck;

use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::OnceLock;

pub use field_meta::FieldMeta;

/// A served kind and the definition that describes it.
#[derive(Debug, Clone)]
pub struct KindDefinition {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    /// Upstream's definition name, `io.k8s.api.core.v1.Pod`.
    pub definition: String,
}

struct Schemas {
    definitions: Map<String, Value>,
    kinds: Vec<KindDefinition>,
    /// definition -> property -> merge metadata.
    meta: HashMap<&'static str, HashMap<&'static str, &'static FieldMeta>>,
}

fn schemas() -> &'static Schemas {
    static SCHEMAS: OnceLock<Schemas> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        let (definitions, kinds) = build::build();
        let mut meta: HashMap<&'static str, HashMap<&'static str, &'static FieldMeta>> =
            HashMap::new();
        for (d, p, m) in field_meta::FIELDS {
            meta.entry(*d).or_default().insert(*p, m);
        }
        Schemas {
            definitions,
            kinds,
            meta,
        }
    })
}

/// Every definition reachable from the served kinds, keyed by upstream's
/// names (`io.k8s.api.core.v1.Pod`), as OpenAPI v2 JSON schemas whose
/// references read `{"$ref": "#/definitions/<name>"}`.
pub fn definitions() -> &'static Map<String, Value> {
    &schemas().definitions
}

/// Every served kind (and the few kinds requests carry, such as
/// DeleteOptions and Scale) with its definition name.
pub fn kinds() -> &'static [KindDefinition] {
    &schemas().kinds
}

/// The definition name of a served kind: `("", "v1", "Pod")` gives
/// `io.k8s.api.core.v1.Pod`. List kinds (`PodList`) resolve too.
pub fn definition_of(group: &str, version: &str, kind: &str) -> Option<&'static str> {
    schemas()
        .kinds
        .iter()
        .find(|k| k.group == group && k.version == version && k.kind == kind)
        .map(|k| k.definition.as_str())
}

/// The name a `$ref` points at, if `schema` is (or wraps in `allOf`) one.
pub(crate) fn ref_name(schema: &Value) -> Option<&str> {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return r.rsplit('/').next();
    }
    schema
        .get("allOf")
        .and_then(Value::as_array)
        .and_then(|all| all.first())
        .and_then(ref_name)
}

/// The definition a property's value refers to (for arrays its items, for
/// maps its values), for walking an object alongside its schema:
/// `("io.k8s.api.core.v1.PodSpec", "containers")` gives
/// `io.k8s.api.core.v1.Container`. `None` for scalars and unknown names.
pub fn property_definition(definition: &str, property: &str) -> Option<&'static str> {
    let defs = definitions();
    let prop = defs.get(definition)?.get("properties")?.get(property)?;
    let target = ref_name(prop)
        .or_else(|| prop.get("items").and_then(ref_name))
        .or_else(|| prop.get("additionalProperties").and_then(ref_name))?;
    defs.get_key_value(target).map(|(k, _)| k.as_str())
}

/// How a property merges: upstream's `x-kubernetes-patch-strategy`,
/// `-patch-merge-key`, `-list-type`, `-list-map-keys` and `-map-type`.
/// `None` when the property has none of them (scalars, plain structs,
/// atomic lists without a declared type).
pub fn field_meta(definition: &str, property: &str) -> Option<&'static FieldMeta> {
    schemas().meta.get(definition)?.get(property).copied()
}

/// The `x-kubernetes-map-type` of a whole definition (`atomic` for structs
/// such as LabelSelector that are replaced as one value by apply).
pub fn definition_map_type(definition: &str) -> Option<&'static str> {
    field_meta::DEFINITION_MAP_TYPES
        .iter()
        .find(|(d, _)| *d == definition)
        .map(|(_, t)| *t)
}
