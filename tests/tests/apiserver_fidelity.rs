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
