//! Table tests of the Pod Security Standards checks.
use super::*;
use serde_json::json;

fn pod(spec: Value) -> Value {
    json!({"metadata": {"name": "p"}, "spec": spec})
}

/// A pod that passes restricted; each case breaks one thing.
fn good() -> Value {
    json!({
        "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{"name": "a", "securityContext": {
            "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}]
    })
}

fn with(path: &str, v: Value) -> Value {
    let mut s = good();
    let mut cur = &mut s;
    let parts: Vec<&str> = path.split('/').collect();
    for (i, p) in parts.iter().enumerate() {
        if i + 1 == parts.len() {
            cur[*p] = v.clone();
        } else if let Ok(n) = p.parse::<usize>() {
            cur = &mut cur[n];
        } else {
            if cur.get(*p).is_none() {
                cur[*p] = json!({});
            }
            cur = &mut cur[*p];
        }
    }
    pod(s)
}

#[test]
fn good_pod_passes_every_level() {
    assert!(violations(&pod(good()), Level::Restricted).is_empty());
    assert!(violations(&pod(good()), Level::Baseline).is_empty());
}

#[test]
fn each_check_reports_upstreams_text() {
    let c = "containers/0/securityContext";
    let cases: Vec<(Value, Level, &str)> = vec![
        (
            with("hostPID", json!(true)),
            Level::Baseline,
            "host namespaces (hostPID=true)",
        ),
        (
            with(&format!("{c}/privileged"), json!(true)),
            Level::Baseline,
            "privileged (container \"a\" must not set securityContext.privileged=true)",
        ),
        (
            with(&format!("{c}/windowsOptions"), json!({"hostProcess": true})),
            Level::Baseline,
            "hostProcess (container \"a\" must not set securityContext.windowsOptions.hostProcess=true)",
        ),
        (
            with(
                &format!("{c}/capabilities"),
                json!({"drop": ["ALL"], "add": ["SYS_ADMIN"]}),
            ),
            Level::Baseline,
            "non-default capabilities (container \"a\" must not include \"SYS_ADMIN\" in securityContext.capabilities.add)",
        ),
        (
            with(
                &format!("{c}/capabilities"),
                json!({"drop": ["ALL"], "add": ["CHOWN"]}),
            ),
            Level::Restricted,
            "unrestricted capabilities (container \"a\" must not include \"CHOWN\" in securityContext.capabilities.add)",
        ),
        (
            with(
                &format!("{c}/capabilities"),
                json!({"add": ["NET_BIND_SERVICE"]}),
            ),
            Level::Restricted,
            "unrestricted capabilities (container \"a\" must set securityContext.capabilities.drop=[\"ALL\"])",
        ),
        (
            with("volumes", json!([{"name": "h", "hostPath": {"path": "/"}}])),
            Level::Baseline,
            "hostPath volumes (volume \"h\")",
        ),
        (
            with(
                "containers/0/ports",
                json!([{"containerPort": 80, "hostPort": 8080}]),
            ),
            Level::Baseline,
            "hostPort (container \"a\" uses hostPort 8080)",
        ),
        (
            with(
                &format!("{c}/appArmorProfile"),
                json!({"type": "Unconfined"}),
            ),
            Level::Baseline,
            "forbidden AppArmor profile (container \"a\" must not set AppArmor profile type to \"Unconfined\")",
        ),
        (
            with(&format!("{c}/seLinuxOptions"), json!({"type": "spc_t"})),
            Level::Baseline,
            "seLinuxOptions (container \"a\" set forbidden securityContext.seLinuxOptions: type \"spc_t\")",
        ),
        (
            with(&format!("{c}/procMount"), json!("Unmasked")),
            Level::Baseline,
            "procMount (container \"a\" must not set securityContext.procMount to \"Unmasked\")",
        ),
        (
            with(
                "securityContext/seccompProfile",
                json!({"type": "Unconfined"}),
            ),
            Level::Baseline,
            "seccompProfile (pod must not set securityContext.seccompProfile.type to \"Unconfined\")",
        ),
        (
            with(
                "securityContext/seccompProfile",
                json!({"type": "Unconfined"}),
            ),
            Level::Restricted,
            "seccompProfile (pod must not set securityContext.seccompProfile.type to \"Unconfined\")",
        ),
        (
            with("securityContext/seccompProfile", Value::Null),
            Level::Restricted,
            "seccompProfile (pod or container \"a\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")",
        ),
        (
            with(&format!("{c}/runAsNonRoot"), json!(false)),
            Level::Restricted,
            "runAsNonRoot != true (container \"a\" must not set securityContext.runAsNonRoot=false)",
        ),
        (
            with(
                "securityContext/sysctls",
                json!([{"name": "kernel.msgmax", "value": "1"}, {"name": "net.ipv4.tcp_syncookies", "value": "1"}]),
            ),
            Level::Baseline,
            "forbidden sysctl (kernel.msgmax)",
        ),
        (
            with(
                "volumes",
                json!([{"name": "n", "nfs": {"server": "x", "path": "/"}}]),
            ),
            Level::Restricted,
            "restricted volume types (volume \"n\" uses restricted volume type \"nfs\")",
        ),
        (
            with(&format!("{c}/allowPrivilegeEscalation"), json!(true)),
            Level::Restricted,
            "allowPrivilegeEscalation != false (container \"a\" must set securityContext.allowPrivilegeEscalation=false)",
        ),
        (
            with("securityContext/runAsNonRoot", Value::Null),
            Level::Restricted,
            "runAsNonRoot != true (pod or container \"a\" must set securityContext.runAsNonRoot=true)",
        ),
        (
            with(&format!("{c}/runAsUser"), json!(0)),
            Level::Restricted,
            "runAsUser=0 (container \"a\" must not set runAsUser=0)",
        ),
    ];
    for (p, level, want) in cases {
        assert_eq!(violations(&p, level), vec![want.to_string()], "{p}");
    }
}

#[test]
fn baseline_ignores_restricted_only_checks() {
    let p = with("containers/0/securityContext/runAsUser", json!(0));
    assert!(violations(&p, Level::Baseline).is_empty());
    let p = with(
        "volumes",
        json!([{"name": "n", "nfs": {"server": "x", "path": "/"}}]),
    );
    assert!(violations(&p, Level::Baseline).is_empty());
}

#[test]
fn apparmor_annotations_are_checked() {
    let mut p = pod(good());
    p["metadata"]["annotations"] =
        json!({"container.apparmor.security.beta.kubernetes.io/a": "unconfined"});
    assert_eq!(
        violations(&p, Level::Baseline),
        vec!["forbidden AppArmor profile (annotation must not set AppArmor profile type to \"container.apparmor.security.beta.kubernetes.io/a=\\\"unconfined\\\"\")".to_string()]
    );
}
