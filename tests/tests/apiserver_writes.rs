//! kubectl's write commands against kube-apiserver and real etcd: each
//! command's resulting object is read back with `kubectl get -o json` and
//! compared, field by field, with the values the command must produce
//! (client-side and server-side apply, edit, the three patch types, set,
//! label/annotate, scale, rollout restart, replace, diff, server dry run).

use harness::apiserver::ApiCluster;
use serde_json::Value;
use std::process::Command;

fn deployment(replicas: u32, image: &str, extra_label: bool) -> String {
    let extra = if extra_label { ", extra: \"yes\"" } else { "" };
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {{app: web{extra}}}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: web}}
  strategy:
    type: RollingUpdate
    rollingUpdate: {{maxSurge: 1, maxUnavailable: 0}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
      - name: nginx
        image: {image}
      - name: sidecar
        image: busybox:1.36
"#
    )
}

/// Writes `content` into the cluster's work directory and returns the path.
fn file(c: &ApiCluster, name: &str, content: &str) -> String {
    let p = c.work.path().join(name);
    std::fs::write(&p, content).expect("write manifest");
    p.display().to_string()
}

fn get(c: &ApiCluster, what: &str, extra: &[&str]) -> Value {
    let mut args = vec!["get", what, "-o", "json"];
    args.extend_from_slice(extra);
    serde_json::from_str(&c.kubectl_ok(&args)).expect("kubectl get -o json")
}

fn at<'a>(v: &'a Value, pointer: &str) -> &'a Value {
    v.pointer(pointer).unwrap_or(&Value::Null)
}

/// kubectl with extra environment variables; returns (exit code, stdout, stderr).
fn kubectl_env(c: &ApiCluster, env: &[(&str, &str)], args: &[&str]) -> (i32, String, String) {
    let out = Command::new("/usr/bin/kubectl")
        .arg(format!("--kubeconfig={}", c.kubeconfig("admin").display()))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("kubectl runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn managers(obj: &Value) -> Vec<(String, String)> {
    at(obj, "/metadata/managedFields")
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e["manager"].as_str().unwrap_or("").to_string(),
                e["operation"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn containers(obj: &Value) -> Vec<String> {
    at(obj, "/spec/template/spec/containers")
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str().map(String::from))
        .collect()
}

#[test]
fn client_side_apply_keeps_last_applied_and_deletes_removed_fields() {
    let c = ApiCluster::start();
    let f = file(&c, "d1.yaml", &deployment(2, "nginx:1.25", true));
    c.kubectl_ok(&["apply", "-f", &f]);
    let d = get(&c, "deployment/web", &["--show-managed-fields"]);
    assert_eq!(at(&d, "/spec/replicas"), 2);
    assert_eq!(at(&d, "/metadata/labels/extra"), "yes");
    let last = at(
        &d,
        "/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration",
    );
    assert!(
        last.as_str()
            .is_some_and(|s| s.contains("\"extra\":\"yes\"")),
        "{last}"
    );
    assert!(managers(&d).contains(&("kubectl-client-side-apply".into(), "Update".into())));
    assert_eq!(at(&d, "/metadata/generation"), 1);

    let f = file(&c, "d2.yaml", &deployment(3, "nginx:1.26", false));
    c.kubectl_ok(&["apply", "-f", &f]);
    let d = get(&c, "deployment/web", &[]);
    assert_eq!(at(&d, "/spec/replicas"), 3);
    assert_eq!(
        at(&d, "/metadata/labels/extra"),
        &Value::Null,
        "removed label deleted"
    );
    assert_eq!(
        at(&d, "/spec/template/spec/containers/0/image"),
        "nginx:1.26"
    );
    assert_eq!(containers(&d), vec!["nginx", "sidecar"]);
    assert_eq!(at(&d, "/metadata/generation"), 2);
    assert!(
        at(&d, "/metadata/managedFields").is_null(),
        "hidden without --show-managed-fields"
    );
}

#[test]
fn server_side_apply_owns_fields_conflicts_and_forces() {
    let c = ApiCluster::start();
    let f = file(&c, "d1.yaml", &deployment(2, "nginx:1.25", true));
    c.kubectl_ok(&["apply", "--server-side", "-f", &f]);
    let d = get(&c, "deployment/web", &["--show-managed-fields"]);
    assert_eq!(
        managers(&d),
        vec![("kubectl".to_string(), "Apply".to_string())]
    );
    let fields = at(&d, "/metadata/managedFields/0/fieldsV1");
    assert_eq!(at(fields, "/f:spec/f:replicas"), &serde_json::json!({}));
    assert!(
        at(
            fields,
            "/f:spec/f:template/f:spec/f:containers/k:{\"name\":\"nginx\"}/."
        )
        .is_object()
    );
    assert!(at(fields, "/f:status").is_null());

    // Applying again without the label removes it; the rest stays.
    let f = file(&c, "d2.yaml", &deployment(2, "nginx:1.25", false));
    c.kubectl_ok(&["apply", "--server-side", "-f", &f]);
    let d = get(&c, "deployment/web", &[]);
    assert_eq!(at(&d, "/metadata/labels/extra"), &Value::Null);
    assert_eq!(at(&d, "/metadata/labels/app"), "web");

    // Another manager takes spec.replicas; applying a different value conflicts.
    c.kubectl_ok(&[
        "patch",
        "deployment/web",
        "--type=merge",
        "-p",
        r#"{"spec":{"replicas":4}}"#,
        "--field-manager=kubectl-client-side-apply",
    ]);
    let f = file(&c, "d3.yaml", &deployment(5, "nginx:1.25", false));
    let (ok, _, err) = c.kubectl(&["apply", "--server-side", "-f", &f]);
    assert!(!ok);
    assert!(
        err.contains("Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using apps/v1: .spec.replicas"),
        "{err}"
    );
    assert_eq!(at(&get(&c, "deployment/web", &[]), "/spec/replicas"), 4);
    c.kubectl_ok(&["apply", "--server-side", "--force-conflicts", "-f", &f]);
    let d = get(&c, "deployment/web", &["--show-managed-fields"]);
    assert_eq!(at(&d, "/spec/replicas"), 5);
    let csa = at(&d, "/metadata/managedFields")
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|e| e["manager"] == "kubectl-client-side-apply")
        })
        .cloned();
    assert!(
        csa.is_none_or(|e| e.pointer("/fieldsV1/f:spec/f:replicas").is_none()),
        "forcing took the field"
    );
}

