//! PersistentVolumeClaimResize: a claim may grow only when it is bound and
//! its StorageClass allows volume expansion. (Shrinking is refused earlier,
//! by validation: "field can not be less than previous value".)

use super::{Operation, Request, forbidden, lookup};
use crate::registry::Store;
use crate::status::ApiError;
use serde_json::Value;

pub async fn validate(store: &Store, req: &Request<'_>, obj: &Value) -> Result<(), ApiError> {
    if req.operation != Operation::Update || !req.is("", "persistentvolumeclaims") {
        return Ok(());
    }
    let Some(old) = req.old else {
        return Ok(());
    };
    if !grows(obj, old) {
        return Ok(());
    }
    let class_name = obj
        .pointer("/spec/storageClassName")
        .and_then(Value::as_str)
        .unwrap_or("");
    let class = if class_name.is_empty() {
        None
    } else {
        lookup::get(store, lookup::STORAGE_CLASSES, "", class_name).await?
    };
    check(req, old, class.as_ref())
}

fn size(pvc: &Value) -> Option<i128> {
    pvc.pointer("/spec/resources/requests/storage")
        .and_then(apimachinery::quota_usage::milli_of)
}

fn grows(new: &Value, old: &Value) -> bool {
    matches!((size(new), size(old)), (Some(n), Some(o)) if n > o)
}

fn check(req: &Request<'_>, old: &Value, class: Option<&Value>) -> Result<(), ApiError> {
    if old.pointer("/status/phase").and_then(Value::as_str) != Some("Bound") {
        return Err(forbidden(
            req,
            "Only bound persistent volume claims can be expanded",
        ));
    }
    let expandable = class
        .and_then(|c| c.get("allowVolumeExpansion"))
        .and_then(Value::as_bool)
        == Some(true);
    if !expandable {
        return Err(forbidden(
            req,
            "only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admission::test_request;
    use serde_json::json;

    #[test]
    fn growth_needs_a_bound_claim_and_an_expandable_class() {
        let r = test_request(
            Operation::Update,
            ("", "v1", "persistentvolumeclaims"),
            "default",
            "data",
        );
        let old = json!({"spec": {"resources": {"requests": {"storage": "1Gi"}}}, "status": {"phase": "Bound"}});
        let new = json!({"spec": {"resources": {"requests": {"storage": "2Gi"}}}});
        assert!(grows(&new, &old));
        assert!(!grows(&old, &old));
        let yes = json!({"allowVolumeExpansion": true});
        assert!(check(&r, &old, Some(&yes)).is_ok());
        let e = check(&r, &old, Some(&json!({}))).expect_err("not expandable");
        assert_eq!(
            e.message,
            "persistentvolumeclaims \"data\" is forbidden: only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize"
        );
        let pending = json!({"status": {"phase": "Pending"}});
        assert!(check(&r, &pending, Some(&yes)).is_err());
    }
}
