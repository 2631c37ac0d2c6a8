//! DefaultStorageClass: a PVC that names no class gets the cluster's default
//! one (annotated `storageclass.kubernetes.io/is-default-class: "true"`).
//! An explicit empty `storageClassName` keeps meaning "no class".

use super::{Operation, Request, lookup};
use crate::registry::Store;
use crate::status::ApiError;
use serde_json::{Value, json};

const DEFAULT_ANNOTATION: &str = "storageclass.kubernetes.io/is-default-class";
const BETA_ANNOTATION: &str = "storageclass.beta.kubernetes.io/is-default-class";

pub async fn admit(store: &Store, req: &Request<'_>, obj: &mut Value) -> Result<(), ApiError> {
    if req.operation != Operation::Create || !req.is("", "persistentvolumeclaims") {
        return Ok(());
    }
    if obj
        .pointer("/spec/storageClassName")
        .is_some_and(|v| !v.is_null())
    {
        return Ok(());
    }
    let classes = lookup::list(store, lookup::STORAGE_CLASSES, "").await?;
    if let Some(name) = default_class(&classes)
        && let Some(spec) = crate::validation::json::ensure_obj(obj, "spec")
    {
        spec["storageClassName"] = json!(name);
    }
    Ok(())
}

/// The default class; with several, the newest (then by name), as upstream.
fn default_class(classes: &[Value]) -> Option<String> {
    classes
        .iter()
        .filter(|c| {
            [DEFAULT_ANNOTATION, BETA_ANNOTATION].iter().any(|a| {
                c.pointer("/metadata/annotations")
                    .and_then(|m| m.get(*a))
                    .and_then(Value::as_str)
                    == Some("true")
            })
        })
        .max_by(|a, b| {
            let ts =
                |c: &Value| crate::registry::meta::meta_str(c, "creationTimestamp").to_string();
            ts(a)
                .cmp(&ts(b))
                .then_with(|| crate::registry::meta::name(b).cmp(crate::registry::meta::name(a)))
        })
        .map(|c| crate::registry::meta::name(c).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_default_class_wins() {
        let classes = vec![
            json!({"metadata": {"name": "slow", "creationTimestamp": "2026-01-01T00:00:00Z", "annotations": {DEFAULT_ANNOTATION: "true"}}}),
            json!({"metadata": {"name": "fast", "creationTimestamp": "2026-02-01T00:00:00Z", "annotations": {DEFAULT_ANNOTATION: "true"}}}),
            json!({"metadata": {"name": "other", "creationTimestamp": "2026-03-01T00:00:00Z"}}),
        ];
        assert_eq!(default_class(&classes).as_deref(), Some("fast"));
        assert_eq!(default_class(&classes[2..]), None);
    }
}
