//! ServiceAccount issuer discovery: `/.well-known/openid-configuration`
//! and `/openid/v1/jwks`, so that relying parties outside the cluster can
//! verify ServiceAccount tokens as OIDC ID tokens (upstream's
//! `pkg/serviceaccount/openidmetadata.go`). Both documents are built once at
//! start from `--service-account-issuer`, `--service-account-jwks-uri` and
//! the public keys of `--service-account-key-file`; RBAC lets the
//! `system:service-account-issuer-discovery` ClusterRole read them.

use base64::Engine;
use openssl::bn::BigNumContext;
use openssl::ec::EcKey;
use openssl::nid::Nid;
use openssl::pkey::{Id, PKey, Public};
use serde_json::{Value, json};

/// Where the key set is served.
pub const JWKS_PATH: &str = "/openid/v1/jwks";
/// Where the discovery document is served.
pub const CONFIGURATION_PATH: &str = "/.well-known/openid-configuration";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Upstream's key id: the unpadded base64url SHA-256 of the key's PKIX
/// (SubjectPublicKeyInfo) DER encoding. Tokens carry it as `kid`.
pub fn key_id(key: &PKey<Public>) -> Option<String> {
    let der = key.public_key_to_der().ok()?;
    Some(b64(&openssl::sha::sha256(&der)))
}

/// The JWS algorithm upstream signs with for a key.
fn algorithm(key: &PKey<Public>) -> Option<&'static str> {
    match key.id() {
        Id::RSA => Some("RS256"),
        Id::EC => match key.ec_key().ok()?.group().curve_name()? {
            Nid::X9_62_PRIME256V1 => Some("ES256"),
            Nid::SECP384R1 => Some("ES384"),
            Nid::SECP521R1 => Some("ES512"),
            _ => None,
        },
        _ => None,
    }
}

/// One key as a JWK, with go-jose's field order.
fn jwk(key: &PKey<Public>) -> Option<Value> {
    let kid = key_id(key)?;
    let alg = algorithm(key)?;
    match key.id() {
        Id::RSA => {
            let rsa = key.rsa().ok()?;
            Some(json!({"use": "sig", "kty": "RSA", "kid": kid, "alg": alg,
                "n": b64(&rsa.n().to_vec()), "e": b64(&rsa.e().to_vec())}))
        }
        Id::EC => {
            let ec: EcKey<Public> = key.ec_key().ok()?;
            let group = ec.group();
            let (crv, size) = match alg {
                "ES256" => ("P-256", 32),
                "ES384" => ("P-384", 48),
                _ => ("P-521", 66),
            };
            let mut ctx = BigNumContext::new().ok()?;
            let mut x = openssl::bn::BigNum::new().ok()?;
            let mut y = openssl::bn::BigNum::new().ok()?;
            ec.public_key()
                .affine_coordinates(group, &mut x, &mut y, &mut ctx)
                .ok()?;
            Some(
                json!({"use": "sig", "kty": "EC", "kid": kid, "crv": crv, "alg": alg,
                "x": b64(&x.to_vec_padded(size).ok()?), "y": b64(&y.to_vec_padded(size).ok()?)}),
            )
        }
        _ => None,
    }
}

/// The two documents, encoded once.
pub struct IssuerDiscovery {
    pub configuration: Vec<u8>,
    pub jwks: Vec<u8>,
}

impl IssuerDiscovery {
    /// `None` when the issuer is not an `https` URL (upstream serves
    /// discovery only then) or there is no public key.
    pub fn new(
        issuer: &str,
        jwks_uri: Option<&str>,
        external_address: &str,
        keys: &[PKey<Public>],
    ) -> Option<IssuerDiscovery> {
        if !issuer.starts_with("https://") || keys.is_empty() {
            return None;
        }
        let jwks: Vec<Value> = keys.iter().filter_map(jwk).collect();
        let mut algs: Vec<&str> = keys.iter().filter_map(algorithm).collect();
        algs.sort_unstable();
        algs.dedup();
        let jwks_uri = match jwks_uri {
            Some(u) if !u.is_empty() => u.to_string(),
            _ => format!("https://{external_address}{JWKS_PATH}"),
        };
        // Field order of upstream's openIDMetadata struct, written as text
        // because our maps sort their keys.
        let configuration = format!(
            "{{\"issuer\":{},\"jwks_uri\":{},\"response_types_supported\":[\"id_token\"],\"subject_types_supported\":[\"public\"],\"id_token_signing_alg_values_supported\":{}}}",
            Value::from(issuer),
            Value::from(jwks_uri),
            json!(algs)
        );
        let mut jwks_bytes = b"{\"keys\":[".to_vec();
        for (i, k) in jwks.iter().enumerate() {
            if i > 0 {
                jwks_bytes.push(b',');
            }
            jwks_bytes.extend_from_slice(&ordered_jwk(k).into_bytes());
        }
        jwks_bytes.extend_from_slice(b"]}");
        Some(IssuerDiscovery {
            configuration: configuration.into_bytes(),
            jwks: jwks_bytes,
        })
    }
}

/// A JWK's members in go-jose's order (use, kty, kid, crv, alg, x, y, n, e).
fn ordered_jwk(k: &Value) -> String {
    let members: Vec<String> = ["use", "kty", "kid", "crv", "alg", "x", "y", "n", "e"]
        .iter()
        .filter_map(|m| k.get(*m).map(|v| format!("\"{m}\":{v}")))
        .collect();
    format!("{{{}}}", members.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_follow_upstream() {
        let rsa = openssl::rsa::Rsa::generate(2048).unwrap();
        let key = PKey::public_key_from_der(&rsa.public_key_to_der().unwrap()).unwrap();
        let d = IssuerDiscovery::new(
            "https://kubernetes.default.svc.cluster.local",
            None,
            "10.0.0.1:6443",
            std::slice::from_ref(&key),
        )
        .unwrap();
        let conf = String::from_utf8(d.configuration).unwrap();
        assert_eq!(
            conf,
            "{\"issuer\":\"https://kubernetes.default.svc.cluster.local\",\"jwks_uri\":\"https://10.0.0.1:6443/openid/v1/jwks\",\"response_types_supported\":[\"id_token\"],\"subject_types_supported\":[\"public\"],\"id_token_signing_alg_values_supported\":[\"RS256\"]}"
        );
        let jwks: Value = serde_json::from_slice(&d.jwks).unwrap();
        let k = &jwks["keys"][0];
        assert_eq!(k["kty"], "RSA");
        assert_eq!(k["e"], "AQAB");
        assert_eq!(k["kid"].as_str(), key_id(&key).as_deref());
        assert!(
            String::from_utf8(d.jwks)
                .unwrap()
                .starts_with("{\"keys\":[{\"use\":\"sig\",\"kty\":\"RSA\",\"kid\":")
        );
        assert!(IssuerDiscovery::new("http://x", None, "a", &[key]).is_none());
    }
}
