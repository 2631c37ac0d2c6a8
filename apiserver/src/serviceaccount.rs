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

/// The `iss` of legacy (Secret-based) ServiceAccount tokens.
pub const LEGACY_ISSUER: &str = "kubernetes/serviceaccount";

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

/// The object a token is bound to (TokenRequest `spec.boundObjectRef`):
/// the token dies with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundObject {
    /// `Pod` or `Secret`.
    pub kind: String,
    pub name: String,
    pub uid: String,
}

/// What a verified token claims: the ServiceAccount (and its uid) and,
/// for bound tokens, the pod or secret it is bound to; legacy
/// (Secret-based) tokens name their Secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub namespace: String,
    pub name: String,
    /// Empty when the token does not carry one.
    pub uid: String,
    pub bound: Option<BoundObject>,
    /// `kubernetes.io/serviceaccount/secret.name` of a legacy token.
    pub legacy_secret: Option<String>,
}

impl Claims {
    /// The identity these claims authenticate.
    pub fn user(&self) -> UserInfo {
        UserInfo::authenticated(
            &format!("system:serviceaccount:{}:{}", self.namespace, self.name),
            &self.uid,
            vec![
                "system:serviceaccounts".into(),
                format!("system:serviceaccounts:{}", self.namespace),
            ],
        )
    }
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

    /// The `iss` of tokens this authority issues.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The keys tokens are verified with (what issuer discovery publishes).
    pub fn public_keys(&self) -> &[PKey<Public>] {
        &self.verifiers
    }

