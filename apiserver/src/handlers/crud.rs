//! Resource requests: find the resource, check the verb, decode the body,
//! call the generic store and encode the answer.

use super::encode::{self, Output};
use super::escalation;
use super::{AppState, Body, Ctx, read_body, respond};
use crate::registry::apply::{Apply, managed::Manager, options};
use crate::registry::fieldcheck::{self, FieldValidation};
use crate::registry::patch::{self, PatchType};
use crate::registry::{DeleteOptions, DeleteOutcome, ListOptions, meta};
use crate::resources::{self, ResourceDef, Storage};
use crate::status::{ApiError, Target};
use http::Response;
use serde_json::{Value, json};
use std::sync::Arc;

fn not_found_resource() -> ApiError {
    ApiError::not_found_path()
}

pub async fn serve_resource(
    state: &Arc<AppState>,
    ctx: &Ctx,
    body: hyper::body::Incoming,
) -> Result<Response<Body>, ApiError> {
    let info = &ctx.info;
    let def = resources::lookup(&info.api_group, &info.api_version, &info.resource)
        .ok_or_else(not_found_resource)?;
    let verb = info.verb.as_str();
    let target = Target {
        group: def.group,
        resource: def.plural,
        name: &info.name,
    };
    // A cluster-scoped resource under /namespaces/<ns>/ does not exist.
    if !def.namespaced && !info.namespace.is_empty() && def.plural != "namespaces" {
        return Err(not_found_resource());
    }
    if !info.subresource.is_empty() && !def.subresources.contains(&info.subresource.as_str()) {
        return Err(not_found_resource());
    }
    if crate::proxy::connect_verbs(def, &info.subresource).is_some() {
        return crate::proxy::serve(state, ctx, def, &info.namespace).await;
    }
    if info.subresource.is_empty() && !def.supports(verb) {
        return Err(ApiError::method_not_supported(target, verb));
    }
    if def.namespaced && info.namespace.is_empty() && verb == "create" {
        return Err(ApiError::method_not_supported(target, verb));
    }
    let printable = match (def.storage, info.subresource.as_str()) {
        (Storage::Virtual, _) => def.plural == "componentstatuses",
        (_, "token" | "binding" | "eviction") => false,
        _ => true,
    };
    if !printable {
        encode::negotiate_without_table(ctx.header("accept"))?;
    }
    if def.storage == Storage::Virtual {
        let body = read_body(body).await?;
        if def.kind == "Binding" {
            return legacy_binding(state, ctx, &info.namespace, body).await;
        }
        return super::reviews::serve(state, ctx, def, &body).await;
    }
    let out = encode::negotiate(ctx.header("accept"), ctx.q("includeObject"))?;
    // Upstream reads a write's body before it decodes and checks the
    // options, so an options error never leaves the body unread (a reused
    // HTTP/1.1 connection, an HTTP/2 stream reset under the client).
    let body = if matches!(
        verb,
        "create" | "update" | "patch" | "delete" | "deletecollection"
    ) {
        read_body(body).await?
    } else {
        bytes::Bytes::new()
    };
    let ns = if def.namespaced {
        info.namespace.as_str()
    } else {
        ""
    };
    // Admission sees the requester and hands back its warnings here.
    let scope = Arc::new(crate::admission::RequestScope::new(ctx.user.clone()));
    let store = &state.store.for_request(scope.clone());
    let sub = info.subresource.as_str();
    let dry_run = match verb {
        "create" => options::dry_run("CreateOptions", ctx.q("dryRun"))?,
        "update" => options::dry_run("UpdateOptions", ctx.q("dryRun"))?,
        "patch" => options::dry_run("PatchOptions", ctx.q("dryRun"))?,
        "delete" | "deletecollection" => options::dry_run("DeleteOptions", ctx.q("dryRun"))?,
        _ => false,
    };
    let manager = |operation: &'static str| Manager {
        name: Manager::name_from(ctx.q("fieldManager"), ctx.header("user-agent")),
        operation,
        api_version: def.api_version(),
        subresource: sub.to_string(),
    };
    if matches!(verb, "create" | "update") {
        let kind = if verb == "create" {
            "CreateOptions"
        } else {
            "UpdateOptions"
        };
        options::check_manager(kind, ctx.q("fieldManager"), None, false)?;
    }
    match (verb, sub) {
        ("get", "" | "status" | "approval") => {
            let obj = store.get(def, ns, &info.name).await?;
            Ok(reply(def, out, 200, obj))
        }
        ("get", "scale") => {
            let obj = store.get(def, ns, &info.name).await?;
            Ok(reply_json(200, &scale_of(def, &obj)))
        }
        ("list", "") => {
            super::request::check_list_options(&ctx.query)?;
            let obj = store.list(def, ns, &list_options(ctx)).await?;
            Ok(reply(def, out, 200, obj))
        }
        ("watch", "") => {
            super::request::check_list_options(&ctx.query)?;
            super::watch::serve(state, ctx, def, ns, out).await
        }
        ("create", "") => {
            crate::apiextensions::check_create_allowed(def)?;
            let (obj, warnings) = decode_checked(ctx, def, body)?;
            escalation::check(&state.authorizer.rbac, &ctx.user, def, ns, &obj)?;
            let created = store
                .create_as(def, ns, obj, dry_run, Some(&manager("Update")))
                .await?;
            let warnings = [warnings, scope.take_warnings()].concat();
            Ok(with_warnings(reply(def, out, 201, created), &warnings))
        }
        ("create", "token") => {
            let req = decode(ctx, body)?;
            token_request(state, def, ns, &info.name, req).await
        }
        ("create", "binding") => {
            let binding = decode(ctx, body)?;
            bind_pod(state, def, ns, &info.name, &binding, dry_run).await
        }
        ("create", "eviction") => {
            let _ = decode(ctx, body)?;
            super::eviction::charge_budget(store, ns, &info.name, dry_run).await?;
            store
                .delete(
                    def,
                    ns,
                    &info.name,
                    &DeleteOptions {
                        dry_run,
                        ..Default::default()
                    },
                )
                .await?;
            Ok(reply_json(
                201,
                &crate::status::success(json!({"name": info.name, "kind": "pods"})),
            ))
        }
        ("update", "" | "status" | "finalize" | "approval") => {
            let (obj, warnings) = decode_checked(ctx, def, body)?;
            csr_signer_check(state, ctx, def, ns, &obj).await?;
            escalation::check(&state.authorizer.rbac, &ctx.user, def, ns, &obj)?;
            let updated = store
                .update_as(
                    def,
                    ns,
                    &info.name,
                    sub,
                    obj,
                    dry_run,
                    Some(&manager("Update")),
                )
                .await?;
            let warnings = [warnings, scope.take_warnings()].concat();
            Ok(with_warnings(reply(def, out, 200, updated), &warnings))
        }
        ("patch", "" | "status" | "approval") => {
            let kind = patch_type(ctx)?;
            // Custom resources have no patch strategies (upstream: 415).
            if kind == PatchType::Strategic && crate::apiextensions::is_custom(def) {
                return Err(crate::apiextensions::strategic_merge_refused());
            }
            let is_apply = kind == PatchType::Apply;
            let force = options::check_manager(
                "PatchOptions",
                ctx.q("fieldManager"),
                ctx.q("force"),
                is_apply,
            )?;
            let mode = FieldValidation::from_query(ctx.q("fieldValidation"))?;
            let mut yaml_warnings = Vec::new();
            if is_apply && let Some(dup) = options::yaml_duplicate(&body) {
                match mode {
                    FieldValidation::Strict => {
                        return Err(ApiError::bad_request(format!(
                            "error strict decoding YAML: {dup}"
                        )));
                    }
                    FieldValidation::Warn => yaml_warnings.push(dup),
                    FieldValidation::Ignore => {}
                }
            }
            let warnings = std::sync::Mutex::new(Vec::new());
            let (types, root) = patch::types::for_resource(def);
            // Type fit (JSON, merge and strategic patches were checked as
            // they were applied), RBAC escalation and fieldValidation on the
            // object a change makes.
            let admit = |cur: Option<&Value>, mut new: Value| -> Result<Value, ApiError> {
                if let Some(e) = root
                    .as_deref()
                    .filter(|_| is_apply)
                    .and_then(|r| patch::typecheck::first_mismatch(r, &new))
                {
                    return Err(ApiError::invalid(
                        def.kind,
                        def.group,
                        meta::name(&new),
                        &vec![e],
                    ));
                }
                escalation::check(&state.authorizer.rbac, &ctx.user, def, ns, &new)?;
                if let Some(cur) = cur
                    && let Some(v) = csr_signer_verb(sub, &new, cur)
                {
                    super::csr::authorize_signer(state, ctx, def, cur, v)?;
                }
                let unknown = unknown_fields(def, &new);
                let found = fieldcheck::problems(&[], &[], &unknown);
                if mode != FieldValidation::Strict {
                    fieldcheck::prune(&mut new, &unknown);
                }
                match mode {
                    FieldValidation::Strict if !found.is_empty() => {
                        Err(fieldcheck::strict_error(def.kind, def.version, &found))
                    }
                    FieldValidation::Warn => {
                        if let Ok(mut w) = warnings.lock() {
                            *w = found;
                        }
                        Ok(new)
                    }
                    _ => Ok(new),
                }
            };
            let (code, updated) = if is_apply {
                let applied = options::decode_applied(&body)?;
                if crate::apiextensions::is_custom(def) {
                    typed_patch_fits(def, &applied)?;
                }
                let apply = Apply {
                    manager: manager("Apply"),
                    force,
                    types,
                    def: root.as_deref(),
                    now: meta::now_rfc3339(),
                };
                let change = |cur: &Value| admit(Some(cur), apply.to_live(cur, &applied)?);
                match store
                    .patch_as(def, ns, &info.name, sub, dry_run, &change, None)
                    .await
                {
                    Err(e) if e.code == 404 && sub.is_empty() => {
                        let mut obj = apply.to_new(&applied);
                        let body_name = meta::name(&obj).to_string();
                        if !body_name.is_empty() && body_name != info.name {
                            return Err(ApiError::bad_request(format!(
                                "the name of the object ({body_name}) does not match the name on the URL ({})",
                                info.name
                            )));
                        }
                        obj["metadata"]["name"] = json!(info.name);
                        let obj = admit(None, obj)?;
                        (201, store.create(def, ns, obj, dry_run).await?)
                    }
                    other => (200, other?),
                }
            } else {
                let p = decode_patch(body)?;
                let change = |cur: &Value| -> Result<Value, ApiError> {
                    admit(
                        Some(cur),
                        patch::apply(kind, types, root.as_deref(), cur, &p)?,
                    )
                };
                let m = manager("Update");
                let updated = store
                    .patch_as(def, ns, &info.name, sub, dry_run, &change, Some(&m))
                    .await?;
                (200, updated)
            };
            let warnings = [
                yaml_warnings,
                warnings.into_inner().unwrap_or_default(),
                scope.take_warnings(),
            ]
            .concat();
            Ok(with_warnings(reply(def, out, code, updated), &warnings))
        }
        ("update" | "patch", "scale") => {
            let kind = if verb == "patch" {
                Some(patch_type(ctx)?)
            } else {
                None
            };
            if kind == Some(PatchType::Apply) {
                return apply_scale(ctx, store, def, ns, dry_run, body).await;
            }
            let body = decode_patch(body)?;
            let change = move |cur: &Value| -> Result<Value, ApiError> {
                let scale = scale_of(def, cur);
                let new_scale = match kind {
                    Some(k) => patch::apply(k, &patch::types::Guessed, None, &scale, &body)?,
                    None => body.clone(),
                };
                let replicas = new_scale
                    .pointer("/spec/replicas")
                    .and_then(Value::as_i64)
                    .unwrap_or(0);
                let mut obj = cur.clone();
                match crate::apiextensions::scale::paths(def) {
                    Some(p) => crate::apiextensions::scale::set_replicas(&p, &mut obj, replicas),
                    None => obj["spec"]["replicas"] = json!(replicas),
                }
                // A resourceVersion in the Scale is a precondition on the
                // object (409 when stale); without one the write retries.
                if let Some(rv) = new_scale
                    .pointer("/metadata/resourceVersion")
                    .and_then(Value::as_str)
                    .filter(|rv| !rv.is_empty())
                {
                    obj["metadata"]["resourceVersion"] = json!(rv);
                }
                Ok(obj)
            };
            let mut m = manager("Update");
            m.subresource = "scale".into();
            let updated = store
                .patch_as(def, ns, &info.name, "", dry_run, &change, Some(&m))
                .await?;
            Ok(reply_json(200, &scale_of(def, &updated)))
        }
        ("delete", "") => {
            let opts = delete_options(ctx, &body)?;
            let outcome = store.delete(def, ns, &info.name, &opts).await?;
            let code = if matches!(outcome, DeleteOutcome::Marked(_)) {
                202
            } else {
                200
            };
            Ok(reply(def, out, code, outcome.into_object()))
        }
        ("deletecollection", "") => {
            super::request::check_list_options(&ctx.query)?;
            let opts = delete_options(ctx, &body)?;
            let list = store
                .delete_collection(def, ns, &list_options(ctx), &opts)
                .await?;
            Ok(reply(def, out, 200, list))
        }
        _ => Err(ApiError::method_not_supported(target, verb)),
    }
}

