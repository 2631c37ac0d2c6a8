//! kube-apiserver's REST semantics through raw HTTPS: status codes and
//! reasons for bad input, conflicts, paging, watches, etcd outages.

use harness::apiserver::ApiCluster;
use serde_json::{Value, json};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CM: &str = "/api/v1/namespaces/default/configmaps";

fn cm(name: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}}))
        .expect("json")
}

fn assert_status(got: &(u16, Value), code: u16, reason: &str) {
    assert_eq!(got.0, code, "{}", got.1);
    assert_eq!(got.1["kind"], "Status", "{}", got.1);
    assert_eq!(got.1["reason"], reason, "{}", got.1);
    assert_eq!(got.1["code"], code, "{}", got.1);
}

fn exists(c: &ApiCluster, name: &str) -> bool {
    c.request("GET", &format!("{CM}/{name}"), None, None).0 == 200
}

#[test]
fn bad_input_gets_upstream_codes_and_nothing_is_stored() {
    let c = ApiCluster::start();
    let j = Some("application/json");

    // Duplicate create → 409 AlreadyExists.
    assert_eq!(c.request("POST", CM, j, Some(&cm("a"))).0, 201);
    let dup = c.request("POST", CM, j, Some(&cm("a")));
    assert_status(&dup, 409, "AlreadyExists");
    assert_eq!(dup.1["message"], "configmaps \"a\" already exists");

    // Stale resourceVersion on update → 409 Conflict with upstream's text.
    let (_, cur) = c.request("GET", &format!("{CM}/a"), None, None);
    let mut v1 = cur.clone();
    v1["data"]["k"] = json!("v2");
    assert_eq!(
        c.request(
            "PUT",
            &format!("{CM}/a"),
            j,
            Some(&serde_json::to_vec(&v1).expect("json"))
        )
        .0,
        200
    );
    let mut stale = cur.clone();
    stale["data"]["k"] = json!("lost");
    let conflict = c.request(
        "PUT",
        &format!("{CM}/a"),
        j,
        Some(&serde_json::to_vec(&stale).expect("json")),
    );
    assert_status(&conflict, 409, "Conflict");
    assert_eq!(
        conflict.1["message"],
        "Operation cannot be fulfilled on configmaps \"a\": the object has been modified; please apply your changes to the latest version and try again"
    );
    assert_eq!(
        c.request("GET", &format!("{CM}/a"), None, None).1["data"]["k"],
        "v2"
    );

    // Malformed JSON and YAML → 400.
    assert_status(
        &c.request("POST", CM, j, Some(b"{\"metadata\": ")),
        400,
        "BadRequest",
    );
    assert_status(
        &c.request("POST", CM, Some("application/yaml"), Some(b"metadata: [")),
        400,
        "BadRequest",
    );
    // Unsupported media type → 415.
    assert_status(
        &c.request("POST", CM, Some("text/plain"), Some(b"hello")),
        415,
        "UnsupportedMediaType",
    );
    // Body over 3 MiB → 413.
    let mut big =
        br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"big"},"data":{"k":""#
            .to_vec();
    big.extend(std::iter::repeat_n(b'x', 3 * 1024 * 1024 + 10));
    big.extend(br#""}}"#);
    assert_status(
        &c.request("POST", CM, j, Some(&big)),
        413,
        "RequestEntityTooLarge",
    );
    assert!(!exists(&c, "big"));
    // Namespace in the body differs from the URL → 400.
    let other = serde_json::to_vec(&json!({"metadata": {"name": "x", "namespace": "kube-system"}}))
        .expect("json");
    assert_status(&c.request("POST", CM, j, Some(&other)), 400, "BadRequest");
    assert!(!exists(&c, "x"));
    // Name in the body differs from the URL → 400.
    assert_status(
        &c.request("PUT", &format!("{CM}/a"), j, Some(&cm("b"))),
        400,
        "BadRequest",
    );
    assert!(!exists(&c, "b"));
    // No name at all → 422 with a cause.
    let nameless = serde_json::to_vec(&json!({"metadata": {}})).expect("json");
    let invalid = c.request("POST", CM, j, Some(&nameless));
    assert_status(&invalid, 422, "Invalid");
    assert_eq!(invalid.1["details"]["causes"][0]["field"], "metadata.name");
    // Unknown resource → 404; unsupported verb → 405.
    assert_status(
        &c.request("GET", "/api/v1/namespaces/default/widgets", None, None),
        404,
        "NotFound",
    );
    assert_status(
        &c.request("GET", "/apis/apps/v9/deployments", None, None),
        404,
        "NotFound",
    );
    assert_status(
        &c.request("DELETE", "/api/v1/componentstatuses/etcd-0", None, None),
        405,
        "MethodNotAllowed",
    );
    // Missing object → 404 with details.
    let missing = c.request("GET", &format!("{CM}/nope"), None, None);
    assert_status(&missing, 404, "NotFound");
    assert_eq!(missing.1["message"], "configmaps \"nope\" not found");
    // Creating in a namespace that does not exist → 404.
    let r = c.request(
        "POST",
        "/api/v1/namespaces/ghost/configmaps",
        j,
        Some(&cm("g")),
    );
    assert_status(&r, 404, "NotFound");
}

#[test]
fn anonymous_and_unprivileged_requests_are_refused() {
    let c = ApiCluster::start();
    // Anonymous: 401 except health and version.
    assert_status(
        &c.request_as(None, "GET", "/api/v1/pods", None, None),
        401,
        "Unauthorized",
    );
    assert_eq!(c.request_as(None, "GET", "/readyz", None, None).0, 200);
    assert_eq!(c.request_as(None, "GET", "/version", None, None).0, 200);
    // kube-proxy may not create secrets → 403 with upstream's message.
    let body = serde_json::to_vec(&json!({"metadata": {"name": "s"}})).expect("json");
    let r = c.request_as(
        Some("kube-proxy"),
        "POST",
        "/api/v1/namespaces/default/secrets",
        Some("application/json"),
        Some(&body),
    );
    assert_status(&r, 403, "Forbidden");
    assert!(
        r.1["message"].as_str().is_some_and(|m| m.contains("User \"system:kube-proxy\" cannot create resource \"secrets\" in API group \"\" in the namespace \"default\"")),
        "{}",
        r.1
    );
    assert_eq!(
        c.request("GET", "/api/v1/namespaces/default/secrets/s", None, None)
            .0,
        404
    );
}

#[test]
fn lists_page_with_limit_and_continue() {
    let c = ApiCluster::start();
    for i in 0..7 {
        assert_eq!(
            c.request(
                "POST",
                CM,
                Some("application/json"),
                Some(&cm(&format!("c{i}")))
            )
            .0,
            201
        );
    }
    let mut names = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let path = if token.is_empty() {
            format!("{CM}?limit=3")
        } else {
            format!("{CM}?limit=3&continue={token}")
        };
        let (code, list) = c.request("GET", &path, None, None);
        assert_eq!(code, 200, "{list}");
        pages += 1;
        for i in list["items"].as_array().expect("items") {
            names.push(i["metadata"]["name"].as_str().expect("name").to_string());
        }
        match list["metadata"]["continue"].as_str() {
            Some(t) if !t.is_empty() => token = t.to_string(),
            _ => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(names, (0..7).map(|i| format!("c{i}")).collect::<Vec<_>>());
    // A garbage continue token is a 400.
    assert_eq!(
        c.request("GET", &format!("{CM}?limit=3&continue=zzz"), None, None)
            .0,
        400
    );
}

#[test]
fn watch_reports_added_modified_deleted() {
    let c = ApiCluster::start();
    let (_, list) = c.request("GET", CM, None, None);
    let rv = list["metadata"]["resourceVersion"]
        .as_str()
        .expect("list rv")
        .to_string();
    let watch = Command::new("curl")
        .args(["-sS", "-N", "--max-time", "20", "--cacert"])
        .arg(c.pki.ca())
        .arg("--cert")
        .arg(c.pki.cert("admin"))
        .arg("--key")
        .arg(c.pki.key("admin"))
        .arg(format!(
            "{}{CM}?watch=1&resourceVersion={rv}&timeoutSeconds=6",
            c.url
        ))
        .stdout(Stdio::piped())
        .spawn()
        .expect("curl");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        c.request("POST", CM, Some("application/json"), Some(&cm("w")))
            .0,
        201
    );
    let patch = br#"{"data":{"k":"changed"}}"#;
    assert_eq!(
        c.request(
            "PATCH",
            &format!("{CM}/w"),
            Some("application/merge-patch+json"),
            Some(patch)
        )
        .0,
        200
    );
    assert_eq!(c.request("DELETE", &format!("{CM}/w"), None, None).0, 200);
    let out = watch
        .wait_with_output()
        .expect("watch ends at timeoutSeconds");
    let events: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("event is JSON"))
        .collect();
    let types: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(types, vec!["ADDED", "MODIFIED", "DELETED"]);
    assert_eq!(events[1]["object"]["data"]["k"], "changed");
}

