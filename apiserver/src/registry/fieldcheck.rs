//! `fieldValidation=Strict|Warn|Ignore`: unknown fields (found by decoding
//! into the k8s-openapi type with serde_ignored) and duplicate fields
//! (found while parsing the body) are refused with 400, reported as
//! `Warning` headers, or ignored.

use crate::status::ApiError;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::cell::RefCell;
use std::fmt;

/// The request's `fieldValidation` directive (upstream's default is Warn).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValidation {
    Ignore,
    Warn,
    Strict,
}

impl FieldValidation {
    pub fn from_query(v: Option<&str>) -> Result<FieldValidation, ApiError> {
        match v.unwrap_or("") {
            "" | "Warn" => Ok(FieldValidation::Warn),
            "Strict" => Ok(FieldValidation::Strict),
            "Ignore" => Ok(FieldValidation::Ignore),
            other => Err(ApiError::bad_request(format!(
                "fieldValidation must be one of Ignore, Warn or Strict, got {other:?}"
            ))),
        }
    }
}

/// Parses JSON into a `Value`, recording the path of every key that
/// appears twice in one object (the later value wins, as in Go).
pub fn parse_json(body: &[u8]) -> Result<(Value, Vec<String>), serde_json::Error> {
    let dups = RefCell::new(Vec::new());
    let mut de = serde_json::Deserializer::from_slice(body);
    let v = Track {
        at: &Segment::Root,
        dups: &dups,
        order: None,
    }
    .deserialize(&mut de)?;
    de.end()?;
    Ok((v, dups.into_inner()))
}

/// Where a value sits in the document, as a chain to the root. Rendered
/// to a string only for a duplicate key, so a body's hundreds of keys cost
/// no allocation for their paths.
enum Segment<'a> {
    Root,
    Key(&'a Segment<'a>, &'a str),
    Index(&'a Segment<'a>, usize),
}

impl Segment<'_> {
    /// The path in upstream's syntax (`a.b[0].c`).
    fn render(&self) -> String {
        let mut out = String::new();
        self.render_into(&mut out);
        out
    }

    fn render_into(&self, out: &mut String) {
        match self {
            Segment::Root => {}
            Segment::Key(parent, key) => {
                parent.render_into(out);
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Index(parent, i) => {
                parent.render_into(out);
                out.push_str(&format!("[{i}]"));
            }
        }
    }
}

struct Track<'a> {
    at: &'a Segment<'a>,
    dups: &'a RefCell<Vec<String>>,
    /// When set, every key's path in document order, and whether it
    /// repeats a key of the same object.
    order: Option<&'a RefCell<Vec<(String, bool)>>>,
}

impl<'de> DeserializeSeed<'de> for Track<'_> {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Track<'_> {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v)
            .map(Value::Number)
            .unwrap_or(Value::Null))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        loop {
            let at = Segment::Index(self.at, out.len());
            let seed = Track {
                at: &at,
                dups: self.dups,
                order: self.order,
            };
            match seq.next_element_seed(seed)? {
                Some(v) => out.push(v),
                None => return Ok(Value::Array(out)),
            }
        }
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if let Some(order) = self.order {
                let path = Segment::Key(self.at, &key).render();
                order.borrow_mut().push((path, out.contains_key(&key)));
            }
            let v = {
                let at = Segment::Key(self.at, &key);
                map.next_value_seed(Track {
                    at: &at,
                    dups: self.dups,
                    order: self.order,
                })?
            };
            if out.contains_key(&key) {
                self.dups
                    .borrow_mut()
                    .push(Segment::Key(self.at, &key).render());
            }
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

/// One unknown field: where it is, as steps (keys and indexes) so that
/// pruning never re-parses a rendered path (a key may itself contain `.`
/// or `[`), and as upstream renders it for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownField {
    pub path: String,
    steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

impl UnknownField {
    /// A field known only by its rendered path (custom resources, whose
    /// schema pruning removes the field itself): reported, never pruned here.
    pub fn reported(path: String) -> UnknownField {
        UnknownField {
            path,
            steps: Vec::new(),
        }
    }
}

