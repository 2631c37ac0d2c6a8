//! The resources of upstream's default API that issue 11 added, through the
//! real kube-apiserver and kubectl: `podtemplates`, `runtimeclasses`,
//! `csidrivers`, `csinodes`, `csistoragecapacities`, `volumeattachments`
//! (create, get as a table, list, delete, a validation error each), the
//! legacy `bindings`, the RuntimeClass admission plugin, and the Node
//! authorizer and NodeRestriction rules for CSINodes.

use harness::apiserver::ApiCluster;
use serde_json::{Value, json};

const J: Option<&str> = Some("application/json");
const MERGE: Option<&str> = Some("application/merge-patch+json");
const PODS: &str = "/api/v1/namespaces/default/pods";

/// (resource for kubectl, name, valid manifest, invalid manifest, text of the
/// invalid one's error, table headers `kubectl get` shows).
fn kinds() -> Vec<(
    &'static str,
    &'static str,
    Value,
    Value,
    &'static str,
    &'static str,
)> {
    let template = json!({"metadata": {"labels": {"app": "t"}},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]}});
    vec![
        (
            "podtemplates",
            "tmpl",
            json!({"apiVersion": "v1", "kind": "PodTemplate",
                "metadata": {"name": "tmpl", "namespace": "default"}, "template": template}),
            json!({"apiVersion": "v1", "kind": "PodTemplate",
                "metadata": {"name": "bad-tmpl", "namespace": "default"},
                "template": {"spec": {"containers": [{"name": "c"}]}}}),
            "template.spec.containers[0].image: Required value",
            "CONTAINERS",
        ),
        (
            "runtimeclasses",
            "gvisor",
            json!({"apiVersion": "node.k8s.io/v1", "kind": "RuntimeClass",
                "metadata": {"name": "gvisor"}, "handler": "runsc"}),
            json!({"apiVersion": "node.k8s.io/v1", "kind": "RuntimeClass",
                "metadata": {"name": "bad-rc"}, "handler": "Not_A_Label"}),
            "handler: Invalid value: \"Not_A_Label\"",
            "HANDLER",
        ),
        (
            "csidrivers",
            "csi.example.com",
            json!({"apiVersion": "storage.k8s.io/v1", "kind": "CSIDriver",
                "metadata": {"name": "csi.example.com"}, "spec": {}}),
            json!({"apiVersion": "storage.k8s.io/v1", "kind": "CSIDriver",
                "metadata": {"name": "bad.example.com"},
                "spec": {"volumeLifecycleModes": ["Sometimes"]}}),
            "spec.volumeLifecycleModes[0]: Unsupported value: \"Sometimes\"",
            "ATTACHREQUIRED",
        ),
        (
            "csinodes",
            "n1",
            json!({"apiVersion": "storage.k8s.io/v1", "kind": "CSINode",
                "metadata": {"name": "n1"},
                "spec": {"drivers": [{"name": "csi.example.com", "nodeID": "n1"}]}}),
            json!({"apiVersion": "storage.k8s.io/v1", "kind": "CSINode",
                "metadata": {"name": "bad-node"},
                "spec": {"drivers": [{"name": "csi.example.com"}]}}),
            "spec.drivers[0].nodeID: Required value",
            "DRIVERS",
        ),
        (
            "csistoragecapacities",
            "cap1",
            json!({"apiVersion": "storage.k8s.io/v1", "kind": "CSIStorageCapacity",
                "metadata": {"name": "cap1", "namespace": "default"},
                "storageClassName": "fast", "capacity": "10Gi"}),
            json!({"apiVersion": "storage.k8s.io/v1", "kind": "CSIStorageCapacity",
                "metadata": {"name": "bad-cap", "namespace": "default"}, "capacity": "1Gi"}),
            "storageClassName: Required value",
            "STORAGECLASSNAME",
        ),
        (
            "volumeattachments",
            "va1",
            json!({"apiVersion": "storage.k8s.io/v1", "kind": "VolumeAttachment",
                "metadata": {"name": "va1"},
                "spec": {"attacher": "csi.example.com", "nodeName": "n1",
                    "source": {"persistentVolumeName": "pv1"}}}),
            json!({"apiVersion": "storage.k8s.io/v1", "kind": "VolumeAttachment",
                "metadata": {"name": "bad-va"},
                "spec": {"attacher": "csi.example.com", "nodeName": "n1", "source": {}}}),
            "spec.source: Required value: must specify exactly one of inlineVolumeSpec and persistentVolumeName",
            "ATTACHER",
        ),
    ]
}

