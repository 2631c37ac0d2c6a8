//! The Node authorizer and ServiceAccount token liveness, through the real
//! kube-apiserver and kubectl. The kubelet identities are the PKI's
//! `kubelet-hdss7-21` / `kubelet-hdss7-22` kubeconfigs
//! (`system:node:<name>` in group `system:nodes`).

use harness::apiserver::ApiCluster;
use harness::process::{run, wait_until};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const N1: &str = "hdss7-21";
const N2: &str = "hdss7-22";
const KUBELET1: &str = "kubelet-hdss7-21";

/// An RSA key pair for ServiceAccount tokens in `dir`: (private, public).
fn sa_keys(dir: &Path) -> (String, String) {
    let key = dir.join("sa-key.pem");
    let public = dir.join("sa.pem");
    let (ok, _, err) = run(Command::new("openssl")
        .args(["genrsa", "-out"])
        .arg(&key)
        .arg("2048"));
    assert!(ok, "{err}");
    let (ok, _, err) = run(Command::new("openssl")
        .args(["rsa", "-pubout", "-in"])
        .arg(&key)
        .arg("-out")
        .arg(&public));
    assert!(ok, "{err}");
    (key.display().to_string(), public.display().to_string())
}

fn start_with_tokens(keys: &tempfile::TempDir) -> ApiCluster {
    let (key, public) = sa_keys(keys.path());
    ApiCluster::start_with(&[
        &format!("--service-account-signing-key-file={key}"),
        &format!("--service-account-key-file={public}"),
        "--authorization-mode=Node,RBAC",
    ])
}

fn node_manifest(name: &str) -> String {
    format!("{{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{{\"name\":\"{name}\"}}}}")
}

/// A pod in `default` mounting `secret` and reading `configmap` from env;
/// bound to `node` when it is not empty.
fn pod_manifest(name: &str, node: &str, secret: &str, configmap: &str) -> String {
    let node_field = if node.is_empty() {
        String::new()
    } else {
        format!("\"nodeName\":\"{node}\",")
    };
    format!(
        r#"{{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"{name}","namespace":"default"}},
        "spec":{{{node_field}"serviceAccountName":"runner",
          "containers":[{{"name":"c","image":"busybox",
            "envFrom":[{{"configMapRef":{{"name":"{configmap}"}}}}]}}],
          "volumes":[{{"name":"s","secret":{{"secretName":"{secret}"}}}}]}}}}"#
    )
}

fn forbidden_secret(name: &str) -> String {
    format!(
        "secrets \"{name}\" is forbidden: User \"system:node:{N1}\" cannot get resource \"secrets\" in API group \"\" in the namespace \"default\": no relationship found between node '{N1}' and this object"
    )
}

/// Polls until `kubectl <args>` as the first kubelet succeeds (`want`) or
/// fails; returns the last stderr.
fn wait_kubelet(c: &ApiCluster, args: &[&str], want: bool) -> String {
    let mut last = String::new();
    let ok = wait_until(Duration::from_secs(10), || {
        let (ok, out, err) = c.kubectl_as(KUBELET1, args);
        last = format!("{out}{err}");
        ok == want
    });
    assert!(
        ok,
        "kubectl {args:?} as {KUBELET1}: wanted success={want}, last: {last}"
    );
    last
}

