//! `default` ServiceAccounts, `kube-root-ca.crt` ConfigMaps and legacy
//! token Secrets, through the real kube-controller-manager.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use harness::apiserver::ApiCluster;
use harness::controller_manager::{CmCluster, spawn};
use harness::process::wait_until;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

#[test]
fn every_namespace_gets_a_default_service_account_and_the_root_ca() {
    let c = CmCluster::start("serviceaccount,root-ca-cert-publisher", 0);
    c.kubectl_ok(&["create", "namespace", "team-a"]);
    c.wait_for(
        &["-n", "team-a", "get", "serviceaccount", "default"],
        "{.metadata.name}",
        "default",
        WAIT,
    );
    let ca = std::fs::read_to_string(c.api.pki.ca()).expect("ca.pem");
    c.wait_for(
        &["-n", "team-a", "get", "configmap", "kube-root-ca.crt"],
        "{.data.ca\\.crt}",
        &ca,
        WAIT,
    );
    // Existing namespaces get them too.
    c.wait_for(
        &["-n", "default", "get", "serviceaccount", "default"],
        "{.metadata.name}",
        "default",
        WAIT,
    );
    c.wait_for(
        &["-n", "kube-system", "get", "configmap", "kube-root-ca.crt"],
        "{.data.ca\\.crt}",
        &ca,
        WAIT,
    );

    // A deleted default account comes back (with a new uid).
    let uid = c.jsonpath(
        &["-n", "team-a", "get", "serviceaccount", "default"],
        "{.metadata.uid}",
    );
    c.kubectl_ok(&["-n", "team-a", "delete", "serviceaccount", "default"]);
    let mut now = String::new();
    let back = wait_until(WAIT, || {
        now = c.jsonpath(
            &["-n", "team-a", "get", "serviceaccount", "default"],
            "{.metadata.uid}",
        );
        !now.is_empty() && now != uid
    });
    assert!(
        back,
        "default service account not recreated:\n{}",
        c.cm.log_tail(30)
    );
    // An edited CA bundle is put back.
    c.kubectl_ok(&[
        "-n",
        "team-a",
        "patch",
        "configmap",
        "kube-root-ca.crt",
        "-p",
        r#"{"data":{"ca.crt":"junk"}}"#,
    ]);
    c.wait_for(
        &["-n", "team-a", "get", "configmap", "kube-root-ca.crt"],
        "{.data.ca\\.crt}",
        &ca,
        WAIT,
    );
}

fn decode(c: &ApiCluster, name: &str, key: &str) -> String {
    let (_, out, _) = c.kubectl(&[
        "get",
        "secret",
        name,
        &format!("-o=jsonpath={{.data.{key}}}"),
    ]);
    String::from_utf8(STANDARD.decode(out.trim()).unwrap_or_default()).unwrap_or_default()
}

#[test]
fn token_secrets_are_filled_and_other_secrets_untouched() {
    let api = ApiCluster::start();
    let key = api.pki.dir.join("sa.key");
    let (cm, _) = spawn(
        &api,
        "kube-controller-manager",
        &[
            "--controllers=serviceaccount-token",
            "--leader-elect=false",
            &format!("--service-account-private-key-file={}", key.display()),
        ],
    );
    api.kubectl_ok(&["create", "serviceaccount", "builder"]);
    let (ok, out, err) = api.kubectl_stdin(
        &["apply", "-f", "-"],
        r#"apiVersion: v1
kind: Secret
metadata:
  name: builder-token
  annotations: {kubernetes.io/service-account.name: builder}
type: kubernetes.io/service-account-token
"#,
    );
    assert!(ok, "{out}\n{err}");
    api.kubectl_ok(&["create", "secret", "generic", "plain", "--from-literal=a=b"]);
    let mut token = String::new();
    let filled = wait_until(WAIT, || {
        token = decode(&api, "builder-token", "token");
        !token.is_empty()
    });
    assert!(filled, "token secret not filled:\n{}", cm.log_tail(30));
    assert_eq!(decode(&api, "builder-token", "namespace"), "default");
    assert_eq!(
        decode(&api, "builder-token", "ca\\.crt"),
        std::fs::read_to_string(api.pki.ca()).expect("ca")
    );
    let claims: serde_json::Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).expect("jwt payload"))
            .expect("base64url"),
    )
    .expect("claims json");
    assert_eq!(claims["sub"], "system:serviceaccount:default:builder");
    assert_eq!(
        claims["kubernetes.io/serviceaccount/secret.name"],
        "builder-token"
    );
    let sa_uid = api.kubectl_ok(&[
        "get",
        "serviceaccount",
        "builder",
        "-o=jsonpath={.metadata.uid}",
    ]);
    assert_eq!(
        claims["kubernetes.io/serviceaccount/service-account.uid"],
        sa_uid.trim()
    );
    // The signature verifies with the public half `certs pki` wrote.
    let public = openssl::pkey::PKey::public_key_from_pem(
        &std::fs::read(api.pki.dir.join("sa.pub")).expect("sa.pub"),
    )
    .expect("public key");
    let parts: Vec<&str> = token.split('.').collect();
    let mut v = openssl::sign::Verifier::new(openssl::hash::MessageDigest::sha256(), &public)
        .expect("verifier");
    v.update(format!("{}.{}", parts[0], parts[1]).as_bytes())
        .expect("update");
    assert!(
        v.verify(&URL_SAFE_NO_PAD.decode(parts[2]).expect("sig"))
            .expect("verify"),
        "bad token signature"
    );

    // Other secrets are left as they were.
    assert_eq!(
        api.kubectl_ok(&["get", "secret", "plain", "-o=jsonpath={.data.a}"])
            .trim(),
        "Yg=="
    );
    assert_eq!(
        api.kubectl_ok(&["get", "secret", "plain", "-o=jsonpath={.data.token}"])
            .trim(),
        ""
    );

    // A token whose account is deleted goes with it.
    api.kubectl_ok(&["delete", "serviceaccount", "builder"]);
    let gone = wait_until(WAIT, || !api.kubectl(&["get", "secret", "builder-token"]).0);
    assert!(
        gone,
        "token secret outlived its service account:\n{}",
        cm.log_tail(30)
    );
}
