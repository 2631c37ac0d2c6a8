//! `metav1.LabelSelector` as validation needs it: syntax checks
//! (`ValidateLabelSelector`), matching a template's labels, and the Go
//! literal upstream prints for a selector in "field is immutable" errors.

use super::field::{ErrorList, FieldError, go_quote};
use super::json::{arr_at, child, index, obj_at, str_at};
use super::meta::validate_labels;
use super::names::{is_qualified_name, is_valid_label_value};
use serde_json::{Map, Value, json};

/// `ValidateLabelSelector`.
pub fn validate_label_selector(sel: &Value, path: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    for (i, expr) in arr_at(sel, "matchExpressions").iter().enumerate() {
        errs.extend(validate_requirement(
            expr,
            &index(&child(path, "matchExpressions"), i),
        ));
    }
    errs.extend(validate_labels(
        sel.get("matchLabels"),
        &child(path, "matchLabels"),
    ));
    errs
}

fn validate_requirement(expr: &Value, p: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    let values = arr_at(expr, "values");
    match str_at(expr, "operator") {
        "In" | "NotIn" => {
            if values.is_empty() {
                errs.push(FieldError::required(
                    child(p, "values"),
                    "must be specified when `operator` is 'In' or 'NotIn'",
                ));
            }
        }
        "Exists" | "DoesNotExist" => {
            if !values.is_empty() {
                errs.push(FieldError::forbidden(
                    child(p, "values"),
                    "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                ));
            }
        }
        other => errs.push(FieldError::invalid(
            child(p, "operator"),
            json!(other),
            "not a valid selector operator",
        )),
    }
    let k = str_at(expr, "key");
    for m in is_qualified_name(k) {
        errs.push(FieldError::invalid(child(p, "key"), json!(k), m));
    }
    for (i, v) in values.iter().enumerate() {
        let v = v.as_str().unwrap_or("");
        for m in is_valid_label_value(v) {
            errs.push(FieldError::invalid(
                index(&child(p, "values"), i),
                json!(v),
                m,
            ));
        }
    }
    errs
}

/// True when the selector selects nothing in particular (no labels, no expressions).
pub fn is_empty_selector(sel: &Value) -> bool {
    obj_at(sel, "matchLabels").is_none_or(Map::is_empty)
        && arr_at(sel, "matchExpressions").is_empty()
}

/// Whether `labels` satisfy the selector (an empty selector matches all).
pub fn selector_matches(sel: &Value, labels: Option<&Map<String, Value>>) -> bool {
    let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
    if let Some(ml) = obj_at(sel, "matchLabels") {
        for (k, v) in ml {
            if get(k) != v.as_str() {
                return false;
            }
        }
    }
    arr_at(sel, "matchExpressions").iter().all(|e| {
        let k = str_at(e, "key");
        let values: Vec<&str> = arr_at(e, "values")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        match str_at(e, "operator") {
            "In" => get(k).is_some_and(|v| values.contains(&v)),
            "NotIn" => get(k).is_none_or(|v| !values.contains(&v)),
            "Exists" => get(k).is_some(),
            "DoesNotExist" => get(k).is_none(),
            _ => false,
        }
    })
}

/// Go's `%#v` of a `v1.LabelSelector` value, as upstream shows it.
pub fn label_selector_literal(sel: Option<&Value>) -> String {
    let Some(sel) = sel.filter(|s| !s.is_null()) else {
        return "(*v1.LabelSelector)(nil)".to_string();
    };
    let ml = match obj_at(sel, "matchLabels") {
        None => "map[string]string(nil)".to_string(),
        Some(m) => {
            let items: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}:{}", go_quote(k), go_quote(v.as_str().unwrap_or(""))))
                .collect();
            format!("map[string]string{{{}}}", items.join(", "))
        }
    };
    let me = match sel.get("matchExpressions").and_then(Value::as_array) {
        None => "[]v1.LabelSelectorRequirement(nil)".to_string(),
        Some(exprs) => {
            let items: Vec<String> = exprs
                .iter()
                .map(|e| {
                    let values = match e.get("values").and_then(Value::as_array) {
                        None => "[]string(nil)".to_string(),
                        Some(vs) => format!(
                            "[]string{{{}}}",
                            vs.iter()
                                .map(|v| go_quote(v.as_str().unwrap_or("")))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    };
                    format!(
                        "v1.LabelSelectorRequirement{{Key:{}, Operator:{}, Values:{}}}",
                        go_quote(str_at(e, "key")),
                        go_quote(str_at(e, "operator")),
                        values
                    )
                })
                .collect();
            format!("[]v1.LabelSelectorRequirement{{{}}}", items.join(", "))
        }
    };
    format!("v1.LabelSelector{{MatchLabels:{ml}, MatchExpressions:{me}}}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching() {
        let labels = json!({"app": "web", "tier": "fe"});
        let l = labels.as_object();
        let cases = [
            (json!({"matchLabels": {"app": "web"}}), true),
            (json!({"matchLabels": {"app": "db"}}), false),
            (
                json!({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["fe", "be"]}]}),
                true,
            ),
            (
                json!({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["fe"]}]}),
                false,
            ),
            (
                json!({"matchExpressions": [{"key": "x", "operator": "DoesNotExist"}]}),
                true,
            ),
            (
                json!({"matchExpressions": [{"key": "x", "operator": "Exists"}]}),
                false,
            ),
            (json!({}), true),
        ];
        for (sel, want) in cases {
            assert_eq!(selector_matches(&sel, l), want, "{sel}");
        }
    }

    #[test]
    fn literal_and_syntax() {
        assert_eq!(
            label_selector_literal(Some(&json!({"matchLabels": {"app": "nginx"}}))),
            "v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"nginx\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}"
        );
        let errs = validate_label_selector(
            &json!({"matchExpressions": [{"key": "a", "operator": "In"}, {"key": "b", "operator": "Foo"}]}),
            "spec.selector",
        );
        let msgs: Vec<String> = errs.iter().map(ToString::to_string).collect();
        assert_eq!(
            msgs,
            vec![
                "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
                "spec.selector.matchExpressions[1].operator: Invalid value: \"Foo\": not a valid selector operator",
            ]
        );
    }
}
