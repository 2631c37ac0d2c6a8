//! The `MutatingAdmissionWebhook` and `ValidatingAdmissionWebhook`
//! plugins: every webhook of every configuration (by configuration name,
//! then list order) whose rules, selectors and matchConditions select the
//! request is sent an AdmissionReview v1 over verified HTTPS
//! ([`client`]). Mutating webhooks run one after another and their
//! JSONPatches apply in turn; validating ones may deny. A call that fails
//! (connection, TLS, timeout, bad response) is ignored under
//! `failurePolicy: Ignore` and fails the request (500) under `Fail`.
//!
//! `clientConfig.service` is resolved to the Service's Endpoints (the
//! first ready address and the port behind the Service port), since a
//! ClusterIP is not reachable from the apiserver here; the certificate
//! must still name `<service>.<namespace>.svc`. No reinvocation
//! (`reinvocationPolicy: IfNeeded` acts as Never).

pub mod client;
pub mod review;

use super::cache::Kind;
use super::policy::{cel, matching};
use super::{Operation, Request, lookup};
use crate::registry::Store;
use crate::status::ApiError;
use crate::validation::json::{arr_at, str_at};
use base64::Engine;
use client::Target;
use matching::Attributes;
use serde_json::{Value, json};
use std::time::Duration;

const GROUP: &str = "admissionregistration.k8s.io";
pub const VALIDATING: Kind = (GROUP, "v1", "validatingwebhookconfigurations");
pub const MUTATING: Kind = (GROUP, "v1", "mutatingwebhookconfigurations");

/// Webhooks never see the admissionregistration kinds (so a broken
/// webhook can always be removed).
fn exempt(req: &Request<'_>) -> bool {
    req.def.group == GROUP
}

/// The webhooks of every configuration of `kind`, by configuration name.
async fn webhooks(store: &Store, kind: Kind) -> Result<Vec<Value>, ApiError> {
    let mut configs = lookup::list(store, kind, "").await?;
    configs.sort_by(|a, b| {
        let n = |o: &Value| o.get("metadata").map(|m| str_at(m, "name").to_string());
        n(a).cmp(&n(b))
    });
    Ok(configs
        .iter()
        .flat_map(|c| arr_at(c, "webhooks").to_vec())
        .collect())
}

/// Rules, selectors and matchConditions of one webhook.
async fn selects(
    store: &Store,
    w: &Value,
    req: &Request<'_>,
    (object, old): (&Value, &Value),
) -> Result<Result<bool, String>, ApiError> {
    let a = Attributes::of(req);
    if !arr_at(w, "rules")
        .iter()
        .any(|r| matching::rule_matches(r, &a))
        || !matching::object_selector_matches(w.get("objectSelector"), object, old)
    {
        return Ok(Ok(false));
    }
    let sel = w.get("namespaceSelector");
    if matching::needs_namespace(sel) {
        let ns = if a.group.is_empty() && a.resource == "namespaces" {
            Some(if object.is_object() {
                object.clone()
            } else {
                old.clone()
            })
        } else if a.namespaced {
            lookup::namespace(store, req.namespace).await?
        } else {
            None
        };
        if !matching::namespace_selector_matches(sel, &a, ns.as_ref().and_then(matching::labels)) {
            return Ok(Ok(false));
        }
    }
    let request = json!({"operation": a.operation, "name": req.name, "namespace": req.namespace,
        "userInfo": {"username": req.user.name, "groups": req.user.groups}});
    let act = cel::Activation::new(object, old, &request, &Value::Null, &Value::Null);
    for c in arr_at(w, "matchConditions") {
        let r = cel::compile(str_at(c, "expression")).and_then(|e| act.eval_bool(&e));
        match r {
            Ok(true) => {}
            Ok(false) => return Ok(Ok(false)),
            Err(e) => {
                return Ok(Err(format!(
                    "failed to evaluate match condition '{}': {e}",
                    str_at(c, "name")
                )));
            }
        }
    }
    Ok(Ok(true))
}

