//! The cluster description `certs pki` reads (`cluster.json`).

use std::net::IpAddr;
use std::time::Duration;

use serde::Deserialize;

use crate::duration::{DurationError, parse_go_duration};
use crate::request::Name;

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("malformed cluster description: {0}")]
    Json(#[from] serde_json::Error),
    #[error("{0} must not be empty")]
    Empty(String),
    #[error("{field}: {name:?} is not a valid DNS-1123 name")]
    BadName { field: String, name: String },
    #[error("{0}: duplicate name {1:?}")]
    Duplicate(&'static str, String),
    #[error("apiserver.url {0:?} must be an https:// URL")]
    BadUrl(String),
    #[error("serviceClusterIPRange {0:?} is not a CIDR")]
    BadRange(String),
    #[error("expiry: {0}")]
    Expiry(#[from] DurationError),
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ApiserverSpec {
    pub ip: IpAddr,
    #[serde(default)]
    pub hostname: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
}

/// A named machine: an etcd member or a node.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Member {
    pub name: String,
    pub ip: IpAddr,
}

/// The subject fields shared by every certificate.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SubjectNames {
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

impl From<&SubjectNames> for Name {
    fn from(n: &SubjectNames) -> Self {
        Name {
            country: n.country.clone(),
            province: n.province.clone(),
            locality: n.locality.clone(),
            organization: n.organization.clone(),
            organizational_unit: n.organizational_unit.clone(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClusterDescription {
    pub cluster_name: String,
    pub apiserver: ApiserverSpec,
    #[serde(default)]
    pub etcd: Option<Vec<Member>>,
    #[serde(default)]
    pub nodes: Vec<Member>,
    #[serde(rename = "serviceClusterIPRange")]
    pub service_cluster_ip_range: String,
    #[serde(default)]
    pub names: SubjectNames,
    #[serde(default)]
    pub expiry: Option<String>,
}

/// Leaf validity when the description gives none: one year.
pub const DEFAULT_LEAF_EXPIRY: Duration = Duration::from_secs(8760 * 3600);
/// CA validity when the description gives none: ten years.
pub const DEFAULT_CA_EXPIRY: Duration = Duration::from_secs(87_600 * 3600);

fn is_dns1123_subdomain(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

impl ClusterDescription {
    pub fn from_json(bytes: &[u8]) -> Result<Self, ClusterError> {
        let desc: Self = serde_json::from_slice(bytes)?;
        desc.validate()?;
        Ok(desc)
    }

    fn validate(&self) -> Result<(), ClusterError> {
        if self.cluster_name.trim().is_empty() {
            return Err(ClusterError::Empty("clusterName".into()));
        }
        if let Some(h) = &self.apiserver.hostname
            && !is_dns1123_subdomain(h)
        {
            return Err(ClusterError::BadName {
                field: "apiserver.hostname".into(),
                name: h.clone(),
            });
        }
        self.apiserver_url()?;
        self.first_service_ip()?;
        self.expiries()?;
        for (field, members) in [("etcd", self.etcd_members()), ("nodes", self.nodes.clone())] {
            let mut seen: Vec<&str> = vec![];
            for m in &members {
                if !is_dns1123_subdomain(&m.name) {
                    return Err(ClusterError::BadName {
                        field: format!("{field}[].name"),
                        name: m.name.clone(),
                    });
                }
                if seen.contains(&m.name.as_str()) {
                    return Err(ClusterError::Duplicate(field, m.name.clone()));
                }
                seen.push(&m.name);
            }
        }
        Ok(())
    }

    /// etcd members; by default one member on the apiserver's machine.
    pub fn etcd_members(&self) -> Vec<Member> {
        match &self.etcd {
            Some(list) if !list.is_empty() => list.clone(),
            _ => vec![Member {
                name: "etcd".into(),
                ip: self.apiserver.ip,
            }],
        }
    }

    /// The URL clients use; by default `https://<apiserver ip>:6443`.
    pub fn apiserver_url(&self) -> Result<String, ClusterError> {
        let url = match &self.apiserver.url {
            Some(u) => u.clone(),
            None => match self.apiserver.ip {
                IpAddr::V4(ip) => format!("https://{ip}:6443"),
                IpAddr::V6(ip) => format!("https://[{ip}]:6443"),
            },
        };
        if !url.starts_with("https://") || url.len() <= "https://".len() {
            return Err(ClusterError::BadUrl(url));
        }
        Ok(url)
    }

    /// The `kubernetes` Service's ClusterIP: the first address of the range.
    pub fn first_service_ip(&self) -> Result<IpAddr, ClusterError> {
        first_ip_of(&self.service_cluster_ip_range)
            .ok_or_else(|| ClusterError::BadRange(self.service_cluster_ip_range.clone()))
    }

    /// (CA expiry, leaf expiry). One `expiry` applies to both, as in the seed.
    pub fn expiries(&self) -> Result<(Duration, Duration), ClusterError> {
        match &self.expiry {
            Some(e) => {
                let d = parse_go_duration(e)?;
                Ok((d, d))
            }
            None => Ok((DEFAULT_CA_EXPIRY, DEFAULT_LEAF_EXPIRY)),
        }
    }
}

/// The first usable address of a CIDR (network address + 1).
pub fn first_ip_of(cidr: &str) -> Option<IpAddr> {
    let (addr, prefix) = cidr.split_once('/')?;
    let addr: IpAddr = addr.parse().ok()?;
    let prefix: u32 = prefix.parse().ok()?;
    match addr {
        IpAddr::V4(v4) => {
            if prefix > 30 {
                return None;
            }
            let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
            let net = u32::from(v4) & mask;
            Some(IpAddr::V4((net + 1).into()))
        }
        IpAddr::V6(v6) => {
            if prefix > 126 {
                return None;
            }
            let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
            let net = u128::from(v6) & mask;
            Some(IpAddr::V6((net + 1).into()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = r#"{
      "clusterName": "myk8s",
      "apiserver": { "ip": "10.4.7.21", "hostname": "hdss7-21", "url": "https://10.4.7.21:6443" },
      "etcd": [ { "name": "etcd-7-21", "ip": "10.4.7.21" } ],
      "nodes": [ { "name": "hdss7-21", "ip": "10.4.7.21" }, { "name": "hdss7-22", "ip": "10.4.7.22" } ],
      "serviceClusterIPRange": "192.168.0.0/16",
      "names": { "C": "CN", "ST": "henan", "L": "zhengzhou", "O": "zoneyet", "OU": "ops" },
      "expiry": "175200h"
    }"#;

    #[test]
    fn parses_the_example() {
        let d = ClusterDescription::from_json(SEED.as_bytes()).unwrap();
        assert_eq!(d.first_service_ip().unwrap().to_string(), "192.168.0.1");
        assert_eq!(d.nodes.len(), 2);
        assert_eq!(d.names.province, "henan");
        assert_eq!(d.expiries().unwrap().1, Duration::from_secs(175_200 * 3600));
    }

    #[test]
    fn defaults() {
        let d = ClusterDescription::from_json(
            br#"{"clusterName":"c","apiserver":{"ip":"127.0.0.1"},"serviceClusterIPRange":"10.96.0.0/12"}"#,
        )
        .unwrap();
        assert_eq!(d.apiserver_url().unwrap(), "https://127.0.0.1:6443");
        assert_eq!(d.etcd_members()[0].ip.to_string(), "127.0.0.1");
        assert_eq!(d.first_service_ip().unwrap().to_string(), "10.96.0.1");
        assert_eq!(
            d.expiries().unwrap(),
            (DEFAULT_CA_EXPIRY, DEFAULT_LEAF_EXPIRY)
        );
    }

    #[test]
    fn first_ips() {
        let cases = [
            ("192.168.0.0/16", Some("192.168.0.1")),
            ("192.168.5.7/16", Some("192.168.0.1")),
            ("10.0.0.0/8", Some("10.0.0.1")),
            ("fd00::/108", Some("fd00::1")),
            ("10.0.0.0/31", None),
            ("10.0.0.0", None),
            ("10.0.0.0/33", None),
            ("banana/8", None),
        ];
        for (cidr, want) in cases {
            assert_eq!(
                first_ip_of(cidr).map(|i| i.to_string()).as_deref(),
                want,
                "{cidr}"
            );
        }
    }

    #[test]
    fn refusals() {
        let base = r#""clusterName":"c","apiserver":{"ip":"10.0.0.1"},"serviceClusterIPRange":"10.96.0.0/12""#;
        let cases = [
            (format!("{{{base},\"color\":\"red\"}}"), "unknown field `color`"),
            (format!("{{{base},\"names\":{{\"X\":\"y\"}}}}"), "unknown field `X`"),
            (r#"{"apiserver":{"ip":"10.0.0.1"},"serviceClusterIPRange":"10.96.0.0/12"}"#.to_string(), "missing field `clusterName`"),
            (format!("{{{base},\"expiry\":\"1y\"}}"), "expiry: unknown unit"),
            (format!("{{{base},\"nodes\":[{{\"name\":\"Bad_Node\",\"ip\":\"10.0.0.2\"}}]}}"), "not a valid DNS-1123 name"),
            (format!("{{{base},\"nodes\":[{{\"name\":\"n\",\"ip\":\"10.0.0.2\"}},{{\"name\":\"n\",\"ip\":\"10.0.0.3\"}}]}}"), "duplicate name"),
            (format!("{{{base},\"nodes\":[{{\"name\":\"n\",\"ip\":\"10.0.0.300\"}}]}}"), "invalid IP address"),
            (r#"{"clusterName":"c","apiserver":{"ip":"10.0.0.1","url":"http://x"},"serviceClusterIPRange":"10.96.0.0/12"}"#.to_string(), "must be an https:// URL"),
            (r#"{"clusterName":"c","apiserver":{"ip":"10.0.0.1"},"serviceClusterIPRange":"10.96.0.0"}"#.to_string(), "is not a CIDR"),
        ];
        for (json, want) in cases {
            let err = ClusterDescription::from_json(json.as_bytes())
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{json}: {err}");
        }
    }
}
