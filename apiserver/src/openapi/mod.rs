//! The OpenAPI documents, generated from the resource table and the schema
//! module: `/openapi/v2` (Swagger 2.0, JSON or gnostic protobuf) and
//! `/openapi/v3` with one document per group-version. kubectl reads them
//! for `explain`, for the `fieldValidation` parameter (which tells it to let
//! the server validate fields) and for patch metadata.
//!
//! Every document is built once, on first request, and kept as serialized
//! bytes with its ETag (the SHA-512 of the bytes, as upstream), so serving
//! one is a copy of a cached buffer.

mod paths;
pub mod proto;
mod v2;
mod v3;

use crate::handlers::{Body, Ctx, respond};
use crate::resources::RESOURCES;
use crate::status::ApiError;
use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use std::collections::HashMap;
use std::io::Write;
use std::sync::OnceLock;

/// The Kubernetes version the documents describe (the types we serve).
pub const VERSION: &str = "v1.32.0";

/// The media type of the v2 protobuf form (what the answer says).
pub const PROTOBUF_V2: &str = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";
/// The older spelling clients (client-go, kubectl) still ask for; Go's
/// MIME parser rejects it in a Content-Type, so answers use the one above.
const PROTOBUF_V2_DEPRECATED: &str = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";

/// The forms of `/openapi/v2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum V2Form {
    Json,
    Protobuf,
}

/// The first `Accept` clause (highest quality first, then in order) that
/// names a form we have; `None` means 406.
fn negotiate_v2(accept: Option<&str>) -> Option<V2Form> {
    let accept = accept.filter(|a| !a.trim().is_empty()).unwrap_or("*/*");
    let mut clauses: Vec<(f32, usize, &str)> = accept
        .split(',')
        .enumerate()
        .map(|(i, c)| {
            let mut parts = c.split(';');
            let media = parts.next().unwrap_or_default().trim();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.parse().ok())
                .unwrap_or(1.0);
            (q, i, media)
        })
        .filter(|(q, _, _)| *q > 0.0)
        .collect();
    clauses.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    clauses.into_iter().find_map(|(_, _, media)| match media {
        "application/json" | "application/*" | "*/*" => Some(V2Form::Json),
        PROTOBUF_V2 | PROTOBUF_V2_DEPRECATED => Some(V2Form::Protobuf),
        _ => None,
    })
}

/// A serialized document and its hash (for the v2 protobuf form, the hash
/// of the JSON form, as upstream).
struct Cached {
    bytes: Bytes,
    hash: String,
    /// The gzip form, made on the first request that accepts it.
    gzip: OnceLock<Bytes>,
}

impl Cached {
    fn new(bytes: Vec<u8>) -> Self {
        let hash = openssl::sha::sha512(&bytes)
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        Cached {
            bytes: Bytes::from(bytes),
            hash,
            gzip: OnceLock::new(),
        }
    }

    fn gzipped(&self) -> Bytes {
        self.gzip
            .get_or_init(|| {
                let mut enc =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                match enc.write_all(&self.bytes).and_then(|()| enc.finish()) {
                    Ok(z) => Bytes::from(z),
                    // Writing to memory does not fail; fall back to plain bytes.
                    Err(_) => self.bytes.clone(),
                }
            })
            .clone()
    }
}

fn v2_json() -> &'static Cached {
    static DOC: OnceLock<Cached> = OnceLock::new();
    DOC.get_or_init(|| Cached::new(serde_json::to_vec(&v2::document()).unwrap_or_default()))
}

fn v2_protobuf() -> &'static Cached {
    static DOC: OnceLock<Cached> = OnceLock::new();
    DOC.get_or_init(|| Cached {
        bytes: Bytes::from(proto::encode(&v2::document())),
        hash: v2_json().hash.clone(),
        gzip: OnceLock::new(),
    })
}