/// The signer permission a CSR subresource write needs, if any.
fn csr_signer_verb(sub: &str, new: &Value, old: &Value) -> Option<&'static str> {
    match sub {
        "approval" => Some("approve"),
        "status" if super::csr::sets_certificate(new, old) => Some("sign"),
        _ => None,
    }
}

/// CSR `/approval` and `/status` updates: the signer permission, checked
/// against the stored object (its signerName cannot change).
async fn csr_signer_check(
    state: &Arc<AppState>,
    ctx: &Ctx,
    def: &ResourceDef,
    ns: &str,
    new: &Value,
) -> Result<(), ApiError> {
    let sub = ctx.info.subresource.as_str();
    if def.plural != "certificatesigningrequests" || !matches!(sub, "approval" | "status") {
        return Ok(());
    }
    let cur = state.store.get(def, ns, &ctx.info.name).await?;
    match csr_signer_verb(sub, new, &cur) {
        Some(verb) => super::csr::authorize_signer(state, ctx, def, &cur, verb),
        None => Ok(()),
    }
}

/// An object or list in the negotiated encoding.
pub fn reply(def: &ResourceDef, out: Output, code: u16, mut v: Value) -> Response<Body> {
    // Custom resources are stored at the storage version; the answer
    // speaks the request's version.
    if v.get("kind").and_then(Value::as_str) == Some(def.kind)
        && crate::apiextensions::is_custom(def)
    {
        v["apiVersion"] = json!(def.api_version());
    }
    let shaped = encode::shape(def, out, v);
    let (ct, bytes) = encode::render(out, &shaped);
    respond(code, ct, bytes)
}

