//! Typed decoding through the real kube-apiserver: bodies whose values have
//! the wrong JSON type are refused as upstream refuses them (400 for create
//! and update, 422 on `patch` for patches) and nothing is stored; and
//! events.k8s.io/v1 field selectors through the real kubectl.

use harness::apiserver::ApiCluster;
use serde_json::{Value, json};

const DEPLOYS: &str = "/apis/apps/v1/namespaces/default/deployments";
const CMS: &str = "/api/v1/namespaces/default/configmaps";
const PODS: &str = "/api/v1/namespaces/default/pods";
const J: Option<&str> = Some("application/json");

fn deployment(name: &str, replicas: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}))
    .expect("json")
}

fn bad_request(got: &(u16, Value), message: &str) {
    assert_eq!(got.0, 400, "{}", got.1);
    assert_eq!(got.1["reason"], "BadRequest", "{}", got.1);
    assert_eq!(got.1["message"], message, "{}", got.1);
}

fn absent(c: &ApiCluster, path: &str) {
    assert_eq!(
        c.request("GET", path, None, None).0,
        404,
        "{path} was stored"
    );
}

#[test]
fn wrong_types_on_create_and_update_are_400_and_not_stored() {
    let c = ApiCluster::start();

    let got = c.request(
        "POST",
        DEPLOYS,
        J,
        Some(&deployment("three", json!("three"))),
    );
    bad_request(
        &got,
        "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32",
    );
    absent(&c, &format!("{DEPLOYS}/three"));

    let got = c.request(
        "POST",
        DEPLOYS,
        J,
        Some(&deployment("big", json!(3_000_000_000_i64))),
    );
    bad_request(
        &got,
        "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal number 3000000000 into Go struct field DeploymentSpec.spec.replicas of type int32",
    );
    absent(&c, &format!("{DEPLOYS}/big"));

    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {"containers": {}}});
    let got = c.request(
        "POST",
        PODS,
        J,
        Some(&serde_json::to_vec(&pod).expect("json")),
    );
    bad_request(
        &got,
        "Pod in version \"v1\" cannot be handled as a Pod: json: cannot unmarshal object into Go struct field PodSpec.spec.containers of type []v1.Container",
    );
    absent(&c, &format!("{PODS}/p"));

    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "numbers", "labels": {"tier": 1}}, "data": {"k": "v"}});
    let got = c.request(
        "POST",
        CMS,
        J,
        Some(&serde_json::to_vec(&cm).expect("json")),
    );
    bad_request(
        &got,
        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string",
    );
    absent(&c, &format!("{CMS}/numbers"));

    // A YAML body decodes to the same JSON and gets the same answer.
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: yamlcm\ndata:\n  k: 1\n";
    let got = c.request("POST", CMS, Some("application/yaml"), Some(yaml.as_bytes()));
    bad_request(
        &got,
        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ConfigMap.data of type string",
    );
    absent(&c, &format!("{CMS}/yamlcm"));

    // Update (PUT): refused, the stored object unchanged.
    let ok = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "keep"},
        "data": {"k": "v"}});
    let made = c.request(
        "POST",
        CMS,
        J,
        Some(&serde_json::to_vec(&ok).expect("json")),
    );
    assert_eq!(made.0, 201, "{}", made.1);
    let mut bad = made.1.clone();
    bad["data"] = json!({"k": true});
    let got = c.request(
        "PUT",
        &format!("{CMS}/keep"),
        J,
        Some(&serde_json::to_vec(&bad).expect("json")),
    );
    bad_request(
        &got,
        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal bool into Go struct field ConfigMap.data of type string",
    );
    let (_, now) = c.request("GET", &format!("{CMS}/keep"), None, None);
    assert_eq!(now["data"]["k"], "v");
    assert_eq!(
        now["metadata"]["resourceVersion"],
        made.1["metadata"]["resourceVersion"]
    );
}

