//! The audit.k8s.io/v1 `Event` of one request: built once when the request
//! is received, then written at each stage with the fields that stage adds.

use super::policy::{Level, Stage};
use crate::authn::UserInfo;
use crate::handlers::request::RequestInfo;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

/// `metav1.MicroTime` as upstream prints it.
pub fn micro_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// What the event records about the request itself.
pub struct RequestFacts<'a> {
    pub audit_id: &'a str,
    pub level: Level,
    pub request_uri: &'a str,
    pub user: Option<&'a UserInfo>,
    pub info: &'a RequestInfo,
    pub source_ips: Vec<String>,
    pub user_agent: Option<&'a str>,
    pub received: DateTime<Utc>,
}

/// The fields every stage repeats.
pub fn base(f: &RequestFacts) -> Map<String, Value> {
    let mut e = Map::new();
    e.insert("kind".into(), json!("Event"));
    e.insert("apiVersion".into(), json!("audit.k8s.io/v1"));
    e.insert("level".into(), json!(f.level.as_str()));
    e.insert("auditID".into(), json!(f.audit_id));
    e.insert("requestURI".into(), json!(f.request_uri));
    e.insert("verb".into(), json!(f.info.verb));
    let mut user = Map::new();
    if let Some(u) = f.user {
        user.insert("username".into(), json!(u.name));
        if !u.uid.is_empty() {
            user.insert("uid".into(), json!(u.uid));
        }
        if !u.groups.is_empty() {
            user.insert("groups".into(), json!(u.groups));
        }
    }
    e.insert("user".into(), Value::Object(user));
    e.insert("sourceIPs".into(), json!(f.source_ips));
    if let Some(ua) = f.user_agent {
        e.insert("userAgent".into(), json!(ua));
    }
    if f.info.is_resource_request {
        e.insert("objectRef".into(), object_ref(f.info));
    }
    e.insert(
        "requestReceivedTimestamp".into(),
        json!(micro_time(f.received)),
    );
    e
}

/// `objectRef`: which object the request is about (empty fields left out).
fn object_ref(info: &RequestInfo) -> Value {
    let mut r = Map::new();
    let mut put = |k: &str, v: &str| {
        if !v.is_empty() {
            r.insert(k.into(), json!(v));
        }
    };
    put("resource", &info.resource);
    put("namespace", &info.namespace);
    put("name", &info.name);
    put("apiGroup", &info.api_group);
    put("apiVersion", &info.api_version);
    put("subresource", &info.subresource);
    Value::Object(r)
}

/// `object_ref` with `name` filled in, when it names no object yet.
pub fn object_ref_named(object_ref: &Value, name: &str) -> Option<Value> {
    if name.is_empty() || object_ref.get("name").is_some() {
        return None;
    }
    let mut r = object_ref.clone();
    r["name"] = json!(name);
    Some(r)
}

/// One stage's line: the base plus the stage, its time and what it adds.
pub fn at_stage(
    base: &Map<String, Value>,
    stage: Stage,
    now: DateTime<Utc>,
    extra: Map<String, Value>,
) -> Value {
    let mut e = base.clone();
    e.insert("stage".into(), json!(stage.as_str()));
    e.insert("stageTimestamp".into(), json!(micro_time(now)));
    for (k, v) in extra {
        e.insert(k, v);
    }
    Value::Object(e)
}

/// `responseStatus`: a Status without kind/apiVersion; a success carries
/// only the code, as upstream writes it.
pub fn response_status(code: u16, failure: Option<&Value>) -> Value {
    match failure {
        Some(Value::Object(s)) => {
            let mut s = s.clone();
            s.remove("kind");
            s.remove("apiVersion");
            Value::Object(s)
        }
        _ => json!({"metadata": {}, "code": code}),
    }
}

/// Removes `metadata.managedFields` from an object or every list item
/// (`omitManagedFields`).
pub fn strip_managed_fields(v: &mut Value) {
    if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("managedFields");
    }
    if let Some(items) = v.get_mut("items").and_then(Value::as_array_mut) {
        for item in items {
            if let Some(m) = item.get_mut("metadata").and_then(Value::as_object_mut) {
                m.remove("managedFields");
            }
        }
    }
}

