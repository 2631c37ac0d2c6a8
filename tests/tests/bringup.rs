//! Bring-up: the repository's own supervisord programs start etcd (mutual
//! TLS only) and kube-apiserver, and the real kubectl reaches the cluster
//! with the admin kubeconfig that `certs pki` wrote.

use harness::bins;
use harness::etcd::endpoint_health;
use harness::net::free_port;
use harness::pki::Pki;
use harness::process::{Daemon, run, wait_until};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// A supervisord of its own, in a temporary directory, running the named
/// program files from `supervisord/` with the environment a machine's
/// `cluster.env` would give.
struct Machine {
    pki: Pki,
    env: Vec<(&'static str, String)>,
    conf: PathBuf,
    client_port: u16,
    apiserver_port: u16,
    supervisord: Daemon,
    work: tempfile::TempDir,
}

impl Machine {
    fn start(programs: &[&str]) -> Machine {
        let work = tempfile::tempdir().unwrap();
        let root = work.path();
        let apiserver_port = free_port();
        let pki = Pki::generate(
            &root.join("pki"),
            &format!("https://127.0.0.1:{apiserver_port}"),
        );
        let program_dir = root.join("supervisord.d");
        for dir in ["data", "logs", "run", "supervisord.d"] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
        }
        let repo = bins::repo_root();
        for p in programs {
            let file = format!("{p}.ini");
            std::fs::copy(
                repo.join("supervisord").join(&file),
                program_dir.join(&file),
            )
            .unwrap();
        }
        std::fs::copy(
            repo.join("supervisord/audit-policy.yaml"),
            program_dir.join("audit-policy.yaml"),
        )
        .unwrap();
        let (client, peer) = (free_port(), free_port());
        let env = vec![
            ("KUBE_BIN", bins::target_dir().display().to_string()),
            ("KUBE_PKI", pki.dir.display().to_string()),
            ("KUBE_DATA", root.join("data").display().to_string()),
            ("KUBE_LOGS", root.join("logs").display().to_string()),
            ("KUBE_RUN", root.join("run").display().to_string()),
            ("KUBE_PROGRAMS", program_dir.display().to_string()),
            ("KUBE_ETCD_BIN", bins::system("etcd").display().to_string()),
            ("KUBE_ETCD_NAME", "etcd-7-21".to_string()),
            ("KUBE_ETCD_IP", "127.0.0.1".to_string()),
            ("KUBE_ETCD_CLIENT_PORT", client.to_string()),
            ("KUBE_ETCD_PEER_PORT", peer.to_string()),
            (
                "KUBE_ETCD_INITIAL_CLUSTER",
                format!("etcd-7-21=https://127.0.0.1:{peer}"),
            ),
            ("KUBE_ETCD_SERVERS", format!("https://127.0.0.1:{client}")),
            ("APISERVER_IP", "127.0.0.1".to_string()),
            ("APISERVER_PORT", apiserver_port.to_string()),
            ("SERVICE_CLUSTER_IP_RANGE", "192.168.0.0/16".to_string()),
            ("SERVICE_NODE_PORT_RANGE", "30000-32767".to_string()),
            ("CLUSTER_CIDR", "172.7.0.0/16".to_string()),
        ];
        let conf = repo.join("supervisord/supervisord.conf");
        let mut cmd = Command::new(bins::system("supervisord"));
        cmd.arg("--nodaemon")
            .arg("-c")
            .arg(&conf)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())));
        let supervisord = Daemon::spawn("supervisord", &mut cmd, root);
        Machine {
            pki,
            env,
            conf,
            client_port: client,
            apiserver_port,
            supervisord,
            work,
        }
    }

    fn etcd_url(&self) -> String {
        format!("https://127.0.0.1:{}", self.client_port)
    }

    fn log(&self, program: &str) -> String {
        std::fs::read_to_string(self.work.path().join("logs").join(format!("{program}.log")))
            .unwrap_or_default()
    }

    fn wait_etcd(&self) {
        let url = self.etcd_url();
        let healthy = wait_until(Duration::from_secs(30), || {
            endpoint_health(&url, &self.pki, Some("etcd-client")).0
        });
        assert!(
            healthy,
            "etcd never became healthy:\n{}\n{}",
            self.supervisord.log_tail(20),
            self.log("etcd")
        );
    }

    fn supervisorctl(&self, args: &[&str]) -> String {
        let (_, out, err) = run(Command::new(bins::system("supervisorctl"))
            .arg("-c")
            .arg(&self.conf)
            .args(args)
            .envs(self.env.iter().map(|(k, v)| (*k, v.as_str()))));
        format!("{out}{err}")
    }

    fn kubectl(&self, args: &[&str]) -> (bool, String, String) {
        run(Command::new(bins::system("kubectl"))
            .arg("--kubeconfig")
            .arg(self.pki.kubeconfig("admin"))
            .args(args))
    }

    fn stop(&mut self) {
        self.supervisord.stop();
    }
}

