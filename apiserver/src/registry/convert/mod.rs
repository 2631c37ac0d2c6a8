//! Conversion between the served versions of a resource that share one
//! etcd key space. Each such resource is stored in one version (upstream's
//! storage version): HorizontalPodAutoscalers as `autoscaling/v2`, Events
//! as core `v1` (events.k8s.io/v1 is a second view of the same objects).
//! Objects are converted to the storage version on the way in and to the
//! requested version on the way out; objects written by an older build in
//! another version are recognised by their stored `apiVersion`.

pub mod event;
pub mod hpa;

use crate::resources::ResourceDef;
use serde_json::{Value, json};

/// The resources that are served in more than one shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    HorizontalPodAutoscaler,
    Event,
    /// One shape (or versions identical in shape): nothing to convert.
    Plain,
}

fn family(def: &ResourceDef) -> Family {
    match (def.group, def.plural) {
        ("autoscaling", "horizontalpodautoscalers") => Family::HorizontalPodAutoscaler,
        ("", "events") | ("events.k8s.io", "events") => Family::Event,
        _ => Family::Plain,
    }
}

/// The `apiVersion` objects of `def`'s resource are stored in.
pub fn storage_api_version(def: &ResourceDef) -> String {
    match family(def) {
        Family::HorizontalPodAutoscaler => "autoscaling/v2".to_string(),
        Family::Event => "v1".to_string(),
        Family::Plain => def.api_version(),
    }
}

fn api_version_of(v: &Value) -> Option<&str> {
    v.get("apiVersion").and_then(Value::as_str)
}

fn stamp(mut v: Value, api_version: &str, kind: &str) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.insert("apiVersion".into(), json!(api_version));
        o.insert("kind".into(), json!(kind));
    }
    v
}

/// `v` (in the version its `apiVersion` names; `def`'s when it names none)
/// in the storage version, stamped with its apiVersion and kind.
pub fn to_storage(def: &ResourceDef, v: Value) -> Value {
    let from = api_version_of(&v)
        .map(str::to_string)
        .unwrap_or_else(|| def.api_version());
    let target = storage_api_version(def);
    let v = match (family(def), from.as_str()) {
        (Family::HorizontalPodAutoscaler, "autoscaling/v1") => hpa::v1_to_v2(v),
        (Family::Event, "events.k8s.io/v1") => event::events_to_core(v),
        _ => v,
    };
    stamp(v, &target, def.kind)
}

/// `v` (any version of `def`'s resource, per its `apiVersion`) in the
/// version `def` serves, stamped with that apiVersion and kind.
pub fn to_served(def: &ResourceDef, v: Value) -> Value {
    let want = def.api_version();
    if api_version_of(&v) == Some(want.as_str()) || family(def) == Family::Plain {
        let mut out = stamp(v, &want, def.kind);
        crate::apiextensions::default_on_read(def, &mut out);
        return out;
    }
    let stored = to_storage(def, v);
    let out = match (family(def), want.as_str()) {
        (Family::HorizontalPodAutoscaler, "autoscaling/v1") => hpa::v2_to_v1(stored),
        (Family::Event, "events.k8s.io/v1") => event::core_to_events(stored),
        _ => stored,
    };
    stamp(out, &want, def.kind)
}

/// The row of the version `def`'s resource is stored in, when that is
/// another version than `def` (None: `def` is stored as served).
pub fn storage_def(def: &ResourceDef) -> Option<&'static ResourceDef> {
    let (group, version, plural) = match family(def) {
        Family::HorizontalPodAutoscaler => ("autoscaling", "v2", "horizontalpodautoscalers"),
        Family::Event => ("", "v1", "events"),
        Family::Plain => return None,
    };
    crate::resources::lookup(group, version, plural)
        .filter(|s| s.api_version() != def.api_version())
}

/// Does this resource need conversion at all?
pub fn converts(def: &ResourceDef) -> bool {
    family(def) != Family::Plain
}

