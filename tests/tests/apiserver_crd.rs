//! CustomResourceDefinitions through the real kube-apiserver, etcd and
//! kubectl: Istio's VirtualService and DestinationRule CRDs with the seed's
//! manifests, then a CRD with a structural schema (validation, pruning,
//! defaults, printer columns, status and scale subresources, versions,
//! watch, RBAC) and the deletion of a CRD with its objects.

use harness::apiserver::ApiCluster;
use harness::bins;
use harness::process::{run, wait_until};
use serde_json::Value;
use std::process::Command;
use std::time::Duration;

#[path = "apiserver_crd/manifests.rs"]
mod manifests;
use manifests::*;

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

fn apply(c: &ApiCluster, manifest: &str) -> String {
    let (ok, out, err) = c.kubectl_stdin(&["apply", "-f", "-"], manifest);
    assert!(
        ok,
        "apply failed:\n{out}\n{err}\n{}",
        c.apiserver.log_tail(20)
    );
    out
}

fn wait_established(c: &ApiCluster, crd: &str) {
    c.kubectl_ok(&[
        "wait",
        "--for=condition=established",
        "--timeout=30s",
        &format!("crd/{crd}"),
    ]);
}

/// `etcdctl get <key> --print-value-only` as the apiserver's etcd client.
fn etcd_get(c: &ApiCluster, key: &str) -> String {
    let (_, out, _) = run(Command::new(bins::system("etcdctl"))
        .env("ETCDCTL_API", "3")
        .arg(format!("--endpoints={}", c.etcd.client_url))
        .arg(format!("--cacert={}", c.pki.ca().display()))
        .arg(format!(
            "--cert={}",
            c.pki.cert("apiserver-etcd-client").display()
        ))
        .arg(format!(
            "--key={}",
            c.pki.key("apiserver-etcd-client").display()
        ))
        .args(["get", key, "--print-value-only"]));
    out
}

/// `GET /apis` as aggregated discovery (v2), as kubectl asks for it.
fn aggregated_apis(c: &ApiCluster) -> Value {
    let (ok, out, err) = run(Command::new(bins::system("curl"))
        .args(["-sS", "--max-time", "15", "--cacert"])
        .arg(c.pki.ca())
        .arg("--cert")
        .arg(c.pki.cert("admin"))
        .arg("--key")
        .arg(c.pki.key("admin"))
        .args([
            "-H",
            "Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
        ])
        .arg(format!("{}/apis", c.url)));
    assert!(ok, "{err}");
    json(&out)
}

