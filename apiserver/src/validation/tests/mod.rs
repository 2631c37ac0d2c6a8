//! Table-driven tests across kinds: ObjectMeta rules, Services, workloads
//! and Jobs, each bad case with upstream's exact message. RBAC, the smaller
//! kinds and the schema cross-checks are in `kinds.rs`.

use super::*;
use serde_json::{Value, json};

fn msgs(errs: ErrorList) -> Vec<String> {
    errs.iter().map(ToString::to_string).collect()
}

fn create(group: &str, kind: &str, obj: Value) -> Vec<String> {
    let mut obj = obj;
    default_object(group, kind, &mut obj);
    msgs(validate_create(group, kind, &obj))
}

const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

#[test]
fn object_meta_rules() {
    let cm = |meta: Value| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta});
    let cases: Vec<(Value, Vec<String>)> = vec![
        (cm(json!({"name": "ok", "namespace": "default"})), vec![]),
        (
            cm(json!({"name": "Foo_Bar", "namespace": "default"})),
            vec![format!("metadata.name: Invalid value: \"Foo_Bar\": {SUBDOMAIN_MSG}")],
        ),
        (
            cm(json!({"namespace": "default"})),
            vec!["metadata.name: Required value: name or generateName is required".into()],
        ),
        (
            cm(json!({"name": "x"})),
            vec!["metadata.namespace: Required value".into()],
        ),
        (
            cm(json!({"name": "x", "namespace": "Bad"})),
            vec!["metadata.namespace: Invalid value: \"Bad\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')".into()],
        ),
        (
            cm(json!({"name": "x", "generateName": "web-", "namespace": "d"})),
            vec![],
        ),
        (
            cm(json!({"name": "x", "generateName": "Web-", "namespace": "d"})),
            vec![format!("metadata.generateName: Invalid value: \"Web-\": {SUBDOMAIN_MSG}")],
        ),
        (
            cm(json!({"name": "x", "namespace": "d", "labels": {"app": "bad value"}})),
            vec!["metadata.labels: Invalid value: \"bad value\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')".into()],
        ),
        (
            cm(json!({"name": "x", "namespace": "d", "labels": {"example.com/": "v"}})),
            vec![
                "metadata.labels: Invalid value: \"example.com/\": name part must be non-empty".into(),
                "metadata.labels: Invalid value: \"example.com/\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')".into(),
            ],
        ),
        (
            cm(json!({"name": "x", "namespace": "d", "annotations": {"Example.COM/Key": "v"}})),
            vec![],
        ),
        (
            cm(json!({"name": "x", "namespace": "d", "annotations": {"k": "v".repeat(256 * 1024)}})),
            vec!["metadata.annotations: Too long: must have at most 262144 bytes".into()],
        ),
        (
            cm(json!({"name": "x", "namespace": "d", "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "r"}]})),
            vec!["metadata.ownerReferences.uid: Invalid value: \"\": uid must not be empty".into()],
        ),
    ];
    for (obj, want) in cases {
        assert_eq!(
            create("", "ConfigMap", obj.clone()),
            want,
            "{}",
            obj["metadata"]
        );
    }
    // Cluster-scoped kinds forbid a namespace.
    assert_eq!(
        create(
            "",
            "Namespace",
            json!({"metadata": {"name": "dev", "namespace": "x"}})
        ),
        vec!["metadata.namespace: Forbidden: not allowed on this type"]
    );
    assert_eq!(
        create("", "Namespace", json!({"metadata": {"name": "a.b"}})),
        vec!["metadata.name: Invalid value: \"a.b\": must not contain dots"]
    );
    // Unknown kinds: metadata only, no namespace rule.
    assert!(
        create(
            "example.com",
            "Widget",
            json!({"metadata": {"name": "w"}, "spec": {"x": 1}})
        )
        .is_empty()
    );
}

#[test]
fn metadata_update_rules() {
    let old = json!({"metadata": {"name": "a", "namespace": "d", "uid": "1", "resourceVersion": "3",
        "creationTimestamp": "2026-01-01T00:00:00Z", "generation": 2}});
    let mut new = old.clone();
    new["metadata"]["name"] = json!("b");
    new["metadata"]["generation"] = json!(1);
    new["metadata"]["creationTimestamp"] = json!("2026-02-01T00:00:00Z");
    assert_eq!(
        msgs(validate_update("", "ConfigMap", &new, &old)),
        vec![
            "metadata.generation: Invalid value: 1: must not be decremented",
            "metadata.name: Invalid value: \"b\": field is immutable",
            "metadata.creationTimestamp: Invalid value: \"2026-02-01T00:00:00Z\": field is immutable",
        ]
    );
}

fn service(spec: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"}, "spec": spec})
}

#[test]
fn service_rules() {
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (
            service(json!({"selector": {"app": "web"}, "ports": [{"port": 80}]})),
            vec![],
        ),
        (
            service(json!({"clusterIP": "None", "selector": {"app": "web"}})),
            vec![],
        ),
        (
            service(json!({"type": "ExternalName", "externalName": "example.com"})),
            vec![],
        ),
        (
            service(json!({"selector": {"app": "web"}})),
            vec!["spec.ports: Required value"],
        ),
        (
            service(json!({"ports": [{"port": 70000}]})),
            vec![
                "spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive",
                // targetPort was defaulted to the same bad number, as upstream reports too.
                "spec.ports[0].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
            ],
        ),
        (
            service(json!({"ports": [{"port": 80}, {"port": 443}]})),
            vec![
                "spec.ports[0].name: Required value",
                "spec.ports[1].name: Required value",
            ],
        ),
        (
            service(json!({"ports": [{"name": "a", "port": 80}, {"name": "a", "port": 81}]})),
            vec!["spec.ports[1].name: Duplicate value: \"a\""],
        ),
        (
            service(json!({"ports": [{"port": 80, "nodePort": 30080}]})),
            vec!["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"],
        ),
        (
            service(json!({"type": "NodePort", "clusterIP": "None", "ports": [{"port": 80}]})),
            vec![
                "spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for NodePort services",
            ],
        ),
        (
            service(json!({"type": "Magic", "ports": [{"port": 80}]})),
            vec![
                "spec.type: Unsupported value: \"Magic\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\"",
            ],
        ),
        (
            service(json!({"clusterIP": "10.0.0.300", "ports": [{"port": 80}]})),
            vec![
                "spec.clusterIPs[0]: Invalid value: \"10.0.0.300\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
            ],
        ),
        (
            service(json!({"type": "ExternalName"})),
            vec!["spec.externalName: Required value"],
        ),
        (
            service(
                json!({"ports": [{"port": 80, "protocol": "TCP", "name": "a"}, {"port": 80, "protocol": "TCP", "name": "b"}]}),
            ),
            vec![
                "spec.ports[1]: Duplicate value: core.ServicePort{Name:\"\", Protocol:\"TCP\", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}, NodePort:0}",
            ],
        ),
    ];
    for (svc, want) in cases {
        assert_eq!(create("", "Service", svc.clone()), want, "{}", svc["spec"]);
    }
    let mut bad_name = service(json!({"ports": [{"port": 80}]}));
    bad_name["metadata"]["name"] = json!("1web");
    assert_eq!(
        create("", "Service", bad_name),
        vec![
            "metadata.name: Invalid value: \"1web\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
        ]
    );
}

#[test]
fn service_update_keeps_cluster_ip() {
    let mut old = service(
        json!({"clusterIP": "192.168.0.10", "clusterIPs": ["192.168.0.10"], "ports": [{"port": 80}]}),
    );
    default_object("", "Service", &mut old);
    old["metadata"]["resourceVersion"] = json!("1");
    let mut new = old.clone();
    new["spec"]["clusterIP"] = json!("192.168.0.11");
    new["spec"]["clusterIPs"] = json!(["192.168.0.11"]);
    assert_eq!(
        msgs(validate_update("", "Service", &new, &old)),
        vec![
            "spec.clusterIPs[0]: Invalid value: []string{\"192.168.0.11\"}: may not change once set"
        ]
    );
    // kubectl apply without clusterIP: the stored allocation is carried over.
    let mut applied = service(json!({"ports": [{"port": 80}]}));
    applied["metadata"]["resourceVersion"] = json!("1");
    default_object("", "Service", &mut applied);
    carry_over_service_allocations(&mut applied, &old);
    assert_eq!(applied["spec"]["clusterIP"], "192.168.0.10");
    assert!(validate_update("", "Service", &applied, &old).is_empty());
    // Node port range of the allocator.
    let np = service(json!({"type": "NodePort", "ports": [{"port": 80, "nodePort": 80}]}));
    assert_eq!(
        msgs(validate_node_port_range(&np, 30000, 32767)),
        vec![
            "spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767"
        ]
    );
}

fn deployment(selector: Value, labels: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"selector": selector, "template": {"metadata": {"labels": labels},
            "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}}})
}

#[test]
fn workload_rules() {
    assert!(
        create(
            "apps",
            "Deployment",
            deployment(json!({"matchLabels": {"app": "x"}}), json!({"app": "x"}))
        )
        .is_empty()
    );
    assert_eq!(
        create(
            "apps",
            "Deployment",
            deployment(json!({"matchLabels": {"app": "y"}}), json!({"app": "x"}))
        ),
        vec![
            "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"x\"}: `selector` does not match template `labels`"
        ]
    );
    let mut no_sel = deployment(json!(null), json!({"app": "x"}));
    if let Some(spec) = no_sel["spec"].as_object_mut() {
        spec.remove("selector");
    }
    assert_eq!(
        create("apps", "Deployment", no_sel),
        vec![
            "spec.selector: Required value",
            "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"x\"}: `selector` does not match template `labels`",
        ]
    );
    let mut neg = deployment(json!({"matchLabels": {"app": "x"}}), json!({"app": "x"}));
    neg["spec"]["replicas"] = json!(-1);
    neg["spec"]["template"]["spec"]["restartPolicy"] = json!("Never");
    assert_eq!(
        create("apps", "Deployment", neg),
        vec![
            "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
            "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\"",
        ]
    );
    let mut zero = deployment(json!({"matchLabels": {"app": "x"}}), json!({"app": "x"}));
    zero["spec"]["strategy"] =
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 0}});
    assert_eq!(
        create("apps", "Deployment", zero),
        vec![
            "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}: may not be 0 when `maxSurge` is 0"
        ]
    );
    // Selector is immutable on update.
    let mut old = deployment(
        json!({"matchLabels": {"app": "x"}}),
        json!({"app": "x", "v": "1"}),
    );
    default_object("apps", "Deployment", &mut old);
    old["metadata"]["resourceVersion"] = json!("7");
    let mut new = old.clone();
    new["spec"]["selector"] = json!({"matchLabels": {"app": "x", "v": "1"}});
    assert_eq!(
        msgs(validate_update("apps", "Deployment", &new, &old)),
        vec![
            "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"x\", \"v\":\"1\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"
        ]
    );
    let mut scaled = old.clone();
    scaled["spec"]["replicas"] = json!(5);
    assert!(validate_update("apps", "Deployment", &scaled, &old).is_empty());

    // StatefulSet: only some spec fields may change.
    let mut sts = deployment(json!({"matchLabels": {"app": "x"}}), json!({"app": "x"}));
    sts["kind"] = json!("StatefulSet");
    sts["spec"]["serviceName"] = json!("web");
    default_object("apps", "StatefulSet", &mut sts);
    assert_eq!(
        msgs(validate_create("apps", "StatefulSet", &sts)),
        Vec::<String>::new()
    );
    sts["metadata"]["resourceVersion"] = json!("1");
    let mut changed = sts.clone();
    changed["spec"]["serviceName"] = json!("other");
    assert_eq!(
        msgs(validate_update("apps", "StatefulSet", &changed, &sts)),
        vec![
            "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
        ]
    );
    // DaemonSet defaults validate; both surge and unavailable are rejected.
    let mut ds = deployment(json!({"matchLabels": {"app": "x"}}), json!({"app": "x"}));
    ds["kind"] = json!("DaemonSet");
    assert!(create("apps", "DaemonSet", ds.clone()).is_empty());
    ds["spec"]["updateStrategy"] =
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 1}});
    assert_eq!(
        create("apps", "DaemonSet", ds),
        vec![
            "spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: intstr.IntOrString{Type:0, IntVal:1, StrVal:\"\"}: may not be set when maxUnavailable is non-zero"
        ]
    );
}