/// The per-group-version v3 documents, keyed by `api/v1`, `apis/apps/v1`.
fn v3_documents() -> &'static HashMap<String, Cached> {
    static DOCS: OnceLock<HashMap<String, Cached>> = OnceLock::new();
    DOCS.get_or_init(|| {
        let mut out = HashMap::new();
        for r in RESOURCES {
            let key = paths::gv_path(r.group, r.version);
            if out.contains_key(&key) {
                continue;
            }
            if let Some(doc) = v3::group_version(r.group, r.version) {
                out.insert(
                    key,
                    Cached::new(serde_json::to_vec(&doc).unwrap_or_default()),
                );
            }
        }
        out
    })
}

/// `/openapi/v3`: where each group-version's document lives, with its hash.
fn v3_root() -> &'static Cached {
    static DOC: OnceLock<Cached> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut paths = serde_json::Map::new();
        let docs = v3_documents();
        let mut keys: Vec<&String> = docs.keys().collect();
        keys.sort();
        for key in keys {
            let hash = &docs[key].hash;
            paths.insert(
                key.clone(),
                serde_json::json!({ "serverRelativeURL": format!("/openapi/v3/{key}?hash={hash}") }),
            );
        }
        let root = serde_json::json!({ "paths": paths });
        Cached::new(serde_json::to_vec(&root).unwrap_or_default())
    })
}

fn header_value(s: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(s).ok()
}

