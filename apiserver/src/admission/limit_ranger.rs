//! LimitRanger: the LimitRange objects of a namespace give containers their
//! default limits and requests (mutating), then bound what containers, pods
//! and claims may ask for (min, max, maxLimitRequestRatio).

use super::{Operation, Request, forbidden, lookup};
use crate::registry::Store;
use crate::status::ApiError;
use apimachinery::quota_usage::{milli_of, render};
use serde_json::{Map, Value, json};

const ANNOTATION: &str = "kubernetes.io/limit-ranger";

/// Pods are checked on create only (containers cannot be added or resized
/// later); claims on create and update.
fn applies(req: &Request<'_>) -> bool {
    (req.is("", "pods") && req.operation == Operation::Create)
        || (req.is("", "persistentvolumeclaims") && req.operation != Operation::Delete)
}

async fn limit_items(store: &Store, ns: &str) -> Result<Vec<Value>, ApiError> {
    let ranges = lookup::list(store, lookup::LIMIT_RANGES, ns).await?;
    Ok(ranges
        .iter()
        .filter_map(|r| r.pointer("/spec/limits").and_then(Value::as_array))
        .flatten()
        .cloned()
        .collect())
}

pub async fn admit(store: &Store, req: &Request<'_>, obj: &mut Value) -> Result<(), ApiError> {
    if !applies(req) || !req.is("", "pods") {
        return Ok(());
    }
    let items = limit_items(store, req.namespace).await?;
    apply_defaults(&items, obj);
    Ok(())
}

pub async fn validate(store: &Store, req: &Request<'_>, obj: &Value) -> Result<(), ApiError> {
    if !applies(req) {
        return Ok(());
    }
    let items = limit_items(store, req.namespace).await?;
    let errs = check(&items, req, obj);
    match errs.len() {
        0 => Ok(()),
        1 => Err(forbidden(req, &errs[0])),
        _ => Err(forbidden(req, format!("[{}]", errs.join(", ")))),
    }
}

fn res_map<'a>(c: &'a Value, which: &str) -> Option<&'a Map<String, Value>> {
    c.get("resources")?.get(which)?.as_object()
}

/// Container defaults from every `type: Container` item, recorded in the
/// `kubernetes.io/limit-ranger` annotation as upstream does.
fn apply_defaults(items: &[Value], pod: &mut Value) {
    let mut notes = Vec::new();
    for item in items
        .iter()
        .filter(|i| i.get("type").and_then(Value::as_str) == Some("Container"))
    {
        for list in ["initContainers", "containers"] {
            let Some(spec) = pod.get_mut("spec") else {
                return;
            };
            for c in crate::validation::json::each_mut(spec, list) {
                let cname = c
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                for (field, which, label) in [
                    ("defaultRequest", "requests", "request"),
                    ("default", "limits", "limit"),
                ] {
                    let Some(defaults) = item.get(field).and_then(Value::as_object) else {
                        continue;
                    };
                    let Some(res) = crate::validation::json::ensure_obj(c, "resources")
                        .and_then(|r| crate::validation::json::ensure_obj(r, which))
                        .and_then(Value::as_object_mut)
                    else {
                        continue;
                    };
                    let mut set: Vec<&str> = Vec::new();
                    for (k, v) in defaults {
                        if !res.contains_key(k) {
                            res.insert(k.clone(), v.clone());
                            set.push(k);
                        }
                    }
                    if !set.is_empty() {
                        notes.push(format!(
                            "{} {label} for {} {cname}",
                            set.join(", "),
                            if list == "containers" {
                                "container"
                            } else {
                                "init container"
                            }
                        ));
                    }
                }
            }
        }
    }
    if !notes.is_empty() {
        let m = crate::registry::meta::metadata_mut(pod);
        let annotations = m.entry("annotations").or_insert_with(|| json!({}));
        if let Some(a) = annotations.as_object_mut() {
            a.insert(
                ANNOTATION.into(),
                json!(format!("LimitRanger plugin set: {}", notes.join("; "))),
            );
        }
    }
}

