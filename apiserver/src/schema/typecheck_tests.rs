use super::*;
use serde_json::json;

const DEPLOYMENT: &str = "io.k8s.api.apps.v1.Deployment";
const POD: &str = "io.k8s.api.core.v1.Pod";
const CONFIGMAP: &str = "io.k8s.api.core.v1.ConfigMap";
const SERVICE: &str = "io.k8s.api.core.v1.Service";

fn json_err(def: &str, v: Value) -> Option<String> {
    check(def, &v, Decoder::Json).err().map(|e| e.message)
}

#[test]
fn well_typed_bodies_pass() {
    let ok = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "w", "labels": {"a": "b"}, "creationTimestamp": null},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"a": "b"}},
            "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
            "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c",
                "image": "nginx", "ports": [{"containerPort": 80}],
                "resources": {"limits": {"cpu": 1, "memory": "1Gi"}}}]}}},
        "unknownField": {"anything": [1]}});
    assert_eq!(json_err(DEPLOYMENT, ok.clone()), None);
    assert!(check(DEPLOYMENT, &ok, Decoder::Unstructured).is_ok());
    assert_eq!(json_err("io.example.Unknown", json!({"a": 1})), None);
}

#[test]
fn json_decoder_messages_match_go() {
    let cases: Vec<(&str, Value, &str)> = vec![
        // string into int
        (
            DEPLOYMENT,
            json!({"spec": {"replicas": "three"}}),
            "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32",
        ),
        // bool into int
        (
            DEPLOYMENT,
            json!({"spec": {"replicas": true}}),
            "json: cannot unmarshal bool into Go struct field DeploymentSpec.spec.replicas of type int32",
        ),
        // int32 overflow and fractions keep the literal
        (
            DEPLOYMENT,
            json!({"spec": {"replicas": 3_000_000_000_i64}}),
            "json: cannot unmarshal number 3000000000 into Go struct field DeploymentSpec.spec.replicas of type int32",
        ),
        (
            DEPLOYMENT,
            json!({"spec": {"replicas": 1.5}}),
            "json: cannot unmarshal number 1.5 into Go struct field DeploymentSpec.spec.replicas of type int32",
        ),
        // object into array
        (
            POD,
            json!({"spec": {"containers": {}}}),
            "json: cannot unmarshal object into Go struct field PodSpec.spec.containers of type []v1.Container",
        ),
        // array into object (a struct)
        (
            DEPLOYMENT,
            json!({"spec": []}),
            "json: cannot unmarshal array into Go struct field Deployment.spec of type v1.DeploymentSpec",
        ),
        // number into string, inside a list element (no index in Go's path)
        (
            POD,
            json!({"spec": {"containers": [{"name": "c", "image": 5}]}}),
            "json: cannot unmarshal number into Go struct field Container.spec.containers.image of type string",
        ),
        // map values
        (
            CONFIGMAP,
            json!({"data": {"k": 1}}),
            "json: cannot unmarshal number into Go struct field ConfigMap.data of type string",
        ),
        (
            CONFIGMAP,
            json!({"metadata": {"labels": {"app": 1}}}),
            "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string",
        ),
        (
            CONFIGMAP,
            json!({"metadata": {"labels": ["app"]}}),
            "json: cannot unmarshal array into Go struct field ObjectMeta.metadata.labels of type map[string]string",
        ),
        // string into bool
        (
            POD,
            json!({"spec": {"hostNetwork": "yes"}}),
            "json: cannot unmarshal string into Go struct field PodSpec.spec.hostNetwork of type bool",
        ),
        // an element of a list of structs
        (
            POD,
            json!({"spec": {"containers": ["nginx"]}}),
            "json: cannot unmarshal string into Go struct field PodSpec.spec.containers of type v1.Container",
        ),
        // named Go types
        (
            POD,
            json!({"spec": {"restartPolicy": 1}}),
            "json: cannot unmarshal number into Go struct field PodSpec.spec.restartPolicy of type v1.RestartPolicy",
        ),
        (
            POD,
            json!({"spec": {"containers": [{"name": "c", "resources": {"limits": []}}]}}),
            "json: cannot unmarshal array into Go struct field ResourceRequirements.spec.containers.resources.limits of type v1.ResourceList",
        ),
        // custom unmarshalers
        (
            SERVICE,
            json!({"spec": {"ports": [{"port": 80, "targetPort": true}]}}),
            "json: cannot unmarshal bool into Go struct field ServicePort.spec.ports.targetPort of type int32",
        ),
        (
            POD,
            json!({"spec": {"containers": [{"name": "c", "resources": {"limits": {"cpu": true}}}]}}),
            "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
        ),
        (
            POD,
            json!({"metadata": {"creationTimestamp": 5}}),
            "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.creationTimestamp of type string",
        ),
        // int64 fields
        (
            POD,
            json!({"spec": {"terminationGracePeriodSeconds": "30"}}),
            "json: cannot unmarshal string into Go struct field PodSpec.spec.terminationGracePeriodSeconds of type int64",
        ),
    ];
    for (def, body, want) in cases {
        assert_eq!(json_err(def, body.clone()).as_deref(), Some(want), "{body}");
    }
}

#[test]
fn nulls_and_raw_json_pass() {
    let cases = [
        (
            DEPLOYMENT,
            json!({"spec": {"replicas": null, "template": null}}),
        ),
        (
            "io.k8s.api.apps.v1.ControllerRevision",
            json!({"data": [1, "x"], "revision": 2}),
        ),
        (
            SERVICE,
            json!({"spec": {"ports": [{"port": 80, "targetPort": "http"}]}}),
        ),
    ];
    for (def, body) in cases {
        assert_eq!(json_err(def, body.clone()), None, "{body}");
    }
}

#[test]
fn unstructured_converter_messages() {
    let cases: Vec<(Value, Option<&str>)> = vec![
        (
            json!({"spec": {"replicas": "three"}}),
            Some("unrecognized type: int32"),
        ),
        (
            json!({"spec": {"replicas": 1.5}}),
            Some("cannot convert float64 to int32"),
        ),
        // The converter truncates integral floats and wraps overflow.
        (json!({"spec": {"replicas": 2.0}}), None),
        (json!({"spec": {"replicas": 3_000_000_000_i64}}), None),
        (
            json!({"spec": {"template": {"spec": {"containers": {}}}}}),
            Some("cannot restore slice from map"),
        ),
        (
            json!({"spec": {"selector": "app=web"}}),
            Some("cannot restore struct from: string"),
        ),
        (
            json!({"metadata": {"labels": {"a": 1}}}),
            Some("cannot convert int64 to string"),
        ),
        (
            json!({"metadata": {"labels": 5}}),
            Some("cannot restore map from int64"),
        ),
    ];
    for (body, want) in cases {
        let got = check(DEPLOYMENT, &body, Decoder::Unstructured)
            .err()
            .map(|e| e.message);
        assert_eq!(got.as_deref(), want, "{body}");
    }
}

#[test]
fn go_format_prints_like_percent_plus_v() {
    let p = json!({"spec": {"replicas": "three", "paused": true, "n": 2.0, "f": 1.5,
        "l": ["a", 1], "z": null}});
    assert_eq!(
        go_format(&p),
        "map[spec:map[f:1.5 l:[a 1] n:2 paused:true replicas:three z:<nil>]]"
    );
}
