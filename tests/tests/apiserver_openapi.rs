//! The OpenAPI documents through the real binaries: `kubectl explain`
//! reads /openapi/v3, `kubectl create` of a manifest with an unknown field
//! gets the server's strict-decoding error, /openapi/v2 answers in JSON and
//! protobuf with the same definitions, and documents revalidate with ETags.

use harness::apiserver::ApiCluster;
use serde_json::Value;
use std::process::Command;

/// A raw GET as the admin with extra headers; (status, headers, body).
fn get(c: &ApiCluster, path: &str, headers: &[&str]) -> (u16, String, Vec<u8>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let head = dir.path().join("headers");
    let mut cmd = Command::new("curl");
    cmd.arg("-sS")
        .arg("--max-time")
        .arg("30")
        .arg("--cacert")
        .arg(c.pki.ca())
        .arg("--cert")
        .arg(c.pki.cert("admin"))
        .arg("--key")
        .arg(c.pki.key("admin"))
        .arg("-D")
        .arg(&head);
    for h in headers {
        cmd.arg("-H").arg(h);
    }
    let out = cmd
        .arg(format!("{}{}", c.url, path))
        .output()
        .expect("curl runs");
    let headers = std::fs::read_to_string(&head).unwrap_or_default();
    let code = headers
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (code, headers, out.stdout)
}

fn header<'a>(headers: &'a str, name: &str) -> Option<&'a str> {
    headers.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

