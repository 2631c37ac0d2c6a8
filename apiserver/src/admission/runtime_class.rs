//! RuntimeClass: a pod naming a `runtimeClassName` gets the class's
//! `overhead.podFixed` as its `spec.overhead` and the class's scheduling
//! constraints merged into its node selector and tolerations; a pod naming
//! a class that does not exist, or carrying an overhead the class does not
//! define, is refused (upstream's `RuntimeClass` plugin, on pod create).

use super::{Operation, Request, forbidden, lookup};
use crate::registry::Store;
use crate::status::ApiError;
use crate::validation::resources::parse_quantity;
use serde_json::{Map, Value};

/// The class a pod names: `Ok(None)` when it names none.
async fn class_of(
    store: &Store,
    req: &Request<'_>,
    pod: &Value,
) -> Result<Option<Value>, ApiError> {
    let Some(name) = pod
        .pointer("/spec/runtimeClassName")
        .and_then(Value::as_str)
    else {
        return Ok(None);
    };
    match lookup::get(store, lookup::RUNTIME_CLASSES, "", name).await? {
        Some(c) => Ok(Some(c)),
        None => Err(forbidden(
            req,
            format!("pod rejected: RuntimeClass \"{name}\" not found"),
        )),
    }
}

fn handles(req: &Request<'_>) -> bool {
    req.operation == Operation::Create && req.is("", "pods") && req.subresource.is_empty()
}

/// The mutating half: overhead and scheduling from the class.
pub async fn admit(store: &Store, req: &Request<'_>, pod: &mut Value) -> Result<(), ApiError> {
    if !handles(req) {
        return Ok(());
    }
    let Some(class) = class_of(store, req, pod).await? else {
        return Ok(());
    };
    set_overhead(req, pod, &class)?;
    set_scheduling(req, pod, &class)
}

/// The validating half: the pod's overhead is exactly the class's.
pub async fn validate(store: &Store, req: &Request<'_>, pod: &Value) -> Result<(), ApiError> {
    if !handles(req) {
        return Ok(());
    }
    let class = class_of(store, req, pod).await?;
    let fixed = class.as_ref().and_then(|c| c.pointer("/overhead/podFixed"));
    let overhead = pod.pointer("/spec/overhead").filter(|o| !o.is_null());
    match (fixed, overhead) {
        (Some(f), o) if !same_resources(Some(f), o) => Err(forbidden(
            req,
            "pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead",
        )),
        (None, Some(_)) => Err(forbidden(
            req,
            "pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead",
        )),
        _ => Ok(()),
    }
}

/// Resource lists equal as quantities (`1000m` is `1`).
fn same_resources(a: Option<&Value>, b: Option<&Value>) -> bool {
    let empty = Map::new();
    let a = a.and_then(Value::as_object).unwrap_or(&empty);
    let b = b.and_then(Value::as_object).unwrap_or(&empty);
    a.len() == b.len()
        && a.iter().all(|(k, v)| {
            b.get(k)
                .is_some_and(|w| match (parse_quantity(v), parse_quantity(w)) {
                    (Ok(x), Ok(y)) => x.milli_value() == y.milli_value(),
                    _ => v == w,
                })
        })
}

fn set_overhead(req: &Request<'_>, pod: &mut Value, class: &Value) -> Result<(), ApiError> {
    let Some(fixed) = class.pointer("/overhead/podFixed").filter(|f| !f.is_null()) else {
        return Ok(());
    };
    let Some(spec) = crate::validation::json::ensure_obj(pod, "spec") else {
        return Ok(());
    };
    let given = spec
        .get("overhead")
        .filter(|o| o.as_object().is_some_and(|m| !m.is_empty()));
    if given.is_some() && !same_resources(Some(fixed), given) {
        return Err(forbidden(
            req,
            "pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead",
        ));
    }
    spec["overhead"] = fixed.clone();
    Ok(())
}

fn set_scheduling(req: &Request<'_>, pod: &mut Value, class: &Value) -> Result<(), ApiError> {
    let Some(scheduling) = class.get("scheduling").filter(|s| s.is_object()) else {
        return Ok(());
    };
    let Some(spec) = crate::validation::json::ensure_obj(pod, "spec") else {
        return Ok(());
    };
    if let Some(wanted) = scheduling.get("nodeSelector").and_then(Value::as_object) {
        let selector = crate::validation::json::ensure_obj(spec, "nodeSelector")
            .and_then(Value::as_object_mut);
        if let Some(selector) = selector {
            for (k, v) in wanted {
                let class_value = v.as_str().unwrap_or("");
                match selector.get(k).and_then(Value::as_str) {
                    Some(pod_value) if pod_value != class_value => {
                        return Err(forbidden(
                            req,
                            format!(
                                "conflict: runtimeClass.scheduling.nodeSelector[{k}] = {class_value}; pod.spec.nodeSelector[{k}] = {pod_value}"
                            ),
                        ));
                    }
                    _ => {
                        selector.insert(k.clone(), v.clone());
                    }
                }
            }
        }
    }
    let extra = scheduling
        .get("tolerations")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if !extra.is_empty() {
        let mut merged = spec
            .get("tolerations")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for t in extra {
            if !merged.contains(&t) {
                merged.push(t);
            }
        }
        spec["tolerations"] = Value::Array(merged);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn quantities_compare_by_value() {
        assert!(same_resources(
            Some(&json!({"cpu": "1", "memory": "1Gi"})),
            Some(&json!({"cpu": "1000m", "memory": "1024Mi"}))
        ));
        assert!(!same_resources(
            Some(&json!({"cpu": "1"})),
            Some(&json!({"cpu": "2"}))
        ));
        assert!(!same_resources(Some(&json!({"cpu": "1"})), None));
        assert!(same_resources(None, Some(&json!({}))));
    }
}
