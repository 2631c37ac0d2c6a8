//! A bounded schemathesis run against the running apiserver, driven by its
//! own `/openapi/v2`: property-based requests (valid and invalid bodies,
//! query parameters, headers) against the core and apps operations, with
//! one worker, a rate limit and a time budget fit for this two-core
//! machine. It fails on any 5xx answer or if the apiserver dies. Each
//! finding is kept as a regression test in the suites beside it
//! (`apiserver_fuzz_findings`).
//!
//! Ignored by default (minutes of CPU); run it with
//!
//! ```sh
//! cluster/packages.sh fuzz     # schemathesis into target/fuzzenv
//! cargo nextest run -p tests --test apiserver_schemathesis --run-ignored only
//! ```
//!
//! `ST_MAX_TIME` (seconds, default 300) bounds the run.

use harness::apiserver::ApiCluster;
use harness::bins;
use harness::process::run;
use std::process::Command;

/// The operations the run covers: the namespaced core objects users write
/// most, deployments and their subresources, and namespaces.
const PATHS: &str = "^/api/v1/(namespaces$|namespaces/\\{namespace\\}/(configmaps|secrets|services|pods))|^/apis/apps/v1/namespaces/\\{namespace\\}/deployments";

#[test]
#[ignore = "minutes of CPU; run with --run-ignored only"]
fn schemathesis_finds_no_server_errors() {
    let st = bins::repo_root().join("target/fuzzenv/bin/st");
    assert!(
        st.exists(),
        "{} is missing: run cluster/packages.sh fuzz",
        st.display()
    );
    let mut cluster = ApiCluster::start();
    let (code, spec) = cluster.request("GET", "/openapi/v2", None, None);
    assert_eq!(code, 200, "GET /openapi/v2");
    let dir = tempfile::tempdir().expect("tempdir");
    let spec_file = dir.path().join("openapi-v2.json");
    std::fs::write(&spec_file, spec.to_string()).expect("write spec");
    // Every operation's `{namespace}` and `{name}` point at objects that
    // exist, so requests reach validation and storage instead of a 404.
    cluster.kubectl_ok(&["create", "namespace", "fuzz"]);
    for args in [
        &["create", "configmap", "fuzz", "--from-literal=k=v"][..],
        &["create", "secret", "generic", "fuzz", "--from-literal=k=v"],
        &["create", "service", "clusterip", "fuzz", "--tcp=80:8080"],
        &["create", "deployment", "fuzz", "--image=nginx"],
        &["run", "fuzz", "--image=nginx"],
    ] {
        let mut a = args.to_vec();
        a.extend(["-n", "fuzz"]);
        cluster.kubectl_ok(&a);
    }
    let config = dir.path().join("schemathesis.toml");
    std::fs::write(
        &config,
        "[parameters]\n\"path.namespace\" = \"fuzz\"\n\"path.name\" = \"fuzz\"\n",
    )
    .expect("write config");

    let budget = std::env::var("ST_MAX_TIME").unwrap_or_else(|_| "300".into());
    let (ok, out, err) = run(Command::new(&st)
        .arg("--config-file")
        .arg(&config)
        .arg("run")
        .arg(&spec_file)
        .arg("--url")
        .arg(&cluster.url)
        .args(["--include-path-regex", PATHS])
        .args(["--checks", "not_a_server_error"])
        .args(["--workers", "1", "--rate-limit", "40/s"])
        .args(["--max-time", &budget])
        .args(["--request-timeout", "20"])
        .arg("--request-cert")
        .arg(cluster.pki.cert("admin"))
        .arg("--request-cert-key")
        .arg(cluster.pki.key("admin"))
        .arg("--tls-verify")
        .arg(cluster.pki.ca())
        .args(["--generation-database", "none"])
        .env("NO_COLOR", "1"));
    println!("{out}");
    assert!(
        cluster.apiserver.is_running(),
        "the apiserver died under schemathesis:\n{}",
        cluster.apiserver.log_tail(40)
    );
    assert!(ok, "schemathesis found server errors:\n{out}\n{err}");
}
