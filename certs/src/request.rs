//! cfssl's certificate request JSON (`ca-csr.json`, `etcd-peer-csr.json`):
//! `CN`, `hosts`, `key`, `names`, `ca`.

use std::net::IpAddr;
use std::time::Duration;

use serde::Deserialize;

use crate::duration::{DurationError, parse_go_duration};
use crate::keys::{KeyError, KeySpec};

/// Why a certificate request was refused.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("malformed certificate request JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("missing CN in certificate request")]
    MissingCommonName,
    #[error("{0}")]
    Key(#[from] KeyError),
    #[error("ca.expiry: {0}")]
    CaExpiry(DurationError),
    #[error("ca.pathlen must not be negative (got {0})")]
    NegativePathLen(i64),
}

/// One entry of `names`: the subject's location and organisation.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct Name {
    #[serde(rename = "C", default)]
    pub country: String,
    #[serde(rename = "ST", default)]
    pub province: String,
    #[serde(rename = "L", default)]
    pub locality: String,
    #[serde(rename = "O", default)]
    pub organization: String,
    #[serde(rename = "OU", default)]
    pub organizational_unit: String,
}

/// The `key` section: which key to generate.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct KeyRequest {
    #[serde(default)]
    pub algo: String,
    #[serde(default)]
    pub size: u32,
}

/// The `ca` section, used only by `gencert -initca`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
pub struct CaSection {
    #[serde(default)]
    pub expiry: String,
    #[serde(default)]
    pub pathlen: i64,
    /// cfssl's way to ask for an explicit `pathlen:0`.
    #[serde(default)]
    pub pathlenzero: bool,
}

/// A certificate request as cfssl reads it. Unknown fields are ignored,
/// as Go's `encoding/json` does, so files written for cfssl still load.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CertificateRequest {
    #[serde(rename = "CN", default)]
    pub common_name: String,
    #[serde(default)]
    pub hosts: Option<Vec<String>>,
    #[serde(default)]
    pub key: Option<KeyRequest>,
    #[serde(default)]
    pub names: Option<Vec<Name>>,
    #[serde(default)]
    pub ca: Option<CaSection>,
}

/// Subject alternative names split the way cfssl splits `hosts`: entries
/// that parse as IP addresses become IP SANs, the rest DNS SANs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubjectAltNames {
    pub dns: Vec<String>,
    pub ips: Vec<IpAddr>,
}

impl SubjectAltNames {
    pub fn from_hosts<S: AsRef<str>>(hosts: &[S]) -> Self {
        let mut sans = Self::default();
        for host in hosts {
            let host = host.as_ref().trim();
            if host.is_empty() {
                continue;
            }
            match host.parse::<IpAddr>() {
                Ok(ip) => sans.ips.push(ip),
                Err(_) => sans.dns.push(host.to_string()),
            }
        }
        sans
    }

    pub fn is_empty(&self) -> bool {
        self.dns.is_empty() && self.ips.is_empty()
    }
}

/// The CA constraints of `ca`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaConstraints {
    pub expiry: Duration,
    /// `None` means no path length limit.
    pub path_len: Option<u32>,
}

/// cfssl's CA validity when `ca.expiry` is absent: five years.
pub const DEFAULT_CA_EXPIRY: Duration = Duration::from_secs(43_800 * 3600);

impl CertificateRequest {
    /// Parses and checks a request file's contents.
    pub fn from_json(bytes: &[u8]) -> Result<Self, RequestError> {
        let req: Self = serde_json::from_slice(bytes)?;
        if req.common_name.trim().is_empty() {
            return Err(RequestError::MissingCommonName);
        }
        req.key_spec()?;
        Ok(req)
    }

    /// The key to generate; cfssl's default is ECDSA P-256.
    pub fn key_spec(&self) -> Result<KeySpec, KeyError> {
        match &self.key {
            None => Ok(KeySpec::default()),
            Some(k) => KeySpec::from_request(&k.algo, k.size),
        }
    }

    pub fn names(&self) -> &[Name] {
        self.names.as_deref().unwrap_or(&[])
    }

    pub fn subject_alt_names(&self) -> SubjectAltNames {
        SubjectAltNames::from_hosts(self.hosts.as_deref().unwrap_or(&[]))
    }

