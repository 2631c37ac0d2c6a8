use super::*;
use crate::schema::{definitions, kinds, ref_name};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::json;

/// A parsed JSON document that keeps its keys' order (our `Value` sorts).
#[derive(Debug)]
enum J {
    Obj(Vec<(String, J)>),
    Arr(Vec<J>),
    Scalar(Value),
}

impl<'de> Deserialize<'de> for J {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = J;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<J, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = a.next_entry::<String, J>()? {
                    out.push((k, v));
                }
                Ok(J::Obj(out))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<J, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = a.next_element::<J>()? {
                    out.push(v);
                }
                Ok(J::Arr(out))
            }
            fn visit_bool<E>(self, v: bool) -> Result<J, E> {
                Ok(J::Scalar(Value::Bool(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<J, E> {
                Ok(J::Scalar(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<J, E> {
                Ok(J::Scalar(v.into()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<J, E> {
                Ok(J::Scalar(v.into()))
            }
            fn visit_str<E>(self, v: &str) -> Result<J, E> {
                Ok(J::Scalar(Value::String(v.into())))
            }
            fn visit_unit<E>(self) -> Result<J, E> {
                Ok(J::Scalar(Value::Null))
            }
        }
        d.deserialize_any(V)
    }
}

fn keys(j: &J) -> Vec<&str> {
    match j {
        J::Obj(e) => e.iter().map(|(k, _)| k.as_str()).collect(),
        _ => vec![],
    }
}

fn get<'a>(j: &'a J, k: &str) -> Option<&'a J> {
    match j {
        J::Obj(e) => e.iter().find(|(n, _)| n == k).map(|(_, v)| v),
        _ => None,
    }
}

fn parse(bytes: &[u8]) -> J {
    serde_json::from_slice(bytes).expect("canonical output is JSON")
}

/// Walks an encoded object beside its definition and checks upstream's
/// rules derived from the schema: every key of a known definition in Go
/// field order (`field_order.json`), unknown keys after, always-written
/// fields present, omitted zeros absent.
fn check(def: &str, j: &J, path: &str) {
    let order = field_order();
    let defs = definitions();
    let J::Obj(entries) = j else { return };
    let props = defs
        .get(def)
        .and_then(|d| d.get("properties"))
        .and_then(Value::as_object);
    let Some(props) = props else { return };
    if let Some(go) = order.get(def) {
        let positions: Vec<usize> = entries
            .iter()
            .filter_map(|(k, _)| go.iter().position(|g| g == k))
            .collect();
        assert!(
            positions.windows(2).all(|w| w[0] < w[1]),
            "{path} ({def}): keys {:?} not in Go order {go:?}",
            keys(j)
        );
    }
    for (d, p, _) in ALWAYS {
        if *d == def {
            assert!(get(j, p).is_some(), "{path}.{p} is always written");
        }
    }
    for (k, v) in entries {
        if OMIT_ZERO.contains(&(def, k.as_str()))
            && let J::Scalar(s) = v
        {
            assert!(!is_zero(s), "{path}.{k}: a zero omitempty field is written");
        }
        let Some(p) = props.get(k) else { continue };
        let Some((shape, i)) = child_of_name(p) else {
            continue;
        };
        let child = defs.keys().nth(i).map(String::as_str).unwrap_or("");
        match (shape, v) {
            (Shape::Direct, _) => check(child, v, &format!("{path}.{k}")),
            (Shape::Items, J::Arr(items)) => {
                for (n, item) in items.iter().enumerate() {
                    check(child, item, &format!("{path}.{k}[{n}]"));
                }
            }
            (Shape::Values, J::Obj(values)) => {
                for (n, item) in values {
                    check(child, item, &format!("{path}.{k}.{n}"));
                }
            }
            _ => {}
        }
    }
}

fn child_of_name(p: &Value) -> Option<(Shape, usize)> {
    let index: HashMap<&str, usize> = definitions()
        .keys()
        .enumerate()
        .map(|(i, k)| (k.as_str(), i))
        .collect();
    child_of(p, &index)
}

#[test]
fn status_is_written_byte_for_byte_as_upstream() {
    let status = json!({
        "apiVersion": "v1",
        "code": 409,
        "details": {"kind": "services", "name": "mock-2"},
        "kind": "Status",
        "message": "services \"mock-2\" already exists",
        "metadata": {},
        "reason": "AlreadyExists",
        "status": "Failure",
    });
    assert_eq!(
        String::from_utf8(to_vec(&status)).unwrap(),
        r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"services \"mock-2\" already exists","reason":"AlreadyExists","details":{"name":"mock-2","kind":"services"},"code":409}"#
    );
}

/// One table row per served kind: a minimal object of the kind encodes
/// with its fields in Go order, `metadata` (and `spec`/`status` where the
/// kind has them as structs) present, and nothing of the input lost.
#[test]
fn every_kind_encodes_by_its_definitions_rules() {
    let mut checked = 0;
    for k in kinds() {
        let api_version = if k.group.is_empty() {
            k.version.to_string()
        } else {
            format!("{}/{}", k.group, k.version)
        };
        let obj = json!({
            "apiVersion": api_version,
            "kind": k.kind,
            "metadata": {"name": "x", "namespace": "ns", "uid": "u", "labels": {"a": "b"},
                         "creationTimestamp": "2026-01-01T00:00:00Z"},
        });
        let props = definitions()[&k.definition]["properties"].clone();
        if props.get("kind").is_none() {
            continue; // WatchEvent and the like have no TypeMeta.
        }
        let bytes = to_vec(&obj);
        let j = parse(&bytes);
        let top = keys(&j);
        assert_eq!(&top[..2], &["kind", "apiVersion"], "{}: {top:?}", k.kind);
        check(&k.definition, &j, k.kind);
        for p in ["metadata", "spec", "status"] {
            let is_struct = props.get(p).and_then(ref_name).is_some();
            assert_eq!(
                get(&j, p).is_some(),
                is_struct || obj.get(p).is_some(),
                "{}.{p}",
                k.kind
            );
        }
        // Nothing of the input is lost.
        let back: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(back["metadata"]["labels"], obj["metadata"]["labels"]);
        assert_eq!(back["metadata"]["name"], "x");
        checked += 1;
    }
    assert!(checked > 40, "only {checked} kinds");
}

#[test]
fn service_always_has_a_load_balancer_status() {
    let svc = json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "s", "creationTimestamp": "2026-01-01T00:00:00Z"},
        "spec": {"ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}], "type": "ClusterIP"}});
    let out = String::from_utf8(to_vec(&svc)).unwrap();
    assert!(out.ends_with(r#""status":{"loadBalancer":{}}}"#), "{out}");
    assert!(
        out.contains(r#""ports":[{"protocol":"TCP","port":80,"targetPort":80}]"#),
        "{out}"
    );
}

#[test]
fn deployment_status_drops_zero_counters_and_keeps_go_order() {
    let d = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "d", "generation": 1, "creationTimestamp": "2026-01-01T00:00:00Z"},
        "spec": {"replicas": 0, "paused": false, "selector": {"matchLabels": {"a": "b"}},
                 "template": {"metadata": {"labels": {"a": "b"}},
                              "spec": {"containers": [{"name": "c", "image": "i"}]}}},
        "status": {"availableReplicas": 0, "readyReplicas": 0, "replicas": 2,
                   "observedGeneration": 1, "updatedReplicas": 2}});
    let out = String::from_utf8(to_vec(&d)).unwrap();
    // A pointer (spec.replicas) keeps its zero; omitempty counters do not.
    assert!(out.contains(r#""spec":{"replicas":0,"selector""#), "{out}");
    assert!(!out.contains("paused"), "{out}");
    assert!(
        out.ends_with(r#""status":{"observedGeneration":1,"replicas":2,"updatedReplicas":2}}"#),
        "{out}"
    );
    // The pod template's metadata carries upstream's null creationTimestamp
    // and each container its empty resources.
    assert!(
        out.contains(r#""template":{"metadata":{"creationTimestamp":null,"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"i","resources":{}}]}}"#),
        "{out}"
    );
    check(
        "io.k8s.api.apps.v1.Deployment",
        &parse(out.as_bytes()),
        "Deployment",
    );
}

#[test]
fn lists_and_table_rows_are_canonical_too() {
    let list = json!({"apiVersion": "v1", "kind": "ServiceList", "metadata": {"resourceVersion": "5"},
        "items": [{"metadata": {"name": "a"}, "spec": {}, "apiVersion": "v1", "kind": "Service"}]});
    let out = String::from_utf8(to_vec(&list)).unwrap();
    assert!(
        out.starts_with(r#"{"kind":"ServiceList","apiVersion":"v1","metadata":{"resourceVersion":"5"},"items":[{"kind":"Service","apiVersion":"v1","metadata":{"name":"a","creationTimestamp":null},"spec":{},"status":{"loadBalancer":{}}}]"#),
        "{out}"
    );
}

#[test]
fn tables_and_partial_metadata_follow_go_order() {
    let table = json!({"apiVersion": "meta.k8s.io/v1", "kind": "Table", "metadata": {"resourceVersion": "1"},
        "columnDefinitions": [{"description": "d", "format": "name", "name": "Name", "priority": 0, "type": "string"}],
        "rows": [{"cells": ["a"], "object": {"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadata",
            "metadata": {"name": "a", "creationTimestamp": "2026-01-01T00:00:00Z"}}}]});
    assert_eq!(
        String::from_utf8(to_vec(&table)).unwrap(),
        r#"{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"1"},"columnDefinitions":[{"name":"Name","type":"string","format":"name","description":"d","priority":0}],"rows":[{"cells":["a"],"object":{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{"name":"a","creationTimestamp":"2026-01-01T00:00:00Z"}}}]}"#
    );
}

#[test]
fn custom_resources_stay_sorted_and_whole() {
    let cr = json!({"apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": "w", "generation": 0}, "spec": {"b": 0, "a": ""}, "zeta": false});
    let out = to_vec(&cr);
    assert_eq!(out, serde_json::to_vec(&cr).unwrap());
}

/// Prints what canonical encoding costs per object beside plain
/// `serde_json::to_vec` of the same value, measured in the same run.
#[test]
fn encoding_cost_beside_plain_serde() {
    let pod = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web-1", "namespace": "default", "uid": "0f0e5a0e-1111-2222-3333-444455556666",
            "labels": {"app": "web", "pod-template-hash": "5d8f7"}, "creationTimestamp": "2026-01-01T00:00:00Z",
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5d8f7",
                "uid": "0f0e5a0e-1111-2222-3333-444455556667", "controller": true, "blockOwnerDeletion": true}]},
        "spec": {"containers": [{"name": "web", "image": "nginx:1.27", "imagePullPolicy": "IfNotPresent",
                "ports": [{"containerPort": 80, "protocol": "TCP"}], "resources": {},
                "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"}],
            "dnsPolicy": "ClusterFirst", "enableServiceLinks": true, "preemptionPolicy": "PreemptLowerPriority",
            "priority": 0, "restartPolicy": "Always", "schedulerName": "default-scheduler",
            "securityContext": {}, "serviceAccountName": "default", "terminationGracePeriodSeconds": 30,
            "tolerations": [{"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists", "tolerationSeconds": 300}]},
        "status": {"phase": "Pending", "qosClass": "BestEffort"}});
    // Warm up the compiled tables.
    let _ = to_vec(&pod);
    let n = 20_000;
    let t = std::time::Instant::now();
    let mut total = 0;
    for _ in 0..n {
        total += serde_json::to_vec(std::hint::black_box(&pod))
            .unwrap()
            .len();
    }
    let plain = t.elapsed();
    let t = std::time::Instant::now();
    for _ in 0..n {
        total += to_vec(std::hint::black_box(&pod)).len();
    }
    let canonical = t.elapsed();
    println!(
        "pod encoding: canonical {:.2} µs/object, plain serde_json {:.2} µs/object, ratio {:.2} ({total} bytes)",
        canonical.as_secs_f64() * 1e6 / n as f64,
        plain.as_secs_f64() * 1e6 / n as f64,
        canonical.as_secs_f64() / plain.as_secs_f64()
    );
}
