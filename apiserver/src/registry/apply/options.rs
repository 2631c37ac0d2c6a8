//! The write options every mutating request carries (`dryRun`,
//! `fieldManager`, `force`), checked as upstream validates
//! Create/Update/Patch/DeleteOptions: a bad value is a 422 naming the
//! options kind (`PatchOptions.meta.k8s.io "" is invalid: ...`).

use crate::status::ApiError;
use crate::validation::{ErrorList, FieldError};
use serde_json::{Value, json};

/// Upstream's longest `fieldManager`.
const MAX_MANAGER_LEN: usize = 128;

/// `dryRun`: absent or `All`; anything else is refused.
pub fn dry_run(options_kind: &str, value: Option<&str>) -> Result<bool, ApiError> {
    match value {
        None | Some("") => Ok(false),
        Some("All") => Ok(true),
        Some(other) => Err(invalid(
            options_kind,
            vec![FieldError::not_supported(
                "dryRun",
                json!([other]),
                &["All"],
            )],
        )),
    }
}

/// `fieldManager` (required for apply) and `force` (apply only).
pub fn check_manager(
    options_kind: &str,
    field_manager: Option<&str>,
    force: Option<&str>,
    is_apply: bool,
) -> Result<bool, ApiError> {
    let mut errs = ErrorList::new();
    let manager = field_manager.unwrap_or("");
    if is_apply && manager.is_empty() {
        errs.push(FieldError::required(
            "fieldManager",
            "is required for apply patch",
        ));
    }
    if !is_apply && force.is_some() {
        errs.push(FieldError::forbidden(
            "force",
            "may not be specified for non-apply patch",
        ));
    }
    if manager.len() > MAX_MANAGER_LEN {
        errs.push(FieldError::too_long("fieldManager", MAX_MANAGER_LEN));
    }
    if manager.chars().any(|c| c.is_control()) {
        errs.push(FieldError::invalid(
            "fieldManager",
            json!(manager),
            "must only contain printable characters",
        ));
    }
    if !errs.is_empty() {
        return Err(invalid(options_kind, errs));
    }
    Ok(force == Some("true"))
}

fn invalid(options_kind: &str, errs: ErrorList) -> ApiError {
    let mut e = ApiError::invalid(options_kind, "meta.k8s.io", "", &errs);
    e.message = e
        .message
        .replacen(options_kind, &format!("{options_kind}.meta.k8s.io"), 1);
    e
}

/// The applied configuration: YAML (JSON is YAML too), one object.
pub fn decode_applied(body: &[u8]) -> Result<Value, ApiError> {
    let v: Value = serde_yaml::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?;
    if !v.is_object() {
        return Err(ApiError::bad_request(
            "the body of an apply patch must be a single object",
        ));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_checked_as_upstream() {
        assert_eq!(dry_run("CreateOptions", Some("All")), Ok(true));
        assert_eq!(dry_run("CreateOptions", None), Ok(false));
        let e = dry_run("CreateOptions", Some("Some")).expect_err("unsupported");
        assert_eq!(e.code, 422);
        assert_eq!(
            e.message,
            "CreateOptions.meta.k8s.io \"\" is invalid: dryRun: Unsupported value: []string{\"Some\"}: supported values: \"All\""
        );
        let e = check_manager("PatchOptions", None, None, true).expect_err("required");
        assert_eq!(
            e.message,
            "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"
        );
        let e = check_manager("PatchOptions", Some("m"), Some("true"), false).expect_err("force");
        assert!(
            e.message
                .ends_with("force: Forbidden: may not be specified for non-apply patch")
        );
        assert_eq!(
            check_manager("PatchOptions", Some("m"), Some("true"), true),
            Ok(true)
        );
        assert!(check_manager("PatchOptions", Some(&"m".repeat(129)), None, false).is_err());
        assert_eq!(
            decode_applied(b"a: 1\n").map(|v| v["a"].clone()),
            Ok(json!(1))
        );
        assert_eq!(decode_applied(b"- 1\n").map_err(|e| e.code), Err(400));
    }
}
