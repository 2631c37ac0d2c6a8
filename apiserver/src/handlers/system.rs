//! Non-resource paths: health checks, `/version`, discovery, `/metrics`.

use super::{AppState, Body, Ctx, json_response, respond};
use crate::discovery;
use crate::status::ApiError;
use http::{Method, Response};
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// One named health check's outcome.
struct Check {
    name: &'static str,
    ok: bool,
}

async fn run_checks(state: &AppState, which: &str) -> Vec<Check> {
    let mut checks = vec![
        Check {
            name: "ping",
            ok: true,
        },
        Check {
            name: "log",
            ok: true,
        },
    ];
    // As upstream, the etcd check is part of healthz, livez and readyz;
    // readyz adds etcd-readiness (same probe here: one read under the
    // request deadline).
    let etcd_ok = state.store.etcd.check().await.is_ok();
    checks.push(Check {
        name: "etcd",
        ok: etcd_ok,
    });
    if which == "readyz" {
        checks.push(Check {
            name: "etcd-readiness",
            ok: etcd_ok,
        });
        checks.push(Check {
            name: "poststarthook/bootstrap-controller",
            ok: state.started.load(Ordering::Relaxed),
        });
        checks.push(Check {
            name: "poststarthook/crd-informer-synced",
            ok: crate::apiextensions::controller::synced(),
        });
    }
    checks
}

/// `/healthz`, `/livez`, `/readyz` (and `/<which>/<check>`), upstream's
/// text format; `?verbose` lists every check.
async fn health(
    state: &AppState,
    ctx: &Ctx,
    which: &str,
    single: Option<&str>,
) -> Result<Response<Body>, ApiError> {
    let mut checks = run_checks(state, which).await;
    if let Some(name) = single {
        checks.retain(|c| c.name == name);
        if checks.is_empty() {
            return Err(ApiError::not_found_path());
        }
    }
    let ok = checks.iter().all(|c| c.ok);
    let verbose = ctx.query.contains_key("verbose") || !ok;
    let mut text = String::new();
    if verbose {
        for c in &checks {
            if c.ok {
                text.push_str(&format!("[+]{} ok\n", c.name));
            } else {
                text.push_str(&format!("[-]{} failed: reason withheld\n", c.name));
            }
        }
        text.push_str(&format!(
            "{which} check {}\n",
            if ok { "passed" } else { "failed" }
        ));
    } else {
        text.push_str("ok");
    }
    Ok(respond(
        if ok { 200 } else { 500 },
        "text/plain; charset=utf-8",
        text.into_bytes(),
    ))
}

pub async fn serve_non_resource(
    state: &Arc<AppState>,
    ctx: &Ctx,
) -> Result<Response<Body>, ApiError> {
    let path = ctx.info.path.trim_end_matches('/');
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if ctx.method != Method::GET && ctx.method != Method::HEAD {
        return match segs.first() {
            Some(&("api" | "apis" | "healthz" | "livez" | "readyz" | "version" | "metrics")) => {
                Err(ApiError::new(
                    405,
                    "MethodNotAllowed",
                    format!(
                        "the server does not allow this method on the requested resource ({} {})",
                        ctx.method, path
                    ),
                ))
            }
            _ => Err(ApiError::not_found_path()),
        };
    }
    let accept = ctx.header("accept");
    match segs.as_slice() {
        [which @ ("healthz" | "livez" | "readyz")] => health(state, ctx, which, None).await,
        [which @ ("healthz" | "livez" | "readyz"), check @ ..] => {
            let name = check.join("/");
            health(state, ctx, which, Some(&name)).await
        }
        ["version"] => Ok(json_response(200, &discovery::version())),
        [".well-known", "openid-configuration"] | ["openid", "v1", "jwks"] => {
            let Some(d) = &state.issuer_discovery else {
                return Err(ApiError::not_found_path());
            };
            let mut r = if segs[0] == "openid" {
                respond(200, "application/jwk-set+json", d.jwks.clone())
            } else {
                respond(200, "application/json", d.configuration.clone())
            };
            r.headers_mut().insert(
                http::header::CACHE_CONTROL,
                http::HeaderValue::from_static("public, max-age=3600"),
            );
            Ok(r)
        }
        ["metrics"] => Ok(respond(200, "text/plain; version=0.0.4", {
            let mut m = state.metrics.render();
            if let Some(c) = &state.store.cacher {
                m.push_str(&c.render_metrics());
            }
            m.into_bytes()
        })),
        ["api"] => {
            if discovery::wants_aggregated(accept) {
                Ok(aggregated(discovery::aggregated(true)))
            } else {
                Ok(json_response(
                    200,
                    &discovery::api_versions(&state.advertise),
                ))
            }
        }
        ["apis"] => {
            if discovery::wants_aggregated(accept) {
                Ok(aggregated(discovery::aggregated(false)))
            } else {
                Ok(json_response(200, &discovery::api_group_list()))
            }
        }
        ["api", version] => discovery::api_resource_list("", version)
            .map(|v| json_response(200, &v))
            .ok_or_else(ApiError::not_found_path),
        ["apis", group] => discovery::api_group(group)
            .map(|v| json_response(200, &v))
            .ok_or_else(ApiError::not_found_path),
        ["apis", group, version] => discovery::api_resource_list(group, version)
            .map(|v| json_response(200, &v))
            .ok_or_else(ApiError::not_found_path),
        ["openapi", rest @ ..] => crate::openapi::serve(ctx, rest),
        _ => Err(ApiError::not_found_path()),
    }
}

fn aggregated(v: serde_json::Value) -> Response<Body> {
    respond(
        200,
        discovery::AGGREGATED_V2,
        serde_json::to_vec(&v).unwrap_or_default(),
    )
}