    /// A signed token for `system:serviceaccount:<ns>:<name>`, bound to
    /// `bound` when given.
    #[allow(clippy::too_many_arguments)]
    pub fn issue(
        &self,
        namespace: &str,
        name: &str,
        uid: &str,
        bound: Option<&BoundObject>,
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
        // Upstream's header: the algorithm and the signing key's id, the
        // same `kid` `/openid/v1/jwks` publishes.
        let kid = PKey::public_key_from_der(&key.public_key_to_der().ok()?)
            .ok()
            .and_then(|k| crate::issuer_discovery::key_id(&k))?;
        let header = json!({"alg": "RS256", "kid": kid});
        let mut claims = json!({
            "iss": self.issuer,
            "sub": format!("system:serviceaccount:{namespace}:{name}"),
            "aud": aud,
            "exp": exp,
            "iat": now,
            "nbf": now,
            "kubernetes.io": {"namespace": namespace, "serviceaccount": {"name": name, "uid": uid}},
        });
        if let Some(b) = bound {
            let field = if b.kind == "Pod" { "pod" } else { "secret" };
            claims["kubernetes.io"][field] = json!({"name": b.name, "uid": b.uid});
        }
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

    /// The identity of a valid, unexpired token from this issuer (signature
    /// and claims only; [`live_claims`] also checks the objects exist).
    pub fn verify(&self, token: &str, now: i64) -> Option<UserInfo> {
        self.verify_claims(token, now).map(|c| c.user())
    }

    /// The claims of a valid, unexpired token from this issuer.
    pub fn verify_claims(&self, token: &str, now: i64) -> Option<Claims> {
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
        // Legacy Secret-based tokens (kube-controller-manager's
        // serviceaccount-token controller) carry upstream's fixed issuer and
        // no expiry; bound ones carry ours and must expire.
        let legacy_secret = claims
            .get("kubernetes.io/serviceaccount/secret.name")
            .and_then(Value::as_str)
            .map(String::from);
        let iss = claims.get("iss").and_then(Value::as_str);
        if iss != Some(self.issuer.as_str())
            && !(iss == Some(LEGACY_ISSUER) && legacy_secret.is_some())
        {
            return None;
        }
        match claims.get("exp").and_then(Value::as_i64) {
            Some(exp) if exp <= now => return None,
            None if legacy_secret.is_none() => return None,
            _ => {}
        }
        if claims
            .get("nbf")
            .and_then(Value::as_i64)
            .is_some_and(|n| n > now + 60)
        {
            return None;
        }
        let sub = claims.get("sub").and_then(Value::as_str)?;
        let rest = sub.strip_prefix("system:serviceaccount:")?;
        let (ns, name) = rest.split_once(':')?;
        let text = |p: &str| {
            claims
                .pointer(p)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let uid = match text("/kubernetes.io/serviceaccount/uid") {
            u if u.is_empty() => text("/kubernetes.io~1serviceaccount~1service-account.uid"),
            u => u,
        };
        let bound = ["Pod", "Secret"].into_iter().find_map(|kind| {
            let base = format!("/kubernetes.io/{}", kind.to_ascii_lowercase());
            claims.pointer(&base)?;
            Some(BoundObject {
                kind: kind.into(),
                name: text(&format!("{base}/name")),
                uid: text(&format!("{base}/uid")),
            })
        });
        Some(Claims {
            namespace: ns.to_string(),
            name: name.to_string(),
            uid,
            bound,
            legacy_secret,
        })
    }
}

/// Why a verified token is no longer accepted (upstream's messages; the
/// client only sees 401).
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum LivenessError {
    #[error("service account {0}/{1} has been deleted")]
    ServiceAccountDeleted(String, String),
    #[error("service account UID ({0}) does not match claim ({1})")]
    ServiceAccountUid(String, String),
    #[error("{0} {1}/{2} has been deleted")]
    BoundObjectDeleted(String, String, String),
    #[error("{0} UID ({1}) does not match claim ({2})")]
    BoundObjectUid(String, String, String),
    #[error("lookup failed: {0}")]
    Lookup(String),
}

/// Looks objects up for [`check_liveness`]: `Ok(None)` when absent.
pub trait ObjectLookup {
    fn get(
        &self,
        resource: &str,
        namespace: &str,
        name: &str,
    ) -> impl std::future::Future<Output = Result<Option<Value>, String>> + Send;
}

impl ObjectLookup for crate::registry::Store {
    async fn get(
        &self,
        resource: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Value>, String> {
        let def = crate::resources::lookup("", "v1", resource).ok_or("unknown resource")?;
        match crate::registry::Store::get(self, def, namespace, name).await {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.code == 404 => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }
}

fn uid_of(v: &Value) -> &str {
    v.pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// Upstream's validation of a verified token against stored state: the
/// ServiceAccount must exist (with the claimed uid), a legacy token's Secret
/// must exist, and a bound token's pod or secret must exist with its uid.
pub async fn check_liveness(lookup: &impl ObjectLookup, c: &Claims) -> Result<(), LivenessError> {
    let ns = &c.namespace;
    let get = |resource: &'static str, name: String| async move {
        lookup
            .get(resource, ns, &name)
            .await
            .map_err(LivenessError::Lookup)
    };
    let sa = get("serviceaccounts", c.name.clone())
        .await?
        .ok_or_else(|| LivenessError::ServiceAccountDeleted(ns.clone(), c.name.clone()))?;
    if !c.uid.is_empty() && uid_of(&sa) != c.uid {
        return Err(LivenessError::ServiceAccountUid(
            uid_of(&sa).to_string(),
            c.uid.clone(),
        ));
    }
    if let Some(secret) = &c.legacy_secret {
        let obj = get("secrets", secret.clone()).await?.ok_or_else(|| {
            LivenessError::BoundObjectDeleted("secret".into(), ns.clone(), secret.clone())
        })?;
        // The Secret must still belong to this ServiceAccount.
        let owner = obj
            .pointer("/metadata/annotations/kubernetes.io~1service-account.uid")
            .and_then(Value::as_str)
            .unwrap_or("");
        if !owner.is_empty() && !c.uid.is_empty() && owner != c.uid {
            return Err(LivenessError::ServiceAccountUid(
                owner.to_string(),
                c.uid.clone(),
            ));
        }
    }
    if let Some(b) = &c.bound {
        let (resource, word) = if b.kind == "Pod" {
            ("pods", "pod")
        } else {
            ("secrets", "secret")
        };
        let obj = get(resource, b.name.clone()).await?.ok_or_else(|| {
            LivenessError::BoundObjectDeleted(word.into(), ns.clone(), b.name.clone())
        })?;
        if !b.uid.is_empty() && uid_of(&obj) != b.uid {
            return Err(LivenessError::BoundObjectUid(
                word.into(),
                uid_of(&obj).to_string(),
                b.uid.clone(),
            ));
        }
    }
    Ok(())
}

/// Resolves a TokenRequest's `spec.boundObjectRef` (a Pod or Secret in the
/// ServiceAccount's namespace) to the object it names, checking the uid if
/// one was given, and writes the uid back into the request, as upstream.
pub async fn resolve_bound_object(
    store: &crate::registry::Store,
    namespace: &str,
    service_account: &str,
    req: &mut Value,
) -> Result<Option<BoundObject>, crate::status::ApiError> {
    use crate::status::{ApiError, Target};
    let Some(r) = req.pointer("/spec/boundObjectRef").filter(|r| !r.is_null()) else {
        return Ok(None);
    };
    let text = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let (kind, api_version, name, want_uid) =
        (text("kind"), text("apiVersion"), text("name"), text("uid"));
    let resource = match (api_version.as_str(), kind.as_str()) {
        ("v1", "Pod") => "pods",
        ("v1", "Secret") => "secrets",
        _ => {
            return Err(ApiError::bad_request(format!(
                "cannot bind token for serviceaccount {service_account:?} to object of type {api_version}, Kind={kind}"
            )));
        }
    };
    let def = crate::resources::lookup("", "v1", resource)
        .ok_or_else(|| ApiError::internal("resource table lacks pods/secrets"))?;
    let obj = store.get(def, namespace, &name).await?;
    let uid = uid_of(&obj).to_string();
    if !want_uid.is_empty() && want_uid != uid {
        return Err(ApiError::conflict(
            Target {
                group: "",
                resource: &kind,
                name: &name,
            },
            &format!(
                "the UID in the bound object reference ({want_uid}) does not match the UID in record. The object might have been deleted and then recreated"
            ),
        ));
    }
    if kind == "Pod" {
        let runs_as = obj
            .pointer("/spec/serviceAccountName")
            .and_then(Value::as_str)
            .unwrap_or("");
        if !runs_as.is_empty() && runs_as != service_account {
            return Err(ApiError::bad_request(format!(
                "cannot bind token for serviceaccount {service_account:?} to pod running with different serviceaccount name."
            )));
        }
    }
    req["spec"]["boundObjectRef"]["uid"] = json!(uid);
    Ok(Some(BoundObject { kind, name, uid }))
}

impl TokenAuthority {
    /// Verifies a token and checks that what it names still exists: the
    /// identity, or `None` (401).
    pub async fn authenticate(
        &self,
        lookup: &impl ObjectLookup,
        token: &str,
        now: i64,
    ) -> Option<UserInfo> {
        let claims = self.verify_claims(token, now)?;
        match check_liveness(lookup, &claims).await {
            Ok(()) => Some(claims.user()),
            Err(e) => {
                tracing::debug!("service account token refused: {e}");
                None
            }
        }
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
            .issue("default", "builder", "u-1", None, &[], 3600, 1_000)
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

    /// Stored objects by `resource/name` (one namespace).
    struct Objects(std::collections::HashMap<String, Value>);

    impl ObjectLookup for Objects {
        async fn get(
            &self,
            resource: &str,
            _ns: &str,
            name: &str,
        ) -> Result<Option<Value>, String> {
            Ok(self.0.get(&format!("{resource}/{name}")).cloned())
        }
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(f)
    }

    #[test]
    fn tokens_die_with_their_service_account_and_bound_pod() {
        let a = authority();
        let pod = BoundObject {
            kind: "Pod".into(),
            name: "web".into(),
            uid: "p-1".into(),
        };
        let (plain, _) = a
            .issue("default", "builder", "u-1", None, &[], 3600, 1_000)
            .expect("token");
        let (bound, _) = a
            .issue("default", "builder", "u-1", Some(&pod), &[], 3600, 1_000)
            .expect("token");
        let claims = a.verify_claims(&bound, 2_000).expect("valid");
        assert_eq!(claims.bound, Some(pod));
        let obj = |uid: &str| serde_json::json!({"metadata": {"uid": uid}});
        let stored = |entries: &[(&str, &str)]| {
            Objects(
                entries
                    .iter()
                    .map(|(k, uid)| (k.to_string(), obj(uid)))
                    .collect(),
            )
        };
        let live = stored(&[("serviceaccounts/builder", "u-1"), ("pods/web", "p-1")]);
        assert!(block_on(a.authenticate(&live, &plain, 2_000)).is_some());
        assert!(block_on(a.authenticate(&live, &bound, 2_000)).is_some());
        let cases: Vec<(Objects, &str, LivenessError)> = vec![
            (
                stored(&[("pods/web", "p-1")]),
                &plain,
                LivenessError::ServiceAccountDeleted("default".into(), "builder".into()),
            ),
            (
                stored(&[("serviceaccounts/builder", "u-2")]),
                &plain,
                LivenessError::ServiceAccountUid("u-2".into(), "u-1".into()),
            ),
            (
                stored(&[("serviceaccounts/builder", "u-1")]),
                &bound,
                LivenessError::BoundObjectDeleted("pod".into(), "default".into(), "web".into()),
            ),
            (
                stored(&[("serviceaccounts/builder", "u-1"), ("pods/web", "p-2")]),
                &bound,
                LivenessError::BoundObjectUid("pod".into(), "p-2".into(), "p-1".into()),
            ),
        ];
        for (objects, token, want) in cases {
            let claims = a.verify_claims(token, 2_000).expect("valid signature");
            assert_eq!(
                block_on(check_liveness(&objects, &claims)),
                Err(want.clone())
            );
            assert!(
                block_on(a.authenticate(&objects, token, 2_000)).is_none(),
                "{want}"
            );
        }
    }

    /// A token with arbitrary claims signed by `a`'s key.
    fn sign(a: &TokenAuthority, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            b64(br#"{"alg":"RS256","typ":"JWT"}"#),
            b64(claims.to_string().as_bytes())
        );
        let mut signer =
            Signer::new(MessageDigest::sha256(), a.signer.as_ref().expect("key")).expect("signer");
        signer.update(input.as_bytes()).expect("update");
        format!("{input}.{}", b64(&signer.sign_to_vec().expect("sign")))
    }

    #[test]
    fn legacy_secret_tokens_need_their_secret() {
        let a = authority();
        let legacy = sign(
            &a,
            &serde_json::json!({
                "iss": LEGACY_ISSUER,
                "sub": "system:serviceaccount:default:builder",
                "kubernetes.io/serviceaccount/namespace": "default",
                "kubernetes.io/serviceaccount/secret.name": "builder-token",
                "kubernetes.io/serviceaccount/service-account.name": "builder",
                "kubernetes.io/serviceaccount/service-account.uid": "u-1",
            }),
        );
        let claims = a
            .verify_claims(&legacy, 2_000)
            .expect("legacy tokens verify");
        assert_eq!(claims.uid, "u-1");
        assert_eq!(claims.legacy_secret.as_deref(), Some("builder-token"));
        let sa = serde_json::json!({"metadata": {"uid": "u-1"}});
        let secret = |owner: &str| {
            serde_json::json!({"metadata": {"uid": "s-1",
                "annotations": {"kubernetes.io/service-account.uid": owner}}})
        };
        let live = Objects(
            [
                ("serviceaccounts/builder".to_string(), sa.clone()),
                ("secrets/builder-token".to_string(), secret("u-1")),
            ]
            .into(),
        );
        assert!(block_on(a.authenticate(&live, &legacy, 2_000)).is_some());
        let gone = Objects([("serviceaccounts/builder".to_string(), sa.clone())].into());
        assert!(block_on(a.authenticate(&gone, &legacy, 2_000)).is_none());
        let reassigned = Objects(
            [
                ("serviceaccounts/builder".to_string(), sa),
                ("secrets/builder-token".to_string(), secret("u-9")),
            ]
            .into(),
        );
        assert!(block_on(a.authenticate(&reassigned, &legacy, 2_000)).is_none());
        // A token without the Secret claim may not use the legacy issuer.
        let forged = sign(
            &a,
            &serde_json::json!({"iss": LEGACY_ISSUER, "sub": "system:serviceaccount:default:builder"}),
        );
        assert!(a.verify_claims(&forged, 2_000).is_none());
    }
}
