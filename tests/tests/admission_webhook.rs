//! Admission webhooks through the real kube-apiserver and kubectl: a tiny
//! HTTPS webhook server in the test (the apiserver's certificate from the
//! test PKI, so `caBundle` is the cluster CA) that denies or patches, and
//! a webhook that cannot be reached under Fail and Ignore.

use base64::Engine;
use bytes::Bytes;
use harness::apiserver::ApiCluster;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use openssl::ssl::{SslAcceptor, SslFiletype, SslMethod};
use serde_json::{Value, json};
use std::net::TcpListener as StdListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Answers `/deny` (denies objects named `web*`) and `/mutate` (adds the
/// label `mutated: "yes"`); stops with the test (runtime dropped).
struct Hook {
    port: u16,
    _rt: tokio::runtime::Runtime,
}

fn review_response(path: &str, review: &Value) -> Value {
    let req = &review["request"];
    let uid = req["uid"].clone();
    let name = req["object"]["metadata"]["name"].as_str().unwrap_or("");
    let response = match path {
        "/deny" if name.starts_with("web") => json!({"uid": uid, "allowed": false,
            "status": {"code": 403, "reason": "Forbidden", "message": format!("{name} is not welcome")}}),
        "/mutate" => {
            let patch = if req["object"]["metadata"]["labels"].is_object() {
                json!([{"op": "add", "path": "/metadata/labels/mutated", "value": "yes"}])
            } else {
                json!([{"op": "add", "path": "/metadata/labels", "value": {"mutated": "yes"}}])
            };
            json!({"uid": uid, "allowed": true, "patchType": "JSONPatch",
                "patch": base64::engine::general_purpose::STANDARD.encode(patch.to_string()),
                "warnings": ["mutated by the test webhook"]})
        }
        _ => json!({"uid": uid, "allowed": true}),
    };
    json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response})
}

impl Hook {
    /// Serves with the apiserver's certificate (it names 127.0.0.1).
    fn start(c: &ApiCluster) -> Hook {
        Hook::start_with(&c.pki.cert("apiserver"), &c.pki.key("apiserver"))
    }

    fn start_with(cert: &std::path::Path, key: &std::path::Path) -> Hook {
        let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls()).expect("acceptor");
        b.set_certificate_chain_file(cert).expect("cert");
        b.set_private_key_file(key, SslFiletype::PEM).expect("key");
        let acceptor = Arc::new(b.build());
        let std_listener = StdListener::bind("127.0.0.1:0").expect("bind");
        std_listener.set_nonblocking(true).expect("nonblocking");
        let port = std_listener.local_addr().expect("addr").port();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        rt.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(std_listener).expect("listener");
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(ssl) = openssl::ssl::Ssl::new(acceptor.context()) else {
                        return;
                    };
                    let Ok(mut tls) = tokio_openssl::SslStream::new(ssl, tcp) else {
                        return;
                    };
                    if std::pin::Pin::new(&mut tls).accept().await.is_err() {
                        return;
                    }
                    let svc = service_fn(|req: hyper::Request<hyper::body::Incoming>| async move {
                        let path = req.uri().path().to_string();
                        let body = req
                            .into_body()
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        let review: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                        let out = review_response(&path, &review).to_string();
                        Ok::<_, std::convert::Infallible>(
                            hyper::Response::builder()
                                .header("content-type", "application/json")
                                .body(Full::new(Bytes::from(out)))
                                .expect("response"),
                        )
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), svc)
                        .await;
                });
            }
        });
        Hook { port, _rt: rt }
    }
}

fn ca_bundle(c: &ApiCluster) -> String {
    let pem = std::fs::read(c.pki.ca()).expect("ca");
    base64::engine::general_purpose::STANDARD.encode(pem)
}

