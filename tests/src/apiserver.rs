//! A real kube-apiserver against a real etcd (mutual TLS), with the PKI's
//! admin kubeconfig, plus helpers to drive it with the real kubectl and with
//! raw HTTPS requests (curl) for the bad-input cases.

use crate::bins;
use crate::etcd::Etcd;
use crate::net::free_port;
use crate::pki::Pki;
use crate::process::{Daemon, run};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// The Service range the test clusters use (from the seed's address plan).
pub const SERVICE_CIDR: &str = "192.168.0.0/16";

/// etcd + kube-apiserver in a temporary directory; everything stops when
/// it is dropped.
pub struct ApiCluster {
    pub pki: Pki,
    pub etcd: Etcd,
    pub apiserver: Daemon,
    pub port: u16,
    pub url: String,
    extra_args: Vec<String>,
    /// Kept last so the processes stop before their directory goes.
    pub work: tempfile::TempDir,
}

impl ApiCluster {
    /// Runs etcdctl against this cluster's etcd with the etcd client
    /// certificate, for tests that change the store behind the apiserver's
    /// back; fails the test when it fails.
    pub fn etcdctl(&self, args: &[&str]) -> String {
        let (ok, out, err) = run(Command::new(bins::system("etcdctl"))
            .env("ETCDCTL_API", "3")
            .arg(format!("--endpoints={}", self.etcd.client_url))
            .arg(format!("--cacert={}", self.pki.ca().display()))
            .arg(format!("--cert={}", self.pki.cert("etcd-client").display()))
            .arg(format!("--key={}", self.pki.key("etcd-client").display()))
            .args(args));
        assert!(ok, "etcdctl {args:?}: {out}{err}");
        out
    }