fn job(restart: &str) -> Value {
    json!({"apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "pi", "namespace": "default", "uid": "0f6c"},
        "spec": {"template": {"spec": {"restartPolicy": restart,
            "containers": [{"name": "pi", "image": "perl"}]}}}})
}

#[test]
fn job_and_cronjob_rules() {
    assert_eq!(create("batch", "Job", job("Never")), Vec::<String>::new());
    assert_eq!(
        create("batch", "Job", job("Always")),
        vec![
            "spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\""
        ]
    );
    let mut wrong = job("Never");
    wrong["spec"]["selector"] =
        json!({"matchLabels": {"batch.kubernetes.io/controller-uid": "other"}});
    let m = create("batch", "Job", wrong);
    assert!(
        m.contains(&"spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"batch.kubernetes.io/controller-uid\":\"other\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: `selector` not auto-generated".to_string()),
        "{m:?}"
    );
    // Template is immutable once created.
    let mut old = job("Never");
    default_object("batch", "Job", &mut old);
    old["metadata"]["resourceVersion"] = json!("2");
    let mut new = old.clone();
    new["spec"]["template"]["spec"]["containers"][0]["image"] = json!("perl:5");
    assert_eq!(
        msgs(validate_update("batch", "Job", &new, &old)),
        vec!["spec.template: Invalid value: core.PodTemplateSpec{...}: field is immutable"]
    );

    let cron = |schedule: &str| {
        json!({"apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": "hello", "namespace": "default"},
            "spec": {"schedule": schedule, "jobTemplate": {"spec": {"template": {"spec": {
                "restartPolicy": "OnFailure", "containers": [{"name": "c", "image": "busybox"}]}}}}}})
    };
    assert_eq!(
        create("batch", "CronJob", cron("*/1 * * * *")),
        Vec::<String>::new()
    );
    assert_eq!(
        create("batch", "CronJob", cron("")),
        vec!["spec.schedule: Required value"]
    );
    assert_eq!(
        create("batch", "CronJob", cron("61 * * * *")),
        vec![
            "spec.schedule: Invalid value: \"61 * * * *\": end of range (61) above maximum (59): 61"
        ]
    );
    let mut long = cron("@hourly");
    long["metadata"]["name"] = json!("a".repeat(53));
    assert_eq!(
        create("batch", "CronJob", long),
        vec![format!(
            "metadata.name: Invalid value: \"{}\": must be no more than 52 characters",
            "a".repeat(53)
        )]
    );
}

mod kinds;
