//! ServiceAccount tokens: RS256 JWTs signed with
//! `--service-account-signing-key-file`, issued through the
//! `serviceaccounts/<name>/token` subresource (TokenRequest, `kubectl create
//! token`) and verified, as bearer tokens, against
//! `--service-account-key-file` and `--service-account-issuer`.

use crate::authn::UserInfo;
use base64::Engine;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private, Public};
use openssl::sign::{Signer, Verifier};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// Upstream's default token lifetime and the lower bound it enforces.
pub const DEFAULT_EXPIRATION: i64 = 3600;
pub const MIN_EXPIRATION: i64 = 600;

fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

fn unb64(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .ok()
}

/// Signs and verifies ServiceAccount tokens.
pub struct TokenAuthority {
    issuer: String,
    signer: Option<PKey<Private>>,
    verifiers: Vec<PKey<Public>>,
}

fn read(p: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(p).map_err(|e| anyhow::anyhow!("reading {}: {e}", p.display()))
}

/// Public keys from a PEM file holding public keys, certificates or a
/// private key (upstream accepts all three).
fn public_keys(p: &Path) -> anyhow::Result<Vec<PKey<Public>>> {
    let pem = read(p)?;
    if let Ok(k) = PKey::public_key_from_pem(&pem) {
        return Ok(vec![k]);
    }
    if let Ok(k) = PKey::private_key_from_pem(&pem) {
        let der = k.public_key_to_der()?;
        return Ok(vec![PKey::public_key_from_der(&der)?]);
    }
    let certs = openssl::x509::X509::stack_from_pem(&pem)?;
    let keys: Vec<PKey<Public>> = certs.iter().filter_map(|c| c.public_key().ok()).collect();
    if keys.is_empty() {
        anyhow::bail!("{}: no public key found", p.display());
    }
    Ok(keys)
}

impl TokenAuthority {
    pub fn new(
        issuer: Option<&str>,
        signing_key: Option<&PathBuf>,
        key_files: &[PathBuf],
    ) -> anyhow::Result<Self> {
        let signer = match signing_key {
            Some(p) => Some(PKey::private_key_from_pem(&read(p)?)?),
            None => None,
        };
        let mut verifiers = Vec::new();
        for f in key_files {
            verifiers.extend(public_keys(f)?);
        }
        if let Some(s) = &signer
            && verifiers.is_empty()
        {
            verifiers.push(PKey::public_key_from_der(&s.public_key_to_der()?)?);
        }
        Ok(TokenAuthority {
            issuer: issuer
                .unwrap_or("https://kubernetes.default.svc.cluster.local")
                .to_string(),
            signer,
            verifiers,
        })
    }

    pub fn can_issue(&self) -> bool {
        self.signer.is_some()
    }

    /// A signed token for `system:serviceaccount:<ns>:<name>`.
    pub fn issue(
        &self,
        namespace: &str,
        name: &str,
        uid: &str,
        audiences: &[String],
        expiration: i64,
        now: i64,
    ) -> Option<(String, i64)> {
        let key = self.signer.as_ref()?;
        let exp = now + expiration;
        let aud: Vec<String> = if audiences.is_empty() {
            vec![self.issuer.clone()]
        } else {
            audiences.to_vec()
        };
        let header = json!({"alg": "RS256", "typ": "JWT"});
        let claims = json!({
            "iss": self.issuer,
            "sub": format!("system:serviceaccount:{namespace}:{name}"),
            "aud": aud,
            "exp": exp,
            "iat": now,
            "nbf": now,
            "kubernetes.io": {"namespace": namespace, "serviceaccount": {"name": name, "uid": uid}},
        });
        let signing_input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let mut signer = Signer::new(MessageDigest::sha256(), key).ok()?;
        signer.update(signing_input.as_bytes()).ok()?;
        let sig = signer.sign_to_vec().ok()?;
        Some((format!("{signing_input}.{}", b64(&sig)), exp))
    }

    /// The identity of a valid, unexpired token from this issuer.
    pub fn verify(&self, token: &str, now: i64) -> Option<UserInfo> {
        let mut parts = token.split('.');
        let (h, c, s) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let header: Value = serde_json::from_slice(&unb64(h)?).ok()?;
        if header.get("alg").and_then(Value::as_str) != Some("RS256") {
            return None;
        }
        let sig = unb64(s)?;
        let signed = format!("{h}.{c}");
        let ok = self.verifiers.iter().any(|k| {
            Verifier::new(MessageDigest::sha256(), k)
                .and_then(|mut v| {
                    v.update(signed.as_bytes())?;
                    v.verify(&sig)
                })
                .unwrap_or(false)
        });
        if !ok {
            return None;
        }
        let claims: Value = serde_json::from_slice(&unb64(c)?).ok()?;
        if claims.get("iss").and_then(Value::as_str) != Some(self.issuer.as_str()) {
            return None;
        }
        let exp = claims.get("exp").and_then(Value::as_i64)?;
        if exp <= now
            || claims
                .get("nbf")
                .and_then(Value::as_i64)
                .is_some_and(|n| n > now + 60)
        {
            return None;
        }
        let sub = claims.get("sub").and_then(Value::as_str)?;
        let rest = sub.strip_prefix("system:serviceaccount:")?;
        let (ns, _name) = rest.split_once(':')?;
        let uid = claims
            .pointer("/kubernetes.io/serviceaccount/uid")
            .and_then(Value::as_str)
            .unwrap_or("");
        Some(UserInfo::authenticated(
            sub,
            uid,
            vec![
                "system:serviceaccounts".into(),
                format!("system:serviceaccounts:{ns}"),
            ],
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::rsa::Rsa;

    fn authority() -> TokenAuthority {
        let rsa = Rsa::generate(2048).expect("rsa");
        let key = PKey::from_rsa(rsa).expect("pkey");
        let public =
            PKey::public_key_from_der(&key.public_key_to_der().expect("der")).expect("public");
        TokenAuthority {
            issuer: "https://kubernetes.default.svc".into(),
            signer: Some(key),
            verifiers: vec![public],
        }
    }

    #[test]
    fn issued_tokens_verify_until_they_expire() {
        let a = authority();
        let (token, exp) = a
            .issue("default", "builder", "u-1", &[], 3600, 1_000)
            .expect("signing key");
        assert_eq!(exp, 4_600);
        let user = a.verify(&token, 2_000).expect("valid");
        assert_eq!(user.name, "system:serviceaccount:default:builder");
        assert_eq!(user.uid, "u-1");
        assert!(
            user.groups
                .contains(&"system:serviceaccounts:default".to_string())
        );
        assert!(a.verify(&token, 5_000).is_none(), "expired");
        let mut forged = token.clone();
        forged.push('x');
        assert!(a.verify(&forged, 2_000).is_none());
        assert!(authority().verify(&token, 2_000).is_none(), "other key");
        assert!(a.verify("not.a.jwt", 2_000).is_none());
    }
}
