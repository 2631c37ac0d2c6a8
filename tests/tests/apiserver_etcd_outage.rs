//! kube-apiserver through an etcd outage: requests fail fast with a 503/504
//! Status instead of hanging, `/readyz` and `/livez` report the etcd check
//! failed, open watches end, and once etcd is back on the same data
//! directory and port the apiserver serves again without a restart.

use harness::apiserver::ApiCluster;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Retries `f` every 500 ms until it returns true or `timeout` passes.
fn eventually(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    false
}

#[test]
fn requests_fail_fast_during_an_etcd_outage_and_recover_after() {
    let mut c = ApiCluster::start_with(&["--etcd-request-timeout-seconds=3"]);
    c.kubectl_ok(&["create", "configmap", "before", "--from-literal=a=b"]);

    // A kubectl -w started before the outage; its lines go to a channel so
    // the test can see whether it continues after etcd returns.
    let mut watcher = Command::new(harness::bins::system("kubectl"))
        .arg(format!("--kubeconfig={}", c.kubeconfig("admin").display()))
        .args([
            "get",
            "configmaps",
            "-w",
            "--output-watch-events",
            "-o",
            "name",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("kubectl -w");
    let (lines_tx, lines) = mpsc::channel::<String>();
    let stdout = watcher.stdout.take().expect("piped stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                return;
            }
        }
    });
    std::thread::sleep(Duration::from_millis(1500));

    c.stop_etcd();

    // kubectl fails fast, naming a 503/504 (not a hang, not a 500).
    let t = Instant::now();
    let (ok, out, err) = c.kubectl(&["get", "pods", "--request-timeout=60s"]);
    let took = t.elapsed();
    assert!(!ok, "kubectl get pods succeeded with etcd down: {out}");
    assert!(
        took < Duration::from_secs(15),
        "kubectl get pods took {took:?} with etcd down"
    );
    let text = format!("{out}{err}");
    assert!(
        text.contains("etcd")
            || text.contains("ServiceUnavailable")
            || text.contains("Timeout")
            || text.contains("did not complete"),
        "unexpected error: {text}"
    );
    eprintln!("kubectl get pods with etcd down failed after {took:?}: {err}");

    // The raw answer is a Status with 503 or 504.
    let t = Instant::now();
    let (code, body) = c.request("GET", "/api/v1/namespaces/default/configmaps", None, None);
    assert!(
        code == 503 || code == 504,
        "GET during the outage answered {code}: {body}"
    );
    assert_eq!(body["kind"], "Status", "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(t.elapsed() < Duration::from_secs(15), "{:?}", t.elapsed());
    eprintln!(
        "raw GET with etcd down answered {code} after {:?}",
        t.elapsed()
    );

    // A new watch gets an error, not a hanging stream.
    let t = Instant::now();
    let (code, body) = c.request("GET", "/api/v1/configmaps?watch=1", None, None);
    assert!(
        t.elapsed() < Duration::from_secs(15),
        "new watch took {:?}",
        t.elapsed()
    );
    assert!(
        code >= 500 || body.to_string().contains("ERROR"),
        "new watch during the outage answered {code}: {body}"
    );

    // readyz and livez report the etcd check (upstream has it in both).
    let (code, body) = c.request("GET", "/readyz?verbose", None, None);
    assert_eq!(code, 500, "{body}");
    assert!(body.to_string().contains("[-]etcd failed"), "{body}");
    let (code, body) = c.request("GET", "/livez?verbose", None, None);
    assert_eq!(code, 500, "{body}");
    assert!(body.to_string().contains("[-]etcd failed"), "{body}");
    assert!(body.to_string().contains("[+]ping ok"), "{body}");

    // etcd returns on the same data directory and port.
    c.start_etcd();
    let t = Instant::now();
    assert!(
        eventually(Duration::from_secs(30), || c
            .request("GET", "/readyz", None, None)
            .0
            == 200),
        "readyz did not recover:\n{}",
        c.apiserver.log_tail(30)
    );
    assert!(
        eventually(Duration::from_secs(30), || c
            .kubectl(&["create", "configmap", "after", "--from-literal=a=b"])
            .0),
        "create did not work again:\n{}",
        c.apiserver.log_tail(30)
    );
    eprintln!(
        "apiserver served again {:?} after etcd restarted",
        t.elapsed()
    );
    let got = c.kubectl_ok(&["get", "configmap", "before", "-o", "jsonpath={.data.a}"]);
    assert_eq!(got, "b");

    // The RBAC cache re-synced: a binding made after the outage is honoured.
    let (_, out, _) = c.kubectl_as("kube-proxy", &["auth", "can-i", "list", "secrets"]);
    assert_eq!(out.trim(), "no");
    c.kubectl_ok(&[
        "create",
        "clusterrole",
        "secret-reader",
        "--verb=get,list",
        "--resource=secrets",
    ]);
    c.kubectl_ok(&[
        "create",
        "clusterrolebinding",
        "proxy-reads-secrets",
        "--clusterrole=secret-reader",
        "--user=system:kube-proxy",
    ]);
    assert!(
        eventually(Duration::from_secs(30), || {
            let (_, out, _) = c.kubectl_as("kube-proxy", &["auth", "can-i", "list", "secrets"]);
            out.trim() == "yes"
        }),
        "RBAC cache did not see a binding made after the outage"
    );

    // A new watch sees a new object.
    let (code, body) = c.request(
        "GET",
        "/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=2",
        None,
        None,
    );
    assert_eq!(code, 200, "{body}");
    assert!(body.to_string().contains("after"), "{body}");

    // The kubectl -w from before the outage either exited or goes on
    // seeing changes; it must not hang silently.
    c.kubectl_ok(&["create", "configmap", "late", "--from-literal=a=b"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut verdict = None;
    while Instant::now() < deadline && verdict.is_none() {
        if let Ok(Some(status)) = watcher.try_wait() {
            verdict = Some(format!("exited ({status})"));
            break;
        }
        while let Ok(line) = lines.try_recv() {
            if line.contains("configmap/late") {
                verdict = Some("continued".to_string());
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = watcher.kill();
    let _ = watcher.wait();
    let verdict = verdict.expect("kubectl -w neither exited nor saw the new object");
    eprintln!("kubectl -w started before the outage: {verdict}");
}
