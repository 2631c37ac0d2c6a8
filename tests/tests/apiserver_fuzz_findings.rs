//! Regression tests for what schema-driven fuzzing of the running
//! apiserver found (issue 11), each through the real binary and each
//! failing on the old behaviour: server-side apply on `scale` and
//! `status`, unknown fields whose names hold `.` or `[` reaching etcd, a
//! keep-alive connection dropped after an error answer to a large body,
//! watches with a negative `timeoutSeconds` that never end, query and
//! DeleteOptions values upstream refuses, `deletecollection` on
//! namespaces, and a client certificate beside an unknown bearer token.

use harness::apiserver::ApiCluster;
use serde_json::{Value, json};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const DEPLOYS: &str = "/apis/apps/v1/namespaces/default/deployments";
const CMS: &str = "/api/v1/namespaces/default/configmaps";
const J: Option<&str> = Some("application/json");
const APPLY: Option<&str> = Some("application/apply-patch+yaml");
const MERGE: Option<&str> = Some("application/merge-patch+json");

fn deployment(name: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}))
    .expect("json")
}

/// curl with the admin's certificate (unless `cert` is false) and extra
/// arguments; returns (exit success, stdout, stderr).
fn curl(c: &ApiCluster, cert: bool, args: &[&str]) -> (bool, String, String) {
    let mut cmd = Command::new(harness::bins::system("curl"));
    cmd.arg("-sS").arg("--cacert").arg(c.pki.ca());
    if cert {
        cmd.arg("--cert")
            .arg(c.pki.cert("admin"))
            .arg("--key")
            .arg(c.pki.key("admin"));
    }
    let out = cmd
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("curl runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn server_side_apply_on_scale_and_status() {
    let c = ApiCluster::start();
    assert_eq!(
        c.request("POST", DEPLOYS, J, Some(&deployment("web"))).0,
        201
    );
    let scale = format!("{DEPLOYS}/web/scale");

    // No fieldManager: PatchOptions' validation, as for any apply.
    let (code, body) = c.request("PATCH", &scale, APPLY, Some(b"{}"));
    assert_eq!(code, 422, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .contains("fieldManager: Required value"),
        "{body}"
    );
    // An applied configuration that is no Scale: upstream's 400.
    let (code, body) = c.request(
        "PATCH",
        &format!("{scale}?fieldManager=t"),
        APPLY,
        Some(b"{}"),
    );
    assert_eq!(code, 400, "{body}");
    assert_eq!(body["message"], "invalid object type: /, Kind=", "{body}");

    let applied =
        b"apiVersion: autoscaling/v1\nkind: Scale\nmetadata:\n  name: web\nspec:\n  replicas: 3\n";
    // The creator (curl's Update) owns the replicas: a conflict, as upstream.
    let (code, body) = c.request(
        "PATCH",
        &format!("{scale}?fieldManager=t"),
        APPLY,
        Some(applied),
    );
    assert_eq!(code, 409, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .ends_with(": .spec.replicas"),
        "{body}"
    );
    let (code, body) = c.request(
        "PATCH",
        &format!("{scale}?fieldManager=t&force=true"),
        APPLY,
        Some(applied),
    );
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["kind"], "Scale", "{body}");
    assert_eq!(body["spec"]["replicas"], 3, "{body}");
    let (_, d) = c.request("GET", &format!("{DEPLOYS}/web"), None, None);
    assert_eq!(d["spec"]["replicas"], 3, "{d}");
    let entry = d["metadata"]["managedFields"]
        .as_array()
        .and_then(|a| a.iter().find(|e| e["manager"] == "t").cloned())
        .unwrap_or_else(|| panic!("no entry of manager t: {d}"));
    assert_eq!(entry["operation"], "Apply", "{entry}");
    assert_eq!(entry["subresource"], "scale", "{entry}");
    assert_eq!(entry["fieldsV1"], json!({"f:spec": {"f:replicas": {}}}));

    // Another manager changing the replicas t owns conflicts, unless forced.
    let other =
        b"apiVersion: autoscaling/v1\nkind: Scale\nmetadata:\n  name: web\nspec:\n  replicas: 5\n";
    let (code, body) = c.request(
        "PATCH",
        &format!("{scale}?fieldManager=u"),
        APPLY,
        Some(other),
    );
    assert_eq!(code, 409, "{body}");
    let (code, body) = c.request(
        "PATCH",
        &format!("{scale}?fieldManager=u&force=true"),
        APPLY,
        Some(other),
    );
    assert_eq!(
        (code, body["spec"]["replicas"].clone()),
        (200, json!(5)),
        "{body}"
    );

    // The status subresource takes an apply too.
    let status = b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nstatus:\n  observedGeneration: 7\n";
    let (code, body) = c.request(
        "PATCH",
        &format!("{DEPLOYS}/web/status?fieldManager=s"),
        APPLY,
        Some(status),
    );
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["status"]["observedGeneration"], 7, "{body}");
    assert_eq!(body["spec"]["replicas"], 5, "{body}");
}