fn config(kind: &str, name: &str, url: &str, ca: &str, failure: &str) -> String {
    let reinvoke = if kind.starts_with("Mutating") {
        "  reinvocationPolicy: Never\n"
    } else {
        ""
    };
    format!(
        "apiVersion: admissionregistration.k8s.io/v1\nkind: {kind}\nmetadata:\n  name: {name}\nwebhooks:\n- name: {name}\n  admissionReviewVersions: [v1]\n  sideEffects: None\n  failurePolicy: {failure}\n  timeoutSeconds: 5\n{reinvoke}  clientConfig:\n    url: \"{url}\"\n    caBundle: \"{ca}\"\n  rules:\n  - apiGroups: [\"\"]\n    apiVersions: [v1]\n    operations: [CREATE]\n    resources: [configmaps]\n  namespaceSelector:\n    matchLabels:\n      hooks: \"on\"\n"
    )
}

fn create(c: &ApiCluster, manifest: &str) -> (bool, String, String) {
    c.kubectl_stdin(&["create", "-f", "-"], manifest)
}

fn configmap(name: &str, ns: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {ns}\ndata:\n  a: b\n"
    )
}

/// Retries until the apiserver's webhook cache has the configuration.
fn until(mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn webhooks_deny_patch_and_follow_the_failure_policy() {
    let c = ApiCluster::start();
    let hook = Hook::start(&c);
    let ca = ca_bundle(&c);
    c.kubectl_ok(&["create", "namespace", "hooked"]);
    c.kubectl_ok(&["label", "namespace", "hooked", "hooks=on"]);
    c.kubectl_ok(&["create", "namespace", "plain"]);
    let base = format!("https://127.0.0.1:{}", hook.port);
    let (ok, out, err) = create(
        &c,
        &config(
            "ValidatingWebhookConfiguration",
            "deny.example.com",
            &format!("{base}/deny"),
            &ca,
            "Fail",
        ),
    );
    assert!(ok, "{out}{err}");
    let (ok, out, err) = create(
        &c,
        &config(
            "MutatingWebhookConfiguration",
            "mutate.example.com",
            &format!("{base}/mutate"),
            &ca,
            "Fail",
        ),
    );
    assert!(ok, "{out}{err}");
    // Defaults and kubectl columns.
    let v: Value = serde_json::from_str(&c.kubectl_ok(&[
        "get",
        "mutatingwebhookconfiguration",
        "mutate.example.com",
        "-o",
        "json",
    ]))
    .expect("json");
    assert_eq!(v["webhooks"][0]["matchPolicy"], "Equivalent");
    assert_eq!(v["webhooks"][0]["objectSelector"], json!({}));
    let out = c.kubectl_ok(&["get", "validatingwebhookconfigurations"]);
    let head: Vec<&str> = out
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    assert_eq!(head, ["NAME", "WEBHOOKS", "AGE"], "{out}");

    let mut err = String::new();
    until(|| {
        let (ok, _, e) = c.kubectl_stdin(
            &["create", "--dry-run=server", "-f", "-"],
            &configmap("web", "hooked"),
        );
        err = e;
        !ok
    });
    let (ok, _, err2) = create(&c, &configmap("web", "hooked"));
    assert!(!ok, "web admitted: {err}");
    assert_eq!(
        err2.trim(),
        "Error from server (Forbidden): error when creating \"STDIN\": admission webhook \"deny.example.com\" denied the request: web is not welcome"
    );
    let (ok, _, err) = create(&c, &configmap("db", "hooked"));
    assert!(ok, "{err}");
    assert!(
        err.contains("Warning: mutated by the test webhook"),
        "{err}"
    );
    let cm: Value = serde_json::from_str(&c.kubectl_ok(&[
        "get",
        "configmap",
        "db",
        "-n",
        "hooked",
        "-o",
        "json",
    ]))
    .expect("json");
    assert_eq!(cm["metadata"]["labels"]["mutated"], "yes", "{cm}");
    // Outside the namespace selector: neither webhook is called.
    let (ok, _, err) = create(&c, &configmap("web", "plain"));
    assert!(ok, "{err}");
    let cm: Value = serde_json::from_str(&c.kubectl_ok(&[
        "get",
        "configmap",
        "web",
        "-n",
        "plain",
        "-o",
        "json",
    ]))
    .expect("json");
    assert!(cm["metadata"].get("labels").is_none(), "{cm}");

    // An unreachable webhook: Fail refuses with a 500, Ignore admits.
    c.kubectl_ok(&[
        "delete",
        "validatingwebhookconfiguration",
        "deny.example.com",
    ]);
    c.kubectl_ok(&[
        "delete",
        "mutatingwebhookconfiguration",
        "mutate.example.com",
    ]);
    let dead = "https://127.0.0.1:1/nothing";
    let (ok, out, err) = create(
        &c,
        &config(
            "ValidatingWebhookConfiguration",
            "dead.example.com",
            dead,
            &ca,
            "Fail",
        ),
    );
    assert!(ok, "{out}{err}");
    let mut err = String::new();
    until(|| {
        let (ok, _, e) = create(&c, &configmap("late", "hooked"));
        err = e;
        !ok
    });
    assert!(
        err.contains("Error from server (InternalError): error when creating \"STDIN\": Internal error occurred: failed calling webhook \"dead.example.com\": failed to call webhook: Post \"https://127.0.0.1:1/nothing\": "),
        "{err}"
    );
    c.kubectl_ok(&[
        "patch",
        "validatingwebhookconfiguration",
        "dead.example.com",
        "--type=json",
        "-p",
        "[{\"op\":\"replace\",\"path\":\"/webhooks/0/failurePolicy\",\"value\":\"Ignore\"}]",
    ]);
    let mut ok = false;
    until(|| {
        ok = create(&c, &configmap("later", "hooked")).0;
        ok
    });
    assert!(ok, "Ignore must admit");
}

/// A serving certificate for `dns`, signed by the cluster CA (what an
/// operator makes for an in-cluster webhook Service); returns (cert, key).
fn service_cert(c: &ApiCluster, dns: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    use openssl::asn1::Asn1Time;
    use openssl::bn::BigNum;
    use openssl::hash::MessageDigest;
    use openssl::pkey::PKey;
    use openssl::rsa::Rsa;
    use openssl::x509::extension::SubjectAlternativeName;
    use openssl::x509::{X509, X509NameBuilder};
    use std::os::unix::fs::PermissionsExt;
    let ca = X509::from_pem(&std::fs::read(c.pki.ca()).expect("ca")).expect("ca pem");
    let ca_key = PKey::private_key_from_pem(&std::fs::read(c.pki.key("ca")).expect("ca key"))
        .expect("ca key pem");
    let key = PKey::from_rsa(Rsa::generate(2048).expect("rsa")).expect("pkey");
    let mut name = X509NameBuilder::new().expect("name");
    name.append_entry_by_text("CN", dns).expect("cn");
    let name = name.build();
    let mut b = X509::builder().expect("builder");
    b.set_version(2).expect("v3");
    let serial = BigNum::from_u32(4242)
        .and_then(|n| n.to_asn1_integer())
        .expect("serial");
    b.set_serial_number(&serial).expect("serial");
    b.set_subject_name(&name).expect("subject");
    b.set_issuer_name(ca.subject_name()).expect("issuer");
    b.set_pubkey(&key).expect("pubkey");
    b.set_not_before(&Asn1Time::days_from_now(0).expect("now"))
        .expect("nbf");
    b.set_not_after(&Asn1Time::days_from_now(1).expect("later"))
        .expect("naf");
    let san = SubjectAlternativeName::new()
        .dns(dns)
        .build(&b.x509v3_context(Some(&ca), None))
        .expect("san");
    b.append_extension(san).expect("ext");
    b.sign(&ca_key, MessageDigest::sha256()).expect("sign");
    let dir = c.work.path();
    let (cert_path, key_path) = (dir.join("hook.pem"), dir.join("hook-key.pem"));
    std::fs::write(&cert_path, b.build().to_pem().expect("pem")).expect("write cert");
    std::fs::write(&key_path, key.private_key_to_pem_pkcs8().expect("key pem")).expect("write key");
    std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600)).expect("0600");
    (cert_path, key_path)
}

