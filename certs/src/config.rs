//! cfssl's signing configuration (`ca-config.json`): a default policy and
//! named profiles, each with usages and a Go-duration expiry.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::duration::{DurationError, parse_go_duration};
use crate::usage::{UnknownUsage, Usages};

/// Why a signing configuration or profile was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("malformed signing config JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("signing config has no \"signing\" section")]
    MissingSigning,
    #[error("profile {profile:?}: {source}")]
    Usage {
        profile: String,
        source: UnknownUsage,
    },
    #[error("profile {profile:?}: expiry: {source}")]
    Expiry {
        profile: String,
        source: DurationError,
    },
    #[error("profile {profile:?}: no key usage available")]
    NoUsages { profile: String },
    #[error("unknown profile {0:?} in signing config")]
    UnknownProfile(String),
}

/// One signing policy as written in the JSON.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct SigningProfile {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub usages: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub expiry: String,
}

/// The `signing` section.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct Signing {
    #[serde(default)]
    pub default: Option<SigningProfile>,
    #[serde(default)]
    pub profiles: BTreeMap<String, SigningProfile>,
}

/// The whole file. Unknown fields (auth keys, remotes...) are ignored, as
/// cfssl's Go decoder does.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct SigningConfig {
    pub signing: Option<Signing>,
}

/// A policy ready to sign with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub usages: Usages,
    pub expiry: Duration,
}

/// cfssl's validity for leaves when neither profile nor default says: one week.
pub const DEFAULT_EXPIRY: Duration = Duration::from_secs(168 * 3600);

/// cfssl's usages when no configuration file is given.
pub const DEFAULT_USAGES: &[&str] = &["signing", "key encipherment", "server auth", "client auth"];

impl SigningConfig {
    /// Parses a configuration and checks every profile in it, so that a
    /// typo in an unused profile is reported as cfssl reports it: at load.
    pub fn from_json(bytes: &[u8]) -> Result<Self, ConfigError> {
        let config: Self = serde_json::from_slice(bytes)?;
        let signing = config.signing.as_ref().ok_or(ConfigError::MissingSigning)?;
        for name in signing.profiles.keys() {
            config.policy(Some(name))?;
        }
        if signing.default.is_some() {
            config.policy(None)?;
        }
        Ok(config)
    }

    /// The policy for `profile`, or the default policy for `None`. Missing
    /// expiry or usages fall back to the default policy, then to cfssl's
    /// built-in defaults.
    pub fn policy(&self, profile: Option<&str>) -> Result<Policy, ConfigError> {
        let signing = self.signing.clone().unwrap_or_default();
        let default = signing.default.clone().unwrap_or_default();
        let (name, chosen) = match profile {
            None | Some("") => ("default".to_string(), default.clone()),
            Some(p) => match signing.profiles.get(p) {
                Some(found) => (p.to_string(), found.clone()),
                None => return Err(ConfigError::UnknownProfile(p.to_string())),
            },
        };
        let expiry_text = [&chosen.expiry, &default.expiry]
            .into_iter()
            .find(|e| !e.is_empty());
        let expiry = match expiry_text {
            Some(e) => parse_go_duration(e).map_err(|source| ConfigError::Expiry {
                profile: name.clone(),
                source,
            })?,
            None => DEFAULT_EXPIRY,
        };
        let names: Vec<String> = if !chosen.usages.is_empty() {
            chosen.usages.clone()
        } else if !default.usages.is_empty() {
            default.usages.clone()
        } else {
            DEFAULT_USAGES.iter().map(|s| s.to_string()).collect()
        };
        let usages = Usages::parse(&names).map_err(|source| ConfigError::Usage {
            profile: name.clone(),
            source,
        })?;
        if usages.key.is_empty() && usages.extended.is_empty() {
            return Err(ConfigError::NoUsages { profile: name });
        }
        Ok(Policy { usages, expiry })
    }
}

impl Default for Policy {
    /// cfssl's policy when `gencert` runs without `-config`.
    fn default() -> Self {
        let usages = Usages::parse(DEFAULT_USAGES).unwrap_or_default();
        Policy {
            usages,
            expiry: DEFAULT_EXPIRY,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usage::{ExtKeyUsage, KeyUsage};

    const SEED: &str = r#"{
      "signing": {
        "default": { "expiry": "175200h" },
        "profiles": {
          "server": { "usages": ["signing", "key encipherment", "server auth"], "expiry": "175200h" },
          "client": { "usages": ["signing", "key encipherment", "client auth"] },
          "peer": { "usages": ["signing", "key encipherment", "server auth", "client auth"], "expiry": "1h30m" }
        }
      }
    }"#;

    #[test]
    fn resolves_profiles() {
        let config = SigningConfig::from_json(SEED.as_bytes()).unwrap();
        let peer = config.policy(Some("peer")).unwrap();
        assert_eq!(peer.expiry, Duration::from_secs(5400));
        assert_eq!(
            peer.usages.extended,
            vec![ExtKeyUsage::ServerAuth, ExtKeyUsage::ClientAuth]
        );
        // A profile without expiry inherits the default's.
        let client = config.policy(Some("client")).unwrap();
        assert_eq!(client.expiry, Duration::from_secs(175_200 * 3600));
        assert_eq!(
            client.usages.key,
            vec![KeyUsage::DigitalSignature, KeyUsage::KeyEncipherment]
        );
        // The default policy has no usages, so cfssl's defaults apply.
        let default = config.policy(None).unwrap();
        assert_eq!(default.usages, Policy::default().usages);
    }

    #[test]
    fn refuses_bad_configs() {
        let cases = [
            ("{", "malformed signing config JSON"),
            ("{}", "no \"signing\" section"),
            (
                r#"{"signing":{"profiles":{"p":{"usages":["server auth","flying"]}}}}"#,
                "profile \"p\": unknown usage \"flying\"",
            ),
            (
                r#"{"signing":{"profiles":{"p":{"usages":["server auth"],"expiry":"1y"}}}}"#,
                "profile \"p\": expiry: unknown unit",
            ),
            (
                r#"{"signing":{"default":{"expiry":"-5h"}}}"#,
                "profile \"default\": expiry: negative",
            ),
        ];
        for (json, want) in cases {
            let err = SigningConfig::from_json(json.as_bytes()).unwrap_err();
            assert!(err.to_string().contains(want), "{json}: {err}");
        }
    }

    #[test]
    fn unknown_profile() {
        let config = SigningConfig::from_json(SEED.as_bytes()).unwrap();
        let err = config.policy(Some("nope")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown profile \"nope\" in signing config"
        );
    }
}
