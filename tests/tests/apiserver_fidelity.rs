//! Wire fidelity and upstream conformance behaviours through the real
//! kube-apiserver: the canonical encoding of stored and served objects,
//! the 413 for oversized bodies on both HTTP versions, status writes that
//! keep metadata, field validation messages, issuer discovery, IngressClass
//! immutability and Table refusals.

use harness::apiserver::ApiCluster;
use harness::bins;
use serde_json::{Value, json};
use std::process::Command;

/// A raw curl request as the admin: (status code, body exactly as sent).
fn raw(c: &ApiCluster, args: &[&str], path: &str) -> (u16, String) {
    let out = Command::new(bins::system("curl"))
        .args(["-sSv", "--max-time", "60", "--cacert"])
        .arg(c.pki.ca())
        .arg("--cert")
        .arg(c.pki.cert("admin"))
        .arg("--key")
        .arg(c.pki.key("admin"))
        .args(["-w", "\n%{http_code}"])
        .args(args)
        .arg(format!("{}{}", c.url, path))
        .output()
        .expect("curl runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", &text));
    let code = code.trim().parse().unwrap_or(0);
    if code == 0 {
        eprintln!("curl: {}", String::from_utf8_lossy(&out.stderr));
    }
    (code, body.to_string())
}

fn post_json(c: &ApiCluster, path: &str, body: &Value) -> (u16, String) {
    raw(
        c,
        &[
            "-X",
            "POST",
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            &body.to_string(),
        ],
        path,
    )
}

const SVC: &str = "/api/v1/namespaces/default/services";

