//! The `ValidatingAdmissionPolicy` plugin: every binding whose policy
//! matches the request is evaluated with CEL (compiled once per policy
//! generation, [`compiled`]), and its failures are enforced as the
//! binding's `validationActions` say: Deny → the request fails with the
//! first failure's reason (422 Invalid by default), Warn → a `Warning`
//! header, Audit → the `validation.policy.admission.k8s.io/validation_failure`
//! audit annotation.
//!
//! Policies and bindings come from the watch-fed admission caches. The
//! `authorizer` CEL variable and upstream's CEL extension libraries
//! (quantity, url, ip, the kubernetes string/list helpers) and type
//! checking are not available: see the README.

pub mod cel;
pub mod compiled;
pub mod evaluate;
pub mod matching;
pub mod params;

use super::cache::Kind;
use super::{Operation, Request, lookup};
use crate::registry::Store;
use crate::status::ApiError;
use crate::validation::json::{arr_at, str_at};
use evaluate::{Failure, code};
use matching::Attributes;
use serde_json::{Value, json};

pub const POLICIES: Kind = (GROUP, "v1", "validatingadmissionpolicies");
pub const BINDINGS: Kind = (GROUP, "v1", "validatingadmissionpolicybindings");
const GROUP: &str = "admissionregistration.k8s.io";
const AUDIT_KEY: &str = "validation.policy.admission.k8s.io/validation_failure";

/// The `request` CEL variable (upstream's AdmissionRequest fields).
fn request_value(req: &Request<'_>) -> Value {
    let kind = json!({"group": req.def.group, "version": req.def.version, "kind": req.def.kind});
    let resource =
        json!({"group": req.def.group, "version": req.def.version, "resource": req.def.plural});
    json!({
        "kind": kind, "resource": resource, "requestKind": kind, "requestResource": resource,
        "subResource": req.subresource, "name": req.name, "namespace": req.namespace,
        "operation": req.operation.as_str(),
        "userInfo": {"username": req.user.name, "uid": req.user.uid, "groups": req.user.groups},
        "dryRun": req.dry_run,
    })
}

/// Policies may not match their own kinds (a broken policy could
/// otherwise lock everyone out of fixing it).
fn exempt(req: &Request<'_>) -> bool {
    req.def.group == GROUP
        && matches!(
            req.def.plural,
            "validatingadmissionpolicies" | "validatingadmissionpolicybindings"
        )
}

/// Whether a MatchResources (`m`) selects the request.
async fn matches(
    store: &Store,
    m: &Value,
    a: &Attributes<'_>,
    (object, old): (&Value, &Value),
    require_rules: bool,
    namespace: &mut Option<Value>,
) -> Result<bool, ApiError> {
    if !matching::rules_match(m, a, require_rules)
        || !matching::object_selector_matches(m.get("objectSelector"), object, old)
    {
        return Ok(false);
    }
    let sel = m.get("namespaceSelector");
    if !matching::needs_namespace(sel) {
        return Ok(true);
    }
    if a.group.is_empty() && a.resource == "namespaces" {
        let o = if object.is_object() { object } else { old };
        return Ok(matching::namespace_selector_matches(
            sel,
            a,
            matching::labels(o),
        ));
    }
    if a.namespaced && namespace.is_none() {
        *namespace = lookup::namespace(store, a.namespace).await?;
    }
    let labels = namespace.as_ref().and_then(matching::labels);
    Ok(matching::namespace_selector_matches(sel, a, labels))
}

/// The validating phase of the plugin; returns the warnings.
pub async fn validate(
    store: &Store,
    req: &Request<'_>,
    obj: &Value,
) -> Result<Vec<String>, ApiError> {
    if exempt(req) {
        return Ok(Vec::new());
    }
    let bindings = lookup::list(store, BINDINGS, "").await?;
    if bindings.is_empty() {
        return Ok(Vec::new());
    }
    let policies = lookup::list(store, POLICIES, "").await?;
    let null = Value::Null;
    let (object, old) = match req.operation {
        Operation::Delete => (&null, req.old.unwrap_or(obj)),
        _ => (obj, req.old.unwrap_or(&null)),
    };
    let a = Attributes::of(req);
    let request = request_value(req);
    let mut namespace: Option<Value> = None;
    let mut warnings = Vec::new();
    let mut audit = Vec::new();
    let mut sorted: Vec<&Value> = bindings.iter().collect();
    sorted.sort_by_key(|b| meta_name(b));
    for binding in sorted {
        let spec = binding.get("spec").unwrap_or(&null);
        let Some(policy) = policies
            .iter()
            .find(|p| meta_name(p) == str_at(spec, "policyName"))
        else {
            continue;
        };
        let compiled = compiled::compiled(policy);
        let Some(constraints) = &compiled.match_constraints else {
            continue;
        };
        if !matches(store, constraints, &a, (object, old), true, &mut namespace).await? {
            continue;
        }
        if let Some(m) = spec.get("matchResources").filter(|m| m.is_object())
            && !matches(store, m, &a, (object, old), false, &mut namespace).await?
        {
            continue;
        }
        let mut failures = Vec::new();
        match params::resolve(store, compiled.param_kind.as_ref(), binding, req.namespace).await {
            Ok(params::Params::AllowMissing) => {}
            Ok(params::Params::Each(list)) => {
                let ns_object = if req.def.namespaced {
                    if namespace.is_none() {
                        namespace = lookup::namespace(store, req.namespace).await?;
                    }
                    namespace.clone().unwrap_or(Value::Null)
                } else {
                    Value::Null
                };
                for p in &list {
                    let act = cel::Activation::new(object, old, &request, p, &ns_object);
                    if let Some(out) = evaluate::evaluate(&compiled, act) {
                        for (k, v) in &out.audit_annotations {
                            crate::audit::note_annotation(k, v);
                        }
                        failures.extend(out.failures);
                    }
                }
            }
            Err(e) if !compiled.ignore_failures => failures.push(Failure {
                message: e.to_string(),
                reason: "Invalid",
                index: 0,
            }),
            Err(_) => {}
        }
        let actions: Vec<&str> = arr_at(spec, "validationActions")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let (p, b) = (meta_name(policy), meta_name(binding));
        for f in &failures {
            if actions.contains(&"Deny") {
                return Err(denied(req, p, b, f));
            }
            if actions.contains(&"Warn") {
                warnings.push(format!(
                    "Validation failed for ValidatingAdmissionPolicy '{p}' with binding '{b}': {}",
                    f.message
                ));
            }
            if actions.contains(&"Audit") {
                audit.push(json!({"message": f.message, "policy": p, "binding": b,
                    "expressionIndex": f.index, "validationActions": actions}));
            }
        }
    }
    if !audit.is_empty() {
        crate::audit::note_annotation(AUDIT_KEY, &Value::Array(audit).to_string());
    }
    Ok(warnings)
}

fn meta_name(o: &Value) -> &str {
    o.get("metadata").map(|m| str_at(m, "name")).unwrap_or("")
}

/// Upstream's denial: `<resource> "<name>" is forbidden: ValidatingAdmissionPolicy
/// '<policy>' with binding '<binding>' denied request: <message>`, with the
/// failure's reason and code and the message as the one cause.
fn denied(req: &Request<'_>, policy: &str, binding: &str, f: &Failure) -> ApiError {
    let message = format!(
        "ValidatingAdmissionPolicy '{policy}' with binding '{binding}' denied request: {}",
        f.message
    );
    let mut e = super::forbidden(req, &message);
    e.code = code(f.reason);
    e.reason = f.reason;
    e.details["causes"] = json!([{"message": message}]);
    e
}