/// The steps of a serde_ignored path, root first.
fn steps_of(path: &serde_ignored::Path<'_>, out: &mut Vec<Step>) {
    use serde_ignored::Path;
    match path {
        Path::Root => {}
        Path::Seq { parent, index } => {
            steps_of(parent, out);
            out.push(Step::Index(*index));
        }
        Path::Map { parent, key } => {
            steps_of(parent, out);
            out.push(Step::Key(key.clone()));
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => steps_of(parent, out),
    }
}

/// Steps in upstream's syntax (`a.b[0].c`).
fn render(steps: &[Step]) -> String {
    let mut out = String::new();
    for s in steps {
        match s {
            Step::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

fn unknown_in<T: serde::de::DeserializeOwned>(v: &Value) -> Vec<UnknownField> {
    let mut found = Vec::new();
    let r: Result<T, _> = serde_ignored::deserialize(v, |p| {
        let mut steps = Vec::new();
        steps_of(&p, &mut steps);
        found.push(UnknownField {
            path: render(&steps),
            steps,
        });
    });
    // A body that does not decode into the type (numbers for quantities,
    // say) is left to validation; only a clean decode's findings count.
    if r.is_err() {
        return Vec::new();
    }
    found
}

/// The unknown fields of an object of a served kind (empty for kinds
/// without a typed schema).
pub fn unknown_fields(group: &str, version: &str, kind: &str, obj: &Value) -> Vec<UnknownField> {
    use k8s_openapi::api as a;
    let api_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    // The typed decode wants apiVersion and kind; most bodies carry them,
    // and only the others pay for a copy of the object.
    let stamped = obj.get("apiVersion").and_then(Value::as_str) == Some(api_version.as_str())
        && obj.get("kind").and_then(Value::as_str) == Some(kind);
    let copy;
    let v = if stamped || !obj.is_object() {
        obj
    } else {
        let mut c = obj.clone();
        if let Some(o) = c.as_object_mut() {
            o.insert("apiVersion".into(), Value::String(api_version));
            o.insert("kind".into(), Value::String(kind.to_string()));
        }
        copy = c;
        &copy
    };
    macro_rules! kinds {
        ($($g:literal, $ver:literal, $k:literal => $t:ty;)*) => {
            match (group, version, kind) {
                $(($g, $ver, $k) => unknown_in::<$t>(v),)*
                _ => Vec::new(),
            }
        };
    }
    kinds! {
        "", "v1", "Namespace" => a::core::v1::Namespace;
        "", "v1", "Pod" => a::core::v1::Pod;
        "", "v1", "Service" => a::core::v1::Service;
        "", "v1", "Endpoints" => a::core::v1::Endpoints;
        "", "v1", "ConfigMap" => a::core::v1::ConfigMap;
        "", "v1", "Secret" => a::core::v1::Secret;
        "", "v1", "ServiceAccount" => a::core::v1::ServiceAccount;
        "", "v1", "Node" => a::core::v1::Node;
        "", "v1", "Event" => a::core::v1::Event;
        "", "v1", "PersistentVolume" => a::core::v1::PersistentVolume;
        "", "v1", "PersistentVolumeClaim" => a::core::v1::PersistentVolumeClaim;
        "", "v1", "LimitRange" => a::core::v1::LimitRange;
        "", "v1", "ResourceQuota" => a::core::v1::ResourceQuota;
        "", "v1", "ReplicationController" => a::core::v1::ReplicationController;
        "apps", "v1", "Deployment" => a::apps::v1::Deployment;
        "apps", "v1", "ReplicaSet" => a::apps::v1::ReplicaSet;
        "apps", "v1", "StatefulSet" => a::apps::v1::StatefulSet;
        "apps", "v1", "DaemonSet" => a::apps::v1::DaemonSet;
        "apps", "v1", "ControllerRevision" => a::apps::v1::ControllerRevision;
        "batch", "v1", "Job" => a::batch::v1::Job;
        "batch", "v1", "CronJob" => a::batch::v1::CronJob;
        "autoscaling", "v1", "HorizontalPodAutoscaler" => a::autoscaling::v1::HorizontalPodAutoscaler;
        "autoscaling", "v2", "HorizontalPodAutoscaler" => a::autoscaling::v2::HorizontalPodAutoscaler;
        "networking.k8s.io", "v1", "Ingress" => a::networking::v1::Ingress;
        "networking.k8s.io", "v1", "IngressClass" => a::networking::v1::IngressClass;
        "networking.k8s.io", "v1", "NetworkPolicy" => a::networking::v1::NetworkPolicy;
        "discovery.k8s.io", "v1", "EndpointSlice" => a::discovery::v1::EndpointSlice;
        "rbac.authorization.k8s.io", "v1", "ClusterRole" => a::rbac::v1::ClusterRole;
        "rbac.authorization.k8s.io", "v1", "ClusterRoleBinding" => a::rbac::v1::ClusterRoleBinding;
        "rbac.authorization.k8s.io", "v1", "Role" => a::rbac::v1::Role;
        "rbac.authorization.k8s.io", "v1", "RoleBinding" => a::rbac::v1::RoleBinding;
        "storage.k8s.io", "v1", "StorageClass" => a::storage::v1::StorageClass;
        "storage.k8s.io", "v1", "CSIDriver" => a::storage::v1::CSIDriver;
        "storage.k8s.io", "v1", "CSINode" => a::storage::v1::CSINode;
        "storage.k8s.io", "v1", "CSIStorageCapacity" => a::storage::v1::CSIStorageCapacity;
        "storage.k8s.io", "v1", "VolumeAttachment" => a::storage::v1::VolumeAttachment;
        "node.k8s.io", "v1", "RuntimeClass" => a::node::v1::RuntimeClass;
        "", "v1", "PodTemplate" => a::core::v1::PodTemplate;
        "coordination.k8s.io", "v1", "Lease" => a::coordination::v1::Lease;
        "policy", "v1", "PodDisruptionBudget" => a::policy::v1::PodDisruptionBudget;
        "scheduling.k8s.io", "v1", "PriorityClass" => a::scheduling::v1::PriorityClass;
        "events.k8s.io", "v1", "Event" => a::events::v1::Event;
        "certificates.k8s.io", "v1", "CertificateSigningRequest" => a::certificates::v1::CertificateSigningRequest;
        "admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicy" => a::admissionregistration::v1::ValidatingAdmissionPolicy;
        "admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicyBinding" => a::admissionregistration::v1::ValidatingAdmissionPolicyBinding;
        "admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration" => a::admissionregistration::v1::ValidatingWebhookConfiguration;
        "admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration" => a::admissionregistration::v1::MutatingWebhookConfiguration;
    }
}

/// Removes the unknown fields (upstream drops them when it decodes into
/// its types, so they are never stored), following each field's steps.
pub fn prune(obj: &mut Value, unknown: &[UnknownField]) {
    for u in unknown {
        remove_at(obj, &u.steps);
    }
}

fn remove_at(obj: &mut Value, steps: &[Step]) {
    let Some((last, parents)) = steps.split_last() else {
        return;
    };
    let mut cur = obj;
    for s in parents {
        let next = match s {
            Step::Key(k) => cur.get_mut(k.as_str()),
            Step::Index(i) => cur.get_mut(*i),
        };
        match next {
            Some(n) => cur = n,
            None => return,
        }
    }
    match (last, cur) {
        (Step::Key(k), Value::Object(o)) => {
            o.remove(k);
        }
        (Step::Index(i), Value::Array(a)) if *i < a.len() => {
            a.remove(*i);
        }
        _ => {}
    }
}

/// `unknown field "a"`, `duplicate field "b"` in upstream's wording and
/// order: upstream's strict decoder reports each where it meets it, so a
/// JSON `body` with both is walked once more to put them in document order.
pub fn problems(body: &[u8], duplicates: &[String], unknown: &[UnknownField]) -> Vec<String> {
    let unknown: Vec<&String> = unknown.iter().map(|u| &u.path).collect();
    let unknown_msg = |u: &String| format!("unknown field \"{u}\"");
    let duplicate_msg = |d: &String| format!("duplicate field \"{d}\"");
    let unordered = || {
        unknown
            .iter()
            .map(|u| unknown_msg(u))
            .chain(duplicates.iter().map(duplicate_msg))
            .collect()
    };
    if duplicates.is_empty() || unknown.is_empty() {
        return unordered();
    }
    let order = RefCell::new(Vec::new());
    let dups = RefCell::new(Vec::new());
    let mut de = serde_json::Deserializer::from_slice(body);
    let walked = Track {
        at: &Segment::Root,
        dups: &dups,
        order: Some(&order),
    }
    .deserialize(&mut de);
    if walked.is_err() {
        return unordered();
    }
    let mut out = Vec::with_capacity(duplicates.len() + unknown.len());
    let (mut unknown_left, mut dups_left): (Vec<&String>, Vec<&String>) =
        (unknown.clone(), duplicates.iter().collect());
    for (path, repeat) in order.into_inner() {
        let left = if repeat {
            &mut dups_left
        } else {
            &mut unknown_left
        };
        if let Some(i) = left.iter().position(|p| **p == path) {
            let p = left.remove(i);
            out.push(if repeat {
                duplicate_msg(p)
            } else {
                unknown_msg(p)
            });
        }
    }
    out.extend(unknown_left.into_iter().map(unknown_msg));
    out.extend(dups_left.into_iter().map(duplicate_msg));
    out
}

/// Strict mode's 400: `Pod in version "v1" cannot be handled as a Pod:
/// strict decoding error: unknown field "spec.foo"`.
pub fn strict_error(kind: &str, version: &str, problems: &[String]) -> ApiError {
    ApiError::bad_request(format!(
        "{kind} in version \"{version}\" cannot be handled as a {kind}: strict decoding error: {}",
        problems.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn duplicates_are_found_with_their_paths() {
        let body = br#"{"metadata":{"name":"a","name":"b"},"spec":{"containers":[{"name":"x","image":"i","image":"j"}]}}"#;
        let (v, dups) = parse_json(body).expect("valid JSON");
        assert_eq!(v["metadata"]["name"], "b");
        assert_eq!(dups, vec!["metadata.name", "spec.containers[0].image"]);
        assert!(parse_json(b"{\"a\":").is_err());
        assert!(parse_json(b"{} trailing").is_err());
    }

    #[test]
    fn duplicate_paths_at_every_depth() {
        let cases: [(&[u8], Vec<&str>); 5] = [
            (br#"{"a":1,"a":2}"#, vec!["a"]),
            (br#"[{"k":1,"k":2},{"k":3}]"#, vec!["[0].k"]),
            (br#"{"a":[[{"b":1}],[{"b":1,"b":2}]]}"#, vec!["a[1][0].b"]),
            (br#"{"a":{"b":{"c":1,"c":2}},"a":{}}"#, vec!["a.b.c", "a"]),
            (br#"{"a":{"b":1},"c":[1,2,{"d":{}}]}"#, vec![]),
        ];
        for (body, want) in cases {
            let (_, dups) = parse_json(body).expect("valid JSON");
            assert_eq!(dups, want, "{}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn unknown_fields_of_typed_kinds() {
        let pod = json!({"metadata": {"name": "p", "bogus": 1}, "spec": {"containers": [{"name": "c", "image": "i", "imagePolicy": "x"}], "extra": true}});
        let mut u: Vec<String> = unknown_fields("", "v1", "Pod", &pod)
            .into_iter()
            .map(|u| u.path)
            .collect();
        u.sort();
        assert_eq!(
            u,
            vec![
                "metadata.bogus",
                "spec.containers[0].imagePolicy",
                "spec.extra"
            ]
        );
        let ok = json!({"metadata": {"name": "c"}, "data": {"k": "v"}});
        assert!(unknown_fields("", "v1", "ConfigMap", &ok).is_empty());
        assert!(unknown_fields("example.com", "v1", "Widget", &ok).is_empty());
        let policy = json!({"metadata": {"name": "p"}, "spec": {"failurePolicy": "Fail",
            "validations": [{"expression": "true", "mesage": "typo"}]}});
        let u = unknown_fields(
            "admissionregistration.k8s.io",
            "v1",
            "ValidatingAdmissionPolicy",
            &policy,
        );
        assert_eq!(u[0].path, "spec.validations[0].mesage");
        assert_eq!(u.len(), 1);
    }

    #[test]
    fn pruning_removes_unknown_fields() {
        let mut pod = json!({"metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "i", "imagePolicy": "x"}], "extra": true}});
        let unknown = unknown_fields("", "v1", "Pod", &pod);
        prune(&mut pod, &unknown);
        assert_eq!(
            pod,
            json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "i"}]}})
        );
    }

    /// Keys holding `.` or `[` are single steps: a rendered path re-parsed
    /// would miss them and they would be stored.
    #[test]
    fn pruning_keys_with_dots_and_brackets() {
        let mut cm = json!({"metadata": {"name": "uk2", "x.y": 1, "a[b": 2},
            "a.b": {"x": 1}, "a[b": 1, "a[0]": 3, "data": {"k.v": "kept"}});
        let unknown = unknown_fields("", "v1", "ConfigMap", &cm);
        let mut paths: Vec<&str> = unknown.iter().map(|u| u.path.as_str()).collect();
        paths.sort();
        assert_eq!(
            paths,
            vec!["a.b", "a[0]", "a[b", "metadata.a[b", "metadata.x.y"]
        );
        prune(&mut cm, &unknown);
        assert_eq!(
            cm,
            json!({"metadata": {"name": "uk2"}, "data": {"k.v": "kept"}})
        );
        let mut pod = json!({"metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "i", "x.y": 1}]}});
        let unknown = unknown_fields("", "v1", "Pod", &pod);
        prune(&mut pod, &unknown);
        assert_eq!(
            pod["spec"]["containers"][0],
            json!({"name": "c", "image": "i"})
        );
    }

    #[test]
    fn strict_message_matches_upstream() {
        let body = br#"{"metadata":{"name":"a","name":"b"},"dta":{}}"#;
        let p = problems(
            body,
            &["metadata.name".into()],
            &[UnknownField::reported("dta".into())],
        );
        assert_eq!(
            strict_error("ConfigMap", "v1", &p).message,
            "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: duplicate field \"metadata.name\", unknown field \"dta\""
        );
        assert_eq!(
            FieldValidation::from_query(None).ok(),
            Some(FieldValidation::Warn)
        );
        assert!(FieldValidation::from_query(Some("Loose")).is_err());
    }
}