/// Helpers shared by the per-kind converters.
pub(crate) mod fields {
    use serde_json::{Map, Value, json};

    /// Moves `from` of `src` to `to` of `dst` when present and not null.
    pub fn move_field(
        src: &mut Map<String, Value>,
        from: &str,
        dst: &mut Map<String, Value>,
        to: &str,
    ) {
        if let Some(v) = src.remove(from)
            && !v.is_null()
        {
            dst.insert(to.to_string(), v);
        }
    }

    /// Sets `metadata.annotations[key]`, creating the maps when missing.
    pub fn set_annotation(obj: &mut Map<String, Value>, key: &str, value: String) {
        let meta = obj.entry("metadata").or_insert_with(|| json!({}));
        if !meta.is_object() {
            *meta = json!({});
        }
        if let Some(meta) = meta.as_object_mut() {
            let ann = meta.entry("annotations").or_insert_with(|| json!({}));
            if !ann.is_object() {
                *ann = json!({});
            }
            if let Some(a) = ann.as_object_mut() {
                a.insert(key.to_string(), Value::String(value));
            }
        }
    }

    /// Removes and returns `metadata.annotations[key]`; drops the map when
    /// it ends up empty.
    pub fn take_annotation(obj: &mut Map<String, Value>, key: &str) -> Option<String> {
        let meta = obj.get_mut("metadata").and_then(Value::as_object_mut)?;
        let ann = meta.get_mut("annotations").and_then(Value::as_object_mut)?;
        let v = ann.remove(key);
        if ann.is_empty() {
            meta.remove("annotations");
        }
        match v {
            Some(Value::String(s)) => Some(s),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::lookup;

    #[test]
    fn storage_versions() {
        let cases = [
            (
                "autoscaling",
                "v1",
                "horizontalpodautoscalers",
                "autoscaling/v2",
            ),
            (
                "autoscaling",
                "v2",
                "horizontalpodautoscalers",
                "autoscaling/v2",
            ),
            ("events.k8s.io", "v1", "events", "v1"),
            ("", "v1", "events", "v1"),
            ("", "v1", "configmaps", "v1"),
        ];
        for (g, v, p, want) in cases {
            let def = lookup(g, v, p).expect("served");
            assert_eq!(storage_api_version(def), want, "{g}/{v} {p}");
        }
    }

    #[test]
    fn served_versions_round_trip_through_storage() {
        let v1 = lookup("autoscaling", "v1", "horizontalpodautoscalers").expect("served");
        let hpa = json!({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web", "apiVersion": "apps/v1"},
                     "minReplicas": 1, "maxReplicas": 3, "targetCPUUtilizationPercentage": 50}});
        let stored = to_storage(v1, hpa.clone());
        assert_eq!(stored["apiVersion"], "autoscaling/v2");
        assert_eq!(to_served(v1, stored), hpa);

        let ev = lookup("events.k8s.io", "v1", "events").expect("served");
        let core = lookup("", "v1", "events").expect("served");
        let e = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": {"name": "e1", "namespace": "default"},
            "reason": "Started", "note": "hi", "type": "Normal",
            "regarding": {"kind": "Pod", "name": "p"},
            "reportingController": "kubelet", "reportingInstance": "n1",
            "action": "Start", "eventTime": "2026-11-22T10:00:00.000000Z"});
        let stored = to_storage(ev, e.clone());
        assert_eq!(stored["apiVersion"], "v1");
        assert_eq!(stored["message"], "hi");
        assert_eq!(to_served(ev, stored.clone()), e);
        assert_eq!(to_served(core, stored.clone()), stored);
    }

    #[test]
    fn plain_resources_are_only_stamped() {
        let cm = lookup("", "v1", "configmaps").expect("served");
        let v = json!({"metadata": {"name": "a"}, "data": {"k": "v"}});
        let out = to_served(cm, v);
        assert_eq!(out["apiVersion"], "v1");
        assert_eq!(out["kind"], "ConfigMap");
        assert_eq!(out["data"]["k"], "v");
    }
}
