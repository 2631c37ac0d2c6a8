//! Priority: a pod's `priorityClassName` becomes its integer `priority` and
//! `preemptionPolicy`; without a name the globalDefault class applies (or 0).

use super::{Operation, Request, forbidden, lookup};
use crate::registry::Store;
use crate::status::ApiError;
use crate::validation::json::str_at;
use serde_json::{Value, json};

pub async fn admit(store: &Store, req: &Request<'_>, obj: &mut Value) -> Result<(), ApiError> {
    if req.operation != Operation::Create || !req.is("", "pods") {
        return Ok(());
    }
    let name = obj
        .pointer("/spec/priorityClassName")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let class = if name.is_empty() {
        global_default(&lookup::list(store, lookup::PRIORITY_CLASSES, "").await?)
    } else {
        lookup::get(store, lookup::PRIORITY_CLASSES, "", &name).await?
    };
    apply(req, obj, &name, class.as_ref())
}

/// The globalDefault class with the lowest value, as upstream picks it.
fn global_default(classes: &[Value]) -> Option<Value> {
    classes
        .iter()
        .filter(|c| c.get("globalDefault").and_then(Value::as_bool) == Some(true))
        .min_by_key(|c| c.get("value").and_then(Value::as_i64).unwrap_or(0))
        .cloned()
}

/// The pure part: `class` is what `name` resolved to (None = not found, or
/// no default class when `name` is empty).
fn apply(
    req: &Request<'_>,
    obj: &mut Value,
    name: &str,
    class: Option<&Value>,
) -> Result<(), ApiError> {
    let (class_name, value, policy) = match class {
        Some(c) => (
            crate::registry::meta::name(c).to_string(),
            c.get("value").and_then(Value::as_i64).unwrap_or(0),
            match str_at(c, "preemptionPolicy") {
                "" => "PreemptLowerPriority".to_string(),
                p => p.to_string(),
            },
        ),
        None if name.is_empty() => (String::new(), 0, "PreemptLowerPriority".to_string()),
        None => {
            return Err(forbidden(
                req,
                format!("no PriorityClass with name {name} was found"),
            ));
        }
    };
    let Some(spec) = crate::validation::json::ensure_obj(obj, "spec") else {
        return Ok(());
    };
    if let Some(given) = spec.get("priority").and_then(Value::as_i64)
        && given != value
    {
        return Err(forbidden(
            req,
            format!(
                "the integer value of priority ({given}) must not be provided in pod spec; priority admission controller computed {value} from the given PriorityClass name"
            ),
        ));
    }
    match spec.get("preemptionPolicy").and_then(Value::as_str) {
        Some(given) if given != policy => {
            return Err(forbidden(
                req,
                format!(
                    "the string value of PreemptionPolicy ({given}) must not be provided in pod spec; priority admission controller computed {policy} from the given PriorityClass name"
                ),
            ));
        }
        _ => {}
    }
    spec["priority"] = json!(value);
    spec["preemptionPolicy"] = json!(policy);
    if !class_name.is_empty() {
        spec["priorityClassName"] = json!(class_name);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admission::test_request;

    fn req() -> Request<'static> {
        test_request(Operation::Create, ("", "v1", "pods"), "default", "p")
    }

    #[test]
    fn class_name_becomes_priority_and_policy() {
        let class =
            json!({"metadata": {"name": "high"}, "value": 1000, "preemptionPolicy": "Never"});
        let mut pod = json!({"spec": {"priorityClassName": "high"}});
        apply(&req(), &mut pod, "high", Some(&class)).expect("admitted");
        assert_eq!(pod["spec"]["priority"], 1000);
        assert_eq!(pod["spec"]["preemptionPolicy"], "Never");
    }

    #[test]
    fn unknown_class_and_conflicting_priority_are_refused() {
        let mut pod = json!({"spec": {"priorityClassName": "nope"}});
        let e = apply(&req(), &mut pod, "nope", None).expect_err("unknown");
        assert_eq!(e.code, 403);
        assert_eq!(
            e.message,
            "pods \"p\" is forbidden: no PriorityClass with name nope was found"
        );
        let class = json!({"metadata": {"name": "high"}, "value": 1000});
        let mut pod = json!({"spec": {"priorityClassName": "high", "priority": 5}});
        let e = apply(&req(), &mut pod, "high", Some(&class)).expect_err("conflict");
        assert!(
            e.message
                .contains("the integer value of priority (5) must not be provided"),
            "{}",
            e.message
        );
    }

    #[test]
    fn global_default_or_zero_without_a_name() {
        let classes = vec![
            json!({"metadata": {"name": "a"}, "value": 50, "globalDefault": true}),
            json!({"metadata": {"name": "b"}, "value": 10, "globalDefault": true}),
            json!({"metadata": {"name": "c"}, "value": 1}),
        ];
        let d = global_default(&classes);
        let mut pod = json!({"spec": {}});
        apply(&req(), &mut pod, "", d.as_ref()).expect("admitted");
        assert_eq!(pod["spec"]["priorityClassName"], "b");
        assert_eq!(pod["spec"]["priority"], 10);
        let mut pod = json!({"spec": {}});
        apply(&req(), &mut pod, "", None).expect("admitted");
        assert_eq!(pod["spec"]["priority"], 0);
        assert_eq!(pod["spec"]["preemptionPolicy"], "PreemptLowerPriority");
        assert!(pod["spec"].get("priorityClassName").is_none());
    }
}
