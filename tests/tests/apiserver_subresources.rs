//! Connect subresources, Event TTL and CSR approval through the real
//! kube-apiserver and the real kubectl: logs/exec/port-forward fail fast
//! with a clear message while no kubelet is reachable, RBAC guards them,
//! Events expire by etcd lease, and `kubectl certificate approve|deny`
//! works with upstream's signer checks.

use harness::apiserver::ApiCluster;
use harness::process::{run, wait_until};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const POD_ON_NODE: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  nodeName: hdss7-21
  containers:
  - {name: nginx, image: nginx:1.25}
"#;

const POD_PENDING: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: pending}
spec:
  containers:
  - {name: nginx, image: nginx:1.25}
"#;

/// A static token user `viewer` (token `viewer-token`).
fn token_file(dir: &Path) -> String {
    let f = dir.join("tokens.csv");
    std::fs::write(&f, "viewer-token,viewer,uid-viewer,\n").expect("tokens");
    format!("--token-auth-file={}", f.display())
}

fn kubectl_as_viewer(c: &ApiCluster, args: &[&str]) -> (bool, String, String) {
    run(Command::new(harness::bins::system("kubectl"))
        .arg("--kubeconfig=/dev/null")
        .arg(format!("--server={}", c.url))
        .arg(format!("--certificate-authority={}", c.pki.ca().display()))
        .arg("--token=viewer-token")
        .args(args))
}

/// kubectl that must fail within a few seconds; returns stderr.
fn fails_fast(c: &ApiCluster, args: &[&str]) -> String {
    let t = Instant::now();
    let (ok, out, err) = c.kubectl(args);
    let took = t.elapsed();
    assert!(!ok, "kubectl {args:?} succeeded:\n{out}{err}");
    assert!(
        took < Duration::from_secs(10),
        "kubectl {args:?} took {took:?}"
    );
    err
}

