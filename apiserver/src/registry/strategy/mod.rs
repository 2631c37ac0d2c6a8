//! Per-kind behaviour the generic store asks for: defaults, validation,
//! what the status subresource may change, which fields `generation`
//! tracks, field selectors. Most kinds use [`Generic`]; a kind with its own
//! rules has a small module here.

pub mod namespaces;
mod pods;

use super::checks as validation;
use crate::resources::ResourceDef;
use crate::validation::ErrorList;
use serde_json::Value;

/// How one kind differs from the generic store's behaviour.
pub trait Strategy: Send + Sync {
    /// Fills defaults and resets what a create may not set (e.g. status).
    fn prepare_for_create(&self, def: &ResourceDef, obj: &mut Value) {
        if def.has_status()
            && let Some(o) = obj.as_object_mut()
        {
            o.remove("status");
        }
    }

    /// Called on a main-resource update: keep the stored status (it is
    /// only written through `/status`).
    fn prepare_for_update(&self, def: &ResourceDef, new: &mut Value, old: &Value) {
        if def.has_status() {
            keep_field(new, old, "status");
        }
    }

    /// Called on a status-subresource write after [`Self::status_reset`]
    /// was applied (custom resources prune it here).
    fn prepare_for_status_update(&self, _def: &ResourceDef, _new: &mut Value) {}

    /// What a status write takes from the stored object. Upstream's status
    /// strategies copy the old `spec` and keep the request's metadata
    /// (labels, annotations, finalizers), except the few fields a kind
    /// protects: a Deployment's labels (upstream's
    /// `deploymentStatusStrategy`).
    fn status_reset(&self, def: &ResourceDef) -> StatusReset {
        match (def.group, def.plural) {
            ("apps", "deployments") => StatusReset::SpecAndMetadata(&["labels"]),
            _ => StatusReset::SpecAndMetadata(&[]),
        }
    }

    fn validate_status_update(&self, def: &ResourceDef, new: &Value, old: &Value) -> ErrorList {
        validation::validate_status_update(def.group, def.kind, new, old)
    }

    /// Whether `metadata.generation` tracks spec changes for this kind.
    fn tracks_generation(&self) -> bool {
        false
    }

    fn validate_create(&self, def: &ResourceDef, obj: &Value) -> ErrorList {
        validation::validate_create(def.group, def.kind, obj)
    }

    fn validate_update(&self, def: &ResourceDef, new: &Value, old: &Value) -> ErrorList {
        validation::validate_update(def.group, def.kind, new, old)
    }

    /// Field-selector labels beyond `metadata.name` / `metadata.namespace`.
    fn selectable_fields(&self) -> &'static [&'static str] {
        &[]
    }

    /// A selectable field's value (the generic rule walks the dotted path).
    fn field_value(&self, obj: &Value, field: &str) -> Option<String> {
        path_value(obj, field)
    }
}

/// What a status write keeps of the stored object (see
/// [`Strategy::status_reset`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusReset {
    /// Everything but `status` is the stored object's (custom resources).
    AllButStatus,
    /// Every top-level field but `metadata` and `status` is the stored
    /// object's, and so are these metadata fields.
    SpecAndMetadata(&'static [&'static str]),
}

/// Resets what a status write may not change, as `reset` says.
pub fn reset_for_status(new: &mut Value, old: &Value, reset: StatusReset) {
    let fields = match reset {
        StatusReset::AllButStatus => {
            let status = new.get("status").cloned();
            let mut out = old.clone();
            if let Some(o) = out.as_object_mut() {
                match status {
                    Some(s) => o.insert("status".into(), s),
                    None => o.remove("status"),
                };
            }
            *new = out;
            return;
        }
        StatusReset::SpecAndMetadata(fields) => fields,
    };
    let Some(n) = new.as_object_mut() else { return };
    let Some(o) = old.as_object() else { return };
    n.retain(|k, _| matches!(k.as_str(), "metadata" | "status") || o.contains_key(k));
    for (k, v) in o {
        if !matches!(k.as_str(), "metadata" | "status") {
            n.insert(k.clone(), v.clone());
        }
    }
    if fields.is_empty() {
        return;
    }
    let old_meta = old.get("metadata").cloned().unwrap_or_default();
    if let Some(m) = n.get_mut("metadata").and_then(Value::as_object_mut) {
        for f in fields {
            match old_meta.get(*f) {
                Some(v) => m.insert((*f).to_string(), v.clone()),
                None => m.remove(*f),
            };
        }
    }
}