#[test]
fn every_added_resource_through_kubectl() {
    let c = ApiCluster::start();
    let resources = c.kubectl_ok(&["api-resources", "-o", "wide", "--no-headers"]);
    for (name, verbs) in [
        ("bindings", "create"),
        ("podtemplates", "deletecollection"),
        ("runtimeclasses", "node.k8s.io/v1"),
        ("csidrivers", "storage.k8s.io/v1"),
        ("csinodes", "storage.k8s.io/v1"),
        ("csistoragecapacities", "storage.k8s.io/v1"),
        ("volumeattachments", "storage.k8s.io/v1"),
    ] {
        let line = resources
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("{name} not in api-resources:\n{resources}"));
        assert!(line.contains(verbs), "{line}");
        if name == "bindings" {
            assert!(!line.contains("list"), "{line}");
        }
    }

    for (resource, name, good, bad, error, header) in kinds() {
        let ns: &[&str] = if good["metadata"].get("namespace").is_some() {
            &["-n", "default"]
        } else {
            &[]
        };
        let (ok, out, err) = c.kubectl_stdin(&["create", "-f", "-"], &good.to_string());
        assert!(ok, "{resource}: {out}{err}");
        let table = c.kubectl_ok(&[&["get", resource, name], ns].concat());
        assert!(table.contains(header), "{resource}: {table}");
        assert!(table.contains(name), "{resource}: {table}");
        let list = c.kubectl_ok(&[&["get", resource, "-o", "name"], ns].concat());
        assert_eq!(list.lines().count(), 1, "{resource}: {list}");
        let (ok, out, err) = c.kubectl_stdin(&["create", "-f", "-"], &bad.to_string());
        assert!(!ok, "{resource}: invalid object accepted: {out}");
        assert!(
            err.contains("is invalid") && err.contains(error),
            "{resource}: {err}"
        );
        c.kubectl_ok(&[&["delete", resource, name], ns].concat());
        let (ok, _, err) = c.kubectl(&[&["get", resource, name], ns].concat());
        assert!(!ok && err.contains("NotFound"), "{resource}: {err}");
    }
}