/// What one object asks for, per limit type: (requests, limits), with
/// `None` for a resource some part leaves unset.
struct Asked {
    requests: Map<String, Value>,
    limits: Map<String, Value>,
}

fn containers(pod: &Value) -> Vec<&Value> {
    ["initContainers", "containers"]
        .iter()
        .filter_map(|k| pod.pointer(&format!("/spec/{k}")).and_then(Value::as_array))
        .flatten()
        .collect()
}

fn check(items: &[Value], req: &Request<'_>, obj: &Value) -> Vec<String> {
    let mut errs = Vec::new();
    for item in items {
        let kind = item.get("type").and_then(Value::as_str).unwrap_or("");
        match (kind, req.def.plural) {
            ("Container", "pods") => {
                for c in containers(obj) {
                    let asked = Asked {
                        requests: res_map(c, "requests").cloned().unwrap_or_default(),
                        limits: res_map(c, "limits").cloned().unwrap_or_default(),
                    };
                    errs.extend(bounds(item, kind, &asked));
                }
            }
            ("Pod", "pods") => {
                let cs = containers(obj);
                let sum = |which: &str| {
                    let mut out = Map::new();
                    let keys: std::collections::BTreeSet<&String> = cs
                        .iter()
                        .filter_map(|c| res_map(c, which))
                        .flat_map(|m| m.keys())
                        .collect();
                    for k in keys {
                        // A pod total exists only when every container sets it.
                        let parts: Option<Vec<i128>> = cs
                            .iter()
                            .map(|c| res_map(c, which).and_then(|m| m.get(k)).and_then(milli_of))
                            .collect();
                        if let Some(p) = parts {
                            out.insert(k.clone(), json!(render(k, p.iter().sum::<i128>())));
                        }
                    }
                    out
                };
                errs.extend(bounds(
                    item,
                    kind,
                    &Asked {
                        requests: sum("requests"),
                        limits: sum("limits"),
                    },
                ));
            }
            ("PersistentVolumeClaim", "persistentvolumeclaims") => {
                let asked = Asked {
                    requests: obj
                        .pointer("/spec/resources/requests")
                        .and_then(Value::as_object)
                        .cloned()
                        .unwrap_or_default(),
                    limits: obj
                        .pointer("/spec/resources/limits")
                        .and_then(Value::as_object)
                        .cloned()
                        .unwrap_or_default(),
                };
                errs.extend(bounds(item, kind, &asked));
            }
            _ => {}
        }
    }
    errs
}

