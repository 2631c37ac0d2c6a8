//! Virtual resources answered on the fly: reviews (`kubectl auth can-i`,
//! `kubectl auth whoami`, token and access reviews) and componentstatuses.

use super::request::RequestInfo;
use super::{AppState, Body, Ctx, json_response};
use crate::authn::UserInfo;
use crate::authz::Decision;
use crate::resources::ResourceDef;
use crate::status::{ApiError, Target};
use http::Response;
use serde_json::{Value, json};

pub async fn serve(
    state: &AppState,
    ctx: &Ctx,
    def: &ResourceDef,
    body: &[u8],
) -> Result<Response<Body>, ApiError> {
    if def.plural == "componentstatuses" {
        return component_statuses(state, ctx).await;
    }
    let mut obj = super::encode::decode_body(ctx.header("content-type"), body)?;
    if !obj.is_object() {
        return Err(ApiError::bad_request(
            "the body of the request must be an object",
        ));
    }
    obj["apiVersion"] = json!(def.api_version());
    obj["kind"] = json!(def.kind);
    let status = match def.plural {
        "selfsubjectreviews" => json!({ "userInfo": ctx.user.to_json() }),
        "tokenreviews" => {
            let token = obj
                .pointer("/spec/token")
                .and_then(Value::as_str)
                .unwrap_or("");
            let found = match state.tokens.as_ref().and_then(|t| t.lookup(token).cloned()) {
                Some(u) => Some(u),
                None => {
                    state
                        .sa_tokens
                        .authenticate(&state.store, token, chrono::Utc::now().timestamp())
                        .await
                }
            };
            match found {
                Some(u) => {
                    json!({ "authenticated": true, "user": u.to_json(), "audiences": obj.pointer("/spec/audiences").cloned().unwrap_or(json!([])) })
                }
                None => json!({ "authenticated": false, "error": "invalid bearer token" }),
            }
        }
        "selfsubjectaccessreviews" => {
            access(state, &ctx.user, obj.get("spec").unwrap_or(&Value::Null))
        }
        "subjectaccessreviews" | "localsubjectaccessreviews" => {
            let spec = obj.get("spec").cloned().unwrap_or(Value::Null);
            let user = UserInfo {
                name: spec
                    .get("user")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                uid: spec
                    .get("uid")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                groups: spec
                    .get("groups")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|g| g.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default(),
            };
            access(state, &user, &spec)
        }
        "selfsubjectrulesreviews" => {
            let ns = obj
                .pointer("/spec/namespace")
                .and_then(Value::as_str)
                .unwrap_or("");
            let (resource, non_resource) = state.authorizer.rbac.rules_for(&ctx.user, ns);
            let mut status = json!({ "resourceRules": resource, "nonResourceRules": non_resource, "incomplete": false });
            if let Some(err) = state.authorizer.rules_incomplete(&ctx.user) {
                status["incomplete"] = json!(true);
                status["evaluationError"] = json!(err);
            }
            status
        }
        _ => {
            return Err(ApiError::method_not_supported(
                Target {
                    group: def.group,
                    resource: def.plural,
                    name: "",
                },
                "create",
            ));
        }
    };
    obj["status"] = status;
    if obj.get("metadata").is_none() {
        obj["metadata"] = json!({});
    }
    Ok(json_response(201, &obj))
}

/// Runs the authorizer for the attributes of an access review spec.
fn access(state: &AppState, user: &UserInfo, spec: &Value) -> Value {
    let info = if let Some(ra) = spec.get("resourceAttributes") {
        let s = |k: &str| ra.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        RequestInfo {
            is_resource_request: true,
            verb: s("verb"),
            api_group: s("group"),
            api_version: s("version"),
            namespace: s("namespace"),
            resource: s("resource"),
            subresource: s("subresource"),
            name: s("name"),
            field_selector: ra
                .pointer("/fieldSelector/rawSelector")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            ..Default::default()
        }
    } else {
        let nra = spec
            .get("nonResourceAttributes")
            .cloned()
            .unwrap_or(Value::Null);
        RequestInfo {
            is_resource_request: false,
            verb: nra
                .get("verb")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            path: nra
                .get("path")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            ..Default::default()
        }
    };
    match state.authorizer.authorize(user, &info) {
        Decision::Allow => json!({ "allowed": true }),
        Decision::Deny(reason) => {
            let mut v = json!({ "allowed": false });
            if !reason.is_empty() {
                v["reason"] = json!(reason);
            }
            v
        }
    }
}

/// `kubectl get cs`: etcd from a live check; scheduler and
/// controller-manager from their healthz ports on this host.
async fn component_statuses(state: &AppState, ctx: &Ctx) -> Result<Response<Body>, ApiError> {
    if ctx.info.verb != "get" && ctx.info.verb != "list" {
        return Err(ApiError::method_not_supported(
            Target {
                group: "",
                resource: "componentstatuses",
                name: &ctx.info.name,
            },
            &ctx.info.verb,
        ));
    }
    let etcd = state.store.etcd.check().await;
    let etcd_cond = match etcd {
        Ok(()) => json!({"type": "Healthy", "status": "True", "message": "ok"}),
        Err(e) => json!({"type": "Healthy", "status": "False", "error": e.to_string()}),
    };
    let mut items = vec![component("etcd-0", etcd_cond)];
    for (name, port) in [("scheduler", 10259u16), ("controller-manager", 10257u16)] {
        let healthy = probe_healthz(port).await;
        let cond = match healthy {
            Ok(()) => json!({"type": "Healthy", "status": "True", "message": "ok"}),
            Err(e) => json!({"type": "Healthy", "status": "False", "error": e}),
        };
        items.push(component(name, cond));
    }
    let obj = if ctx.info.name.is_empty() {
        json!({"kind": "ComponentStatusList", "apiVersion": "v1", "metadata": {}, "items": items})
    } else {
        items
            .into_iter()
            .find(|i| i["metadata"]["name"] == ctx.info.name.as_str())
            .ok_or_else(|| {
                ApiError::not_found(Target {
                    group: "",
                    resource: "componentstatuses",
                    name: &ctx.info.name,
                })
            })?
    };
    let out = super::encode::negotiate(ctx.header("accept"), ctx.q("includeObject"))?;
    let def = crate::resources::lookup("", "v1", "componentstatuses")
        .ok_or_else(ApiError::not_found_path)?;
    Ok(super::crud::reply(def, out, 200, obj))
}

fn component(name: &str, condition: Value) -> Value {
    json!({
        "kind": "ComponentStatus",
        "apiVersion": "v1",
        "metadata": { "name": name },
        "conditions": [condition],
    })
}

/// Is something listening with TLS on 127.0.0.1:`port` and answering
/// `/healthz` with "ok"? The components serve self-signed certificates, so
/// this only checks liveness, as upstream's componentstatus probe does.
async fn probe_healthz(port: u16) -> Result<(), String> {
    let addr = format!("127.0.0.1:{port}");
    let connect = tokio::time::timeout(
        std::time::Duration::from_secs(1),
        tokio::net::TcpStream::connect(&addr),
    )
    .await;
    match connect {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => {
            let why = match e.kind() {
                std::io::ErrorKind::ConnectionRefused => "connection refused".to_string(),
                _ => e.to_string(),
            };
            Err(format!(
                "Get \"https://{addr}/healthz\": dial tcp {addr}: connect: {why}"
            ))
        }
        Err(_) => Err(format!(
            "Get \"https://{addr}/healthz\": dial tcp {addr}: i/o timeout"
        )),
    }
}
