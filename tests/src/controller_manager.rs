//! A real kube-controller-manager against a test cluster, with its own
//! identity (`kube-controller-manager.kubeconfig` from `certs pki`), plus
//! hollow nodes for its pods to land on.

use crate::apiserver::ApiCluster;
use crate::bins;
use crate::hollow::{HollowNode, HollowNodes, HollowOptions};
use crate::net::free_port;
use crate::process::{Daemon, wait_until};
use std::process::Command;
use std::time::Duration;

/// Starts kube-controller-manager for `cluster` with `extra` flags; the
/// log goes to `<name>.log` in the cluster's work directory.
pub fn spawn(cluster: &ApiCluster, name: &str, extra: &[&str]) -> (Daemon, u16) {
    let port = free_port();
    let mut cmd = Command::new(bins::binary("kube-controller-manager"));
    cmd.arg(format!(
        "--kubeconfig={}",
        cluster.kubeconfig("kube-controller-manager").display()
    ))
    .arg("--bind-address=127.0.0.1")
    .arg(format!("--secure-port={port}"))
    .arg(format!("--root-ca-file={}", cluster.pki.ca().display()))
    .arg("--cluster-cidr=172.7.0.0/16")
    .args(extra);
    (Daemon::spawn(name, &mut cmd, cluster.work.path()), port)
}

/// etcd + apiserver + controller-manager (+ hollow nodes when asked).
pub struct CmCluster {
    pub hollow: Option<HollowNodes>,
    pub cm: Daemon,
    pub cm_port: u16,
    /// Last, so the processes above stop first.
    pub api: ApiCluster,
}

impl CmCluster {
    /// A cluster whose controller-manager runs only `controllers`
    /// (a `--controllers` value) with `nodes` hollow nodes, named
    /// `hollow-0`, `hollow-1`, ....
    pub fn start(controllers: &str, nodes: usize) -> CmCluster {
        Self::start_with(
            controllers,
            (0..nodes)
                .map(|i| HollowNode::new(&format!("hollow-{i}")))
                .collect(),
            &[],
        )
    }

    /// Like [`start`](Self::start) with chosen nodes and extra flags.
    pub fn start_with(controllers: &str, nodes: Vec<HollowNode>, extra: &[&str]) -> CmCluster {
        let api = ApiCluster::start();
        let mut args = vec![
            format!("--controllers={controllers}"),
            "--leader-elect=false".to_string(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let (cm, cm_port) = spawn(&api, "kube-controller-manager", &refs);
        let hollow = (!nodes.is_empty())
            .then(|| HollowNodes::start(&api.kubeconfig("admin"), nodes, HollowOptions::default()));
        CmCluster {
            hollow,
            cm,
            cm_port,
            api,
        }
    }

    pub fn kubectl(&self, args: &[&str]) -> (bool, String, String) {
        self.api.kubectl(args)
    }

    /// kubectl that must succeed; shows the controller-manager log if not.
    pub fn kubectl_ok(&self, args: &[&str]) -> String {
        let (ok, out, err) = self.api.kubectl(args);
        assert!(
            ok,
            "kubectl {args:?} failed:\n{out}\n{err}\ncontroller-manager log:\n{}",
            self.cm.log_tail(30)
        );
        out
    }

    /// kubectl that must succeed, retried on a write conflict (the
    /// apiserver does not yet retry PATCH internally when a controller
    /// wrote the object between its read and its compare-and-swap).
    pub fn kubectl_retry(&self, args: &[&str]) -> String {
        for _ in 0..5 {
            let (ok, out, err) = self.api.kubectl(args);
            if ok {
                return out;
            }
            if !err.contains("the object has been modified") {
                panic!("kubectl {args:?} failed:\n{out}\n{err}");
            }
            std::thread::sleep(Duration::from_millis(300));
        }
        self.kubectl_ok(args)
    }

    pub fn apply(&self, manifest: &str) -> String {
        let (ok, out, err) = self.api.kubectl_stdin(&["apply", "-f", "-"], manifest);
        assert!(ok, "kubectl apply failed:\n{out}\n{err}");
        out
    }

    /// `kubectl get ... -o jsonpath=<path>` output (empty on failure).
    pub fn jsonpath(&self, args: &[&str], path: &str) -> String {
        let mut a: Vec<&str> = args.to_vec();
        let arg = format!("-o=jsonpath={path}");
        a.push(&arg);
        let (_, out, _) = self.api.kubectl(&a);
        out
    }

    /// Polls `jsonpath` until it equals `want`; fails with the log otherwise.
    pub fn wait_for(&self, args: &[&str], path: &str, want: &str, timeout: Duration) {
        let mut last = String::new();
        let ok = wait_until(timeout, || {
            last = self.jsonpath(args, path);
            last == want
        });
        assert!(
            ok,
            "{args:?} {path}: wanted {want:?}, last saw {last:?}\ncontroller-manager log:\n{}",
            self.cm_log()
        );
    }

    /// The controller-manager's panic message if it panicked, else its log tail.
    pub fn cm_log(&self) -> String {
        let text = std::fs::read_to_string(&self.cm.log).unwrap_or_default();
        match text.find("panicked at").or_else(|| text.find("exiting")) {
            Some(i) => text[i..].lines().take(6).collect::<Vec<_>>().join("\n"),
            None => self.cm.log_tail(40),
        }
    }

    /// Names of the pods matching `selector` in `namespace`, sorted.
    pub fn pod_names(&self, namespace: &str, selector: &str) -> Vec<String> {
        let out = self.jsonpath(
            &["get", "pods", "-n", namespace, "-l", selector],
            "{range .items[*]}{.metadata.name}{\"\\n\"}{end}",
        );
        let mut names: Vec<String> = out
            .lines()
            .map(String::from)
            .filter(|s| !s.is_empty())
            .collect();
        names.sort();
        names
    }
}