/// A quantity as written in the object (upstream prints the parsed
/// quantity, which keeps the written suffix).
fn shown(v: &Value, _resource: &str) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// upstream's minConstraint / maxConstraint / limitRequestRatioConstraint.
fn bounds(item: &Value, kind: &str, asked: &Asked) -> Vec<String> {
    let mut errs = Vec::new();
    let entries = |f: &str| -> Vec<(String, Value)> {
        let mut v: Vec<(String, Value)> = item
            .get(f)
            .and_then(Value::as_object)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };
    for (r, min) in entries("min") {
        let Some(enforced) = milli_of(&min) else {
            continue;
        };
        match asked.requests.get(&r).and_then(milli_of) {
            None => errs.push(format!(
                "minimum {r} usage per {kind} is {}.  No request is specified",
                shown(&min, &r)
            )),
            Some(req) if req < enforced => errs.push(format!(
                "minimum {r} usage per {kind} is {}, but request is {}",
                shown(&min, &r),
                shown(&asked.requests[&r], &r)
            )),
            Some(_) => {}
        }
    }
    for (r, max) in entries("max") {
        let Some(enforced) = milli_of(&max) else {
            continue;
        };
        // Claims bound their requested size; everything else its limit.
        let (values, what) = if kind == "PersistentVolumeClaim" {
            (&asked.requests, "request")
        } else {
            (&asked.limits, "limit")
        };
        match values.get(&r).and_then(milli_of) {
            None => errs.push(format!(
                "maximum {r} usage per {kind} is {}.  No {what} is specified",
                shown(&max, &r)
            )),
            Some(got) if got > enforced => errs.push(format!(
                "maximum {r} usage per {kind} is {}, but {what} is {}",
                shown(&max, &r),
                shown(&values[&r], &r)
            )),
            Some(_) => {}
        }
    }
    for (r, ratio) in entries("maxLimitRequestRatio") {
        let Some(enforced) = milli_of(&ratio) else {
            continue;
        };
        let limit = asked.limits.get(&r).and_then(milli_of);
        let request = asked.requests.get(&r).and_then(milli_of).filter(|q| *q > 0);
        match (limit, request) {
            (Some(l), Some(q)) => {
                let provided = l as f64 / q as f64;
                if provided > enforced as f64 / 1000.0 {
                    errs.push(format!("{r} max limit to request ratio per {kind} is {}, but provided ratio is {provided:.6}", shown(&ratio, "")));
                }
            }
            (None, _) => errs.push(format!("{r} max limit to request ratio per {kind} is {}, but no limit is specified", shown(&ratio, ""))),
            (_, None) => errs.push(format!("{r} max limit to request ratio per {kind} is {}, but no request is specified or request is 0", shown(&ratio, ""))),
        }
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admission::test_request;

    fn items() -> Vec<Value> {
        vec![json!({
            "type": "Container",
            "default": {"cpu": "500m", "memory": "256Mi"},
            "defaultRequest": {"cpu": "100m"},
            "min": {"cpu": "50m"},
            "max": {"cpu": "1", "memory": "1Gi"},
        })]
    }

    #[test]
    fn defaults_fill_what_containers_leave_out() {
        let mut pod = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "web", "resources": {"limits": {"memory": "128Mi"}}}]}});
        apply_defaults(&items(), &mut pod);
        let r = &pod["spec"]["containers"][0]["resources"];
        assert_eq!(r["limits"], json!({"memory": "128Mi", "cpu": "500m"}));
        assert_eq!(r["requests"], json!({"cpu": "100m"}));
        assert_eq!(
            pod["metadata"]["annotations"][ANNOTATION],
            "LimitRanger plugin set: cpu request for container web; cpu limit for container web"
        );
    }

    #[test]
    fn min_and_max_refuse_with_upstream_messages() {
        let r = test_request(Operation::Create, ("", "v1", "pods"), "default", "p");
        let pod = json!({"spec": {"containers": [{"name": "web", "resources": {"requests": {"cpu": "10m"}, "limits": {"cpu": "2", "memory": "512Mi"}}}]}});
        assert_eq!(
            check(&items(), &r, &pod),
            vec![
                "minimum cpu usage per Container is 50m, but request is 10m".to_string(),
                "maximum cpu usage per Container is 1, but limit is 2".to_string(),
            ]
        );
        let ok = json!({"spec": {"containers": [{"name": "web", "resources": {"requests": {"cpu": "100m"}, "limits": {"cpu": "500m", "memory": "256Mi"}}}]}});
        assert!(check(&items(), &r, &ok).is_empty());
    }

    #[test]
    fn ratio_and_claim_sizes() {
        let r = test_request(Operation::Create, ("", "v1", "pods"), "default", "p");
        let ratio = vec![json!({"type": "Container", "maxLimitRequestRatio": {"cpu": "2"}})];
        let pod = json!({"spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "100m"}, "limits": {"cpu": "500m"}}}]}});
        assert_eq!(
            check(&ratio, &r, &pod),
            vec![
                "cpu max limit to request ratio per Container is 2, but provided ratio is 5.000000"
                    .to_string()
            ]
        );
        let r = test_request(
            Operation::Create,
            ("", "v1", "persistentvolumeclaims"),
            "default",
            "c",
        );
        let pvc_items = vec![json!({"type": "PersistentVolumeClaim", "max": {"storage": "2Gi"}})];
        let pvc = json!({"spec": {"resources": {"requests": {"storage": "5Gi"}}}});
        assert_eq!(
            check(&pvc_items, &r, &pvc),
            vec![
                "maximum storage usage per PersistentVolumeClaim is 2Gi, but request is 5Gi"
                    .to_string()
            ]
        );
    }
}
