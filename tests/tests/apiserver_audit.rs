//! Auditing through the real kube-apiserver: the policy decides the level
//! of each request, events are audit.k8s.io/v1 JSON lines, the shipped
//! policy never logs credentials above Metadata, and the log rotates by
//! size into lumberjack-named backups.

use harness::apiserver::ApiCluster;
use harness::process::wait_until;
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn events(log: &Path) -> Vec<Value> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// Events of one stage matching a verb, resource and name.
fn find<'a>(
    all: &'a [Value],
    stage: &str,
    verb: &str,
    resource: &str,
    name: &str,
) -> Vec<&'a Value> {
    all.iter()
        .filter(|e| {
            e["stage"] == stage
                && e["verb"] == verb
                && e["objectRef"]["resource"] == resource
                && (name.is_empty() || e["objectRef"]["name"] == name)
        })
        .collect()
}

fn start(policy: &str, extra: &[&str]) -> (ApiCluster, PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tmp");
    let policy_file = dir.path().join("policy.yaml");
    std::fs::write(&policy_file, policy).expect("write policy");
    let log = dir.path().join("logs/audit.log");
    let mut args = vec![
        format!("--audit-policy-file={}", policy_file.display()),
        format!("--audit-log-path={}", log.display()),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    (ApiCluster::start_with(&refs), log, dir)
}

#[test]
fn shipped_policy_logs_changes_and_keeps_secrets_at_metadata() {
    let policy = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../supervisord/audit-policy.yaml"),
    )
    .expect("shipped policy");
    let (c, log, _dir) = start(&policy, &[]);
    c.kubectl_ok(&[
        "create",
        "secret",
        "generic",
        "db",
        "--from-literal=password=hunter2",
    ]);
    c.kubectl_ok(&["get", "secret", "db", "-o", "yaml"]);
    c.kubectl_ok(&["create", "configmap", "conf", "--from-literal=token=sesame"]);
    c.kubectl_ok(&["create", "deployment", "web", "--image=nginx:1.25"]);
    c.kubectl_ok(&["get", "deployment", "web"]);

    let all = events(&log);
    assert!(!all.is_empty(), "no audit events");
    let text = std::fs::read_to_string(&log).expect("log");
    for secret in ["hunter2", "aHVudGVyMg==", "sesame", "c2VzYW1l"] {
        assert!(!text.contains(secret), "{secret} leaked into the audit log");
    }
    // Secrets: Metadata only, with who, what and the answer.
    let created = find(&all, "ResponseComplete", "create", "secrets", "");
    assert_eq!(created.len(), 1, "{all:#?}");
    let e = created[0];
    assert_eq!(e["kind"], "Event");
    assert_eq!(e["apiVersion"], "audit.k8s.io/v1");
    assert_eq!(e["level"], "Metadata");
    assert_eq!(e["user"]["username"], "admin");
    assert_eq!(e["sourceIPs"][0], "127.0.0.1");
    assert!(
        e["userAgent"]
            .as_str()
            .is_some_and(|u| u.starts_with("kubectl")),
        "{e}"
    );
    assert_eq!(e["objectRef"]["namespace"], "default");
    assert_eq!(e["responseStatus"]["code"], 201);
    assert_eq!(e["annotations"]["authorization.k8s.io/decision"], "allow");
    assert!(e.get("requestObject").is_none() && e.get("responseObject").is_none());
    assert_eq!(
        find(&all, "ResponseComplete", "get", "secrets", "db")[0]["level"],
        "Metadata"
    );
    // RequestReceived is omitted by the shipped policy.
    assert!(all.iter().all(|e| e["stage"] != "RequestReceived"));
    // A deployment create is logged at Request with its body, the read at Metadata.
    let d = find(&all, "ResponseComplete", "create", "deployments", "");
    assert_eq!(d.len(), 1, "{all:#?}");
    assert_eq!(d[0]["level"], "Request");
    assert_eq!(d[0]["objectRef"]["apiGroup"], "apps");
    assert_eq!(d[0]["objectRef"]["name"], "web");
    assert_eq!(d[0]["requestObject"]["metadata"]["name"], "web");
    assert!(d[0].get("responseObject").is_none());
    assert_eq!(
        find(&all, "ResponseComplete", "get", "deployments", "web")[0]["level"],
        "Metadata"
    );
    // Health probes are not logged.
    assert!(all.iter().all(|e| e["requestURI"] != "/readyz"));
    let mode = std::fs::metadata(&log).expect("log").permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

const POLICY: &str = r#"
apiVersion: audit.k8s.io/v1
kind: Policy
rules:
- level: None
  nonResourceURLs: ["/readyz*", "/healthz*", "/livez*"]
- level: RequestResponse
  resources:
  - group: ""
    resources: ["configmaps"]
- level: Metadata
"#;

#[test]
fn levels_stages_watch_and_denials() {
    let (c, log, _dir) = start(POLICY, &[]);
    c.kubectl_ok(&["create", "configmap", "conf", "--from-literal=k=v"]);
    c.kubectl_ok(&["get", "configmap", "conf", "-o", "json"]);
    let (code, _) = c.request(
        "GET",
        "/api/v1/namespaces/default/pods?watch=1&timeoutSeconds=1",
        None,
        None,
    );
    assert_eq!(code, 200);
    let (code, _) = c.request_as(Some("kube-proxy"), "GET", "/api/v1/secrets", None, None);
    assert_eq!(code, 403);

    let ok = wait_until(Duration::from_secs(5), || {
        !find(&events(&log), "ResponseComplete", "watch", "pods", "").is_empty()
    });
    assert!(ok, "no watch completion in\n{:#?}", events(&log));
    let all = events(&log);
    // Both stages of a create, same audit ID; bodies at RequestResponse.
    let rec = find(&all, "RequestReceived", "create", "configmaps", "");
    let done = find(&all, "ResponseComplete", "create", "configmaps", "");
    assert_eq!((rec.len(), done.len()), (1, 1), "{all:#?}");
    assert_eq!(rec[0]["auditID"], done[0]["auditID"]);
    assert!(rec[0].get("responseStatus").is_none());
    // The name of a created object is known once its body is read.
    assert!(rec[0]["objectRef"].get("name").is_none(), "{:#}", rec[0]);
    assert_eq!(done[0]["objectRef"]["name"], "conf");
    assert_eq!(done[0]["level"], "RequestResponse");
    assert_eq!(done[0]["requestObject"]["data"]["k"], "v");
    assert_eq!(done[0]["responseObject"]["metadata"]["name"], "conf");
    let get = find(&all, "ResponseComplete", "get", "configmaps", "conf");
    assert_eq!(get[0]["responseObject"]["data"]["k"], "v");
    // A watch: ResponseStarted, then ResponseComplete when the stream ends.
    let started = find(&all, "ResponseStarted", "watch", "pods", "");
    let ended = find(&all, "ResponseComplete", "watch", "pods", "");
    assert_eq!((started.len(), ended.len()), (1, 1), "{all:#?}");
    assert_eq!(started[0]["auditID"], ended[0]["auditID"]);
    assert_eq!(ended[0]["level"], "Metadata");
    // A denied request: 403 with the authorizer's decision.
    let denied = find(&all, "ResponseComplete", "list", "secrets", "");
    assert_eq!(denied.len(), 1, "{all:#?}");
    assert_eq!(denied[0]["user"]["username"], "system:kube-proxy");
    assert_eq!(denied[0]["responseStatus"]["code"], 403);
    assert_eq!(denied[0]["responseStatus"]["reason"], "Forbidden");
    assert_eq!(
        denied[0]["annotations"]["authorization.k8s.io/decision"],
        "forbid"
    );
    // Probes excluded by nonResourceURLs.
    assert!(all.iter().all(|e| e["requestURI"] != "/readyz"));
}

#[test]
fn log_rotates_by_size_and_keeps_maxbackup() {
    let (c, log, dir) = start(
        POLICY,
        &["--audit-log-maxsize=1", "--audit-log-maxbackup=2"],
    );
    // A 200 KB ConfigMap, read at RequestResponse: ~200 KB an event.
    let big = dir.path().join("big.txt");
    std::fs::write(&big, "x".repeat(200 * 1024)).expect("write");
    c.kubectl_ok(&[
        "create",
        "configmap",
        "big",
        &format!("--from-file=big={}", big.display()),
    ]);
    for _ in 0..20 {
        c.kubectl_ok(&["get", "configmap", "big", "-o", "name"]);
    }
    let logs = log.parent().expect("dir");
    let backups: Vec<String> = std::fs::read_dir(logs)
        .expect("logs")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "audit.log")
        .collect();
    // 20 x ~200 KB = ~4 MB: at least 3 rotations, only 2 backups kept.
    assert_eq!(backups.len(), 2, "{backups:?}");
    for b in &backups {
        // audit-2026-11-22T16-09-05.042.log
        let stamp = b
            .strip_prefix("audit-")
            .and_then(|s| s.strip_suffix(".log"))
            .unwrap_or_else(|| panic!("backup name {b}"));
        assert!(
            chrono_like(stamp),
            "backup {b} is not audit-<YYYY-MM-DDTHH-MM-SS.mmm>.log"
        );
        let size = std::fs::metadata(logs.join(b)).expect("backup").len();
        assert!(size <= 1024 * 1024, "{b} is {size} bytes");
        let mode = std::fs::metadata(logs.join(b))
            .expect("backup")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(std::fs::metadata(&log).expect("log").len() <= 1024 * 1024);
}

/// `2006-01-02T15-04-05.000` shape.
fn chrono_like(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 23
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 | 13 | 16 => *c == b'-',
            10 => *c == b'T',
            19 => *c == b'.',
            _ => c.is_ascii_digit(),
        })
}
