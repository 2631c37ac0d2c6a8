//! ObjectMeta rules shared by every kind (upstream's `ValidateObjectMeta`
//! and `ValidateObjectMetaUpdate`): name and generateName syntax,
//! namespace presence by scope, labels, annotations, owner references,
//! finalizers, and the fields an update may not change.

use super::field::{ErrorList, FieldError};
use super::json::{arr_at, child, int_at, obj_at, str_at};
use super::names::{NameFn, is_qualified_name, is_valid_label_value, name_is_dns_label};
use serde_json::{Value, json};

/// Upstream's `TotalAnnotationSizeLimitB`: 256 KiB over all keys and values.
pub const TOTAL_ANNOTATION_SIZE_LIMIT: usize = 256 * 1024;

/// Upstream's `IsNegativeErrorMsg`.
pub const IS_NEGATIVE_ERROR_MSG: &str = "must be greater than or equal to 0";

/// Upstream's `FieldImmutableErrorMsg`.
pub const FIELD_IMMUTABLE: &str = "field is immutable";

/// How the namespace of an object is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// `metadata.namespace` required.
    Namespaced,
    /// `metadata.namespace` forbidden.
    Cluster,
    /// Unknown kind: the caller decides, nothing is checked here.
    Unknown,
}

/// `ValidateObjectMeta` for the object's `metadata` (path `metadata`).
pub fn validate_object_meta(obj: &Value, scope: Scope, name_fn: NameFn) -> ErrorList {
    let empty = json!({});
    let meta = obj.get("metadata").unwrap_or(&empty);
    let mut errs = ErrorList::new();
    let generate_name = str_at(meta, "generateName");
    if !generate_name.is_empty() {
        for msg in name_fn(generate_name, true) {
            errs.push(FieldError::invalid(
                "metadata.generateName",
                json!(generate_name),
                msg,
            ));
        }
    }
    let name = str_at(meta, "name");
    if name.is_empty() {
        errs.push(FieldError::required(
            "metadata.name",
            "name or generateName is required",
        ));
    } else {
        for msg in name_fn(name, false) {
            errs.push(FieldError::invalid("metadata.name", json!(name), msg));
        }
    }
    let namespace = str_at(meta, "namespace");
    match scope {
        Scope::Namespaced => {
            if namespace.is_empty() {
                errs.push(FieldError::required("metadata.namespace", ""));
            } else {
                for msg in name_is_dns_label(namespace, false) {
                    errs.push(FieldError::invalid(
                        "metadata.namespace",
                        json!(namespace),
                        msg,
                    ));
                }
            }
        }
        Scope::Cluster => {
            if !namespace.is_empty() {
                errs.push(FieldError::forbidden(
                    "metadata.namespace",
                    "not allowed on this type",
                ));
            }
        }
        Scope::Unknown => {}
    }
    if let Some(g) = int_at(meta, "generation").filter(|g| *g < 0) {
        errs.push(FieldError::invalid(
            "metadata.generation",
            json!(g),
            IS_NEGATIVE_ERROR_MSG,
        ));
    }
    errs.extend(validate_labels(meta.get("labels"), "metadata.labels"));
    errs.extend(validate_annotations(
        meta.get("annotations"),
        "metadata.annotations",
    ));
    errs.extend(validate_owner_references(meta, "metadata.ownerReferences"));
    errs.extend(validate_finalizers(meta, "metadata.finalizers"));
    errs
}

/// `ValidateLabels`: keys are qualified names, values label values. Errors
/// name the map itself (`metadata.labels`), as upstream does.
pub fn validate_labels(labels: Option<&Value>, path: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    let Some(map) = labels.and_then(Value::as_object) else {
        return errs;
    };
    for (k, v) in map {
        for msg in is_qualified_name(k) {
            errs.push(FieldError::invalid(path, json!(k), msg));
        }
        let value = v.as_str().unwrap_or("");
        for msg in is_valid_label_value(value) {
            errs.push(FieldError::invalid(path, json!(value), msg));
        }
    }
    errs
}

/// `ValidateAnnotations`: keys are qualified names (case-insensitive),
/// and all keys and values together stay within 256 KiB.
pub fn validate_annotations(annotations: Option<&Value>, path: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    let Some(map) = annotations.and_then(Value::as_object) else {
        return errs;
    };
    let mut total = 0usize;
    for (k, v) in map {
        for msg in is_qualified_name(&k.to_lowercase()) {
            errs.push(FieldError::invalid(path, json!(k), msg));
        }
        total += k.len() + v.as_str().map_or(0, str::len);
    }
    if total > TOTAL_ANNOTATION_SIZE_LIMIT {
        errs.push(FieldError::too_long(path, TOTAL_ANNOTATION_SIZE_LIMIT));
    }
    errs
}