#[test]
fn logs_exec_port_forward_fail_fast_and_are_authorised() {
    let dir = tempfile::tempdir().expect("tmp");
    let c = ApiCluster::start_with(&[&token_file(dir.path())]);
    let (ok, _, err) = c.kubectl_stdin(&["create", "-f", "-"], POD_ON_NODE);
    assert!(ok, "{err}");
    let (ok, _, err) = c.kubectl_stdin(&["create", "-f", "-"], POD_PENDING);
    assert!(ok, "{err}");

    let msg = "no kubelet reachable for node hdss7-21";
    let err = fails_fast(&c, &["logs", "web"]);
    assert!(
        err.contains(msg) && err.contains("ServiceUnavailable"),
        "{err}"
    );
    let err = fails_fast(&c, &["logs", "web", "-f", "--tail=5"]);
    assert!(err.contains(msg), "{err}");
    let err = fails_fast(&c, &["exec", "web", "--", "ls", "/"]);
    assert!(err.contains(msg), "{err}");
    // kubectl forwards only to a Running pod (what the kubelet reports).
    c.kubectl_ok(&[
        "patch",
        "pod",
        "web",
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"phase":"Running"}}"#,
    ]);
    let err = fails_fast(&c, &["port-forward", "pod/web", "18080:80"]);
    assert!(err.contains(msg), "{err}");
    let err = fails_fast(&c, &["exec", "pending", "--", "ls"]);
    assert!(
        err.contains("pod pending does not have a host assigned"),
        "{err}"
    );
    let err = fails_fast(&c, &["logs", "web", "-c", "sidecar"]);
    assert!(
        err.contains("container sidecar is not valid for pod web"),
        "{err}"
    );

    // Raw: the Status, and nodes/proxy and services/proxy.
    let (code, st) = c.request("GET", "/api/v1/namespaces/default/pods/web/log", None, None);
    assert_eq!(
        (code, st["reason"].as_str()),
        (503, Some("ServiceUnavailable")),
        "{st}"
    );
    assert_eq!(st["message"], msg);
    let (code, st) = c.request("GET", "/api/v1/nodes/hdss7-22/proxy/metrics", None, None);
    assert_eq!(code, 503, "{st}");
    assert_eq!(st["message"], "no kubelet reachable for node hdss7-22");
    c.kubectl_ok(&["create", "service", "clusterip", "front", "--tcp=80:80"]);
    let (code, st) = c.request(
        "GET",
        "/api/v1/namespaces/default/services/front/proxy/",
        None,
        None,
    );
    assert_eq!(code, 503, "{st}");
    assert_eq!(
        st["message"],
        "no endpoints available for service \"front\""
    );
    // log takes only GET.
    let (code, _) = c.request(
        "POST",
        "/api/v1/namespaces/default/pods/web/log",
        None,
        None,
    );
    assert_eq!(code, 405);

    // Discovery lists the subresources with upstream's verbs.
    let (_, api) = c.request("GET", "/api/v1", None, None);
    let res = api["resources"].as_array().expect("resources");
    let verbs = |name: &str| {
        res.iter()
            .find(|r| r["name"] == name)
            .map(|r| r["verbs"].clone())
            .unwrap_or_default()
    };
    assert_eq!(verbs("pods/log"), serde_json::json!(["get"]));
    assert_eq!(verbs("pods/exec"), serde_json::json!(["create", "get"]));
    assert_eq!(
        verbs("pods/portforward"),
        serde_json::json!(["create", "get"])
    );
    assert_eq!(
        verbs("nodes/proxy"),
        serde_json::json!(["create", "delete", "get", "patch", "update"])
    );

    // A user who may read pods but not their logs, nor exec.
    c.kubectl_ok(&[
        "create",
        "role",
        "pod-reader",
        "--verb=get,list",
        "--resource=pods",
    ]);
    c.kubectl_ok(&[
        "create",
        "rolebinding",
        "viewer-pods",
        "--role=pod-reader",
        "--user=viewer",
    ]);
    let ok = wait_until(Duration::from_secs(10), || {
        kubectl_as_viewer(&c, &["get", "pod", "web"]).0
    });
    assert!(ok, "viewer cannot read pods");
    let (ok, _, err) = kubectl_as_viewer(&c, &["logs", "web"]);
    assert!(!ok);
    assert!(
        err.contains(
            "pods \"web\" is forbidden: User \"viewer\" cannot get resource \"pods/log\" in API group \"\" in the namespace \"default\""
        ),
        "{err}"
    );
    // get on pods/exec alone is not enough: exec needs create.
    c.kubectl_ok(&[
        "create",
        "role",
        "exec-get",
        "--verb=get",
        "--resource=pods/exec",
    ]);
    c.kubectl_ok(&[
        "create",
        "rolebinding",
        "viewer-exec",
        "--role=exec-get",
        "--user=viewer",
    ]);
    std::thread::sleep(Duration::from_secs(1));
    let (ok, _, err) = kubectl_as_viewer(&c, &["exec", "web", "--", "ls"]);
    assert!(!ok);
    assert!(
        err.contains("cannot create resource \"pods/exec\""),
        "{err}"
    );
}

const EVENT: &str = r#"
apiVersion: v1
kind: Event
metadata: {name: web.1}
involvedObject: {kind: Pod, name: web, namespace: default}
reason: Testing
message: short-lived
type: Normal
"#;

#[test]
fn events_expire_after_event_ttl() {
    let c = ApiCluster::start_with(&["--event-ttl=5s"]);
    let (ok, _, err) = c.kubectl_stdin(&["create", "-f", "-"], EVENT);
    assert!(ok, "{err}");
    c.kubectl_ok(&["create", "configmap", "stays"]);
    c.kubectl_ok(&["get", "event", "web.1"]);
    let t = Instant::now();
    let gone = wait_until(Duration::from_secs(30), || {
        !c.kubectl(&["get", "event", "web.1"]).0
    });
    assert!(gone, "event still there after 30 s");
    assert!(
        t.elapsed() >= Duration::from_secs(2),
        "gone too early: {:?}",
        t.elapsed()
    );
    let (_, _, err) = c.kubectl(&["get", "event", "web.1"]);
    assert!(err.contains("NotFound"), "{err}");
    // Other kinds have no TTL.
    c.kubectl_ok(&["get", "configmap", "stays"]);
}

