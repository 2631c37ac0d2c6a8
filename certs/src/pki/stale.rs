//! Whether a kept certificate still says what the description asks for.
//! Re-runs keep certificates (daemons hold their keys), so a mismatch is
//! reported rather than silently fixed; `--rotate` reissues.

use std::collections::BTreeSet;

use openssl::nid::Nid;
use openssl::x509::X509Ref;

use super::plan::LeafSpec;
use crate::request::SubjectAltNames;

fn entries(cert: &X509Ref, nid: Nid) -> Vec<String> {
    cert.subject_name()
        .entries_by_nid(nid)
        .filter_map(|e| e.data().to_string().ok())
        .collect()
}

fn cert_sans(cert: &X509Ref) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for name in cert.subject_alt_names().iter().flatten() {
        if let Some(dns) = name.dnsname() {
            out.insert(dns.to_string());
        } else if let Some(ip) = name.ipaddress() {
            let ip = match ip.len() {
                4 => <[u8; 4]>::try_from(ip)
                    .ok()
                    .map(|b| std::net::IpAddr::from(b).to_string()),
                16 => <[u8; 16]>::try_from(ip)
                    .ok()
                    .map(|b| std::net::IpAddr::from(b).to_string()),
                _ => None,
            };
            out.extend(ip);
        }
    }
    out
}

/// Describes how `cert` differs from `spec` (with `organization` the O the
/// plan gives it), or `None` when it matches.
pub fn stale_reason(cert: &X509Ref, spec: &LeafSpec, organization: &str) -> Option<String> {
    let mut reasons = vec![];
    if entries(cert, Nid::COMMONNAME) != vec![spec.common_name.clone()] {
        reasons.push(format!("CN should be {:?}", spec.common_name));
    }
    let want_org: Vec<String> = if organization.is_empty() {
        vec![]
    } else {
        vec![organization.to_string()]
    };
    if entries(cert, Nid::ORGANIZATIONNAME) != want_org {
        reasons.push(format!("O should be {organization:?}"));
    }
    let planned = SubjectAltNames::from_hosts(&spec.hosts);
    let want: BTreeSet<String> = planned
        .dns
        .iter()
        .cloned()
        .chain(planned.ips.iter().map(|ip| ip.to_string()))
        .collect();
    let have = cert_sans(cert);
    if have != want {
        let missing: Vec<&String> = want.difference(&have).collect();
        let extra: Vec<&String> = have.difference(&want).collect();
        reasons.push(format!(
            "SANs differ (missing {missing:?}, extra {extra:?})"
        ));
    }
    if reasons.is_empty() {
        None
    } else {
        Some(reasons.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Policy;
    use crate::issue::{CertificateAuthority, init_ca, sign_new};
    use crate::pki::plan::Profile;
    use crate::request::CertificateRequest;
    use openssl::x509::X509;

    fn issue(json: &str) -> X509 {
        let ca = init_ca(&CertificateRequest::from_json(br#"{"CN":"ca"}"#).unwrap()).unwrap();
        let authority = CertificateAuthority::from_pem(&ca.cert, &ca.key).unwrap();
        let req = CertificateRequest::from_json(json.as_bytes()).unwrap();
        X509::from_pem(&sign_new(&req, &authority, &Policy::default()).unwrap().cert).unwrap()
    }

    fn spec(hosts: &[&str]) -> LeafSpec {
        LeafSpec {
            base: "etcd-server".into(),
            common_name: "etcd-server".into(),
            organization: None,
            hosts: hosts.iter().map(|s| s.to_string()).collect(),
            profile: Profile::Server,
        }
    }

    #[test]
    fn matching_cert_is_fresh() {
        let cert = issue(
            r#"{"CN":"etcd-server","hosts":["127.0.0.1","localhost"],"names":[{"O":"zoneyet"}]}"#,
        );
        assert_eq!(
            stale_reason(&cert, &spec(&["localhost", "127.0.0.1"]), "zoneyet"),
            None
        );
    }

    #[test]
    fn reports_each_difference() {
        let cert = issue(r#"{"CN":"etcd-server","hosts":["127.0.0.1","localhost"]}"#);
        let reason =
            stale_reason(&cert, &spec(&["127.0.0.1", "localhost", "10.4.7.22"]), "").unwrap();
        assert_eq!(reason, "SANs differ (missing [\"10.4.7.22\"], extra [])");
        let reason = stale_reason(&cert, &spec(&["127.0.0.1", "localhost"]), "zoneyet").unwrap();
        assert_eq!(reason, "O should be \"zoneyet\"");
        let mut other = spec(&["127.0.0.1", "localhost"]);
        other.common_name = "etcd".into();
        assert!(
            stale_reason(&cert, &other, "")
                .unwrap()
                .starts_with("CN should be \"etcd\"")
        );
    }
}
