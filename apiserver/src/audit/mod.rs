//! Auditing (`--audit-policy-file`, `--audit-log-*`): every request the
//! policy selects becomes audit.k8s.io/v1 `Event` lines, one when it is
//! received, one when its answer is complete (and one when a watch's answer
//! starts). The handler calls [`begin`] once and [`RequestAudit::complete`]
//! once; what happens in between (the authorization decision, the request
//! body) is noted through a task-local so no handler signature changes.

pub mod event;
pub mod policy;
pub mod writer;

use crate::authn::UserInfo;
use crate::handlers::Body;
use crate::handlers::request::RequestInfo;
use bytes::Bytes;
use chrono::Utc;
use http::{HeaderValue, Response};
use http_body_util::{BodyExt, BodyStream, StreamBody};
use policy::{Attributes, Level, Policy, Stage};
use serde_json::{Map, Value, json};
use std::net::IpAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use writer::{LogWriter, Rotation};

/// The response header carrying the event's id, as upstream sends it.
pub const AUDIT_ID_HEADER: &str = "audit-id";

/// The policy and the log it writes to.
pub struct Auditor {
    policy: Policy,
    writer: LogWriter,
}

impl Auditor {
    /// Auditing is on when both a policy and a log path are given (as
    /// upstream: a log path without a policy records nothing).
    pub fn from_flags(
        policy_file: Option<&Path>,
        log_path: Option<&str>,
        rotation: Rotation,
    ) -> anyhow::Result<Option<Arc<Auditor>>> {
        let (Some(policy_file), Some(log_path)) = (policy_file, log_path) else {
            return Ok(None);
        };
        if log_path.is_empty() {
            return Ok(None);
        }
        let policy = Policy::load(policy_file)?;
        let writer = LogWriter::open(log_path, rotation)?;
        Ok(Some(Arc::new(Auditor { policy, writer })))
    }

    fn write(&self, event: &Value) {
        let line = serde_json::to_vec(event).unwrap_or_default();
        if let Err(e) = self.writer.write_line(&line) {
            tracing::error!("writing audit event: {e}");
        }
    }
}

/// What handlers note while a request runs.
#[derive(Default)]
struct Capture {
    request_body: Option<Bytes>,
    /// `(allowed, reason)` of the authorizer.
    decision: Option<(bool, String)>,
    /// Annotations admission plugins add (PodSecurity's audit level).
    annotations: Map<String, Value>,
}

tokio::task_local! {
    static CAPTURE: Arc<Mutex<Capture>>;
}

fn with_capture(f: impl FnOnce(&mut Capture)) {
    let _ = CAPTURE.try_with(|c| {
        if let Ok(mut c) = c.lock() {
            f(&mut c);
        }
    });
}

/// Notes the body a handler read (kept only for Request levels and up).
pub fn note_request_body(body: &Bytes) {
    with_capture(|c| c.request_body = Some(body.clone()));
}

/// Notes the authorizer's answer for the event's annotations.
pub fn note_authorization(allowed: bool, reason: &str) {
    with_capture(|c| c.decision = Some((allowed, reason.to_string())));
}

/// Notes an audit annotation (admission plugins: `pod-security.kubernetes.io/...`).
pub fn note_annotation(key: &str, value: &str) {
    with_capture(|c| {
        c.annotations
            .insert(key.to_string(), Value::String(value.to_string()));
    });
}

/// One audited request between [`begin`] and [`RequestAudit::complete`].
pub struct RequestAudit {
    auditor: Arc<Auditor>,
    level: Level,
    omit: Vec<Stage>,
    omit_managed_fields: bool,
    base: Map<String, Value>,
    audit_id: String,
    capture: Arc<Mutex<Capture>>,
}

/// The request's source addresses: `X-Forwarded-For`, then the peer.
fn source_ips(headers: &http::HeaderMap, peer: Option<IpAddr>) -> Vec<String> {
    let mut ips: Vec<String> = headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| s.parse::<IpAddr>().is_ok())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    if let Some(p) = peer.map(|p| p.to_string())
        && !ips.contains(&p)
    {
        ips.push(p);
    }
    ips
}

/// Starts auditing a request: evaluates the policy and writes the
/// RequestReceived stage. `None` when auditing is off or the level is None.
pub fn begin(
    auditor: Option<&Arc<Auditor>>,
    user: Option<&UserInfo>,
    info: &RequestInfo,
    parts: &http::request::Parts,
) -> Option<RequestAudit> {
    let auditor = auditor?;
    let no_groups = Vec::new();
    let attrs = Attributes {
        user: user.map(|u| u.name.as_str()).unwrap_or(""),
        groups: user.map(|u| &u.groups).unwrap_or(&no_groups),
        verb: &info.verb,
        resource_request: info.is_resource_request,
        path: &info.path,
        api_group: &info.api_group,
        namespace: &info.namespace,
        resource: &info.resource,
        subresource: &info.subresource,
        name: &info.name,
    };
    let d = auditor.policy.evaluate(&attrs);
    if d.level == Level::None {
        return None;
    }
    let audit_id = parts
        .headers
        .get(AUDIT_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .map(String::from)
        .unwrap_or_else(crate::registry::meta::new_uid);
    let uri = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| parts.uri.path().to_string());
    let peer = parts
        .extensions
        .get::<std::net::SocketAddr>()
        .map(|a| a.ip());
    let received = Utc::now();
    let base = event::base(&event::RequestFacts {
        audit_id: &audit_id,
        level: d.level,
        request_uri: &uri,
        user,
        info,
        source_ips: source_ips(&parts.headers, peer),
        user_agent: parts
            .headers
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok()),
        received,
    });
    let a = RequestAudit {
        auditor: auditor.clone(),
        level: d.level,
        omit: d.omit_stages,
        omit_managed_fields: d.omit_managed_fields,
        base,
        audit_id,
        capture: Arc::new(Mutex::new(Capture::default())),
    };
    a.emit(Stage::RequestReceived, Map::new());
    Some(a)
}