    /// etcd's own count of open watchers (`etcd_debugging_mvcc_watcher_total`
    /// from its `/metrics`): every etcd watch the apiserver holds. NaN when
    /// the metrics cannot be read.
    pub fn etcd_watchers(&self) -> f64 {
        let (_, out, _) = run(Command::new(bins::system("curl"))
            .arg("-sS")
            .arg("--cacert")
            .arg(self.pki.ca())
            .arg("--cert")
            .arg(self.pki.cert("etcd-client"))
            .arg("--key")
            .arg(self.pki.key("etcd-client"))
            .arg(format!("{}/metrics", self.etcd.client_url)));
        out.lines()
            .find(|l| l.starts_with("etcd_debugging_mvcc_watcher_total "))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN)
    }

    /// Compacts etcd up to its current revision, so a watch resumed from
    /// any earlier resourceVersion is answered 410 Gone.
    pub fn compact_etcd(&self) {
        let status = self.etcdctl(&["endpoint", "status", "-w", "json"]);
        let status: Value = serde_json::from_str(&status).expect("etcd status json");
        let revision = status[0]["Status"]["header"]["revision"]
            .as_i64()
            .expect("etcd revision");
        self.etcdctl(&["compact", &revision.to_string()]);
    }

    /// Starts etcd and the apiserver and waits until `/readyz` passes.
    pub fn start() -> ApiCluster {
        Self::start_with(&[])
    }

    /// Like [`start`](Self::start) with extra kube-apiserver flags.
    pub fn start_with(extra: &[&str]) -> ApiCluster {
        let work = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let url = format!("https://127.0.0.1:{port}");
        let pki = Pki::generate(&work.path().join("pki"), &url);
        let etcd = Etcd::start(&pki, work.path());
        let extra_args: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        let apiserver = spawn_apiserver(&pki, &etcd.client_url, port, work.path(), &extra_args);
        let mut c = ApiCluster {
            pki,
            etcd,
            apiserver,
            port,
            url,
            extra_args,
            work,
        };
        c.wait_ready();
        c
    }

    fn wait_ready(&mut self) {
        // Generous: on a loaded 2-core machine a debug build with several
        // clusters starting at once has needed more than 30 s.
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while std::time::Instant::now() < deadline && self.apiserver.is_running() {
            if self.request("GET", "/readyz", None, None).0 == 200 {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let running = self.apiserver.is_running();
        let (code, body) = self.request("GET", "/readyz?verbose", None, None);
        panic!(
            "kube-apiserver did not become ready (process running: {running}; \
             /readyz answered {code}: {body}); errors:\n{}\nlog tail:\n{}",
            self.apiserver.log_errors(),
            self.apiserver.log_tail(40)
        );
    }

    /// Stops and starts the apiserver (same flags, same etcd).
    pub fn restart_apiserver(&mut self) {
        self.apiserver.stop();
        self.apiserver = spawn_apiserver(
            &self.pki,
            &self.etcd.client_url,
            self.port,
            self.work.path(),
            &self.extra_args,
        );
        self.wait_ready();
    }

    /// Stops etcd under the running apiserver (an outage).
    pub fn stop_etcd(&mut self) {
        self.etcd.stop();
    }

    /// Starts etcd again on the same data directory and port.
    pub fn start_etcd(&mut self) {
        self.etcd.restart(&self.pki, self.work.path());
    }

    pub fn kubeconfig(&self, user: &str) -> PathBuf {
        self.pki.kubeconfig(user)
    }

    /// Runs kubectl as the cluster admin.
    pub fn kubectl(&self, args: &[&str]) -> (bool, String, String) {
        self.kubectl_as("admin", args)
    }

    /// Runs kubectl with `<user>.kubeconfig` from the PKI.
    pub fn kubectl_as(&self, user: &str, args: &[&str]) -> (bool, String, String) {
        run(Command::new(bins::system("kubectl"))
            .arg(format!("--kubeconfig={}", self.kubeconfig(user).display()))
            .args(args))
    }

    /// kubectl that must succeed; returns stdout.
    pub fn kubectl_ok(&self, args: &[&str]) -> String {
        let (ok, out, err) = self.kubectl(args);
        assert!(
            ok,
            "kubectl {args:?} failed:\n{out}\n{err}\napiserver log:\n{}",
            self.apiserver.log_tail(20)
        );
        out
    }

    /// `kubectl apply/create -f -` with `manifest` on stdin.
    pub fn kubectl_stdin(&self, args: &[&str], manifest: &str) -> (bool, String, String) {
        let mut child = Command::new(bins::system("kubectl"))
            .arg(format!(
                "--kubeconfig={}",
                self.kubeconfig("admin").display()
            ))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kubectl runs");
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(manifest.as_bytes())
                .expect("write manifest");
        }
        let out = child.wait_with_output().expect("kubectl finishes");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// A raw HTTPS request as the admin; returns (status code, body as JSON
    /// or as a string value when it is not JSON).
    pub fn request(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: Option<&[u8]>,
    ) -> (u16, Value) {
        self.request_as(Some("admin"), method, path, content_type, body)
    }

    /// A raw request as `user` (a PKI certificate name), or anonymous.
    pub fn request_as(
        &self,
        user: Option<&str>,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: Option<&[u8]>,
    ) -> (u16, Value) {
        let mut cmd = Command::new(bins::system("curl"));
        cmd.arg("-sS")
            .arg("--max-time")
            .arg("30")
            .arg("--cacert")
            .arg(self.pki.ca())
            .arg("-X")
            .arg(method)
            .arg("-w")
            .arg("\n%{http_code}");
        if let Some(u) = user {
            cmd.arg("--cert")
                .arg(self.pki.cert(u))
                .arg("--key")
                .arg(self.pki.key(u));
        }
        if let Some(ct) = content_type {
            cmd.arg("-H").arg(format!("Content-Type: {ct}"));
        }
        if body.is_some() {
            cmd.arg("--data-binary").arg("@-");
        }
        cmd.arg(format!("{}{}", self.url, path));
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("curl runs");
        if let (Some(b), Some(mut stdin)) = (body, child.stdin.take()) {
            let _ = stdin.write_all(b);
        }
        let out = child.wait_with_output().expect("curl finishes");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (body, code) = text.rsplit_once('\n').unwrap_or(("", &text));
        let code = code.trim().parse().unwrap_or(0);
        let v = serde_json::from_str(body).unwrap_or_else(|_| Value::String(body.to_string()));
        (code, v)
    }
}

fn spawn_apiserver(pki: &Pki, etcd_url: &str, port: u16, work: &Path, extra: &[String]) -> Daemon {
    let mut cmd = Command::new(bins::binary("kube-apiserver"));
    cmd.arg("--bind-address=127.0.0.1")
        .arg(format!("--secure-port={port}"))
        .arg(format!(
            "--tls-cert-file={}",
            pki.cert("apiserver").display()
        ))
        .arg(format!(
            "--tls-private-key-file={}",
            pki.key("apiserver").display()
        ))
        .arg(format!("--client-ca-file={}", pki.ca().display()))
        .arg(format!("--etcd-servers={etcd_url}"))
        .arg(format!("--etcd-cafile={}", pki.ca().display()))
        .arg(format!(
            "--etcd-certfile={}",
            pki.cert("apiserver-etcd-client").display()
        ))
        .arg(format!(
            "--etcd-keyfile={}",
            pki.key("apiserver-etcd-client").display()
        ))
        .arg(format!("--service-cluster-ip-range={SERVICE_CIDR}"))
        .args(extra);
    // Test clusters run only the controllers a suite picks: no
    // serviceaccount controller (no "default" account to admit pods
    // against), no node-lifecycle controller (nothing would lift the
    // not-ready taint new Nodes get), and some suites set spec.priority
    // without a PriorityClass. Suites that test admission pass their own
    // flags.
    if !extra.iter().any(|a| a.contains("admission-plugins")) {
        cmd.arg("--disable-admission-plugins=ServiceAccount,Priority,TaintNodesByCondition");
    }
    Daemon::spawn("kube-apiserver", &mut cmd, work)
}