/// A Service `name` in `default` whose Endpoints point at 127.0.0.1:`port`.
fn service_and_endpoints(name: &str, port: u16) -> String {
    format!(
        "apiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: default}}\nspec:\n  ports:\n  - {{name: https, port: 443, targetPort: {port}}}\n---\napiVersion: v1\nkind: Endpoints\nmetadata: {{name: {name}, namespace: default}}\nsubsets:\n- addresses: [{{ip: 127.0.0.1}}]\n  ports: [{{name: https, port: {port}}}]\n"
    )
}

#[test]
fn service_webhooks_are_called_at_their_endpoints_with_the_service_name_verified() {
    let c = ApiCluster::start();
    let (cert, key) = service_cert(&c, "hook.default.svc");
    let hook = Hook::start_with(&cert, &key);
    let ca = ca_bundle(&c);
    c.kubectl_ok(&["create", "namespace", "hooked"]);
    c.kubectl_ok(&["label", "namespace", "hooked", "hooks=on"]);
    let (ok, out, err) = create(&c, &service_and_endpoints("hook", hook.port));
    assert!(ok, "{out}{err}");
    let manifest = config(
        "MutatingWebhookConfiguration",
        "mutate.example.com",
        "unused",
        &ca,
        "Fail",
    )
    .replace(
        "    url: \"unused\"\n",
        "    service: {namespace: default, name: hook, path: /mutate}\n",
    );
    let (ok, out, err) = create(&c, &manifest);
    assert!(ok, "{out}{err}\n{manifest}");
    let v: Value = serde_json::from_str(&c.kubectl_ok(&[
        "get",
        "mutatingwebhookconfiguration",
        "mutate.example.com",
        "-o",
        "json",
    ]))
    .expect("json");
    assert_eq!(
        v["webhooks"][0]["clientConfig"]["service"]["port"], 443,
        "defaulted"
    );
    let mut n = 0;
    let mut labels = Value::Null;
    until(|| {
        n += 1;
        let name = format!("cm{n}");
        if create(&c, &configmap(&name, "hooked")).0 {
            let cm: Value = serde_json::from_str(&c.kubectl_ok(&[
                "get",
                "configmap",
                &name,
                "-n",
                "hooked",
                "-o",
                "json",
            ]))
            .expect("json");
            labels = cm["metadata"]["labels"].clone();
        }
        labels["mutated"] == "yes"
    });
    assert_eq!(labels["mutated"], "yes", "service webhook not called");
    // The same server behind a Service of another name: its certificate
    // does not name `other.default.svc`, so the call fails (Fail: refused).
    let (ok, out, err) = create(&c, &service_and_endpoints("other", hook.port));
    assert!(ok, "{out}{err}");
    c.kubectl_ok(&[
        "delete",
        "mutatingwebhookconfiguration",
        "mutate.example.com",
    ]);
    let other = manifest
        .replace("name: hook, path", "name: other, path")
        .replace("mutate.example.com", "other.example.com");
    let (ok, out, err) = create(&c, &other);
    assert!(ok, "{out}{err}");
    let mut err = String::new();
    until(|| {
        let (ok, _, e) = create(&c, &configmap("refused", "hooked"));
        err = e;
        !ok
    });
    assert!(
        err.contains("failed calling webhook \"other.example.com\": failed to call webhook: Post \"https://other.default.svc:443/mutate\": tls: failed to verify certificate"),
        "{err}"
    );
}
