//! The `scale` subresource of custom resources: an `autoscaling/v1` Scale
//! read from and written to the CRD's `specReplicasPath`,
//! `statusReplicasPath` and `labelSelectorPath`.

use super::jsonpath;
use super::registry::ScalePaths;
use crate::resources::ResourceDef;
use serde_json::{Value, json};

/// The scale paths of a custom resource version, `None` for built-ins.
pub fn paths(def: &ResourceDef) -> Option<ScalePaths> {
    super::custom(def)?.version(def.version)?.scale.clone()
}

/// The Scale view of a custom resource.
pub fn to_scale(p: &ScalePaths, obj: &Value) -> Value {
    let m = |k: &str| {
        obj.pointer(&format!("/metadata/{k}"))
            .cloned()
            .unwrap_or(Value::Null)
    };
    let spec = jsonpath::get(obj, &p.spec_replicas)
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let status = jsonpath::get(obj, &p.status_replicas)
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let mut st = json!({ "replicas": status });
    if let Some(sel) = p
        .label_selector
        .as_deref()
        .and_then(|lp| jsonpath::get(obj, lp))
        .and_then(Value::as_str)
    {
        st["selector"] = json!(sel);
    }
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": m("name"), "namespace": m("namespace"), "uid": m("uid"),
            "resourceVersion": m("resourceVersion"), "creationTimestamp": m("creationTimestamp"),
        },
        "spec": { "replicas": spec },
        "status": st,
    })
}

/// Writes a Scale's `spec.replicas` into the object.
pub fn set_replicas(p: &ScalePaths, obj: &mut Value, replicas: i64) {
    jsonpath::set(obj, &p.spec_replicas, json!(replicas));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_reads_and_writes_the_crd_paths() {
        let p = ScalePaths {
            spec_replicas: ".spec.size".into(),
            status_replicas: ".status.ready".into(),
            label_selector: Some(".status.selector".into()),
        };
        let mut o = json!({"metadata": {"name": "a", "namespace": "d"}, "spec": {"size": 2},
            "status": {"ready": 1, "selector": "app=a"}});
        let s = to_scale(&p, &o);
        assert_eq!(s["spec"]["replicas"], 2);
        assert_eq!(s["status"], json!({"replicas": 1, "selector": "app=a"}));
        set_replicas(&p, &mut o, 5);
        assert_eq!(o["spec"]["size"], 5);
    }
}
