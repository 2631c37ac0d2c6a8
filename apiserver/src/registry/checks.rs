//! The seam to `crate::validation` (written by the validation helper):
//! defaulting and validation calls go through here so the store does not
//! change when the validation module grows.
//!
//! Until `validation::{default_object, validate_create, validate_update}`
//! land, only the checks every object needs are made here.

use crate::validation::{ErrorList, FieldError};
use serde_json::Value;

/// Upstream defaulting for the kind, in place.
pub fn default_object(_group: &str, _kind: &str, _obj: &mut Value) {}

/// Create-time validation.
pub fn validate_create(_group: &str, _kind: &str, obj: &Value) -> ErrorList {
    let mut errs = ErrorList::new();
    if super::meta::name(obj).is_empty() {
        errs.push(FieldError::required(
            "metadata.name",
            "name or generateName is required",
        ));
    }
    errs
}

/// Update-time validation.
pub fn validate_update(group: &str, kind: &str, new: &Value, _old: &Value) -> ErrorList {
    validate_create(group, kind, new)
}

/// Status-subresource validation.
pub fn validate_status_update(_group: &str, _kind: &str, _new: &Value, _old: &Value) -> ErrorList {
    ErrorList::new()
}