#[test]
fn defaults_status_and_immutable_fields() {
    let c = ApiCluster::start();
    for (_, _, good, ..) in kinds() {
        let (ok, out, err) = c.kubectl_stdin(&["create", "-f", "-"], &good.to_string());
        assert!(ok, "{out}{err}");
    }
    // CSIDriver defaults as upstream's SetDefaults_CSIDriver.
    let (_, d) = c.request(
        "GET",
        "/apis/storage.k8s.io/v1/csidrivers/csi.example.com",
        None,
        None,
    );
    assert_eq!(
        d["spec"],
        json!({"attachRequired": true, "podInfoOnMount": false, "storageCapacity": false,
            "fsGroupPolicy": "ReadWriteOnceWithFSType", "volumeLifecycleModes": ["Persistent"],
            "requiresRepublish": false, "seLinuxMount": false}),
        "{d}"
    );
    let (code, body) = c.request(
        "PATCH",
        "/apis/storage.k8s.io/v1/csidrivers/csi.example.com",
        MERGE,
        Some(br#"{"spec":{"attachRequired":false}}"#),
    );
    assert_eq!(code, 422, "{body}");

    // VolumeAttachment: status only through /status; the spec is fixed.
    const VA: &str = "/apis/storage.k8s.io/v1/volumeattachments/va1";
    let (code, body) = c.request("PATCH", VA, MERGE, Some(br#"{"status":{"attached":true}}"#));
    assert_eq!(code, 200, "{body}");
    // Ignored on the main resource (upstream writes `status` as a struct,
    // so it may be present, but never with the patched value).
    assert_ne!(
        body.pointer("/status/attached"),
        Some(&serde_json::json!(true)),
        "{body}"
    );
    let (code, body) = c.request(
        "PATCH",
        &format!("{VA}/status"),
        MERGE,
        Some(br#"{"status":{"attached":true}}"#),
    );
    assert_eq!(
        (code, body["status"]["attached"].clone()),
        (200, json!(true)),
        "{body}"
    );
    let table = c.kubectl_ok(&["get", "volumeattachment", "va1"]);
    assert!(table.contains("true"), "{table}");
    let (code, body) = c.request("PATCH", VA, MERGE, Some(br#"{"spec":{"nodeName":"n2"}}"#));
    assert_eq!(code, 422, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .contains("field is immutable"),
        "{body}"
    );

    let (code, body) = c.request(
        "PATCH",
        "/apis/node.k8s.io/v1/runtimeclasses/gvisor",
        MERGE,
        Some(br#"{"handler":"runc"}"#),
    );
    assert_eq!(code, 422, "{body}");
}

#[test]
fn the_legacy_bindings_resource_binds_a_pod() {
    let c = ApiCluster::start();
    let pod = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}});
    assert_eq!(
        c.request("POST", PODS, J, Some(pod.to_string().as_bytes()))
            .0,
        201
    );
    let binding = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "p"},
        "target": {"apiVersion": "v1", "kind": "Node", "name": "n1"}});
    const BINDINGS: &str = "/api/v1/namespaces/default/bindings";
    let (code, body) = c.request("POST", BINDINGS, J, Some(binding.to_string().as_bytes()));
    assert_eq!(code, 201, "{body}");
    assert_eq!(body["status"], "Success", "{body}");
    let (_, p) = c.request("GET", &format!("{PODS}/p"), None, None);
    assert_eq!(p["spec"]["nodeName"], "n1", "{p}");
    // Bound once: a second binding is a conflict, as for pods/binding.
    let (code, body) = c.request("POST", BINDINGS, J, Some(binding.to_string().as_bytes()));
    assert_eq!(code, 409, "{body}");
    let (code, body) = c.request(
        "POST",
        BINDINGS,
        J,
        Some(br#"{"metadata":{"name":"p"},"target":{}}"#),
    );
    assert_eq!(code, 422, "{body}");
    // No other verb: bindings are only ever created.
    assert_eq!(c.request("GET", BINDINGS, None, None).0, 405);
}

#[test]
fn runtime_class_admission() {
    let c = ApiCluster::start();
    let rc = json!({"apiVersion": "node.k8s.io/v1", "kind": "RuntimeClass",
        "metadata": {"name": "sandboxed"}, "handler": "runsc",
        "overhead": {"podFixed": {"cpu": "250m", "memory": "64Mi"}},
        "scheduling": {"nodeSelector": {"sandbox": "true"},
            "tolerations": [{"key": "sandbox", "operator": "Exists", "effect": "NoSchedule"}]}});
    let (code, body) = c.request(
        "POST",
        "/apis/node.k8s.io/v1/runtimeclasses",
        J,
        Some(rc.to_string().as_bytes()),
    );
    assert_eq!(code, 201, "{body}");
    let pod = |name: &str, spec_extra: Value| {
        let mut spec = json!({"containers": [{"name": "c", "image": "nginx"}]});
        if let (Some(s), Some(extra)) = (spec.as_object_mut(), spec_extra.as_object()) {
            s.extend(extra.clone());
        }
        json!({"metadata": {"name": name}, "spec": spec}).to_string()
    };
    let (code, p) = c.request(
        "POST",
        PODS,
        J,
        Some(
            pod(
                "ok",
                json!({"runtimeClassName": "sandboxed", "nodeSelector": {"zone": "a"}}),
            )
            .as_bytes(),
        ),
    );
    assert_eq!(code, 201, "{p}");
    assert_eq!(
        p["spec"]["overhead"],
        json!({"cpu": "250m", "memory": "64Mi"}),
        "{p}"
    );
    assert_eq!(
        p["spec"]["nodeSelector"],
        json!({"zone": "a", "sandbox": "true"}),
        "{p}"
    );
    let tolerations = p["spec"]["tolerations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(tolerations.iter().any(|t| t["key"] == "sandbox"), "{p}");

    let refused = |body: String, message: &str| {
        let (code, e) = c.request("POST", PODS, J, Some(body.as_bytes()));
        assert_eq!(code, 403, "{e}");
        assert!(
            e["message"].as_str().unwrap_or("").ends_with(message),
            "{e}"
        );
    };
    refused(
        pod("missing", json!({"runtimeClassName": "nope"})),
        "pod rejected: RuntimeClass \"nope\" not found",
    );
    refused(
        pod(
            "mismatch",
            json!({"runtimeClassName": "sandboxed", "overhead": {"cpu": "1"}}),
        ),
        "pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead",
    );
    refused(
        pod("no-class", json!({"overhead": {"cpu": "1"}})),
        "pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead",
    );
    refused(
        pod(
            "conflict",
            json!({"runtimeClassName": "sandboxed", "nodeSelector": {"sandbox": "false"}}),
        ),
        "conflict: runtimeClass.scheduling.nodeSelector[sandbox] = true; pod.spec.nodeSelector[sandbox] = false",
    );
}

#[test]
fn a_kubelet_writes_only_its_own_csinode() {
    const N1: &str = "hdss7-21";
    const N2: &str = "hdss7-22";
    const KUBELET1: &str = "kubelet-hdss7-21";
    const CSINODES: &str = "/apis/storage.k8s.io/v1/csinodes";
    let c = ApiCluster::start_with(&[
        "--authorization-mode=Node,RBAC",
        "--enable-admission-plugins=NodeRestriction",
    ]);
    let csinode = |n: &str| {
        json!({"apiVersion": "storage.k8s.io/v1", "kind": "CSINode", "metadata": {"name": n},
            "spec": {"drivers": []}})
        .to_string()
    };
    let (code, body) = c.request_as(
        Some(KUBELET1),
        "POST",
        CSINODES,
        J,
        Some(csinode(N1).as_bytes()),
    );
    assert_eq!(code, 201, "{body}");
    let (code, body) = c.request_as(
        Some(KUBELET1),
        "GET",
        &format!("{CSINODES}/{N1}"),
        None,
        None,
    );
    assert_eq!(code, 200, "{body}");
    // Another node's CSINode: refused at create by NodeRestriction, and
    // for every other verb by the Node authorizer.
    let (code, body) = c.request_as(
        Some(KUBELET1),
        "POST",
        CSINODES,
        J,
        Some(csinode(N2).as_bytes()),
    );
    assert_eq!(code, 403, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .ends_with("can only access CSINode with the same name as the requesting node"),
        "{body}"
    );
    assert_eq!(
        c.request("POST", CSINODES, J, Some(csinode(N2).as_bytes()))
            .0,
        201
    );
    let (code, body) = c.request_as(
        Some(KUBELET1),
        "DELETE",
        &format!("{CSINODES}/{N2}"),
        None,
        None,
    );
    assert_eq!(code, 403, "{body}");
    assert_eq!(
        c.request("GET", &format!("{CSINODES}/{N2}"), None, None).0,
        200
    );
    let (code, body) = c.request_as(
        Some(KUBELET1),
        "DELETE",
        &format!("{CSINODES}/{N1}"),
        None,
        None,
    );
    assert_eq!(code, 200, "{body}");
}

/// The official Python client's `create_namespaced_binding` (the legacy
/// `bindings` resource) binds a pod. Upstream answers a Status the client
/// cannot read back as a V1Binding, so the call reads the raw answer.
#[test]
fn the_python_clients_create_namespaced_binding() {
    let python = harness::bins::repo_root().join("target/pyenv/bin/python3");
    if !python.exists() {
        println!("notice: {} absent, test skipped", python.display());
        return;
    }
    let c = ApiCluster::start();
    let script = r#"
import sys
from kubernetes import client, config
config.load_kube_config(config_file=sys.argv[1])
core = client.CoreV1Api()
core.create_namespaced_pod("default", client.V1Pod(
    metadata=client.V1ObjectMeta(name="py-bind"),
    spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="nginx")])))
r = core.create_namespaced_binding("default", client.V1Binding(
    metadata=client.V1ObjectMeta(name="py-bind"),
    target=client.V1ObjectReference(kind="Node", name="n1")), _preload_content=False)
assert r.status == 201, r.status
node = core.read_namespaced_pod("py-bind", "default").spec.node_name
assert node == "n1", node
print("bound")
"#;
    let (ok, out, err) = harness::process::run(
        std::process::Command::new(&python)
            .arg("-c")
            .arg(script)
            .arg(c.kubeconfig("admin")),
    );
    assert!(ok && out.contains("bound"), "{out}\n{err}");
}