#[test]
fn objects_are_stored_and_served_in_upstreams_canonical_encoding() {
    let c = ApiCluster::start();
    let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "mock-2"},
        "spec": {"ports": [{"port": 80}]}});
    let (code, body) = post_json(&c, SVC, &svc);
    assert_eq!(code, 201, "{body}");
    assert!(
        body.starts_with(r#"{"kind":"Service","apiVersion":"v1","metadata":{"name":"mock-2","namespace":"default","uid":"#),
        "{body}"
    );
    assert!(
        body.ends_with("\"status\":{\"loadBalancer\":{}}}\n"),
        "{body}"
    );
    // Read back from etcd: the stored bytes follow the same order.
    let stored = c.etcdctl(&[
        "get",
        "/registry/services/specs/default/mock-2",
        "--print-value-only",
    ]);
    assert!(
        stored.starts_with(r#"{"kind":"Service","apiVersion":"v1","metadata":{"name":"mock-2""#),
        "{stored}"
    );
    assert!(
        stored.contains(r#""status":{"loadBalancer":{}}"#),
        "{stored}"
    );
    // GET answers the same shape.
    let (_, got) = raw(&c, &[], &format!("{SVC}/mock-2"));
    assert!(
        got.ends_with("\"status\":{\"loadBalancer\":{}}}\n"),
        "{got}"
    );

    // The AlreadyExists Status, byte for byte as upstream writes it.
    let (code, body) = post_json(&c, SVC, &svc);
    assert_eq!(code, 409);
    assert_eq!(
        body,
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"services \\\"mock-2\\\" already exists\",\"reason\":\"AlreadyExists\",\"details\":{\"name\":\"mock-2\",\"kind\":\"services\"},\"code\":409}\n"
    );

    // A Deployment's zero status counters are not stored; its template has
    // upstream's null creationTimestamp and each container empty resources.
    let dep = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"replicas": 0, "selector": {"matchLabels": {"a": "b"}},
            "template": {"metadata": {"labels": {"a": "b"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}});
    let (code, body) = post_json(&c, "/apis/apps/v1/namespaces/default/deployments", &dep);
    assert_eq!(code, 201, "{body}");
    assert!(body.ends_with(",\"status\":{}}\n"), "{body}");
    assert!(
        body.contains(r#""template":{"metadata":{"creationTimestamp":null,"labels":{"a":"b"}}"#),
        "{body}"
    );
    assert!(
        body.contains(r#""spec":{"replicas":0,"selector""#),
        "{body}"
    );
    let patch = r#"{"status":{"replicas":0,"availableReplicas":0,"readyReplicas":0,"observedGeneration":1}}"#;
    let (code, body) = raw(
        &c,
        &[
            "-X",
            "PATCH",
            "-H",
            "Content-Type: application/merge-patch+json",
            "--data-binary",
            patch,
        ],
        "/apis/apps/v1/namespaces/default/deployments/d/status",
    );
    assert_eq!(code, 200, "{body}");
    assert!(
        body.ends_with(",\"status\":{\"observedGeneration\":1}}\n"),
        "{body}"
    );
    let stored = c.etcdctl(&[
        "get",
        "/registry/deployments/default/d",
        "--print-value-only",
    ]);
    assert!(
        stored.contains(r#""status":{"observedGeneration":1}"#),
        "{stored}"
    );
}

#[test]
fn oversized_bodies_get_413_over_http2_and_http11() {
    let c = ApiCluster::start();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.json");
    let big = format!(
        "{{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{{\"name\":\"big\"}},\"data\":{{\"k\":\"{}\"}}}}",
        "x".repeat(4 * 1024 * 1024)
    );
    std::fs::write(&file, big).unwrap();
    let at = format!("@{}", file.display());
    for version in ["--http2", "--http1.1"] {
        let (code, body) = raw(
            &c,
            &[
                version,
                "-X",
                "POST",
                "-H",
                "Content-Type: application/json",
                "--data-binary",
                &at,
            ],
            "/api/v1/namespaces/default/configmaps",
        );
        assert_eq!(code, 413, "{version}: {body}");
        let status: Value = serde_json::from_str(&body).expect("a Status");
        assert_eq!(status["kind"], "Status", "{version}");
        assert_eq!(
            status["message"], "Request entity too large: limit is 3145728",
            "{version}"
        );
        assert_eq!(status["reason"], "RequestEntityTooLarge", "{version}");
    }
    // The connection (and the server) still serves the next request.
    let (code, _) = raw(&c, &["--http2"], "/readyz");
    assert_eq!(code, 200);
}

fn merge_patch(c: &ApiCluster, path: &str, patch: &Value) -> (u16, Value) {
    let (code, body) = raw(
        c,
        &[
            "-X",
            "PATCH",
            "-H",
            "Content-Type: application/merge-patch+json",
            "--data-binary",
            &patch.to_string(),
        ],
        path,
    );
    (
        code,
        serde_json::from_str(&body).unwrap_or(Value::String(body)),
    )
}

/// Upstream's status strategies copy the stored spec and keep the
/// request's metadata, except what a kind protects (a Deployment's labels,
/// a Pod's ownerReferences).
#[test]
fn status_writes_keep_metadata_changes() {
    let c = ApiCluster::start();
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]}});
    assert_eq!(
        post_json(&c, "/api/v1/namespaces/default/pods", &pod).0,
        201
    );
    let (code, got) = merge_patch(
        &c,
        "/api/v1/namespaces/default/pods/p/status",
        &json!({"metadata": {"labels": {"patched": "yes"}, "annotations": {"patchedstatus": "true"}},
            "spec": {"activeDeadlineSeconds": 5},
            "status": {"message": "set via status"}}),
    );
    assert_eq!(code, 200, "{got}");
    assert_eq!(got["metadata"]["labels"]["patched"], "yes");
    assert_eq!(got["metadata"]["annotations"]["patchedstatus"], "true");
    assert_eq!(got["status"]["message"], "set via status");
    assert!(got["spec"].get("activeDeadlineSeconds").is_none(), "{got}");
    let (_, stored) = raw(&c, &[], "/api/v1/namespaces/default/pods/p");
    let stored: Value = serde_json::from_str(&stored).unwrap();
    assert_eq!(stored["metadata"]["annotations"]["patchedstatus"], "true");

    let job = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"},
        "spec": {"template": {"spec": {"restartPolicy": "Never",
            "containers": [{"name": "c", "image": "busybox"}]}}}});
    assert_eq!(
        post_json(&c, "/apis/batch/v1/namespaces/default/jobs", &job).0,
        201
    );
    let (code, got) = merge_patch(
        &c,
        "/apis/batch/v1/namespaces/default/jobs/j/status",
        &json!({"metadata": {"annotations": {"patchedstatus": "true"}, "labels": {"l": "v"}}}),
    );
    assert_eq!(code, 200, "{got}");
    assert_eq!(got["metadata"]["annotations"]["patchedstatus"], "true");
    assert_eq!(got["metadata"]["labels"]["l"], "v");

    // A Deployment's status write keeps annotations but not labels.
    let dep = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "labels": {"x": "1"}},
        "spec": {"selector": {"matchLabels": {"a": "b"}},
            "template": {"metadata": {"labels": {"a": "b"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}});
    assert_eq!(
        post_json(&c, "/apis/apps/v1/namespaces/default/deployments", &dep).0,
        201
    );
    let (code, got) = merge_patch(
        &c,
        "/apis/apps/v1/namespaces/default/deployments/d/status",
        &json!({"metadata": {"annotations": {"patchedstatus": "true"}, "labels": {"x": "2"}}}),
    );
    assert_eq!(code, 200, "{got}");
    assert_eq!(got["metadata"]["annotations"]["patchedstatus"], "true");
    assert_eq!(got["metadata"]["labels"]["x"], "1");
}

