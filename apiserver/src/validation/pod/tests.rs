//! Pod validation, table-driven: a valid (defaulted) pod, then one change
//! per case and the exact upstream message(s) it must produce.

use super::*;
use crate::defaults::default_object;
use serde_json::{Value, json};

fn valid_pod() -> Value {
    let mut pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": {
            "containers": [{
                "name": "nginx", "image": "nginx:1.25",
                "ports": [{"name": "http", "containerPort": 80}],
                "env": [{"name": "MODE", "value": "prod"}],
                "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "1", "memory": "128Mi"}},
                "readinessProbe": {"httpGet": {"path": "/", "port": "http"}}
            }],
            "volumes": [{"name": "data", "emptyDir": {}}],
            "nodeSelector": {"kubernetes.io/os": "linux"},
            "tolerations": [{"key": "k", "operator": "Equal", "value": "v", "effect": "NoSchedule"}]
        }
    });
    default_object("", "Pod", &mut pod);
    pod
}

fn msgs(errs: ErrorList) -> Vec<String> {
    errs.iter().map(ToString::to_string).collect()
}

/// Applies a JSON-pointer edit (`None` removes the field).
fn edit(mut pod: Value, pointer: &str, value: Option<Value>) -> Value {
    let (parent, last) = pointer.rsplit_once('/').unwrap_or(("", pointer));
    let target = pod
        .pointer_mut(parent)
        .unwrap_or_else(|| panic!("no {parent}"));
    match (target, value) {
        (Value::Object(m), Some(v)) => {
            m.insert(last.to_string(), v);
        }
        (Value::Object(m), None) => {
            m.remove(last);
        }
        (Value::Array(a), Some(v)) => {
            let i: usize = last.parse().unwrap_or(0);
            a[i] = v;
        }
        _ => panic!("cannot edit {pointer}"),
    }
    pod
}

#[test]
fn valid_pod_has_no_errors() {
    assert_eq!(msgs(validate_pod(&valid_pod())), Vec::<String>::new());
}