/// Where the webhook lives: its URL, or its Service's endpoint.
async fn target(store: &Store, w: &Value) -> Result<Target, String> {
    let cc = w.get("clientConfig").unwrap_or(&Value::Null);
    let url = str_at(cc, "url");
    if !url.is_empty() {
        return Target::from_url(url).map_err(|e| e.to_string());
    }
    let svc = cc.get("service").unwrap_or(&Value::Null);
    let (ns, name) = (str_at(svc, "namespace"), str_at(svc, "name"));
    let port = svc.get("port").and_then(Value::as_i64).unwrap_or(443);
    let path = match str_at(svc, "path") {
        "" => "/",
        p => p,
    };
    let url = format!("https://{name}.{ns}.svc:{port}{path}");
    let no_endpoint = || {
        format!(
            "failed to call webhook: Post \"{url}\": service \"{ns}/{name}\" has no ready endpoint"
        )
    };
    let service = lookup::live_get(store, ("", "v1", "services"), ns, name)
        .await
        .map_err(|e| e.message)?
        .ok_or_else(|| format!("failed to call webhook: service \"{name}\" not found"))?;
    let sp = arr_at(service.get("spec").unwrap_or(&Value::Null), "ports")
        .iter()
        .find(|p| p.get("port").and_then(Value::as_i64) == Some(port))
        .cloned()
        .ok_or_else(no_endpoint)?;
    let endpoints = lookup::live_get(store, ("", "v1", "endpoints"), ns, name)
        .await
        .map_err(|e| e.message)?
        .ok_or_else(no_endpoint)?;
    for subset in arr_at(&endpoints, "subsets") {
        let Some(ip) = arr_at(subset, "addresses").first().map(|a| str_at(a, "ip")) else {
            continue;
        };
        let ports = arr_at(subset, "ports");
        let p = ports
            .iter()
            .find(|p| str_at(p, "name") == str_at(&sp, "name"))
            .or(if ports.len() == 1 {
                ports.first()
            } else {
                None
            })
            .and_then(|p| p.get("port").and_then(Value::as_i64))
            .and_then(|p| u16::try_from(p).ok());
        if let Some(p) = p {
            return Ok(Target {
                server_name: format!("{name}.{ns}.svc"),
                address: (ip.to_string(), p),
                path: path.to_string(),
                url,
            });
        }
    }
    Err(no_endpoint())
}

/// One call; `Err` is a failure the failure policy judges.
async fn call(
    store: &Store,
    w: &Value,
    req: &Request<'_>,
    (object, old): (&Value, &Value),
) -> Result<review::Response, String> {
    let t = target(store, w).await?;
    let ca = str_at(w.get("clientConfig").unwrap_or(&Value::Null), "caBundle");
    let ca = base64::engine::general_purpose::STANDARD
        .decode(ca)
        .map_err(|e| format!("invalid caBundle: {e}"))?;
    let uid = crate::registry::meta::new_uid();
    let body = review::request(&uid, req, object, old, req.operation.as_str()).to_string();
    let timeout = Duration::from_secs(
        w.get("timeoutSeconds")
            .and_then(Value::as_u64)
            .unwrap_or(10),
    );
    let resp = client::post(&t, Some(&ca), body.into_bytes(), timeout)
        .await
        .map_err(|e| format!("failed to call webhook: {e}"))?;
    review::parse(&resp, &uid)
}

/// Upstream's `ToStatusErr`: `admission webhook "<name>" denied the request: <message>`.
fn denied(name: &str, status: &Value) -> ApiError {
    let by = format!("admission webhook \"{name}\" denied the request");
    let message = match (str_at(status, "message"), str_at(status, "reason")) {
        ("", "") => format!("{by} without explanation"),
        ("", r) => format!("{by}: {r}"),
        (m, _) => format!("{by}: {m}"),
    };
    let code = status
        .get("code")
        .and_then(Value::as_u64)
        .and_then(|c| u16::try_from(c).ok())
        .filter(|c| *c >= 400)
        .unwrap_or(400);
    let reason = match str_at(status, "reason") {
        "Forbidden" => "Forbidden",
        "Invalid" => "Invalid",
        "Unauthorized" => "Unauthorized",
        "BadRequest" => "BadRequest",
        "NotFound" => "NotFound",
        "Conflict" => "Conflict",
        _ => "",
    };
    let mut e = ApiError::new(code, reason, message);
    if let Some(d) = status.get("details").filter(|d| d.is_object()) {
        e.details = d.clone();
    }
    e
}

