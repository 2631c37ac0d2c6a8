//! Endpoints and EndpointSlices follow pod readiness, through the real
//! kube-controller-manager, hollow nodes and kubectl.

use harness::controller_manager::CmCluster;
use harness::process::wait_until;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

fn pod(name: &str) -> String {
    format!(
        r#"apiVersion: v1
kind: Pod
metadata:
  name: {name}
  labels: {{app: web}}
spec:
  containers:
  - name: nginx
    image: nginx
    ports:
    - {{name: http, containerPort: 8080}}
"#
    )
}

const SERVICE: &str = r#"apiVersion: v1
kind: Service
metadata:
  name: web
  labels: {team: a}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: http}
"#;

fn pod_ip(c: &CmCluster, name: &str) -> String {
    let mut ip = String::new();
    wait_until(WAIT, || {
        ip = c.jsonpath(&["get", "pod", name], "{.status.podIP}");
        !ip.is_empty()
    });
    assert!(!ip.is_empty(), "pod {name} got no IP");
    ip
}

fn sorted_ips(a: &str, b: &str) -> String {
    let mut v = [
        a.parse::<std::net::IpAddr>().expect("ip"),
        b.parse().expect("ip"),
    ];
    v.sort();
    format!("{} {}", v[0], v[1])
}

#[test]
fn endpoints_and_slices_follow_pod_readiness() {
    let c = CmCluster::start("endpoints,endpointslice,endpointslice-mirroring", 2);
    c.apply(&pod("web-a"));
    c.apply(&pod("web-b"));
    c.apply(SERVICE);
    let (a, b) = (pod_ip(&c, "web-a"), pod_ip(&c, "web-b"));

    // Both ready pods, on the named target port resolved per pod.
    c.wait_for(
        &["get", "endpoints", "web"],
        "{.subsets[0].addresses[*].ip}",
        &sorted_ips(&a, &b),
        WAIT,
    );
    c.wait_for(
        &["get", "endpoints", "web"],
        "{.subsets[0].ports[0].port}",
        "8080",
        WAIT,
    );
    c.wait_for(
        &["get", "endpoints", "web"],
        "{.metadata.labels.team}",
        "a",
        WAIT,
    );
    let out = c.kubectl_ok(&["get", "endpoints", "web"]);
    assert!(
        out.contains(&format!("{a}:8080")) && out.contains(&format!("{b}:8080")),
        "{out}"
    );

    // The slice lists the same addresses, owned by the Service.
    let slices = [
        "get",
        "endpointslices",
        "-l",
        "kubernetes.io/service-name=web",
    ];
    c.wait_for(
        &slices,
        "{.items[*].endpoints[*].addresses[0]}",
        &sorted_ips(&a, &b),
        WAIT,
    );
    c.wait_for(
        &slices,
        "{.items[0].metadata.ownerReferences[0].kind}",
        "Service",
        WAIT,
    );
    c.wait_for(
        &slices,
        "{.items[0].metadata.labels.endpointslice\\.kubernetes\\.io/managed-by}",
        "endpointslice-controller.k8s.io",
        WAIT,
    );

    // web-a stops being ready: it moves to notReadyAddresses.
    c.kubectl_ok(&["annotate", "pod", "web-a", "hollow.test/ready=false"]);
    c.wait_for(
        &["get", "endpoints", "web"],
        "{.subsets[0].notReadyAddresses[*].ip}",
        &a,
        WAIT,
    );
    c.wait_for(
        &["get", "endpoints", "web"],
        "{.subsets[0].addresses[*].ip}",
        &b,
        WAIT,
    );
    c.wait_for(
        &slices,
        &format!("{{.items[0].endpoints[?(@.addresses[0]==\"{a}\")].conditions.ready}}"),
        "false",
        WAIT,
    );

    // A deleted pod leaves the endpoints.
    c.kubectl_ok(&["delete", "pod", "web-b", "--wait=false"]);
    c.wait_for(
        &["get", "endpoints", "web"],
        "{.subsets[0].addresses[*].ip}",
        "",
        WAIT,
    );

    // Deleting the Service removes its Endpoints (the GC would remove the
    // slices through their ownerReference; it is not running here).
    c.kubectl_ok(&["delete", "service", "web"]);
    let gone = wait_until(WAIT, || !c.kubectl(&["get", "endpoints", "web"]).0);
    assert!(
        gone,
        "endpoints web outlived its service:\n{}",
        c.cm.log_tail(30)
    );
}

#[test]
fn hand_written_endpoints_are_left_alone_and_mirrored() {
    let c = CmCluster::start("endpoints,endpointslice,endpointslice-mirroring", 0);
    c.apply(
        r#"apiVersion: v1
kind: Service
metadata: {name: mysql}
spec:
  ports: [{port: 3306}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: mysql}
subsets:
- addresses: [{ip: 10.4.7.11}, {ip: 10.4.7.12}]
  ports: [{port: 3306}]
"#,
    );
    let slices = [
        "get",
        "endpointslices",
        "-l",
        "kubernetes.io/service-name=mysql",
    ];
    c.wait_for(
        &slices,
        "{.items[*].endpoints[*].addresses[0]}",
        "10.4.7.11 10.4.7.12",
        WAIT,
    );
    c.wait_for(
        &slices,
        "{.items[0].metadata.labels.endpointslice\\.kubernetes\\.io/managed-by}",
        "endpointslicemirroring-controller.k8s.io",
        WAIT,
    );
    // The endpoints controller never rewrote the hand-made object.
    std::thread::sleep(Duration::from_secs(2));
    let ips = c.jsonpath(
        &["get", "endpoints", "mysql"],
        "{.subsets[0].addresses[*].ip}",
    );
    assert_eq!(ips, "10.4.7.11 10.4.7.12");
    let annotations = c.jsonpath(&["get", "endpoints", "mysql"], "{.metadata.annotations}");
    assert!(
        !annotations.contains("last-change-trigger-time"),
        "{annotations}"
    );
}
