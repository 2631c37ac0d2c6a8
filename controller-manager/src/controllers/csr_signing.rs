//! The csrsigning controller: an Approved CertificateSigningRequest for one
//! of the built-in signers (`kubernetes.io/kube-apiserver-client`,
//! `kubernetes.io/kube-apiserver-client-kubelet`, `kubernetes.io/kubelet-serving`)
//! gets a certificate signed by `--cluster-signing-cert-file/-key-file`,
//! written to `status.certificate`. A request the signer may not issue
//! (wrong usages, a kubelet name that is not `system:node:*`) gets a
//! `Failed` condition with reason `SignerValidationFailure`, as upstream.

use crate::Context;
use crate::controllers::run_controller;
use crate::error::Result;
use base64::Engine;
use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::Controller;
use kube::runtime::controller::Action;
use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage,
};
use openssl::x509::{X509, X509Req};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// How far back a certificate's notBefore goes (clock skew between nodes).
const BACKDATE: Duration = Duration::from_secs(5 * 60);

/// The CA that signs, loaded from the flags.
pub struct Signer {
    cert: X509,
    key: PKey<Private>,
    /// `--cluster-signing-duration`.
    duration: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("{0}")]
    Invalid(String),
    #[error("signing: {0}")]
    Openssl(#[from] openssl::error::ErrorStack),
}

struct State {
    client: kube::Client,
    signer: Signer,
}

pub async fn run(ctx: Context) -> anyhow::Result<()> {
    let (Some(cert), Some(key)) = (
        ctx.options.cluster_signing_cert_file.as_ref(),
        ctx.options.cluster_signing_key_file.as_ref(),
    ) else {
        tracing::info!(
            "csrsigning: no --cluster-signing-cert-file/--cluster-signing-key-file, not signing"
        );
        std::future::pending::<()>().await;
        return Ok(());
    };
    let signer = Signer {
        cert: X509::from_pem(&std::fs::read(cert)?)?,
        key: PKey::private_key_from_pem(&std::fs::read(key)?)?,
        duration: ctx.options.cluster_signing_duration,
    };
    let client = ctx.client.clone();
    let requests = ctx.informers.get::<CertificateSigningRequest>();
    let events = requests.subscribe().objects();
    let controller = Controller::for_shared_stream(events, requests.reader().await);
    run_controller(
        "csrsigning",
        ctx.metrics.clone(),
        controller,
        reconcile,
        Arc::new(State { client, signer }),
    )
    .await
}

fn has_condition(csr: &CertificateSigningRequest, t: &str) -> bool {
    csr.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == t && c.status == "True"))
}

/// Approved, not failed, not issued, for a signer we own.
pub fn wants_signing(csr: &CertificateSigningRequest) -> bool {
    let issued = csr
        .status
        .as_ref()
        .and_then(|s| s.certificate.as_ref())
        .is_some_and(|c| !c.0.is_empty());
    is_builtin_signer(&csr.spec.signer_name)
        && has_condition(csr, "Approved")
        && !has_condition(csr, "Failed")
        && !issued
}

fn is_builtin_signer(name: &str) -> bool {
    matches!(
        name,
        "kubernetes.io/kube-apiserver-client"
            | "kubernetes.io/kube-apiserver-client-kubelet"
            | "kubernetes.io/kubelet-serving"
    )
}

async fn reconcile(csr: Arc<CertificateSigningRequest>, st: Arc<State>) -> Result<Action> {
    if !wants_signing(&csr) {
        return Ok(Action::await_change());
    }
    let api: Api<CertificateSigningRequest> = Api::all(st.client.clone());
    let name = csr.name_any();
    let status = match st.signer.sign(&csr) {
        Ok(pem) => {
            tracing::info!(csr = %name, signer = %csr.spec.signer_name, "issued certificate");
            let b64 = base64::engine::general_purpose::STANDARD.encode(pem);
            json!({"status": {"certificate": b64}})
        }
        Err(SignError::Invalid(msg)) => {
            tracing::info!(csr = %name, "not signing: {msg}");
            let mut conds = csr
                .status
                .as_ref()
                .and_then(|s| s.conditions.clone())
                .map(|c| serde_json::to_value(c).unwrap_or_default())
                .and_then(|v| v.as_array().cloned())
                .unwrap_or_default();
            let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
            conds.push(
                json!({"type": "Failed", "status": "True", "reason": "SignerValidationFailure",
                              "message": msg, "lastUpdateTime": now, "lastTransitionTime": now}),
            );
            json!({"status": {"conditions": conds}})
        }
        Err(e) => {
            return Err(crate::error::Error::invalid(
                "certificate signing",
                e.to_string(),
            ));
        }
    };
    api.patch_status(&name, &PatchParams::default(), &Patch::Merge(&status))
        .await?;
    Ok(Action::await_change())
}