#[test]
fn edit_with_an_editor_script() {
    let c = ApiCluster::start();
    let (ok, _, err) = c.kubectl_stdin(&["apply", "-f", "-"], &deployment(1, "nginx:1.25", false));
    assert!(ok, "{err}");
    let script = file(
        &c,
        "editor.sh",
        "#!/bin/sh\nsed -i 's/image: nginx:1.25/image: nginx:1.27/' \"$1\"\n",
    );
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let (code, out, err) = kubectl_env(&c, &[("EDITOR", &script)], &["edit", "deployment/web"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("deployment.apps/web edited"), "{out}");
    let d = get(&c, "deployment/web", &["--show-managed-fields"]);
    assert_eq!(
        at(&d, "/spec/template/spec/containers/0/image"),
        "nginx:1.27"
    );
    assert!(managers(&d).contains(&("kubectl-edit".into(), "Update".into())));
}

#[test]
fn patch_json_merge_and_strategic() {
    let c = ApiCluster::start();
    let (ok, _, err) = c.kubectl_stdin(&["apply", "-f", "-"], &deployment(1, "nginx:1.25", false));
    assert!(ok, "{err}");
    c.kubectl_ok(&[
        "patch", "deployment/web", "--type=json", "-p",
        r#"[{"op":"replace","path":"/spec/replicas","value":3},{"op":"add","path":"/metadata/labels/j","value":"1"}]"#,
    ]);
    let d = get(&c, "deployment/web", &[]);
    assert_eq!(
        (at(&d, "/spec/replicas"), at(&d, "/metadata/labels/j")),
        (&3.into(), &"1".into())
    );

    c.kubectl_ok(&[
        "patch",
        "deployment/web",
        "--type=merge",
        "-p",
        r#"{"metadata":{"labels":{"j":null,"m":"2"}}}"#,
    ]);
    let d = get(&c, "deployment/web", &[]);
    assert_eq!(at(&d, "/metadata/labels/j"), &Value::Null);
    assert_eq!(at(&d, "/metadata/labels/m"), "2");

    // Strategic: containers merge by name; $patch: delete removes one.
    c.kubectl_ok(&[
        "patch", "deployment/web", "--type=strategic", "-p",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","$patch":"delete"},{"name":"nginx","image":"nginx:1.26"}]}}}}"#,
    ]);
    let d = get(&c, "deployment/web", &[]);
    assert_eq!(containers(&d), vec!["nginx"]);
    assert_eq!(
        at(&d, "/spec/template/spec/containers/0/image"),
        "nginx:1.26"
    );

    // $retainKeys: switching the strategy drops rollingUpdate.
    c.kubectl_ok(&[
        "patch",
        "deployment/web",
        "--type=strategic",
        "-p",
        r#"{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}}"#,
    ]);
    let d = get(&c, "deployment/web", &[]);
    assert_eq!(
        at(&d, "/spec/strategy"),
        &serde_json::json!({"type": "Recreate"})
    );

    // An invalid strategic patch gets upstream's 400 text.
    let (ok, _, err) = c.kubectl(&[
        "patch",
        "deployment/web",
        "--type=strategic",
        "-p",
        r#"{"spec":{"strategy":{"$retainKeys":"type"}}}"#,
    ]);
    assert!(!ok);
    assert!(err.contains("invalid patch format of retainKeys"), "{err}");
}

#[test]
fn set_image_env_and_resources() {
    let c = ApiCluster::start();
    let (ok, _, err) = c.kubectl_stdin(&["apply", "-f", "-"], &deployment(1, "nginx:1.25", false));
    assert!(ok, "{err}");
    c.kubectl_ok(&[
        "set",
        "image",
        "deployment/web",
        "nginx=nginx:1.28",
        "--record",
    ]);
    c.kubectl_ok(&[
        "set",
        "env",
        "deployment/web",
        "-c",
        "nginx",
        "MODE=prod",
        "LEVEL=3",
    ]);
    c.kubectl_ok(&[
        "set",
        "resources",
        "deployment/web",
        "-c",
        "nginx",
        "--limits=cpu=200m,memory=256Mi",
        "--requests=cpu=100m",
    ]);
    let d = get(&c, "deployment/web", &[]);
    let nginx = at(&d, "/spec/template/spec/containers/0");
    assert_eq!(nginx["image"], "nginx:1.28");
    assert_eq!(
        at(&d, "/spec/template/spec/containers/1/image"),
        "busybox:1.36"
    );
    assert!(
        at(&d, "/metadata/annotations/kubernetes.io~1change-cause")
            .as_str()
            .is_some_and(|s| s.contains("set image")),
        "--record writes the change cause"
    );
    assert_eq!(
        nginx["env"],
        serde_json::json!([{"name": "MODE", "value": "prod"}, {"name": "LEVEL", "value": "3"}])
    );
    assert_eq!(
        nginx["resources"]["limits"],
        serde_json::json!({"cpu": "200m", "memory": "256Mi"})
    );
    assert_eq!(
        nginx["resources"]["requests"],
        serde_json::json!({"cpu": "100m"})
    );
    c.kubectl_ok(&["set", "env", "deployment/web", "-c", "nginx", "MODE-"]);
    let d = get(&c, "deployment/web", &[]);
    assert_eq!(
        at(&d, "/spec/template/spec/containers/0/env"),
        &serde_json::json!([{"name": "LEVEL", "value": "3"}])
    );
}

#[test]
fn label_annotate_scale_and_rollout_restart() {
    let c = ApiCluster::start();
    let (ok, _, err) = c.kubectl_stdin(&["apply", "-f", "-"], &deployment(1, "nginx:1.25", false));
    assert!(ok, "{err}");
    c.kubectl_ok(&["label", "deployment/web", "team=a"]);
    let (ok, _, err) = c.kubectl(&["label", "deployment/web", "team=b"]);
    assert!(!ok && err.contains("already has a value (a)"), "{err}");
    c.kubectl_ok(&["label", "deployment/web", "team=b", "--overwrite"]);
    c.kubectl_ok(&["annotate", "deployment/web", "note=one"]);
    c.kubectl_ok(&["annotate", "deployment/web", "note=two", "--overwrite"]);
    let d = get(&c, "deployment/web", &[]);
    assert_eq!(
        (
            at(&d, "/metadata/labels/team"),
            at(&d, "/metadata/annotations/note")
        ),
        (&"b".into(), &"two".into())
    );
    c.kubectl_ok(&["label", "deployment/web", "team-"]);
    c.kubectl_ok(&["annotate", "deployment/web", "note-"]);
    let d = get(&c, "deployment/web", &[]);
    assert_eq!(at(&d, "/metadata/labels/team"), &Value::Null);
    assert_eq!(at(&d, "/metadata/annotations/note"), &Value::Null);
    assert_eq!(at(&d, "/metadata/labels/app"), "web");

    c.kubectl_ok(&["scale", "deployment/web", "--replicas=4"]);
    let d = get(&c, "deployment/web", &["--show-managed-fields"]);
    assert_eq!(at(&d, "/spec/replicas"), 4);
    let scale_entry = at(&d, "/metadata/managedFields")
        .as_array()
        .and_then(|a| a.iter().find(|e| e["subresource"] == "scale"))
        .cloned()
        .unwrap_or_default();
    assert!(
        scale_entry.pointer("/fieldsV1/f:spec/f:replicas").is_some(),
        "{scale_entry}"
    );

    c.kubectl_ok(&["rollout", "restart", "deployment/web"]);
    let d = get(&c, "deployment/web", &[]);
    assert!(
        at(
            &d,
            "/spec/template/metadata/annotations/kubectl.kubernetes.io~1restartedAt"
        )
        .as_str()
        .is_some_and(|t| t.contains('T')),
        "{}",
        at(&d, "/spec/template/metadata")
    );
}

#[test]
fn replace_and_replace_force() {
    let c = ApiCluster::start();
    let (ok, _, err) = c.kubectl_stdin(&["create", "-f", "-"], &deployment(1, "nginx:1.25", false));
    assert!(ok, "{err}");
    let uid = at(&get(&c, "deployment/web", &[]), "/metadata/uid").clone();
    let f = file(&c, "r.yaml", &deployment(2, "nginx:1.26", true));
    c.kubectl_ok(&["replace", "-f", &f]);
    let d = get(&c, "deployment/web", &[]);
    assert_eq!(
        (at(&d, "/spec/replicas"), at(&d, "/metadata/uid")),
        (&2.into(), &uid)
    );
    assert_eq!(at(&d, "/metadata/labels/extra"), "yes");
    let f = file(&c, "r2.yaml", &deployment(3, "nginx:1.27", false));
    c.kubectl_ok(&["replace", "--force", "-f", &f]);
    let d = get(&c, "deployment/web", &[]);
    assert_eq!(at(&d, "/spec/replicas"), 3);
    assert_ne!(at(&d, "/metadata/uid"), &uid, "--force deletes and creates");
    assert_eq!(at(&d, "/metadata/labels/extra"), &Value::Null);
}

#[test]
fn diff_exit_codes_and_server_dry_run() {
    let c = ApiCluster::start();
    let f = file(&c, "d.yaml", &deployment(2, "nginx:1.25", false));
    c.kubectl_ok(&["apply", "-f", &f]);
    let (code, out, err) = kubectl_env(&c, &[], &["diff", "-f", &f]);
    assert_eq!(code, 0, "no difference: {out}{err}");
    let f2 = file(&c, "d2.yaml", &deployment(3, "nginx:1.25", false));
    let (code, out, err) = kubectl_env(&c, &[], &["diff", "-f", &f2]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("-  replicas: 2") && out.contains("+  replicas: 3"),
        "{out}"
    );
    assert_eq!(
        at(&get(&c, "deployment/web", &[]), "/spec/replicas"),
        2,
        "diff stores nothing"
    );

    // create --dry-run=server answers the defaulted object and stores nothing.
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dry\ndata:\n  k: v\n";
    let (ok, out, err) =
        c.kubectl_stdin(&["create", "--dry-run=server", "-o", "yaml", "-f", "-"], cm);
    assert!(ok, "{err}");
    assert!(out.contains("name: dry") && out.contains("uid:"), "{out}");
    let (ok, _, err) = c.kubectl(&["get", "configmap", "dry"]);
    assert!(!ok && err.contains("NotFound"), "{err}");
    // A server dry run of an existing object still fails as the create would.
    let (ok, _, err) = c.kubectl_stdin(
        &["create", "--dry-run=server", "-f", "-"],
        &deployment(1, "x", false),
    );
    assert!(!ok && err.contains("AlreadyExists"), "{err}");
    // The same for a patch: the answer shows the change, the store doesn't.
    let out = c.kubectl_ok(&[
        "patch",
        "deployment/web",
        "--type=merge",
        "-p",
        r#"{"spec":{"replicas":7}}"#,
        "--dry-run=server",
        "-o",
        "jsonpath={.spec.replicas}",
    ]);
    assert_eq!(out, "7");
    assert_eq!(at(&get(&c, "deployment/web", &[]), "/spec/replicas"), 2);
}

#[test]
fn write_options_are_validated() {
    let c = ApiCluster::start();
    let cm = br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}"#;
    let (code, body) = c.request(
        "POST",
        "/api/v1/namespaces/default/configmaps?dryRun=Sometimes",
        Some("application/json"),
        Some(cm),
    );
    assert_eq!(code, 422, "{body}");
    assert_eq!(
        body["message"],
        "CreateOptions.meta.k8s.io \"\" is invalid: dryRun: Unsupported value: []string{\"Sometimes\"}: supported values: \"All\""
    );
    let (code, body) = c.request(
        "PATCH",
        "/api/v1/namespaces/default/configmaps/a",
        Some("application/apply-patch+yaml"),
        Some(cm),
    );
    assert_eq!(code, 422, "{body}");
    assert_eq!(
        body["message"],
        "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"
    );
    // Apply creates when absent (201), then answers 200.
    let (code, body) = c.request(
        "PATCH",
        "/api/v1/namespaces/default/configmaps/a?fieldManager=me",
        Some("application/apply-patch+yaml"),
        Some(b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n"),
    );
    assert_eq!(code, 201, "{body}");
    assert_eq!(body["metadata"]["managedFields"][0]["manager"], "me");
    assert_eq!(
        body["metadata"]["managedFields"][0]["fieldsV1"],
        serde_json::json!({"f:data": {"f:k": {}}})
    );
    let (code, _) = c.request(
        "PATCH",
        "/api/v1/namespaces/default/configmaps/a?fieldManager=me&dryRun=All",
        Some("application/apply-patch+yaml"),
        Some(b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: w\n"),
    );
    assert_eq!(code, 200);
    assert_eq!(
        at(&get(&c, "configmap/a", &[]), "/data/k"),
        "v",
        "dry-run apply stores nothing"
    );
}

#[test]
fn server_side_apply_over_client_side_apply_conflicts_on_changed_fields() {
    let c = ApiCluster::start();
    let f = file(&c, "d1.yaml", &deployment(2, "nginx:1.25", false));
    c.kubectl_ok(&["apply", "-f", &f]);
    let f = file(&c, "d2.yaml", &deployment(5, "nginx:1.25", false));
    let (ok, _, err) = c.kubectl(&["apply", "--server-side", "-f", &f]);
    assert!(!ok);
    assert!(
        err.contains("Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using apps/v1: .spec.replicas"),
        "{err}"
    );
    c.kubectl_ok(&["apply", "--server-side", "--force-conflicts", "-f", &f]);
    let d = get(&c, "deployment/web", &["--show-managed-fields"]);
    assert_eq!(at(&d, "/spec/replicas"), 5);
    assert!(
        managers(&d).contains(&("kubectl".into(), "Apply".into())),
        "{:?}",
        managers(&d)
    );

    // A patch whose value doesn't fit the type is refused as upstream's
    // unstructured converter words it, nothing stored.
    let (code, body) = c.request(
        "PATCH",
        "/apis/apps/v1/namespaces/default/deployments/web",
        Some("application/strategic-merge-patch+json"),
        Some(br#"{"spec":{"replicas":"many"}}"#),
    );
    assert_eq!(code, 422, "{body}");
    assert_eq!(
        body["message"],
        " \"\" is invalid: patch: Invalid value: \"map[spec:map[replicas:many]]\": unrecognized type: int32"
    );
    assert_eq!(at(&get(&c, "deployment/web", &[]), "/spec/replicas"), 5);
}
