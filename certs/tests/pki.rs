//! `certs pki`: every file of the cluster PKI, verified with openssl and
//! kubectl; re-runs keep keys, `--rotate` replaces leaves, `--rotate-ca`
//! everything; a new node only adds that node's files.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use common::*;

const CLUSTER: &str = r#"{
  "clusterName": "myk8s",
  "apiserver": { "ip": "10.4.7.21", "hostname": "hdss7-21", "url": "https://10.4.7.21:6443" },
  "etcd": [ { "name": "etcd-7-21", "ip": "10.4.7.21" } ],
  "nodes": [ { "name": "hdss7-21", "ip": "10.4.7.21" }, { "name": "hdss7-22", "ip": "10.4.7.22" } ],
  "serviceClusterIPRange": "192.168.0.0/16",
  "names": { "C": "CN", "ST": "henan", "L": "zhengzhou", "O": "zoneyet", "OU": "ops" },
  "expiry": "175200h"
}"#;

const LEAVES: &[&str] = &[
    "etcd-server",
    "etcd-peer",
    "etcd-client",
    "apiserver",
    "apiserver-etcd-client",
    "apiserver-kubelet-client",
    "admin",
    "kube-controller-manager",
    "kube-scheduler",
    "kube-proxy",
    "flanneld",
    "kubelet-hdss7-21",
    "kubelet-hdss7-21-server",
    "kubelet-hdss7-22",
    "kubelet-hdss7-22-server",
];

const KUBECONFIGS: &[&str] = &[
    "admin",
    "kube-controller-manager",
    "kube-scheduler",
    "kube-proxy",
    "flanneld",
    "kubelet-hdss7-21",
    "kubelet-hdss7-22",
];

fn expected_files() -> Vec<String> {
    let mut files = vec![
        "ca.pem".to_string(),
        "ca-key.pem".into(),
        "ca-config.json".into(),
        "sa.key".into(),
        "sa.pub".into(),
    ];
    for leaf in LEAVES {
        files.push(format!("{leaf}.pem"));
        files.push(format!("{leaf}-key.pem"));
    }
    for kc in KUBECONFIGS {
        files.push(format!("{kc}.kubeconfig"));
    }
    files.sort();
    files
}

fn pki(ws: &Workspace, extra: &[&str]) -> Vec<(String, String)> {
    let mut args = vec![
        "pki",
        "--config",
        "cluster.json",
        "--dir",
        "pki",
        "--apiserver-url",
        "https://127.0.0.1:6443",
    ];
    args.extend(extra);
    let out = ws.run("certs", &args, None);
    assert_success(&out, "certs pki");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (verb, path) = l.split_once(' ').unwrap();
            (
                verb.to_string(),
                path.trim_start_matches("pki/").to_string(),
            )
        })
        .collect()
}

fn snapshot(ws: &Workspace) -> BTreeMap<String, Vec<u8>> {
    list_dir(&ws.path("pki"))
        .into_iter()
        .map(|f| {
            let bytes = std::fs::read(ws.path("pki").join(&f)).unwrap();
            (f, bytes)
        })
        .collect()
}

fn certinfo(ws: &Workspace, cert: &str) -> serde_json::Value {
    let out = ws.run(
        "certs",
        &["certinfo", "-cert", &format!("pki/{cert}.pem")],
        None,
    );
    assert_success(&out, "certinfo");
    json(&out.stdout)
}

fn verify_all(ws: &Workspace) {
    for leaf in LEAVES {
        let purpose = if leaf.ends_with("server") || *leaf == "apiserver" || *leaf == "etcd-peer" {
            "sslserver"
        } else {
            "sslclient"
        };
        let out = Command::new("openssl")
            .args([
                "verify",
                "-purpose",
                purpose,
                "-CAfile",
                "pki/ca.pem",
                &format!("pki/{leaf}.pem"),
            ])
            .current_dir(ws.dir())
            .output()
            .unwrap();
        assert_success(&out, &format!("openssl verify -purpose {purpose} {leaf}"));
    }
    let out = openssl_verify(&ws.dir(), "pki/ca.pem", "pki/ca.pem");
    assert_success(&out, "verify ca");
}