fn put_json(c: &ApiCluster, path: &str, body: &Value) -> (u16, Value) {
    let (code, body) = raw(
        c,
        &[
            "-X",
            "PUT",
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            &body.to_string(),
        ],
        path,
    );
    (
        code,
        serde_json::from_str(&body).unwrap_or(Value::String(body)),
    )
}

fn apply_yaml(c: &ApiCluster, path: &str, yaml: &str, query: &str) -> (u16, Value) {
    let (code, body) = raw(
        c,
        &[
            "-X",
            "PATCH",
            "-H",
            "Content-Type: application/apply-patch+yaml",
            "--data-binary",
            yaml,
        ],
        &format!("{path}?fieldManager=test{query}"),
    );
    (
        code,
        serde_json::from_str(&body).unwrap_or(Value::String(body)),
    )
}

const CRD: &str = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";

fn crd(schema: Value) -> Value {
    json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": schema}}]}})
}

fn wait_served(c: &ApiCluster, path: &str) {
    for _ in 0..100 {
        if raw(c, &[], path).0 == 200 {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("{path} never served");
}

const WIDGETS: &str = "/apis/example.com/v1/namespaces/default/widgets";

/// Field validation as upstream words it: strict decoding errors in the
/// order the decoder meets them, an applied custom resource's undeclared
/// field refused by the typed conversion, and a duplicate key in applied
/// YAML refused under Strict even where unknown fields are preserved.
#[test]
fn field_validation_messages_follow_upstream() {
    let c = ApiCluster::start();
    let dep = br#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"dep"},
        "spec":{"unknownField":"foo","replicas":2,"replicas":3,
            "selector":{"matchLabels":{"app":"nginx"}},
            "template":{"metadata":{"labels":{"app":"nginx"}},
                "spec":{"containers":[{"name":"nginx","image":"nginx:latest"}]}}}}"#;
    let (code, body) = raw(
        &c,
        &[
            "-X",
            "POST",
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            std::str::from_utf8(dep).unwrap(),
        ],
        "/apis/apps/v1/namespaces/default/deployments?fieldValidation=Strict",
    );
    assert_eq!(code, 400, "{body}");
    let status: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        status["message"],
        "Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: unknown field \"spec.unknownField\", duplicate field \"spec.replicas\""
    );

    // A CRD with a closed schema: apply of an undeclared field fails.
    let closed = crd(json!({"type": "object", "properties": {
        "spec": {"type": "object", "properties": {"size": {"type": "integer"}}},
        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}));
    assert_eq!(post_json(&c, CRD, &closed).0, 201);
    wait_served(&c, WIDGETS);
    let (code, got) = apply_yaml(
        &c,
        &format!("{WIDGETS}/w1"),
        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w1\nspec:\n  size: 1\n  unknownField: x\n",
        "&fieldValidation=Strict",
    );
    assert_eq!(code, 500, "{got}");
    let msg = got["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains(".unknownField: field not declared in schema"),
        "{got}"
    );
    assert_eq!(
        msg,
        "failed to create typed patch object (example.com/v1, Kind=Widget): .spec.unknownField: field not declared in schema"
    );
    assert_eq!(raw(&c, &[], &format!("{WIDGETS}/w1")).0, 404);
}

#[test]
fn duplicate_keys_in_applied_yaml_are_refused_under_strict() {
    let c = ApiCluster::start();
    let open = crd(json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}));
    assert_eq!(post_json(&c, CRD, &open).0, 201);
    wait_served(&c, WIDGETS);
    let yaml =
        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: dup\nspec:\n  a: 1\n  a: 2\n";
    let (code, got) = apply_yaml(
        &c,
        &format!("{WIDGETS}/dup"),
        yaml,
        "&fieldValidation=Strict",
    );
    assert_eq!(code, 400, "{got}");
    assert_eq!(
        got["message"],
        "error strict decoding YAML: error converting YAML to JSON: yaml: unmarshal errors:\n  line 7: key \"a\" already set in map"
    );
    assert_eq!(raw(&c, &[], &format!("{WIDGETS}/dup")).0, 404);
}

