//! Deleting a namespace deletes everything in it, then the namespace,
//! through the real kube-controller-manager's namespace controller.

use harness::controller_manager::CmCluster;
use harness::process::wait_until;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(40);

#[test]
fn namespace_deletion_empties_it_then_removes_it() {
    let c = CmCluster::start("namespace", 0);
    c.kubectl_ok(&["create", "namespace", "demo"]);
    c.kubectl_ok(&[
        "-n",
        "demo",
        "create",
        "configmap",
        "settings",
        "--from-literal=a=b",
    ]);
    c.kubectl_ok(&[
        "-n",
        "demo",
        "create",
        "secret",
        "generic",
        "pw",
        "--from-literal=p=q",
    ]);
    c.kubectl_ok(&["-n", "demo", "create", "serviceaccount", "builder"]);
    c.kubectl_ok(&["-n", "demo", "create", "deployment", "web", "--image=nginx"]);
    assert_eq!(
        c.jsonpath(&["get", "namespace", "demo"], "{.spec.finalizers[0]}"),
        "kubernetes",
        "the apiserver gives every namespace the kubernetes finalizer"
    );

    // kubectl waits until the namespace is really gone.
    let (ok, out, err) = c.kubectl(&["delete", "namespace", "demo", "--timeout=40s"]);
    assert!(ok, "{out}\n{err}\n{}", c.cm.log_tail(30));
    let gone = wait_until(WAIT, || !c.kubectl(&["get", "namespace", "demo"]).0);
    assert!(gone, "namespace demo still there:\n{}", c.cm.log_tail(30));

    // Nothing of it is left behind, and the name can be used again empty.
    c.kubectl_ok(&["create", "namespace", "demo"]);
    for kind in ["configmaps", "secrets", "deployments", "serviceaccounts"] {
        let names = c.jsonpath(&["-n", "demo", "get", kind], "{.items[*].metadata.name}");
        assert!(
            !names.contains("settings")
                && !names.contains("pw")
                && !names.contains("web")
                && !names.contains("builder"),
            "{kind} survived the namespace: {names}"
        );
    }
}

#[test]
fn active_namespaces_are_left_alone() {
    let c = CmCluster::start("namespace", 0);
    c.kubectl_ok(&["create", "namespace", "keep"]);
    c.kubectl_ok(&[
        "-n",
        "keep",
        "create",
        "configmap",
        "settings",
        "--from-literal=a=b",
    ]);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        c.jsonpath(&["-n", "keep", "get", "configmap", "settings"], "{.data.a}"),
        "b"
    );
    assert_eq!(
        c.jsonpath(&["get", "namespace", "keep"], "{.status.phase}"),
        "Active"
    );
}

/// Every controller in one process (`--controllers=*`): a namespace gets
/// its account and CA, a ReplicaSet's pods back a Service, nodes get pod
/// CIDRs, and deleting the namespace takes all of it away.
#[test]
fn all_controllers_together_serve_a_namespace_lifecycle() {
    let c = CmCluster::start_with(
        "*",
        vec![
            harness::hollow::HollowNode::new("hollow-0"),
            harness::hollow::HollowNode::new("hollow-1"),
        ],
        &["--allocate-node-cidrs=true"],
    );
    c.kubectl_ok(&["create", "namespace", "app"]);
    c.wait_for(
        &["-n", "app", "get", "serviceaccount", "default"],
        "{.metadata.name}",
        "default",
        WAIT,
    );
    c.wait_for(
        &["-n", "app", "get", "configmap", "kube-root-ca.crt"],
        "{.metadata.name}",
        "kube-root-ca.crt",
        WAIT,
    );
    c.apply(
        r#"apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web, namespace: app}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: nginx, ports: [{containerPort: 80}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: app}
spec:
  selector: {app: web}
  ports: [{port: 80}]
"#,
    );
    let mut ips = String::new();
    let served = wait_until(WAIT, || {
        ips = c.jsonpath(
            &["-n", "app", "get", "endpoints", "web"],
            "{.subsets[0].addresses[*].ip}",
        );
        ips.split_whitespace().count() == 2
    });
    assert!(served, "endpoints: {ips:?}\n{}", c.cm.log_tail(30));
    let cidrs = c.jsonpath(&["get", "nodes"], "{.items[*].spec.podCIDR}");
    assert_eq!(cidrs.split_whitespace().count(), 2, "{cidrs}");

    let (ok, out, err) = c.kubectl(&["delete", "namespace", "app", "--timeout=60s"]);
    assert!(ok, "{out}\n{err}\n{}", c.cm.log_tail(30));
    let gone = wait_until(WAIT, || !c.kubectl(&["get", "namespace", "app"]).0);
    assert!(gone, "namespace app still there:\n{}", c.cm.log_tail(30));
}
