//! ConfigMaps and Secrets: key syntax, the 1 MiB size limit, secret type
//! rules, and `immutable: true`.

use super::field::{ErrorList, FieldError};
use super::json::{key, obj_at, str_at};
use super::meta::{Scope, immutable, same, validate_object_meta, validate_object_meta_update};
use super::names::{is_config_map_key, name_is_dns_subdomain};
use base64::Engine;
use serde_json::{Map, Value, json};

/// Upstream's `MaxSecretSize` (also the ConfigMap limit): 1 MiB.
pub const MAX_SECRET_SIZE: usize = 1024 * 1024;

const IMMUTABLE_MSG: &str = "field is immutable when `immutable` is set";

/// Bytes a base64 value decodes to (the stored size upstream counts).
fn decoded_len(v: &Value) -> usize {
    let s = v.as_str().unwrap_or("");
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_or(s.len() * 3 / 4, |b| b.len())
}

fn key_errors(k: &str, path: &str) -> ErrorList {
    is_config_map_key(k)
        .into_iter()
        .map(|m| FieldError::invalid(key(path, k), json!(k), m))
        .collect()
}

/// `ValidateConfigMap`.
pub fn validate_config_map(cm: &Value) -> ErrorList {
    let mut errs = validate_object_meta(cm, Scope::Namespaced, name_is_dns_subdomain);
    let empty = Map::new();
    let data = obj_at(cm, "data").unwrap_or(&empty);
    let binary = obj_at(cm, "binaryData").unwrap_or(&empty);
    let mut total = 0usize;
    for (k, v) in data {
        errs.extend(key_errors(k, "data"));
        if binary.contains_key(k) {
            errs.push(FieldError::invalid(
                key("data", k),
                json!(k),
                "duplicate of key present in binaryData",
            ));
        }
        total += v.as_str().map_or(0, str::len);
    }
    for (k, v) in binary {
        errs.extend(key_errors(k, "binaryData"));
        total += decoded_len(v);
    }
    if total > MAX_SECRET_SIZE {
        errs.push(FieldError::too_long("", MAX_SECRET_SIZE));
    }
    errs
}

/// `ValidateConfigMapUpdate`.
pub fn validate_config_map_update(new: &Value, old: &Value) -> ErrorList {
    let mut errs = validate_object_meta_update(new, old);
    if old.get("immutable").and_then(Value::as_bool) == Some(true) {
        if new.get("immutable").and_then(Value::as_bool) != Some(true) {
            errs.push(FieldError::forbidden("immutable", IMMUTABLE_MSG));
        }
        for f in ["data", "binaryData"] {
            if !same(new.get(f), old.get(f)) {
                errs.push(FieldError::forbidden(f, IMMUTABLE_MSG));
            }
        }
    }
    errs.extend(
        validate_config_map(new)
            .into_iter()
            .filter(|e| !e.field.starts_with("metadata.")),
    );
    errs
}

/// `ValidateSecret`.
pub fn validate_secret(secret: &Value) -> ErrorList {
    let mut errs = validate_object_meta(secret, Scope::Namespaced, name_is_dns_subdomain);
    let empty = Map::new();
    let data = obj_at(secret, "data").unwrap_or(&empty);
    let mut total = 0usize;
    for (k, v) in data {
        errs.extend(key_errors(k, "data"));
        total += decoded_len(v);
    }
    if total > MAX_SECRET_SIZE {
        errs.push(FieldError::too_long("data", MAX_SECRET_SIZE));
    }
    let has = |k: &str| data.contains_key(k);
    let required = |k: &str| FieldError::required(key("data", k), "");
    match str_at(secret, "type") {
        "kubernetes.io/service-account-token" => {
            let sa = secret
                .get("metadata")
                .and_then(|m| obj_at(m, "annotations"))
                .and_then(|a| a.get("kubernetes.io/service-account.name"))
                .and_then(Value::as_str)
                .unwrap_or("");
            if sa.is_empty() {
                errs.push(FieldError::required(
                    "metadata.annotations[kubernetes.io/service-account.name]",
                    "",
                ));
            }
        }
        "kubernetes.io/dockercfg" => errs.extend(validate_docker_json(data, ".dockercfg")),
        "kubernetes.io/dockerconfigjson" => {
            errs.extend(validate_docker_json(data, ".dockerconfigjson"));
        }
        "kubernetes.io/basic-auth" if !has("username") && !has("password") => {
            errs.push(required("username"));
            errs.push(required("password"));
        }
        "kubernetes.io/ssh-auth"
            if data
                .get("ssh-privatekey")
                .is_none_or(|v| decoded_len(v) == 0) =>
        {
            errs.push(required("ssh-privatekey"));
        }
        "kubernetes.io/tls" => {
            if !has("tls.crt") {
                errs.push(required("tls.crt"));
            }
            if !has("tls.key") {
                errs.push(required("tls.key"));
            }
        }
        _ => {}
    }
    errs
}

