//! Connect subresources: `pods/{log,exec,attach,portforward,proxy}`,
//! `services/proxy` and `nodes/proxy`. The apiserver authorises the
//! request, finds the node and the kubelet path ([`location`]), then hands
//! the request to a [`NodeConnection`]. Until the kubelet exists the
//! connection is [`NoKubelet`], which answers at once with 503
//! "no kubelet reachable for node X": a later issue only plugs in a
//! connection that dials the kubelet with `--kubelet-client-certificate/-key`.

pub mod location;

use crate::authz::{self, Decision};
use crate::handlers::{AppState, Body, Ctx};
use crate::resources::{self, ResourceDef};
use crate::status::{ApiError, Target};
use http::{Method, Response};
use serde_json::Value;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

/// The subresources served by connecting to something behind the
/// apiserver, and the verbs each accepts (upstream's).
pub fn connect_verbs(def: &ResourceDef, sub: &str) -> Option<&'static [&'static str]> {
    const PROXY: &[&str] = &["create", "delete", "get", "patch", "update"];
    match (def.group, def.plural, sub) {
        ("", "pods", "log") => Some(&["get"]),
        ("", "pods", "exec" | "attach" | "portforward") => Some(&["create", "get"]),
        ("", "pods" | "services" | "nodes", "proxy") => Some(PROXY),
        _ => None,
    }
}

/// One request for a kubelet.
#[derive(Debug, Clone)]
pub struct KubeletRequest {
    pub node: String,
    /// The kubelet's host and port, when the Node reports an address.
    pub address: Option<(String, u16)>,
    pub method: Method,
    /// Path and query on the kubelet.
    pub path: String,
    pub headers: http::HeaderMap,
}

/// Why a kubelet could not be reached.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("no kubelet reachable for node {0}")]
    NoKubelet(String),
}

impl ConnectError {
    pub fn to_api(&self) -> ApiError {
        ApiError::new(503, "ServiceUnavailable", self.to_string())
    }
}

pub type ConnectFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Response<Body>, ConnectError>> + Send + 'a>>;

/// How the apiserver reaches a node's kubelet (streams included: the
/// answer may be a 101 upgrade the caller splices through).
pub trait NodeConnection: Send + Sync {
    fn connect<'a>(&'a self, req: KubeletRequest) -> ConnectFuture<'a>;
}

/// The connection while no kubelet client exists: every node is
/// unreachable, answered immediately (never a hang).
pub struct NoKubelet {
    /// `--kubelet-client-certificate` / `--kubelet-client-key`, kept for
    /// the connection that will use them.
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
}

impl NodeConnection for NoKubelet {
    fn connect<'a>(&'a self, req: KubeletRequest) -> ConnectFuture<'a> {
        Box::pin(async move { Err(ConnectError::NoKubelet(req.node)) })
    }
}

/// Exec, attach and port-forward over a WebSocket arrive as GET; upstream
/// also requires `create` for them, so a read-only user cannot run
/// commands.
fn authorize_create(state: &AppState, ctx: &Ctx) -> Result<(), ApiError> {
    let mut info = ctx.info.clone();
    info.verb = "create".into();
    match state.authorizer.authorize(&ctx.user, &info) {
        Decision::Allow => Ok(()),
        Decision::Deny(reason) => {
            let mut e = ApiError::forbidden(authz::forbidden_message(&ctx.user, &info, &reason));
            e.details = serde_json::json!({"name": info.name, "kind": info.resource});
            Err(e)
        }
    }
}

/// The path after `<resource>/<name>/proxy` (`/` when none).
fn proxied_path(ctx: &Ctx) -> String {
    let parts = &ctx.info.parts;
    let rest = parts
        .iter()
        .position(|p| p == "proxy")
        .map(|i| parts[i + 1..].join("/"))
        .unwrap_or_default();
    format!("/{rest}")
}

/// Serves a connect subresource (the caller checked it is one).
pub async fn serve(
    state: &Arc<AppState>,
    ctx: &Ctx,
    def: &'static ResourceDef,
    ns: &str,
) -> Result<Response<Body>, ApiError> {
    let info = &ctx.info;
    let sub = info.subresource.as_str();
    let verbs = connect_verbs(def, sub).unwrap_or(&[]);
    if !verbs.contains(&info.verb.as_str()) {
        let target = Target {
            group: def.group,
            resource: def.plural,
            name: &info.name,
        };
        return Err(ApiError::method_not_supported(target, &info.verb));
    }
    if matches!(sub, "exec" | "attach" | "portforward") && info.verb == "get" {
        authorize_create(state, ctx)?;
    }
    let store = &state.store;
    let (node_name, path) = match def.plural {
        "pods" => {
            let pod = store.get(def, ns, &info.name).await?;
            if sub == "log" && location::pod_node(&pod).is_err() {
                // Upstream streams nothing for a pod not yet on a node.
                location::container_name(&pod, ctx.q("container"))?;
                return Ok(crate::handlers::respond(200, "text/plain", Vec::new()));
            }
            if sub == "proxy" {
                (location::pod_node(&pod)?, proxied_path(ctx))
            } else {
                let loc = location::pod_location(&pod, sub, &ctx.query, ctx.raw_query())?;
                (loc.node, loc.path)
            }
        }
        "services" => {
            store.get(def, ns, &info.name).await?;
            return Err(service_unreachable(state, ns, &info.name).await);
        }
        _ => (info.name.clone(), proxied_path(ctx)),
    };
    let nodes = resources::lookup("", "v1", "nodes").ok_or_else(ApiError::not_found_path)?;
    let address = match store.get(nodes, "", &node_name).await {
        Ok(n) => location::kubelet_address(&n),
        Err(e) if e.code == 404 => None,
        Err(e) => return Err(e),
    };
    let req = KubeletRequest {
        node: node_name,
        address,
        method: ctx.method.clone(),
        path,
        headers: ctx.headers.clone(),
    };
    state.kubelet.connect(req).await.map_err(|e| e.to_api())
}

/// services/proxy: the apiserver has no route to endpoints yet; say
/// whether there were any, as upstream does when there are none.
async fn service_unreachable(state: &AppState, ns: &str, name: &str) -> ApiError {
    let has_endpoints = match resources::lookup("", "v1", "endpoints") {
        Some(def) => state.store.get(def, ns, name).await.is_ok_and(|ep| {
            ep.get("subsets")
                .and_then(Value::as_array)
                .is_some_and(|s| {
                    s.iter().any(|subset| {
                        subset
                            .get("addresses")
                            .and_then(Value::as_array)
                            .is_some_and(|a| !a.is_empty())
                    })
                })
        }),
        None => false,
    };
    let msg = if has_endpoints {
        format!("no route from the apiserver to the endpoints of service \"{name}\"")
    } else {
        format!("no endpoints available for service \"{name}\"")
    };
    ApiError::new(503, "ServiceUnavailable", msg)
}