fn new_workspace() -> Workspace {
    let ws = Workspace::new();
    ws.write("cluster.json", CLUSTER);
    ws
}

#[test]
fn generates_every_file_with_the_right_identities() {
    let ws = new_workspace();
    let lines = pki(&ws, &[]);
    assert_eq!(list_dir(&ws.path("pki")), expected_files());
    // One line per file, each "wrote".
    let mut reported: Vec<String> = lines.iter().map(|(_, f)| f.clone()).collect();
    reported.sort();
    assert_eq!(reported, expected_files());
    assert!(lines.iter().all(|(verb, _)| verb == "wrote"), "{lines:?}");

    for f in expected_files() {
        let secret = f.ends_with("-key.pem") || f.ends_with(".kubeconfig") || f == "sa.key";
        let want = if secret { 0o600 } else { 0o644 };
        assert_eq!(ws.mode(&format!("pki/{f}")), want, "{f}");
    }
    verify_all(&ws);

    let api = certinfo(&ws, "apiserver");
    assert_eq!(api["subject"]["common_name"], "kube-apiserver");
    assert_eq!(
        api["sans"],
        serde_json::json!([
            "kubernetes",
            "kubernetes.default",
            "kubernetes.default.svc",
            "kubernetes.default.svc.cluster.local",
            "localhost",
            "hdss7-21",
            "127.0.0.1",
            "192.168.0.1",
            "10.4.7.21"
        ])
    );
    for etcd in ["etcd-server", "etcd-peer"] {
        assert_eq!(
            certinfo(&ws, etcd)["sans"],
            serde_json::json!(["localhost", "127.0.0.1", "10.4.7.21"]),
            "{etcd}"
        );
    }
    let identities = [
        ("etcd-client", "etcd-client", "zoneyet"),
        (
            "apiserver-etcd-client",
            "kube-apiserver-etcd-client",
            "zoneyet",
        ),
        (
            "apiserver-kubelet-client",
            "kube-apiserver-kubelet-client",
            "system:masters",
        ),
        ("admin", "admin", "system:masters"),
        (
            "kube-controller-manager",
            "system:kube-controller-manager",
            "zoneyet",
        ),
        ("kube-scheduler", "system:kube-scheduler", "zoneyet"),
        ("kube-proxy", "system:kube-proxy", "zoneyet"),
        ("flanneld", "flanneld", "zoneyet"),
        ("kubelet-hdss7-22", "system:node:hdss7-22", "system:nodes"),
        (
            "kubelet-hdss7-22-server",
            "system:node:hdss7-22",
            "system:nodes",
        ),
    ];
    for (file, cn, org) in identities {
        let info = certinfo(&ws, file);
        assert_eq!(info["subject"]["common_name"], cn, "{file}");
        assert_eq!(info["subject"]["organization"], org, "{file}");
        assert_eq!(info["subject"]["province"], "henan", "{file}");
        assert_eq!(info["issuer"]["common_name"], "myk8s-ca", "{file}");
    }
    assert_eq!(
        certinfo(&ws, "kubelet-hdss7-22-server")["sans"],
        serde_json::json!(["hdss7-22", "10.4.7.22"])
    );
    // 175200h from the description.
    let ca = certinfo(&ws, "ca");
    let years =
        |v: &serde_json::Value, k: &str| v[k].as_str().unwrap()[..4].parse::<i32>().unwrap();
    assert_eq!(years(&ca, "not_after") - years(&ca, "not_before"), 20);

    // The ServiceAccount pair: PKCS#1 private key, PKIX public key, matching.
    let sa_key = String::from_utf8(ws.read("pki/sa.key")).unwrap();
    assert!(sa_key.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    let sa_pub = String::from_utf8(ws.read("pki/sa.pub")).unwrap();
    assert!(sa_pub.starts_with("-----BEGIN PUBLIC KEY-----"));
    let derived = Command::new("openssl")
        .args(["rsa", "-in", "pki/sa.key", "-pubout"])
        .current_dir(ws.dir())
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&derived.stdout), sa_pub);
}