fn reply_json(code: u16, v: &Value) -> Response<Body> {
    super::json_response(code, v)
}

/// Upstream converts an applied custom resource to its schema's typed form
/// before merging, and a field the schema neither declares nor preserves
/// fails that conversion: a 500 whose Status has no reason, as upstream
/// answers errors that are not API errors.
fn typed_patch_fits(def: &ResourceDef, applied: &Value) -> Result<(), ApiError> {
    let unknown = crate::apiextensions::unknown_fields(def, applied);
    if unknown.is_empty() {
        return Ok(());
    }
    let errs: Vec<String> = unknown
        .iter()
        .map(|u| format!(".{u}: field not declared in schema"))
        .collect();
    let detail = match errs.as_slice() {
        [one] => one.clone(),
        many => format!("errors:\n  {}", many.join("\n  ")),
    };
    Err(ApiError::new(
        500,
        "",
        format!(
            "failed to create typed patch object ({}/{}, Kind={}): {detail}",
            def.group, def.version, def.kind
        ),
    ))
}

/// Unknown fields of a body: the typed schema's for built-in kinds, what
/// pruning drops for custom resources.
fn unknown_fields(def: &ResourceDef, obj: &Value) -> Vec<fieldcheck::UnknownField> {
    if crate::apiextensions::is_custom(def) {
        crate::apiextensions::unknown_fields(def, obj)
            .into_iter()
            .map(fieldcheck::UnknownField::reported)
            .collect()
    } else {
        fieldcheck::unknown_fields(def.group, def.version, def.kind, obj)
    }
}

