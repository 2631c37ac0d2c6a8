use harness::apiserver::ApiCluster;
#[test]
fn debug_rbac() {
    let c = ApiCluster::start();
    for args in [
        vec!["auth", "can-i", "list", "pods", "--as=system:kube-controller-manager"],
        vec!["auth", "can-i", "list", "pods", "--all-namespaces", "--as=system:kube-controller-manager"],
        vec!["auth", "can-i", "list", "endpoints", "--as=system:kube-controller-manager"],
        vec!["get", "clusterrolebinding", "system:controller:endpoint-controller", "-o", "yaml"],
        vec!["get", "clusterrole", "system:controller:endpoint-controller", "-o", "yaml"],
    ] {
        let (ok, out, err) = c.kubectl(&args);
        println!("{args:?} -> {ok} {out} {err}");
    }
    let (ok, out, err) = c.kubectl_as("kube-controller-manager", &["get", "pods", "-A"]);
    println!("as kcm: {ok} {out} {err}");
}