fn port_closed(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_err()
}

#[test]
fn supervisord_starts_etcd_that_requires_a_client_certificate() {
    let mut m = Machine::start(&["etcd"]);
    m.wait_etcd();
    let url = m.etcd_url();

    let (ok, out, err) = endpoint_health(&url, &m.pki, Some("etcd-client"));
    assert!(ok, "{out}{err}");
    assert!(format!("{out}{err}").contains("is healthy"), "{out}{err}");
    // The apiserver's own etcd identity is accepted too.
    assert!(endpoint_health(&url, &m.pki, Some("apiserver-etcd-client")).0);

    // Without a client certificate etcd refuses the connection.
    let (ok, out, err) = endpoint_health(&url, &m.pki, None);
    assert!(
        !ok,
        "etcd accepted a client without a certificate:\n{out}{err}"
    );
    assert!(format!("{out}{err}").contains("is unhealthy"), "{out}{err}");

    // There is no plaintext client port.
    let (ok, ..) = run(Command::new(bins::system("etcdctl"))
        .env("ETCDCTL_API", "3")
        .arg(format!("--endpoints=http://127.0.0.1:{}", m.client_port))
        .arg("--dial-timeout=2s")
        .arg("endpoint")
        .arg("health"));
    assert!(!ok, "etcd answered plaintext HTTP");

    let running = wait_until(Duration::from_secs(20), || {
        m.supervisorctl(&["status", "etcd"]).contains("RUNNING")
    });
    assert!(running, "{}", m.supervisorctl(&["status"]));

    m.stop();
    assert!(port_closed(m.client_port), "etcd outlived supervisord");
}