    pub fn ca_constraints(&self) -> Result<CaConstraints, RequestError> {
        let section = self.ca.clone().unwrap_or_default();
        let expiry = if section.expiry.is_empty() {
            DEFAULT_CA_EXPIRY
        } else {
            parse_go_duration(&section.expiry).map_err(RequestError::CaExpiry)?
        };
        let path_len = match section.pathlen {
            n if n < 0 => return Err(RequestError::NegativePathLen(n)),
            0 if section.pathlenzero => Some(0),
            0 => None,
            n => Some(u32::try_from(n).map_err(|_| RequestError::NegativePathLen(n))?),
        };
        Ok(CaConstraints { expiry, path_len })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_hosts_into_ip_and_dns() {
        let sans = SubjectAltNames::from_hosts(&[
            "127.0.0.1",
            "localhost",
            "::1",
            "10.4.7.21",
            "",
            "kubernetes.default.svc",
            "1.2.3",
        ]);
        assert_eq!(
            sans.dns,
            vec!["localhost", "kubernetes.default.svc", "1.2.3"]
        );
        let ips: Vec<String> = sans.ips.iter().map(|i| i.to_string()).collect();
        assert_eq!(ips, vec!["127.0.0.1", "::1", "10.4.7.21"]);
    }

    #[test]
    fn parses_the_seed_request() {
        let req = CertificateRequest::from_json(
            br#"{ "CN": "etcd.zoneyet", "hosts": [], "key": { "algo": "rsa", "size": 2048 },
                 "names": [ { "C": "CN", "ST": "henan", "O": "zhengzhou", "OU": "zoneyet" } ],
                 "ca": { "expiry": "175200h" } }"#,
        )
        .unwrap();
        assert_eq!(req.common_name, "etcd.zoneyet");
        assert_eq!(req.key_spec().unwrap(), KeySpec::Rsa(2048));
        assert_eq!(req.names()[0].province, "henan");
        assert_eq!(req.names()[0].locality, "");
        let ca = req.ca_constraints().unwrap();
        assert_eq!(ca.expiry, Duration::from_secs(175_200 * 3600));
        assert_eq!(ca.path_len, None);
    }

    #[test]
    fn defaults() {
        let req = CertificateRequest::from_json(br#"{"CN":"x","hosts":null}"#).unwrap();
        assert_eq!(req.key_spec().unwrap(), KeySpec::default());
        assert!(req.subject_alt_names().is_empty());
        assert_eq!(req.ca_constraints().unwrap().expiry, DEFAULT_CA_EXPIRY);
    }

    #[test]
    fn path_len() {
        let cases = [
            (r#"{"pathlen":2}"#, Some(2)),
            (r#"{"pathlen":0}"#, None),
            (r#"{"pathlen":0,"pathlenzero":true}"#, Some(0)),
        ];
        for (ca, want) in cases {
            let json = format!(r#"{{"CN":"x","ca":{ca}}}"#);
            let req = CertificateRequest::from_json(json.as_bytes()).unwrap();
            assert_eq!(req.ca_constraints().unwrap().path_len, want, "{ca}");
        }
    }

    #[test]
    fn refuses_bad_requests() {
        let cases: [(&str, &str); 6] = [
            ("{", "malformed certificate request JSON"),
            (r#"{"hosts":[]}"#, "missing CN"),
            (r#"{"CN":"  "}"#, "missing CN"),
            (
                r#"{"CN":"x","key":{"algo":"dsa","size":2048}}"#,
                "unsupported key algorithm",
            ),
            (
                r#"{"CN":"x","key":{"algo":"rsa","size":1024}}"#,
                "RSA key size",
            ),
            (
                r#"{"CN":"x","hosts":"a"}"#,
                "malformed certificate request JSON",
            ),
        ];
        for (json, want) in cases {
            let err = CertificateRequest::from_json(json.as_bytes()).unwrap_err();
            assert!(err.to_string().contains(want), "{json}: {err}");
        }
        let req = CertificateRequest::from_json(br#"{"CN":"x","ca":{"expiry":"5y"}}"#).unwrap();
        assert!(
            req.ca_constraints()
                .unwrap_err()
                .to_string()
                .contains("unknown unit")
        );
        let req = CertificateRequest::from_json(br#"{"CN":"x","ca":{"pathlen":-1}}"#).unwrap();
        assert!(req.ca_constraints().is_err());
    }
}