/// Decodes a create/update body and applies `fieldValidation`: Strict
/// refuses unknown and duplicate fields, Warn returns them as warnings.
fn decode_checked(
    ctx: &Ctx,
    def: &ResourceDef,
    body: bytes::Bytes,
) -> Result<(Value, Vec<String>), ApiError> {
    let mode = FieldValidation::from_query(ctx.q("fieldValidation"))?;
    let is_json = ctx
        .header("content-type")
        .map(|c| c.split(';').next().unwrap_or("").trim() == "application/json")
        .unwrap_or(true);
    let (obj, dups) = if is_json {
        let (v, dups) = fieldcheck::parse_json(&body).map_err(|e| {
            ApiError::bad_request(format!("the body of the request could not be decoded: {e}"))
        })?;
        if !v.is_object() {
            return Err(ApiError::bad_request(
                "the body of the request must be an object",
            ));
        }
        (v, dups)
    } else {
        (decode(ctx, body.clone())?, Vec::new())
    };
    let unknown = unknown_fields(def, &obj);
    let found = fieldcheck::problems(&body, &dups, &unknown);
    if mode == FieldValidation::Strict && !found.is_empty() {
        return Err(fieldcheck::strict_error(def.kind, def.version, &found));
    }
    let mut obj = obj;
    fieldcheck::prune(&mut obj, &unknown);
    Ok((
        obj,
        if mode == FieldValidation::Warn {
            found
        } else {
            Vec::new()
        },
    ))
}

