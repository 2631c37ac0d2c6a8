//! The PKI's certificates in real TLS: an in-process handshake checks
//! SANs and extended key usages the way every TLS stack checks them, and a
//! real etcd serves over mutual TLS with the etcd certificates.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use openssl::ssl::{SslAcceptor, SslConnector, SslFiletype, SslMethod, SslVerifyMode};

const CLUSTER: &str = r#"{
  "clusterName": "myk8s",
  "apiserver": { "ip": "10.4.7.21", "hostname": "hdss7-21" },
  "nodes": [ { "name": "hdss7-21", "ip": "10.4.7.21" } ],
  "serviceClusterIPRange": "192.168.0.0/16"
}"#;

fn pki_workspace() -> Workspace {
    let ws = Workspace::new();
    ws.write("cluster.json", CLUSTER);
    let out = ws.run(
        "certs",
        &["pki", "--config", "cluster.json", "--dir", "pki"],
        None,
    );
    assert_success(&out, "certs pki");
    ws
}

fn acceptor(dir: &Path, server: &str) -> SslAcceptor {
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls()).unwrap();
    b.set_certificate_chain_file(dir.join(format!("{server}.pem")))
        .unwrap();
    b.set_private_key_file(dir.join(format!("{server}-key.pem")), SslFiletype::PEM)
        .unwrap();
    b.set_ca_file(dir.join("ca.pem")).unwrap();
    b.set_verify(SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT);
    b.build()
}

fn connector(dir: &Path, client: &str) -> SslConnector {
    let mut b = SslConnector::builder(SslMethod::tls()).unwrap();
    b.set_ca_file(dir.join("ca.pem")).unwrap();
    b.set_certificate_chain_file(dir.join(format!("{client}.pem")))
        .unwrap();
    b.set_private_key_file(dir.join(format!("{client}-key.pem")), SslFiletype::PEM)
        .unwrap();
    b.build()
}

/// One handshake: `server` serves, `client` connects asking for `name`.
/// Returns the client's error, if any, and the CN the server saw.
fn handshake(dir: &Path, server: &str, client: &str, name: &str) -> Result<String, String> {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = acceptor(dir, server);
    let server_thread = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut tls = acceptor.accept(stream).map_err(|e| e.to_string())?;
        let cn = tls
            .ssl()
            .peer_certificate()
            .and_then(|c| {
                c.subject_name()
                    .entries_by_nid(openssl::nid::Nid::COMMONNAME)
                    .next()
                    .map(|e| e.data().to_string().unwrap())
            })
            .unwrap_or_default();
        tls.write_all(cn.as_bytes()).map_err(|e| e.to_string())?;
        let _ = tls.shutdown();
        Ok::<String, String>(cn)
    });
    let stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let client_result = connector(dir, client)
        .connect(name, stream)
        .map_err(|e| e.to_string())
        .and_then(|mut tls| {
            let mut seen = String::new();
            tls.read_to_string(&mut seen).map_err(|e| e.to_string())?;
            Ok(seen)
        });
    let server_result = server_thread.join().unwrap();
    match (client_result, server_result) {
        (Ok(seen), Ok(cn)) => {
            assert_eq!(seen, cn);
            Ok(cn)
        }
        (Err(e), _) => Err(format!("client: {e}")),
        (_, Err(e)) => Err(format!("server: {e}")),
    }
}

#[test]
fn apiserver_certificate_serves_every_name_clients_use() {
    let ws = pki_workspace();
    let dir = ws.path("pki");
    for name in [
        "kubernetes",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
        "localhost",
        "hdss7-21",
        "127.0.0.1",
        "192.168.0.1",
        "10.4.7.21",
    ] {
        assert_eq!(
            handshake(&dir, "apiserver", "admin", name),
            Ok("admin".to_string()),
            "{name}"
        );
    }
    let err = handshake(&dir, "apiserver", "admin", "evil.example").unwrap_err();
    assert!(err.contains("certificate verify failed"), "{err}");
}

#[test]
fn client_identities_authenticate_and_usages_are_enforced() {
    let ws = pki_workspace();
    let dir = ws.path("pki");
    for (client, cn) in [
        ("kube-controller-manager", "system:kube-controller-manager"),
        ("kube-scheduler", "system:kube-scheduler"),
        ("kube-proxy", "system:kube-proxy"),
        ("flanneld", "flanneld"),
        ("kubelet-hdss7-21", "system:node:hdss7-21"),
        ("apiserver-kubelet-client", "kube-apiserver-kubelet-client"),
    ] {
        assert_eq!(
            handshake(&dir, "apiserver", client, "kubernetes"),
            Ok(cn.to_string()),
            "{client}"
        );
    }
    // The kubelet serves with its server certificate, reached by name or IP.
    assert!(
        handshake(
            &dir,
            "kubelet-hdss7-21-server",
            "apiserver-kubelet-client",
            "10.4.7.21"
        )
        .is_ok()
    );
    assert!(
        handshake(
            &dir,
            "kubelet-hdss7-21-server",
            "apiserver-kubelet-client",
            "hdss7-21"
        )
        .is_ok()
    );
    // A serving-only certificate is refused as a client certificate, and a
    // client-only certificate cannot serve.
    assert!(handshake(&dir, "apiserver", "kubelet-hdss7-21-server", "kubernetes").is_err());
    assert!(handshake(&dir, "admin", "kube-proxy", "admin").is_err());
}