/// The usages each built-in signer allows (upstream's signer constraints).
fn allowed_usages(signer: &str) -> &'static [&'static str] {
    match signer {
        "kubernetes.io/kubelet-serving" => {
            &["key encipherment", "digital signature", "server auth"]
        }
        _ => &["key encipherment", "digital signature", "client auth"],
    }
}

impl Signer {
    /// A PEM certificate for the request, or why the signer refuses it.
    pub fn sign(&self, csr: &CertificateSigningRequest) -> std::result::Result<Vec<u8>, SignError> {
        let signer = csr.spec.signer_name.as_str();
        let usages = csr.spec.usages.clone().unwrap_or_default();
        let allowed = allowed_usages(signer);
        if let Some(bad) = usages.iter().find(|u| !allowed.contains(&u.as_str())) {
            return Err(SignError::Invalid(format!(
                "invalid usage for {signer}: {bad:?} (allowed: {allowed:?})"
            )));
        }
        let req = X509Req::from_pem(&csr.spec.request.0)
            .map_err(|e| SignError::Invalid(format!("unable to parse csr: {e}")))?;
        let cn = req
            .subject_name()
            .entries_by_nid(Nid::COMMONNAME)
            .next()
            .and_then(|e| e.data().to_string().ok())
            .unwrap_or_default();
        if signer != "kubernetes.io/kube-apiserver-client" && !cn.starts_with("system:node:") {
            return Err(SignError::Invalid(format!(
                "subject common name {cn:?} must begin with \"system:node:\""
            )));
        }
        let mut lifetime = self.duration;
        if let Some(secs) = csr.spec.expiration_seconds {
            lifetime = lifetime.min(Duration::from_secs(secs.max(600) as u64));
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let mut b = X509::builder()?;
        b.set_version(2)?;
        let mut serial = BigNum::new()?;
        serial.rand(127, MsbOption::MAYBE_ZERO, false)?;
        let serial = serial.to_asn1_integer()?;
        b.set_serial_number(&serial)?;
        b.set_subject_name(req.subject_name())?;
        b.set_issuer_name(self.cert.subject_name())?;
        b.set_pubkey(req.public_key()?.as_ref())?;
        b.set_not_before(Asn1Time::from_unix(now - BACKDATE.as_secs() as i64)?.as_ref())?;
        b.set_not_after(Asn1Time::from_unix(now + lifetime.as_secs() as i64)?.as_ref())?;
        let mut ku = KeyUsage::new();
        ku.critical();
        let mut eku = ExtendedKeyUsage::new();
        for u in &usages {
            match u.as_str() {
                "digital signature" => {
                    ku.digital_signature();
                }
                "key encipherment" => {
                    ku.key_encipherment();
                }
                "client auth" => {
                    eku.client_auth();
                }
                "server auth" => {
                    eku.server_auth();
                }
                _ => {}
            }
        }
        // Like Go's x509, no KeyUsage extension when no key usage was asked.
        if usages
            .iter()
            .any(|u| matches!(u.as_str(), "digital signature" | "key encipherment"))
        {
            b.append_extension(ku.build()?)?;
        }
        if usages.iter().any(|u| u.ends_with(" auth")) {
            b.append_extension(eku.build()?)?;
        }
        b.append_extension(BasicConstraints::new().critical().build()?)?;
        if self.cert.subject_key_id().is_some() {
            let akid = AuthorityKeyIdentifier::new()
                .keyid(false)
                .build(&b.x509v3_context(Some(&self.cert), None))?;
            b.append_extension(akid)?;
        }
        b.sign(&self.key, MessageDigest::sha256())?;
        Ok(b.build().to_pem()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::ec::{EcGroup, EcKey};
    use openssl::x509::{X509NameBuilder, X509ReqBuilder};

    fn key() -> PKey<Private> {
        let g = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).expect("curve");
        PKey::from_ec_key(EcKey::generate(&g).expect("key")).expect("pkey")
    }

    fn ca() -> Signer {
        let k = key();
        let mut n = X509NameBuilder::new().expect("name");
        n.append_entry_by_text("CN", "test-ca").expect("cn");
        let n = n.build();
        let mut b = X509::builder().expect("builder");
        b.set_version(2).expect("v");
        b.set_subject_name(&n).expect("s");
        b.set_issuer_name(&n).expect("i");
        b.set_pubkey(&k).expect("k");
        b.set_not_before(Asn1Time::days_from_now(0).expect("t").as_ref())
            .expect("nb");
        b.set_not_after(Asn1Time::days_from_now(10).expect("t").as_ref())
            .expect("na");
        b.append_extension(BasicConstraints::new().ca().critical().build().expect("bc"))
            .expect("ext");
        let ski = openssl::x509::extension::SubjectKeyIdentifier::new()
            .build(&b.x509v3_context(None, None))
            .expect("ski");
        b.append_extension(ski).expect("ext");
        b.sign(&k, MessageDigest::sha256()).expect("sign");
        Signer {
            cert: b.build(),
            key: k,
            duration: Duration::from_secs(365 * 24 * 3600),
        }
    }

    fn csr(cn: &str, signer: &str, usages: &[&str]) -> CertificateSigningRequest {
        let k = key();
        let mut n = X509NameBuilder::new().expect("name");
        n.append_entry_by_text("CN", cn).expect("cn");
        n.append_entry_by_text("O", "devs").expect("o");
        let mut r = X509ReqBuilder::new().expect("req");
        r.set_subject_name(&n.build()).expect("subject");
        r.set_pubkey(&k).expect("pubkey");
        r.sign(&k, MessageDigest::sha256()).expect("sign");
        let pem = r.build().to_pem().expect("pem");
        serde_json::from_value(json!({
            "metadata": {"name": "c"},
            "spec": {"request": base64::engine::general_purpose::STANDARD.encode(pem),
                     "signerName": signer, "usages": usages, "expirationSeconds": 3600},
            "status": {"conditions": [{"type": "Approved", "status": "True"}]}
        }))
        .expect("csr")
    }

    #[test]
    fn signs_client_certificates_with_the_requested_subject() {
        let ca = ca();
        let only_client = csr(
            "bob",
            "kubernetes.io/kube-apiserver-client",
            &["client auth"],
        );
        assert!(ca.sign(&only_client).is_ok());
        let c = csr(
            "alice",
            "kubernetes.io/kube-apiserver-client",
            &["client auth", "digital signature"],
        );
        assert!(wants_signing(&c));
        let pem = ca.sign(&c).expect("signed");
        let cert = X509::from_pem(&pem).expect("parses");
        let cn = cert
            .subject_name()
            .entries_by_nid(Nid::COMMONNAME)
            .next()
            .expect("cn");
        assert_eq!(cn.data().to_string().expect("utf8"), "alice");
        assert!(
            cert.verify(&ca.cert.public_key().expect("ca key"))
                .expect("verify")
        );
        // expirationSeconds (1 h) caps the signing duration, plus the backdate.
        let diff = cert.not_before().diff(cert.not_after()).expect("diff");
        assert_eq!(
            i64::from(diff.days) * 86400 + i64::from(diff.secs),
            3600 + 300
        );
    }

    #[test]
    fn signer_constraints() {
        let ca = ca();
        let serving = csr("alice", "kubernetes.io/kubelet-serving", &["server auth"]);
        assert!(matches!(ca.sign(&serving), Err(SignError::Invalid(_))));
        let serving = csr(
            "system:node:n1",
            "kubernetes.io/kubelet-serving",
            &["server auth", "key encipherment"],
        );
        assert!(ca.sign(&serving).is_ok());
        let wrong = csr(
            "alice",
            "kubernetes.io/kube-apiserver-client",
            &["server auth"],
        );
        assert!(matches!(ca.sign(&wrong), Err(SignError::Invalid(_))));
        let other = csr("alice", "example.com/custom", &["client auth"]);
        assert!(!wants_signing(&other));
    }
}