/// A failed call: 500 under Fail, nothing under Ignore.
fn failed(w: &Value, why: &str) -> Option<ApiError> {
    (str_at(w, "failurePolicy") != "Ignore").then(|| {
        ApiError::internal(format!(
            "failed calling webhook \"{}\": {why}",
            str_at(w, "name")
        ))
    })
}

fn sides<'a>(req: &Request<'a>, obj: &'a Value, null: &'a Value) -> (&'a Value, &'a Value) {
    match req.operation {
        Operation::Delete => (null, req.old.unwrap_or(obj)),
        _ => (obj, req.old.unwrap_or(null)),
    }
}

/// The mutating phase: patches from each selected webhook, in order.
pub async fn admit(store: &Store, req: &Request<'_>, obj: &mut Value) -> Result<(), ApiError> {
    if exempt(req) {
        return Ok(());
    }
    let hooks = webhooks(store, MUTATING).await?;
    let null = Value::Null;
    for w in &hooks {
        let current = obj.clone();
        let sides = sides(req, &current, &null);
        let resp = match selects(store, w, req, sides).await? {
            Ok(false) => continue,
            Ok(true) => call(store, w, req, sides).await,
            Err(e) => Err(e),
        };
        let resp = match resp {
            Ok(r) => r,
            Err(why) => match failed(w, &why) {
                Some(e) => return Err(e),
                None => continue,
            },
        };
        if let Some(s) = &store.scope {
            s.warn(resp.warnings.clone());
        }
        if !resp.allowed {
            return Err(denied(str_at(w, "name"), &resp.status));
        }
        if let Some(p) = &resp.patch
            && req.operation != Operation::Delete
        {
            *obj = crate::registry::patch::json_patch::apply(obj, p).map_err(|e| {
                ApiError::internal(format!(
                    "failed calling webhook \"{}\": JSON Patch: {}",
                    str_at(w, "name"),
                    e.message
                ))
            })?;
        }
    }
    Ok(())
}

/// The validating phase; returns the webhooks' warnings.
pub async fn validate(
    store: &Store,
    req: &Request<'_>,
    obj: &Value,
) -> Result<Vec<String>, ApiError> {
    if exempt(req) {
        return Ok(Vec::new());
    }
    let hooks = webhooks(store, VALIDATING).await?;
    let null = Value::Null;
    let sides = sides(req, obj, &null);
    let mut warnings = Vec::new();
    for w in &hooks {
        let resp = match selects(store, w, req, sides).await? {
            Ok(false) => continue,
            Ok(true) => call(store, w, req, sides).await,
            Err(e) => Err(e),
        };
        match resp {
            Ok(r) if r.allowed => warnings.extend(r.warnings),
            Ok(r) => return Err(denied(str_at(w, "name"), &r.status)),
            Err(why) => {
                if let Some(e) = failed(w, &why) {
                    return Err(e);
                }
            }
        }
    }
    Ok(warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denials_follow_to_status_err() {
        let e = denied(
            "deny.example.com",
            &json!({"code": 403, "reason": "Forbidden", "message": "no web"}),
        );
        assert_eq!((e.code, e.reason), (403, "Forbidden"));
        assert_eq!(
            e.message,
            "admission webhook \"deny.example.com\" denied the request: no web"
        );
        let e = denied("d.example.com", &json!({"code": 200}));
        assert_eq!(e.code, 400);
        assert_eq!(
            e.message,
            "admission webhook \"d.example.com\" denied the request without explanation"
        );
        let fail = json!({"name": "h.example.com", "failurePolicy": "Fail"});
        let e = failed(&fail, "failed to call webhook: Post \"https://x\": refused").expect("Fail");
        assert_eq!(e.code, 500);
        assert_eq!(
            e.message,
            "Internal error occurred: failed calling webhook \"h.example.com\": failed to call webhook: Post \"https://x\": refused"
        );
        assert!(failed(&json!({"failurePolicy": "Ignore"}), "x").is_none());
    }
}