/// Adds one `Warning: 299 - "..."` header per problem.
fn with_warnings(mut r: Response<Body>, warnings: &[String]) -> Response<Body> {
    for w in warnings {
        let text = format!("299 - \"{}\"", w.replace('\\', "\\\\").replace('"', "\\\""));
        if let Ok(v) = http::HeaderValue::from_str(&text) {
            r.headers_mut().append(http::header::WARNING, v);
        }
    }
    r
}

fn decode(ctx: &Ctx, body: bytes::Bytes) -> Result<Value, ApiError> {
    let v = encode::decode_body(ctx.header("content-type"), &body)?;
    if !v.is_object() {
        return Err(ApiError::bad_request(
            "the body of the request must be an object",
        ));
    }
    Ok(v)
}

fn decode_patch(body: bytes::Bytes) -> Result<Value, ApiError> {
    serde_json::from_slice(&body)
        .or_else(|_| serde_yaml::from_slice::<Value>(&body))
        .map_err(|e| {
            ApiError::bad_request(format!("the body of the request could not be decoded: {e}"))
        })
}

fn patch_type(ctx: &Ctx) -> Result<PatchType, ApiError> {
    let ct = ctx.header("content-type").unwrap_or("");
    PatchType::from_content_type(ct).ok_or_else(|| ApiError::unsupported_media_type(ct))
}

pub fn list_options(ctx: &Ctx) -> ListOptions {
    ListOptions {
        label_selector: ctx.q("labelSelector").map(String::from),
        field_selector: ctx.q("fieldSelector").map(String::from),
        limit: super::request::query_int64(&ctx.query, "limit")
            .ok()
            .flatten()
            .unwrap_or(0),
        continue_token: ctx.q("continue").map(String::from),
        resource_version: ctx.q("resourceVersion").unwrap_or("").to_string(),
        resource_version_match: ctx.q("resourceVersionMatch").unwrap_or("").to_string(),
    }
}

