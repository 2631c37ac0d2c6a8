//! HTTP handling: authenticate, authorize, route, and answer every
//! failure with a `Status`.

pub mod crud;
pub mod csr;
pub mod encode;
pub mod escalation;
pub mod eviction;
pub mod request;
pub mod reviews;
pub mod scale_apply;
pub mod system;
pub mod watch;

use crate::authn::{TokenFile, UserInfo};
use crate::authz::{self, Authorizer, Decision};
use crate::metrics::Metrics;
use crate::registry::Store;
use crate::status::ApiError;
use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use request::{Query, RequestInfo, parse_query, request_info};
use serde_json::Value;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

/// Response body type: whole buffers or a watch stream.
pub type Body = BoxBody<Bytes, Infallible>;

/// Everything a request handler needs, shared by all connections.
pub struct AppState {
    pub store: Store,
    pub authorizer: Authorizer,
    pub tokens: Option<TokenFile>,
    /// ServiceAccount token signing and verification.
    pub sa_tokens: crate::serviceaccount::TokenAuthority,
    pub anonymous_auth: bool,
    /// `host:port` clients reach us at (for `/api`'s serverAddress).
    pub advertise: String,
    pub metrics: Metrics,
    /// Set once start-up (bootstrap) is done; `/readyz` reports it.
    pub started: std::sync::atomic::AtomicBool,
    /// The audit policy and log, when `--audit-policy-file` and
    /// `--audit-log-path` are set.
    pub audit: Option<Arc<crate::audit::Auditor>>,
    /// `/.well-known/openid-configuration` and `/openid/v1/jwks`, when the
    /// issuer is an https URL with public keys.
    pub issuer_discovery: Option<crate::issuer_discovery::IssuerDiscovery>,
    /// How connect subresources (logs, exec, proxy) reach kubelets.
    pub kubelet: Box<dyn crate::proxy::NodeConnection>,
}

/// A parsed request, what every handler receives.
pub struct Ctx {
    pub method: Method,
    pub info: RequestInfo,
    pub query: Query,
    pub headers: http::HeaderMap,
    pub user: UserInfo,
    /// The undecoded query (repeated keys such as exec's `command`).
    pub raw_query: Option<String>,
}

impl Ctx {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    pub fn q(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str)
    }
    pub fn raw_query(&self) -> Option<&str> {
        self.raw_query.as_deref()
    }
}

pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).boxed()
}

/// A JSON (or other already-encoded) response.
pub fn respond(code: u16, content_type: &str, body: Vec<u8>) -> Response<Body> {
    let mut r = Response::new(full(body));
    *r.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = HeaderValue::from_str(content_type) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r
}

pub fn json_response(code: u16, v: &Value) -> Response<Body> {
    respond(code, "application/json", encode::json_bytes(v))
}

pub fn error_response(e: &ApiError) -> Response<Body> {
    let mut r = json_response(e.code, &e.to_status());
    if let Some(secs) = e.details.get("retryAfterSeconds").and_then(Value::as_i64)
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

/// Reads the body, at most [`encode::MAX_BODY`] bytes (413 beyond).
pub async fn read_body(mut body: hyper::body::Incoming) -> Result<Bytes, ApiError> {
    use hyper::body::Body as _;
    if body.size_hint().lower() > encode::MAX_BODY as u64 {
        drain_after_refusal(body);
        return Err(ApiError::too_large());
    }
    let mut first: Option<Bytes> = None;
    let mut rest = bytes::BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|e| ApiError::bad_request(format!("reading request body: {e}")))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        let have = first.as_ref().map_or(0, Bytes::len) + rest.len();
        if have + data.len() > encode::MAX_BODY {
            drain_after_refusal(body);
            return Err(ApiError::too_large());
        }
        match &first {
            None => first = Some(data),
            Some(_) => rest.extend_from_slice(&data),
        }
    }
    // One frame (the common case) is used without copying.
    let bytes = match first {
        None => Bytes::new(),
        Some(f) if rest.is_empty() => f,
        Some(f) => {
            let mut all = bytes::BytesMut::with_capacity(f.len() + rest.len());
            all.extend_from_slice(&f);
            all.extend_from_slice(&rest);
            all.freeze()
        }
    };
    crate::audit::note_request_body(&bytes);
    Ok(bytes)
}

/// How much of a refused body is still read (and thrown away) after the
/// 413, and for how long.
const DRAIN_LIMIT: usize = 16 * 1024 * 1024;
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(30);

/// Keeps reading a refused body in the background so the 413 reaches the
/// client: over HTTP/2, dropping a body the client is still sending resets
/// the stream before the queued answer is written (curl then prints `000`);
/// over HTTP/1.1 it lets the connection be reused. Bounded in bytes and time;
/// past either bound the body is dropped as before.
fn drain_after_refusal(mut body: hyper::body::Incoming) {
    tokio::spawn(async move {
        let mut seen = 0usize;
        let _ = tokio::time::timeout(DRAIN_TIME, async {
            while let Some(Ok(frame)) = body.frame().await {
                if let Some(d) = frame.data_ref() {
                    seen += d.len();
                }
                if seen > DRAIN_LIMIT {
                    break;
                }
            }
        })
        .await;
    });
}

