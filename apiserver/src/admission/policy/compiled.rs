//! A policy's expressions compiled once per policy generation: keyed by
//! the policy's uid and resourceVersion, so an edited policy is compiled
//! again on its first use and an unchanged one never is.

use super::cel::{CelError, Expression, compile};
use crate::validation::json::{arr_at, str_at};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

/// One `validations[]` entry.
#[derive(Debug)]
pub struct Validation {
    pub expression: Result<Expression, CelError>,
    pub source: String,
    pub message: String,
    pub message_expression: Option<Result<Expression, CelError>>,
    pub reason: String,
}

/// A named expression (`variables[]`, `matchConditions[]`,
/// `auditAnnotations[]` keyed by `key`).
#[derive(Debug)]
pub struct Named {
    pub name: String,
    pub source: String,
    pub expression: Result<Expression, CelError>,
}

/// What evaluation needs of one ValidatingAdmissionPolicy.
#[derive(Debug)]
pub struct CompiledPolicy {
    pub name: String,
    /// `failurePolicy: Ignore`: errors and misconfigurations admit.
    pub ignore_failures: bool,
    /// `spec.paramKind` as (apiVersion, kind), if any.
    pub param_kind: Option<(String, String)>,
    pub match_constraints: Option<Value>,
    pub match_conditions: Vec<Named>,
    pub variables: Vec<Named>,
    pub validations: Vec<Validation>,
    pub audit_annotations: Vec<Named>,
}

fn named(list: &[Value], name_key: &str, expr_key: &str) -> Vec<Named> {
    list.iter()
        .map(|v| Named {
            name: str_at(v, name_key).to_string(),
            source: str_at(v, expr_key).to_string(),
            expression: compile(str_at(v, expr_key)),
        })
        .collect()
}

impl CompiledPolicy {
    pub fn new(policy: &Value) -> Self {
        let empty = Value::Null;
        let spec = policy.get("spec").unwrap_or(&empty);
        let validations = arr_at(spec, "validations")
            .iter()
            .map(|v| Validation {
                expression: compile(str_at(v, "expression")),
                source: str_at(v, "expression").to_string(),
                message: str_at(v, "message").to_string(),
                message_expression: Some(str_at(v, "messageExpression"))
                    .filter(|s| !s.is_empty())
                    .map(compile),
                reason: str_at(v, "reason").to_string(),
            })
            .collect();
        let param_kind = spec.get("paramKind").filter(|p| p.is_object()).map(|p| {
            (
                str_at(p, "apiVersion").to_string(),
                str_at(p, "kind").to_string(),
            )
        });
        CompiledPolicy {
            name: policy
                .get("metadata")
                .map(|m| str_at(m, "name"))
                .unwrap_or("")
                .to_string(),
            ignore_failures: str_at(spec, "failurePolicy") == "Ignore",
            param_kind,
            match_constraints: spec
                .get("matchConstraints")
                .filter(|m| m.is_object())
                .cloned(),
            match_conditions: named(arr_at(spec, "matchConditions"), "name", "expression"),
            variables: named(arr_at(spec, "variables"), "name", "expression"),
            validations,
            audit_annotations: named(arr_at(spec, "auditAnnotations"), "key", "valueExpression"),
        }
    }
}

/// Compiled policies by name, with the (uid, resourceVersion) they were
/// compiled from.
type Cache = HashMap<String, (String, Arc<CompiledPolicy>)>;

static COMPILED: LazyLock<Mutex<Cache>> = LazyLock::new(Mutex::default);

/// Upper bound of cached policies; past it the cache starts over (deleted
/// policies are never evicted one by one).
const MAX_CACHED: usize = 4096;

/// The compiled form of `policy`, compiled now only if this generation was
/// never seen.
pub fn compiled(policy: &Value) -> Arc<CompiledPolicy> {
    let meta = policy.get("metadata").cloned().unwrap_or(Value::Null);
    let name = str_at(&meta, "name").to_string();
    let generation = format!(
        "{}/{}",
        str_at(&meta, "uid"),
        str_at(&meta, "resourceVersion")
    );
    if let Ok(cache) = COMPILED.lock()
        && let Some((g, p)) = cache.get(&name)
        && *g == generation
    {
        return p.clone();
    }
    let fresh = Arc::new(CompiledPolicy::new(policy));
    if let Ok(mut cache) = COMPILED.lock() {
        if cache.len() >= MAX_CACHED {
            cache.clear();
        }
        cache.insert(name, (generation, fresh.clone()));
    }
    fresh
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn compiles_once_per_generation() {
        let mut p = json!({"metadata": {"name": "compiled-test", "uid": "u1", "resourceVersion": "5"},
            "spec": {"validations": [{"expression": "object.spec.replicas <= 5"}, {"expression": "1 +"}],
                     "paramKind": {"apiVersion": "v1", "kind": "ConfigMap"}}});
        let a = compiled(&p);
        let b = compiled(&p);
        assert!(Arc::ptr_eq(&a, &b), "same generation: same compiled policy");
        assert!(a.validations[0].expression.is_ok());
        assert!(a.validations[1].expression.is_err());
        assert_eq!(a.param_kind, Some(("v1".into(), "ConfigMap".into())));
        assert!(!a.ignore_failures);
        p["metadata"]["resourceVersion"] = json!("6");
        assert!(
            !Arc::ptr_eq(&a, &compiled(&p)),
            "new generation: compiled again"
        );
    }
}
