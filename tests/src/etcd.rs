//! Real etcd serving only TLS with client-certificate auth, on loopback
//! ports of its own, with its data in a temporary directory.

use crate::bins;
use crate::net::free_port;
use crate::pki::Pki;
use crate::process::{Daemon, run, wait_until};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

pub struct Etcd {
    pub client_url: String,
    pub daemon: Daemon,
    /// Where this member listens for peers (kept for a restart).
    peer_url: String,
}

impl Etcd {
    /// Starts etcd with the PKI's server and peer certificates and waits
    /// until it answers a health check made with the client certificate.
    pub fn start(pki: &Pki, work: &Path) -> Etcd {
        let (client, peer) = (free_port(), free_port());
        let client_url = format!("https://127.0.0.1:{client}");
        let peer_url = format!("https://127.0.0.1:{peer}");
        Self::start_on(pki, work, client_url, peer_url, "etcd")
    }

    /// Stops the etcd process (SIGTERM, then SIGKILL); the data directory
    /// and ports stay for [`restart`](Self::restart).
    pub fn stop(&mut self) {
        self.daemon.stop();
    }

    /// Starts etcd again on the same ports and data directory (after
    /// [`stop`](Self::stop)), logging to `etcd-restarted.log`.
    pub fn restart(&mut self, pki: &Pki, work: &Path) {
        self.daemon.stop();
        let again = Self::start_on(
            pki,
            work,
            self.client_url.clone(),
            self.peer_url.clone(),
            "etcd-restarted",
        );
        *self = again;
    }

    fn start_on(
        pki: &Pki,
        work: &Path,
        client_url: String,
        peer_url: String,
        log_name: &str,
    ) -> Etcd {
        let mut cmd = Command::new(bins::system("etcd"));
        cmd.arg("--name=etcd-test")
            .arg(format!("--data-dir={}", work.join("etcd-data").display()))
            .arg(format!("--listen-client-urls={client_url}"))
            .arg(format!("--advertise-client-urls={client_url}"))
            .arg(format!("--listen-peer-urls={peer_url}"))
            .arg(format!("--initial-advertise-peer-urls={peer_url}"))
            .arg(format!("--initial-cluster=etcd-test={peer_url}"))
            .arg(format!("--cert-file={}", pki.cert("etcd-server").display()))
            .arg(format!("--key-file={}", pki.key("etcd-server").display()))
            .arg("--client-cert-auth")
            .arg(format!("--trusted-ca-file={}", pki.ca().display()))
            .arg(format!(
                "--peer-cert-file={}",
                pki.cert("etcd-peer").display()
            ))
            .arg(format!(
                "--peer-key-file={}",
                pki.key("etcd-peer").display()
            ))
            .arg("--peer-client-cert-auth")
            .arg(format!("--peer-trusted-ca-file={}", pki.ca().display()));
        let daemon = Daemon::spawn(log_name, &mut cmd, work);
        let etcd = Etcd {
            client_url,
            daemon,
            peer_url,
        };
        let healthy = wait_until(Duration::from_secs(30), || {
            etcd.health(pki, "etcd-client").0
        });
        assert!(
            healthy,
            "etcd did not become healthy:\n{}",
            etcd.daemon.log_tail(30)
        );
        etcd
    }

    /// `etcdctl endpoint health` as the PKI's `cert` identity.
    pub fn health(&self, pki: &Pki, cert: &str) -> (bool, String, String) {
        endpoint_health(&self.client_url, pki, Some(cert))
    }
}

/// Runs `etcdctl endpoint health` against `url`, with the client
/// certificate `cert` from the PKI, or with only the CA when `None`.
pub fn endpoint_health(url: &str, pki: &Pki, cert: Option<&str>) -> (bool, String, String) {
    let mut cmd = Command::new(bins::system("etcdctl"));
    cmd.env("ETCDCTL_API", "3")
        .arg(format!("--endpoints={url}"))
        .arg(format!("--cacert={}", pki.ca().display()))
        .arg("--dial-timeout=2s")
        .arg("--command-timeout=3s");
    if let Some(name) = cert {
        cmd.arg(format!("--cert={}", pki.cert(name).display()))
            .arg(format!("--key={}", pki.key(name).display()));
    }
    cmd.arg("endpoint").arg("health");
    run(&mut cmd)
}
