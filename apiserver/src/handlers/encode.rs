//! Content negotiation: request bodies in JSON or YAML, responses as JSON,
//! YAML or a `meta.k8s.io/v1` Table for kubectl's printers.

use crate::resources::ResourceDef;
use crate::status::ApiError;
use serde_json::{Value, json};
use std::time::SystemTime;

/// Largest request body accepted (upstream's 3 MiB).
pub const MAX_BODY: usize = 3 * 1024 * 1024;

/// What the client asked to get back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Json,
    Yaml,
    /// `as=Table;g=meta.k8s.io;v=v1`, with what each row carries.
    Table(IncludeObject),
    /// `as=PartialObjectMetadata;g=meta.k8s.io;v=v1` (or the `...List`
    /// form): only `metadata`, what metadata-only informers (the garbage
    /// collector's) ask for.
    Metadata,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncludeObject {
    None,
    Metadata,
    Object,
}

/// Picks the first Accept entry we can produce.
pub fn negotiate(accept: Option<&str>, include: Option<&str>) -> Result<Output, ApiError> {
    let accept = accept.unwrap_or("").trim();
    if accept.is_empty() {
        return Ok(Output::Json);
    }
    for entry in accept.split(',') {
        let mut parts = entry.split(';').map(str::trim);
        let media = parts.next().unwrap_or("");
        let params: Vec<(&str, &str)> = parts.filter_map(|p| p.split_once('=')).collect();
        let param = |k: &str| params.iter().find(|(n, _)| *n == k).map(|(_, v)| *v);
        match (media, param("as")) {
            ("application/json" | "application/yaml" | "*/*", Some("Table"))
                if param("g") == Some("meta.k8s.io")
                    && matches!(param("v"), Some("v1" | "v1beta1")) =>
            {
                let inc = match include {
                    Some("None") => IncludeObject::None,
                    Some("Object") => IncludeObject::Object,
                    _ => IncludeObject::Metadata,
                };
                return Ok(Output::Table(inc));
            }
            (
                "application/json" | "*/*",
                Some("PartialObjectMetadata" | "PartialObjectMetadataList"),
            ) if param("g") == Some("meta.k8s.io")
                && matches!(param("v"), Some("v1" | "v1beta1")) =>
            {
                return Ok(Output::Metadata);
            }
            (_, Some(_)) => continue,
            (
                "application/json" | "application/*" | "*/*" | "application/json-patch+json",
                None,
            ) => return Ok(Output::Json),
            ("application/yaml", None) => return Ok(Output::Yaml),
            _ => continue,
        }
    }
    Err(ApiError::not_acceptable())
}

/// Negotiation for resources upstream has no table convertor for (the
/// access and token reviews, and the token, binding and eviction
/// subresources): Table entries of `Accept` are passed over, and a request
/// that accepts nothing else is answered 406 before anything happens.
pub fn negotiate_without_table(accept: Option<&str>) -> Result<Output, ApiError> {
    let accept = accept.unwrap_or("").trim();
    if accept.is_empty() {
        return Ok(Output::Json);
    }
    let rest: Vec<&str> = accept
        .split(',')
        .filter(|e| !e.replace(' ', "").contains("as=Table"))
        .collect();
    if rest.is_empty() {
        return Err(ApiError::not_acceptable());
    }
    negotiate(Some(&rest.join(",")), None)
}

/// Parses a request body as JSON or YAML according to its content type.
pub fn decode_body(content_type: Option<&str>, body: &[u8]) -> Result<Value, ApiError> {
    let base = content_type
        .unwrap_or("application/json")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let v: Value = match base.as_str() {
        "application/json"
        | ""
        | "*/*"
        | "application/json-patch+json"
        | "application/merge-patch+json"
        | "application/strategic-merge-patch+json" => {
            serde_json::from_slice(body).map_err(|e| {
                ApiError::bad_request(format!("the body of the request could not be decoded: {e}"))
            })?
        }
        crate::protobuf::CONTENT_TYPE => crate::protobuf::decode(body)?,
        "application/yaml" | "application/apply-patch+yaml" => serde_yaml::from_slice(body)
            .map_err(|e| {
                ApiError::bad_request(format!(
                    "the body of the request could not be decoded as YAML: {e}"
                ))
            })?,
        other => return Err(ApiError::unsupported_media_type(other)),
    };
    Ok(v)
}