#[test]
fn kubectl_explain_reads_the_served_schemas() {
    let c = ApiCluster::start();

    let out = c.kubectl_ok(&["explain", "pod.spec.containers"]);
    for want in [
        "KIND:       Pod",
        "VERSION:    v1",
        "FIELD: containers <[]Container>",
        "List of containers belonging to the pod.",
        "A single application container that you want to run within a pod.",
        "image\t<string>",
        "name\t<string> -required-",
        "ports\t<[]ContainerPort>",
        "resources\t<ResourceRequirements>",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }

    let out = c.kubectl_ok(&["explain", "pod.spec", "--recursive"]);
    for want in [
        "containers\t<[]Container> -required-",
        "    containerPort\t<integer> -required-",
        "    readinessProbe\t<Probe>",
        "  volumes\t<[]Volume>",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }

    let out = c.kubectl_ok(&["explain", "deployments", "--api-version=apps/v1"]);
    for want in [
        "GROUP:      apps",
        "KIND:       Deployment",
        "VERSION:    v1",
        "Deployment enables declarative updates for Pods and ReplicaSets.",
        "spec\t<DeploymentSpec>",
        "status\t<DeploymentStatus>",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }

    let out = c.kubectl_ok(&["explain", "hpa.spec", "--api-version=autoscaling/v2"]);
    assert!(out.contains("metrics\t<[]MetricSpec>"), "{out}");

    // `metadata` is never required (k8s-openapi's Rust types say otherwise).
    let out = c.kubectl_ok(&["explain", "pods"]);
    assert!(out.contains("metadata\t<ObjectMeta>\n"), "{out}");

    // The v2 form: kubectl fetches /openapi/v2 as gnostic protobuf.
    let out = c.kubectl_ok(&[
        "explain",
        "pods.spec.containers",
        "--output=plaintext-openapiv2",
    ]);
    for want in [
        "RESOURCE: containers <[]Object>",
        "List of containers belonging to the pod.",
        "   image\t<string>",
        "   name\t<string> -required-",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
}

#[test]
fn kubectl_create_with_an_unknown_field_gets_strict_decoding_error() {
    let c = ApiCluster::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("x.yaml");
    std::fs::write(
        &file,
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  foo: bar
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx
"#,
    )
    .expect("write manifest");
    let path = file.display().to_string();
    let (ok, out, err) = c.kubectl(&["create", "-f", &path]);
    assert!(!ok, "create succeeded:\n{out}");
    let want = format!(
        "Error from server (BadRequest): error when creating \"{path}\": Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: unknown field \"spec.foo\""
    );
    assert!(err.contains(&want), "want {want:?}, got:\n{err}");
    let (ok, _, _) = c.kubectl(&["get", "deployment", "web"]);
    assert!(!ok, "nothing was created");
}

#[test]
fn openapi_v2_in_json_and_protobuf_with_etags() {
    let c = ApiCluster::start();

    let (code, headers, body) = get(&c, "/openapi/v2", &["Accept: application/json"]);
    assert_eq!(code, 200, "{headers}");
    let doc: Value = serde_json::from_slice(&body).expect("v2 is JSON");
    assert_eq!(doc["swagger"], "2.0");
    let definitions = doc["definitions"].as_object().expect("definitions");
    // Every kind that discovery serves has a definition with its GVK.
    let gvks: Vec<(String, String, String)> = definitions
        .values()
        .filter_map(|d| d["x-kubernetes-group-version-kind"].as_array())
        .flatten()
        .map(|g| {
            let s = |k: &str| g[k].as_str().unwrap_or_default().to_string();
            (s("group"), s("version"), s("kind"))
        })
        .collect();
    let groups = c.kubectl_ok(&["api-resources", "-o", "wide", "--no-headers"]);
    let mut kinds = 0;
    for line in groups.lines() {
        let cols: Vec<&str> = line.split_whitespace().collect();
        // NAME [SHORTNAMES] APIVERSION NAMESPACED KIND VERBS...
        let Some(i) = cols.iter().position(|c| *c == "true" || *c == "false") else {
            continue;
        };
        let api_version = cols[i - 1];
        let kind = cols[i + 1];
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        assert!(
            gvks.contains(&(group.to_string(), version.to_string(), kind.to_string())),
            "no definition for {api_version} {kind}"
        );
        kinds += 1;
    }
    assert!(kinds >= 40, "only {kinds} kinds in api-resources");
    assert!(
        doc["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["get"]["x-kubernetes-action"]
            == "get"
    );

    // ETag and If-None-Match.
    let etag = header(&headers, "etag").expect("ETag").to_string();
    let (code, _, empty) = get(&c, "/openapi/v2", &[&format!("If-None-Match: {etag}")]);
    assert_eq!(code, 304);
    assert!(empty.is_empty());

    // gzip when accepted (kubectl's Go transport asks for it).
    let (code, headers, zipped) = get(&c, "/openapi/v2", &["Accept-Encoding: gzip"]);
    assert_eq!(code, 200);
    assert_eq!(header(&headers, "content-encoding"), Some("gzip"));
    assert!(
        zipped.len() * 4 < body.len(),
        "{} vs {}",
        zipped.len(),
        body.len()
    );

    // Protobuf: the same definitions.
    let (code, headers, body) = get(
        &c,
        "/openapi/v2",
        &["Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf"],
    );
    assert_eq!(code, 200);
    assert_eq!(
        header(&headers, "content-type"),
        Some("application/com.github.proto-openapi.spec.v2.v1.0+protobuf")
    );
    let proto = apiserver::openapi::proto::decode(&body).expect("protobuf decodes");
    let proto_defs = proto
        .definitions
        .expect("definitions")
        .additional_properties;
    assert_eq!(proto_defs.len(), definitions.len());
    assert!(
        proto_defs
            .iter()
            .any(|d| d.name == "io.k8s.api.apps.v1.Deployment")
    );
}

#[test]
fn openapi_v3_documents_carry_hashes_and_cache_headers() {
    let c = ApiCluster::start();
    let (code, _, body) = get(&c, "/openapi/v3", &[]);
    assert_eq!(code, 200);
    let root: Value = serde_json::from_slice(&body).expect("root JSON");
    let url = root["paths"]["apis/apps/v1"]["serverRelativeURL"]
        .as_str()
        .expect("apps/v1 listed")
        .to_string();
    let hash = url.split("hash=").nth(1).expect("hash").to_string();

    let (code, headers, body) = get(&c, &url, &[]);
    assert_eq!(code, 200);
    assert_eq!(header(&headers, "cache-control"), Some("public, immutable"));
    assert_eq!(
        header(&headers, "etag"),
        Some(format!("\"{hash}\"").as_str())
    );
    let doc: Value = serde_json::from_slice(&body).expect("apps/v1 JSON");
    let dep = &doc["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"];
    assert_eq!(
        dep["properties"]["spec"]["allOf"][0]["$ref"],
        "#/components/schemas/io.k8s.api.apps.v1.DeploymentSpec"
    );

    let (code, headers, _) = get(&c, "/openapi/v3/apis/apps/v1?hash=STALE", &[]);
    assert_eq!(code, 301);
    assert_eq!(header(&headers, "location"), Some(url.as_str()));

    let (code, _, _) = get(
        &c,
        "/openapi/v3/apis/apps/v1",
        &[&format!("If-None-Match: \"{hash}\"")],
    );
    assert_eq!(code, 304);
    let (code, _, _) = get(&c, "/openapi/v3/apis/nope/v1", &[]);
    assert_eq!(code, 404);
}

#[test]
fn kubectl_apply_builds_strategic_patches_from_the_served_schema() {
    let c = ApiCluster::start();
    let first = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx
        env: [{name: A, value: a}, {name: B, value: b}]
      - name: side
        image: busybox
"#;
    let (ok, _, err) = c.kubectl_stdin(&["apply", "-f", "-"], first);
    assert!(ok, "{err}");
    let second = first
        .replace("{name: A, value: a}, ", "")
        .replace("image: busybox", "image: busybox:2");
    let (ok, _, err) = c.kubectl_stdin(&["apply", "-v=8", "-f", "-"], &second);
    assert!(ok, "{err}");
    // The patch kubectl computed names list elements by their merge keys,
    // which it only knows from our /openapi/v3 schema.
    let patch = err
        .lines()
        .find(|l| l.contains("Request Body") && l.contains("setElementOrder"))
        .unwrap_or_else(|| panic!("no strategic patch in:\n{err}"));
    assert!(
        patch.contains(
            r#"\"$setElementOrder/containers\":[{\"name\":\"web\"},{\"name\":\"side\"}]"#
        ),
        "{patch}"
    );
    assert!(
        patch.contains(r#"\"$patch\":\"delete\",\"name\":\"A\""#),
        "{patch}"
    );
    let out = c.kubectl_ok(&[
        "get",
        "deploy",
        "web",
        "-o",
        "jsonpath={.spec.template.spec.containers[*].image} {.spec.template.spec.containers[0].env[*].name}",
    ]);
    assert_eq!(out, "nginx busybox:2 B");

    // An unknown field in an applied manifest: the same strict error.
    let bad = second.replace("spec:\n  selector", "spec:\n  foo: 1\n  selector");
    let (ok, _, err) = c.kubectl_stdin(
        &["apply", "-f", "-"],
        &bad.replace("name: web\nspec", "name: web2\nspec"),
    );
    assert!(!ok);
    assert!(
        err.contains(r#"Error from server (BadRequest): error when creating "STDIN": Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.foo""#),
        "{err}"
    );
}
