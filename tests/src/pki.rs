//! A cluster PKI written by the real `certs pki`, as an operator would.

use crate::bins;
use crate::process::run;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The nodes every test cluster describes, from the seed's address plan.
pub const NODES: &[(&str, &str)] = &[("hdss7-21", "10.4.7.21"), ("hdss7-22", "10.4.7.22")];

/// A directory holding the files `certs pki` writes.
pub struct Pki {
    pub dir: PathBuf,
}

impl Pki {
    /// Runs `certs pki` for a cluster whose apiserver answers at `apiserver_url`.
    pub fn generate(dir: &Path, apiserver_url: &str) -> Pki {
        std::fs::create_dir_all(dir).expect("pki dir");
        let nodes: Vec<_> = NODES
            .iter()
            .map(|(name, ip)| json!({"name": name, "ip": ip}))
            .collect();
        let spec = json!({
            "clusterName": "myk8s",
            "apiserver": { "ip": "127.0.0.1", "hostname": "localhost", "url": apiserver_url },
            "etcd": [ { "name": "etcd-test", "ip": "127.0.0.1" } ],
            "nodes": nodes,
            "serviceClusterIPRange": "192.168.0.0/16",
        });
        let config = dir.join("cluster.json");
        std::fs::write(&config, serde_json::to_vec_pretty(&spec).expect("json"))
            .expect("write cluster.json");
        let (ok, out, err) = run(Command::new(bins::binary("certs"))
            .arg("pki")
            .arg("--config")
            .arg(&config)
            .arg("--dir")
            .arg(dir));
        assert!(ok, "certs pki failed:\n{out}\n{err}");
        Pki {
            dir: dir.to_path_buf(),
        }
    }

    pub fn ca(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }
    /// `NAME.pem`
    pub fn cert(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.pem"))
    }
    /// `NAME-key.pem`
    pub fn key(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}-key.pem"))
    }
    /// `NAME.kubeconfig`
    pub fn kubeconfig(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.kubeconfig"))
    }
}