/// A request or response body as the event's object: JSON, protobuf (what
/// client-go's typed clients send) or YAML, as JSON; anything else (plain
/// text) is left out.
pub fn body_object(bytes: &[u8]) -> Option<Value> {
    if bytes.is_empty() {
        return None;
    }
    if bytes.starts_with(b"k8s\x00") {
        return crate::protobuf::decode(bytes).ok();
    }
    if let Ok(v) = serde_json::from_slice::<Value>(bytes) {
        return Some(v);
    }
    let text = std::str::from_utf8(bytes).ok()?;
    serde_yaml::from_str::<Value>(text)
        .ok()
        .filter(Value::is_object)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn creates_get_their_name_from_the_body() {
        let unnamed = json!({"resource": "pods", "namespace": "default"});
        assert_eq!(
            object_ref_named(&unnamed, "web"),
            Some(json!({"resource": "pods", "namespace": "default", "name": "web"}))
        );
        assert_eq!(object_ref_named(&unnamed, ""), None);
        let named = json!({"resource": "pods", "name": "a"});
        assert_eq!(object_ref_named(&named, "b"), None, "the URL's name stays");
    }

    #[test]
    fn event_fields_as_upstream() {
        let user = UserInfo {
            name: "admin".into(),
            uid: String::new(),
            groups: vec!["system:masters".into(), "system:authenticated".into()],
        };
        let info = RequestInfo {
            is_resource_request: true,
            verb: "create".into(),
            api_group: "apps".into(),
            api_version: "v1".into(),
            namespace: "default".into(),
            resource: "deployments".into(),
            ..Default::default()
        };
        let t = Utc
            .with_ymd_and_hms(2026, 11, 22, 16, 0, 0)
            .single()
            .expect("time");
        let facts = RequestFacts {
            audit_id: "id-1",
            level: Level::Metadata,
            request_uri: "/apis/apps/v1/namespaces/default/deployments?fieldManager=kubectl",
            user: Some(&user),
            info: &info,
            source_ips: vec!["127.0.0.1".into()],
            user_agent: Some("kubectl/v1.32.0"),
            received: t,
        };
        let e = at_stage(
            &base(&facts),
            Stage::ResponseComplete,
            t + chrono::Duration::microseconds(1500),
            Map::from_iter([("responseStatus".to_string(), response_status(201, None))]),
        );
        assert_eq!(
            e,
            json!({
                "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
                "auditID": "id-1", "stage": "ResponseComplete",
                "requestURI": "/apis/apps/v1/namespaces/default/deployments?fieldManager=kubectl",
                "verb": "create",
                "user": {"username": "admin", "groups": ["system:masters", "system:authenticated"]},
                "sourceIPs": ["127.0.0.1"], "userAgent": "kubectl/v1.32.0",
                "objectRef": {"resource": "deployments", "namespace": "default",
                              "apiGroup": "apps", "apiVersion": "v1"},
                "responseStatus": {"metadata": {}, "code": 201},
                "requestReceivedTimestamp": "2026-11-22T16:00:00.000000Z",
                "stageTimestamp": "2026-11-22T16:00:00.001500Z",
            })
        );
    }

    #[test]
    fn failure_status_and_managed_fields() {
        let st = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                        "message": "nope", "reason": "NotFound", "code": 404});
        assert_eq!(
            response_status(404, Some(&st)),
            json!({"metadata": {}, "status": "Failure", "message": "nope", "reason": "NotFound", "code": 404})
        );
        let mut list = json!({"items": [{"metadata": {"name": "a", "managedFields": [1]}}]});
        strip_managed_fields(&mut list);
        assert_eq!(list, json!({"items": [{"metadata": {"name": "a"}}]}));
        assert_eq!(body_object(b"a: 1\n"), Some(json!({"a": 1})));
        assert_eq!(body_object(b"\x0a\x02k8s"), None);
        assert_eq!(body_object(b"k8s\x00\xff"), None);
    }
}