/// Copies `field` of `old` onto `new` (or removes it from `new`).
pub fn keep_field(new: &mut Value, old: &Value, field: &str) {
    let Some(n) = new.as_object_mut() else { return };
    match old.get(field) {
        Some(v) => {
            n.insert(field.to_string(), v.clone());
        }
        None => {
            n.remove(field);
        }
    }
}

/// A dotted path's value as a selector compares it: strings as is,
/// numbers and booleans printed, absent = None.
pub fn path_value(obj: &Value, path: &str) -> Option<String> {
    let mut cur = obj;
    for part in path.split('.') {
        cur = cur.get(part)?;
    }
    match cur {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Kinds without special rules.
pub struct Generic {
    generation: bool,
    fields: &'static [&'static str],
}

impl Strategy for Generic {
    fn tracks_generation(&self) -> bool {
        self.generation
    }
    fn selectable_fields(&self) -> &'static [&'static str] {
        self.fields
    }
}

const PLAIN: Generic = Generic {
    generation: false,
    fields: &[],
};
/// Workload-style kinds: `generation` follows spec changes.
const WORKLOAD: Generic = Generic {
    generation: true,
    fields: &[],
};
const REPLICATED: Generic = Generic {
    generation: true,
    fields: &["status.replicas"],
};
const JOBS: Generic = Generic {
    generation: true,
    fields: &["status.successful"],
};
const SECRETS: Generic = Generic {
    generation: false,
    fields: &["type"],
};
const NODES: Generic = Generic {
    generation: false,
    fields: &["spec.unschedulable"],
};
const EVENTS: Events = Events;
const CSRS: Generic = Generic {
    generation: false,
    fields: &["spec.signerName"],
};

/// Events select on their involved object, reason, source and type.
struct Events;

impl Strategy for Events {
    fn selectable_fields(&self) -> &'static [&'static str] {
        &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ]
    }
    fn field_value(&self, obj: &Value, field: &str) -> Option<String> {
        match field {
            "source" => path_value(obj, "source.component"),
            f => path_value(obj, f),
        }
    }
}

/// `events.k8s.io/v1` Events share the core Events' storage but select
/// by their own names, translated onto the stored core fields as upstream's
/// field label conversion for that group does (`regarding.name` →
/// `involvedObject.name`, `reportingController` → `reportingComponent`);
/// the core spellings are not accepted there.
struct EventsV1;

impl Strategy for EventsV1 {
    fn selectable_fields(&self) -> &'static [&'static str] {
        &[
            "regarding.kind",
            "regarding.namespace",
            "regarding.name",
            "regarding.uid",
            "regarding.apiVersion",
            "regarding.resourceVersion",
            "regarding.fieldPath",
            "reason",
            "reportingController",
            "source",
            "type",
        ]
    }
    fn field_value(&self, obj: &Value, field: &str) -> Option<String> {
        match field {
            "reportingController" => path_value(obj, "reportingComponent"),
            "source" => path_value(obj, "source.component"),
            f => match f.strip_prefix("regarding.") {
                Some(rest) => path_value(obj, &format!("involvedObject.{rest}")),
                None => path_value(obj, f),
            },
        }
    }
}

