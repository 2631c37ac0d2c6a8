//! Cases after the behaviour documented for strategic merge patch
//! (kubectl patch task page and the strategic-merge-patch design doc),
//! written for this project.

use super::*;
use crate::registry::patch::types::Guessed;
use serde_json::json;

fn run(original: Value, patch: Value) -> Result<Value> {
    let p = patch.as_object().cloned().unwrap_or_default();
    apply(&Guessed, None, &original, &p)
}

fn deployment() -> Value {
    json!({
        "metadata": {"name": "web", "labels": {"app": "web", "tier": "x"}, "finalizers": ["a/x"]},
        "spec": {
            "replicas": 2,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}},
            "template": {"spec": {
                "containers": [
                    {"name": "app", "image": "app:1", "args": ["-a"]},
                    {"name": "side", "image": "side:1"}
                ],
                "tolerations": [{"key": "a", "operator": "Exists"}],
                "volumes": [{"name": "v", "emptyDir": {}}]
            }}
        }
    })
}

#[test]
fn documented_cases() {
    let cases: Vec<(&str, Value, Value, Value)> = vec![
        (
            "keyed list merges by name and appends new items",
            json!({"spec": {"template": {"spec": {"containers": [{"name": "new", "image": "n:1"}]}}}}),
            json!("/spec/template/spec/containers"),
            json!([
                {"name": "app", "image": "app:1", "args": ["-a"]},
                {"name": "side", "image": "side:1"},
                {"name": "new", "image": "n:1"}
            ]),
        ),
        (
            "keyed item merges field by field",
            json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "app:2"}]}}}}),
            json!("/spec/template/spec/containers/0"),
            json!({"name": "app", "image": "app:2", "args": ["-a"]}),
        ),
        (
            "list without a strategy is replaced",
            json!({"spec": {"template": {"spec": {"tolerations": [{"key": "b", "operator": "Exists"}]}}}}),
            json!("/spec/template/spec/tolerations"),
            json!([{"key": "b", "operator": "Exists"}]),
        ),
        (
            "scalar list without a strategy is replaced",
            json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "args": ["-b"]}]}}}}),
            json!("/spec/template/spec/containers/0/args"),
            json!(["-b"]),
        ),
        (
            "$patch: delete removes a keyed item",
            json!({"spec": {"template": {"spec": {"containers": [{"name": "side", "$patch": "delete"}]}}}}),
            json!("/spec/template/spec/containers"),
            json!([{"name": "app", "image": "app:1", "args": ["-a"]}]),
        ),
        (
            "$patch: replace on a map replaces it",
            json!({"spec": {"strategy": {"$patch": "replace", "type": "Recreate"}}}),
            json!("/spec/strategy"),
            json!({"type": "Recreate"}),
        ),
        (
            "$patch: delete on a map removes it",
            json!({"metadata": {"labels": {"$patch": "delete"}}}),
            json!("/metadata/labels"),
            Value::Null,
        ),
        (
            "$patch: replace as a list item replaces the list",
            json!({"spec": {"template": {"spec": {"containers": [{"$patch": "replace"}, {"name": "only", "image": "o"}]}}}}),
            json!("/spec/template/spec/containers"),
            json!([{"name": "only", "image": "o"}]),
        ),
        (
            "$retainKeys clears the keys not listed",
            json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}),
            json!("/spec/strategy"),
            json!({"type": "Recreate"}),
        ),
        (
            "$retainKeys inside a keyed item (volume source switch)",
            json!({"spec": {"template": {"spec": {"volumes": [{"name": "v", "$retainKeys": ["name", "hostPath"], "hostPath": {"path": "/x"}}]}}}}),
            json!("/spec/template/spec/volumes"),
            json!([{"name": "v", "hostPath": {"path": "/x"}}]),
        ),
        (
            "null deletes a key",
            json!({"metadata": {"labels": {"tier": null}}}),
            json!("/metadata/labels"),
            json!({"app": "web"}),
        ),
        (
            "finalizers merge as a set",
            json!({"metadata": {"finalizers": ["b/y", "a/x"]}}),
            json!("/metadata/finalizers"),
            json!(["a/x", "b/y"]),
        ),
        (
            "$deleteFromPrimitiveList removes scalars",
            json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a/x"]}}),
            json!("/metadata/finalizers"),
            json!([]),
        ),
        (
            "$setElementOrder reorders a keyed list",
            json!({"spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "side"}, {"name": "app"}]}}}}),
            json!("/spec/template/spec/containers"),
            json!([{"name": "side", "image": "side:1"}, {"name": "app", "image": "app:1", "args": ["-a"]}]),
        ),
        (
            "$setElementOrder with a delete keeps the rest in order",
            json!({"spec": {"template": {"spec": {
                "$setElementOrder/containers": [{"name": "side"}],
                "containers": [{"name": "app", "$patch": "delete"}]
            }}}}),
            json!("/spec/template/spec/containers"),
            json!([{"name": "side", "image": "side:1"}]),
        ),
        (
            "directives never reach the stored object",
            json!({"spec": {"template": {"spec": {"containers": [{"name": "x", "image": "x", "env": [{"name": "A", "value": "1"}]}]}}}}),
            json!("/spec/template/spec/containers/2"),
            json!({"name": "x", "image": "x", "env": [{"name": "A", "value": "1"}]}),
        ),
    ];
    for (what, patch, pointer, want) in cases {
        let out = run(deployment(), patch).unwrap_or_else(|e| panic!("{what}: {e}"));
        let got = out
            .pointer(pointer.as_str().unwrap_or(""))
            .cloned()
            .unwrap_or(Value::Null);
        assert_eq!(got, want, "{what}");
        assert!(
            !out.to_string().contains('$'),
            "{what}: directive left in {out}"
        );
    }
}