#[test]
fn etcd_down_answers_fast_with_a_status() {
    let mut c = ApiCluster::start();
    c.etcd.daemon.stop();
    let started = Instant::now();
    let r = c.request("GET", CM, None, None);
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "took {:?}",
        started.elapsed()
    );
    assert!(matches!(r.0, 503 | 504), "{r:?}");
    assert_eq!(r.1["kind"], "Status");
    let ready = c.request("GET", "/readyz", None, None);
    assert_eq!(ready.0, 500, "{ready:?}");
    assert!(
        ready
            .1
            .as_str()
            .is_some_and(|t| t.contains("[-]etcd failed")),
        "{ready:?}"
    );
}

fn service(name: &str, cluster_ip: Option<&str>, node_port: Option<u16>) -> Vec<u8> {
    let mut port = json!({"port": 80, "protocol": "TCP", "targetPort": 8080});
    let mut spec = json!({"selector": {"app": name}, "ports": []});
    if let Some(n) = node_port {
        port["nodePort"] = json!(n);
        spec["type"] = json!("NodePort");
    }
    spec["ports"] = json!([port]);
    if let Some(ip) = cluster_ip {
        spec["clusterIP"] = json!(ip);
    }
    serde_json::to_vec(
        &json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec}),
    )
    .expect("json")
}

