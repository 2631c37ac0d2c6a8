//! Server-side apply of a `scale` subresource (`PATCH .../scale` with
//! `application/apply-patch+yaml`), as upstream allows on every scale
//! subresource: the applied configuration is an `autoscaling/v1` Scale,
//! applied to the object's Scale view, whose only owned field is
//! `spec.replicas`; ownership of that field is kept on the object itself
//! (an `Apply` entry with subresource `scale`), so conflicts with other
//! writers of the object's replicas are found as upstream finds them.

use crate::apiextensions::registry::ScalePaths;
use crate::registry::apply::Apply;
use crate::registry::apply::fieldset::FieldSet;
use crate::registry::apply::managed::{self, Manager};
use crate::registry::patch::types::Guessed;
use crate::status::ApiError;
use serde_json::{Value, json};

/// The Scale's own kind: an applied configuration of anything else is
/// upstream's 400 `invalid object type: <group>/<version>, Kind=<kind>`.
fn check_kind(applied: &Value) -> Result<(), ApiError> {
    let api_version = applied
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    let kind = applied.get("kind").and_then(Value::as_str).unwrap_or("");
    if api_version == "autoscaling/v1" && kind == "Scale" {
        return Ok(());
    }
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    Err(ApiError::bad_request(format!(
        "invalid object type: {group}/{version}, Kind={kind}"
    )))
}

/// The object's replicas field as managed-fields path elements
/// (`f:spec`, `f:replicas`); custom resources name it in their CRD.
fn replicas_path(custom: Option<&ScalePaths>) -> Vec<String> {
    let path = custom.map_or(".spec.replicas", |p| p.spec_replicas.as_str());
    path.split('.')
        .filter(|s| !s.is_empty())
        .map(|s| format!("f:{s}"))
        .collect()
}

fn set_of(path: &[String]) -> FieldSet {
    let mut s = FieldSet::default();
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    s.insert(&p);
    s
}

fn owns(fields: &FieldSet, path: &FieldSet) -> bool {
    !fields.intersection(path).is_empty()
}

/// `applied` (a Scale) applied by `manager` to the object `cur` whose
/// Scale view is `scale`: the object with its new replicas and managed
/// fields, or the 400/409 upstream answers.
pub fn apply_to_object(
    cur: &Value,
    scale: &Value,
    applied: &Value,
    custom: Option<&ScalePaths>,
    manager: &Manager,
    force: bool,
    now: &str,
) -> Result<Value, ApiError> {
    check_kind(applied)?;
    let object_path = set_of(&replicas_path(custom));
    let scale_path = set_of(&["f:spec".to_string(), "f:replicas".to_string()]);
    // The Scale view carries who owns the object's replicas.
    let entries = managed::read(cur);
    let mut view = scale.clone();
    let view_entries: Vec<managed::Entry> = entries
        .iter()
        .filter(|e| owns(&e.fields, &object_path))
        .map(|e| managed::Entry {
            fields: scale_path.clone(),
            ..e.clone()
        })
        .collect();
    managed::write(&mut view, &view_entries);
    let apply = Apply {
        manager: manager.clone(),
        force,
        types: &Guessed,
        def: None,
        now: now.to_string(),
    };
    let result = apply.to_live(&view, applied)?;
    let after = managed::read(&result);
    let owner_after = |m: &Manager| {
        after
            .iter()
            .any(|e| e.manager == *m && owns(&e.fields, &scale_path))
    };

    let mut obj = cur.clone();
    if let Some(r) = result.pointer("/spec/replicas").and_then(Value::as_i64) {
        match custom {
            Some(p) => crate::apiextensions::scale::set_replicas(p, &mut obj, r),
            None => obj["spec"]["replicas"] = json!(r),
        }
    }
    let mut out: Vec<managed::Entry> = Vec::new();
    for mut e in entries {
        if e.manager == *manager {
            continue;
        }
        if owns(&e.fields, &object_path) && !owner_after(&e.manager) {
            e.fields = e.fields.difference(&object_path);
        }
        out.push(e);
    }
    if owner_after(manager) {
        out.push(managed::Entry {
            manager: manager.clone(),
            time: now.to_string(),
            fields: object_path,
        });
    }
    managed::write(&mut obj, &out);
    Ok(obj)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manager(name: &str, operation: &'static str, sub: &str) -> Manager {
        Manager {
            name: name.into(),
            operation,
            api_version: "apps/v1".into(),
            subresource: sub.into(),
        }
    }

    fn deployment(replicas: i64) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d", "namespace": "default"},
            "spec": {"replicas": replicas}})
    }

    fn scale(replicas: i64) -> Value {
        json!({"apiVersion": "autoscaling/v1", "kind": "Scale",
            "metadata": {"name": "d", "namespace": "default"},
            "spec": {"replicas": replicas}, "status": {"replicas": 0}})
    }

    #[test]
    fn applies_replicas_and_records_the_owner() {
        let applied = json!({"apiVersion": "autoscaling/v1", "kind": "Scale",
            "metadata": {"name": "d"}, "spec": {"replicas": 5}});
        let m = manager("t", "Apply", "scale");
        let out = apply_to_object(&deployment(1), &scale(1), &applied, None, &m, false, "now")
            .expect("applies");
        assert_eq!(out["spec"]["replicas"], 5);
        let e = managed::read(&out);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].manager, m);
        assert_eq!(
            e[0].fields.to_fields_v1(),
            json!({"f:spec": {"f:replicas": {}}})
        );
    }

    #[test]
    fn the_wrong_kind_is_upstreams_400() {
        let m = manager("t", "Apply", "scale");
        let e = apply_to_object(
            &deployment(1),
            &scale(1),
            &json!({}),
            None,
            &m,
            false,
            "now",
        )
        .expect_err("no kind");
        assert_eq!(
            (e.code, e.message.as_str()),
            (400, "invalid object type: /, Kind=")
        );
        let d = json!({"apiVersion": "apps/v1", "kind": "Deployment"});
        let e = apply_to_object(&deployment(1), &scale(1), &d, None, &m, false, "now")
            .expect_err("a Deployment is no Scale");
        assert_eq!(e.message, "invalid object type: apps/v1, Kind=Deployment");
    }

    #[test]
    fn another_owner_of_replicas_conflicts_unless_forced() {
        let mut cur = deployment(1);
        let other = manager("kubectl", "Update", "");
        managed::write(
            &mut cur,
            &[managed::Entry {
                manager: other.clone(),
                time: "t0".into(),
                fields: set_of(&["f:spec".into(), "f:replicas".into()]),
            }],
        );
        let applied = json!({"apiVersion": "autoscaling/v1", "kind": "Scale",
            "metadata": {"name": "d"}, "spec": {"replicas": 3}});
        let m = manager("t", "Apply", "scale");
        let e = apply_to_object(&cur, &scale(1), &applied, None, &m, false, "now")
            .expect_err("conflict");
        assert_eq!(e.code, 409);
        let out =
            apply_to_object(&cur, &scale(1), &applied, None, &m, true, "now").expect("forced");
        assert_eq!(out["spec"]["replicas"], 3);
        let e = managed::read(&out);
        assert!(e.iter().all(|x| x.manager != other || x.fields.is_empty()));
        assert!(e.iter().any(|x| x.manager == m));
    }
}