#[test]
fn kubeconfigs_are_read_by_kubectl() {
    if !kubectl_installed() {
        return;
    }
    let ws = new_workspace();
    pki(&ws, &[]);
    for kc in KUBECONFIGS {
        let out = Command::new("/usr/bin/kubectl")
            .args(["--kubeconfig", &format!("pki/{kc}.kubeconfig"), "config", "view", "--raw", "-o",
                   "jsonpath={.current-context} {.clusters[0].name} {.clusters[0].cluster.server} {.users[0].name}"])
            .current_dir(ws.dir())
            .env("HOME", ws.dir())
            .env_remove("KUBECONFIG")
            .output()
            .unwrap();
        assert_success(&out, kc);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("{kc}-context myk8s https://127.0.0.1:6443 {kc}"),
            "{kc}"
        );
    }
}

#[test]
fn rerun_keeps_everything_and_new_node_adds_only_its_files() {
    let ws = new_workspace();
    pki(&ws, &[]);
    let first = snapshot(&ws);
    let lines = pki(&ws, &[]);
    assert!(lines.iter().all(|(verb, _)| verb == "kept"), "{lines:?}");
    assert_eq!(lines.len(), expected_files().len());
    assert_eq!(snapshot(&ws), first);

    ws.write("cluster.json", &CLUSTER.replace(
        r#"{ "name": "hdss7-22", "ip": "10.4.7.22" }"#,
        r#"{ "name": "hdss7-22", "ip": "10.4.7.22" }, { "name": "hdss7-23", "ip": "10.4.7.23" }"#,
    ));
    let lines = pki(&ws, &[]);
    let wrote: Vec<&str> = lines
        .iter()
        .filter(|(v, _)| v == "wrote")
        .map(|(_, f)| f.as_str())
        .collect();
    assert_eq!(
        wrote,
        vec![
            "kubelet-hdss7-23.pem",
            "kubelet-hdss7-23-key.pem",
            "kubelet-hdss7-23-server.pem",
            "kubelet-hdss7-23-server-key.pem",
            "kubelet-hdss7-23.kubeconfig"
        ]
    );
    let after = snapshot(&ws);
    for (file, bytes) in &first {
        assert_eq!(after.get(file), Some(bytes), "{file} changed");
    }
    let out = openssl_verify(&ws.dir(), "pki/ca.pem", "pki/kubelet-hdss7-23.pem");
    assert_success(&out, "new node cert");
}

#[test]
fn rotate_replaces_leaves_and_rotate_ca_replaces_the_ca() {
    let ws = new_workspace();
    pki(&ws, &[]);
    let first = snapshot(&ws);
    pki(&ws, &["--rotate"]);
    let rotated = snapshot(&ws);
    for keep in ["ca.pem", "ca-key.pem", "ca-config.json", "sa.key", "sa.pub"] {
        assert_eq!(rotated[keep], first[keep], "{keep} must stay on --rotate");
    }
    for leaf in LEAVES {
        for f in [format!("{leaf}.pem"), format!("{leaf}-key.pem")] {
            assert_ne!(rotated[&f], first[&f], "{f} must change on --rotate");
        }
    }
    for kc in KUBECONFIGS {
        let f = format!("{kc}.kubeconfig");
        assert_ne!(rotated[&f], first[&f], "{f} must embed the new credentials");
    }
    verify_all(&ws);

    pki(&ws, &["--rotate-ca"]);
    let new_ca = snapshot(&ws);
    assert_ne!(new_ca["ca.pem"], rotated["ca.pem"]);
    assert_ne!(new_ca["ca-key.pem"], rotated["ca-key.pem"]);
    assert_eq!(new_ca["sa.key"], first["sa.key"]);
    verify_all(&ws);
}