#[test]
fn node_reaches_only_its_node_lease_and_bound_pods_objects() {
    let keys = tempfile::tempdir().expect("temp dir");
    let c = start_with_tokens(&keys);
    for n in [N1, N2] {
        let (ok, out, err) = c.kubectl_stdin(&["create", "-f", "-"], &node_manifest(n));
        assert!(ok, "{out}{err}");
    }
    c.kubectl_ok(&["create", "serviceaccount", "runner"]);
    for s in ["s1", "s2", "s3"] {
        c.kubectl_ok(&["create", "secret", "generic", s, "--from-literal=k=v"]);
    }
    c.kubectl_ok(&["create", "configmap", "c1", "--from-literal=k=v"]);
    c.kubectl_ok(&["create", "configmap", "c2", "--from-literal=k=v"]);

    // Its own Node: get and status patch; another node's: no read.
    let out = wait_kubelet(&c, &["get", "node", N1, "-o", "name"], true);
    assert_eq!(out.trim(), format!("node/{N1}"));
    // A kubelet PATCHes its status without reading nodes/status first
    // (which the Node authorizer, like upstream's, does not grant).
    let (code, body) = c.request_as(
        Some(KUBELET1),
        "PATCH",
        &format!("/api/v1/nodes/{N1}/status"),
        Some("application/merge-patch+json"),
        Some(br#"{"status":{"capacity":{"pods":"110"}}}"#),
    );
    assert_eq!(code, 200, "{body}");
    let (code, body) = c.request_as(
        Some(KUBELET1),
        "GET",
        &format!("/api/v1/nodes/{N1}/status"),
        None,
        None,
    );
    assert_eq!(code, 403, "{body}");
    assert_eq!(
        c.kubectl_ok(&["get", "node", N1, "-o", "jsonpath={.status.capacity.pods}"]),
        "110"
    );
    let (ok, _, err) = c.kubectl_as(KUBELET1, &["get", "node", N2]);
    assert!(!ok, "{err}");
    assert!(
        err.contains(&format!(
            "nodes \"{N2}\" is forbidden: User \"system:node:{N1}\" cannot get resource \"nodes\" in API group \"\" at the cluster scope: node '{N1}' cannot read '{N2}', only its own Node object"
        )),
        "{err}"
    );
    // Leases: its own in kube-node-lease only.
    let lease = |name: &str| {
        format!(
            r#"{{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{{"name":"{name}","namespace":"kube-node-lease"}},"spec":{{"holderIdentity":"{name}"}}}}"#
        )
    };
    for n in [N1, N2] {
        let (ok, out, err) = c.kubectl_stdin(&["create", "-f", "-"], &lease(n));
        assert!(ok, "{out}{err}");
    }
    let (ok, out, err) = c.kubectl_as(KUBELET1, &["get", "lease", N1, "-n", "kube-node-lease"]);
    assert!(ok, "{out}{err}");
    let (ok, _, err) = c.kubectl_as(KUBELET1, &["get", "lease", N2, "-n", "kube-node-lease"]);
    assert!(
        !ok && err.contains("can only access node lease with the same name as the requesting node"),
        "{err}"
    );

    // Nothing is bound yet: no secret is reachable.
    let (ok, _, err) = c.kubectl_as(KUBELET1, &["get", "secret", "s1"]);
    assert!(!ok && err.contains(&forbidden_secret("s1")), "{err}");

    // p1 waits unbound, p2 runs on the other node.
    let (ok, out, err) =
        c.kubectl_stdin(&["create", "-f", "-"], &pod_manifest("p1", "", "s1", "c1"));
    assert!(ok, "{out}{err}");
    let (ok, out, err) =
        c.kubectl_stdin(&["create", "-f", "-"], &pod_manifest("p2", N2, "s2", "c2"));
    assert!(ok, "{out}{err}");
    std::thread::sleep(Duration::from_millis(500));
    let (ok, _, err) = c.kubectl_as(KUBELET1, &["get", "secret", "s1"]);
    assert!(
        !ok && err.contains(&forbidden_secret("s1")),
        "unbound pod: {err}"
    );

    // Binding p1 to n1 opens exactly what p1 references.
    let binding = format!(
        r#"{{"apiVersion":"v1","kind":"Binding","metadata":{{"name":"p1"}},"target":{{"apiVersion":"v1","kind":"Node","name":"{N1}"}}}}"#
    );
    let (code, body) = c.request(
        "POST",
        "/api/v1/namespaces/default/pods/p1/binding",
        Some("application/json"),
        Some(binding.as_bytes()),
    );
    assert_eq!(code, 201, "{body}");
    wait_kubelet(&c, &["get", "secret", "s1", "-o", "name"], true);
    let (ok, out, err) = c.kubectl_as(
        KUBELET1,
        &["get", "configmap", "c1", "-o", "jsonpath={.data.k}"],
    );
    assert!(ok && out == "v", "{out}{err}");
    let (ok, out, err) = c.kubectl_as(KUBELET1, &["get", "pod", "p1", "-o", "name"]);
    assert!(ok && out.trim() == "pod/p1", "{out}{err}");
    for (kind, name) in [
        ("secret", "s2"),
        ("secret", "s3"),
        ("configmap", "c2"),
        ("pod", "p2"),
    ] {
        let (ok, _, err) = c.kubectl_as(KUBELET1, &["get", kind, name]);
        assert!(!ok, "{kind} {name}");
        assert!(
            err.contains(&format!(
                "no relationship found between node '{N1}' and this object"
            )),
            "{kind} {name}: {err}"
        );
    }
    assert!(
        c.kubectl_as(KUBELET1, &["get", "secret", "s3"])
            .2
            .contains(&forbidden_secret("s3")),
        "unreferenced secret"
    );
    // A list naming one object by metadata.name is about that object (what
    // a kubelet's secret and configmap watches send).
    let (ok, out, err) = c.kubectl_as(
        KUBELET1,
        &[
            "get",
            "secrets",
            "--field-selector",
            "metadata.name=s1",
            "-o",
            "name",
        ],
    );
    assert!(ok && out.trim() == "secret/s1", "{out}{err}");
    let (ok, _, err) = c.kubectl_as(
        KUBELET1,
        &["get", "secrets", "--field-selector", "metadata.name=s2"],
    );
    assert!(!ok && err.contains("no relationship found"), "{err}");
    // Pods: only a list scoped to its own node.
    let (ok, out, err) = c.kubectl_as(
        KUBELET1,
        &[
            "get",
            "pods",
            "-A",
            "--field-selector",
            &format!("spec.nodeName={N1}"),
            "-o",
            "name",
        ],
    );
    assert!(ok && out.trim() == "pod/p1", "{out}{err}");
    let (ok, _, err) = c.kubectl_as(KUBELET1, &["get", "pods", "-A"]);
    assert!(
        !ok && err.contains("can only list/watch pods with spec.nodeName field selector"),
        "{err}"
    );
    // Tokens only for the ServiceAccount its pods run as.
    let (ok, out, err) = c.kubectl_as(KUBELET1, &["create", "token", "runner"]);
    assert!(ok && out.trim().split('.').count() == 3, "{out}{err}");
    let (ok, _, err) = c.kubectl_as(KUBELET1, &["create", "token", "default"]);
    assert!(!ok && err.contains("no relationship found"), "{err}");

    // kubectl auth can-i as the node.
    let can_i = |args: &[&str]| {
        let mut a = vec!["auth", "can-i"];
        a.extend_from_slice(args);
        c.kubectl_as(KUBELET1, &a).1.trim().to_string()
    };
    assert_eq!(can_i(&["get", "secret/s1"]), "yes");
    // kubectl prints the authorizer's reason after "no - ".
    let no_relation = format!("no - no relationship found between node '{N1}' and this object");
    assert_eq!(can_i(&["get", "secret/s2"]), no_relation);
    assert_eq!(can_i(&["get", &format!("nodes/{N1}")]), "yes");
    assert_eq!(
        can_i(&["get", &format!("nodes/{N2}")]),
        format!("no - node '{N1}' cannot read '{N2}', only its own Node object")
    );
    assert_eq!(can_i(&["create", "events"]), "yes");
    assert_eq!(can_i(&["list", "deployments.apps"]), "no");

    // Its rules cannot be listed: the review says so, as upstream.
    let (code, body) = c.request_as(
        Some(KUBELET1),
        "POST",
        "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
        Some("application/json"),
        Some(br#"{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectRulesReview","spec":{"namespace":"default"}}"#),
    );
    assert_eq!(code, 201, "{body}");
    assert_eq!(body["status"]["incomplete"], true, "{body}");
    assert_eq!(
        body["status"]["evaluationError"],
        "node authorizer does not support user rule resolution"
    );

    // Deleting p1 closes the access again.
    c.kubectl_ok(&["delete", "pod", "p1", "--grace-period=0", "--force"]);
    let err = wait_kubelet(&c, &["get", "secret", "s1"], false);
    assert!(err.contains(&forbidden_secret("s1")), "{err}");
    assert_eq!(can_i(&["get", "secret/s1"]), no_relation);
}

/// kubectl with only a bearer token (no client certificate).
fn with_token(c: &ApiCluster, token: &str, args: &[&str]) -> (bool, String, String) {
    run(Command::new(harness::bins::system("kubectl"))
        .arg("--kubeconfig=/dev/null")
        .arg(format!("--server={}", c.url))
        .arg(format!("--certificate-authority={}", c.pki.ca().display()))
        .arg(format!("--token={token}"))
        .args(args))
}

#[test]
fn service_account_tokens_die_with_their_objects() {
    let keys = tempfile::tempdir().expect("temp dir");
    let c = start_with_tokens(&keys);
    c.kubectl_ok(&["create", "serviceaccount", "builder"]);
    let token = c
        .kubectl_ok(&["create", "token", "builder"])
        .trim()
        .to_string();
    let (ok, out, err) = with_token(
        &c,
        &token,
        &[
            "auth",
            "whoami",
            "-o",
            "jsonpath={.status.userInfo.username}",
        ],
    );
    assert!(
        ok && out == "system:serviceaccount:default:builder",
        "{out}{err}"
    );
    let (code, _) = c.request_as(None, "GET", "/readyz", None, None);
    assert_eq!(code, 200);

    // Deleted: 401. Recreated under the same name (new uid): still 401.
    c.kubectl_ok(&["delete", "serviceaccount", "builder"]);
    let (ok, _, err) = with_token(&c, &token, &["auth", "whoami"]);
    assert!(!ok && err.contains("Unauthorized"), "{err}");
    c.kubectl_ok(&["create", "serviceaccount", "builder"]);
    let (ok, _, err) = with_token(&c, &token, &["auth", "whoami"]);
    assert!(!ok && err.contains("Unauthorized"), "old uid: {err}");

    // A token bound to a pod dies with the pod.
    let (ok, out, err) = c.kubectl_stdin(
        &["create", "-f", "-"],
        r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"default"},
           "spec":{"serviceAccountName":"builder","containers":[{"name":"c","image":"busybox"}]}}"#,
    );
    assert!(ok, "{out}{err}");
    let bound = c
        .kubectl_ok(&[
            "create",
            "token",
            "builder",
            "--bound-object-kind=Pod",
            "--bound-object-name=web",
        ])
        .trim()
        .to_string();
    let (ok, out, err) = with_token(&c, &bound, &["auth", "whoami"]);
    assert!(ok, "{out}{err}");
    c.kubectl_ok(&["create", "serviceaccount", "other"]);
    let (ok, _, err) = c.kubectl(&[
        "create",
        "token",
        "other",
        "--bound-object-kind=Pod",
        "--bound-object-name=web",
    ]);
    assert!(
        !ok && err.contains("cannot bind token for serviceaccount \"other\" to pod running with different serviceaccount name."),
        "{err}"
    );
    c.kubectl_ok(&["delete", "pod", "web", "--grace-period=0", "--force"]);
    let (ok, _, err) = with_token(&c, &bound, &["auth", "whoami"]);
    assert!(!ok && err.contains("Unauthorized"), "{err}");
    // A TokenReview says the same.
    let review = format!(
        r#"{{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{{"token":"{bound}"}}}}"#
    );
    let (code, body) = c.request(
        "POST",
        "/apis/authentication.k8s.io/v1/tokenreviews",
        Some("application/json"),
        Some(review.as_bytes()),
    );
    assert_eq!(code, 201, "{body}");
    assert_eq!(body["status"]["authenticated"], false, "{body}");
}
