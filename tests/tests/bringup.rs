//! Bring-up: etcd started by supervisord from the repository's own program
//! file serves only mutual TLS.

use harness::bins;
use harness::etcd::endpoint_health;
use harness::net::free_port;
use harness::pki::Pki;
use harness::process::{Daemon, run, wait_until};
use std::process::Command;
use std::time::Duration;

#[test]
fn supervisord_starts_etcd_that_requires_a_client_certificate() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path();
    let pki = Pki::generate(&root.join("pki"), "https://127.0.0.1:6443");
    let programs = root.join("supervisord.d");
    for dir in ["data", "logs", "run"] {
        std::fs::create_dir_all(root.join(dir)).unwrap();
    }
    std::fs::create_dir_all(&programs).unwrap();
    let repo = bins::repo_root();
    std::fs::copy(repo.join("supervisord/etcd.ini"), programs.join("etcd.ini")).unwrap();

    let (client, peer) = (free_port(), free_port());
    let env = [
        ("KUBE_PKI", pki.dir.display().to_string()),
        ("KUBE_DATA", root.join("data").display().to_string()),
        ("KUBE_LOGS", root.join("logs").display().to_string()),
        ("KUBE_RUN", root.join("run").display().to_string()),
        ("KUBE_PROGRAMS", programs.display().to_string()),
        ("KUBE_ETCD_BIN", bins::system("etcd").display().to_string()),
        ("KUBE_ETCD_NAME", "etcd-7-21".to_string()),
        ("KUBE_ETCD_IP", "127.0.0.1".to_string()),
        ("KUBE_ETCD_CLIENT_PORT", client.to_string()),
        ("KUBE_ETCD_PEER_PORT", peer.to_string()),
        (
            "KUBE_ETCD_INITIAL_CLUSTER",
            format!("etcd-7-21=https://127.0.0.1:{peer}"),
        ),
    ];
    let conf = repo.join("supervisord/supervisord.conf");
    let mut cmd = Command::new(bins::system("supervisord"));
    cmd.arg("--nodaemon")
        .arg("-c")
        .arg(&conf)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())));
    let mut supervisord = Daemon::spawn("supervisord", &mut cmd, root);

    let url = format!("https://127.0.0.1:{client}");
    let healthy = wait_until(Duration::from_secs(30), || {
        endpoint_health(&url, &pki, Some("etcd-client")).0
    });
    let etcd_log = std::fs::read_to_string(root.join("logs/etcd.log")).unwrap_or_default();
    assert!(
        healthy,
        "etcd under supervisord never became healthy:\n{}\n{etcd_log}",
        supervisord.log_tail(20)
    );

    let (ok, out, err) = endpoint_health(&url, &pki, Some("etcd-client"));
    assert!(ok, "{out}{err}");
    assert!(format!("{out}{err}").contains("is healthy"), "{out}{err}");

    // The apiserver's own etcd identity is accepted too.
    assert!(endpoint_health(&url, &pki, Some("apiserver-etcd-client")).0);

    // Without a client certificate etcd refuses the connection.
    let (ok, out, err) = endpoint_health(&url, &pki, None);
    assert!(
        !ok,
        "etcd accepted a client without a certificate:\n{out}{err}"
    );
    assert!(format!("{out}{err}").contains("is unhealthy"), "{out}{err}");

    // There is no plaintext client port.
    let (ok, ..) = run(Command::new(bins::system("etcdctl"))
        .env("ETCDCTL_API", "3")
        .arg(format!("--endpoints=http://127.0.0.1:{client}"))
        .arg("--dial-timeout=2s")
        .arg("endpoint")
        .arg("health"));
    assert!(!ok, "etcd answered plaintext HTTP");

    // supervisord reports the program as running.
    let (_, status, _) = run(Command::new(bins::system("supervisorctl"))
        .arg("-c")
        .arg(&conf)
        .arg("status")
        .arg("etcd")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str()))));
    assert!(status.contains("RUNNING"), "{status}");

    supervisord.stop();
    assert!(!supervisord.is_running());
    // supervisord stops its programs with it: the port is closed afterwards.
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", client)).is_err(),
        "etcd outlived supervisord"
    );
}
