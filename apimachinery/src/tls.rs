//! OpenSSL configuration for clients (from a kubeconfig) and servers
//! (serving certificate, optional client-CA verification, ALPN).

use crate::kubeconfig::Connection;
use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::error::ErrorStack;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::ssl::{
    AlpnError, SslAcceptor, SslAcceptorBuilder, SslConnector, SslFiletype, SslMethod,
    SslVerifyMode, select_next_proto,
};
use openssl::x509::extension::{BasicConstraints, ExtendedKeyUsage, SubjectAlternativeName};
use openssl::x509::{X509, X509NameBuilder};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{what}: {source}")]
    OpenSsl { what: String, source: ErrorStack },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn ssl(what: impl Into<String>) -> impl FnOnce(ErrorStack) -> TlsError {
    let what = what.into();
    move |source| TlsError::OpenSsl { what, source }
}

/// ALPN protocols in wire format, HTTP/2 preferred.
const ALPN_H2_HTTP1: &[u8] = b"\x02h2\x08http/1.1";
const ALPN_HTTP1: &[u8] = b"\x08http/1.1";

/// A client connector that trusts the kubeconfig's CA (and only it, when
/// given), presents the client certificate, and offers HTTP/2 when `h2`.
pub fn client_connector(conn: &Connection, h2: bool) -> Result<SslConnector, TlsError> {
    let mut b = SslConnector::builder(SslMethod::tls_client()).map_err(ssl("tls client"))?;
    if let Some(ca) = &conn.ca_pem {
        let store = b.cert_store_mut();
        for cert in X509::stack_from_pem(ca).map_err(ssl("certificate-authority"))? {
            store.add_cert(cert).map_err(ssl("certificate-authority"))?;
        }
    } else {
        b.set_default_verify_paths()
            .map_err(ssl("system trust store"))?;
    }
    if let (Some(cert), Some(key)) = (&conn.client_cert_pem, &conn.client_key_pem) {
        let mut chain = X509::stack_from_pem(cert)
            .map_err(ssl("client-certificate"))?
            .into_iter();
        if let Some(leaf) = chain.next() {
            b.set_certificate(&leaf)
                .map_err(ssl("client-certificate"))?;
        }
        for extra in chain {
            b.add_extra_chain_cert(extra)
                .map_err(ssl("client-certificate chain"))?;
        }
        let key = PKey::private_key_from_pem(key).map_err(ssl("client-key"))?;
        b.set_private_key(&key).map_err(ssl("client-key"))?;
        b.check_private_key()
            .map_err(ssl("client-key does not match client-certificate"))?;
    }
    b.set_alpn_protos(if h2 { ALPN_H2_HTTP1 } else { ALPN_HTTP1 })
        .map_err(ssl("alpn"))?;
    Ok(b.build())
}

/// Where a server's certificate comes from.
pub enum ServingCert {
    /// `--tls-cert-file` / `--tls-private-key-file`.
    Files { cert: PathBuf, key: PathBuf },
    /// Generated at start-up, as upstream daemons do when given no
    /// certificate: self-signed for the listed names and addresses.
    SelfSigned { hosts: Vec<String> },
}

/// A server acceptor: TLS 1.2+, ALPN h2 then http/1.1, and, when a client CA
/// is given, client certificates requested and verified against it
/// (requests without one stay possible and are anonymous).
pub fn server_acceptor(
    cert: &ServingCert,
    client_ca: Option<&Path>,
) -> Result<SslAcceptor, TlsError> {
    let mut b =
        SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).map_err(ssl("tls server"))?;
    match cert {
        ServingCert::Files { cert, key } => {
            b.set_certificate_chain_file(cert)
                .map_err(ssl(format!("--tls-cert-file {}", cert.display())))?;
            b.set_private_key_file(key, SslFiletype::PEM)
                .map_err(ssl(format!("--tls-private-key-file {}", key.display())))?;
        }
        ServingCert::SelfSigned { hosts } => {
            let (x509, key) = self_signed(hosts).map_err(ssl("self-signed serving certificate"))?;
            b.set_certificate(&x509)
                .map_err(ssl("serving certificate"))?;
            b.set_private_key(&key).map_err(ssl("serving key"))?;
        }
    }
    b.check_private_key()
        .map_err(ssl("serving key does not match certificate"))?;
    if let Some(ca) = client_ca {
        trust_client_ca(&mut b, ca)?;
    }
    b.set_alpn_select_callback(|_, client| {
        select_next_proto(ALPN_H2_HTTP1, client).ok_or(AlpnError::NOACK)
    });
    Ok(b.build())
}

