//! AdmissionReview v1: the request a webhook gets and what its response
//! may say (allowed, a Status, a base64 JSONPatch, warnings).

use base64::Engine;
use serde_json::{Value, json};

/// The `request` of an AdmissionReview.
pub fn request(
    uid: &str,
    req: &crate::admission::Request<'_>,
    object: &Value,
    old_object: &Value,
    operation: &str,
) -> Value {
    let d = req.def;
    let kind = json!({"group": d.group, "version": d.version, "kind": d.kind});
    let resource = json!({"group": d.group, "version": d.version, "resource": d.plural});
    let mut r = json!({
        "uid": uid, "kind": kind, "resource": resource,
        "requestKind": kind, "requestResource": resource,
        "name": req.name, "operation": operation,
        "userInfo": {"username": req.user.name, "uid": req.user.uid, "groups": req.user.groups},
        "object": object, "oldObject": old_object, "dryRun": req.dry_run,
    });
    if !req.namespace.is_empty() {
        r["namespace"] = json!(req.namespace);
    }
    if !req.subresource.is_empty() {
        r["subResource"] = json!(req.subresource);
    }
    json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": r})
}

/// What a webhook answered.
#[derive(Debug, PartialEq)]
pub struct Response {
    pub allowed: bool,
    /// `response.status` (code, reason, message) when denied.
    pub status: Value,
    /// The decoded JSONPatch, if any.
    pub patch: Option<Value>,
    pub warnings: Vec<String>,
}

/// Parses the body; errors use upstream's wording where there is one.
pub fn parse(body: &[u8], uid: &str) -> Result<Response, String> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| format!("received invalid webhook response: {e}"))?;
    if v.get("apiVersion").and_then(Value::as_str) != Some("admission.k8s.io/v1")
        || v.get("kind").and_then(Value::as_str) != Some("AdmissionReview")
    {
        return Err(
            "received invalid webhook response: expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview"
                .into(),
        );
    }
    let r = v
        .get("response")
        .filter(|r| r.is_object())
        .ok_or("webhook response was absent")?;
    let got_uid = r.get("uid").and_then(Value::as_str).unwrap_or("");
    if got_uid != uid {
        return Err(format!(
            "expected response.uid=\"{uid}\", got \"{got_uid}\""
        ));
    }
    let patch = match r.get("patch").and_then(Value::as_str) {
        None | Some("") => None,
        Some(b64) => {
            if r.get("patchType").and_then(Value::as_str) != Some("JSONPatch") {
                return Err("webhook returned response.patch but not response.patchType".into());
            }
            let raw = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|e| format!("received invalid webhook response: {e}"))?;
            Some(
                serde_json::from_slice(&raw)
                    .map_err(|e| format!("received invalid json patch: {e}"))?,
            )
        }
    };
    Ok(Response {
        allowed: r.get("allowed").and_then(Value::as_bool).unwrap_or(false),
        status: r.get("status").cloned().unwrap_or(Value::Null),
        patch,
        warnings: r
            .get("warnings")
            .and_then(Value::as_array)
            .map(|w| {
                w.iter()
                    .filter_map(|s| s.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_responses() {
        let patch = base64::engine::general_purpose::STANDARD
            .encode(br#"[{"op":"add","path":"/metadata/labels","value":{"a":"b"}}]"#);
        let ok = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "response": {"uid": "u", "allowed": true, "patchType": "JSONPatch", "patch": patch, "warnings": ["w"]}});
        let r = parse(ok.to_string().as_bytes(), "u").expect("valid");
        assert!(r.allowed);
        assert_eq!(r.patch.expect("patch")[0]["op"], "add");
        assert_eq!(r.warnings, ["w"]);
        let wrong_uid = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": {"uid": "x", "allowed": true}});
        assert_eq!(
            parse(wrong_uid.to_string().as_bytes(), "u"),
            Err("expected response.uid=\"u\", got \"x\"".into())
        );
        let denied = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "response": {"uid": "u", "allowed": false, "status": {"code": 403, "message": "no"}}});
        let r = parse(denied.to_string().as_bytes(), "u").expect("valid");
        assert!(!r.allowed);
        assert_eq!(r.status["code"], 403);
        assert!(parse(b"{}", "u").is_err());
    }
}
