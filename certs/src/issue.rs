//! Making CSRs and certificates the way cfssl makes them: a random 159-bit
//! serial, SubjectKeyId, AuthorityKeyId from the issuer's SubjectKeyId,
//! critical key usage and basic constraints, a five-minute backdate.

use openssl::asn1::{Asn1Integer, Asn1Object, Asn1OctetString, Asn1Time};
use openssl::bn::BigNum;
use openssl::error::ErrorStack;
use openssl::pkey::{PKey, PKeyRef, Private};
use openssl::stack::Stack;
use openssl::x509::extension::{
    BasicConstraints, ExtendedKeyUsage, KeyUsage as KeyUsageExt, SubjectAlternativeName,
    SubjectKeyIdentifier,
};
use openssl::x509::{
    X509, X509Builder, X509Extension, X509NameRef, X509Ref, X509Req, X509ReqBuilder,
};

use crate::clock::Validity;
use crate::config::Policy;
use crate::keys::{KeyError, private_key_pem, signature_digest};
use crate::request::{CertificateRequest, RequestError, SubjectAltNames};
use crate::subject::build_subject;
use crate::usage::{KeyUsage, Usages};

/// Why a certificate could not be issued.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("{0}")]
    Request(#[from] RequestError),
    #[error("{0}")]
    Key(#[from] KeyError),
    #[error("CA certificate: not a PEM certificate")]
    BadCaCertificate,
    #[error("CA private key: not a PEM private key")]
    BadCaKey,
    #[error("CA private key does not match the CA certificate")]
    CaKeyMismatch,
    #[error("openssl: {0}")]
    Openssl(#[from] ErrorStack),
}

/// What `gencert` prints: certificate, CSR and private key, all PEM.
#[derive(Debug, Clone)]
pub struct Issued {
    pub cert: Vec<u8>,
    pub csr: Vec<u8>,
    pub key: Vec<u8>,
}

/// A CA certificate with its private key, checked to belong together.
pub struct CertificateAuthority {
    pub cert: X509,
    pub key: PKey<Private>,
}

impl CertificateAuthority {
    /// Loads a CA from PEM. The first certificate of a bundle is the CA.
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<Self, IssueError> {
        let cert = X509::from_pem(cert_pem).map_err(|_| IssueError::BadCaCertificate)?;
        let key = PKey::private_key_from_pem(key_pem).map_err(|_| IssueError::BadCaKey)?;
        if !cert.public_key()?.public_eq(&key) {
            return Err(IssueError::CaKeyMismatch);
        }
        signature_digest(&key)?;
        Ok(CertificateAuthority { cert, key })
    }
}

/// `gencert -initca`: a new key and a self-signed CA certificate.
pub fn init_ca(req: &CertificateRequest) -> Result<Issued, IssueError> {
    let constraints = req.ca_constraints()?;
    let key = req.key_spec()?.generate()?;
    let subject = build_subject(&req.common_name, req.names())?;
    let sans = req.subject_alt_names();
    let csr = build_csr(&subject, &sans, true, &key)?;
    let usages = Usages {
        key: vec![KeyUsage::CertSign, KeyUsage::CrlSign],
        extended: vec![],
    };
    let profile = CertProfile {
        usages: &usages,
        validity: Validity::from_now(constraints.expiry),
        ca_path_len: Some(constraints.path_len),
    };
    let cert = build_certificate(&subject, &key, &sans, None, &key, &profile)?;
    Ok(Issued {
        cert: cert.to_pem()?,
        csr: csr.to_pem()?,
        key: private_key_pem(&key)?,
    })
}

/// `gencert -ca ...`: a new key and a certificate for it signed by `ca`
/// under `policy`.
pub fn sign_new(
    req: &CertificateRequest,
    ca: &CertificateAuthority,
    policy: &Policy,
) -> Result<Issued, IssueError> {
    let key = req.key_spec()?.generate()?;
    let subject = build_subject(&req.common_name, req.names())?;
    let sans = req.subject_alt_names();
    let csr = build_csr(&subject, &sans, false, &key)?;
    let profile = CertProfile {
        usages: &policy.usages,
        validity: Validity::from_now(policy.expiry),
        ca_path_len: None,
    };
    let cert = build_certificate(&subject, &key, &sans, Some(&ca.cert), &ca.key, &profile)?;
    Ok(Issued {
        cert: cert.to_pem()?,
        csr: csr.to_pem()?,
        key: private_key_pem(&key)?,
    })
}

/// What distinguishes one certificate from another besides names and keys.
struct CertProfile<'a> {
    usages: &'a Usages,
    validity: Validity,
    /// `Some(limit)` makes a CA certificate; `None` a leaf.
    ca_path_len: Option<Option<u32>>,
}

fn build_csr(
    subject: &X509NameRef,
    sans: &SubjectAltNames,
    ca: bool,
    key: &PKeyRef<Private>,
) -> Result<X509Req, IssueError> {
    let mut builder = X509ReqBuilder::new()?;
    builder.set_version(0)?;
    builder.set_subject_name(subject)?;
    builder.set_pubkey(key)?;
    let mut extensions = Stack::new()?;
    if !sans.is_empty() {
        extensions.push(san_extension(sans, &builder.x509v3_context(None))?)?;
    }
    if ca {
        extensions.push(BasicConstraints::new().critical().ca().build()?)?;
    }
    if !extensions.is_empty() {
        builder.add_extensions(&extensions)?;
    }
    builder.sign(key, signature_digest(key)?)?;
    Ok(builder.build())
}

fn san_extension(
    sans: &SubjectAltNames,
    ctx: &openssl::x509::X509v3Context,
) -> Result<X509Extension, ErrorStack> {
    // Go writes DNS names before IP addresses; cfssl-certinfo lists them so.
    let mut san = SubjectAlternativeName::new();
    for dns in &sans.dns {
        san.dns(dns);
    }
    for ip in &sans.ips {
        san.ip(&ip.to_string());
    }
    san.build(ctx)
}

fn random_serial() -> Result<Asn1Integer, ErrorStack> {
    let mut bytes = [0u8; 20];
    openssl::rand::rand_bytes(&mut bytes)?;
    bytes[0] &= 0x7f;
    if bytes[0] == 0 {
        bytes[0] = 1;
    }
    BigNum::from_slice(&bytes)?.to_asn1_integer()
}

fn build_certificate(
    subject: &X509NameRef,
    subject_key: &PKeyRef<Private>,
    sans: &SubjectAltNames,
    issuer: Option<&X509Ref>,
    signing_key: &PKeyRef<Private>,
    profile: &CertProfile,
) -> Result<X509, IssueError> {
    let mut builder = X509Builder::new()?;
    builder.set_version(2)?;
    let serial = random_serial()?;
    builder.set_serial_number(&serial)?;
    builder.set_subject_name(subject)?;
    builder.set_issuer_name(issuer.map_or(subject, |i| i.subject_name()))?;
    builder.set_pubkey(subject_key)?;
    let not_before = Asn1Time::from_unix(profile.validity.not_before)?;
    let not_after = Asn1Time::from_unix(profile.validity.not_after)?;
    builder.set_not_before(&not_before)?;
    builder.set_not_after(&not_after)?;

    if let Some(ext) = key_usage_extension(&profile.usages.key)? {
        builder.append_extension(ext)?;
    }
    if !profile.usages.extended.is_empty() {
        let mut eku = ExtendedKeyUsage::new();
        for purpose in &profile.usages.extended {
            eku.other(purpose.openssl_name());
        }
        builder.append_extension(eku.build()?)?;
    }
    let mut basic = BasicConstraints::new();
    basic.critical();
    if let Some(path_len) = profile.ca_path_len {
        basic.ca();
        if let Some(n) = path_len {
            basic.pathlen(n);
        }
    }
    builder.append_extension(basic.build()?)?;
    let ski = SubjectKeyIdentifier::new().build(&builder.x509v3_context(issuer, None))?;
    builder.append_extension(ski)?;
    if let Some(aki) = authority_key_id(subject, issuer)? {
        builder.append_extension(aki)?;
    }
    if !sans.is_empty() {
        let ext = san_extension(sans, &builder.x509v3_context(issuer, None))?;
        builder.append_extension(ext)?;
    }
    builder.sign(signing_key, signature_digest(signing_key)?)?;
    Ok(builder.build())
}

fn key_usage_extension(usages: &[KeyUsage]) -> Result<Option<X509Extension>, ErrorStack> {
    if usages.is_empty() {
        return Ok(None);
    }
    let mut ext = KeyUsageExt::new();
    ext.critical();
    for usage in usages {
        match usage {
            KeyUsage::DigitalSignature => ext.digital_signature(),
            KeyUsage::ContentCommitment => ext.non_repudiation(),
            KeyUsage::KeyEncipherment => ext.key_encipherment(),
            KeyUsage::DataEncipherment => ext.data_encipherment(),
            KeyUsage::KeyAgreement => ext.key_agreement(),
            KeyUsage::CertSign => ext.key_cert_sign(),
            KeyUsage::CrlSign => ext.crl_sign(),
            KeyUsage::EncipherOnly => ext.encipher_only(),
            KeyUsage::DecipherOnly => ext.decipher_only(),
        };
    }
    ext.build().map(Some)
}

/// The AuthorityKeyIdentifier Go writes: the issuer's SubjectKeyId, only
/// when the issuer has one and the certificate is not self-issued.
fn authority_key_id(
    subject: &X509NameRef,
    issuer: Option<&X509Ref>,
) -> Result<Option<X509Extension>, ErrorStack> {
    let Some(issuer) = issuer else {
        return Ok(None);
    };
    let Some(key_id) = issuer.subject_key_id() else {
        return Ok(None);
    };
    if issuer.subject_name().to_der()? == subject.to_der()? {
        return Ok(None);
    }
    // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING }
    let key_id = key_id.as_slice();
    let mut inner = vec![0x80];
    crate::der::push_len(&mut inner, key_id.len());
    inner.extend_from_slice(key_id);
    let mut der = vec![0x30];
    crate::der::push_len(&mut der, inner.len());
    der.extend_from_slice(&inner);
    let oid = Asn1Object::from_str("2.5.29.35")?;
    let contents = Asn1OctetString::new_from_bytes(&der)?;
    X509Extension::new_from_der(&oid, false, &contents).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SigningConfig;

    fn request(json: &str) -> CertificateRequest {
        CertificateRequest::from_json(json.as_bytes()).unwrap()
    }

    fn text(cert_pem: &[u8]) -> String {
        let cert = X509::from_pem(cert_pem).unwrap();
        String::from_utf8(cert.to_text().unwrap()).unwrap()
    }

    #[test]
    fn ca_then_leaf_verifies() {
        let ca = init_ca(&request(
            r#"{"CN":"zoneyet","key":{"algo":"rsa","size":2048},"names":[{"C":"CN","O":"zhengzhou"}],"ca":{"expiry":"175200h","pathlen":1}}"#,
        ))
        .unwrap();
        let ca_text = text(&ca.cert);
        assert!(ca_text.contains("CA:TRUE, pathlen:1"), "{ca_text}");
        assert!(ca_text.contains("Certificate Sign, CRL Sign"), "{ca_text}");
        assert!(!ca_text.contains("Authority Key Identifier"), "{ca_text}");
        assert!(String::from_utf8_lossy(&ca.key).starts_with("-----BEGIN RSA PRIVATE KEY-----"));

        let authority = CertificateAuthority::from_pem(&ca.cert, &ca.key).unwrap();
        let config = SigningConfig::from_json(
            br#"{"signing":{"profiles":{"peer":{"usages":["signing","key encipherment","server auth","client auth"],"expiry":"8760h"}}}}"#,
        )
        .unwrap();
        let policy = config.policy(Some("peer")).unwrap();
        let leaf = sign_new(
            &request(r#"{"CN":"etcd","hosts":["127.0.0.1","localhost","::1"]}"#),
            &authority,
            &policy,
        )
        .unwrap();
        let leaf_text = text(&leaf.cert);
        assert!(leaf_text.contains("CA:FALSE"), "{leaf_text}");
        assert!(
            leaf_text.contains("Digital Signature, Key Encipherment"),
            "{leaf_text}"
        );
        assert!(
            leaf_text.contains("TLS Web Server Authentication, TLS Web Client Authentication"),
            "{leaf_text}"
        );
        assert!(
            leaf_text.contains("DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1"),
            "{leaf_text}"
        );
        assert!(leaf_text.contains("ecdsa-with-SHA256") || leaf_text.contains("id-ecPublicKey"));
        let leaf_cert = X509::from_pem(&leaf.cert).unwrap();
        assert!(leaf_cert.verify(&authority.key).unwrap());
        assert_eq!(
            leaf_cert.authority_key_id().unwrap().as_slice(),
            authority.cert.subject_key_id().unwrap().as_slice()
        );
        assert!(leaf_cert.serial_number().to_bn().unwrap().num_bits() <= 159);
    }

    #[test]
    fn refuses_mismatched_ca_key() {
        let a = init_ca(&request(r#"{"CN":"a"}"#)).unwrap();
        let b = init_ca(&request(r#"{"CN":"b"}"#)).unwrap();
        assert!(matches!(
            CertificateAuthority::from_pem(&a.cert, &b.key),
            Err(IssueError::CaKeyMismatch)
        ));
        assert!(matches!(
            CertificateAuthority::from_pem(b"junk", &a.key),
            Err(IssueError::BadCaCertificate)
        ));
        assert!(matches!(
            CertificateAuthority::from_pem(&a.cert, b"junk"),
            Err(IssueError::BadCaKey)
        ));
    }
}
