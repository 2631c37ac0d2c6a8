//! JSON patch (RFC 6902) through the `json-patch` crate, with upstream's
//! error answers: a malformed patch is a 400, an operation that does not
//! apply to the object is a 422.

use crate::status::ApiError;
use json_patch::{Patch, PatchErrorKind, PatchOperation};
use serde_json::Value;

/// Applies `patch` (a list of operations) to a copy of `target`.
pub fn apply(target: &Value, patch: &Value) -> Result<Value, ApiError> {
    let ops = parse(patch)?;
    let mut doc = target.clone();
    json_patch::patch(&mut doc, &ops).map_err(|e| {
        let path = match (&e.kind, ops.get(e.operation)) {
            (PatchErrorKind::InvalidFromPointer, Some(PatchOperation::Move(op))) => {
                op.from.to_string()
            }
            (PatchErrorKind::InvalidFromPointer, Some(PatchOperation::Copy(op))) => {
                op.from.to_string()
            }
            _ => e.path.to_string(),
        };
        let reason = match e.kind {
            PatchErrorKind::TestFailed => format!("testing value {path} failed"),
            PatchErrorKind::CannotMoveInsideItself => {
                format!("cannot move {path} into one of its own children")
            }
            _ => format!("doc is missing path: {path:?}"),
        };
        ApiError::new(
            422,
            "Invalid",
            format!("the server rejected our request due to an error in our request: {reason}"),
        )
    })?;
    Ok(doc)
}

/// The operations of a patch body, refused with upstream's wording when an
/// operation is unknown or lacks what it needs.
fn parse(patch: &Value) -> Result<Patch, ApiError> {
    let ops = patch
        .as_array()
        .ok_or_else(|| ApiError::bad_request("json patch must be a list of operations"))?;
    for op in ops {
        match op.get("op").and_then(Value::as_str).unwrap_or("") {
            "add" | "remove" | "replace" | "move" | "copy" | "test" => {}
            other => return Err(ApiError::bad_request(format!("Unexpected kind: {other}"))),
        }
    }
    serde_json::from_value(patch.clone())
        .map_err(|e| ApiError::bad_request(format!("invalid json patch operation: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_patch_ops() {
        let t = json!({"metadata": {"labels": {"a": "1"}}, "list": [1, 2]});
        let p = json!([
            {"op": "add", "path": "/metadata/labels/b", "value": "2"},
            {"op": "remove", "path": "/metadata/labels/a"},
            {"op": "add", "path": "/list/-", "value": 3},
            {"op": "replace", "path": "/list/0", "value": 0}
        ]);
        let out = apply(&t, &p).expect("valid patch");
        assert_eq!(
            out,
            json!({"metadata": {"labels": {"b": "2"}}, "list": [0, 2, 3]})
        );
        let bad = json!([{"op": "remove", "path": "/nope"}]);
        let err = apply(&t, &bad).expect_err("missing path");
        assert_eq!(err.code, 422);
        assert!(
            err.message.ends_with("doc is missing path: \"/nope\""),
            "{}",
            err.message
        );
        let test_fails = json!([{"op": "test", "path": "/list/0", "value": 9}]);
        assert_eq!(apply(&t, &test_fails).map_err(|e| e.code), Err(422));
        let moved =
            json!([{"op": "move", "from": "/metadata/labels/a", "path": "/metadata/labels/c"}]);
        assert_eq!(
            apply(&t, &moved).expect("move")["metadata"]["labels"],
            json!({"c": "1"})
        );
    }

    #[test]
    fn malformed_patches_are_bad_requests() {
        let t = json!({"a": 1});
        for p in [
            json!({"op": "add"}),
            json!([{"op": "frobnicate", "path": "/a"}]),
            json!([{"op": "add", "path": "/b"}]),
            json!([{"op": "move", "path": "/b"}]),
        ] {
            assert_eq!(apply(&t, &p).map_err(|e| e.code), Err(400), "patch {p}");
        }
        let err = apply(&t, &json!([{"op": "frobnicate", "path": "/a"}])).expect_err("op");
        assert_eq!(err.message, "Unexpected kind: frobnicate");
    }
}
