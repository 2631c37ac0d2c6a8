//! Defaults as upstream applies them: each case is an object as a client
//! sends it and the fields the stored object must then carry.

use super::*;
use serde_json::{Value, json};

fn defaulted(group: &str, kind: &str, obj: Value) -> Value {
    let mut obj = obj;
    default_object(group, kind, &mut obj);
    obj
}

#[test]
fn pod_defaults() {
    let pod = defaulted(
        "",
        "Pod",
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "default"},
            "spec": {
                "containers": [{
                    "name": "c", "image": "nginx",
                    "ports": [{"containerPort": 80}],
                    "env": [{"name": "N", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
                    "livenessProbe": {"httpGet": {"port": 80}},
                    "resources": {"limits": {"cpu": "1"}}
                }, {"name": "d", "image": "busybox:1.36"}],
                "volumes": [
                    {"name": "a"},
                    {"name": "b", "configMap": {"name": "cm"}},
                    {"name": "s", "secret": {"secretName": "x"}},
                    {"name": "h", "hostPath": {"path": "/tmp"}}
                ]
            }
        }),
    );
    let spec = &pod["spec"];
    assert_eq!(spec["restartPolicy"], "Always");
    assert_eq!(spec["dnsPolicy"], "ClusterFirst");
    assert_eq!(spec["terminationGracePeriodSeconds"], 30);
    assert_eq!(spec["schedulerName"], "default-scheduler");
    assert_eq!(spec["securityContext"], json!({}));
    assert_eq!(spec["enableServiceLinks"], true);
    assert!(
        spec.get("priority").is_none(),
        "priority comes from admission, not defaulting"
    );
    let c = &spec["containers"][0];
    assert_eq!(c["imagePullPolicy"], "Always");
    assert_eq!(spec["containers"][1]["imagePullPolicy"], "IfNotPresent");
    assert_eq!(c["terminationMessagePath"], "/dev/termination-log");
    assert_eq!(c["terminationMessagePolicy"], "File");
    assert_eq!(c["ports"][0]["protocol"], "TCP");
    assert_eq!(c["env"][0]["valueFrom"]["fieldRef"]["apiVersion"], "v1");
    assert_eq!(
        c["livenessProbe"],
        json!({"httpGet": {"port": 80, "path": "/", "scheme": "HTTP"}, "timeoutSeconds": 1,
               "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3})
    );
    assert_eq!(c["resources"]["requests"], json!({"cpu": "1"}));
    assert_eq!(spec["volumes"][0]["emptyDir"], json!({}));
    assert_eq!(spec["volumes"][1]["configMap"]["defaultMode"], 420);
    assert_eq!(spec["volumes"][2]["secret"]["defaultMode"], 420);
    assert_eq!(spec["volumes"][3]["hostPath"]["type"], "");
}

#[test]
fn image_pull_policy_follows_the_tag() {
    let cases = [
        ("nginx", Some("latest")),
        ("nginx:latest", Some("latest")),
        ("nginx:1.25", Some("1.25")),
        ("localhost:5000/busybox", Some("latest")),
        ("localhost:5000/busybox:v1", Some("v1")),
        ("busybox@sha256:abcd", None),
        ("busybox:1@sha256:abcd", Some("1")),
        ("", None),
    ];
    for (image, tag) in cases {
        assert_eq!(image_tag(image), tag, "{image}");
    }
}

#[test]
fn template_defaults_skip_pod_only_fields() {
    let d = defaulted(
        "apps",
        "Deployment",
        json!({"spec": {"selector": {"matchLabels": {"app": "x"}},
            "template": {"metadata": {"labels": {"app": "x"}},
                "spec": {"containers": [{"name": "c", "image": "nginx:1", "resources": {"limits": {"cpu": "1"}}}]}}}}),
    );
    let spec = &d["spec"];
    assert_eq!(spec["replicas"], 1);
    assert_eq!(
        spec["strategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
    );
    assert_eq!(spec["revisionHistoryLimit"], 10);
    assert_eq!(spec["progressDeadlineSeconds"], 600);
    let tspec = &spec["template"]["spec"];
    assert_eq!(tspec["restartPolicy"], "Always");
    assert!(tspec.get("enableServiceLinks").is_none());
    assert!(
        tspec["containers"][0]["resources"]
            .get("requests")
            .is_none()
    );
    // Recreate gets no rollingUpdate.
    let r = defaulted(
        "apps",
        "Deployment",
        json!({"spec": {"strategy": {"type": "Recreate"}}}),
    );
    assert_eq!(r["spec"]["strategy"], json!({"type": "Recreate"}));
}

#[test]
fn statefulset_and_daemonset_defaults() {
    let s = defaulted(
        "apps",
        "StatefulSet",
        json!({"spec": {"volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {}}]}}),
    );
    let spec = &s["spec"];
    assert_eq!(spec["podManagementPolicy"], "OrderedReady");
    assert_eq!(
        spec["updateStrategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
    );
    assert_eq!(
        spec["persistentVolumeClaimRetentionPolicy"],
        json!({"whenDeleted": "Retain", "whenScaled": "Retain"})
    );
    assert_eq!(spec["replicas"], 1);
    assert_eq!(spec["revisionHistoryLimit"], 10);
    assert_eq!(
        spec["volumeClaimTemplates"][0]["spec"]["volumeMode"],
        "Filesystem"
    );
    assert_eq!(
        spec["volumeClaimTemplates"][0]["status"]["phase"],
        "Pending"
    );
    let d = defaulted("apps", "DaemonSet", json!({"spec": {}}));
    assert_eq!(
        d["spec"]["updateStrategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}})
    );
    assert_eq!(d["spec"]["revisionHistoryLimit"], 10);
    let rs = defaulted("apps", "ReplicaSet", json!({"spec": {}}));
    assert_eq!(rs["spec"]["replicas"], 1);
}

#[test]
fn service_defaults() {
    let s = defaulted(
        "",
        "Service",
        json!({"spec": {"ports": [{"port": 80}, {"port": 443, "targetPort": "https"}]}}),
    );
    let spec = &s["spec"];
    assert_eq!(spec["type"], "ClusterIP");
    assert_eq!(spec["sessionAffinity"], "None");
    assert_eq!(
        spec["ports"][0],
        json!({"port": 80, "protocol": "TCP", "targetPort": 80})
    );
    assert_eq!(spec["ports"][1]["targetPort"], "https");
    assert_eq!(spec["internalTrafficPolicy"], "Cluster");
    assert!(spec.get("externalTrafficPolicy").is_none());
    assert_eq!(spec["ipFamilyPolicy"], "SingleStack");
    assert_eq!(spec["ipFamilies"], json!(["IPv4"]));
    let np = defaulted(
        "",
        "Service",
        json!({"spec": {"type": "NodePort", "ports": [{"port": 80}]}}),
    );
    assert_eq!(np["spec"]["externalTrafficPolicy"], "Cluster");
    let lb = defaulted("", "Service", json!({"spec": {"type": "LoadBalancer"}}));
    assert_eq!(lb["spec"]["allocateLoadBalancerNodePorts"], true);
    let en = defaulted(
        "",
        "Service",
        json!({"spec": {"type": "ExternalName", "externalName": "x.com"}}),
    );
    assert!(en["spec"].get("ipFamilies").is_none());
    assert!(en["spec"].get("internalTrafficPolicy").is_none());
    let ci = defaulted(
        "",
        "Service",
        json!({"spec": {"sessionAffinity": "ClientIP"}}),
    );
    assert_eq!(
        ci["spec"]["sessionAffinityConfig"]["clientIP"]["timeoutSeconds"],
        10800
    );
}

#[test]
fn job_defaults_and_generated_selector() {
    let j = defaulted(
        "batch",
        "Job",
        json!({"metadata": {"name": "pi", "uid": "u-1"},
               "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "perl"}]}}}}),
    );
    let spec = &j["spec"];
    assert_eq!(spec["completions"], 1);
    assert_eq!(spec["parallelism"], 1);
    assert_eq!(spec["backoffLimit"], 6);
    assert_eq!(spec["completionMode"], "NonIndexed");
    assert_eq!(spec["suspend"], false);
    assert_eq!(spec["podReplacementPolicy"], "TerminatingOrFailed");
    assert_eq!(
        spec["selector"],
        json!({"matchLabels": {"batch.kubernetes.io/controller-uid": "u-1"}})
    );
    let want_labels = json!({
        "batch.kubernetes.io/controller-uid": "u-1", "batch.kubernetes.io/job-name": "pi",
        "controller-uid": "u-1", "job-name": "pi"
    });
    assert_eq!(spec["template"]["metadata"]["labels"], want_labels);
    assert_eq!(j["metadata"]["labels"], want_labels);
    // Parallel work queue: only parallelism given.
    let p = defaulted("batch", "Job", json!({"spec": {"parallelism": 3}}));
    assert!(p["spec"].get("completions").is_none());
    assert!(
        p["spec"].get("selector").is_none(),
        "no uid yet, no selector"
    );
    let cj = defaulted(
        "batch",
        "CronJob",
        json!({"spec": {"schedule": "* * * * *"}}),
    );
    assert_eq!(cj["spec"]["concurrencyPolicy"], "Allow");
    assert_eq!(cj["spec"]["suspend"], false);
    assert_eq!(cj["spec"]["successfulJobsHistoryLimit"], 3);
    assert_eq!(cj["spec"]["failedJobsHistoryLimit"], 1);
}

#[test]
fn small_kind_defaults() {
    let ns = defaulted("", "Namespace", json!({"metadata": {"name": "dev"}}));
    assert_eq!(ns["spec"]["finalizers"], json!(["kubernetes"]));
    assert_eq!(ns["status"]["phase"], "Active");
    assert_eq!(
        ns["metadata"]["labels"]["kubernetes.io/metadata.name"],
        "dev"
    );
    let s = defaulted(
        "",
        "Secret",
        json!({"stringData": {"a": "hello"}, "data": {"b": "eA=="}}),
    );
    assert_eq!(s["type"], "Opaque");
    assert_eq!(s["data"], json!({"a": "aGVsbG8=", "b": "eA=="}));
    assert!(s.get("stringData").is_none());
    let pvc = defaulted("", "PersistentVolumeClaim", json!({"spec": {}}));
    assert_eq!(pvc["spec"]["volumeMode"], "Filesystem");
    assert_eq!(pvc["status"]["phase"], "Pending");
    let pv = defaulted("", "PersistentVolume", json!({"spec": {}}));
    assert_eq!(pv["spec"]["persistentVolumeReclaimPolicy"], "Retain");
    let np = defaulted(
        "networking.k8s.io",
        "NetworkPolicy",
        json!({"spec": {"egress": [{"ports": [{"port": 53}]}]}}),
    );
    assert_eq!(np["spec"]["policyTypes"], json!(["Ingress", "Egress"]));
    assert_eq!(np["spec"]["egress"][0]["ports"][0]["protocol"], "TCP");
    let sc = defaulted(
        "storage.k8s.io",
        "StorageClass",
        json!({"provisioner": "x"}),
    );
    assert_eq!(sc["reclaimPolicy"], "Delete");
    assert_eq!(sc["volumeBindingMode"], "Immediate");
    let hpa = defaulted(
        "autoscaling",
        "HorizontalPodAutoscaler",
        json!({"apiVersion": "autoscaling/v2", "spec": {"maxReplicas": 3}}),
    );
    assert_eq!(hpa["spec"]["minReplicas"], 1);
    assert_eq!(
        hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"],
        80
    );
    let rb = defaulted(
        "rbac.authorization.k8s.io",
        "RoleBinding",
        json!({"subjects": [{"kind": "User", "name": "a"}, {"kind": "ServiceAccount", "name": "b"}]}),
    );
    assert_eq!(rb["subjects"][0]["apiGroup"], "rbac.authorization.k8s.io");
    assert!(rb["subjects"][1].get("apiGroup").is_none());
    let lr = defaulted(
        "",
        "LimitRange",
        json!({"spec": {"limits": [{"type": "Container", "max": {"cpu": "2"}, "min": {"memory": "1Mi"}}]}}),
    );
    assert_eq!(lr["spec"]["limits"][0]["default"], json!({"cpu": "2"}));
    assert_eq!(
        lr["spec"]["limits"][0]["defaultRequest"],
        json!({"cpu": "2", "memory": "1Mi"})
    );
    let unknown = defaulted("example.com", "Widget", json!({"spec": {}}));
    assert_eq!(unknown, json!({"spec": {}}));
}