/// Runs `fut` with the task-local the handlers note into, when audited.
pub async fn scoped<F: std::future::Future>(audit: Option<&RequestAudit>, fut: F) -> F::Output {
    match audit {
        Some(a) => CAPTURE.scope(a.capture.clone(), fut).await,
        None => fut.await,
    }
}

impl RequestAudit {
    fn emit(&self, stage: Stage, extra: Map<String, Value>) {
        if self.omit.contains(&stage) {
            return;
        }
        let e = event::at_stage(&self.base, stage, Utc::now(), extra);
        self.auditor.write(&e);
    }

    /// What the later stages add: annotations and the request body.
    fn noted(&self) -> Map<String, Value> {
        let mut extra = Map::new();
        let Ok(c) = self.capture.lock() else {
            return extra;
        };
        let mut annotations = c.annotations.clone();
        if let Some((allowed, reason)) = &c.decision {
            annotations.insert(
                "authorization.k8s.io/decision".into(),
                json!(if *allowed { "allow" } else { "forbid" }),
            );
            annotations.insert("authorization.k8s.io/reason".into(), json!(reason));
        }
        if !annotations.is_empty() {
            extra.insert("annotations".into(), Value::Object(annotations));
        }
        // A create names its object only in the body: as upstream, the
        // stages after the body was read carry that name in `objectRef`.
        let unnamed = self
            .base
            .get("objectRef")
            .is_some_and(|r| r.get("name").is_none());
        let body = if unnamed || self.level >= Level::Request {
            c.request_body.as_deref().and_then(event::body_object)
        } else {
            None
        };
        if let Some(object_ref) = self.base.get("objectRef").and_then(|r| {
            event::object_ref_named(r, body.as_ref()?.pointer("/metadata/name")?.as_str()?)
        }) {
            extra.insert("objectRef".into(), object_ref);
        }
        if self.level >= Level::Request
            && let Some(mut obj) = body
        {
            if self.omit_managed_fields {
                event::strip_managed_fields(&mut obj);
            }
            extra.insert("requestObject".into(), obj);
        }
        extra
    }

    /// Writes the completion stage(s) for `resp` and gives it back (with
    /// the `Audit-Id` header). `failure` is the Status of an error answer.
    /// A watch gets ResponseStarted now and ResponseComplete when its
    /// stream ends.
    pub async fn complete(
        self,
        resp: Response<Body>,
        verb: &str,
        failure: Option<&Value>,
    ) -> Response<Body> {
        let code = resp.status().as_u16();
        let mut extra = self.noted();
        extra.insert(
            "responseStatus".into(),
            event::response_status(code, failure),
        );
        let (mut parts, body) = resp.into_parts();
        if let Ok(v) = HeaderValue::from_str(&self.audit_id) {
            parts.headers.insert(AUDIT_ID_HEADER, v);
        }
        if verb == "watch" && failure.is_none() {
            self.emit(Stage::ResponseStarted, extra.clone());
            let guard = CompleteOnDrop {
                audit: Some(self),
                extra,
            };
            let stream = BodyStream::new(body);
            let body = StreamBody::new(futures_util::StreamExt::map(stream, move |f| {
                let _keep = &guard;
                f
            }))
            .boxed();
            return Response::from_parts(parts, body);
        }
        let body = if self.level == Level::RequestResponse && failure.is_none() {
            let bytes = match body.collect().await {
                Ok(c) => c.to_bytes(),
                Err(never) => match never {},
            };
            if let Some(mut obj) = event::body_object(&bytes) {
                if self.omit_managed_fields {
                    event::strip_managed_fields(&mut obj);
                }
                extra.insert("responseObject".into(), obj);
            }
            crate::handlers::full(bytes)
        } else {
            body
        };
        self.emit(Stage::ResponseComplete, extra);
        Response::from_parts(parts, body)
    }
}

/// Writes a watch's ResponseComplete when its stream is dropped (ended or
/// the client went away).
struct CompleteOnDrop {
    audit: Option<RequestAudit>,
    extra: Map<String, Value>,
}

impl Drop for CompleteOnDrop {
    fn drop(&mut self) {
        if let Some(a) = self.audit.take() {
            a.emit(Stage::ResponseComplete, std::mem::take(&mut self.extra));
        }
    }
}
