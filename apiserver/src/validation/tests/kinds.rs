//! RBAC and the smaller kinds, status updates, and the cross-checks
//! against the OpenAPI schema, the bootstrap policy and everyday objects.

use super::*;

#[test]
fn rbac_rules() {
    let g = "rbac.authorization.k8s.io";
    let role = json!({"metadata": {"name": "r", "namespace": "d"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}, {"apiGroups": [""], "resources": ["pods"]}]});
    assert_eq!(
        create(g, "Role", role),
        vec!["rules[1].verbs: Required value: verbs must contain at least one value"]
    );
    let cr = json!({"metadata": {"name": "system:controller:x"}, "rules": [{"nonResourceURLs": ["/healthz"], "verbs": ["get"]}]});
    assert!(create(g, "ClusterRole", cr).is_empty());
    let rb = json!({"metadata": {"name": "b", "namespace": "d"},
        "roleRef": {"apiGroup": g, "kind": "Role", "name": "r"},
        "subjects": [{"kind": "User", "name": "alice"}, {"kind": "Robot", "name": "x"}]});
    assert_eq!(
        create(g, "RoleBinding", rb.clone()),
        vec![
            "subjects[1].kind: Unsupported value: \"Robot\": supported values: \"ServiceAccount\", \"User\", \"Group\""
        ]
    );
    let mut old = rb.clone();
    old["subjects"] = json!([{"kind": "User", "name": "alice", "apiGroup": g}]);
    old["metadata"]["resourceVersion"] = json!("1");
    let mut new = old.clone();
    new["roleRef"]["name"] = json!("other");
    assert_eq!(
        msgs(validate_update(g, "RoleBinding", &new, &old)),
        vec![
            "roleRef: Invalid value: rbac.RoleRef{APIGroup:\"rbac.authorization.k8s.io\", Kind:\"Role\", Name:\"other\"}: cannot change roleRef"
        ]
    );
    let crb = json!({"metadata": {"name": "b"}, "roleRef": {"apiGroup": g, "kind": "Role", "name": "r"},
        "subjects": [{"kind": "ServiceAccount", "name": "default"}]});
    assert_eq!(
        create(g, "ClusterRoleBinding", crb),
        vec![
            "roleRef.kind: Unsupported value: \"Role\": supported values: \"ClusterRole\"",
            "subjects[0].namespace: Required value",
        ]
    );
}