fn trust_client_ca(b: &mut SslAcceptorBuilder, ca: &Path) -> Result<(), TlsError> {
    let pem = std::fs::read(ca).map_err(|source| TlsError::Read {
        path: ca.to_path_buf(),
        source,
    })?;
    let what = format!("--client-ca-file {}", ca.display());
    for cert in X509::stack_from_pem(&pem).map_err(ssl(what.clone()))? {
        b.add_client_ca(&cert).map_err(ssl(what.clone()))?;
        b.cert_store_mut()
            .add_cert(cert)
            .map_err(ssl(what.clone()))?;
    }
    b.set_verify(SslVerifyMode::PEER);
    // Clients resume TLS sessions on new connections (kube-rs does); with
    // client certificates verified, OpenSSL answers such a resumption with
    // an internal-error alert unless sessions carry a context id.
    b.set_session_id_context(b"kubernetes")
        .map_err(ssl("session id context"))?;
    Ok(())
}

/// A self-signed serving certificate (RSA 2048, one year) for `hosts`:
/// entries that parse as IP addresses become IP SANs, the rest DNS SANs.
pub fn self_signed(hosts: &[String]) -> Result<(X509, PKey<Private>), ErrorStack> {
    let key = PKey::from_rsa(Rsa::generate(2048)?)?;
    let mut name = X509NameBuilder::new()?;
    let cn = hosts.first().map(String::as_str).unwrap_or("localhost");
    name.append_entry_by_text("CN", &format!("{cn}@self-signed"))?;
    let name = name.build();
    let mut b = X509::builder()?;
    b.set_version(2)?;
    let mut serial = BigNum::new()?;
    serial.rand(127, MsbOption::MAYBE_ZERO, false)?;
    let serial = serial.to_asn1_integer()?;
    b.set_serial_number(&serial)?;
    b.set_subject_name(&name)?;
    b.set_issuer_name(&name)?;
    b.set_pubkey(&key)?;
    let (not_before, not_after) = (Asn1Time::days_from_now(0)?, Asn1Time::days_from_now(365)?);
    b.set_not_before(&not_before)?;
    b.set_not_after(&not_after)?;
    b.append_extension(BasicConstraints::new().critical().build()?)?;
    b.append_extension(ExtendedKeyUsage::new().server_auth().build()?)?;
    let mut san = SubjectAlternativeName::new();
    for h in hosts {
        if h.parse::<std::net::IpAddr>().is_ok() {
            san.ip(h);
        } else {
            san.dns(h);
        }
    }
    if !hosts.is_empty() {
        let ext = san.build(&b.x509v3_context(None, None))?;
        b.append_extension(ext)?;
    }
    b.sign(&key, MessageDigest::sha256())?;
    Ok((b.build(), key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_has_ip_and_dns_sans() {
        let (cert, key) = self_signed(&["127.0.0.1".into(), "localhost".into()]).unwrap();
        assert!(cert.verify(&key).unwrap());
        let sans = cert.subject_alt_names().unwrap();
        assert_eq!(sans.len(), 2);
        assert_eq!(
            sans.get(0).unwrap().ipaddress(),
            Some(&[127u8, 0, 0, 1][..])
        );
        assert_eq!(sans.get(1).unwrap().dnsname(), Some("localhost"));
    }

    #[test]
    fn client_connector_rejects_mismatched_key() {
        let (cert, _) = self_signed(&["a".into()]).unwrap();
        let (_, other_key) = self_signed(&["b".into()]).unwrap();
        let conn = Connection {
            server: "https://127.0.0.1:1".into(),
            tls_server_name: None,
            ca_pem: Some(cert.to_pem().unwrap()),
            client_cert_pem: Some(cert.to_pem().unwrap()),
            client_key_pem: Some(other_key.private_key_to_pem_pkcs8().unwrap()),
            token: None,
            namespace: "default".into(),
        };
        let err = client_connector(&conn, false).unwrap_err();
        assert!(
            err.to_string().starts_with("client-key") && err.to_string().contains("mismatch"),
            "{err}"
        );
    }
}