/// Docker config secrets: the key must exist and hold a JSON object.
fn validate_docker_json(data: &Map<String, Value>, k: &str) -> ErrorList {
    let Some(v) = data.get(k) else {
        return vec![FieldError::required(key("data", k), "")];
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(v.as_str().unwrap_or(""))
        .unwrap_or_default();
    match serde_json::from_slice::<Map<String, Value>>(&bytes) {
        Ok(_) => Vec::new(),
        Err(e) => vec![FieldError::invalid(
            key("data", k),
            json!("<secret contents redacted>"),
            e.to_string(),
        )],
    }
}

/// `ValidateSecretUpdate`: type fixed; immutable secrets keep their data.
pub fn validate_secret_update(new: &Value, old: &Value) -> ErrorList {
    let mut errs = validate_object_meta_update(new, old);
    errs.extend(immutable(new.get("type"), old.get("type"), "type"));
    if old.get("immutable").and_then(Value::as_bool) == Some(true) {
        if new.get("immutable").and_then(Value::as_bool) != Some(true) {
            errs.push(FieldError::forbidden("immutable", IMMUTABLE_MSG));
        }
        if !same(new.get("data"), old.get("data")) {
            errs.push(FieldError::forbidden("data", IMMUTABLE_MSG));
        }
    }
    errs.extend(validate_secret(new).into_iter().filter(|e| {
        !e.field.starts_with("metadata.") || e.field.starts_with("metadata.annotations[")
    }));
    errs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msgs(errs: ErrorList) -> Vec<String> {
        errs.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn config_maps() {
        let ok =
            json!({"metadata": {"name": "c", "namespace": "d"}, "data": {"a.b": "x", "K_1": "y"}});
        assert!(validate_config_map(&ok).is_empty());
        let bad = json!({"metadata": {"name": "c", "namespace": "d"}, "data": {"a b": "x"}, "binaryData": {"a b": "eA=="}});
        let m = msgs(validate_config_map(&bad));
        assert_eq!(m.len(), 3, "{m:?}");
        assert!(m[0].starts_with("data[a b]: Invalid value: \"a b\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"));
        assert_eq!(
            m[1],
            "data[a b]: Invalid value: \"a b\": duplicate of key present in binaryData"
        );
        let big = json!({"metadata": {"name": "c", "namespace": "d"}, "data": {"k": "x".repeat(MAX_SECRET_SIZE + 1)}});
        assert_eq!(
            msgs(validate_config_map(&big)),
            vec![": Too long: must have at most 1048576 bytes"]
        );
    }

    #[test]
    fn immutable_config_map() {
        let old = json!({"metadata": {"name": "c", "namespace": "d", "resourceVersion": "1"}, "immutable": true, "data": {"a": "1"}});
        let mut new = old.clone();
        new["data"]["a"] = json!("2");
        assert_eq!(
            msgs(validate_config_map_update(&new, &old)),
            vec!["data: Forbidden: field is immutable when `immutable` is set"]
        );
    }

    #[test]
    fn secret_types() {
        let meta = json!({"name": "s", "namespace": "d"});
        let cases = [
            (
                json!({"metadata": meta, "type": "Opaque", "data": {"a": "eA=="}}),
                vec![],
            ),
            (
                json!({"metadata": meta, "type": "kubernetes.io/tls", "data": {"tls.crt": "eA=="}}),
                vec!["data[tls.key]: Required value"],
            ),
            (
                json!({"metadata": meta, "type": "kubernetes.io/dockerconfigjson", "data": {}}),
                vec!["data[.dockerconfigjson]: Required value"],
            ),
            (
                json!({"metadata": meta, "type": "kubernetes.io/service-account-token"}),
                vec!["metadata.annotations[kubernetes.io/service-account.name]: Required value"],
            ),
            (
                json!({"metadata": meta, "type": "kubernetes.io/basic-auth", "data": {}}),
                vec![
                    "data[username]: Required value",
                    "data[password]: Required value",
                ],
            ),
        ];
        for (secret, want) in cases {
            assert_eq!(msgs(validate_secret(&secret)), want, "{secret}");
        }
        let old = json!({"metadata": {"name": "s", "namespace": "d", "resourceVersion": "1"}, "type": "Opaque"});
        let mut new = old.clone();
        new["type"] = json!("kubernetes.io/tls");
        new["data"] = json!({"tls.crt": "eA==", "tls.key": "eA=="});
        assert_eq!(
            msgs(validate_secret_update(&new, &old)),
            vec!["type: Invalid value: \"kubernetes.io/tls\": field is immutable"]
        );
    }
}
