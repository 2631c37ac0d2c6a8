//! Resource names and quantities: container `resources`, quota `hard`,
//! limit ranges, PVC requests (upstream's `ValidateResourceRequirements`,
//! `ValidateResourceQuantityValue`, `validateContainerResourceName`).

use super::field::{ErrorList, FieldError};
use super::json::key;
use super::meta::IS_NEGATIVE_ERROR_MSG;
use super::names::is_qualified_name;
use apimachinery::quantity::Quantity;
use serde_json::{Map, Value, json};

/// A quantity as it appears in JSON: a string (`"100m"`) or a number.
pub fn parse_quantity(v: &Value) -> Result<Quantity, String> {
    match v {
        Value::String(s) => Quantity::parse(s).map_err(|e| e.to_string()),
        Value::Number(n) => Quantity::parse(&n.to_string()).map_err(|e| e.to_string()),
        other => Err(format!("quantity must be a string, not {other}")),
    }
}

/// Parses a quantity for validation; a bad one becomes a field error.
pub fn quantity_at(v: &Value, path: &str, errs: &mut ErrorList) -> Option<Quantity> {
    match parse_quantity(v) {
        Ok(q) => Some(q),
        Err(msg) => {
            errs.push(FieldError::invalid(path, v.clone(), msg));
            None
        }
    }
}

/// Resource names whose values must be whole numbers.
fn is_integer_resource(name: &str) -> bool {
    let native_integer = matches!(
        name,
        "pods"
            | "services"
            | "replicationcontrollers"
            | "resourcequotas"
            | "secrets"
            | "configmaps"
            | "persistentvolumeclaims"
            | "services.nodeports"
            | "services.loadbalancers"
    ) || name.starts_with("count/");
    native_integer || is_extended_resource(name)
}

/// `kubernetes.io/` and `requests.`-free names with a domain prefix.
fn is_native_resource(name: &str) -> bool {
    !name.contains('/') || name.contains("kubernetes.io/")
}

fn is_extended_resource(name: &str) -> bool {
    if is_native_resource(name) || name.starts_with("requests.") {
        return false;
    }
    is_qualified_name(&format!("requests.{name}")).is_empty()
}

fn is_hugepages(name: &str) -> bool {
    name.starts_with("hugepages-")
}

/// cpu, memory, ephemeral-storage and hugepages-*.
fn is_standard_container_resource(name: &str) -> bool {
    matches!(name, "cpu" | "memory" | "ephemeral-storage") || is_hugepages(name)
}

/// Overcommit (request < limit) is allowed only for native, non-hugepage resources.
fn is_overcommit_allowed(name: &str) -> bool {
    is_native_resource(name) && !is_hugepages(name)
}

/// `validateResourceName`: a qualified name.
fn validate_resource_name(name: &str, path: &str) -> ErrorList {
    is_qualified_name(name)
        .into_iter()
        .map(|msg| FieldError::invalid(path, json!(name), msg))
        .collect()
}

fn validate_container_resource_name(name: &str, path: &str) -> ErrorList {
    let mut errs = validate_resource_name(name, path);
    if !name.contains('/') {
        if !is_standard_container_resource(name) {
            errs.push(FieldError::invalid(
                path,
                json!(name),
                "must be a standard resource for containers",
            ));
        }
    } else if !is_native_resource(name) && !is_extended_resource(name) {
        errs.push(FieldError::invalid(
            path,
            json!(name),
            "doesn't follow extended resource name standard",
        ));
    }
    errs
}

/// `ValidateResourceQuantityValue`: not negative, whole for integer resources.
pub fn validate_quantity_value(resource: &str, q: &Quantity, path: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    if q.is_negative() {
        errs.push(FieldError::invalid(
            path,
            json!(q.to_string()),
            IS_NEGATIVE_ERROR_MSG,
        ));
    }
    if is_integer_resource(resource) && q.milli_value() % 1000 != 0 {
        errs.push(FieldError::invalid(
            path,
            json!(q.to_string()),
            "must be an integer",
        ));
    }
    errs
}

fn entries(v: Option<&Value>) -> Vec<(&String, &Value)> {
    v.and_then(Value::as_object)
        .map(Map::iter)
        .map(Iterator::collect)
        .unwrap_or_default()
}