/// A 200 with the document, or a 304 when `If-None-Match` names its ETag.
fn answer(ctx: &Ctx, doc: &Cached, content_type: &str) -> Response<Body> {
    let etag = format!("\"{}\"", doc.hash);
    let fresh = ctx
        .header("if-none-match")
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut r = if fresh {
        let mut r = respond(304, content_type, Vec::new());
        r.headers_mut().remove(header::CONTENT_TYPE);
        r
    } else if accepts_gzip(ctx.header("accept-encoding")) {
        let gz = doc.gzipped();
        let compressed = gz.len() < doc.bytes.len();
        let mut r = Response::new(crate::handlers::full(if compressed {
            gz
        } else {
            doc.bytes.clone()
        }));
        if compressed {
            r.headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        if let Some(v) = header_value(content_type) {
            r.headers_mut().insert(header::CONTENT_TYPE, v);
        }
        r
    } else {
        let mut r = Response::new(crate::handlers::full(doc.bytes.clone()));
        if let Some(v) = header_value(content_type) {
            r.headers_mut().insert(header::CONTENT_TYPE, v);
        }
        r
    };
    if let Some(v) = header_value(&etag) {
        r.headers_mut().insert(header::ETAG, v);
    }
    r.headers_mut().insert(
        header::VARY,
        HeaderValue::from_static("Accept, Accept-Encoding"),
    );
    r
}

/// Whether `Accept-Encoding` takes gzip (and does not refuse it with q=0).
fn accepts_gzip(accept_encoding: Option<&str>) -> bool {
    accept_encoding.is_some_and(|a| {
        a.split(',').any(|c| {
            let mut parts = c.split(';');
            let coding = parts.next().unwrap_or_default().trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            coding.eq_ignore_ascii_case("gzip") && !refused
        })
    })
}

/// Whether an `Accept` header takes JSON.
fn accepts_json(accept: Option<&str>) -> bool {
    accept.is_none_or(|a| {
        a.split(',').any(|c| {
            let t = c.split(';').next().unwrap_or_default().trim();
            t.is_empty() || t == "*/*" || t == "application/*" || t == "application/json"
        })
    })
}

/// Serves `/openapi/<rest>`.
pub fn serve(ctx: &Ctx, rest: &[&str]) -> Result<Response<Body>, ApiError> {
    let accept = ctx.header("accept");
    match rest {
        ["v2"] => Ok(match negotiate_v2(accept) {
            Some(V2Form::Json) => answer(ctx, v2_json(), "application/json"),
            Some(V2Form::Protobuf) => answer(ctx, v2_protobuf(), PROTOBUF_V2),
            None => respond(406, "text/plain", Vec::new()),
        }),
        ["v3"] => Ok(answer(ctx, v3_root(), "application/json")),
        ["v3", gv @ ..] => {
            let key = gv.join("/");
            let doc = v3_documents()
                .get(&key)
                .ok_or_else(ApiError::not_found_path)?;
            if !accepts_json(accept) {
                return Ok(respond(406, "text/plain", Vec::new()));
            }
            match ctx.q("hash") {
                Some(h) if !h.is_empty() && h != doc.hash => {
                    // A stale hash: send the client to the current document.
                    let mut r = respond(301, "text/plain", Vec::new());
                    if let Some(v) = header_value(&format!("/openapi/v3/{key}?hash={}", doc.hash)) {
                        r.headers_mut().insert(header::LOCATION, v);
                    }
                    *r.status_mut() = StatusCode::MOVED_PERMANENTLY;
                    Ok(r)
                }
                Some(h) if !h.is_empty() => {
                    let mut r = answer(ctx, doc, "application/json");
                    let expires = chrono::Utc::now() + chrono::Duration::days(365);
                    let headers = r.headers_mut();
                    headers.insert(
                        header::CACHE_CONTROL,
                        HeaderValue::from_static("public, immutable"),
                    );
                    if let Some(v) =
                        header_value(&expires.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
                    {
                        headers.insert(header::EXPIRES, v);
                    }
                    Ok(r)
                }
                _ => Ok(answer(ctx, doc, "application/json")),
            }
        }
        _ => Err(ApiError::not_found_path()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_lists_every_group_version_with_its_hash() {
        let root: serde_json::Value =
            serde_json::from_slice(&v3_root().bytes).expect("root is JSON");
        let core = &v3_documents()["api/v1"];
        assert_eq!(
            root["paths"]["api/v1"]["serverRelativeURL"],
            format!("/openapi/v3/api/v1?hash={}", core.hash)
        );
        assert_eq!(core.hash.len(), 128);
        assert!(root["paths"].get("apis/autoscaling/v2").is_some());
    }

    #[test]
    fn v2_negotiation() {
        for (accept, want) in [
            (None, Some(V2Form::Json)),
            (Some("application/json"), Some(V2Form::Json)),
            (Some(PROTOBUF_V2_DEPRECATED), Some(V2Form::Protobuf)),
            (Some(PROTOBUF_V2), Some(V2Form::Protobuf)),
            (
                Some(
                    "application/json;q=0.5, application/com.github.proto-openapi.spec.v2@v1.0+protobuf",
                ),
                Some(V2Form::Protobuf),
            ),
            (
                Some(
                    "application/com.github.proto-openapi.spec.v2@v1.0+protobuf, application/json",
                ),
                Some(V2Form::Protobuf),
            ),
            (Some("text/html"), None),
        ] {
            assert_eq!(negotiate_v2(accept), want, "{accept:?}");
        }
        assert_eq!(v2_protobuf().hash, v2_json().hash);
    }

    #[test]
    fn gzip_when_accepted() {
        assert!(accepts_gzip(Some("gzip")));
        assert!(accepts_gzip(Some("deflate, gzip;q=0.5")));
        assert!(!accepts_gzip(Some("gzip;q=0")));
        assert!(!accepts_gzip(None));
        let doc = v2_json();
        let mut plain = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::GzDecoder::new(doc.gzipped().as_ref()),
            &mut plain,
        )
        .expect("gunzip");
        assert_eq!(plain, doc.bytes.as_ref());
        assert!(doc.gzipped().len() * 4 < doc.bytes.len());
    }

    #[test]
    fn json_acceptance() {
        for (accept, ok) in [
            (None, true),
            (Some("application/json"), true),
            (Some("application/json;q=0.9, */*;q=0.1"), true),
            (
                Some("application/com.github.proto-openapi.spec.v3@v1.0+protobuf"),
                false,
            ),
        ] {
            assert_eq!(accepts_json(accept), ok, "{accept:?}");
        }
    }
}
