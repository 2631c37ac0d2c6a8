//! PATCH bodies: JSON patch (RFC 6902, `json_patch`), JSON merge patch
//! (RFC 7386, `merge_patch`) and strategic merge patch (`strategic`),
//! which merges lists as each field's upstream patch strategy says.
//! Server-side apply (`application/apply-patch+yaml`) is `registry::apply`.

pub mod json_patch;
pub mod merge_patch;
pub mod strategic;
pub mod typecheck;
pub mod types;

use crate::status::ApiError;
use serde_json::Value;
use types::TypeInfo;

/// The patch flavours a `Content-Type` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    Json,
    Merge,
    Strategic,
    Apply,
}

impl PatchType {
    pub fn from_content_type(ct: &str) -> Option<PatchType> {
        let base = ct.split(';').next().unwrap_or("").trim();
        match base {
            "application/json-patch+json" => Some(PatchType::Json),
            "application/merge-patch+json" => Some(PatchType::Merge),
            "application/strategic-merge-patch+json" => Some(PatchType::Strategic),
            "application/apply-patch+yaml" | "application/apply-patch+cbor" => {
                Some(PatchType::Apply)
            }
            _ => None,
        }
    }
}

/// Applies a JSON, merge or strategic `patch` to `current`, an object of
/// definition `def` (for the strategic merge's field strategies).
/// Server-side apply is not a patch of this kind: see `registry::apply`.
pub fn apply(
    kind: PatchType,
    types: &dyn TypeInfo,
    def: Option<&str>,
    current: &Value,
    patch: &Value,
) -> Result<Value, ApiError> {
    let patched = patch_object(kind, types, def, current, patch)?;
    if let Some(def) = def {
        check_patched(kind, def, &patched, patch)?;
    }
    Ok(patched)
}

/// Upstream decodes a patch's result into its Go type; a value of the
/// wrong type is a 422 on the field `patch`, whose value is the patched
/// object (JSON and merge patch) or the patch itself (strategic merge, in
/// Go's `%+v`), with an empty kind and name: `\"\" is invalid: patch:
/// Invalid value: ...`.
fn check_patched(
    kind: PatchType,
    def: &str,
    patched: &Value,
    patch: &Value,
) -> Result<(), ApiError> {
    use crate::schema::typecheck::{self, Decoder};
    let (decoder, shown) = match kind {
        PatchType::Strategic => (Decoder::Unstructured, typecheck::go_format(patch)),
        _ => (Decoder::Json, patched.to_string()),
    };
    match typecheck::check(def, patched, decoder) {
        Ok(()) => Ok(()),
        Err(e) => Err(ApiError::invalid(
            "",
            "",
            "",
            &vec![crate::validation::FieldError::invalid(
                "patch",
                Value::String(shown),
                e.message,
            )],
        )),
    }
}

fn patch_object(
    kind: PatchType,
    types: &dyn TypeInfo,
    def: Option<&str>,
    current: &Value,
    patch: &Value,
) -> Result<Value, ApiError> {
    match kind {
        PatchType::Merge => Ok(merge_patch::apply(current, patch)),
        PatchType::Strategic => {
            let p = patch
                .as_object()
                .ok_or_else(|| ApiError::bad_request("the request body must be a JSON object"))?;
            strategic::apply(types, def, current, p).map_err(|e| match e.code() {
                422 => ApiError::new(422, "", e.to_string()),
                _ => ApiError::bad_request(e.to_string()),
            })
        }
        PatchType::Json => json_patch::apply(current, patch),
        PatchType::Apply => Err(ApiError::internal(
            "server-side apply is handled by registry::apply",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn content_types() {
        assert_eq!(
            PatchType::from_content_type("application/merge-patch+json"),
            Some(PatchType::Merge)
        );
        assert_eq!(
            PatchType::from_content_type("application/strategic-merge-patch+json; charset=utf-8"),
            Some(PatchType::Strategic)
        );
        assert_eq!(
            PatchType::from_content_type("application/apply-patch+yaml"),
            Some(PatchType::Apply)
        );
        assert_eq!(PatchType::from_content_type("text/plain"), None);
    }

    #[test]
    fn strategic_errors_keep_upstreams_codes() {
        let t = json!({"spec": {"strategy": {"type": "Recreate"}}});
        let bad = json!({"spec": {"strategy": {"$retainKeys": 1}}});
        let e = apply(PatchType::Strategic, &types::Guessed, None, &t, &bad).expect_err("bad");
        assert_eq!(
            (e.code, e.message.as_str()),
            (400, "invalid patch format of retainKeys")
        );
        let not_obj = apply(PatchType::Strategic, &types::Guessed, None, &t, &json!([1]));
        assert_eq!(not_obj.map_err(|e| e.code), Err(400));
    }
}