/// `DeleteOptions` from the body (when given) and the query.
fn delete_options(ctx: &Ctx, body: &[u8]) -> Result<DeleteOptions, ApiError> {
    let mut o = DeleteOptions::default();
    if !body.iter().all(u8::is_ascii_whitespace) {
        let v = encode::decode_body(ctx.header("content-type"), body)?;
        // Upstream decodes the body into its DeleteOptions type: a value
        // of the wrong type is a 400 in the decoder's words, and a dryRun
        // other than `All` fails DeleteOptions' validation (422).
        crate::schema::typecheck::check(
            "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
            &v,
            crate::schema::typecheck::Decoder::Json,
        )
        .map_err(|e| ApiError::bad_request(e.message))?;
        if let Some(Value::Array(d)) = v.get("dryRun") {
            for x in d {
                options::dry_run("DeleteOptions", x.as_str())?;
            }
        }
        o.grace_period_seconds = v.get("gracePeriodSeconds").and_then(Value::as_i64);
        o.propagation_policy = v
            .get("propagationPolicy")
            .and_then(Value::as_str)
            .map(String::from);
        if v.get("orphanDependents").and_then(Value::as_bool) == Some(true)
            && o.propagation_policy.is_none()
        {
            o.propagation_policy = Some("Orphan".into());
        }
        o.precondition_uid = v
            .pointer("/preconditions/uid")
            .and_then(Value::as_str)
            .map(String::from);
        o.precondition_rv = v
            .pointer("/preconditions/resourceVersion")
            .and_then(Value::as_str)
            .map(String::from);
        o.dry_run = v
            .get("dryRun")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|x| x == "All"));
    }
    if let Some(g) = super::request::query_int64(&ctx.query, "gracePeriodSeconds")? {
        o.grace_period_seconds = Some(g);
    }
    if let Some(p) = ctx.q("propagationPolicy") {
        o.propagation_policy = Some(p.to_string());
    }
    if let Some(p) = &o.propagation_policy
        && !matches!(p.as_str(), "Orphan" | "Background" | "Foreground")
    {
        return Err(ApiError::invalid(
            "DeleteOptions",
            "",
            "",
            &vec![crate::validation::FieldError::not_supported(
                "propagationPolicy",
                json!(p),
                &["Foreground", "Background", "Orphan"],
            )],
        ));
    }
    if ctx.q("dryRun").is_some_and(|d| d == "All") {
        o.dry_run = true;
    }
    Ok(o)
}

/// Server-side apply of a `scale` subresource (`handlers::scale_apply`).
async fn apply_scale(
    ctx: &Ctx,
    store: &crate::registry::Store,
    def: &ResourceDef,
    ns: &str,
    dry_run: bool,
    body: bytes::Bytes,
) -> Result<Response<Body>, ApiError> {
    let force =
        options::check_manager("PatchOptions", ctx.q("fieldManager"), ctx.q("force"), true)?;
    let applied = options::decode_applied(&body)?;
    let manager = Manager {
        name: Manager::name_from(ctx.q("fieldManager"), ctx.header("user-agent")),
        operation: "Apply",
        api_version: def.api_version(),
        subresource: "scale".into(),
    };
    let custom = crate::apiextensions::scale::paths(def);
    let now = meta::now_rfc3339();
    let change = |cur: &Value| {
        super::scale_apply::apply_to_object(
            cur,
            &scale_of(def, cur),
            &applied,
            custom.as_ref(),
            &manager,
            force,
            &now,
        )
    };
    let updated = store
        .patch_as(def, ns, &ctx.info.name, "", dry_run, &change, None)
        .await?;
    Ok(reply_json(200, &scale_of(def, &updated)))
}

