//! Server-side apply against live objects: ownership, removal of fields
//! no longer applied, conflicts and forcing.

use super::*;
use crate::registry::patch::types::Guessed;
use serde_json::json;

fn applier(name: &str, force: bool) -> Apply<'static> {
    Apply {
        manager: Manager {
            name: name.into(),
            operation: "Apply",
            api_version: "apps/v1".into(),
            subresource: String::new(),
        },
        force,
        types: &Guessed,
        def: None,
        now: "2026-11-22T16:00:00Z".into(),
    }
}

fn updater(name: &str) -> Manager {
    Manager {
        name: name.into(),
        operation: "Update",
        api_version: "apps/v1".into(),
        subresource: String::new(),
    }
}

fn config(replicas: i64, with_label: bool) -> Value {
    let mut c = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "app", "image": "a:1"}]}}}
    });
    if with_label {
        c["metadata"]["labels"]["extra"] = json!("yes");
    }
    c
}

fn live_from(created: Value) -> Value {
    let mut l = created;
    l["metadata"]["uid"] = json!("u1");
    l["metadata"]["resourceVersion"] = json!("5");
    l["status"] = json!({"replicas": 0});
    l
}

#[test]
fn apply_owns_exactly_what_it_applies_and_drops_what_it_stops_applying() {
    let a = applier("mgr", false);
    let live = live_from(a.to_new(&config(2, true)));
    assert_eq!(live["metadata"]["managedFields"][0]["operation"], "Apply");
    assert_eq!(
        live["metadata"]["managedFields"][0]["fieldsV1"]["f:metadata"]["f:labels"],
        json!({"f:app": {}, "f:extra": {}})
    );
    let out = a
        .to_live(&live, &config(3, false))
        .expect("no conflict with itself");
    assert_eq!(out["spec"]["replicas"], 3);
    assert_eq!(out["metadata"]["labels"], json!({"app": "web"}));
    assert_eq!(out["metadata"]["uid"], "u1");
    assert_eq!(out["status"], json!({"replicas": 0}));
    assert_eq!(
        out["metadata"]["managedFields"].as_array().map(Vec::len),
        Some(1)
    );
}

#[test]
fn a_field_another_manager_set_conflicts_unless_forced() {
    let a = applier("kubectl", false);
    let mut live = live_from(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "app", "image": "a:1"}]}}}
    }));
    let old = live.clone();
    live["spec"]["replicas"] = json!(2);
    managed::record_update(
        &Guessed,
        None,
        &mut live,
        None,
        &updater("kubectl-client-side-apply"),
        "t",
    );
    let _ = old;
    let err = a.to_live(&live, &config(5, false)).expect_err("conflict");
    assert_eq!(err.code, 409);
    assert_eq!(
        err.message,
        "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using apps/v1: .spec.replicas"
    );
    assert_eq!(err.details["causes"][0]["field"], ".spec.replicas");
    // Same value: shared ownership, no conflict.
    let same = a
        .to_live(&live, &config(2, false))
        .expect("same value is no conflict");
    assert_eq!(
        same["metadata"]["managedFields"].as_array().map(Vec::len),
        Some(2)
    );
    // Forced: the applier takes the field.
    let forced = applier("kubectl", true)
        .to_live(&live, &config(5, false))
        .expect("forced");
    assert_eq!(forced["spec"]["replicas"], 5);
    let entries = managed::read(&forced);
    let csa = entries
        .iter()
        .find(|e| e.manager.name == "kubectl-client-side-apply")
        .expect("entry");
    assert!(
        csa.fields
            .children
            .get("f:spec")
            .and_then(|s| s.children.get("f:replicas"))
            .is_none()
    );
}

#[test]
fn fields_another_manager_owns_stay_when_the_applier_lets_go() {
    let a = applier("a", false);
    let b = applier("b", false);
    let live = live_from(a.to_new(&config(2, true)));
    let both = b.to_live(&live, &config(2, true)).expect("same values");
    let after = a
        .to_live(&both, &config(2, false))
        .expect("a drops the label");
    assert_eq!(
        after["metadata"]["labels"]["extra"], "yes",
        "b still applies it"
    );
}

#[test]
fn list_items_merge_by_key_across_appliers() {
    let a = applier("a", false);
    let b = applier("b", false);
    let live = live_from(a.to_new(&config(2, false)));
    let side = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"template": {"spec": {"containers": [{"name": "side", "image": "s:1"}]}}}});
    let out = b.to_live(&live, &side).expect("disjoint");
    let names: Vec<&str> = out["spec"]["template"]["spec"]["containers"]
        .as_array()
        .map(|a| a.iter().filter_map(|c| c["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, vec!["app", "side"]);
    assert_eq!(out["spec"]["replicas"], 2);
}

#[test]
fn updates_move_ownership_and_keep_entries() {
    let mut obj = json!({"metadata": {"name": "x", "labels": {"a": "1"}}, "data": {"k": "v"}});
    managed::record_update(
        &Guessed,
        None,
        &mut obj,
        None,
        &updater("kubectl-create"),
        "t1",
    );
    let old = obj.clone();
    let mut new = json!({"metadata": {"name": "x", "labels": {"a": "2"}}, "data": {"k": "v"}});
    managed::record_update(
        &Guessed,
        None,
        &mut new,
        Some(&old),
        &updater("kubectl-label"),
        "t2",
    );
    let entries = managed::read(&new);
    assert_eq!(entries.len(), 2);
    assert_eq!(
        entries[1].fields.to_fields_v1(),
        json!({"f:metadata": {"f:labels": {"f:a": {}}}})
    );
    assert_eq!(
        entries[0].fields.to_fields_v1(),
        json!({"f:data": {".": {}, "f:k": {}}, "f:metadata": {"f:labels": {}}})
    );
    // No change: entries and times stay.
    let mut same = new.clone();
    managed::record_update(
        &Guessed,
        None,
        &mut same,
        Some(&new),
        &updater("kubectl-edit"),
        "t3",
    );
    assert_eq!(
        same["metadata"]["managedFields"],
        new["metadata"]["managedFields"]
    );
}

#[test]
fn manager_names() {
    assert_eq!(
        Manager::name_from(None, Some("kubectl/v1.32.0 (linux/amd64) kubernetes/abc")),
        "kubectl"
    );
    assert_eq!(
        Manager::name_from(Some("kubectl-edit"), Some("kubectl/v1.32.0")),
        "kubectl-edit"
    );
    assert_eq!(updater("m").describe(), "\"m\" using apps/v1");
    assert_eq!(applier("m", false).manager.describe(), "\"m\"");
}
