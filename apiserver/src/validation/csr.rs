//! CertificateSigningRequest rules beyond object metadata: the request must
//! be a PEM CSR, usages known and unique, and the `approval` and `status`
//! subresources each change only what they own (upstream's
//! certificates validation and the approval/status strategies).

use super::field::{ErrorList, FieldError};
use base64::Engine;
use serde_json::{Value, json};

/// v1 KeyUsage values.
pub const KNOWN_USAGES: &[&str] = &[
    "signing",
    "digital signature",
    "content commitment",
    "key encipherment",
    "key agreement",
    "data encipherment",
    "cert sign",
    "crl sign",
    "encipher only",
    "decipher only",
    "any",
    "server auth",
    "client auth",
    "code signing",
    "email protection",
    "s/mime",
    "ipsec end system",
    "ipsec tunnel",
    "ipsec user",
    "timestamping",
    "ocsp signing",
    "microsoft sgc",
    "netscape sgc",
];

/// The decoded PEM bytes of `spec.request` (base64 in JSON).
pub fn request_pem(csr: &Value) -> Option<Vec<u8>> {
    let b64 = csr.pointer("/spec/request").and_then(Value::as_str)?;
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

/// `spec.request`, `spec.usages`, `spec.expirationSeconds` and the
/// signer that v1 no longer accepts.
pub fn validate_spec(csr: &Value) -> ErrorList {
    let mut errs = ErrorList::new();
    let pem = request_pem(csr).unwrap_or_default();
    let is_csr_block =
        String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE REQUEST-----");
    if !is_csr_block {
        errs.push(FieldError::invalid(
            "spec.request",
            json!(""),
            "PEM block type must be CERTIFICATE REQUEST",
        ));
    } else if let Err(e) = openssl::x509::X509Req::from_pem(&pem)
        .and_then(|r| r.public_key().and_then(|k| r.verify(&k)).map(|ok| (r, ok)))
        .and_then(|(_, ok)| {
            if ok {
                Ok(())
            } else {
                Err(openssl::error::ErrorStack::get())
            }
        })
    {
        tracing::debug!("certificate request does not parse: {e}");
        errs.push(FieldError::invalid(
            "spec.request",
            json!(""),
            "x509: malformed certificate request or bad signature",
        ));
    }
    let usages: Vec<&str> = csr
        .pointer("/spec/usages")
        .and_then(Value::as_array)
        .map(|u| u.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if usages.is_empty() {
        errs.push(FieldError::required(
            "spec.usages",
            "usages must be provided",
        ));
    }
    for (i, u) in usages.iter().enumerate() {
        let path = format!("spec.usages[{i}]");
        if !KNOWN_USAGES.contains(u) {
            errs.push(FieldError::not_supported(path, json!(u), KNOWN_USAGES));
        } else if usages[..i].contains(u) {
            errs.push(FieldError::duplicate(path, json!(u)));
        }
    }
    if csr.pointer("/spec/signerName").and_then(Value::as_str)
        == Some("kubernetes.io/legacy-unknown")
    {
        errs.push(FieldError::invalid(
            "spec.signerName",
            json!("kubernetes.io/legacy-unknown"),
            "the legacy signerName is not allowed via this API version",
        ));
    }
    if let Some(secs) = csr
        .pointer("/spec/expirationSeconds")
        .and_then(Value::as_i64)
        && secs < 600
    {
        errs.push(FieldError::invalid(
            "spec.expirationSeconds",
            json!(secs),
            "may not specify a duration less than 600 seconds (10 minutes)",
        ));
    }
    errs
}

fn conditions(csr: &Value) -> Vec<Value> {
    csr.pointer("/status/conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn cond_type(c: &Value) -> &str {
    c.get("type").and_then(Value::as_str).unwrap_or("")
}

fn has_type(cs: &[Value], t: &str) -> bool {
    cs.iter().any(|c| cond_type(c) == t)
}

/// Conditions common rules: a type, unique Approved/Denied/Failed, status
/// True/False/Unknown (Approved and Denied only True), not both.
fn validate_conditions(cs: &[Value]) -> ErrorList {
    let mut errs = ErrorList::new();
    let mut seen: Vec<&str> = Vec::new();
    for (i, c) in cs.iter().enumerate() {
        let path = format!("status.conditions[{i}]");
        let t = cond_type(c);
        if t.is_empty() {
            errs.push(FieldError::required(format!("{path}.type"), ""));
            continue;
        }
        let status = c.get("status").and_then(Value::as_str).unwrap_or("");
        if status.is_empty() {
            errs.push(FieldError::required(format!("{path}.status"), ""));
        } else if matches!(t, "Approved" | "Denied") && status != "True" {
            errs.push(FieldError::not_supported(
                format!("{path}.status"),
                json!(status),
                &["True"],
            ));
        } else if !matches!(status, "True" | "False" | "Unknown") {
            errs.push(FieldError::not_supported(
                format!("{path}.status"),
                json!(status),
                &["False", "True", "Unknown"],
            ));
        }
        if matches!(t, "Approved" | "Denied" | "Failed") {
            if seen.contains(&t) {
                errs.push(FieldError::duplicate(format!("{path}.type"), json!(t)));
            }
            seen.push(t);
        }
    }
    if seen.contains(&"Approved") && seen.contains(&"Denied") {
        errs.push(FieldError::invalid(
            "status.conditions",
            json!(cs),
            "Approved and Denied conditions are mutually exclusive",
        ));
    }
    errs
}

/// Approved and Denied may not be removed once set.
fn no_removal(new: &[Value], old: &[Value], errs: &mut ErrorList) {
    for t in ["Approved", "Denied"] {
        if has_type(old, t) && !has_type(new, t) {
            errs.push(FieldError::forbidden(
                "status.conditions",
                format!("updates may not remove a condition of type \"{t}\""),
            ));
        }
    }
}

/// PUT `/approval`: the conditions may gain Approved or Denied.
pub fn validate_approval_update(new: &Value, old: &Value) -> ErrorList {
    let (n, o) = (conditions(new), conditions(old));
    let mut errs = validate_conditions(&n);
    no_removal(&n, &o, &mut errs);
    errs
}

/// PUT `/status`: conditions other than Approved/Denied and the
/// certificate (set once, a PEM certificate).
pub fn validate_status_update(new: &Value, old: &Value) -> ErrorList {
    let (n, o) = (conditions(new), conditions(old));
    let mut errs = validate_conditions(&n);
    no_removal(&n, &o, &mut errs);
    for t in ["Approved", "Denied"] {
        if has_type(&n, t) && !has_type(&o, t) {
            errs.push(FieldError::forbidden(
                "status.conditions",
                format!("updates may not add a condition of type \"{t}\""),
            ));
        }
    }
    let new_cert = new.pointer("/status/certificate").and_then(Value::as_str);
    let old_cert = old.pointer("/status/certificate").and_then(Value::as_str);
    if let Some(old_cert) = old_cert.filter(|c| !c.is_empty())
        && new_cert != Some(old_cert)
    {
        errs.push(FieldError::forbidden(
            "status.certificate",
            "updates may not modify existing certificate content",
        ));
    }
    if let Some(c) = new_cert.filter(|c| !c.is_empty())
        && old_cert.is_none_or(str::is_empty)
    {
        let pem = base64::engine::general_purpose::STANDARD
            .decode(c)
            .unwrap_or_default();
        if openssl::x509::X509::stack_from_pem(&pem).map_or(true, |s| s.is_empty()) {
            errs.push(FieldError::invalid(
                "status.certificate",
                json!("<certificate data>"),
                "must contain at least one CERTIFICATE PEM block",
            ));
        }
    }
    errs
}

/// What an approval update stores: the old object with the new
/// conditions, new conditions stamped with the time (upstream's
/// approval strategy).
pub fn apply_approval(new: &Value, old: &Value, now: &str) -> Value {
    let old_conds = conditions(old);
    let mut conds = conditions(new);
    for c in conds.iter_mut() {
        let unchanged = old_conds.iter().any(|o| o == c);
        if let Some(m) = c.as_object_mut()
            && !unchanged
        {
            let is_blank = |v: Option<&Value>| v.is_none_or(|v| v.is_null() || v == "");
            if is_blank(m.get("lastUpdateTime")) {
                m.insert("lastUpdateTime".into(), json!(now));
            }
            if is_blank(m.get("lastTransitionTime")) {
                m.insert("lastTransitionTime".into(), json!(now));
            }
        }
    }
    let mut out = old.clone();
    if !out.get("status").is_some_and(Value::is_object) {
        out["status"] = json!({});
    }
    out["status"]["conditions"] = json!(conds);
    if let (Some(meta), Some(new_meta)) = (out.get_mut("metadata"), new.get("metadata")) {
        // Labels and annotations may change along with the approval.
        for k in ["labels", "annotations"] {
            match new_meta.get(k) {
                Some(v) => meta[k] = v.clone(),
                None => {
                    if let Some(m) = meta.as_object_mut() {
                        m.remove(k);
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csr(conds: Value) -> Value {
        json!({"metadata": {"name": "c"}, "spec": {"signerName": "kubernetes.io/kube-apiserver-client"},
               "status": {"conditions": conds}})
    }

    #[test]
    fn approval_rules() {
        let none = csr(json!([]));
        let approved =
            csr(json!([{"type": "Approved", "status": "True", "reason": "KubectlApprove"}]));
        let denied = csr(json!([{"type": "Denied", "status": "True"}]));
        let both = csr(
            json!([{"type": "Approved", "status": "True"}, {"type": "Denied", "status": "True"}]),
        );
        let false_approved = csr(json!([{"type": "Approved", "status": "False"}]));
        assert!(validate_approval_update(&approved, &none).is_empty());
        assert!(validate_approval_update(&denied, &none).is_empty());
        assert_eq!(validate_approval_update(&both, &none).len(), 1);
        assert_eq!(validate_approval_update(&none, &approved).len(), 1);
        assert_eq!(validate_approval_update(&false_approved, &none).len(), 1);
        // The status subresource may not approve.
        assert_eq!(validate_status_update(&approved, &none).len(), 1);
        assert!(validate_status_update(&approved, &approved).is_empty());
    }

    #[test]
    fn approval_keeps_everything_but_conditions() {
        let old = json!({"metadata": {"name": "c"}, "spec": {"signerName": "a/b", "usages": ["client auth"]}});
        let new = json!({"metadata": {"name": "c"}, "spec": {"signerName": "evil/x"},
                         "status": {"certificate": "Zm9v", "conditions": [{"type": "Approved", "status": "True"}]}});
        let out = apply_approval(&new, &old, "2026-11-22T17:00:00Z");
        assert_eq!(out["spec"], old["spec"]);
        assert!(out["status"].get("certificate").is_none());
        assert_eq!(
            out["status"]["conditions"][0]["lastUpdateTime"],
            "2026-11-22T17:00:00Z"
        );
        assert_eq!(
            out["status"]["conditions"][0]["lastTransitionTime"],
            "2026-11-22T17:00:00Z"
        );
    }

    #[test]
    fn a_broken_request_block_is_invalid() {
        let pem = "-----BEGIN CERTIFICATE REQUEST-----\n\
MIHXMH8CAQAwHTEbMBkGA1UEAwwSc3lzdGVtOm5vZGU6aGRzczctMjEwWTATBgcq\n\
hkjOPQIBBggqhkjOPQMBBwNCAAQfPx";
        // Truncated PEM: the block is there but does not parse.
        let b64 = base64::engine::general_purpose::STANDARD.encode(pem);
        let csr = json!({"spec": {"request": b64, "signerName": "a/b", "usages": ["client auth"]}});
        let errs = validate_spec(&csr);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].field, "spec.request");
    }

    #[test]
    fn spec_rules() {
        let bad = json!({"spec": {"request": "bm90IGEgY3Ny", "signerName": "kubernetes.io/legacy-unknown",
                                  "usages": ["client auth", "client auth", "teleport"], "expirationSeconds": 60}});
        let errs = validate_spec(&bad);
        let fields: Vec<String> = errs.iter().map(|e| e.field.clone()).collect();
        assert_eq!(
            fields,
            [
                "spec.request",
                "spec.usages[1]",
                "spec.usages[2]",
                "spec.signerName",
                "spec.expirationSeconds"
            ]
        );
    }
}