/// The `autoscaling/v1` Scale view of a scalable object.
fn scale_of(def: &ResourceDef, obj: &Value) -> Value {
    if let Some(p) = crate::apiextensions::scale::paths(def) {
        return crate::apiextensions::scale::to_scale(&p, obj);
    }
    let selector = obj
        .pointer("/spec/selector")
        .map(|s| {
            if s.get("matchLabels").is_some() || s.get("matchExpressions").is_some() {
                label_selector_string(s)
            } else {
                // ReplicationControllers use a plain map.
                s.as_object()
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                            .collect::<Vec<_>>()
                            .join(",")
                    })
                    .unwrap_or_default()
            }
        })
        .unwrap_or_default();
    let _ = def;
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta::name(obj),
            "namespace": meta::namespace(obj),
            "uid": meta::meta_str(obj, "uid"),
            "resourceVersion": meta::meta_str(obj, "resourceVersion"),
            "creationTimestamp": meta::meta_str(obj, "creationTimestamp"),
        },
        "spec": { "replicas": obj.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1) },
        "status": {
            "replicas": obj.pointer("/status/replicas").and_then(Value::as_i64).unwrap_or(0),
            "selector": selector,
        },
    })
}

/// `matchLabels`/`matchExpressions` in the string form Scale uses.
fn label_selector_string(s: &Value) -> String {
    let mut parts = Vec::new();
    if let Some(m) = s.get("matchLabels").and_then(Value::as_object) {
        for (k, v) in m {
            parts.push(format!("{k}={}", v.as_str().unwrap_or("")));
        }
    }
    if let Some(exprs) = s.get("matchExpressions").and_then(Value::as_array) {
        for e in exprs {
            let key = e["key"].as_str().unwrap_or("");
            let vals: Vec<&str> = e["values"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            match e["operator"].as_str().unwrap_or("") {
                "In" => parts.push(format!("{key} in ({})", vals.join(","))),
                "NotIn" => parts.push(format!("{key} notin ({})", vals.join(","))),
                "Exists" => parts.push(key.to_string()),
                "DoesNotExist" => parts.push(format!("!{key}")),
                _ => {}
            }
        }
    }
    parts.join(",")
}

/// The legacy `POST /api/v1/namespaces/{ns}/bindings` (what the official
/// Python client's `create_namespaced_binding` sends): the Binding names
/// the pod in its `metadata.name`, and binds it as `pods/binding` does.
async fn legacy_binding(
    state: &Arc<AppState>,
    ctx: &Ctx,
    ns: &str,
    body: bytes::Bytes,
) -> Result<Response<Body>, ApiError> {
    let dry_run = options::dry_run("CreateOptions", ctx.q("dryRun"))?;
    let binding = decode(ctx, body)?;
    let pods = resources::lookup("", "v1", "pods").ok_or_else(not_found_resource)?;
    let name = meta::name(&binding).to_string();
    if name.is_empty() {
        return Err(ApiError::invalid(
            "Binding",
            "",
            "",
            &vec![crate::validation::FieldError::required(
                "metadata.name",
                "name or generateName is required",
            )],
        ));
    }
    bind_pod(state, pods, ns, &name, &binding, dry_run).await
}

/// `ValidatePodBinding`: the target is a Node (or names no kind) and has a name.
fn validate_binding(binding: &Value) -> crate::validation::ErrorList {
    use crate::validation::FieldError;
    let mut errs = crate::validation::ErrorList::new();
    let target = binding.get("target").unwrap_or(&Value::Null);
    let kind = target.get("kind").and_then(Value::as_str).unwrap_or("");
    if !kind.is_empty() && kind != "Node" {
        errs.push(FieldError::not_supported(
            "target.kind",
            json!(kind),
            &["Node", "<empty>"],
        ));
    }
    if target
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .is_empty()
    {
        errs.push(FieldError::required("target.name", ""));
    }
    errs
}

/// `pods/binding`: sets `spec.nodeName` once (the scheduler's write).
async fn bind_pod(
    state: &AppState,
    def: &ResourceDef,
    ns: &str,
    name: &str,
    binding: &Value,
    dry_run: bool,
) -> Result<Response<Body>, ApiError> {
    let errs = validate_binding(binding);
    if !errs.is_empty() {
        return Err(ApiError::invalid("Binding", "", name, &errs));
    }
    let node = binding
        .pointer("/target/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let change = move |cur: &Value| -> Result<Value, ApiError> {
        let existing = cur
            .pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .unwrap_or("");
        if !existing.is_empty() {
            return Err(ApiError::conflict(
                Target {
                    group: "",
                    resource: "pods",
                    name: meta::name(cur),
                },
                &format!(
                    "pod {} is already assigned to node \"{existing}\"",
                    meta::name(cur)
                ),
            ));
        }
        let mut new = cur.clone();
        new["spec"]["nodeName"] = json!(node);
        Ok(new)
    };
    state
        .store
        .patch(def, ns, name, "binding", dry_run, &change)
        .await?;
    Ok(reply_json(201, &crate::status::success(Value::Null)))
}

/// `serviceaccounts/<name>/token`: a TokenRequest answered with a signed
/// token for the ServiceAccount (what `kubectl create token` asks for).
async fn token_request(
    state: &AppState,
    def: &ResourceDef,
    ns: &str,
    name: &str,
    mut req: Value,
) -> Result<Response<Body>, ApiError> {
    if !state.sa_tokens.can_issue() {
        return Err(ApiError::internal(
            "no --service-account-signing-key-file: tokens cannot be issued",
        ));
    }
    let sa = state.store.get(def, ns, name).await?;
    let uid = meta::meta_str(&sa, "uid").to_string();
    let bound =
        crate::serviceaccount::resolve_bound_object(&state.store, ns, name, &mut req).await?;
    let audiences: Vec<String> = req
        .pointer("/spec/audiences")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let expiration = req
        .pointer("/spec/expirationSeconds")
        .and_then(Value::as_i64)
        .unwrap_or(crate::serviceaccount::DEFAULT_EXPIRATION);
    if expiration < crate::serviceaccount::MIN_EXPIRATION {
        return Err(ApiError::invalid(
            "TokenRequest",
            "authentication.k8s.io",
            name,
            &vec![crate::validation::FieldError::invalid(
                "spec.expirationSeconds",
                json!(expiration),
                "may not specify a duration less than 10 minutes",
            )],
        ));
    }
    let now = chrono::Utc::now().timestamp();
    let (token, exp) = state
        .sa_tokens
        .issue(ns, name, &uid, bound.as_ref(), &audiences, expiration, now)
        .ok_or_else(|| ApiError::internal("signing the token failed"))?;
    let exp_ts = chrono::DateTime::from_timestamp(exp, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default();
    req["apiVersion"] = json!("authentication.k8s.io/v1");
    req["kind"] = json!("TokenRequest");
    req["metadata"] =
        json!({"name": name, "namespace": ns, "creationTimestamp": meta::now_rfc3339()});
    req["spec"]["expirationSeconds"] = json!(expiration);
    if audiences.is_empty() {
        req["spec"]["audiences"] = json!([]);
    }
    req["status"] = json!({"token": token, "expirationTimestamp": exp_ts});
    Ok(reply_json(201, &req))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bindings_are_validated_as_upstream() {
        let ok = json!({"metadata": {"name": "p"}, "target": {"kind": "Node", "name": "n1"}});
        assert!(validate_binding(&ok).is_empty());
        assert!(validate_binding(&json!({"target": {"name": "n1"}})).is_empty());
        let bad = json!({"target": {"kind": "Pod"}});
        let fields: Vec<String> = validate_binding(&bad)
            .into_iter()
            .map(|e| format!("{}: {}", e.field, e.body()))
            .collect();
        assert_eq!(
            fields,
            vec![
                "target.kind: Unsupported value: \"Pod\": supported values: \"Node\", \"<empty>\"",
                "target.name: Required value",
            ]
        );
    }
}
