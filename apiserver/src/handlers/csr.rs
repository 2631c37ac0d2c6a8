//! CertificateSigningRequest writes that need a signer permission, as
//! upstream's CertificateApproval and CertificateSigning admission plugins
//! check it: updating `/approval` needs `approve`, setting a certificate
//! through `/status` needs `sign`, on `signers` in certificates.k8s.io with
//! the signerName (or its `<domain>/*` wildcard) as resource name.

use super::{AppState, Ctx};
use crate::authz::Decision;
use crate::resources::ResourceDef;
use crate::status::ApiError;
use serde_json::Value;

/// Names a signer permission may be granted on: exact, then `domain/*`.
pub fn signer_names(signer: &str) -> Vec<String> {
    let mut names = vec![signer.to_string()];
    if let Some((domain, _)) = signer.split_once('/') {
        names.push(format!("{domain}/*"));
    }
    names
}

/// 403 unless the user may `verb` (approve, sign) the CSR's signer.
pub fn authorize_signer(
    state: &AppState,
    ctx: &Ctx,
    def: &ResourceDef,
    csr: &Value,
    verb: &str,
) -> Result<(), ApiError> {
    let signer = csr
        .pointer("/spec/signerName")
        .and_then(Value::as_str)
        .unwrap_or("");
    let allowed = signer_names(signer).into_iter().any(|name| {
        let mut info = ctx.info.clone();
        info.verb = verb.to_string();
        info.api_group = "certificates.k8s.io".into();
        info.resource = "signers".into();
        info.subresource.clear();
        info.namespace.clear();
        info.name = name;
        matches!(
            state.authorizer.authorize(&ctx.user, &info),
            Decision::Allow
        )
    });
    if allowed {
        return Ok(());
    }
    let mut e = ApiError::forbidden(format!(
        "{}.{} \"{}\" is forbidden: user not permitted to {verb} requests with signerName \"{signer}\"",
        def.plural, def.group, ctx.info.name
    ));
    e.details = serde_json::json!({"name": ctx.info.name, "group": def.group, "kind": def.plural});
    Err(e)
}

/// Whether a status update sets a certificate the stored object lacks.
pub fn sets_certificate(new: &Value, old: &Value) -> bool {
    let cert = |v: &Value| {
        v.pointer("/status/certificate")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    !cert(new).is_empty() && cert(new) != cert(old)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signer_wildcards() {
        assert_eq!(
            signer_names("kubernetes.io/kube-apiserver-client"),
            ["kubernetes.io/kube-apiserver-client", "kubernetes.io/*"]
        );
        assert_eq!(signer_names("bad"), ["bad"]);
    }
}