/// A default added to a CRD's schema after an object was stored shows when
/// the object is read back (get and list), as upstream defaults on read.
#[test]
fn custom_resources_get_new_defaults_on_read() {
    let c = ApiCluster::start();
    let schema = |with_default: bool| {
        let mut size = json!({"type": "integer"});
        if with_default {
            size["default"] = json!(7);
        }
        json!({"type": "object", "properties": {"spec": {"type": "object",
            "properties": {"size": size, "name": {"type": "string"}}}}})
    };
    assert_eq!(post_json(&c, CRD, &crd(schema(false))).0, 201);
    wait_served(&c, WIDGETS);
    let w = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
        "spec": {"name": "n"}});
    let (code, body) = post_json(&c, WIDGETS, &w);
    assert_eq!(code, 201, "{body}");
    assert!(!body.contains("\"size\""), "{body}");
    let (_, cur) = raw(&c, &[], &format!("{CRD}/widgets.example.com"));
    let mut cur: Value = serde_json::from_str(&cur).unwrap();
    cur["spec"]["versions"][0]["schema"]["openAPIV3Schema"] = schema(true);
    let (code, got) = put_json(&c, &format!("{CRD}/widgets.example.com"), &cur);
    assert_eq!(code, 200, "{got}");
    let mut size = Value::Null;
    for _ in 0..100 {
        let (_, body) = raw(&c, &[], &format!("{WIDGETS}/w"));
        size = serde_json::from_str::<Value>(&body).unwrap()["spec"]["size"].clone();
        if size == json!(7) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(size, json!(7));
    let (_, list) = raw(&c, &[], WIDGETS);
    let list: Value = serde_json::from_str(&list).unwrap();
    assert_eq!(list["items"][0]["spec"]["size"], 7);
    // Storage is not rewritten by a read.
    let stored = c.etcdctl(&[
        "get",
        "/registry/example.com/widgets/default/w",
        "--print-value-only",
    ]);
    assert!(!stored.contains("\"size\""), "{stored}");
}

#[test]
fn ingress_class_controller_is_immutable() {
    let c = ApiCluster::start();
    const IC: &str = "/apis/networking.k8s.io/v1/ingressclasses";
    let ic = json!({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
        "metadata": {"name": "ic"}, "spec": {"controller": "example.com/one"}});
    assert_eq!(post_json(&c, IC, &ic).0, 201);
    let (code, got) = merge_patch(
        &c,
        &format!("{IC}/ic"),
        &json!({"spec": {"controller": "example.com/two"}}),
    );
    assert_eq!(code, 422, "{got}");
    assert_eq!(
        got["message"],
        "IngressClass \"ic\" is invalid: spec.controller: Invalid value: \"example.com/two\": field is immutable"
    );
    // Other fields may change.
    let (code, _) = merge_patch(
        &c,
        &format!("{IC}/ic"),
        &json!({"spec": {"parameters": {"kind": "K", "name": "n", "apiGroup": "example.com"}}}),
    );
    assert_eq!(code, 200);
}

