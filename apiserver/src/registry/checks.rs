//! The seam to `crate::validation` (the validation helper's module):
//! defaulting and validation calls go through here, so the store does not
//! change when validation grows.

use crate::validation::{self, ErrorList};
use serde_json::Value;

/// Upstream defaulting for the kind, in place.
pub fn default_object(group: &str, kind: &str, obj: &mut Value) {
    validation::default_object(group, kind, obj);
}

/// Create-time validation.
pub fn validate_create(group: &str, kind: &str, obj: &Value) -> ErrorList {
    validation::validate_create(group, kind, obj)
}

/// Update-time validation (includes immutable fields).
pub fn validate_update(group: &str, kind: &str, new: &Value, old: &Value) -> ErrorList {
    validation::validate_update(group, kind, new, old)
}

/// Status-subresource validation.
pub fn validate_status_update(group: &str, kind: &str, new: &Value, old: &Value) -> ErrorList {
    validation::validate_status_update(group, kind, new, old)
}