#[test]
fn wrong_types_in_patch_results_are_422_on_patch() {
    let c = ApiCluster::start();
    let made = c.request("POST", DEPLOYS, J, Some(&deployment("web", json!(2))));
    assert_eq!(made.0, 201, "{}", made.1);
    let path = format!("{DEPLOYS}/web");
    let rv = made.1["metadata"]["resourceVersion"].clone();

    let go_err = "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32";
    for (ct, body) in [
        (
            "application/merge-patch+json",
            json!({"spec": {"replicas": "three"}}),
        ),
        (
            "application/json-patch+json",
            json!([{"op": "replace", "path": "/spec/replicas", "value": "three"}]),
        ),
    ] {
        let got = c.request(
            "PATCH",
            &path,
            Some(ct),
            Some(&serde_json::to_vec(&body).expect("json")),
        );
        assert_eq!(got.0, 422, "{ct}: {}", got.1);
        assert_eq!(got.1["reason"], "Invalid", "{ct}");
        let message = got.1["message"].as_str().unwrap_or_default();
        assert!(
            message.starts_with(" \"\" is invalid: patch: Invalid value: \"{")
                && message.ends_with(&format!("\": {go_err}")),
            "{ct}: {message}"
        );
        assert_eq!(got.1["details"]["causes"][0]["field"], "patch", "{ct}");
    }

    let smp = json!({"spec": {"replicas": "three"}});
    let got = c.request(
        "PATCH",
        &path,
        Some("application/strategic-merge-patch+json"),
        Some(&serde_json::to_vec(&smp).expect("json")),
    );
    assert_eq!(got.0, 422, "{}", got.1);
    assert_eq!(
        got.1["message"],
        " \"\" is invalid: patch: Invalid value: \"map[spec:map[replicas:three]]\": unrecognized type: int32"
    );

    // Nothing was written by any of them.
    let (_, now) = c.request("GET", &path, None, None);
    assert_eq!(now["spec"]["replicas"], 2);
    assert_eq!(now["metadata"]["resourceVersion"], rv);

    // kubectl patch shows the server's words.
    let (ok, _, err) = c.kubectl(&[
        "patch",
        "deployment",
        "web",
        "--type=merge",
        "-p",
        r#"{"spec":{"replicas":"x"}}"#,
    ]);
    assert!(!ok);
    assert!(err.contains(go_err), "{err}");
}

#[test]
fn kubectl_create_of_a_mistyped_manifest_reports_the_decode_error() {
    let c = ApiCluster::start();
    let manifest = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: typo
spec:
  replicas: \"three\"
  selector:
    matchLabels: {app: typo}
  template:
    metadata:
      labels: {app: typo}
    spec:
      containers:
      - name: c
        image: nginx
";
    let (ok, _, err) = c.kubectl_stdin(&["create", "-f", "-"], manifest);
    assert!(!ok);
    assert_eq!(
        err.trim(),
        "Error from server (BadRequest): error when creating \"STDIN\": Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"
    );
    let (found, _, _) = c.kubectl(&["get", "deployment", "typo"]);
    assert!(!found, "nothing stored");
}

#[test]
fn events_k8s_io_field_selectors_through_kubectl() {
    let c = ApiCluster::start();
    for (name, pod, reason, kind) in [
        ("e1", "web", "Started", "Normal"),
        ("e2", "db", "BackOff", "Warning"),
    ] {
        let ev = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": {"name": name},
            "eventTime": "2026-11-22T10:00:00.000000Z",
            "reportingController": "example.com/ctl", "reportingInstance": "ctl-1",
            "action": "Run", "reason": reason, "type": kind, "note": "n",
            "regarding": {"kind": "Pod", "namespace": "default", "name": pod, "apiVersion": "v1"}});
        let got = c.request(
            "POST",
            "/apis/events.k8s.io/v1/namespaces/default/events",
            J,
            Some(&serde_json::to_vec(&ev).expect("json")),
        );
        assert_eq!(got.0, 201, "{}", got.1);
    }
    let names = |selector: &str| {
        c.kubectl_ok(&[
            "get",
            "events.v1.events.k8s.io",
            "--field-selector",
            selector,
            "-o",
            "jsonpath={.items[*].metadata.name}",
        ])
    };
    assert_eq!(names("regarding.name=web").trim(), "e1");
    assert_eq!(names("regarding.name!=web").trim(), "e2");
    assert_eq!(names("regarding.kind=Pod,type=Warning").trim(), "e2");
    assert_eq!(names("reason=Started").trim(), "e1");
    assert_eq!(names("reportingController=example.com/ctl").trim(), "e1 e2");
    // The core group keeps its own spellings.
    assert_eq!(
        c.kubectl_ok(&[
            "get",
            "events",
            "--field-selector",
            "involvedObject.name=db",
            "-o",
            "jsonpath={.items[*].metadata.name}",
        ])
        .trim(),
        "e2"
    );
    let (ok, _, err) = c.kubectl(&[
        "get",
        "events.v1.events.k8s.io",
        "--field-selector",
        "involvedObject.name=db",
    ]);
    assert!(!ok);
    assert!(
        err.contains("field label not supported: involvedObject.name"),
        "{err}"
    );
}