/// The strategy for a resource.
pub fn for_resource(def: &ResourceDef) -> &'static dyn Strategy {
    if let Some(s) = crate::apiextensions::strategy::for_resource(def) {
        return s;
    }
    static POD: pods::Pods = pods::Pods;
    static NS: namespaces::Namespaces = namespaces::Namespaces;
    static PLAIN_S: Generic = PLAIN;
    static WORKLOAD_S: Generic = WORKLOAD;
    static REPLICATED_S: Generic = REPLICATED;
    static JOBS_S: Generic = JOBS;
    static SECRETS_S: Generic = SECRETS;
    static NODES_S: Generic = NODES;
    static EVENTS_S: Events = EVENTS;
    static EVENTS_V1_S: EventsV1 = EventsV1;
    static CSRS_S: Generic = CSRS;
    match (def.group, def.plural) {
        ("", "pods") => &POD,
        ("", "namespaces") => &NS,
        ("", "secrets") => &SECRETS_S,
        ("", "nodes") => &NODES_S,
        ("", "events") => &EVENTS_S,
        ("events.k8s.io", "events") => &EVENTS_V1_S,
        ("", "replicationcontrollers") | ("apps", "replicasets") => &REPLICATED_S,
        ("batch", "jobs") => &JOBS_S,
        ("certificates.k8s.io", _) => &CSRS_S,
        ("apps", _)
        | ("batch", _)
        | ("autoscaling", _)
        | ("networking.k8s.io", "ingresses")
        | ("networking.k8s.io", "networkpolicies")
        | ("policy", _) => &WORKLOAD_S,
        _ => &PLAIN_S,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::lookup;
    use serde_json::json;

    #[test]
    fn path_values_print_like_selectors_expect() {
        let o = json!({"spec": {"nodeName": "n1", "unschedulable": true, "replicas": 3}});
        assert_eq!(path_value(&o, "spec.nodeName").as_deref(), Some("n1"));
        assert_eq!(
            path_value(&o, "spec.unschedulable").as_deref(),
            Some("true")
        );
        assert_eq!(path_value(&o, "spec.replicas").as_deref(), Some("3"));
        assert_eq!(path_value(&o, "spec.missing"), None);
    }

    #[test]
    fn status_writes_keep_metadata_but_not_spec() {
        let old = json!({"metadata": {"labels": {"a": "1"}, "ownerReferences": [{"uid": "o"}]},
            "spec": {"x": 1}, "status": {"p": 1}});
        let new = json!({"metadata": {"labels": {"a": "2"}, "annotations": {"n": "v"}},
            "spec": {"x": 2}, "extra": 1, "status": {"p": 2}});
        let mut plain = new.clone();
        reset_for_status(&mut plain, &old, StatusReset::SpecAndMetadata(&[]));
        assert_eq!(plain["spec"]["x"], 1);
        assert!(plain.get("extra").is_none());
        assert_eq!(plain["metadata"]["labels"]["a"], "2");
        assert_eq!(plain["metadata"]["annotations"]["n"], "v");
        assert_eq!(plain["status"]["p"], 2);
        let mut pod = new.clone();
        reset_for_status(
            &mut pod,
            &old,
            StatusReset::SpecAndMetadata(&["ownerReferences"]),
        );
        assert_eq!(pod["metadata"]["ownerReferences"][0]["uid"], "o");
        assert_eq!(pod["metadata"]["labels"]["a"], "2");
        let mut cr = new.clone();
        reset_for_status(&mut cr, &old, StatusReset::AllButStatus);
        assert_eq!(cr["metadata"]["labels"]["a"], "1");
        assert!(cr["metadata"].get("annotations").is_none());
        assert_eq!(cr["status"]["p"], 2);
    }

    #[test]
    fn status_is_reset_on_create_and_kept_on_update() {
        let def = lookup("apps", "v1", "deployments").expect("deployments served");
        let s = for_resource(def);
        let mut o = json!({"spec": {}, "status": {"replicas": 5}});
        s.prepare_for_create(def, &mut o);
        assert!(o.get("status").is_none());
        let old = json!({"spec": {}, "status": {"replicas": 2}});
        let mut new = json!({"spec": {"x": 1}, "status": {"replicas": 9}});
        s.prepare_for_update(def, &mut new, &old);
        assert_eq!(new["status"]["replicas"], 2);
        assert!(s.tracks_generation());
    }

    #[test]
    fn event_source_selects_component() {
        let def = lookup("", "v1", "events").expect("events served");
        let e = json!({"source": {"component": "kubelet"}});
        assert_eq!(
            for_resource(def).field_value(&e, "source").as_deref(),
            Some("kubelet")
        );
    }

    #[test]
    fn events_v1_labels_select_the_stored_core_fields() {
        let def = lookup("events.k8s.io", "v1", "events").expect("events.k8s.io served");
        let s = for_resource(def);
        // Stored core shape: involvedObject, reportingComponent.
        let e = json!({"involvedObject": {"kind": "Pod", "name": "web", "uid": "u1",
            "fieldPath": "spec.containers{app}"}, "reason": "Started", "type": "Normal",
            "reportingComponent": "kubelet", "source": {"component": "kubelet"}});
        let cases = [
            ("regarding.kind", Some("Pod")),
            ("regarding.name", Some("web")),
            ("regarding.uid", Some("u1")),
            ("regarding.fieldPath", Some("spec.containers{app}")),
            ("regarding.namespace", None),
            ("reason", Some("Started")),
            ("type", Some("Normal")),
            ("reportingController", Some("kubelet")),
            ("source", Some("kubelet")),
        ];
        for (field, want) in cases {
            assert!(s.selectable_fields().contains(&field), "{field}");
            assert_eq!(s.field_value(&e, field).as_deref(), want, "{field}");
        }
        // The core spellings are the core group's only.
        assert!(!s.selectable_fields().contains(&"involvedObject.name"));
        let core = for_resource(lookup("", "v1", "events").expect("events served"));
        assert!(!core.selectable_fields().contains(&"regarding.name"));
    }
}
