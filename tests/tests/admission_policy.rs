//! ValidatingAdmissionPolicy through the real kube-apiserver and the real
//! kubectl: the upstream docs' `object.spec.replicas <= 5` policy bound
//! with Deny (exact kubectl message) and with Warn (`Warning:` line),
//! params from a ConfigMap, a binding's namespaceSelector, and
//! `kubectl get` of the new kinds with upstream's columns.

use harness::apiserver::ApiCluster;
use std::time::{Duration, Instant};

const POLICY: &str = r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: "demo-policy.example.com"
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - apiGroups:   ["apps"]
      apiVersions: ["v1"]
      operations:  ["CREATE", "UPDATE"]
      resources:   ["deployments"]
  validations:
    - expression: "object.spec.replicas <= 5"
"#;

fn binding(name: &str, actions: &str, extra: &str) -> String {
    format!(
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata:\n  name: \"{name}\"\nspec:\n  policyName: \"demo-policy.example.com\"\n  validationActions: [{actions}]\n{extra}"
    )
}

fn deployment(name: &str, ns: &str, replicas: u32) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  replicas: {replicas}\n  selector:\n    matchLabels: {{app: {name}}}\n  template:\n    metadata:\n      labels: {{app: {name}}}\n    spec:\n      containers:\n      - name: c\n        image: nginx:1.25\n"
    )
}

fn apply(c: &ApiCluster, manifest: &str) {
    let (ok, out, err) = c.kubectl_stdin(&["create", "-f", "-"], manifest);
    assert!(
        ok,
        "create failed: {out}{err}\n{}",
        c.apiserver.log_tail(20)
    );
}

/// Creates `manifest` (server dry run first, repeated until the policy
/// caches have seen the newest policy objects) and returns (ok, stderr).
fn create_when(c: &ApiCluster, manifest: &str, want_ok: bool) -> (bool, String, String) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (ok, _, _) = c.kubectl_stdin(&["create", "--dry-run=server", "-f", "-"], manifest);
        if ok == want_ok || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    c.kubectl_stdin(&["create", "-f", "-"], manifest)
}

#[test]
fn deny_binding_with_namespace_selector_blocks_six_replicas() {
    let c = ApiCluster::start();
    c.kubectl_ok(&["create", "namespace", "test"]);
    c.kubectl_ok(&["label", "namespace", "test", "environment=test"]);
    c.kubectl_ok(&["create", "namespace", "prod"]);
    apply(&c, POLICY);
    apply(
        &c,
        &binding(
            "demo-binding-test.example.com",
            "Deny",
            "  matchResources:\n    namespaceSelector:\n      matchLabels:\n        environment: test\n",
        ),
    );
    let (ok, _, err) = create_when(&c, &deployment("web", "test", 6), false);
    assert!(!ok, "6 replicas admitted in test");
    assert_eq!(
        err.trim(),
        "The deployments \"web\" is invalid: : ValidatingAdmissionPolicy 'demo-policy.example.com' with binding 'demo-binding-test.example.com' denied request: failed expression: object.spec.replicas <= 5"
    );
    // Within the limit, or outside the selected namespace: admitted.
    apply(&c, &deployment("small", "test", 5));
    apply(&c, &deployment("web", "prod", 6));
    // Updates are checked too (a patch of the deployment itself; upstream
    // sends `kubectl scale` as deployments/scale, which this rule skips).
    let (ok, _, err) = c.kubectl(&[
        "patch",
        "deployment",
        "small",
        "-n",
        "test",
        "--type=merge",
        "-p",
        "{\"spec\":{\"replicas\":7}}",
    ]);
    assert!(!ok, "patch to 7 replicas admitted");
    assert!(
        err.contains("denied request: failed expression: object.spec.replicas <= 5"),
        "{err}"
    );
    // The kinds print with upstream's columns.
    let out = c.kubectl_ok(&["get", "validatingadmissionpolicies"]);
    let head: Vec<&str> = out
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    assert_eq!(head, ["NAME", "VALIDATIONS", "PARAMKIND", "AGE"], "{out}");
    let row: Vec<&str> = out
        .lines()
        .nth(1)
        .unwrap_or("")
        .split_whitespace()
        .collect();
    assert_eq!(
        row[..3],
        ["demo-policy.example.com", "1", "<unset>"],
        "{out}"
    );
    let out = c.kubectl_ok(&["get", "validatingadmissionpolicybindings"]);
    let head: Vec<&str> = out
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    assert_eq!(head, ["NAME", "POLICYNAME", "PARAMREF", "AGE"], "{out}");
    let yaml = c.kubectl_ok(&[
        "get",
        "validatingadmissionpolicy",
        "demo-policy.example.com",
        "-o",
        "yaml",
    ]);
    assert!(yaml.contains("matchPolicy: Equivalent"), "{yaml}");
    assert!(yaml.contains("scope: '*'"), "{yaml}");
}

