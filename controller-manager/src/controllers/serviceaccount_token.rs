//! The serviceaccount-token controller: Secrets of type
//! `kubernetes.io/service-account-token` that name a ServiceAccount get a
//! signed legacy token (`token`), the root CA (`ca.crt`) and `namespace`;
//! such Secrets whose ServiceAccount is gone are deleted. No other Secret
//! is touched, and no token Secret is created unasked (as upstream since
//! 1.24).

use crate::Context;
use crate::controllers::run_controller;
use crate::error::{Error, Result};
use anyhow::Context as _;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use kube::api::{Api, DeleteParams, PostParams};
use kube::runtime::Controller;
use kube::runtime::controller::{Action, Config};
use kube::runtime::reflector::ObjectRef;
use kube::{Resource, ResourceExt};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::sign::Signer;
use serde_json::json;
use std::sync::Arc;

pub const TOKEN_TYPE: &str = "kubernetes.io/service-account-token";
pub const NAME_ANNOTATION: &str = "kubernetes.io/service-account.name";
pub const UID_ANNOTATION: &str = "kubernetes.io/service-account.uid";
pub const ISSUER: &str = "kubernetes/serviceaccount";

struct State {
    client: kube::Client,
    key: Arc<SigningKey>,
    ca_pem: Option<Vec<u8>>,
}

/// The RSA (or EC) key from `--service-account-private-key-file`.
pub struct SigningKey {
    key: PKey<Private>,
    key_id: String,
}

impl SigningKey {
    pub fn from_pem(pem: &[u8]) -> anyhow::Result<SigningKey> {
        let key =
            PKey::private_key_from_pem(pem).context("parsing the service account private key")?;
        // The key id is the SHA-256 of the public key's DER, as upstream
        // derives it, so verifiers can pick the key.
        let der = key.public_key_to_der()?;
        let digest = openssl::hash::hash(MessageDigest::sha256(), &der)?;
        Ok(SigningKey {
            key,
            key_id: URL_SAFE_NO_PAD.encode(digest),
        })
    }

    /// A signed JWT with `claims`; RS256 for RSA keys, ES256 for P-256.
    pub fn sign(&self, claims: &serde_json::Value) -> anyhow::Result<String> {
        let alg = if self.key.rsa().is_ok() {
            "RS256"
        } else {
            "ES256"
        };
        let header = json!({"alg": alg, "kid": self.key_id});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header)?),
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims)?)
        );
        let mut signer = Signer::new(MessageDigest::sha256(), &self.key)?;
        signer.update(input.as_bytes())?;
        let mut sig = signer.sign_to_vec()?;
        if alg == "ES256" {
            sig = ecdsa_der_to_jose(&sig)?;
        }
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig)))
    }
}

/// JWS wants ECDSA signatures as raw r||s, not DER.
fn ecdsa_der_to_jose(der: &[u8]) -> anyhow::Result<Vec<u8>> {
    let sig = openssl::ecdsa::EcdsaSig::from_der(der)?;
    let mut out = sig.r().to_vec_padded(32)?;
    out.extend(sig.s().to_vec_padded(32)?);
    Ok(out)
}

/// The claims of a legacy service account token.
pub fn legacy_claims(namespace: &str, secret: &str, sa: &str, sa_uid: &str) -> serde_json::Value {
    json!({
        "iss": ISSUER,
        "kubernetes.io/serviceaccount/namespace": namespace,
        "kubernetes.io/serviceaccount/secret.name": secret,
        "kubernetes.io/serviceaccount/service-account.name": sa,
        "kubernetes.io/serviceaccount/service-account.uid": sa_uid,
        "sub": format!("system:serviceaccount:{namespace}:{sa}"),
    })
}

pub async fn run(ctx: Context) -> anyhow::Result<()> {
    let Some(path) = ctx.options.service_account_private_key_file.clone() else {
        tracing::warn!(
            "serviceaccount-token controller idle: no --service-account-private-key-file"
        );
        // The process treats a controller that returns as failed.
        return std::future::pending().await;
    };
    let pem = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let key = Arc::new(SigningKey::from_pem(&pem)?);
    let ca_pem = match &ctx.options.root_ca_file {
        Some(p) => Some(std::fs::read(p).with_context(|| format!("reading {}", p.display()))?),
        None => None,
    };
    let client = ctx.client.clone();
    let secrets = ctx.informers.get::<Secret>();
    let accounts = ctx.informers.get::<ServiceAccount>();
    let secret_events = secrets.subscribe().objects();
    let account_events = accounts.subscribe().objects();
    let lookup = secrets.store().clone();
    let controller = Controller::for_shared_stream(secret_events, secrets.reader().await)
        .with_config(
            Config::default().concurrency(ctx.options.concurrent_serviceaccount_token_syncs),
        )
        // A deleted (or recreated) ServiceAccount wakes the token Secrets naming it.
        .watches_shared_stream(account_events, move |sa: Arc<ServiceAccount>| {
            let name = sa.name_any();
            lookup
                .namespaced(&sa.namespace().unwrap_or_default())
                .iter()
                .filter(|s| s.annotations().get(NAME_ANNOTATION) == Some(&name))
                .map(|s| ObjectRef::from_obj(s.as_ref()))
                .collect::<Vec<_>>()
        });
    let state = Arc::new(State {
        client,
        key,
        ca_pem,
    });
    run_controller(
        "serviceaccount-token",
        ctx.metrics.clone(),
        controller,
        reconcile,
        state,
    )
    .await
}

