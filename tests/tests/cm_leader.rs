//! The kube-controller-manager process: its identity's rights, leader
//! election on the `kube-controller-manager` Lease with failover, the
//! health and metrics server, and `--controllers`.

use harness::apiserver::ApiCluster;

#[test]
fn controller_manager_identity_has_controller_rights() {
    let c = ApiCluster::start();
    for args in [
        ["list", "pods", "--all-namespaces"],
        ["watch", "replicasets.apps", "--all-namespaces"],
        ["create", "pods", "-n=default"],
        ["update", "replicasets.apps/status", "-n=default"],
        ["create", "events", "-n=default"],
    ] {
        let mut a = vec!["auth", "can-i"];
        a.extend(args);
        let (ok, out, err) = c.kubectl_as("kube-controller-manager", &a);
        assert!(ok && out.trim() == "yes", "can-i {args:?}: {out} {err}");
    }
}