#[test]
fn invalid_patches_get_upstreams_errors() {
    let cases: Vec<(&str, Value, StrategicError, u16)> = vec![
        (
            "retainKeys not a list",
            json!({"spec": {"strategy": {"$retainKeys": "type"}}}),
            StrategicError::BadRetainKeys,
            400,
        ),
        (
            "patch key missing from retainKeys",
            json!({"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {"maxSurge": 2}}}}),
            StrategicError::NotMatchRetainKeys,
            422,
        ),
        (
            "primitive list directive not a list",
            json!({"metadata": {"$deleteFromPrimitiveList/finalizers": "a/x"}}),
            StrategicError::BadPrimitiveList,
            400,
        ),
        (
            "setElementOrder not a list",
            json!({"spec": {"template": {"spec": {"$setElementOrder/containers": {"name": "a"}}}}}),
            StrategicError::BadSetElementOrder,
            400,
        ),
        (
            "keyed item without its merge key",
            json!({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}}),
            StrategicError::NoMergeKey(r#"{"image":"x"}"#.into(), "name".into()),
            400,
        ),
        (
            "list of lists",
            json!({"spec": {"template": {"spec": {"containers": [["a"]]}}}}),
            StrategicError::ListOfLists,
            422,
        ),
    ];
    for (what, patch, want, code) in cases {
        let err = run(deployment(), patch).expect_err(what);
        assert_eq!(err, want, "{what}");
        assert_eq!(err.code(), code, "{what}");
    }
    let unknown = run(deployment(), json!({"spec": {"$patch": "sideways"}})).expect_err("bad");
    assert!(
        unknown
            .to_string()
            .starts_with("Unknown patch type: sideways")
    );
}

#[test]
fn schema_drives_merge_keys_per_type() {
    use crate::registry::patch::types::FromSchema;
    let pod = crate::schema::definition_of("", "v1", "Pod");
    let live = json!({"spec": {
        "containers": [{"name": "a", "image": "x", "ports": [{"containerPort": 80, "protocol": "TCP"}]}],
        "tolerations": [{"key": "k", "operator": "Exists"}]
    }});
    let patch = json!({"spec": {
        "containers": [{"name": "a", "ports": [{"containerPort": 443, "protocol": "TCP"}]}],
        "tolerations": [{"key": "z", "operator": "Exists"}]
    }});
    let p = patch.as_object().cloned().unwrap_or_default();
    let out = apply(&FromSchema, pod, &live, &p).expect("valid");
    assert_eq!(
        out["spec"]["containers"][0]["ports"],
        json!([{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 443, "protocol": "TCP"}])
    );
    assert_eq!(out["spec"]["containers"][0]["image"], "x");
    assert_eq!(
        out["spec"]["tolerations"],
        json!([{"key": "z", "operator": "Exists"}])
    );
    let svc = crate::schema::definition_of("", "v1", "Service");
    let live = json!({"spec": {"ports": [{"port": 80, "name": "http"}]}});
    let p = json!({"spec": {"ports": [{"port": 443, "name": "https"}]}});
    let out = apply(
        &FromSchema,
        svc,
        &live,
        p.as_object().unwrap_or(&Map::new()),
    )
    .expect("valid");
    assert_eq!(out["spec"]["ports"].as_array().map(Vec::len), Some(2));
}