/// A real etcd on loopback; killed (and its data removed with the
/// workspace) when dropped, also on test failure.
struct Etcd {
    child: Child,
    log: PathBuf,
}

impl Drop for Etcd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_etcd(ws: &Workspace, client_port: u16, peer_port: u16) -> Etcd {
    let client = format!("https://127.0.0.1:{client_port}");
    let peer = format!("https://127.0.0.1:{peer_port}");
    let log = ws.path("etcd.log");
    let child = Command::new("/usr/bin/etcd")
        .args(["--name", "etcd-7-21", "--data-dir", "etcd-data"])
        .args([
            "--listen-client-urls",
            &client,
            "--advertise-client-urls",
            &client,
        ])
        .args([
            "--listen-peer-urls",
            &peer,
            "--initial-advertise-peer-urls",
            &peer,
        ])
        .args(["--initial-cluster", &format!("etcd-7-21={peer}")])
        .args([
            "--cert-file",
            "pki/etcd-server.pem",
            "--key-file",
            "pki/etcd-server-key.pem",
        ])
        .args(["--trusted-ca-file", "pki/ca.pem", "--client-cert-auth"])
        .args([
            "--peer-cert-file",
            "pki/etcd-peer.pem",
            "--peer-key-file",
            "pki/etcd-peer-key.pem",
        ])
        .args([
            "--peer-trusted-ca-file",
            "pki/ca.pem",
            "--peer-client-cert-auth",
        ])
        .current_dir(ws.dir())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("starting etcd");
    Etcd { child, log }
}

fn etcdctl(ws: &Workspace, port: u16, client: Option<&str>, args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new("/usr/bin/etcdctl");
    cmd.env("ETCDCTL_API", "3").args([
        "--endpoints",
        &format!("https://127.0.0.1:{port}"),
        "--cacert",
        "pki/ca.pem",
        "--command-timeout",
        "3s",
        "--dial-timeout",
        "2s",
    ]);
    if let Some(c) = client {
        cmd.args([
            "--cert",
            &format!("pki/{c}.pem"),
            "--key",
            &format!("pki/{c}-key.pem"),
        ]);
    }
    cmd.args(args).current_dir(ws.dir()).output().unwrap()
}

#[test]
fn etcd_serves_mutual_tls_with_the_pki() {
    if !Path::new("/usr/bin/etcd").exists() || !Path::new("/usr/bin/etcdctl").exists() {
        eprintln!(
            "SKIPPED: /usr/bin/etcd or etcdctl is absent (apt-get install etcd-server etcd-client)"
        );
        return;
    }
    let ws = pki_workspace();
    let port = free_port();
    let etcd = start_etcd(&ws, port, free_port());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = etcdctl(
            &ws,
            port,
            Some("apiserver-etcd-client"),
            &["endpoint", "health"],
        );
        if out.status.success() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "etcd not healthy: {}",
            std::fs::read_to_string(&etcd.log).unwrap_or_default()
        );
        thread::sleep(Duration::from_millis(300));
    }
    let out = etcdctl(
        &ws,
        port,
        Some("apiserver-etcd-client"),
        &["put", "/registry/namespaces/default", "hello"],
    );
    assert_success(&out, "etcdctl put");
    let out = etcdctl(
        &ws,
        port,
        Some("etcd-client"),
        &["get", "/registry/namespaces/default", "--print-value-only"],
    );
    assert_success(&out, "etcdctl get");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "hello");
    // Without a client certificate etcd refuses.
    let out = etcdctl(&ws, port, None, &["get", "/registry/namespaces/default"]);
    assert!(!out.status.success());

    // etcd's JSON gateway dials etcd itself with etcd-server.pem as its
    // client certificate; this works only if that certificate allows
    // client auth.
    let body = r#"{"key":"L3JlZ2lzdHJ5L25hbWVzcGFjZXMvZGVmYXVsdA=="}"#;
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut tls = connector(&ws.path("pki"), "etcd-client")
        .connect("127.0.0.1", stream)
        .unwrap();
    write!(tls, "POST /v3/kv/range HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).unwrap();
    let mut response = String::new();
    let _ = tls.read_to_string(&mut response);
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"value\":\"aGVsbG8=\""), "{response}");
    let log = std::fs::read_to_string(&etcd.log).unwrap_or_default();
    assert!(!log.contains("incompatible key usage"), "{log}");
}
