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

/// While content held by a finalizer keeps a namespace Terminating, its
/// status conditions say so in upstream's words; once the finalizer goes,
/// the namespace goes.
#[test]
fn terminating_namespace_reports_remaining_content_and_finalizers() {
    let c = CmCluster::start("namespace,serviceaccount", 0);
    c.kubectl_ok(&["create", "namespace", "held"]);
    let pod = "apiVersion: v1
kind: Pod
metadata:
  name: stuck
  namespace: held
  finalizers: [example.com/hold]
spec:
  containers:
  - name: c
    image: nginx
";
    // The pod needs the namespace's default ServiceAccount, made by the
    // serviceaccount controller.
    let created = wait_until(WAIT, || {
        let (ok, _, _) = c.kubectl(&["-n", "held", "get", "serviceaccount", "default"]);
        ok
    });
    assert!(created, "no default serviceaccount:\n{}", c.cm.log_tail(30));
    c.apply(pod);
    c.kubectl_ok(&["delete", "namespace", "held", "--wait=false"]);

    let condition = |kind: &str, field: &str| {
        c.jsonpath(
            &["get", "namespace", "held"],
            &format!("{{.status.conditions[?(@.type==\"{kind}\")].{field}}}"),
        )
    };
    let reported = wait_until(WAIT, || {
        condition("NamespaceFinalizersRemaining", "status") == "True"
    });
    assert!(reported, "no conditions:\n{}", c.cm.log_tail(30));
    assert_eq!(
        c.jsonpath(&["get", "namespace", "held"], "{.status.phase}"),
        "Terminating"
    );
    assert_eq!(
        condition("NamespaceFinalizersRemaining", "message"),
        "Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances"
    );
    assert_eq!(
        condition("NamespaceFinalizersRemaining", "reason"),
        "SomeFinalizersRemain"
    );
    assert_eq!(condition("NamespaceContentRemaining", "status"), "True");
    assert_eq!(
        condition("NamespaceContentRemaining", "reason"),
        "SomeResourcesRemain"
    );
    let remaining = condition("NamespaceContentRemaining", "message");
    assert!(
        remaining.starts_with("Some resources are remaining: ")
            && remaining.contains("pods. has 1 resource instances"),
        "{remaining}"
    );
    for (kind, reason) in [
        ("NamespaceDeletionDiscoveryFailure", "ResourcesDiscovered"),
        (
            "NamespaceDeletionGroupVersionParsingFailure",
            "ParsedGroupVersions",
        ),
        ("NamespaceDeletionContentFailure", "ContentDeleted"),
    ] {
        assert_eq!(condition(kind, "status"), "False", "{kind}");
        assert_eq!(condition(kind, "reason"), reason, "{kind}");
    }
    let described = c.kubectl_ok(&["describe", "namespace", "held"]);
    assert!(
        described.contains("NamespaceFinalizersRemaining")
            && described.contains("SomeFinalizersRemain"),
        "{described}"
    );

    // Releasing the finalizer lets everything go.
    c.kubectl_ok(&[
        "-n",
        "held",
        "patch",
        "pod",
        "stuck",
        "--type=json",
        "-p",
        r#"[{"op":"remove","path":"/metadata/finalizers"}]"#,
    ]);
    let gone = wait_until(WAIT, || !c.kubectl(&["get", "namespace", "held"]).0);
    assert!(gone, "namespace held still there:\n{}", c.cm.log_tail(30));
}