fn validate_owner_references(meta: &Value, path: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    let mut controller: Option<String> = None;
    for r in arr_at(meta, "ownerReferences") {
        let api_version = str_at(r, "apiVersion");
        let version = api_version.rsplit('/').next().unwrap_or("");
        if version.is_empty() {
            errs.push(FieldError::invalid(
                child(path, "apiVersion"),
                json!(api_version),
                "version must not be empty",
            ));
        }
        for (field, what) in [("kind", "kind"), ("name", "name"), ("uid", "uid")] {
            let v = str_at(r, field);
            if v.is_empty() {
                errs.push(FieldError::invalid(
                    child(path, field),
                    json!(v),
                    format!("{what} must not be empty"),
                ));
            }
        }
        if r.get("controller").and_then(Value::as_bool) == Some(true) {
            let this = format!("{}/{}", str_at(r, "kind"), str_at(r, "name"));
            match &controller {
                Some(first) => errs.push(FieldError::invalid_literal(
                    path,
                    "[]v1.OwnerReference{...}",
                    format!(
                        "Only one reference can have Controller set to true. Found \"true\" in references for {first} and {this}"
                    ),
                )),
                None => controller = Some(this),
            }
        }
    }
    errs
}

fn validate_finalizers(meta: &Value, path: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    for f in arr_at(meta, "finalizers") {
        let f = f.as_str().unwrap_or("");
        for msg in is_qualified_name(f) {
            errs.push(FieldError::invalid(path, json!(f), msg));
        }
    }
    errs
}

/// `ValidateObjectMetaUpdate`: label/annotation syntax again, plus the
/// fields no update may change.
pub fn validate_object_meta_update(new: &Value, old: &Value) -> ErrorList {
    let empty = json!({});
    let nm = new.get("metadata").unwrap_or(&empty);
    let om = old.get("metadata").unwrap_or(&empty);
    let mut errs = ErrorList::new();
    if om.get("deletionTimestamp").is_some_and(|v| !v.is_null()) {
        let old_f: Vec<&Value> = arr_at(om, "finalizers").iter().collect();
        for f in arr_at(nm, "finalizers") {
            if !old_f.contains(&f) {
                errs.push(FieldError::forbidden(
                    "metadata.finalizers",
                    format!(
                        "no new finalizers can be added if the object is being deleted, found new finalizer {}",
                        f.as_str().unwrap_or("")
                    ),
                ));
            }
        }
    }
    let rv = str_at(nm, "resourceVersion");
    if rv.is_empty() {
        errs.push(FieldError::invalid(
            "metadata.resourceVersion",
            json!(rv),
            "must be specified for an update",
        ));
    }
    let (ng, og) = (
        int_at(nm, "generation").unwrap_or(0),
        int_at(om, "generation").unwrap_or(0),
    );
    if ng < og {
        errs.push(FieldError::invalid(
            "metadata.generation",
            json!(ng),
            "must not be decremented",
        ));
    }
    for field in [
        "name",
        "namespace",
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
    ] {
        errs.extend(immutable(
            nm.get(field),
            om.get(field),
            &format!("metadata.{field}"),
        ));
    }
    errs.extend(validate_labels(nm.get("labels"), "metadata.labels"));
    errs.extend(validate_annotations(
        nm.get("annotations"),
        "metadata.annotations",
    ));
    errs.extend(validate_owner_references(nm, "metadata.ownerReferences"));
    errs
}

/// Treats absent, null, "" and empty collections as the same (Go zero values).
pub fn is_zero(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(o)) => o.is_empty(),
        Some(_) => false,
    }
}

/// Semantic equality as upstream's `apiequality.Semantic.DeepEqual` sees
/// it for JSON: zero values are equal to absent ones.
pub fn same(a: Option<&Value>, b: Option<&Value>) -> bool {
    if is_zero(a) && is_zero(b) {
        return true;
    }
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            x.keys().chain(y.keys()).all(|k| same(x.get(k), y.get(k)))
        }
        (Some(Value::Array(x)), Some(Value::Array(y))) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| same(Some(p), Some(q)))
        }
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// `ValidateImmutableField`: `field is immutable` with the new value.
pub fn immutable(new: Option<&Value>, old: Option<&Value>, path: &str) -> ErrorList {
    if same(new, old) {
        return ErrorList::new();
    }
    let shown = match new {
        None | Some(Value::Null) => json!(""),
        Some(v) => v.clone(),
    };
    vec![FieldError::invalid(path, shown, FIELD_IMMUTABLE)]
}

/// The labels of an object's metadata (for selector checks).
pub fn labels_of(meta: Option<&Value>) -> Option<&serde_json::Map<String, Value>> {
    meta.and_then(|m| obj_at(m, "labels"))
}
