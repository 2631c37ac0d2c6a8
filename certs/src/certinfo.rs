//! `certinfo`: the JSON description cfssl-certinfo prints for a
//! certificate (and the subset that applies to a CSR).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use openssl::error::ErrorStack;
use openssl::nid::Nid;
use openssl::stack::StackRef;
use openssl::x509::{GeneralName, X509, X509NameRef, X509Req};
use serde::Serialize;

use crate::clock::{asn1_to_unix, rfc3339};

#[derive(Debug, thiserror::Error)]
pub enum CertInfoError {
    #[error("failed to decode certificate (not a PEM certificate)")]
    BadCertificate,
    #[error("failed to decode certificate request (not a PEM CSR)")]
    BadCsr,
    #[error("openssl: {0}")]
    Openssl(#[from] ErrorStack),
}

/// A distinguished name as cfssl-certinfo shows it.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct NameInfo {
    pub common_name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub serial_number: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub country: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub organization: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub organizational_unit: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub locality: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub province: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub street_address: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub postal_code: String,
    /// Every attribute value in the order the name holds them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
}

/// A certificate as cfssl-certinfo shows it.
#[derive(Debug, Serialize)]
pub struct CertificateInfo {
    pub subject: NameInfo,
    pub issuer: NameInfo,
    pub serial_number: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sans: Vec<String>,
    pub not_before: String,
    pub not_after: String,
    pub sigalg: String,
    pub authority_key_id: String,
    pub subject_key_id: String,
    pub pem: String,
}

/// A CSR: the fields of a certificate that a request carries.
#[derive(Debug, Serialize)]
pub struct CsrInfo {
    pub subject: NameInfo,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sans: Vec<String>,
    pub sigalg: String,
    pub pem: String,
}

fn name_info(name: &X509NameRef) -> NameInfo {
    let collect = |nid: Nid| -> String {
        name.entries_by_nid(nid)
            .filter_map(|e| e.data().to_string().ok())
            .collect::<Vec<_>>()
            .join(",")
    };
    let first = |nid: Nid| -> String {
        name.entries_by_nid(nid)
            .next()
            .and_then(|e| e.data().to_string().ok())
            .unwrap_or_default()
    };
    NameInfo {
        common_name: first(Nid::COMMONNAME),
        serial_number: first(Nid::SERIALNUMBER),
        country: collect(Nid::COUNTRYNAME),
        organization: collect(Nid::ORGANIZATIONNAME),
        organizational_unit: collect(Nid::ORGANIZATIONALUNITNAME),
        locality: collect(Nid::LOCALITYNAME),
        province: collect(Nid::STATEORPROVINCENAME),
        street_address: collect(Nid::STREETADDRESS),
        postal_code: collect(Nid::POSTALCODE),
        names: name
            .entries()
            .filter_map(|e| e.data().to_string().ok())
            .collect(),
    }
}

/// Key identifiers as cfssl 1.x prints them: each byte in uppercase hex
/// *without* zero padding (`6A:49:2:E3`), joined by colons.
pub fn key_id_string(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Go's names for signature algorithms (`x509.SignatureAlgorithm.String`).
fn sigalg_name(nid: Nid) -> String {
    let known = match nid {
        Nid::SHA256WITHRSAENCRYPTION => "SHA256WithRSA",
        Nid::SHA384WITHRSAENCRYPTION => "SHA384WithRSA",
        Nid::SHA512WITHRSAENCRYPTION => "SHA512WithRSA",
        Nid::SHA1WITHRSAENCRYPTION => "SHA1WithRSA",
        Nid::MD5WITHRSAENCRYPTION => "MD5WithRSA",
        Nid::ECDSA_WITH_SHA256 => "ECDSAWithSHA256",
        Nid::ECDSA_WITH_SHA384 => "ECDSAWithSHA384",
        Nid::ECDSA_WITH_SHA512 => "ECDSAWithSHA512",
        Nid::ECDSA_WITH_SHA1 => "ECDSAWithSHA1",
        Nid::RSASSAPSS => "SHA256WithRSAPSS",
        _ => "",
    };
    if known.is_empty() {
        nid.long_name().unwrap_or("unknown").to_string()
    } else {
        known.to_string()
    }
}

/// Go prints IPv4-mapped addresses in dotted form.
fn ip_string(bytes: &[u8]) -> Option<String> {
    match bytes.len() {
        4 => Some(Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]).to_string()),
        16 => {
            let mut octets = [0u8; 16];
            octets.copy_from_slice(bytes);
            let v6 = Ipv6Addr::from(octets);
            Some(match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4).to_string(),
                None => v6.to_string(),
            })
        }
        _ => None,
    }
}