async fn reconcile(secret: Arc<Secret>, st: Arc<State>) -> Result<Action> {
    if secret.type_.as_deref() != Some(TOKEN_TYPE) || secret.meta().deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let Some(sa_name) = secret.annotations().get(NAME_ANNOTATION).cloned() else {
        return Ok(Action::await_change());
    };
    let ns = secret
        .namespace()
        .ok_or(Error::Missing("metadata.namespace"))?;
    let secrets: Api<Secret> = Api::namespaced(st.client.clone(), &ns);
    let sas: Api<ServiceAccount> = Api::namespaced(st.client.clone(), &ns);
    let Some(sa) = sas.get_opt(&sa_name).await? else {
        // A token for an account that does not exist must not live on.
        delete(&secrets, &secret.name_any()).await?;
        return Ok(Action::await_change());
    };
    let sa_uid = sa.uid().unwrap_or_default();
    if let Some(uid) = secret
        .annotations()
        .get(UID_ANNOTATION)
        .filter(|u| !u.is_empty())
        && *uid != sa_uid
    {
        delete(&secrets, &secret.name_any()).await?;
        return Ok(Action::await_change());
    }
    let data = secret.data.clone().unwrap_or_default();
    let wants_ca = st
        .ca_pem
        .as_ref()
        .is_some_and(|ca| data.get("ca.crt").map(|b| &b.0) != Some(ca));
    if data.contains_key("token") && data.contains_key("namespace") && !wants_ca {
        return Ok(Action::await_change());
    }
    let claims = legacy_claims(&ns, &secret.name_any(), &sa_name, &sa_uid);
    let token = st
        .key
        .sign(&claims)
        .map_err(|e| Error::invalid("service account token", e.to_string()))?;
    let mut updated = (*secret).clone();
    let d = updated.data.get_or_insert_with(Default::default);
    d.entry("token".into())
        .or_insert_with(|| ByteString(token.into_bytes()));
    d.insert("namespace".into(), ByteString(ns.clone().into_bytes()));
    if let Some(ca) = &st.ca_pem {
        d.insert("ca.crt".into(), ByteString(ca.clone()));
    }
    updated
        .metadata
        .annotations
        .get_or_insert_with(Default::default)
        .insert(UID_ANNOTATION.into(), sa_uid);
    secrets
        .replace(&secret.name_any(), &PostParams::default(), &updated)
        .await?;
    Ok(Action::await_change())
}

async fn delete(api: &Api<Secret>, name: &str) -> Result<()> {
    match api.delete(name, &DeleteParams::default()).await {
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        r => r.map(|_| ()).map_err(Error::from),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::rsa::Rsa;
    use openssl::sign::Verifier;

    #[test]
    fn tokens_verify_with_the_public_key_and_carry_the_claims() {
        let rsa = Rsa::generate(2048).expect("rsa");
        let pem = rsa.private_key_to_pem().expect("pem");
        let key = SigningKey::from_pem(&pem).expect("key");
        let token = key
            .sign(&legacy_claims("ns1", "tok", "builder", "u-1"))
            .expect("sign");
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).expect("b64")).expect("json");
        assert_eq!(header["alg"], "RS256");
        assert_eq!(header["kid"].as_str().map(str::len), Some(43));
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("b64")).expect("json");
        assert_eq!(claims["sub"], "system:serviceaccount:ns1:builder");
        assert_eq!(claims["iss"], ISSUER);
        let public = PKey::from_rsa(
            Rsa::public_key_from_pem(&rsa.public_key_to_pem().expect("pub")).expect("rsa"),
        )
        .expect("pkey");
        let mut v = Verifier::new(MessageDigest::sha256(), &public).expect("verifier");
        v.update(format!("{}.{}", parts[0], parts[1]).as_bytes())
            .expect("update");
        assert!(
            v.verify(&URL_SAFE_NO_PAD.decode(parts[2]).expect("sig"))
                .expect("verify")
        );
        // A token for another account fails verification against this signature.
        let mut v = Verifier::new(MessageDigest::sha256(), &public).expect("verifier");
        v.update(format!("{}.x{}", parts[0], parts[1]).as_bytes())
            .expect("update");
        assert!(
            !v.verify(&URL_SAFE_NO_PAD.decode(parts[2]).expect("sig"))
                .expect("verify")
        );
    }

    #[test]
    fn garbage_keys_are_refused() {
        assert!(SigningKey::from_pem(b"not a key").is_err());
    }
}
