//! The clusterrole-aggregation controller through the real binaries: the
//! bootstrap `admin`/`edit`/`view` roles get their rules from the
//! `system:aggregate-to-*` roles, a new ClusterRole labelled
//! `aggregate-to-view` adds its rules to view (and through the label chain
//! to edit and admin), and removing the label takes them away again.

use harness::controller_manager::CmCluster;
use harness::process::wait_until;
use serde_json::{Value, json};
use std::time::Duration;

const LABEL: &str = "rbac.authorization.k8s.io/aggregate-to-view";

/// `kubectl auth can-i` as `flanneld` (a PKI identity with no rights on
/// secrets of its own).
fn can_i(c: &CmCluster, args: &[&str]) -> String {
    let mut a = vec!["auth", "can-i"];
    a.extend_from_slice(args);
    c.api.kubectl_as("flanneld", &a).1.trim().to_string()
}

/// `role`'s rules.
fn rules_of(c: &CmCluster, role: &str) -> Vec<Value> {
    let (_, out, _) = c.kubectl(&["get", "clusterrole", role, "-o", "json"]);
    serde_json::from_str::<Value>(&out)
        .ok()
        .and_then(|v| v.get("rules").and_then(Value::as_array).cloned())
        .unwrap_or_default()
}

/// Waits until `role` has (or lacks) a rule naming `resource` and, when
/// given, exactly `verbs`.
fn wait_rules(c: &CmCluster, role: &str, resource: &str, verbs: Option<&[&str]>, present: bool) {
    let mut last = Vec::new();
    let ok = wait_until(Duration::from_secs(20), || {
        last = rules_of(c, role);
        let has = last.iter().any(|r| {
            r["resources"]
                .as_array()
                .is_some_and(|rs| rs.contains(&json!(resource)))
                && verbs.is_none_or(|v| r["verbs"] == json!(v))
        });
        has == present
    });
    assert!(
        ok,
        "{role}: wanted {resource} {verbs:?} present={present}, rules: {last:?}\n{}",
        c.cm_log()
    );
}

#[test]
fn labelled_cluster_roles_aggregate_into_view_edit_and_admin() {
    let c = CmCluster::start("clusterrole-aggregation", 0);
    // Bootstrap pieces flow in: view reads pods, edit writes deployments,
    // admin manages rolebindings.
    wait_rules(&c, "view", "pods", None, true);
    wait_rules(&c, "edit", "deployments", None, true);
    wait_rules(&c, "admin", "rolebindings", None, true);
    let view = rules_of(&c, "view");
    let pieces = rules_of(&c, "system:aggregate-to-view");
    assert_eq!(view, pieces, "view is exactly its one bootstrap piece");
    assert!(
        !view.iter().any(|r| r.to_string().contains("\"secrets\"")),
        "{view:?}"
    );

    c.kubectl_ok(&[
        "create",
        "clusterrolebinding",
        "flanneld-view",
        "--clusterrole=view",
        "--user=flanneld",
    ]);
    assert_eq!(can_i(&c, &["list", "pods", "-n", "default"]), "yes");
    assert_eq!(can_i(&c, &["get", "secrets", "-n", "default"]), "no");

    c.apply(&format!(
        r#"{{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole",
        "metadata":{{"name":"secret-reader","labels":{{"{LABEL}":"true"}}}},
        "rules":[{{"apiGroups":[""],"resources":["secrets"],"verbs":["get"]}}]}}"#
    ));
    let get: &[&str] = &["get"];
    wait_rules(&c, "view", "secrets", Some(get), true);
    // view carries aggregate-to-edit, edit carries aggregate-to-admin.
    wait_rules(&c, "edit", "secrets", Some(get), true);
    wait_rules(&c, "admin", "secrets", Some(get), true);
    let ok = wait_until(Duration::from_secs(10), || {
        can_i(&c, &["get", "secrets", "-n", "default"]) == "yes"
    });
    assert!(ok, "view did not grant the aggregated rule");
    assert_eq!(can_i(&c, &["delete", "secrets", "-n", "default"]), "no");

    // Removing the label removes the rules.
    c.kubectl_ok(&[
        "label",
        "clusterrole",
        "secret-reader",
        &format!("{LABEL}-"),
    ]);
    wait_rules(&c, "view", "secrets", Some(get), false);
    wait_rules(&c, "admin", "secrets", Some(get), false);
    let ok = wait_until(Duration::from_secs(10), || {
        can_i(&c, &["get", "secrets", "-n", "default"]) == "no"
    });
    assert!(ok, "rule still granted after the label went");
    // The bootstrap pieces stay.
    wait_rules(&c, "view", "pods", None, true);
}