/// Serialises a response body; returns (content type, bytes).
pub fn render(out: Output, v: &Value) -> (&'static str, Vec<u8>) {
    match out {
        Output::Yaml => match serde_yaml::to_string(v) {
            Ok(s) => ("application/yaml", s.into_bytes()),
            Err(_) => ("application/json", json_bytes(v)),
        },
        _ => ("application/json", json_bytes(v)),
    }
}

/// A JSON answer as upstream writes one: the object in its Go type's
/// canonical encoding (`schema::canonical`), then a newline.
pub fn json_bytes(v: &Value) -> Vec<u8> {
    let mut out = crate::schema::canonical::to_vec(v);
    out.push(b'\n');
    out
}

/// A Table of `objects` (a list's items or one object).
pub fn to_table(
    def: &ResourceDef,
    objects: &[Value],
    list_meta: Value,
    include: IncludeObject,
) -> Value {
    let now = SystemTime::now();
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| {
            let cells = crate::apiextensions::printing::row_cells(def, o, now)
                .unwrap_or_else(|| crate::printers::row_cells(def.group, def.plural, o, now));
            let mut row = json!({ "cells": cells });
            match include {
                IncludeObject::Object => row["object"] = o.clone(),
                IncludeObject::Metadata => row["object"] = partial(o),
                IncludeObject::None => {}
            }
            row
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta,
        "columnDefinitions": crate::apiextensions::printing::column_definitions(def)
            .unwrap_or_else(|| crate::printers::column_definitions(def.group, def.plural)),
        "rows": rows,
    })
}

/// An object reduced to its metadata.
fn partial(o: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": o.get("metadata").cloned().unwrap_or(json!({})),
    })
}

/// Renders an object or a list in the negotiated form.
pub fn shape(def: &ResourceDef, out: Output, v: Value) -> Value {
    if v.get("kind").and_then(Value::as_str) == Some("Status") {
        return v;
    }
    let include = match out {
        Output::Table(include) => include,
        Output::Metadata => {
            return match v.get("items").and_then(Value::as_array) {
                Some(items) => json!({
                    "kind": "PartialObjectMetadataList",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": v.get("metadata").cloned().unwrap_or(json!({})),
                    "items": items.iter().map(partial).collect::<Vec<_>>(),
                }),
                None => partial(&v),
            };
        }
        Output::Json | Output::Yaml => return v,
    };
    match v.get("items").and_then(Value::as_array) {
        Some(items) => to_table(
            def,
            items,
            v.get("metadata").cloned().unwrap_or(json!({})),
            include,
        ),
        None => {
            let rv = v
                .pointer("/metadata/resourceVersion")
                .cloned()
                .unwrap_or(json!(""));
            to_table(def, &[v], json!({ "resourceVersion": rv }), include)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_accept_headers() {
        let table = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
        assert_eq!(
            negotiate(Some(table), Some("Object")),
            Ok(Output::Table(IncludeObject::Object))
        );
        assert_eq!(
            negotiate(Some(table), None),
            Ok(Output::Table(IncludeObject::Metadata))
        );
        assert_eq!(negotiate(Some("application/yaml"), None), Ok(Output::Yaml));
        assert_eq!(
            negotiate(Some("application/vnd.kubernetes.protobuf, */*"), None),
            Ok(Output::Json)
        );
        assert_eq!(negotiate(None, None), Ok(Output::Json));
        assert_eq!(
            negotiate(Some("text/html"), None).map_err(|e| e.code),
            Err(406)
        );
    }

    #[test]
    fn metadata_only_clients() {
        let list = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";
        assert_eq!(negotiate(Some(list), None), Ok(Output::Metadata));
        let one = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1";
        assert_eq!(negotiate(Some(one), None), Ok(Output::Metadata));
        let elsewhere = "application/json;as=PartialObjectMetadata;g=example.com;v=v1";
        assert_eq!(
            negotiate(Some(elsewhere), None).map_err(|e| e.code),
            Err(406)
        );
    }

    #[test]
    fn bodies_decode_by_type() {
        assert_eq!(
            decode_body(Some("application/yaml"), b"a: 1").ok(),
            Some(json!({"a": 1}))
        );
        assert_eq!(decode_body(None, b"{\"a\":1}").ok(), Some(json!({"a": 1})));
        assert_eq!(decode_body(None, b"{bad").map_err(|e| e.code), Err(400));
        assert_eq!(
            decode_body(Some("text/plain"), b"x").map_err(|e| e.code),
            Err(415)
        );
    }
}