/// Writes a key and CSR with openssl; returns the CSR manifest.
fn csr_manifest(dir: &Path, name: &str, cn: &str) -> String {
    let key = dir.join(format!("{name}.key"));
    let csr = dir.join(format!("{name}.csr"));
    let (ok, _, err) = run(Command::new("openssl")
        .args(["req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&csr)
        .arg("-subj")
        .arg(format!("/CN={cn}/O=devs")));
    assert!(ok, "{err}");
    use base64::Engine;
    let pem = std::fs::read(&csr).expect("csr");
    let b64 = base64::engine::general_purpose::STANDARD.encode(pem);
    format!(
        "apiVersion: certificates.k8s.io/v1\nkind: CertificateSigningRequest\nmetadata: {{name: {name}}}\nspec:\n  request: {b64}\n  signerName: kubernetes.io/kube-apiserver-client\n  expirationSeconds: 86400\n  usages: [client auth]\n"
    )
}

#[test]
fn kubectl_certificate_approve_and_deny() {
    let dir = tempfile::tempdir().expect("tmp");
    let c = ApiCluster::start_with(&[&token_file(dir.path())]);
    for (name, cn) in [("alice", "alice"), ("bob", "bob")] {
        let (ok, _, err) =
            c.kubectl_stdin(&["create", "-f", "-"], &csr_manifest(dir.path(), name, cn));
        assert!(ok, "{err}");
    }
    let out = c.kubectl_ok(&["get", "csr", "alice"]);
    assert!(out.contains("Pending"), "{out}");

    // A user who may update approvals but not approve for this signer.
    c.kubectl_ok(&[
        "create",
        "clusterrole",
        "csr-approver-no-signer",
        "--verb=get,list,update",
        "--resource=certificatesigningrequests,certificatesigningrequests/approval",
    ]);
    c.kubectl_ok(&[
        "create",
        "clusterrolebinding",
        "viewer-csr",
        "--clusterrole=csr-approver-no-signer",
        "--user=viewer",
    ]);
    let ok = wait_until(Duration::from_secs(10), || {
        kubectl_as_viewer(&c, &["get", "csr", "alice"]).0
    });
    assert!(ok);
    let (ok, _, err) = kubectl_as_viewer(&c, &["certificate", "approve", "alice"]);
    assert!(!ok);
    assert!(
        err.contains("user not permitted to approve requests with signerName \"kubernetes.io/kube-apiserver-client\""),
        "{err}"
    );

    c.kubectl_ok(&["certificate", "approve", "alice"]);
    c.kubectl_ok(&["certificate", "deny", "bob"]);
    let t = c.kubectl_ok(&["get", "csr", "alice", "-o", "jsonpath={.status.conditions[0].type} {.status.conditions[0].reason} {.status.conditions[0].status}"]);
    assert_eq!(t, "Approved KubectlApprove True");
    let t = c.kubectl_ok(&[
        "get",
        "csr",
        "bob",
        "-o",
        "jsonpath={.status.conditions[0].type}",
    ]);
    assert_eq!(t, "Denied");
    let out = c.kubectl_ok(&["get", "csr"]);
    assert!(
        out.lines()
            .any(|l| l.starts_with("alice") && l.contains("Approved")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("bob") && l.contains("Denied")),
        "{out}"
    );
    // kubectl refuses to approve a denied CSR itself; the server does too.
    let (_, mut bob) = c.request(
        "GET",
        "/apis/certificates.k8s.io/v1/certificatesigningrequests/bob",
        None,
        None,
    );
    bob["status"]["conditions"]
        .as_array_mut()
        .expect("conditions")
        .push(serde_json::json!({"type": "Approved", "status": "True", "reason": "Forced"}));
    let body = serde_json::to_vec(&bob).expect("json");
    let (code, st) = c.request(
        "PUT",
        "/apis/certificates.k8s.io/v1/certificatesigningrequests/bob/approval",
        Some("application/json"),
        Some(&body),
    );
    assert_eq!(code, 422, "{st}");
    assert!(
        st["message"]
            .as_str()
            .unwrap_or("")
            .contains("Approved and Denied conditions are mutually exclusive"),
        "{st}"
    );
    // The approval subresource keeps the spec.
    let (code, csr) = c.request(
        "GET",
        "/apis/certificates.k8s.io/v1/certificatesigningrequests/alice/approval",
        None,
        None,
    );
    assert_eq!(code, 200);
    assert_eq!(csr["spec"]["usages"][0], "client auth");
    assert!(
        csr["status"]["conditions"][0]["lastUpdateTime"].is_string(),
        "{csr}"
    );
    // The status subresource may not approve.
    let (_, bob) = c.request(
        "GET",
        "/apis/certificates.k8s.io/v1/certificatesigningrequests/bob",
        None,
        None,
    );
    let mut bob = bob;
    bob["status"]["conditions"] = serde_json::json!([{"type": "Denied", "status": "True"}, {"type": "Approved", "status": "True"}]);
    let body = serde_json::to_vec(&bob).expect("json");
    let (code, st) = c.request(
        "PUT",
        "/apis/certificates.k8s.io/v1/certificatesigningrequests/bob/status",
        Some("application/json"),
        Some(&body),
    );
    assert_eq!(code, 422, "{st}");

    // Validation of creates.
    let bad = "apiVersion: certificates.k8s.io/v1\nkind: CertificateSigningRequest\nmetadata: {name: bad}\nspec:\n  request: bm90IGEgY3Ny\n  signerName: kubernetes.io/kube-apiserver-client\n  usages: [client auth, teleport]\n";
    let (ok, _, err) = c.kubectl_stdin(&["create", "-f", "-"], bad);
    assert!(!ok);
    assert!(
        err.contains("PEM block type must be CERTIFICATE REQUEST"),
        "{err}"
    );
    assert!(
        err.contains("spec.usages[1]: Unsupported value: \"teleport\""),
        "{err}"
    );
    let no_signer = csr_manifest(dir.path(), "carol", "carol")
        .replace("  signerName: kubernetes.io/kube-apiserver-client\n", "");
    let (ok, _, err) = c.kubectl_stdin(&["create", "-f", "-"], &no_signer);
    assert!(!ok);
    assert!(err.contains("spec.signerName: Required value"), "{err}");
}

#[test]
fn csrsigning_issues_approved_client_certificates() {
    let dir = tempfile::tempdir().expect("tmp");
    let c = ApiCluster::start();
    let ca_key = c.pki.dir.join("ca-key.pem");
    let (cm, _) = harness::controller_manager::spawn(
        &c,
        "kube-controller-manager",
        &[
            "--controllers=csrsigning",
            "--leader-elect=false",
            &format!("--cluster-signing-cert-file={}", c.pki.ca().display()),
            &format!("--cluster-signing-key-file={}", ca_key.display()),
        ],
    );
    let (ok, _, err) = c.kubectl_stdin(
        &["create", "-f", "-"],
        &csr_manifest(dir.path(), "alice", "alice"),
    );
    assert!(ok, "{err}");
    // Not approved: not signed.
    std::thread::sleep(Duration::from_secs(2));
    let cert = c.kubectl_ok(&[
        "get",
        "csr",
        "alice",
        "-o",
        "jsonpath={.status.certificate}",
    ]);
    assert!(cert.is_empty(), "signed before approval");
    c.kubectl_ok(&["certificate", "approve", "alice"]);
    let issued = wait_until(Duration::from_secs(20), || {
        !c.kubectl_ok(&[
            "get",
            "csr",
            "alice",
            "-o",
            "jsonpath={.status.certificate}",
        ])
        .is_empty()
    });
    assert!(
        issued,
        "no certificate issued:\n{}\n{}",
        cm.log_tail(80),
        c.apiserver.log_tail(10)
    );
    let out = c.kubectl_ok(&["get", "csr", "alice"]);
    assert!(out.contains("Approved,Issued"), "{out}");
    use base64::Engine;
    let b64 = c.kubectl_ok(&[
        "get",
        "csr",
        "alice",
        "-o",
        "jsonpath={.status.certificate}",
    ]);
    let pem = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .expect("base64");
    let crt = dir.path().join("alice.crt");
    std::fs::write(&crt, pem).expect("write");
    let (ok, out, err) = run(Command::new("openssl")
        .arg("verify")
        .arg("-CAfile")
        .arg(c.pki.ca())
        .arg(&crt));
    assert!(ok && out.contains(": OK"), "{out}{err}");
    // The issued certificate logs in as alice (group devs).
    let (ok, out, err) = run(Command::new(harness::bins::system("kubectl"))
        .arg("--kubeconfig=/dev/null")
        .arg(format!("--server={}", c.url))
        .arg(format!("--certificate-authority={}", c.pki.ca().display()))
        .arg(format!("--client-certificate={}", crt.display()))
        .arg(format!(
            "--client-key={}",
            dir.path().join("alice.key").display()
        ))
        .args(["auth", "whoami"]));
    assert!(ok, "{out}{err}");
    assert!(out.contains("alice") && out.contains("devs"), "{out}");
}