/// Who sent the request, as upstream's authenticator union decides: the
/// client certificate first (a verified one is the user, whatever
/// `Authorization` header comes with it), then a bearer token (one that
/// no token authenticator knows is a 401), then anonymous. A header that
/// is not `Bearer <token>` is no credential at all, as upstream's bearer
/// token authenticator ignores it.
async fn authenticate(
    state: &AppState,
    headers: &http::HeaderMap,
    cert_user: Option<&UserInfo>,
) -> Result<UserInfo, ApiError> {
    if let Some(u) = cert_user {
        return Ok(u.clone());
    }
    if let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_token)
    {
        if let Some(u) = state.tokens.as_ref().and_then(|t| t.lookup(token)) {
            return Ok(u.clone());
        }
        return state
            .sa_tokens
            .authenticate(&state.store, token, chrono::Utc::now().timestamp())
            .await
            .ok_or_else(ApiError::unauthorized);
    }
    if state.anonymous_auth {
        Ok(UserInfo::anonymous())
    } else {
        Err(ApiError::unauthorized())
    }
}

/// The token of `Authorization: Bearer <token>` (the scheme in any case,
/// as upstream); `None` for other schemes and empty tokens.
fn bearer_token(header: &str) -> Option<&str> {
    let mut parts = header.trim().splitn(3, ' ');
    let scheme = parts.next()?;
    let token = parts.next()?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Whether an error answer may leave part of this request's body unread:
/// an HTTP/1.x request with a body. Hyper cannot reuse such a connection
/// and would close it silently after the answer, breaking the client's
/// next request on it; upstream (Go's server) says `Connection: close`
/// when it gives up on an unread body, and so does this server on its
/// error answers to such requests.
fn may_leave_body_unread(parts: &http::request::Parts) -> bool {
    if parts.version > http::Version::HTTP_11 {
        return false;
    }
    let h = &parts.headers;
    h.contains_key(header::TRANSFER_ENCODING)
        || h.get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .is_some_and(|n| n > 0)
}

/// Entry point for one HTTP request.
pub async fn handle(
    state: Arc<AppState>,
    cert_user: Option<UserInfo>,
    req: Request<hyper::body::Incoming>,
) -> Result<Response<Body>, Infallible> {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let close_on_error = may_leave_body_unread(&parts);
    let query = parse_query(parts.uri.query());
    let info = request_info(parts.method.as_str(), parts.uri.path(), &query);
    let verb = info.verb.clone();
    let resource = info.resource.clone();
    let user = authenticate(&state, &parts.headers, cert_user.as_ref()).await;
    let audit = crate::audit::begin(state.audit.as_ref(), user.as_ref().ok(), &info, &parts);
    let served = serve(&state, user, parts, body, info, query);
    let (resp, failure) = match crate::audit::scoped(audit.as_ref(), served).await {
        Ok(r) => (r, None),
        Err(e) => (error_response(&e), Some(e.to_status())),
    };
    let mut resp = match audit {
        Some(a) => a.complete(resp, &verb, failure.as_ref()).await,
        None => resp,
    };
    if close_on_error && resp.status().as_u16() >= 400 {
        resp.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    state
        .metrics
        .observe(&verb, &resource, resp.status().as_u16(), started.elapsed());
    Ok(resp)
}

async fn serve(
    state: &Arc<AppState>,
    user: Result<UserInfo, ApiError>,
    parts: http::request::Parts,
    body: hyper::body::Incoming,
    info: RequestInfo,
    query: Query,
) -> Result<Response<Body>, ApiError> {
    let user = user?;
    let public = authz::is_public_path(&info.path);
    if user.is_anonymous() && !public {
        return Err(ApiError::unauthorized());
    }
    if !public && let Decision::Deny(reason) = state.authorizer.authorize(&user, &info) {
        crate::audit::note_authorization(false, &reason);
        let mut e = ApiError::forbidden(authz::forbidden_message(&user, &info, &reason));
        if info.is_resource_request {
            e.details = serde_json::json!({"name": info.name, "kind": info.resource});
            if !info.api_group.is_empty() {
                e.details["group"] = serde_json::json!(info.api_group);
            }
        }
        return Err(e);
    }
    crate::audit::note_authorization(true, "");
    let ctx = Ctx {
        raw_query: parts.uri.query().map(String::from),
        method: parts.method,
        info,
        query,
        headers: parts.headers,
        user,
    };
    if ctx.info.is_resource_request {
        crud::serve_resource(state, &ctx, body).await
    } else {
        system::serve_non_resource(state, &ctx).await
    }
}

#[cfg(test)]
mod authn_tests {
    #[test]
    fn bearer_tokens_as_upstream_reads_them() {
        use super::bearer_token;
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer abc"), Some("abc"));
        assert_eq!(bearer_token("  Bearer abc  "), Some("abc"));
        assert_eq!(bearer_token("Bearer abc def"), Some("abc"));
        assert_eq!(bearer_token("Bearer "), None);
        assert_eq!(bearer_token("garbage"), None);
        assert_eq!(bearer_token("Basic dXNlcjpwdw=="), None);
    }
}
