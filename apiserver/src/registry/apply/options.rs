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

/// A key repeated in one mapping of an applied YAML body, in the words of
/// upstream's strict YAML decoding (`error converting YAML to JSON: yaml:
/// unmarshal errors:\n  line 3: key "a" already set in map`). `None` when
/// every mapping's keys are distinct (or the body is not YAML at all, which
/// [`decode_applied`] reports).
pub fn yaml_duplicate(body: &[u8]) -> Option<String> {
    let err = serde::Deserialize::deserialize(serde_yaml::Deserializer::from_slice(body))
        .map(|_: NoDuplicates| ())
        .err()?;
    // serde_yaml prefixes the path of the mapping (`data: duplicate ...`)
    // and appends the position.
    let text = err.to_string();
    let key = &text[text.find(DUPLICATE)? + DUPLICATE.len()..];
    let key = key.split(" at line ").next().unwrap_or(key);
    let start = err.location().map_or(1, |l| l.line());
    let line = repeated_key_line(body, start, key).unwrap_or(start);
    Some(format!(
        "error converting YAML to JSON: yaml: unmarshal errors:\n  line {line}: key {key} already set in map"
    ))
}

const DUPLICATE: &str = "duplicate key ";

/// The line of the second `key` of the block mapping whose first key is on
/// line `start` (serde_yaml places the error at the mapping; upstream names
/// the repeated key's line). `None` for flow mappings.
fn repeated_key_line(body: &[u8], start: usize, shown_key: &str) -> Option<usize> {
    let text = std::str::from_utf8(body).ok()?;
    let bare = shown_key.trim_matches('"');
    let lines: Vec<&str> = text.lines().collect();
    let first = lines.get(start.checked_sub(1)?)?;
    let indent = first.len() - first.trim_start_matches([' ', '-']).len();
    let mut seen = 0;
    for (i, l) in lines.iter().enumerate().skip(start - 1) {
        let body = l.trim_start_matches([' ', '-']);
        let this = l.len() - body.len();
        if i > start - 1 && !body.is_empty() && !body.starts_with('#') && this < indent {
            return None;
        }
        if this == indent
            && [bare, shown_key, &format!("'{bare}'")].iter().any(|k| {
                body.strip_prefix(*k)
                    .is_some_and(|r| r.trim_start().starts_with(':'))
            })
        {
            seen += 1;
            if seen == 2 {
                return Some(i + 1);
            }
        }
    }
    None
}

/// Walks a YAML document and fails at the first key repeated in a mapping.
struct NoDuplicates;

impl<'de> serde::Deserialize<'de> for NoDuplicates {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NoDuplicatesVisitor)
    }
}

struct NoDuplicatesVisitor;

impl<'de> serde::de::Visitor<'de> for NoDuplicatesVisitor {
    type Value = NoDuplicates;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_i64<E>(self, _: i64) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_u64<E>(self, _: u64) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_f64<E>(self, _: f64) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_str<E>(self, _: &str) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_unit<E>(self) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_none<E>(self) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<NoDuplicates, D::Error> {
        serde::Deserialize::deserialize(d)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<NoDuplicates, A::Error> {
        while a.next_element::<NoDuplicates>()?.is_some() {}
        Ok(NoDuplicates)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<NoDuplicates, A::Error> {
        let mut seen = std::collections::HashSet::new();
        while let Some(key) = a.next_key::<serde_yaml::Value>()? {
            let shown = match &key {
                serde_yaml::Value::String(s) => format!("{s:?}"),
                other => serde_yaml::to_string(other)
                    .unwrap_or_default()
                    .trim()
                    .to_string(),
            };
            if !seen.insert(shown.clone()) {
                return Err(serde::de::Error::custom(format!("{DUPLICATE}{shown}")));
            }
            a.next_value::<NoDuplicates>()?;
        }
        Ok(NoDuplicates)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_yaml_keys_are_named_with_their_line() {
        let body = b"apiVersion: v1\nkind: ConfigMap\ndata:\n  a: x\n  a: y\n";
        assert_eq!(
            yaml_duplicate(body).as_deref(),
            Some(
                "error converting YAML to JSON: yaml: unmarshal errors:\n  line 5: key \"a\" already set in map"
            )
        );
        assert_eq!(yaml_duplicate(b"a: 1\nb: {a: 1}\n"), None);
    }

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
