//! FieldSet operations and the FieldsV1 encoding.

use super::*;
use crate::registry::patch::types::Guessed;
use serde_json::json;

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

#[test]
fn applied_configuration_encodes_as_upstream() {
    let applied = obj(json!({
        "metadata": {"labels": {"app": "web"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"spec": {"containers": [{"name": "app", "image": "a:1"}]}}
        }
    }));
    let set = of_object(&Guessed, None, &applied);
    assert_eq!(
        set.to_fields_v1(),
        json!({
            "f:metadata": {"f:labels": {"f:app": {}}},
            "f:spec": {
                "f:replicas": {},
                "f:selector": {},
                "f:template": {"f:spec": {"f:containers": {
                    "k:{\"name\":\"app\"}": {".": {}, "f:image": {}, "f:name": {}}
                }}}
            }
        })
    );
    assert_eq!(
        FieldSet::from_fields_v1(&set.to_fields_v1()),
        Some(set.clone())
    );
    let paths: Vec<String> = set.paths().iter().map(|p| render_path(p)).collect();
    assert!(paths.contains(&r#".spec.template.spec.containers[name="app"].image"#.to_string()));
    assert!(paths.contains(&".spec.replicas".to_string()));
}

#[test]
fn set_algebra() {
    let mut a = FieldSet::default();
    a.insert(&["f:spec", "f:replicas"]);
    a.insert(&["f:spec", "f:paused"]);
    let mut b = FieldSet::default();
    b.insert(&["f:spec", "f:replicas"]);
    b.insert(&["f:metadata", "f:labels", "f:x"]);
    assert_eq!(
        a.intersection(&b).paths(),
        vec![vec!["f:spec".to_string(), "f:replicas".to_string()]]
    );
    assert_eq!(
        a.difference(&b).paths(),
        vec![vec!["f:spec".to_string(), "f:paused".to_string()]]
    );
    let mut u = a.clone();
    u.union(&b);
    assert_eq!(u.paths().len(), 3);
    assert!(a.difference(&a).is_empty());
}

#[test]
fn updates_own_what_they_change() {
    let old = obj(
        json!({"spec": {"replicas": 1, "paused": false, "template": {"spec": {"containers": [{"name": "a", "image": "x"}]}}}}),
    );
    let new = obj(json!({
        "metadata": {"labels": {"l": "1"}},
        "spec": {"replicas": 3, "paused": false, "template": {"spec": {"containers": [{"name": "a", "image": "y"}, {"name": "b", "image": "z"}]}}}
    }));
    let set = changed(&Guessed, None, &old, &new);
    assert_eq!(
        set.to_fields_v1(),
        json!({
            "f:metadata": {"f:labels": {".": {}, "f:l": {}}},
            "f:spec": {
                "f:replicas": {},
                "f:template": {"f:spec": {"f:containers": {
                    "k:{\"name\":\"a\"}": {"f:image": {}},
                    "k:{\"name\":\"b\"}": {".": {}, "f:image": {}, "f:name": {}}
                }}}
            }
        })
    );
    let gone = removed(&Guessed, None, &new, &old);
    assert_eq!(
        gone.to_fields_v1(),
        json!({
            "f:metadata": {"f:labels": {".": {}, "f:l": {}}},
            "f:spec": {"f:template": {"f:spec": {"f:containers": {
                "k:{\"name\":\"b\"}": {".": {}, "f:image": {}, "f:name": {}}
            }}}}
        })
    );
}

#[test]
fn set_items_and_indexes_render() {
    let info = Guessed.field(None, "finalizers");
    assert_eq!(item_element(&info, &json!("a/b"), 0), "v:\"a/b\"");
    assert_eq!(
        render_path(&[
            "f:metadata".into(),
            "f:finalizers".into(),
            "v:\"a/b\"".into()
        ]),
        ".metadata.finalizers[=\"a/b\"]"
    );
    assert_eq!(render_path(&["f:x".into(), "i:2".into()]), ".x[2]");
}