#[test]
fn warn_binding_admits_with_a_warning() {
    let c = ApiCluster::start();
    c.kubectl_ok(&["create", "namespace", "app"]);
    apply(&c, POLICY);
    apply(
        &c,
        &binding("demo-binding-warn.example.com", "Warn, Audit", ""),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut n = 0;
    let (ok, err) = loop {
        n += 1;
        let (ok, _, err) = c.kubectl_stdin(
            &["create", "-f", "-"],
            &deployment(&format!("web{n}"), "app", 6),
        );
        if err.contains("Warning:") || Instant::now() > deadline {
            break (ok, err);
        }
    };
    assert!(ok, "Warn must admit: {err}");
    assert_eq!(
        err.trim(),
        "Warning: Validation failed for ValidatingAdmissionPolicy 'demo-policy.example.com' with binding 'demo-binding-warn.example.com': failed expression: object.spec.replicas <= 5"
    );
}

#[test]
fn params_from_a_config_map_and_invalid_objects() {
    let c = ApiCluster::start();
    c.kubectl_ok(&["create", "namespace", "app"]);
    c.kubectl_ok(&[
        "create",
        "configmap",
        "replica-limit",
        "-n",
        "app",
        "--from-literal=maxReplicas=3",
    ]);
    apply(
        &c,
        r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: replica-limit.example.com
spec:
  paramKind:
    apiVersion: v1
    kind: ConfigMap
  matchConstraints:
    resourceRules:
    - apiGroups: ["apps"]
      apiVersions: ["v1"]
      operations: ["CREATE", "UPDATE"]
      resources: ["deployments"]
  variables:
  - name: max
    expression: "int(params.data.maxReplicas)"
  validations:
  - expression: "object.spec.replicas <= variables.max"
    messageExpression: "'replicas must be no greater than ' + string(variables.max)"
    reason: Forbidden
"#,
    );
    apply(
        &c,
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata:\n  name: replica-limit-binding\nspec:\n  policyName: replica-limit.example.com\n  validationActions: [Deny]\n  paramRef:\n    name: replica-limit\n    parameterNotFoundAction: Deny\n",
    );
    let (ok, _, err) = create_when(&c, &deployment("big", "app", 4), false);
    assert!(!ok);
    assert_eq!(
        err.trim(),
        "Error from server (Forbidden): error when creating \"STDIN\": deployments.apps \"big\" is forbidden: ValidatingAdmissionPolicy 'replica-limit.example.com' with binding 'replica-limit-binding' denied request: replicas must be no greater than 3"
    );
    apply(&c, &deployment("ok", "app", 3));
    // No ConfigMap in this namespace: Deny parameterNotFoundAction fails the request.
    c.kubectl_ok(&["create", "namespace", "other"]);
    let (ok, _, err) = c.kubectl_stdin(&["create", "-f", "-"], &deployment("any", "other", 1));
    assert!(!ok);
    assert!(
        err.contains("no params found for policy binding with `Deny` parameterNotFoundAction"),
        "{err}"
    );
    let out = c.kubectl_ok(&["get", "validatingadmissionpolicybindings"]);
    assert!(
        out.lines()
            .nth(1)
            .unwrap_or("")
            .contains("replica-limit.example.com   replica-limit"),
        "{out}"
    );
    let out = c.kubectl_ok(&["get", "validatingadmissionpolicies"]);
    assert!(out.contains("v1/ConfigMap"), "{out}");
    // Validation with upstream field paths.
    let (ok, _, err) = c.kubectl_stdin(
        &["create", "-f", "-"],
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata:\n  name: bad\nspec:\n  validationActions: [Deny, Warn]\n",
    );
    assert!(!ok);
    assert!(err.contains("spec.policyName: Required value"), "{err}");
    assert!(err.contains("must not contain both Deny and Warn"), "{err}");
    let (ok, _, err) = c.kubectl_stdin(
        &["create", "-f", "-"],
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata:\n  name: broken\nspec:\n  matchConstraints:\n    resourceRules: [{apiGroups: [\"\"], apiVersions: [\"v1\"], operations: [\"CREATE\"], resources: [\"pods\"]}]\n  validations:\n  - expression: \"object.spec.replicas <\"\n",
    );
    assert!(!ok);
    assert!(err.contains("spec.validations[0].expression: Invalid value: \"object.spec.replicas <\": compilation failed: ERROR: <input>:1:"), "{err}");
}

#[test]
fn audit_binding_annotates_the_audit_event() {
    let dir = tempfile::tempdir().expect("tmp");
    let policy_file = dir.path().join("policy.yaml");
    std::fs::write(
        &policy_file,
        "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n",
    )
    .expect("write policy");
    let log = dir.path().join("audit.log");
    let c = ApiCluster::start_with(&[
        &format!("--audit-policy-file={}", policy_file.display()),
        &format!("--audit-log-path={}", log.display()),
    ]);
    c.kubectl_ok(&["create", "namespace", "app"]);
    apply(&c, POLICY);
    apply(&c, &binding("demo-binding-audit.example.com", "Audit", ""));
    // Audit alone admits silently; the event carries the failure.
    let key = "validation.policy.admission.k8s.io/validation_failure";
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut n = 0;
    let found = loop {
        n += 1;
        let (ok, _, err) = c.kubectl_stdin(
            &["create", "-f", "-"],
            &deployment(&format!("web{n}"), "app", 6),
        );
        assert!(ok && !err.contains("Warning"), "{err}");
        std::thread::sleep(Duration::from_millis(200));
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let hit = text
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|e| {
                e["objectRef"]["resource"] == "deployments"
                    && e["verb"] == "create"
                    && e["stage"] == "ResponseComplete"
                    && e["annotations"].get(key).is_some()
            });
        if hit.is_some() || Instant::now() > deadline {
            break hit;
        }
    };
    let e = found.unwrap_or_else(|| {
        panic!(
            "no audit event with the validation failure:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        )
    });
    let v: serde_json::Value =
        serde_json::from_str(e["annotations"][key].as_str().unwrap_or("")).expect("json value");
    assert_eq!(
        v,
        serde_json::json!([{"message": "failed expression: object.spec.replicas <= 5",
            "policy": "demo-policy.example.com", "binding": "demo-binding-audit.example.com",
            "expressionIndex": 0, "validationActions": ["Audit"]}])
    );
}