#[test]
fn refuses_a_leaf_from_another_ca() {
    let ws = new_workspace();
    pki(&ws, &[]);
    // Replace admin.pem/admin-key.pem with a pair from a different CA.
    ws.write(
        "other-csr.json",
        r#"{"CN":"other","key":{"algo":"ecdsa","size":256}}"#,
    );
    ws.write(
        "admin-csr.json",
        r#"{"CN":"admin","key":{"algo":"ecdsa","size":256}}"#,
    );
    assert_success(
        &ws.sh("cfssl gencert -initca other-csr.json | cfssljson -bare other"),
        "other ca",
    );
    assert_success(&ws.sh("cfssl gencert -ca other.pem -ca-key other-key.pem admin-csr.json | cfssljson -bare pki/admin"), "foreign admin");
    let before = snapshot(&ws);
    let out = ws.run(
        "certs",
        &["pki", "--config", "cluster.json", "--dir", "pki"],
        None,
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("pki/admin.pem does not belong to pki/ca.pem"),
        "{stderr}"
    );
    assert_eq!(snapshot(&ws), before);
    // --rotate reissues it from the cluster CA.
    pki(&ws, &["--rotate"]);
    verify_all(&ws);
}

#[test]
fn cfssl_accepts_the_generated_ca_and_config() {
    if !cfssl_installed() {
        return;
    }
    let ws = new_workspace();
    pki(&ws, &[]);
    ws.write(
        "extra-csr.json",
        r#"{"CN":"extra","hosts":["127.0.0.1"],"key":{"algo":"rsa","size":2048}}"#,
    );
    for profile in ["server", "client", "peer"] {
        let out = run_in(
            &ws.dir(),
            std::path::Path::new("/usr/bin/cfssl"),
            &[
                "gencert",
                "-ca=pki/ca.pem",
                "-ca-key=pki/ca-key.pem",
                "-config=pki/ca-config.json",
                &format!("-profile={profile}"),
                "extra-csr.json",
            ],
            None,
        );
        assert_success(&out, &format!("cfssl with profile {profile}"));
        let json_out = run_in(
            &ws.dir(),
            std::path::Path::new("/usr/bin/cfssljson"),
            &["-bare", profile],
            Some(&out.stdout),
        );
        assert_success(&json_out, "cfssljson");
        assert_success(
            &openssl_verify(&ws.dir(), "pki/ca.pem", &format!("{profile}.pem")),
            profile,
        );
    }
}

#[test]
fn changed_description_marks_kept_certificates_stale() {
    let ws = new_workspace();
    pki(&ws, &[]);
    let before = snapshot(&ws);
    ws.write("cluster.json", &CLUSTER.replace(
        r#"[ { "name": "etcd-7-21", "ip": "10.4.7.21" } ]"#,
        r#"[ { "name": "etcd-7-21", "ip": "10.4.7.21" }, { "name": "etcd-7-22", "ip": "10.4.7.22" } ]"#,
    ));
    let lines = pki(&ws, &[]);
    let stale: Vec<&(String, String)> = lines.iter().filter(|(_, f)| f.contains("stale")).collect();
    assert_eq!(stale.len(), 2, "{lines:?}");
    for (verb, rest) in &stale {
        assert_eq!(verb, "kept");
        assert!(
            rest.contains("SANs differ (missing [\"10.4.7.22\"], extra [])"),
            "{rest}"
        );
    }
    assert!(
        stale[0].1.starts_with("etcd-server.pem") && stale[1].1.starts_with("etcd-peer.pem"),
        "{stale:?}"
    );
    assert_eq!(snapshot(&ws), before, "nothing may change without --rotate");
    pki(&ws, &["--rotate"]);
    assert_eq!(
        certinfo(&ws, "etcd-server")["sans"],
        serde_json::json!(["localhost", "127.0.0.1", "10.4.7.21", "10.4.7.22"])
    );
    let lines = pki(&ws, &[]);
    assert!(
        lines
            .iter()
            .all(|(verb, rest)| verb == "kept" && !rest.contains("stale")),
        "{lines:?}"
    );
}