#[test]
fn supervisord_brings_up_the_control_plane_for_kubectl() {
    let mut m = Machine::start(&[
        "etcd",
        "kube-apiserver",
        "kube-scheduler",
        "kube-controller-manager",
    ]);
    m.wait_etcd();
    let ready = wait_until(Duration::from_secs(60), || {
        m.kubectl(&["get", "--raw", "/readyz"]).0
    });
    assert!(
        ready,
        "kube-apiserver never became ready:\n{}\n{}",
        m.supervisorctl(&["status"]),
        m.log("kube-apiserver")
    );

    let (ok, out, err) = m.kubectl(&["get", "namespaces", "-o", "name"]);
    assert!(ok, "{err}");
    for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        assert!(
            out.lines().any(|l| l == format!("namespace/{ns}")),
            "{ns} missing from:\n{out}"
        );
    }
    let (ok, out, err) = m.kubectl(&[
        "get",
        "service",
        "kubernetes",
        "-o",
        "jsonpath={.spec.clusterIP}",
    ]);
    assert!(ok, "{err}");
    assert_eq!(out, "192.168.0.1");
    // The shipped audit policy writes $KUBE_LOGS/audit.log.
    let audit_log = m
        .env
        .iter()
        .find(|(k, _)| *k == "KUBE_LOGS")
        .map(|(_, v)| std::path::Path::new(v).join("audit.log"))
        .expect("KUBE_LOGS");
    let audit = std::fs::read_to_string(&audit_log).unwrap_or_default();
    assert!(
        audit.contains("\"verb\":\"list\"") && audit.contains("namespaces"),
        "audit log:\n{audit}"
    );

    // Another identity from the same PKI is authenticated but not an admin.
    let (ok, _, err) = run(Command::new(bins::system("kubectl"))
        .arg("--kubeconfig")
        .arg(m.pki.kubeconfig("kube-proxy"))
        .args(["delete", "namespace", "kube-public", "--dry-run=server"]));
    assert!(!ok, "kube-proxy was allowed to delete a namespace");
    assert!(err.contains("forbidden"), "{err}");

    // supervisord calls a program RUNNING once it has stayed up `startsecs`.
    let running = |m: &Machine| {
        let status = m.supervisorctl(&["status"]);
        status.lines().filter(|l| l.contains("RUNNING")).count()
    };
    let all = wait_until(Duration::from_secs(30), || running(&m) == 4);
    assert!(all, "{}", m.supervisorctl(&["status"]));

    // `kubectl get cs` as the seed shows it: every component Healthy.
    let healthy = wait_until(Duration::from_secs(30), || {
        let (_, out, _) = m.kubectl(&["get", "componentstatuses", "--no-headers"]);
        out.lines().count() >= 3
            && out
                .lines()
                .all(|l| l.split_whitespace().nth(1) == Some("Healthy"))
    });
    assert!(healthy, "{}", m.kubectl(&["get", "componentstatuses"]).1);

    // The controllers and the scheduler work together: a Deployment's pods
    // are created and bound, a DaemonSet puts one pod on each node.
    for node in ["hdss7-21", "hdss7-22"] {
        let manifest = format!(
            r#"{{"apiVersion":"v1","kind":"Node","metadata":{{"name":"{node}","labels":{{"kubernetes.io/hostname":"{node}"}}}}}}"#
        );
        let file = m.work.path().join(format!("{node}.json"));
        std::fs::write(&file, manifest).unwrap();
        let (ok, _, err) = m.kubectl(&["create", "-f", &file.display().to_string()]);
        assert!(ok, "{err}");
        let status = r#"{"status":{"capacity":{"cpu":"4","memory":"8Gi","pods":"110"},"allocatable":{"cpu":"4","memory":"8Gi","pods":"110"},"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady","message":"ready"}]}}"#;
        let (ok, _, err) = m.kubectl(&[
            "patch",
            "node",
            node,
            "--subresource=status",
            "--type=merge",
            "-p",
            status,
        ]);
        assert!(ok, "{err}");
    }
    let (ok, _, err) = m.kubectl(&[
        "create",
        "deployment",
        "nginx-deploy",
        "--image=docker.io/library/nginx:latest",
        "--replicas=2",
    ]);
    assert!(ok, "{err}");
    let bound = wait_until(Duration::from_secs(60), || {
        let (_, out, _) = m.kubectl(&[
            "get",
            "pods",
            "-l",
            "app=nginx-deploy",
            "-o",
            "jsonpath={.items[*].spec.nodeName}",
        ]);
        out.split_whitespace()
            .filter(|n| n.starts_with("hdss7-"))
            .count()
            == 2
    });
    assert!(
        bound,
        "pods were not created and bound:\n{}\n{}\n{}",
        m.kubectl(&["get", "pods", "-o", "wide"]).1,
        m.log("kube-controller-manager")
            .lines()
            .rev()
            .take(20)
            .collect::<Vec<_>>()
            .join("\n"),
        m.log("kube-scheduler")
            .lines()
            .rev()
            .take(20)
            .collect::<Vec<_>>()
            .join("\n")
    );
    let ds = r#"{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"nginx-ds"},"spec":{"selector":{"matchLabels":{"app":"nginx-ds"}},"template":{"metadata":{"labels":{"app":"nginx-ds"}},"spec":{"containers":[{"name":"nginx","image":"nginx:1.25"}]}}}}"#;
    let ds_file = m.work.path().join("ds.json");
    std::fs::write(&ds_file, ds).unwrap();
    let (ok, _, err) = m.kubectl(&["create", "-f", &ds_file.display().to_string()]);
    assert!(ok, "{err}");
    let on_every_node = wait_until(Duration::from_secs(60), || {
        let (_, out, _) = m.kubectl(&[
            "get",
            "pods",
            "-l",
            "app=nginx-ds",
            "-o",
            "jsonpath={.items[*].spec.nodeName}",
        ]);
        let mut nodes: Vec<&str> = out.split_whitespace().collect();
        nodes.sort();
        nodes == ["hdss7-21", "hdss7-22"]
    });
    assert!(
        on_every_node,
        "DaemonSet pods:\n{}",
        m.kubectl(&["get", "pods", "-o", "wide"]).1
    );
    // The node got a pod CIDR from --cluster-cidr.
    let cidr = wait_until(Duration::from_secs(30), || {
        m.kubectl(&["get", "node", "hdss7-21", "-o", "jsonpath={.spec.podCIDR}"])
            .1
            .starts_with("172.7.")
    });
    assert!(
        cidr,
        "node has no podCIDR: {}",
        m.kubectl(&["get", "node", "hdss7-21", "-o", "yaml"]).1
    );

    m.stop();
    assert!(
        port_closed(m.apiserver_port) && port_closed(m.client_port),
        "a daemon outlived supervisord"
    );
}