#[test]
fn small_kinds() {
    let ns_meta = json!({"name": "x", "namespace": "d"});
    let cases: Vec<(&str, &str, Value, Vec<&str>)> = vec![
        (
            "",
            "PersistentVolumeClaim",
            json!({"metadata": ns_meta, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}),
            vec![],
        ),
        (
            "",
            "PersistentVolumeClaim",
            json!({"metadata": ns_meta, "spec": {}}),
            vec![
                "spec.accessModes: Required value: at least 1 access mode is required",
                "spec.resources[storage]: Required value",
            ],
        ),
        (
            "",
            "PersistentVolume",
            json!({"metadata": {"name": "pv"}, "spec": {"accessModes": ["ReadWriteOnce"], "capacity": {"storage": "1Gi"}, "hostPath": {"path": "/tmp"}}}),
            vec![],
        ),
        (
            "",
            "PersistentVolume",
            json!({"metadata": {"name": "pv"}, "spec": {"accessModes": ["ReadWriteSometimes"], "hostPath": {"path": "/tmp"}}}),
            vec![
                "spec.accessModes: Unsupported value: \"ReadWriteSometimes\": supported values: \"ReadOnlyMany\", \"ReadWriteMany\", \"ReadWriteOnce\", \"ReadWriteOncePod\"",
                "spec.capacity: Required value",
            ],
        ),
        (
            "autoscaling",
            "HorizontalPodAutoscaler",
            json!({"apiVersion": "autoscaling/v2", "metadata": ns_meta, "spec": {"minReplicas": 3, "maxReplicas": 2,
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}}}),
            vec![
                "spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`",
            ],
        ),
        (
            "networking.k8s.io",
            "Ingress",
            json!({"metadata": ns_meta, "spec": {"rules": [{"host": "a.example.com", "http": {"paths": [
                {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}}),
            vec![],
        ),
        (
            "networking.k8s.io",
            "Ingress",
            json!({"metadata": ns_meta, "spec": {"rules": [{"http": {"paths": [
                {"path": "/", "backend": {"service": {"name": "web"}}}]}}]}}),
            vec![
                "spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified",
                "spec.rules[0].http.paths[0].backend: Required value: port name or number is required",
            ],
        ),
        (
            "networking.k8s.io",
            "NetworkPolicy",
            json!({"metadata": ns_meta, "spec": {"podSelector": {}, "ingress": [{"from": [{}], "ports": [{"port": 99999}]}]}}),
            vec![
                "spec.ingress[0].ports[0].port: Invalid value: 99999: must be between 1 and 65535, inclusive",
                "spec.ingress[0].from[0]: Required value: must specify a peer",
            ],
        ),
        (
            "scheduling.k8s.io",
            "PriorityClass",
            json!({"metadata": {"name": "system-mine"}, "value": 10}),
            vec![
                "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved",
            ],
        ),
        (
            "policy",
            "PodDisruptionBudget",
            json!({"metadata": ns_meta, "spec": {"minAvailable": 1, "maxUnavailable": 1}}),
            vec![
                "spec: Invalid value: policy.PodDisruptionBudgetSpec{...}: minAvailable and maxUnavailable cannot be both set",
            ],
        ),
        (
            "coordination.k8s.io",
            "Lease",
            json!({"metadata": ns_meta, "spec": {"leaseDurationSeconds": 0}}),
            vec!["spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0"],
        ),
        (
            "storage.k8s.io",
            "StorageClass",
            json!({"metadata": {"name": "fast"}}),
            vec!["provisioner: Required value"],
        ),
        (
            "discovery.k8s.io",
            "EndpointSlice",
            json!({"metadata": ns_meta, "addressType": "IPv4", "endpoints": [{"addresses": ["10.0.0.1"]}, {"addresses": ["x"]}],
                "ports": [{"name": "http", "port": 80}]}),
            vec!["endpoints[1].addresses[0]: Invalid value: \"x\": must be a valid IPv4 address"],
        ),
        (
            "",
            "Endpoints",
            json!({"metadata": ns_meta, "subsets": [{"addresses": [{"ip": "10.1.1.1"}], "ports": [{"port": 80}, {"port": 81}]}]}),
            vec![
                "subsets[0].ports[0].name: Required value",
                "subsets[0].ports[1].name: Required value",
            ],
        ),
        (
            "",
            "Node",
            json!({"metadata": {"name": "node-1"}, "spec": {"taints": [{"key": "k", "effect": "Sometimes"}], "podCIDRs": ["172.7.21.0/24"]}}),
            vec![
                "spec.taints[0].effect: Unsupported value: \"Sometimes\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\"",
            ],
        ),
        (
            "",
            "ResourceQuota",
            json!({"metadata": ns_meta, "spec": {"hard": {"pods": "10", "requests.cpu": "-1"}}}),
            vec![
                "spec.hard[requests.cpu]: Invalid value: \"-1\": must be greater than or equal to 0",
            ],
        ),
        (
            "",
            "LimitRange",
            json!({"metadata": ns_meta, "spec": {"limits": [{"type": "Container", "min": {"cpu": "2"}, "max": {"cpu": "1"}}]}}),
            vec![
                "spec.limits[0].min[cpu]: Invalid value: \"2\": min value 2 is greater than max value 1",
            ],
        ),
    ];
    for (group, kind, obj, want) in cases {
        assert_eq!(create(group, kind, obj.clone()), want, "{kind} {obj}");
    }
}

#[test]
fn status_updates() {
    let mut old = json!({"metadata": {"name": "dev", "resourceVersion": "1"}});
    default_object("", "Namespace", &mut old);
    let mut new = old.clone();
    new["status"]["phase"] = json!("Terminating");
    assert_eq!(
        msgs(validate_status_update("", "Namespace", &new, &old)),
        vec![
            "status.Phase: Invalid value: \"Terminating\": may only be 'Active' if `deletionTimestamp` is empty"
        ]
    );
    let old = json!({"metadata": {"name": "d", "namespace": "x", "resourceVersion": "1"}});
    let mut new = old.clone();
    new["status"] = json!({"replicas": -1});
    assert_eq!(
        msgs(validate_status_update("apps", "Deployment", &new, &old)),
        vec!["status.replicas: Invalid value: -1: must be greater than or equal to 0"]
    );
}

/// Where the field a validator requires is required by upstream's schema
/// (`None`), or why it is enforced anyway (`Some(reason)`).
const ENFORCED_REQUIRED: [(&str, &str, Option<&str>); 30] = [
    ("io.k8s.api.core.v1.PodSpec", "containers", None),
    ("io.k8s.api.core.v1.Container", "name", None),
    (
        "io.k8s.api.core.v1.Container",
        "image",
        Some("optional in the schema for templates; ValidatePodSpec requires it"),
    ),
    ("io.k8s.api.core.v1.ContainerPort", "containerPort", None),
    ("io.k8s.api.core.v1.EnvVar", "name", None),
    ("io.k8s.api.core.v1.Volume", "name", None),
    ("io.k8s.api.core.v1.VolumeMount", "name", None),
    ("io.k8s.api.core.v1.VolumeMount", "mountPath", None),
    ("io.k8s.api.core.v1.ConfigMapKeySelector", "key", None),
    ("io.k8s.api.core.v1.SecretKeySelector", "key", None),
    ("io.k8s.api.core.v1.NodeSelector", "nodeSelectorTerms", None),
    ("io.k8s.api.core.v1.PodAffinityTerm", "topologyKey", None),
    (
        "io.k8s.api.core.v1.TopologySpreadConstraint",
        "whenUnsatisfiable",
        None,
    ),
    (
        "io.k8s.api.core.v1.TopologySpreadConstraint",
        "topologyKey",
        None,
    ),
    ("io.k8s.api.core.v1.ServicePort", "port", None),
    (
        "io.k8s.api.core.v1.ServiceSpec",
        "ports",
        Some("required unless headless or ExternalName (ValidateService)"),
    ),
    ("io.k8s.api.core.v1.Taint", "effect", None),
    (
        "io.k8s.api.core.v1.PersistentVolumeSpec",
        "accessModes",
        Some("ValidatePersistentVolume requires one"),
    ),
    ("io.k8s.api.apps.v1.DeploymentSpec", "selector", None),
    ("io.k8s.api.apps.v1.StatefulSetSpec", "selector", None),
    ("io.k8s.api.batch.v1.CronJobSpec", "schedule", None),
    ("io.k8s.api.rbac.v1.PolicyRule", "verbs", None),
    ("io.k8s.api.rbac.v1.RoleRef", "name", None),
    ("io.k8s.api.rbac.v1.Subject", "name", None),
    ("io.k8s.api.networking.v1.HTTPIngressPath", "pathType", None),
    (
        "io.k8s.api.networking.v1.IngressServiceBackend",
        "name",
        None,
    ),
    (
        "io.k8s.api.autoscaling.v2.CrossVersionObjectReference",
        "kind",
        None,
    ),
    ("io.k8s.api.storage.v1.StorageClass", "provisioner", None),
    ("io.k8s.api.discovery.v1.EndpointSlice", "addressType", None),
    (
        "io.k8s.api.certificates.v1.CertificateSigningRequestSpec",
        "signerName",
        None,
    ),
];

#[test]
fn enforced_fields_exist_in_the_openapi_schema() {
    let path = std::env::var("K8S_OPENAPI_JSON")
        .unwrap_or_else(|_| "/work/shared/reference/kubernetes-openapi-v2.json".to_string());
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("skipping: upstream OpenAPI schema not found at {path}");
        return;
    };
    let doc: Value = serde_json::from_str(&text).expect("schema is JSON");
    let defs = &doc["definitions"];
    for (def, field, reason) in ENFORCED_REQUIRED {
        let d = &defs[def];
        assert!(d.is_object(), "definition {def} missing");
        assert!(
            d["properties"].get(field).is_some(),
            "{def} has no field {field}"
        );
        let required = d["required"]
            .as_array()
            .is_some_and(|r| r.iter().any(|f| f == field));
        match reason {
            None => assert!(required, "{def}.{field} is not required upstream"),
            Some(why) => assert!(!required || !why.is_empty(), "{def}.{field}"),
        }
    }
}

/// The bootstrap RBAC policy the apiserver stores at start must pass the
/// same validation a client's objects do (a false positive here would keep
/// the cluster from starting).
#[test]
fn bootstrap_policy_is_valid() {
    let g = "rbac.authorization.k8s.io";
    let sets = [
        ("ClusterRole", crate::rbac::bootstrap::cluster_roles()),
        (
            "ClusterRoleBinding",
            crate::rbac::bootstrap::cluster_role_bindings(),
        ),
        ("Role", crate::rbac::bootstrap::roles()),
        ("RoleBinding", crate::rbac::bootstrap::role_bindings()),
    ];
    for (kind, objects) in sets {
        assert!(!objects.is_empty(), "no bootstrap {kind}s");
        for obj in objects {
            let errs = create(g, kind, obj.clone());
            assert!(
                errs.is_empty(),
                "{kind} {}: {errs:?}",
                obj["metadata"]["name"]
            );
        }
    }
}

/// Objects as kubectl's generators and this cluster's own daemons write
/// them; every one must default and validate cleanly.
#[test]
fn everyday_objects_are_valid() {
    let owner = json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5d8f9c",
        "uid": "6b1f", "controller": true, "blockOwnerDeletion": true}]);
    let template = json!({"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}});
    let cases: Vec<(&str, &str, Value)> = vec![
        (
            "apps",
            "Deployment",
            json!({"metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}}, "strategy": {}, "template": template}}),
        ),
        (
            "apps",
            "ReplicaSet",
            json!({"metadata": {"name": "web-5d8f9c", "namespace": "default",
            "labels": {"app": "web", "pod-template-hash": "5d8f9c"},
            "annotations": {"deployment.kubernetes.io/revision": "1", "deployment.kubernetes.io/desired-replicas": "1"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "1", "controller": true, "blockOwnerDeletion": true}]},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web", "pod-template-hash": "5d8f9c"}},
                "template": {"metadata": {"labels": {"app": "web", "pod-template-hash": "5d8f9c"}}, "spec": template["spec"].clone()}}}),
        ),
        (
            "",
            "Pod",
            json!({"metadata": {"name": "web-5d8f9c-x7k2p", "generateName": "web-5d8f9c-", "namespace": "default",
            "labels": {"app": "web", "pod-template-hash": "5d8f9c"}, "ownerReferences": owner},
            "spec": template["spec"].clone()}),
        ),
        (
            "",
            "Pod",
            json!({"metadata": {"name": "kube-flannel-ds-abcde", "namespace": "kube-system"},
            "spec": {"hostNetwork": true, "priorityClassName": "system-node-critical", "serviceAccountName": "flannel",
                "tolerations": [{"operator": "Exists", "effect": "NoSchedule"}],
                "containers": [{"name": "kube-flannel", "image": "flannel:v0.25", "ports": [{"containerPort": 8472, "protocol": "UDP"}],
                    "securityContext": {"privileged": false, "capabilities": {"add": ["NET_ADMIN", "NET_RAW"]}},
                    "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
                    "volumeMounts": [{"name": "run", "mountPath": "/run/flannel"}]}],
                "volumes": [{"name": "run", "hostPath": {"path": "/run/flannel", "type": "DirectoryOrCreate"}}]}}),
        ),
        (
            "",
            "Service",
            json!({"metadata": {"name": "kube-dns", "namespace": "kube-system", "labels": {"k8s-app": "kube-dns"}},
            "spec": {"clusterIP": "192.168.0.2", "selector": {"k8s-app": "kube-dns"},
                "ports": [{"name": "dns", "port": 53, "protocol": "UDP"}, {"name": "dns-tcp", "port": 53, "protocol": "TCP"}]}}),
        ),
        (
            "",
            "Service",
            json!({"metadata": {"name": "kubernetes", "namespace": "default", "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"clusterIP": "192.168.0.1", "clusterIPs": ["192.168.0.1"], "ports": [{"name": "https", "port": 443, "targetPort": 6443}]}}),
        ),
        (
            "",
            "Service",
            json!({"metadata": {"name": "web", "namespace": "default"},
            "spec": {"type": "NodePort", "selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 80, "nodePort": 30080}]}}),
        ),
        (
            "",
            "Endpoints",
            json!({"metadata": {"name": "web", "namespace": "default"},
            "subsets": [{"addresses": [{"ip": "172.7.21.5", "nodeName": "10.4.7.21",
                "targetRef": {"kind": "Pod", "namespace": "default", "name": "web-1", "uid": "2"}}],
                "ports": [{"port": 80, "protocol": "TCP"}]}]}),
        ),
        (
            "discovery.k8s.io",
            "EndpointSlice",
            json!({"metadata": {"name": "web-abcde", "namespace": "default",
            "labels": {"kubernetes.io/service-name": "web", "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}},
            "addressType": "IPv4", "endpoints": [{"addresses": ["172.7.21.5"], "conditions": {"ready": true}, "nodeName": "10.4.7.21"}],
            "ports": [{"name": "", "port": 80, "protocol": "TCP"}]}),
        ),
        (
            "",
            "Node",
            json!({"metadata": {"name": "10.4.7.21", "labels": {"kubernetes.io/hostname": "10.4.7.21", "kubernetes.io/os": "linux",
            "node-role.kubernetes.io/worker": ""}},
            "spec": {"podCIDR": "172.7.21.0/24", "podCIDRs": ["172.7.21.0/24"]},
            "status": {"capacity": {"cpu": "2", "memory": "24Gi", "pods": "110"}}}),
        ),
        (
            "coordination.k8s.io",
            "Lease",
            json!({"metadata": {"name": "10.4.7.21", "namespace": "kube-node-lease"},
            "spec": {"holderIdentity": "10.4.7.21", "leaseDurationSeconds": 40, "renewTime": "2026-01-01T00:00:00.000000Z"}}),
        ),
        (
            "",
            "Event",
            json!({"metadata": {"name": "web-1.17abc", "namespace": "default"},
            "involvedObject": {"kind": "Pod", "namespace": "default", "name": "web-1"}, "reason": "Scheduled",
            "message": "Successfully assigned default/web-1 to 10.4.7.21", "type": "Normal", "count": 1,
            "source": {"component": "default-scheduler"}}),
        ),
        (
            "batch",
            "Job",
            json!({"metadata": {"name": "pi", "namespace": "default", "uid": "8c5b"},
            "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "pi", "image": "perl:5.34", "command": ["perl", "-e", "print 1"]}]}}}}),
        ),
        (
            "batch",
            "CronJob",
            json!({"metadata": {"name": "hello", "namespace": "default"},
            "spec": {"schedule": "*/1 * * * *", "jobTemplate": {"metadata": {"name": "hello"}, "spec": {"template": {"spec": {
                "restartPolicy": "OnFailure", "containers": [{"name": "hello", "image": "busybox"}]}}}}}}),
        ),
        (
            "",
            "ConfigMap",
            json!({"metadata": {"name": "cfg", "namespace": "default"}, "data": {"a.conf": "x=1", "B_2": "y"}}),
        ),
        (
            "",
            "Secret",
            json!({"metadata": {"name": "tls", "namespace": "default"}, "type": "kubernetes.io/tls",
            "data": {"tls.crt": "Y2VydA==", "tls.key": "a2V5"}}),
        ),
        (
            "",
            "Secret",
            json!({"metadata": {"name": "reg", "namespace": "default"}, "type": "kubernetes.io/dockerconfigjson",
            "data": {".dockerconfigjson": "eyJhdXRocyI6e319"}}),
        ),
        (
            "",
            "Secret",
            json!({"metadata": {"name": "gen", "namespace": "default"}, "stringData": {"password": "s3cret"}}),
        ),
        (
            "",
            "ServiceAccount",
            json!({"metadata": {"name": "default", "namespace": "default"}}),
        ),
        (
            "",
            "Namespace",
            json!({"metadata": {"name": "kube-system"}}),
        ),
        (
            "",
            "ResourceQuota",
            json!({"metadata": {"name": "q", "namespace": "default"}, "spec": {"hard": {"pods": "10", "requests.cpu": "2", "count/deployments.apps": "5"}}}),
        ),
        (
            "",
            "LimitRange",
            json!({"metadata": {"name": "lr", "namespace": "default"}, "spec": {"limits": [{"type": "Container", "default": {"cpu": "500m"}, "max": {"cpu": "1"}}]}}),
        ),
        (
            "",
            "PersistentVolume",
            json!({"metadata": {"name": "pv1"}, "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
            "nfs": {"server": "10.4.7.200", "path": "/data"}}}),
        ),
        (
            "apps",
            "StatefulSet",
            json!({"metadata": {"name": "db", "namespace": "default"},
            "spec": {"serviceName": "db", "selector": {"matchLabels": {"app": "db"}}, "template": {"metadata": {"labels": {"app": "db"}},
                "spec": {"containers": [{"name": "db", "image": "busybox", "volumeMounts": [{"name": "data", "mountPath": "/data"}]}]}},
                "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}}),
        ),
        (
            "apps",
            "DaemonSet",
            json!({"metadata": {"name": "kube-flannel-ds", "namespace": "kube-system"},
            "spec": {"selector": {"matchLabels": {"app": "flannel"}}, "template": {"metadata": {"labels": {"app": "flannel"}},
                "spec": {"hostNetwork": true, "containers": [{"name": "kube-flannel", "image": "flannel"}]}}}}),
        ),
        (
            "networking.k8s.io",
            "Ingress",
            json!({"metadata": {"name": "web", "namespace": "default"}, "spec": {"ingressClassName": "nginx",
            "rules": [{"host": "*.example.com", "http": {"paths": [{"path": "/", "pathType": "Prefix",
                "backend": {"service": {"name": "web", "port": {"name": "http"}}}}]}}]}}),
        ),
        (
            "networking.k8s.io",
            "NetworkPolicy",
            json!({"metadata": {"name": "deny", "namespace": "default"},
            "spec": {"podSelector": {}, "ingress": [{"from": [{"ipBlock": {"cidr": "172.7.0.0/16", "except": ["172.7.1.0/24"]}},
                {"namespaceSelector": {"matchLabels": {"team": "a"}}, "podSelector": {}}], "ports": [{"port": "http"}, {"port": 8000, "endPort": 8080}]}]}}),
        ),
        (
            "policy",
            "PodDisruptionBudget",
            json!({"metadata": {"name": "web", "namespace": "default"},
            "spec": {"minAvailable": "50%", "selector": {"matchLabels": {"app": "web"}}}}),
        ),
        (
            "scheduling.k8s.io",
            "PriorityClass",
            json!({"metadata": {"name": "high"}, "value": 1000, "globalDefault": false}),
        ),
        (
            "scheduling.k8s.io",
            "PriorityClass",
            json!({"metadata": {"name": "system-node-critical"}, "value": 2000001000}),
        ),
        (
            "storage.k8s.io",
            "StorageClass",
            json!({"metadata": {"name": "local"}, "provisioner": "kubernetes.io/no-provisioner",
            "volumeBindingMode": "WaitForFirstConsumer"}),
        ),
        (
            "autoscaling",
            "HorizontalPodAutoscaler",
            json!({"apiVersion": "autoscaling/v2", "metadata": {"name": "web", "namespace": "default"},
            "spec": {"maxReplicas": 5, "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}}}),
        ),
        (
            "autoscaling",
            "HorizontalPodAutoscaler",
            json!({"apiVersion": "autoscaling/v1", "metadata": {"name": "web", "namespace": "default"},
            "spec": {"maxReplicas": 5, "targetCPUUtilizationPercentage": 50,
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}}}),
        ),
        (
            "certificates.k8s.io",
            "CertificateSigningRequest",
            json!({"metadata": {"name": "node-csr-abc"},
            "spec": {"request": NODE_CSR, "signerName": "kubernetes.io/kube-apiserver-client-kubelet", "usages": ["digital signature", "client auth"]}}),
        ),
        (
            "example.com",
            "Widget",
            json!({"metadata": {"name": "w", "namespace": "default"}, "spec": {"size": 3}}),
        ),
    ];
    for (group, kind, obj) in cases {
        let errs = create(group, kind, obj.clone());
        assert!(
            errs.is_empty(),
            "{kind} {}: {errs:?}",
            obj["metadata"]["name"]
        );
    }
}

/// A real PEM certificate request (P-256, CN=system:node:hdss7-21,
/// O=system:nodes), base64 as in JSON: CSR validation parses it.
const NODE_CSR: &str = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0KTUlIeE1JR1lBZ0VBTURZeEhUQWJCZ05WQkFNTUZITjVjM1JsYlRwdWIyUmxPbWhrYzNNM0xUSXhNUlV3RXdZRApWUVFLREF4emVYTjBaVzA2Ym05a1pYTXdXVEFUQmdjcWhrak9QUUlCQmdncWhrak9QUU1CQndOQ0FBVDZIdkdaCjRNQk5rU0lKamV5Ym5yMzdrdWhBVGF3STJkNHhza1RPeHF3NzBvTFp0TXBieGpMejhpdkxDanJSZU9qWGxPWmoKSkdHN2MyTUNWWmZLMzdkZ29BQXdDZ1lJS29aSXpqMEVBd0lEU0FBd1JRSWdQdmllZzh4MHpLNWJraVpDRHVpdQpJMnlBVnIwS09oVUV6Ujh0V2dNdGdyVUNJUUNLMm1yRnB6czNDNTc4RTYwV1BJL2pzbHVqTG1zQUF4SnZmUlJGCmd0UEJXQT09Ci0tLS0tRU5EIENFUlRJRklDQVRFIFJFUVVFU1QtLS0tLQo=";