#[test]
fn services_get_unique_cluster_ips_and_node_ports() {
    let c = ApiCluster::start();
    const SVC: &str = "/api/v1/namespaces/default/services";
    // The kubernetes Service holds the first address, with its Endpoints.
    let (code, k) = c.request("GET", &format!("{SVC}/kubernetes"), None, None);
    assert_eq!(code, 200, "{k}");
    assert_eq!(k["spec"]["clusterIP"], "192.168.0.1");
    let (_, ep) = c.request(
        "GET",
        "/api/v1/namespaces/default/endpoints/kubernetes",
        None,
        None,
    );
    assert_eq!(ep["subsets"][0]["ports"][0]["port"], c.port);

    // Concurrent creates never share an address.
    let ips: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..12)
            .map(|i| {
                let c = &c;
                s.spawn(move || {
                    let (code, svc) = c.request(
                        "POST",
                        SVC,
                        Some("application/json"),
                        Some(&service(&format!("s{i}"), None, None)),
                    );
                    assert_eq!(code, 201, "{svc}");
                    svc["spec"]["clusterIP"]
                        .as_str()
                        .expect("allocated")
                        .to_string()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    let mut unique = ips.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ips.len(), "duplicate cluster IPs: {ips:?}");
    assert!(
        ips.iter()
            .all(|ip| ip.starts_with("192.168.") && ip != "192.168.0.1"),
        "{ips:?}"
    );

    // A taken or out-of-range address is a 422 naming the field.
    let taken = c.request(
        "POST",
        SVC,
        Some("application/json"),
        Some(&service("dup", Some(&ips[0]), None)),
    );
    assert_status(&taken, 422, "Invalid");
    assert_eq!(
        taken.1["details"]["causes"][0]["field"],
        "spec.clusterIPs[0]"
    );
    let outside = c.request(
        "POST",
        SVC,
        Some("application/json"),
        Some(&service("out", Some("10.1.2.3"), None)),
    );
    assert_status(&outside, 422, "Invalid");
    // Headless Services get no address.
    let (code, h) = c.request(
        "POST",
        SVC,
        Some("application/json"),
        Some(&service("headless", Some("None"), None)),
    );
    assert_eq!((code, h["spec"]["clusterIP"].as_str()), (201, Some("None")));

    // Node ports: a requested one is exclusive, and freed on delete.
    let (code, np) = c.request(
        "POST",
        SVC,
        Some("application/json"),
        Some(&service("np", None, Some(30080))),
    );
    assert_eq!(code, 201, "{np}");
    assert_eq!(np["spec"]["ports"][0]["nodePort"], 30080);
    let clash = c.request(
        "POST",
        SVC,
        Some("application/json"),
        Some(&service("np2", None, Some(30080))),
    );
    assert_status(&clash, 422, "Invalid");
    assert_eq!(
        clash.1["details"]["causes"][0]["field"],
        "spec.ports[0].nodePort"
    );
    assert_eq!(c.request("DELETE", &format!("{SVC}/np"), None, None).0, 200);
    let (code, again) = c.request(
        "POST",
        SVC,
        Some("application/json"),
        Some(&service("np2", None, Some(30080))),
    );
    assert_eq!(code, 201, "{again}");
    // The freed cluster IP of a deleted Service can be asked for again.
    assert_eq!(c.request("DELETE", &format!("{SVC}/s0"), None, None).0, 200);
    let (code, reuse) = c.request(
        "POST",
        SVC,
        Some("application/json"),
        Some(&service("reuse", Some(&ips[0]), None)),
    );
    assert_eq!(code, 201, "{reuse}");
}