const TABLE: &str = "Accept: application/json;as=Table;v=v1;g=meta.k8s.io";

#[test]
fn tables_are_refused_where_upstream_has_no_table_convertor() {
    let c = ApiCluster::start();
    let review = json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": {"verb": "get", "resource": "pods"}}});
    let path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
    let (code, body) = raw(
        &c,
        &[
            "-X",
            "POST",
            "-H",
            TABLE,
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            &review.to_string(),
        ],
        path,
    );
    assert_eq!(code, 406, "{body}");
    let status: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status["reason"], "NotAcceptable");
    // With JSON as a fallback the review is answered as JSON.
    let (code, body) = raw(
        &c,
        &[
            "-X",
            "POST",
            "-H",
            "Accept: application/json;as=Table;v=v1;g=meta.k8s.io, application/json",
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            &review.to_string(),
        ],
        path,
    );
    assert_eq!(code, 201, "{body}");
    assert!(body.contains("\"allowed\":true"), "{body}");
    // Printable resources still answer Tables.
    let (code, body) = raw(&c, &["-H", TABLE], "/api/v1/namespaces");
    assert_eq!(code, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["kind"],
        "Table"
    );
}

fn jwt_header(token: &str) -> Value {
    use base64::Engine;
    let h = token.split('.').next().unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(h)
            .unwrap(),
    )
    .unwrap()
}

#[test]
fn service_account_issuer_discovery_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("sa.key");
    let ok = Command::new(bins::system("openssl"))
        .args(["genrsa", "-out"])
        .arg(&key)
        .arg("2048")
        .output()
        .expect("openssl")
        .status
        .success();
    assert!(ok);
    let c = ApiCluster::start_with(&[
        &format!("--service-account-key-file={}", key.display()),
        &format!("--service-account-signing-key-file={}", key.display()),
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
    ]);
    let (code, conf) = raw(&c, &[], "/.well-known/openid-configuration");
    assert_eq!(code, 200, "{conf}");
    assert_eq!(
        conf,
        format!(
            "{{\"issuer\":\"https://kubernetes.default.svc.cluster.local\",\"jwks_uri\":\"https://127.0.0.1:{}/openid/v1/jwks\",\"response_types_supported\":[\"id_token\"],\"subject_types_supported\":[\"public\"],\"id_token_signing_alg_values_supported\":[\"RS256\"]}}",
            c.port
        )
    );
    let (code, jwks) = raw(&c, &[], "/openid/v1/jwks");
    assert_eq!(code, 200);
    let jwks: Value = serde_json::from_str(&jwks).unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["kty"], "RSA");
    assert_eq!(keys[0]["alg"], "RS256");
    assert_eq!(keys[0]["use"], "sig");

    // A token the apiserver signs names the published key.
    let sa = json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "probe"}});
    assert_eq!(
        post_json(&c, "/api/v1/namespaces/default/serviceaccounts", &sa).0,
        201
    );
    let req = json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}});
    let (code, body) = post_json(
        &c,
        "/api/v1/namespaces/default/serviceaccounts/probe/token",
        &req,
    );
    assert_eq!(code, 201, "{body}");
    let token = serde_json::from_str::<Value>(&body).unwrap()["status"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(jwt_header(&token)["kid"], keys[0]["kid"]);

    // Any ServiceAccount may read both documents (the bootstrap binding of
    // system:service-account-issuer-discovery to system:serviceaccounts).
    let out = Command::new(bins::system("curl"))
        .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert"])
        .arg(c.pki.ca())
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .arg(format!("{}/openid/v1/jwks", c.url))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "200");
}