#[test]
fn istio_crds_serve_the_seed_virtualservice_and_destinationrule() {
    let c = ApiCluster::start();
    let out = apply(&c, ISTIO_CRDS);
    assert!(out.contains("customresourcedefinition.apiextensions.k8s.io/virtualservices.networking.istio.io created"), "{out}");
    wait_established(&c, "virtualservices.networking.istio.io");
    wait_established(&c, "destinationrules.networking.istio.io");

    // The CRD's status as upstream sets it.
    let crd = json(&c.kubectl_ok(&[
        "get",
        "crd",
        "virtualservices.networking.istio.io",
        "-o",
        "json",
    ]));
    let conds: Vec<(String, String)> = crd["status"]["conditions"]
        .as_array()
        .expect("conditions")
        .iter()
        .map(|c| {
            (
                c["type"].as_str().unwrap_or("").into(),
                c["status"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    assert!(
        conds.contains(&("NamesAccepted".into(), "True".into())),
        "{conds:?}"
    );
    assert!(
        conds.contains(&("Established".into(), "True".into())),
        "{conds:?}"
    );
    assert_eq!(
        crd["status"]["acceptedNames"]["shortNames"],
        serde_json::json!(["vs"])
    );
    assert_eq!(
        crd["status"]["storedVersions"],
        serde_json::json!(["v1alpha3"])
    );
    assert_eq!(
        crd["metadata"]["finalizers"],
        serde_json::json!(["customresourcecleanup.apiextensions.k8s.io"])
    );

    // The seed's manifests.
    let out = apply(&c, SEED_DESTINATION_RULE);
    assert!(
        out.contains("destinationrule.networking.istio.io/flaskapp created"),
        "{out}"
    );
    let out = apply(&c, SEED_VIRTUAL_SERVICE);
    assert!(
        out.contains("virtualservice.networking.istio.io/flaskapp created"),
        "{out}"
    );

    // Printer columns, full name and short name.
    let table = c.kubectl_ok(&["get", "virtualservices"]);
    let header: Vec<&str> = table
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    assert_eq!(header, vec!["NAME", "GATEWAYS", "HOSTS", "AGE"], "{table}");
    assert!(
        table.contains(r#"["flaskapp.default.svc.cluster.local"]"#),
        "{table}"
    );
    assert!(
        c.kubectl_ok(&["get", "vs", "-o", "name"])
            .contains("virtualservice.networking.istio.io/flaskapp")
    );
    let dr = c.kubectl_ok(&["get", "dr"]);
    assert!(dr.lines().next().unwrap_or("").starts_with("NAME"), "{dr}");
    assert!(
        dr.contains("HOST") && dr.contains("flaskapp.default.svc.cluster.local"),
        "{dr}"
    );
    // The category lists both kinds.
    let cat = c.kubectl_ok(&["get", "istio-io", "-o", "name"]);
    assert!(
        cat.contains("virtualservice.networking.istio.io/flaskapp"),
        "{cat}"
    );
    assert!(
        cat.contains("destinationrule.networking.istio.io/flaskapp"),
        "{cat}"
    );

    // Discovery: api-resources and the group-version document.
    let res = c.kubectl_ok(&["api-resources", "--api-group=networking.istio.io"]);
    let vs_line = res
        .lines()
        .find(|l| l.starts_with("virtualservices"))
        .unwrap_or("");
    let cols: Vec<&str> = vs_line.split_whitespace().collect();
    assert_eq!(
        cols,
        vec![
            "virtualservices",
            "vs",
            "networking.istio.io/v1alpha3",
            "true",
            "VirtualService"
        ],
        "{res}"
    );
    assert!(res.contains("destinationrules"), "{res}");
    let (code, gv) = c.request("GET", "/apis/networking.istio.io/v1alpha3", None, None);
    assert_eq!(code, 200, "{gv}");
    let names: Vec<&str> = gv["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert!(names.contains(&"virtualservices/status"), "{names:?}");
    let agg = aggregated_apis(&c);
    let istio = agg["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|g| g["metadata"]["name"] == "networking.istio.io")
        .cloned()
        .unwrap_or(Value::Null);
    let vs_res = istio["versions"][0]["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["resource"] == "virtualservices")
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(istio["versions"][0]["version"], "v1alpha3", "{agg}");
    assert_eq!(vs_res["shortNames"], serde_json::json!(["vs"]), "{istio}");
    assert_eq!(
        vs_res["categories"],
        serde_json::json!(["istio-io", "networking-istio-io"])
    );
    assert_eq!(vs_res["scope"], "Namespaced");
    assert_eq!(vs_res["responseKind"]["kind"], "VirtualService");
    assert_eq!(vs_res["verbs"].as_array().map(Vec::len), Some(8));
    assert_eq!(vs_res["subresources"][0]["subresource"], "status");
    let (code, group) = c.request("GET", "/apis/networking.istio.io", None, None);
    assert_eq!(
        (code, group["preferredVersion"]["version"].as_str()),
        (200, Some("v1alpha3"))
    );

    // The stored object is the seed's, unchanged.
    let vs = json(&c.kubectl_ok(&["get", "vs", "flaskapp", "-o", "json"]));
    assert_eq!(
        vs["spec"]["http"][0]["route"][0]["destination"]["subset"],
        "v1"
    );
    assert_eq!(vs["metadata"]["generation"], 1);
    let stored = etcd_get(
        &c,
        "/registry/networking.istio.io/virtualservices/default/flaskapp",
    );
    assert!(
        stored.contains("\"apiVersion\":\"networking.istio.io/v1alpha3\""),
        "{stored}"
    );

    // The seed's traffic split updates it.
    let out = apply(&c, SEED_VIRTUAL_SERVICE_SPLIT);
    assert!(
        out.contains("virtualservice.networking.istio.io/flaskapp configured"),
        "{out}"
    );
    let vs = json(&c.kubectl_ok(&["get", "vs", "flaskapp", "-o", "json"]));
    assert_eq!(vs["spec"]["http"][0]["route"][0]["weight"], 70);
    assert_eq!(
        vs["spec"]["http"][0]["route"][1]["destination"]["subset"],
        "v2"
    );
    assert_eq!(vs["metadata"]["generation"], 2);

    // Patches: strategic merge is refused (415), merge and JSON patches work.
    let (ok, _, err) = c.kubectl(&[
        "patch",
        "vs",
        "flaskapp",
        "-p",
        r#"{"spec":{"gateways":["mesh"]}}"#,
    ]);
    assert!(!ok);
    assert!(err.contains("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"), "{err}");
    c.kubectl_ok(&[
        "patch",
        "vs",
        "flaskapp",
        "--type=merge",
        "-p",
        r#"{"spec":{"gateways":["mesh"]}}"#,
    ]);
    c.kubectl_ok(&[
        "patch",
        "vs",
        "flaskapp",
        "--type=json",
        "-p",
        r#"[{"op":"add","path":"/metadata/labels","value":{"tier":"canary"}}]"#,
    ]);
    let table = c.kubectl_ok(&["get", "vs", "-l", "tier=canary"]);
    assert!(table.contains(r#"["mesh"]"#), "{table}");
    assert!(
        c.kubectl_ok(&["get", "vs", "-l", "tier=stable", "-o", "name"])
            .trim()
            .is_empty()
    );
    let by_name = c.kubectl_ok(&[
        "get",
        "vs",
        "--field-selector=metadata.name=flaskapp",
        "-o",
        "name",
    ]);
    assert_eq!(
        by_name.trim(),
        "virtualservice.networking.istio.io/flaskapp"
    );
    let other_ns = c.kubectl_ok(&[
        "get",
        "vs",
        "--field-selector=metadata.namespace=kube-system",
        "-A",
        "-o",
        "name",
    ]);
    assert!(other_ns.trim().is_empty(), "{other_ns}");

    // Deleting the CRD deletes its objects, then the CRD.
    c.kubectl_ok(&[
        "delete",
        "crd",
        "virtualservices.networking.istio.io",
        "--timeout=60s",
    ]);
    let (ok, _, _) = c.kubectl(&["get", "crd", "virtualservices.networking.istio.io"]);
    assert!(!ok, "the CRD is gone");
    assert!(
        etcd_get(
            &c,
            "/registry/networking.istio.io/virtualservices/default/flaskapp"
        )
        .trim()
        .is_empty()
    );
    let gone = wait_until(Duration::from_secs(10), || {
        c.request(
            "GET",
            "/apis/networking.istio.io/v1alpha3/namespaces/default/virtualservices",
            None,
            None,
        )
        .0 == 404
    });
    assert!(gone, "virtualservices still served");
    // The other CRD and its object stay.
    assert!(
        c.kubectl_ok(&["get", "dr", "-o", "name"])
            .contains("flaskapp")
    );
}

#[test]
fn structural_schema_validates_prunes_defaults_and_serves_subresources() {
    let c = ApiCluster::start();
    apply(&c, WIDGETS_CRD);
    wait_established(&c, "widgets.example.com");

    // A bad object: 422 with upstream's field paths.
    let bad = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: bad}\nspec: {size: medium, replicas: -1, color: Blue, ports: [1, 2, 3]}\n";
    let (ok, _, err) = c.kubectl_stdin(&["apply", "-f", "-"], bad);
    assert!(!ok);
    for want in [
        r#"spec.size: Unsupported value: "medium": supported values: "small", "large""#,
        "spec.replicas: Invalid value: -1: spec.replicas in body should be greater than or equal to 0",
        r#"spec.color: Invalid value: "Blue": spec.color in body should match '^[a-z]+$'"#,
        "spec.ports: Too many: 3: must have at most 2 items",
    ] {
        assert!(err.contains(want), "missing {want:?} in:\n{err}");
    }
    let body = br#"{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"bad"},"spec":{"color":"red"}}"#;
    let (code, status) = c.request(
        "POST",
        "/apis/example.com/v1/namespaces/default/widgets",
        Some("application/json"),
        Some(body),
    );
    assert_eq!(code, 422, "{status}");
    assert_eq!(status["reason"], "Invalid");
    assert_eq!(status["details"]["causes"][0]["field"], "spec.size");
    assert_eq!(
        status["details"]["causes"][0]["reason"],
        "FieldValueRequired"
    );

    // Strict field validation (kubectl's default) refuses an unknown field;
    // without it the field is pruned.
    let unknown = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w0}\nspec: {size: large, bogus: 1}\n";
    let (ok, _, err) = c.kubectl_stdin(&["apply", "-f", "-"], unknown);
    assert!(!ok);
    assert!(err.contains(r#"unknown field "spec.bogus""#), "{err}");
    let (ok, out, err) = c.kubectl_stdin(&["apply", "--validate=false", "-f", "-"], unknown);
    assert!(ok, "{out}{err}");
    let w0 = json(&c.kubectl_ok(&["get", "widget", "w0", "-o", "json"]));
    assert!(w0["spec"].get("bogus").is_none(), "{w0}");
    // Defaults applied.
    assert_eq!(w0["spec"]["replicas"], 1);

    // Status on create is dropped (status subresource); printer columns.
    apply(&c, GOOD_WIDGET);
    let w1 = json(&c.kubectl_ok(&["get", "wd", "w1", "-o", "json"]));
    assert!(w1.get("status").is_none(), "{w1}");
    assert_eq!(w1["metadata"]["generation"], 1);
    let table = c.kubectl_ok(&["get", "widgets"]);
    let lines: Vec<Vec<&str>> = table
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(lines[0], vec!["NAME", "REPLICAS", "SIZE"], "{table}");
    assert!(
        lines
            .iter()
            .any(|l| l.len() == 3 && l[0] == "w1" && l[1] == "1" && l[2] == "small"),
        "{table}"
    );
    let wide = c.kubectl_ok(&["get", "widgets", "-o", "wide"]);
    assert!(
        wide.lines().next().unwrap_or("").contains("COLOR"),
        "{wide}"
    );
    assert!(wide.contains("blue"), "{wide}");

    // Status subresource: writes go through /status only.
    let mut with_status = w1.clone();
    with_status["status"] = serde_json::json!({"replicas": 1, "selector": "app=w1"});
    let (code, body) = c.request(
        "PUT",
        "/apis/example.com/v1/namespaces/default/widgets/w1/status",
        Some("application/json"),
        Some(&serde_json::to_vec(&with_status).expect("json")),
    );
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["status"]["replicas"], 1);
    // Status writes are validated and pruned against the schema too.
    let mut bad_status = body.clone();
    bad_status["status"]["replicas"] = serde_json::json!("many");
    let (code, st) = c.request(
        "PUT",
        "/apis/example.com/v1/namespaces/default/widgets/w1/status",
        Some("application/json"),
        Some(&serde_json::to_vec(&bad_status).expect("json")),
    );
    assert_eq!(code, 422, "{st}");
    assert_eq!(st["details"]["causes"][0]["field"], "status.replicas");
    let (code, st) = c.request(
        "PATCH",
        "/apis/example.com/v1/namespaces/default/widgets/w1/status",
        Some("application/merge-patch+json"),
        Some(br#"{"status":{"extra":"x"}}"#),
    );
    assert_eq!(code, 200, "{st}");
    assert!(st["status"].get("extra").is_none(), "{st}");
    let mut main = json(&c.kubectl_ok(&["get", "wd", "w1", "-o", "json"]));
    main["status"]["replicas"] = serde_json::json!(7);
    main["spec"]["color"] = serde_json::json!("green");
    let (code, body) = c.request(
        "PUT",
        "/apis/example.com/v1/namespaces/default/widgets/w1",
        Some("application/json"),
        Some(&serde_json::to_vec(&main).expect("json")),
    );
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        body["status"]["replicas"], 1,
        "status ignored on the main resource"
    );
    assert_eq!(body["spec"]["color"], "green");
    assert_eq!(body["metadata"]["generation"], 2);

    // Scale subresource through kubectl scale.
    let out = c.kubectl_ok(&["scale", "widget", "w1", "--replicas=3"]);
    assert!(out.contains("widget.example.com/w1 scaled"), "{out}");
    let (code, scale) = c.request(
        "GET",
        "/apis/example.com/v1/namespaces/default/widgets/w1/scale",
        None,
        None,
    );
    assert_eq!(code, 200, "{scale}");
    assert_eq!(scale["kind"], "Scale");
    assert_eq!(scale["spec"]["replicas"], 3);
    assert_eq!(scale["status"]["replicas"], 1);
    assert_eq!(scale["status"]["selector"], "app=w1");
    let w1 = json(&c.kubectl_ok(&["get", "wd", "w1", "-o", "json"]));
    assert_eq!(w1["spec"]["replicas"], 3);
    assert_eq!(w1["metadata"]["generation"], 3);

    // Two versions: served at each, stored at the storage version.
    let (code, beta) = c.request(
        "GET",
        "/apis/example.com/v1beta1/namespaces/default/widgets/w1",
        None,
        None,
    );
    assert_eq!(code, 200, "{beta}");
    assert_eq!(beta["apiVersion"], "example.com/v1beta1");
    let beta_obj = "apiVersion: example.com/v1beta1\nkind: Widget\nmetadata: {name: w2}\nspec: {anything: goes}\n";
    let (ok, out, err) = c.kubectl_stdin(&["create", "-f", "-"], beta_obj);
    assert!(ok, "{out}{err}");
    let stored = etcd_get(&c, "/registry/example.com/widgets/default/w2");
    assert!(
        stored.contains("\"apiVersion\":\"example.com/v1\""),
        "{stored}"
    );
    let (_, v1) = c.request(
        "GET",
        "/apis/example.com/v1/namespaces/default/widgets/w2",
        None,
        None,
    );
    assert_eq!(v1["apiVersion"], "example.com/v1");

    // Watch: an ADDED event for a new object.
    let (_, list) = c.request(
        "GET",
        "/apis/example.com/v1/namespaces/default/widgets",
        None,
        None,
    );
    let rv = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or("0")
        .to_string();
    apply(
        &c,
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w3}\nspec: {size: large}\n",
    );
    let (code, stream) = c.request(
        "GET",
        &format!("/apis/example.com/v1/namespaces/default/widgets?watch=1&resourceVersion={rv}&timeoutSeconds=2"),
        None,
        None,
    );
    assert_eq!(code, 200);
    let text = match &stream {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let ev: Vec<Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert!(
        ev.iter()
            .any(|e| e["type"] == "ADDED" && e["object"]["metadata"]["name"] == "w3"),
        "{text}"
    );

    // RBAC: a user needs a rule for the group and plural.
    let (ok, _, err) = c.kubectl_as("kube-proxy", &["get", "widgets"]);
    assert!(!ok);
    assert!(err.contains(r#"widgets.example.com is forbidden: User "system:kube-proxy" cannot list resource "widgets" in API group "example.com""#), "{err}");
    c.kubectl_ok(&[
        "create",
        "clusterrole",
        "widget-reader",
        "--verb=get,list",
        "--resource=widgets.example.com",
    ]);
    c.kubectl_ok(&[
        "create",
        "clusterrolebinding",
        "widget-reader",
        "--clusterrole=widget-reader",
        "--user=system:kube-proxy",
    ]);
    let allowed = wait_until(Duration::from_secs(10), || {
        c.kubectl_as("kube-proxy", &["get", "widgets", "-o", "name"])
            .0
    });
    assert!(allowed, "RBAC rule for widgets not honoured");

    // Applying a changed CRD changes what is served (a new column).
    let updated = WIDGETS_CRD.replace(
        "    - {name: Color, type: string, jsonPath: .spec.color, priority: 1}\n",
        "    - {name: Color, type: string, jsonPath: .spec.color, priority: 1}\n    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}\n",
    );
    assert_ne!(updated, WIDGETS_CRD);
    let out = apply(&c, &updated);
    assert!(out.contains("widgets.example.com configured"), "{out}");
    let aged = wait_until(Duration::from_secs(10), || {
        let t = c.kubectl_ok(&["get", "widgets"]);
        t.lines()
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect::<Vec<_>>()
            == ["NAME", "REPLICAS", "SIZE", "AGE"]
    });
    assert!(aged, "the new printer column is not served");
    let crd = json(&c.kubectl_ok(&["get", "crd", "widgets.example.com", "-o", "json"]));
    assert_eq!(crd["metadata"]["generation"], 2);
    assert_eq!(crd["status"]["storedVersions"], serde_json::json!(["v1"]));

    // deletecollection and delete.
    c.kubectl_ok(&["delete", "widgets", "--all"]);
    assert!(
        c.kubectl_ok(&["get", "widgets", "-o", "name"])
            .trim()
            .is_empty()
    );
}

#[test]
fn invalid_crds_are_refused_with_field_paths() {
    let mut c = ApiCluster::start();
    let bad = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.com}
spec:
  group: example.com
  names: {kind: Gadget, plural: gadgets}
  scope: Everywhere
  versions:
  - name: v1
    served: true
    storage: false
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {properties: {a: {type: string}}}
"#;
    let (ok, _, err) = c.kubectl_stdin(&["apply", "-f", "-"], bad);
    assert!(!ok);
    for want in [
        r#"spec.scope: Unsupported value: "Everywhere": supported values: "Cluster", "Namespaced""#,
        "must have exactly one version marked as storage version",
        "spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields",
    ] {
        assert!(err.contains(want), "missing {want:?} in:\n{err}");
    }
    // A cluster-scoped CRD serves its objects without namespaces.
    let good = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.com}
spec:
  group: example.com
  names: {kind: Gadget, plural: gadgets}
  scope: Cluster
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
"#;
    apply(&c, good);
    wait_established(&c, "gadgets.example.com");
    apply(
        &c,
        "apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g1}\nspec: {x: 1}\n",
    );
    let table = c.kubectl_ok(&["get", "gadgets"]);
    let header: Vec<&str> = table
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    assert_eq!(header, vec!["NAME", "AGE"], "{table}");
    let (code, _) = c.request("GET", "/apis/example.com/v1/gadgets/g1", None, None);
    assert_eq!(code, 200);
    let (code, _) = c.request(
        "GET",
        "/apis/example.com/v1/namespaces/default/gadgets/g1",
        None,
        None,
    );
    assert_eq!(code, 404);

    // A restarted apiserver serves the stored CRDs again.
    c.restart_apiserver();
    // Ready only once the stored CRDs are loaded.
    let (code, _) = c.request("GET", "/apis/example.com/v1/gadgets/g1", None, None);
    assert_eq!(
        code, 200,
        "gadgets not served as soon as the restarted apiserver is ready"
    );

    // An object's finalizer holds the CRD's deletion; meanwhile the CRD is
    // Terminating and new objects are refused.
    c.kubectl_ok(&[
        "patch",
        "gadget",
        "g1",
        "--type=merge",
        "-p",
        r#"{"metadata":{"finalizers":["example.com/hold"]}}"#,
    ]);
    c.kubectl_ok(&["delete", "crd", "gadgets.example.com", "--wait=false"]);
    let terminating = wait_until(Duration::from_secs(10), || {
        let (_, crd) = c.request(
            "GET",
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.example.com",
            None,
            None,
        );
        crd["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["type"] == "Terminating" && c["status"] == "True")
    });
    assert!(terminating, "CRD not Terminating");
    let (code, st) = c.request(
        "POST",
        "/apis/example.com/v1/gadgets",
        Some("application/json"),
        Some(br#"{"apiVersion":"example.com/v1","kind":"Gadget","metadata":{"name":"g2"}}"#),
    );
    assert_eq!(code, 405, "{st}");
    assert_eq!(
        st["message"],
        "create not allowed while custom resource definition is terminating"
    );
    let (_, g1) = c.request("GET", "/apis/example.com/v1/gadgets/g1", None, None);
    assert!(g1["metadata"]["deletionTimestamp"].is_string(), "{g1}");
    c.kubectl_ok(&[
        "patch",
        "gadget",
        "g1",
        "--type=merge",
        "-p",
        r#"{"metadata":{"finalizers":null}}"#,
    ]);
    let gone = wait_until(Duration::from_secs(20), || {
        !c.kubectl(&["get", "crd", "gadgets.example.com"]).0
    });
    assert!(gone, "CRD not deleted after its last object went");
}
