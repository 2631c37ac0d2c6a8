//! `certs kubeconfig` against the real kubectl: kubectl reads it, and the
//! seed's four `kubectl config ... --embed-certs=true` calls produce the
//! same file.

mod common;

use std::process::Command;

use base64::Engine;
use common::*;

fn kubectl(ws: &Workspace, args: &[&str]) -> std::process::Output {
    let out = Command::new("/usr/bin/kubectl")
        .args(args)
        .current_dir(ws.dir())
        .env("HOME", ws.dir())
        .env_remove("KUBECONFIG")
        .output()
        .expect("running kubectl");
    assert_success(&out, &format!("kubectl {args:?}"));
    out
}

/// A CA and a client certificate for the seed's `k8s-node` user.
fn prepared() -> Workspace {
    let ws = Workspace::new();
    ws.write("ca-csr.json", SEED_CA_CSR);
    ws.write("ca-config.json", SEED_CA_CONFIG);
    ws.write(
        "node-csr.json",
        r#"{"CN":"k8s-node","key":{"algo":"rsa","size":2048},"names":[{"O":"system:nodes"}]}"#,
    );
    assert_success(
        &ws.sh("cfssl gencert -initca ca-csr.json | cfssljson -bare ca"),
        "ca",
    );
    assert_success(
        &ws.sh("cfssl gencert -ca=ca.pem -ca-key=ca-key.pem -config=ca-config.json -profile=client node-csr.json | cfssljson -bare k8s-node"),
        "client cert",
    );
    ws
}

fn ours(ws: &Workspace, out: &str, namespace: Option<&str>) {
    let mut args = vec![
        "kubeconfig",
        "--ca",
        "ca.pem",
        "--cert",
        "k8s-node.pem",
        "--key",
        "k8s-node-key.pem",
        "--server",
        "https://127.0.0.1:6443",
        "--cluster",
        "myk8s",
        "--user",
        "k8s-node",
        "--context",
        "myk8s-context",
        "--out",
        out,
    ];
    if let Some(ns) = namespace {
        args.extend(["--namespace", ns]);
    }
    assert_success(&ws.run("certs", &args, None), "certs kubeconfig");
}

/// The seed's kubectl calls (with the flags spelled as kubectl has them).
fn with_kubectl(ws: &Workspace, out: &str, namespace: Option<&str>) {
    let kc = format!("--kubeconfig={out}");
    let dir = ws.dir().display().to_string();
    kubectl(
        ws,
        &[
            "config",
            "set-cluster",
            "myk8s",
            &format!("--certificate-authority={dir}/ca.pem"),
            "--embed-certs=true",
            "--server=https://127.0.0.1:6443",
            &kc,
        ],
    );
    kubectl(
        ws,
        &[
            "config",
            "set-credentials",
            "k8s-node",
            &format!("--client-certificate={dir}/k8s-node.pem"),
            &format!("--client-key={dir}/k8s-node-key.pem"),
            "--embed-certs=true",
            &kc,
        ],
    );
    let mut ctx = vec![
        "config".to_string(),
        "set-context".into(),
        "myk8s-context".into(),
        "--cluster=myk8s".into(),
        "--user=k8s-node".into(),
        kc.clone(),
    ];
    if let Some(ns) = namespace {
        ctx.push(format!("--namespace={ns}"));
    }
    kubectl(ws, &ctx.iter().map(String::as_str).collect::<Vec<_>>());
    kubectl(ws, &["config", "use-context", "myk8s-context", &kc]);
}

#[test]
fn kubectl_reads_our_kubeconfig() {
    if !kubectl_installed() {
        return;
    }
    let ws = prepared();
    ours(&ws, "ours.kubeconfig", None);
    assert_eq!(ws.mode("ours.kubeconfig"), 0o600);
    let view = |path: &str| {
        String::from_utf8(
            kubectl(
                &ws,
                &[
                    "--kubeconfig",
                    "ours.kubeconfig",
                    "config",
                    "view",
                    "--raw",
                    "-o",
                    &format!("jsonpath={path}"),
                ],
            )
            .stdout,
        )
        .unwrap()
    };
    assert_eq!(view("{.current-context}"), "myk8s-context");
    assert_eq!(view("{.clusters[0].name}"), "myk8s");
    assert_eq!(
        view("{.clusters[0].cluster.server}"),
        "https://127.0.0.1:6443"
    );
    assert_eq!(view("{.contexts[0].context.user}"), "k8s-node");
    assert_eq!(view("{.contexts[0].context.cluster}"), "myk8s");
    let b64 = base64::engine::general_purpose::STANDARD;
    assert_eq!(
        b64.decode(view("{.clusters[0].cluster.certificate-authority-data}"))
            .unwrap(),
        ws.read("ca.pem")
    );
    assert_eq!(
        b64.decode(view("{.users[0].user.client-certificate-data}"))
            .unwrap(),
        ws.read("k8s-node.pem")
    );
    assert_eq!(
        b64.decode(view("{.users[0].user.client-key-data}"))
            .unwrap(),
        ws.read("k8s-node-key.pem")
    );
    // The standard client-side validation path accepts it too.
    let out = kubectl(
        &ws,
        &[
            "--kubeconfig",
            "ours.kubeconfig",
            "config",
            "get-contexts",
            "-o",
            "name",
        ],
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "myk8s-context");
}

#[test]
fn same_file_as_the_seeds_kubectl_calls() {
    if !kubectl_installed() {
        return;
    }
    let ws = prepared();
    for namespace in [None, Some("kube-system")] {
        ours(&ws, "ours.kubeconfig", namespace);
        with_kubectl(&ws, "kubectl.kubeconfig", namespace);
        // Same meaning (what kubectl itself sees)...
        let view = |f: &str| {
            kubectl(
                &ws,
                &["--kubeconfig", f, "config", "view", "--raw", "-o", "json"],
            )
            .stdout
        };
        assert_eq!(
            json(&view("ours.kubeconfig")),
            json(&view("kubectl.kubeconfig")),
            "{namespace:?}"
        );
        // ...and in fact the same bytes.
        assert_eq!(
            String::from_utf8(ws.read("ours.kubeconfig")).unwrap(),
            String::from_utf8(ws.read("kubectl.kubeconfig")).unwrap(),
            "{namespace:?}"
        );
        std::fs::remove_file(ws.path("kubectl.kubeconfig")).unwrap();
    }
}