/// DNS names first, then e-mail addresses, then IPs, as cfssl lists them.
fn sans(names: Option<&StackRef<GeneralName>>) -> Vec<String> {
    let Some(names) = names else {
        return vec![];
    };
    let mut dns = vec![];
    let mut email = vec![];
    let mut ips = vec![];
    for name in names {
        if let Some(d) = name.dnsname() {
            dns.push(d.to_string());
        } else if let Some(e) = name.email() {
            email.push(e.to_string());
        } else if let Some(ip) = name.ipaddress().and_then(ip_string) {
            ips.push(ip);
        }
    }
    dns.into_iter().chain(email).chain(ips).collect()
}

/// Describes the first certificate in `pem`.
pub fn certificate_info(pem: &[u8]) -> Result<CertificateInfo, CertInfoError> {
    let cert = X509::from_pem(pem).map_err(|_| CertInfoError::BadCertificate)?;
    let pem = String::from_utf8_lossy(&cert.to_pem()?).into_owned();
    Ok(CertificateInfo {
        subject: name_info(cert.subject_name()),
        issuer: name_info(cert.issuer_name()),
        serial_number: cert.serial_number().to_bn()?.to_dec_str()?.to_string(),
        sans: sans(cert.subject_alt_names().as_deref()),
        not_before: rfc3339(asn1_to_unix(cert.not_before())?),
        not_after: rfc3339(asn1_to_unix(cert.not_after())?),
        sigalg: sigalg_name(cert.signature_algorithm().object().nid()),
        authority_key_id: cert
            .authority_key_id()
            .map(|id| key_id_string(id.as_slice()))
            .unwrap_or_default(),
        subject_key_id: cert
            .subject_key_id()
            .map(|id| key_id_string(id.as_slice()))
            .unwrap_or_default(),
        pem,
    })
}

/// Describes a PEM certificate request.
pub fn csr_info(pem: &[u8]) -> Result<CsrInfo, CertInfoError> {
    let req = X509Req::from_pem(pem).map_err(|_| CertInfoError::BadCsr)?;
    let mut san_names = vec![];
    if let Ok(extensions) = req.extensions() {
        // The openssl crate exposes a request's SANs only through a
        // certificate, so copy the extensions onto a scratch one.
        let mut scratch = openssl::x509::X509Builder::new()?;
        for ext in &extensions {
            scratch.append_extension2(ext)?;
        }
        san_names = sans(scratch.build().subject_alt_names().as_deref());
    }
    let sigalg = csr_sigalg(&req)?;
    Ok(CsrInfo {
        subject: name_info(req.subject_name()),
        sans: san_names,
        sigalg,
        pem: String::from_utf8_lossy(&req.to_pem()?).into_owned(),
    })
}

/// The signature algorithm of a CSR, read from its DER: the openssl crate
/// has no accessor for it.
fn csr_sigalg(req: &X509Req) -> Result<String, ErrorStack> {
    let der = req.to_der()?;
    let Some(dotted) = crate::der::signature_algorithm_oid(&der) else {
        return Ok(String::new());
    };
    Ok(match openssl::asn1::Asn1Object::from_str(&dotted) {
        Ok(oid) if oid.nid() != Nid::UNDEF => sigalg_name(oid.nid()),
        _ => dotted,
    })
}

/// Pretty JSON as cfssl prints it (two-space indent).
pub fn to_json<T: Serialize>(info: &T) -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ids_drop_leading_zeros_like_cfssl() {
        assert_eq!(
            key_id_string(&[0x6a, 0x49, 0x02, 0xe3, 0x00]),
            "6A:49:2:E3:0"
        );
        assert_eq!(key_id_string(&[]), "");
    }

    #[test]
    fn ip_forms() {
        assert_eq!(ip_string(&[10, 4, 7, 21]).as_deref(), Some("10.4.7.21"));
        let mut v6 = [0u8; 16];
        v6[15] = 1;
        assert_eq!(ip_string(&v6).as_deref(), Some("::1"));
        let mapped = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4];
        assert_eq!(ip_string(&mapped).as_deref(), Some("1.2.3.4"));
        assert_eq!(ip_string(&[1, 2]), None);
    }

    #[test]
    fn sigalg_names() {
        assert_eq!(sigalg_name(Nid::SHA256WITHRSAENCRYPTION), "SHA256WithRSA");
        assert_eq!(sigalg_name(Nid::ECDSA_WITH_SHA384), "ECDSAWithSHA384");
    }

    #[test]
    fn refuses_garbage() {
        assert!(matches!(
            certificate_info(b"nope"),
            Err(CertInfoError::BadCertificate)
        ));
        assert!(matches!(csr_info(b"nope"), Err(CertInfoError::BadCsr)));
    }
}