#[test]
fn unknown_fields_with_dots_and_brackets_are_never_stored() {
    let c = ApiCluster::start();
    let cm = json!({"metadata": {"name": "uk2", "x.y": 1}, "a.b": {"x": 1}, "a[0]": 2,
        "data": {"k.v": "kept"}});
    let (code, body) = c.request("POST", CMS, J, Some(cm.to_string().as_bytes()));
    assert_eq!(code, 201, "{body}");
    let (code, body) = c.request("PATCH", &format!("{CMS}/uk2"), MERGE, Some(br#"{"a[b":1}"#));
    assert_eq!(code, 200, "{body}");
    for v in [body, c.request("GET", &format!("{CMS}/uk2"), None, None).1] {
        assert!(v.get("a.b").is_none() && v.get("a[b").is_none(), "{v}");
        assert!(v.get("a[0]").is_none(), "{v}");
        assert!(v["metadata"].get("x.y").is_none(), "{v}");
        assert_eq!(v["data"]["k.v"], "kept", "{v}");
    }
    let stored = c.etcdctl(&[
        "get",
        "--print-value-only",
        "/registry/configmaps/default/uk2",
    ]);
    assert!(stored.contains("kept"), "{stored}");
    for key in ["a.b", "a[b", "a[0]", "x.y"] {
        assert!(
            !stored.contains(&format!("\"{key}\"")),
            "{key} stored: {stored}"
        );
    }

    let pod = json!({"metadata": {"name": "p"}, "spec": {"containers": [
        {"name": "c", "image": "nginx", "x.y": 1}]}});
    let (code, body) = c.request(
        "POST",
        "/api/v1/namespaces/default/pods",
        J,
        Some(pod.to_string().as_bytes()),
    );
    assert_eq!(code, 201, "{body}");
    assert!(body["spec"]["containers"][0].get("x.y").is_none(), "{body}");
    let stored = c.etcdctl(&["get", "--print-value-only", "/registry/pods/default/p"]);
    assert!(!stored.contains("\"x.y\""), "{stored}");
}

#[test]
fn keep_alive_survives_an_error_answer_to_a_large_body() {
    let c = ApiCluster::start();
    let big = json!({"metadata": {"name": "big"}, "data": {"k": "x".repeat(20_000)}});
    let file = c.work.path().join("20KB.json");
    std::fs::write(&file, big.to_string()).expect("write body");
    let body_arg = format!("@{}", file.display());
    let ca = c.pki.ca().display().to_string();
    let cert = c.pki.cert("admin").display().to_string();
    let key = c.pki.key("admin").display().to_string();
    for query in ["dryRun=bogus", "fieldManager=%01"] {
        let (ok, out, err) = curl(
            &c,
            true,
            &[
                "--http1.1",
                "-H",
                "Expect:",
                "-H",
                "Content-Type: application/json",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}\n",
                "--data-binary",
                &body_arg,
                &format!("{}{CMS}?{query}", c.url),
                "--next",
                "--cacert",
                &ca,
                "--cert",
                &cert,
                "--key",
                &key,
                "-w",
                "\n%{http_code}\n",
                &format!("{}/readyz", c.url),
            ],
        );
        assert!(ok, "{query}: {out} {err}");
        let codes: Vec<&str> = out.lines().filter(|l| l.len() == 3).collect();
        assert_eq!(codes, vec!["422", "200"], "{query}: {out} {err}");
    }
    assert_eq!(c.request("GET", &format!("{CMS}/big"), None, None).0, 404);
}

#[test]
fn a_watch_with_a_negative_timeout_ends() {
    let c = ApiCluster::start();
    for t in ["-6932", "-5"] {
        let started = Instant::now();
        let (ok, out, err) = curl(
            &c,
            true,
            &[
                "--max-time",
                "30",
                &format!(
                    "{}/api/v1/namespaces?watch=true&allowWatchBookmarks=true&timeoutSeconds={t}",
                    c.url
                ),
            ],
        );
        assert!(ok, "timeoutSeconds={t}: watch did not end: {out} {err}");
        assert!(started.elapsed() < Duration::from_secs(15), "{t}");
    }
}

#[test]
fn query_and_delete_options_are_decoded_as_upstream() {
    let c = ApiCluster::start();
    let cm = json!({"metadata": {"name": "one", "labels": {"k": "v"}}});
    assert_eq!(
        c.request("POST", CMS, J, Some(cm.to_string().as_bytes())).0,
        201
    );

    for (q, value) in [("limit=abc", "abc"), ("limit=-4.7e16", "-4.7e16")] {
        let (code, body) = c.request("GET", &format!("{CMS}?{q}"), None, None);
        assert_eq!(code, 400, "{q}: {body}");
        assert_eq!(
            body["message"],
            format!("strconv.ParseInt: parsing \"{value}\": invalid syntax"),
            "{body}"
        );
    }
    let (code, body) = c.request(
        "GET",
        &format!("{CMS}?timeoutSeconds=x&watch=1"),
        None,
        None,
    );
    assert_eq!(code, 400, "{body}");

    let (code, body) = c.request("DELETE", CMS, J, Some(br#"{"gracePeriodSeconds":"abc"}"#));
    assert_eq!(code, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .contains("cannot unmarshal string"),
        "{body}"
    );
    let (code, body) = c.request("DELETE", CMS, J, Some(br#"{"dryRun":["bogus"]}"#));
    assert_eq!(code, 422, "{body}");
    assert_eq!(
        body["message"],
        "DeleteOptions.meta.k8s.io \"\" is invalid: dryRun: Unsupported value: []string{\"bogus\"}: supported values: \"All\"",
        "{body}"
    );
    assert_eq!(c.request("GET", &format!("{CMS}/one"), None, None).0, 200);

    // `watch=garbage` is a watch, as upstream's codec reads any value but
    // false and 0 as true: the answer is a stream of events, not a list.
    let (ok, out, err) = curl(
        &c,
        true,
        &[
            "--max-time",
            "20",
            &format!("{}{CMS}?watch=garbage&timeoutSeconds=1", c.url),
        ],
    );
    assert!(ok, "{out} {err}");
    let first: Value = serde_json::from_str(out.lines().next().unwrap_or("")).expect("an event");
    assert_eq!(first["type"], "ADDED", "{out}");
    let (code, body) = c.request("GET", &format!("{CMS}?watch=false"), None, None);
    assert_eq!((code, body["kind"].clone()), (200, json!("ConfigMapList")));
}

#[test]
fn namespaces_have_no_deletecollection() {
    let c = ApiCluster::start();
    let (code, body) = c.request("DELETE", "/api/v1/namespaces", None, None);
    assert_eq!(code, 405, "{body}");
    assert_eq!(body["reason"], "MethodNotAllowed", "{body}");
    assert_eq!(
        c.request("GET", "/api/v1/namespaces/default", None, None).0,
        200
    );
    let (_, doc) = c.request("GET", "/openapi/v2", None, None);
    let ops = &doc["paths"]["/api/v1/namespaces"];
    assert!(ops.get("get").is_some(), "{ops}");
    assert!(ops.get("delete").is_none(), "{ops}");
}

#[test]
fn a_client_certificate_wins_over_other_credentials() {
    let c = ApiCluster::start();
    let url = format!("{}/api/v1/namespaces/default", c.url);
    let code = |cert: bool, header: &str| {
        let (_, out, _) = curl(
            &c,
            cert,
            &["-o", "/dev/null", "-w", "%{http_code}", "-H", header, &url],
        );
        out
    };
    // Upstream's union tries the certificate first: its user is the user.
    assert_eq!(code(true, "Authorization: Bearer unknown-token"), "200");
    assert_eq!(code(true, "Authorization: garbage"), "200");
    // Without a certificate an unknown bearer token is refused, and a
    // header that is no bearer token is no credential (anonymous).
    assert_eq!(code(false, "Authorization: Bearer unknown-token"), "401");
    assert_ne!(code(false, "Authorization: garbage"), "200");
}

/// A custom resource's scale subresource takes an apply too, writing the
/// CRD's `specReplicasPath`.
#[test]
fn server_side_apply_on_a_custom_resource_scale() {
    let c = ApiCluster::start();
    let crd = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {count: {type: integer}}}
          status: {type: object, properties: {count: {type: integer}}}
    subresources:
      status: {}
      scale: {specReplicasPath: .spec.count, statusReplicasPath: .status.count}
"#;
    let (ok, out, err) = c.kubectl_stdin(&["apply", "-f", "-"], crd);
    assert!(ok, "{out}{err}");
    c.kubectl_ok(&[
        "wait",
        "--for=condition=established",
        "--timeout=30s",
        "crd/gadgets.example.com",
    ]);
    const GADGETS: &str = "/apis/example.com/v1/namespaces/default/gadgets";
    let g = br#"{"apiVersion":"example.com/v1","kind":"Gadget","metadata":{"name":"g1"},"spec":{"count":1}}"#;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (code, body) = c.request("POST", GADGETS, J, Some(g));
        if code == 201 {
            break;
        }
        assert!(Instant::now() < deadline, "{code} {body}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let scale = format!("{GADGETS}/g1/scale?fieldManager=t&force=true");
    let (code, body) = c.request("PATCH", &scale, APPLY, Some(b"{}"));
    assert_eq!(code, 400, "{body}");
    let applied =
        b"apiVersion: autoscaling/v1\nkind: Scale\nmetadata:\n  name: g1\nspec:\n  replicas: 4\n";
    let (code, body) = c.request("PATCH", &scale, APPLY, Some(applied));
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["spec"]["replicas"], 4, "{body}");
    let (_, g) = c.request("GET", &format!("{GADGETS}/g1"), None, None);
    assert_eq!(g["spec"]["count"], 4, "{g}");
    let entry = g["metadata"]["managedFields"]
        .as_array()
        .and_then(|a| a.iter().find(|e| e["manager"] == "t").cloned())
        .unwrap_or_else(|| panic!("no entry of manager t: {g}"));
    assert_eq!(
        entry["fieldsV1"],
        json!({"f:spec": {"f:count": {}}}),
        "{entry}"
    );
}