#[test]
fn pod_create_errors() {
    let sub = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    let label = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    let cases: Vec<(&str, Option<Value>, Vec<String>)> = vec![
        ("/metadata/name", Some(json!("Foo_Bar")), vec![format!("metadata.name: Invalid value: \"Foo_Bar\": {sub}")]),
        ("/metadata/namespace", None, vec!["metadata.namespace: Required value".into()]),
        ("/spec/containers", Some(json!([])), vec!["spec.containers: Required value".into()]),
        ("/spec/containers/0/image", None, vec!["spec.containers[0].image: Required value".into()]),
        ("/spec/containers/0/name", Some(json!("Nginx")), vec![format!("spec.containers[0].name: Invalid value: \"Nginx\": {label}")]),
        (
            "/spec/containers/0/ports/0/containerPort",
            Some(json!(70000)),
            vec!["spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive".into()],
        ),
        (
            "/spec/containers/0/ports/0/protocol",
            Some(json!("ICMP")),
            vec!["spec.containers[0].ports[0].protocol: Unsupported value: \"ICMP\": supported values: \"SCTP\", \"TCP\", \"UDP\"".into()],
        ),
        (
            "/spec/containers/0/volumeMounts/0/name",
            Some(json!("logs")),
            vec!["spec.containers[0].volumeMounts[0].name: Not found: \"logs\"".into()],
        ),
        (
            "/spec/restartPolicy",
            Some(json!("Sometimes")),
            vec!["spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"".into()],
        ),
        (
            "/spec/dnsPolicy",
            Some(json!("Google")),
            vec!["spec.dnsPolicy: Unsupported value: \"Google\": supported values: \"ClusterFirstWithHostNet\", \"ClusterFirst\", \"Default\", \"None\"".into()],
        ),
        (
            "/spec/containers/0/resources/requests/cpu",
            Some(json!("2")),
            vec!["spec.containers[0].resources.requests: Invalid value: \"2\": must be less than or equal to cpu limit of 1".into()],
        ),
        (
            "/spec/containers/0/imagePullPolicy",
            Some(json!("Sometimes")),
            vec!["spec.containers[0].imagePullPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"IfNotPresent\", \"Never\"".into()],
        ),
        (
            "/spec/tolerations/0/effect",
            Some(json!("NoWay")),
            vec!["spec.tolerations[0].effect: Unsupported value: \"NoWay\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\"".into()],
        ),
        (
            "/spec/tolerations/0",
            Some(json!({"operator": "Equal", "value": "x"})),
            vec!["spec.tolerations[0].operator: Invalid value: \"Equal\": operator must be Exists when `key` is empty, which means \"match all values and all keys\"".into()],
        ),
        (
            "/spec/nodeSelector",
            Some(json!({"bad key!": "x"})),
            vec!["spec.nodeSelector: Invalid value: \"bad key!\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')".into()],
        ),
        (
            "/spec/containers/0/env/0",
            Some(json!({"name": "A=B", "value": "x"})),
            vec!["spec.containers[0].env[0].name: Invalid value: \"A=B\": a valid environment variable name must consist only of printable ASCII characters other than '='".into()],
        ),
        (
            "/spec/containers/0/env/0",
            Some(json!({"name": "A", "valueFrom": {}})),
            vec!["spec.containers[0].env[0].valueFrom: Invalid value: \"\": must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`".into()],
        ),
        (
            "/spec/volumes/0",
            Some(json!({"name": "data", "configMap": {}})),
            vec![
                "spec.volumes[0].configMap.name: Required value".into(),
                "spec.containers[0].volumeMounts[0].name: Not found: \"data\"".into(),
            ],
        ),
        (
            "/spec/containers/0/readinessProbe",
            Some(json!({"periodSeconds": 10})),
            vec!["spec.containers[0].readinessProbe: Required value: must specify a handler type".into()],
        ),
        (
            "/spec/containers/0/livenessProbe",
            Some(json!({"tcpSocket": {"port": 80}, "successThreshold": 2})),
            vec!["spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1".into()],
        ),
        (
            "/spec/activeDeadlineSeconds",
            Some(json!(0)),
            vec!["spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive".into()],
        ),
    ];
    for (pointer, value, want) in cases {
        let pod = edit(valid_pod(), pointer, value);
        assert_eq!(msgs(validate_pod(&pod)), want, "editing {pointer}");
    }
}

#[test]
fn duplicate_names() {
    let mut pod = valid_pod();
    let c = pod["spec"]["containers"][0].clone();
    if let Some(list) = pod["spec"]["containers"].as_array_mut() {
        list.push(c);
    }
    let m = msgs(validate_pod(&pod));
    assert!(
        m.contains(&"spec.containers[1].name: Duplicate value: \"nginx\"".to_string()),
        "{m:?}"
    );
    let mut pod = valid_pod();
    pod["spec"]["volumes"] =
        json!([{"name": "data", "emptyDir": {}}, {"name": "data", "emptyDir": {}}]);
    assert_eq!(
        msgs(validate_pod(&pod)),
        vec!["spec.volumes[1].name: Duplicate value: \"data\""]
    );
}

#[test]
fn pod_update_rules() {
    let mut old = valid_pod();
    old["metadata"]["resourceVersion"] = json!("5");
    old["metadata"]["uid"] = json!("u1");
    // Image changes are allowed.
    let mut new = old.clone();
    new["spec"]["containers"][0]["image"] = json!("nginx:1.26");
    assert_eq!(msgs(validate_pod_update(&new, &old)), Vec::<String>::new());
    // Adding a toleration is allowed, removing one is not.
    let mut new = old.clone();
    if let Some(t) = new["spec"]["tolerations"].as_array_mut() {
        t.push(json!({"key": "x", "operator": "Exists"}));
    }
    assert_eq!(msgs(validate_pod_update(&new, &old)), Vec::<String>::new());
    let mut new = old.clone();
    new["spec"]["tolerations"] = json!([]);
    assert_eq!(
        msgs(validate_pod_update(&new, &old)),
        vec![
            "spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds"
        ]
    );
    // Ports are fixed.
    let mut new = old.clone();
    new["spec"]["containers"][0]["ports"][0]["containerPort"] = json!(8080);
    assert_eq!(
        msgs(validate_pod_update(&new, &old)),
        vec![
            "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"
        ]
    );
    // Containers cannot be added.
    let mut new = old.clone();
    let c = new["spec"]["containers"][0].clone();
    if let Some(list) = new["spec"]["containers"].as_array_mut() {
        let mut c = c;
        c["name"] = json!("side");
        list.push(c);
    }
    assert_eq!(
        msgs(validate_pod_update(&new, &old)),
        vec!["spec.containers: Forbidden: pod updates may not add or remove containers"]
    );
    // Metadata: name and uid are immutable, resourceVersion required.
    let mut new = old.clone();
    new["metadata"]["uid"] = json!("u2");
    new["metadata"]["resourceVersion"] = json!("");
    assert_eq!(
        msgs(validate_pod_update(&new, &old)),
        vec![
            "metadata.resourceVersion: Invalid value: \"\": must be specified for an update",
            "metadata.uid: Invalid value: \"u2\": field is immutable",
        ]
    );
    // activeDeadlineSeconds may only go down.
    let mut old2 = old.clone();
    old2["spec"]["activeDeadlineSeconds"] = json!(10);
    let mut new = old2.clone();
    new["spec"]["activeDeadlineSeconds"] = json!(20);
    assert_eq!(
        msgs(validate_pod_update(&new, &old2)),
        vec![
            "spec.activeDeadlineSeconds: Invalid value: 20: must be less than or equal to previous value"
        ]
    );
    new["spec"]["activeDeadlineSeconds"] = json!(5);
    assert_eq!(msgs(validate_pod_update(&new, &old2)), Vec::<String>::new());
}

#[test]
fn pod_template_allows_what_a_pod_would() {
    let pod = valid_pod();
    let template = json!({"metadata": {"labels": {"app": "web"}}, "spec": pod["spec"].clone()});
    assert!(validate_pod_template_spec(&template, "spec.template").is_empty());
    let mut bad = template.clone();
    bad["spec"]["containers"][0]["image"] = json!("");
    assert_eq!(
        msgs(validate_pod_template_spec(&bad, "spec.template")),
        vec!["spec.template.spec.containers[0].image: Required value"]
    );
}

#[test]
fn image_whitespace_is_a_pod_only_rule() {
    let pod = edit(
        valid_pod(),
        "/spec/containers/0/image",
        Some(json!(" nginx")),
    );
    assert_eq!(
        msgs(validate_pod(&pod)),
        vec![
            "spec.containers[0].image: Invalid value: \" nginx\": must not have leading or trailing whitespace"
        ]
    );
    let template = json!({"metadata": {}, "spec": pod["spec"].clone()});
    assert!(validate_pod_template_spec(&template, "spec.template").is_empty());
}

#[test]
fn init_containers() {
    let mut pod = valid_pod();
    pod["spec"]["initContainers"] = json!([{
        "name": "nginx", "image": "busybox", "imagePullPolicy": "IfNotPresent",
        "terminationMessagePolicy": "File", "readinessProbe": {"exec": {"command": ["true"]}}
    }]);
    assert_eq!(
        msgs(validate_pod(&pod)),
        vec![
            "spec.initContainers[0].name: Duplicate value: \"nginx\"",
            "spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers without restartPolicy=Always",
        ]
    );
    // A sidecar (restartPolicy Always) may have probes.
    pod["spec"]["initContainers"][0]["name"] = json!("side");
    pod["spec"]["initContainers"][0]["restartPolicy"] = json!("Always");
    assert_eq!(msgs(validate_pod(&pod)), Vec::<String>::new());
}
