//! Row cells of realistic objects.

use super::super::*;
use super::{meta, now};
use serde_json::json;
use std::time::Duration;

fn row(group: &str, resource: &str, obj: Value) -> Vec<Value> {
    let cells = row_cells(group, resource, &obj, now());
    assert_eq!(
        cells.len(),
        column_definitions(group, resource).len(),
        "{resource}"
    );
    cells
}

#[test]
fn core_rows() {
    assert_eq!(
        row(
            "",
            "namespaces",
            json!({"metadata": meta("testapp"), "status": {"phase": "Active"}})
        ),
        vec![json!("testapp"), json!("Active"), json!("24h")]
    );
    assert_eq!(
        row(
            "",
            "configmaps",
            json!({"metadata": meta("cfg"), "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}})
        ),
        vec![json!("cfg"), json!(3), json!("24h")]
    );
    assert_eq!(
        row(
            "",
            "secrets",
            json!({"metadata": meta("s"), "type": "Opaque", "data": {"password": "cGFzcw=="}})
        ),
        vec![json!("s"), json!("Opaque"), json!(1), json!("24h")]
    );
    assert_eq!(
        row("", "serviceaccounts", json!({"metadata": meta("default")})),
        vec![json!("default"), json!(0), json!("24h")]
    );
    assert_eq!(
        row(
            "",
            "componentstatuses",
            json!({"metadata": {"name": "etcd-0"},
            "conditions": [{"type": "Healthy", "status": "True", "message": "ok"}]})
        ),
        vec![json!("etcd-0"), json!("Healthy"), json!("ok"), json!("")]
    );
    assert_eq!(
        row(
            "",
            "componentstatuses",
            json!({"metadata": {"name": "scheduler"}})
        )[1],
        json!("Unknown")
    );
}

#[test]
fn service_rows() {
    let svc = |spec: Value, status: Value| json!({"metadata": meta("web"), "spec": spec, "status": status});
    let cases = [
        (
            svc(
                json!({"type": "ClusterIP", "clusterIP": "192.168.0.1", "clusterIPs": ["192.168.0.1"],
                "ports": [{"port": 443, "protocol": "TCP"}]}),
                json!({}),
            ),
            ["ClusterIP", "192.168.0.1", "<none>", "443/TCP", "<none>"],
        ),
        (
            svc(
                json!({"type": "NodePort", "clusterIPs": ["192.168.10.5"], "selector": {"tier": "fe", "app": "web"},
                "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}]}),
                json!({}),
            ),
            [
                "NodePort",
                "192.168.10.5",
                "<none>",
                "80:30080/TCP,53/UDP",
                "app=web,tier=fe",
            ],
        ),
        (
            svc(
                json!({"type": "LoadBalancer", "clusterIPs": ["192.168.3.3"], "ports": [{"port": 80, "nodePort": 31000, "protocol": "TCP"}]}),
                json!({}),
            ),
            [
                "LoadBalancer",
                "192.168.3.3",
                "<pending>",
                "80:31000/TCP",
                "<none>",
            ],
        ),
        (
            svc(
                json!({"type": "LoadBalancer", "clusterIPs": ["192.168.3.3"], "externalIPs": ["10.4.7.50"]}),
                json!({"loadBalancer": {"ingress": [{"ip": "10.4.7.100"}, {"hostname": "lb.example.com"}]}}),
            ),
            [
                "LoadBalancer",
                "192.168.3.3",
                "10.4.7.100,lb.example.com,10.4.7.50",
                "<none>",
                "<none>",
            ],
        ),
        (
            svc(
                json!({"type": "ClusterIP", "clusterIP": "None", "clusterIPs": ["None"], "externalIPs": ["1.2.3.4", "5.6.7.8"]}),
                json!({}),
            ),
            ["ClusterIP", "None", "1.2.3.4,5.6.7.8", "<none>", "<none>"],
        ),
        (
            svc(
                json!({"type": "ExternalName", "externalName": "db.example.com"}),
                json!({}),
            ),
            [
                "ExternalName",
                "<none>",
                "db.example.com",
                "<none>",
                "<none>",
            ],
        ),
    ];
    for (obj, want) in cases {
        let cells = row("", "services", obj);
        let got: Vec<&str> = [1, 2, 3, 4, 6]
            .iter()
            .map(|&i| cells[i].as_str().unwrap_or_default())
            .collect();
        assert_eq!(got, want);
        assert_eq!(cells[5], json!("24h"));
    }
}

#[test]
fn endpoints_rows() {
    let ep = |subsets: Value| {
        row(
            "",
            "endpoints",
            json!({"metadata": meta("web"), "subsets": subsets}),
        )[1]
        .clone()
    };
    assert_eq!(ep(json!([])), json!("<none>"));
    assert_eq!(
        ep(
            json!([{"addresses": [{"ip": "172.7.21.2"}, {"ip": "172.7.22.2"}], "ports": [{"port": 8080}]}])
        ),
        json!("172.7.21.2:8080,172.7.22.2:8080")
    );
    assert_eq!(
        ep(
            json!([{"addresses": [{"ip": "172.7.21.2"}, {"ip": "172.7.22.2"}], "ports": [{"port": 80}, {"port": 443}]}])
        ),
        json!("172.7.21.2:80,172.7.22.2:80,172.7.21.2:443 + 1 more...")
    );
    assert_eq!(
        ep(json!([{"addresses": [{"ip": "10.0.0.1"}]}])),
        json!("10.0.0.1")
    );
    assert_eq!(
        ep(json!([{"addresses": [{"ip": "fd00::1"}], "ports": [{"port": 53}]}])),
        json!("[fd00::1]:53")
    );
}

#[test]
fn node_rows() {
    let node = json!({
        "metadata": {"name": "10.4.7.21", "creationTimestamp": "2024-01-01T00:00:00Z",
            "labels": {"node-role.kubernetes.io/worker": "", "node-role.kubernetes.io/master": "", "kubernetes.io/role": "edge", "disktype": "ssd"}},
        "spec": {"unschedulable": true},
        "status": {"conditions": [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "True"}],
            "addresses": [{"type": "InternalIP", "address": "10.4.7.21"}, {"type": "Hostname", "address": "node21"}],
            "nodeInfo": {"kubeletVersion": "v1.32.0", "osImage": "Debian GNU/Linux 12 (bookworm)", "kernelVersion": "6.1.0",
                "containerRuntimeVersion": "containerd://1.6.20"}}
    });
    assert_eq!(
        row("", "nodes", node),
        vec![
            json!("10.4.7.21"),
            json!("Ready,SchedulingDisabled"),
            json!("edge,master,worker"),
            json!("24h"),
            json!("v1.32.0"),
            json!("10.4.7.21"),
            json!("<none>"),
            json!("Debian GNU/Linux 12 (bookworm)"),
            json!("6.1.0"),
            json!("containerd://1.6.20")
        ]
    );
    let bare = row("", "nodes", json!({"metadata": {"name": "n"}}));
    assert_eq!(
        bare[1..],
        [
            json!("Unknown"),
            json!("<none>"),
            json!("<unknown>"),
            json!(""),
            json!("<none>"),
            json!("<none>"),
            json!("<unknown>"),
            json!("<unknown>"),
            json!("<unknown>")
        ]
    );
    let not_ready = row(
        "",
        "nodes",
        json!({"metadata": {"name": "n"}, "status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}}),
    );
    assert_eq!(not_ready[1], json!("NotReady"));
}

#[test]
fn event_rows() {
    let ev = json!({"metadata": {"name": "web-0.17a", "creationTimestamp": "2024-01-01T23:00:00Z"},
        "involvedObject": {"kind": "Pod", "name": "web-0", "fieldPath": "spec.containers{app}"},
        "reason": "Pulled", "message": "Container image \"busybox\" already present on machine\n", "type": "Normal",
        "source": {"component": "kubelet", "host": "10.4.7.21"},
        "firstTimestamp": "2024-01-01T23:50:00Z", "lastTimestamp": "2024-01-01T23:59:00Z", "count": 3});
    assert_eq!(
        row("", "events", ev),
        vec![
            json!("60s"),
            json!("Normal"),
            json!("Pulled"),
            json!("pod/web-0"),
            json!("spec.containers{app}"),
            json!("kubelet, 10.4.7.21"),
            json!("Container image \"busybox\" already present on machine"),
            json!("10m"),
            json!(3),
            json!("web-0.17a")
        ]
    );
    // New-style event: eventTime and series, reporting controller instead of source.
    let series = json!({"metadata": {"name": "e"}, "involvedObject": {"kind": "Node"},
        "eventTime": "2024-01-01T23:00:00.123456Z", "series": {"count": 7, "lastObservedTime": "2024-01-01T23:58:00.000000Z"},
        "reportingComponent": "default-scheduler", "type": "Warning", "reason": "FailedScheduling", "message": "0/2 nodes"});
    let cells = row("", "events", series);
    assert_eq!(
        cells[..4],
        [
            json!("2m"),
            json!("Warning"),
            json!("FailedScheduling"),
            json!("node")
        ]
    );
    assert_eq!(
        cells[5..9],
        [
            json!("default-scheduler"),
            json!("0/2 nodes"),
            json!("59m"),
            json!(7)
        ]
    );
    let v1 = json!({"metadata": {"name": "e2"}, "regarding": {"kind": "Pod", "name": "p"}, "note": "hi",
        "eventTime": "2024-01-01T23:59:30.000000Z", "reportingController": "kubelet", "reportingInstance": "n1",
        "reason": "Started", "type": "Normal"});
    assert_eq!(
        row("events.k8s.io", "events", v1),
        vec![
            json!("30s"),
            json!("Normal"),
            json!("Started"),
            json!("pod/p"),
            json!(""),
            json!("kubelet, n1"),
            json!("hi"),
            json!("30s"),
            json!(1),
            json!("e2")
        ]
    );
}

#[test]
fn volume_rows() {
    let pv = json!({"metadata": meta("mongodata"), "spec": {"capacity": {"storage": "2Gi"},
        "accessModes": ["ReadWriteOnce"], "persistentVolumeReclaimPolicy": "Delete", "storageClassName": "local-storage",
        "volumeMode": "Filesystem", "claimRef": {"namespace": "default", "name": "mongodata"}}, "status": {"phase": "Bound"}});
    assert_eq!(
        row("", "persistentvolumes", pv),
        vec![
            json!("mongodata"),
            json!("2Gi"),
            json!("RWO"),
            json!("Delete"),
            json!("Bound"),
            json!("default/mongodata"),
            json!("local-storage"),
            json!("<unset>"),
            json!(""),
            json!("24h"),
            json!("Filesystem")
        ]
    );
    let pending = json!({"metadata": meta("claim"), "spec": {"accessModes": ["ReadWriteMany", "ReadWriteOnce"],
        "resources": {"requests": {"storage": "2Gi"}}, "storageClassName": "local-storage"}, "status": {"phase": "Pending"}});
    assert_eq!(
        row("", "persistentvolumeclaims", pending),
        vec![
            json!("claim"),
            json!("Pending"),
            json!(""),
            json!(""),
            json!(""),
            json!("local-storage"),
            json!("<unset>"),
            json!("24h"),
            json!("<unset>")
        ]
    );
    let bound = json!({"metadata": {"name": "c", "creationTimestamp": "2024-01-01T00:00:00Z", "deletionTimestamp": "2024-01-01T12:00:00Z",
            "annotations": {"volume.beta.kubernetes.io/storage-class": "slow"}},
        "spec": {"volumeName": "pv1", "storageClassName": "fast", "volumeMode": "Block"},
        "status": {"phase": "Bound", "capacity": {"storage": "1Gi"}, "accessModes": ["ReadOnlyMany", "ReadWriteOnce"]}});
    assert_eq!(
        row("", "persistentvolumeclaims", bound)[1..],
        [
            json!("Terminating"),
            json!("pv1"),
            json!("1Gi"),
            json!("RWO,ROX"),
            json!("slow"),
            json!("<unset>"),
            json!("24h"),
            json!("Block")
        ]
    );
}

#[test]
fn quota_and_default_rows() {
    let rq = json!({"metadata": meta("compute"), "status": {
        "hard": {"requests.cpu": "1", "limits.memory": "2Gi", "pods": "10", "limits.cpu": "2"},
        "used": {"requests.cpu": "500m", "pods": "3"}}});
    assert_eq!(
        row("", "resourcequotas", rq),
        vec![
            json!("compute"),
            json!("24h"),
            json!("pods: 3/10, requests.cpu: 500m/1"),
            json!("limits.cpu: 0/2, limits.memory: 0/2Gi")
        ]
    );
    assert_eq!(
        row(
            "rbac.authorization.k8s.io",
            "clusterroles",
            json!({"metadata": {"name": "cluster-admin", "creationTimestamp": "2024-01-01T08:00:00+08:00"}})
        ),
        vec![json!("cluster-admin"), json!("2024-01-01T00:00:00Z")]
    );
    assert_eq!(
        row("", "limitranges", json!({"metadata": {"name": "lr"}})),
        vec![json!("lr"), json!("0001-01-01T00:00:00Z")]
    );
}

#[test]
fn networking_rows() {
    let ing = json!({"metadata": meta("web"), "spec": {"ingressClassName": "nginx",
        "rules": [{"host": "a.example.com"}, {"host": "b.example.com"}, {}, {"host": "c.example.com"}, {"host": "d.example.com"}],
        "tls": [{"hosts": ["a.example.com"]}]},
        "status": {"loadBalancer": {"ingress": [{"ip": "10.4.7.10"}]}}});
    assert_eq!(
        row("networking.k8s.io", "ingresses", ing),
        vec![
            json!("web"),
            json!("nginx"),
            json!("a.example.com,b.example.com,c.example.com + 2 more..."),
            json!("10.4.7.10"),
            json!("80, 443"),
            json!("24h")
        ]
    );
    let plain = row(
        "networking.k8s.io",
        "ingresses",
        json!({"metadata": meta("x"), "spec": {"rules": [{}]}}),
    );
    assert_eq!(
        plain[1..5],
        [json!("<none>"), json!("*"), json!(""), json!("80")]
    );
    assert_eq!(
        row(
            "networking.k8s.io",
            "ingressclasses",
            json!({"metadata": meta("nginx"), "spec": {"controller": "k8s.io/ingress-nginx",
            "parameters": {"apiGroup": "k8s.example.com", "kind": "IngressParameters", "name": "external-lb"}}})
        ),
        vec![
            json!("nginx"),
            json!("k8s.io/ingress-nginx"),
            json!("IngressParameters.k8s.example.com/external-lb"),
            json!("24h")
        ]
    );
    assert_eq!(
        row(
            "networking.k8s.io",
            "networkpolicies",
            json!({"metadata": meta("deny"), "spec": {"podSelector": {}}})
        )[1],
        json!("<none>")
    );
    assert_eq!(
        row(
            "networking.k8s.io",
            "networkpolicies",
            json!({"metadata": meta("db"), "spec": {"podSelector": {"matchLabels": {"role": "db"}}}})
        )[1],
        json!("role=db")
    );
    let slice = json!({"metadata": meta("web-abc"), "addressType": "IPv4",
        "ports": [{"name": "http", "port": 80}, {"name": "metrics"}],
        "endpoints": [{"addresses": ["172.7.21.2"]}, {"addresses": ["172.7.22.2", "172.7.22.3"]}, {"addresses": ["172.7.23.2"]}]});
    assert_eq!(
        row("discovery.k8s.io", "endpointslices", slice),
        vec![
            json!("web-abc"),
            json!("IPv4"),
            json!("80,metrics"),
            json!("172.7.21.2,172.7.22.2,172.7.22.3 + 1 more..."),
            json!("24h")
        ]
    );
    let empty = row(
        "discovery.k8s.io",
        "endpointslices",
        json!({"metadata": meta("e"), "addressType": "IPv4"}),
    );
    assert_eq!(empty[2..4], [json!("<unset>"), json!("<unset>")]);
}

#[test]
fn rbac_and_misc_rows() {
    let crb = json!({"metadata": meta("system:node-proxier"), "roleRef": {"kind": "ClusterRole", "name": "system:node-proxier"},
        "subjects": [{"kind": "User", "name": "system:kube-proxy"}, {"kind": "Group", "name": "g1"},
            {"kind": "ServiceAccount", "name": "kube-dns", "namespace": "kube-system"}, {"kind": "User", "name": "u2"}]});
    assert_eq!(
        row("rbac.authorization.k8s.io", "clusterrolebindings", crb),
        vec![
            json!("system:node-proxier"),
            json!("ClusterRole/system:node-proxier"),
            json!("24h"),
            json!("system:kube-proxy, u2"),
            json!("g1"),
            json!("kube-system/kube-dns")
        ]
    );
    let sc = json!({"metadata": {"name": "local-storage", "creationTimestamp": "2024-01-01T00:00:00Z",
        "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
        "provisioner": "kubernetes.io/no-provisioner", "volumeBindingMode": "WaitForFirstConsumer"});
    assert_eq!(
        row("storage.k8s.io", "storageclasses", sc),
        vec![
            json!("local-storage (default)"),
            json!("kubernetes.io/no-provisioner"),
            json!("Delete"),
            json!("WaitForFirstConsumer"),
            json!(false),
            json!("24h")
        ]
    );
    assert_eq!(
        row(
            "coordination.k8s.io",
            "leases",
            json!({"metadata": meta("kube-scheduler"), "spec": {"holderIdentity": "node1_abc"}})
        ),
        vec![json!("kube-scheduler"), json!("node1_abc"), json!("24h")]
    );
    assert_eq!(
        row(
            "scheduling.k8s.io",
            "priorityclasses",
            json!({"metadata": meta("system-node-critical"), "value": 2000001000,
            "preemptionPolicy": "PreemptLowerPriority"})
        ),
        vec![
            json!("system-node-critical"),
            json!(2000001000),
            json!(false),
            json!("24h"),
            json!("PreemptLowerPriority")
        ]
    );
    let csr = json!({"metadata": meta("csr-1"), "spec": {"signerName": "kubernetes.io/kube-apiserver-client-kubelet",
        "username": "system:node:n1", "expirationSeconds": 86400},
        "status": {"conditions": [{"type": "Approved", "status": "True"}], "certificate": "LS0t"}});
    assert_eq!(
        row("certificates.k8s.io", "certificatesigningrequests", csr),
        vec![
            json!("csr-1"),
            json!("24h"),
            json!("kubernetes.io/kube-apiserver-client-kubelet"),
            json!("system:node:n1"),
            json!("24h"),
            json!("Approved,Issued")
        ]
    );
    let pending = row(
        "certificates.k8s.io",
        "certificatesigningrequests",
        json!({"metadata": meta("c")}),
    );
    assert_eq!(
        pending[2..],
        [
            json!("<none>"),
            json!(""),
            json!("<none>"),
            json!("Pending")
        ]
    );
    assert_eq!(
        row(
            "admissionregistration.k8s.io",
            "validatingwebhookconfigurations",
            json!({"metadata": meta("v"), "webhooks": [{}, {}]})
        )[1],
        json!(2)
    );
    let vap = row(
        "admissionregistration.k8s.io",
        "validatingadmissionpolicies",
        json!({"metadata": meta("p"), "spec": {"validations": [{}, {}], "paramKind": {"apiVersion": "v1", "kind": "ConfigMap"}}}),
    );
    assert_eq!(vap[1..3], [json!(2), json!("v1/ConfigMap")]);
    let binding = |spec: serde_json::Value| {
        row(
            "admissionregistration.k8s.io",
            "validatingadmissionpolicybindings",
            json!({"metadata": meta("b"), "spec": spec}),
        )[1..3]
            .to_vec()
    };
    assert_eq!(
        binding(json!({"policyName": "p"})),
        [json!("p"), json!("<unset>")]
    );
    assert_eq!(
        binding(json!({"policyName": "p", "paramRef": {"name": "lim", "namespace": "app"}})),
        [json!("p"), json!("app/lim")]
    );
    assert_eq!(
        row(
            "node.k8s.io",
            "runtimeclasses",
            json!({"metadata": meta("runc"), "handler": "runc"})
        )[1],
        json!("runc")
    );
}

#[test]
fn workload_rows_through_dispatch() {
    let d = json!({"metadata": meta("test-k8s"), "spec": {"replicas": 5, "selector": {"matchLabels": {"app": "test-k8s"}},
        "template": {"spec": {"containers": [{"name": "test-k8s", "image": "ccr.ccs.tencentyun.com/k8s-tutorial/test-k8s:v1"}]}}},
        "status": {"replicas": 5, "readyReplicas": 5, "updatedReplicas": 5, "availableReplicas": 5}});
    assert_eq!(
        row("apps", "deployments", d),
        vec![
            json!("test-k8s"),
            json!("5/5"),
            json!(5),
            json!(5),
            json!("24h"),
            json!("test-k8s"),
            json!("ccr.ccs.tencentyun.com/k8s-tutorial/test-k8s:v1"),
            json!("app=test-k8s")
        ]
    );
    let pod = json!({"metadata": meta("p"), "spec": {"containers": [{"name": "c"}]}, "status": {"phase": "Pending"}});
    assert_eq!(row("", "pods", pod)[2], json!("Pending"));
    assert_eq!(human_duration(Duration::from_secs(90_000)), "25h");
}