/// `ValidateResourceRequirements` for a container's `resources`.
pub fn validate_resource_requirements(resources: Option<&Value>, path: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    let Some(r) = resources else {
        return errs;
    };
    let lim_path = format!("{path}.limits");
    let req_path = format!("{path}.requests");
    let mut limits: Vec<(String, Quantity)> = Vec::new();
    for (name, v) in entries(r.get("limits")) {
        let p = key(&lim_path, name);
        errs.extend(validate_container_resource_name(name, &p));
        if let Some(q) = quantity_at(v, &p, &mut errs) {
            errs.extend(validate_quantity_value(name, &q, &p));
            limits.push((name.clone(), q));
        }
    }
    for (name, v) in entries(r.get("requests")) {
        let p = key(&req_path, name);
        errs.extend(validate_container_resource_name(name, &p));
        let Some(q) = quantity_at(v, &p, &mut errs) else {
            continue;
        };
        errs.extend(validate_quantity_value(name, &q, &p));
        match limits.iter().find(|(n, _)| n == name) {
            Some((_, limit)) => {
                if q != *limit && !is_overcommit_allowed(name) {
                    errs.push(FieldError::invalid(
                        &req_path,
                        json!(q.to_string()),
                        format!("must be equal to {name} limit of {limit}"),
                    ));
                } else if q > *limit {
                    errs.push(FieldError::invalid(
                        &req_path,
                        json!(q.to_string()),
                        format!("must be less than or equal to {name} limit of {limit}"),
                    ));
                }
            }
            None if !is_overcommit_allowed(name) => {
                errs.push(FieldError::required(
                    &lim_path,
                    "Limit must be set for non overcommitable resources",
                ));
            }
            None => {}
        }
    }
    errs
}

/// A plain resource list (quota `hard`, PV `capacity`, PVC `requests`):
/// names qualified, values non-negative.
pub fn validate_resource_list(list: Option<&Value>, path: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    for (name, v) in entries(list) {
        let p = key(path, name);
        errs.extend(validate_resource_name(name, &p));
        if let Some(q) = quantity_at(v, &p, &mut errs) {
            errs.extend(validate_quantity_value(name, &q, &p));
        }
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msgs(errs: ErrorList) -> Vec<String> {
        errs.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn requests_within_limits() {
        let cases: Vec<(Value, Vec<&str>)> = vec![
            (
                json!({"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "500m", "memory": "1Gi"}}),
                vec![],
            ),
            (
                json!({"limits": {"cpu": "1"}, "requests": {"cpu": "2"}}),
                vec![
                    "resources.requests: Invalid value: \"2\": must be less than or equal to cpu limit of 1",
                ],
            ),
            (
                json!({"requests": {"cpu": "-1"}}),
                vec![
                    "resources.requests[cpu]: Invalid value: \"-1\": must be greater than or equal to 0",
                ],
            ),
            (
                json!({"requests": {"gpu": "1"}}),
                vec![
                    "resources.requests[gpu]: Invalid value: \"gpu\": must be a standard resource for containers",
                ],
            ),
            (
                json!({"requests": {"example.com/foo": "1"}}),
                vec![
                    "resources.limits: Required value: Limit must be set for non overcommitable resources",
                ],
            ),
            (
                json!({"limits": {"example.com/foo": "2"}, "requests": {"example.com/foo": "1"}}),
                vec![
                    "resources.requests: Invalid value: \"1\": must be equal to example.com/foo limit of 2",
                ],
            ),
            (
                json!({"limits": {"memory": "1Gb"}}),
                vec![
                    "resources.limits[memory]: Invalid value: \"1Gb\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
                ],
            ),
        ];
        for (resources, want) in cases {
            assert_eq!(
                msgs(validate_resource_requirements(
                    Some(&resources),
                    "resources"
                )),
                want,
                "{resources}"
            );
        }
    }

    #[test]
    fn integer_resources_in_lists() {
        let errs =
            validate_resource_list(Some(&json!({"pods": "1500m", "cpu": "1500m"})), "spec.hard");
        assert_eq!(
            msgs(errs),
            vec!["spec.hard[pods]: Invalid value: \"1500m\": must be an integer"]
        );
    }
}
