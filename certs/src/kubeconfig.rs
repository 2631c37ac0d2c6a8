//! Kubeconfig files with embedded credentials, equivalent to what
//! `kubectl config set-cluster/set-credentials/set-context/use-context
//! --embed-certs=true` produce.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use openssl::pkey::PKey;
use openssl::x509::X509;
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum KubeconfigError {
    #[error("{0}: not a PEM certificate")]
    BadCertificate(&'static str),
    #[error("client key: not a PEM private key")]
    BadKey,
    #[error("client key does not match the client certificate")]
    KeyMismatch,
    #[error("server {0:?} must be an https:// URL")]
    BadServer(String),
    #[error("{0} must not be empty")]
    Empty(&'static str),
    #[error("openssl: {0}")]
    Openssl(#[from] openssl::error::ErrorStack),
    #[error("encoding YAML: {0}")]
    Yaml(#[from] serde_yaml::Error),
}

/// Everything one kubeconfig holds: one cluster, one user, one context.
#[derive(Debug, Clone)]
pub struct KubeconfigSpec {
    pub cluster: String,
    pub server: String,
    pub ca_pem: Vec<u8>,
    pub user: String,
    pub client_cert_pem: Vec<u8>,
    pub client_key_pem: Vec<u8>,
    pub context: String,
    pub namespace: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Config<'a> {
    #[serde(rename = "apiVersion")]
    api_version: &'a str,
    clusters: Vec<Named<'a, Cluster<'a>>>,
    contexts: Vec<Named<'a, Context<'a>>>,
    current_context: &'a str,
    kind: &'a str,
    preferences: Preferences,
    users: Vec<Named<'a, User>>,
}

/// kubectl's `{name, <kind>: {...}}` list entries.
struct Named<'a, T> {
    field: &'static str,
    name: &'a str,
    item: T,
}

impl<T: Serialize> Serialize for Named<'_, T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        // kubectl writes keys sorted: `cluster`/`context` before `name`,
        // `name` before `user`. Same order, byte-identical files.
        let mut map = s.serialize_map(Some(2))?;
        if self.field < "name" {
            map.serialize_entry(self.field, &self.item)?;
            map.serialize_entry("name", self.name)?;
        } else {
            map.serialize_entry("name", self.name)?;
            map.serialize_entry(self.field, &self.item)?;
        }
        map.end()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Cluster<'a> {
    certificate_authority_data: String,
    server: &'a str,
}

#[derive(Serialize)]
struct Context<'a> {
    cluster: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<&'a str>,
    user: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct User {
    client_certificate_data: String,
    client_key_data: String,
}

#[derive(Serialize)]
struct Preferences {}

impl KubeconfigSpec {
    /// Checks the inputs (PEM forms, key matches certificate, https server)
    /// and renders the YAML.
    pub fn to_yaml(&self) -> Result<String, KubeconfigError> {
        for (what, value) in [
            ("cluster", &self.cluster),
            ("user", &self.user),
            ("context", &self.context),
        ] {
            if value.trim().is_empty() {
                return Err(KubeconfigError::Empty(what));
            }
        }
        if !self.server.starts_with("https://") || self.server.len() <= "https://".len() {
            return Err(KubeconfigError::BadServer(self.server.clone()));
        }
        X509::from_pem(&self.ca_pem)
            .map_err(|_| KubeconfigError::BadCertificate("CA certificate"))?;
        let cert = X509::from_pem(&self.client_cert_pem)
            .map_err(|_| KubeconfigError::BadCertificate("client certificate"))?;
        let key = PKey::private_key_from_pem(&self.client_key_pem)
            .map_err(|_| KubeconfigError::BadKey)?;
        if !cert.public_key()?.public_eq(&key) {
            return Err(KubeconfigError::KeyMismatch);
        }
        let config = Config {
            api_version: "v1",
            clusters: vec![Named {
                field: "cluster",
                name: &self.cluster,
                item: Cluster {
                    certificate_authority_data: STANDARD.encode(&self.ca_pem),
                    server: &self.server,
                },
            }],
            contexts: vec![Named {
                field: "context",
                name: &self.context,
                item: Context {
                    cluster: &self.cluster,
                    namespace: self.namespace.as_deref().filter(|n| !n.is_empty()),
                    user: &self.user,
                },
            }],
            current_context: &self.context,
            kind: "Config",
            preferences: Preferences {},
            users: vec![Named {
                field: "user",
                name: &self.user,
                item: User {
                    client_certificate_data: STANDARD.encode(&self.client_cert_pem),
                    client_key_data: STANDARD.encode(&self.client_key_pem),
                },
            }],
        };
        Ok(serde_yaml::to_string(&config)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Policy;
    use crate::issue::{CertificateAuthority, init_ca, sign_new};
    use crate::request::CertificateRequest;

    fn spec() -> KubeconfigSpec {
        let ca = init_ca(&CertificateRequest::from_json(br#"{"CN":"ca"}"#).unwrap()).unwrap();
        let authority = CertificateAuthority::from_pem(&ca.cert, &ca.key).unwrap();
        let leaf = sign_new(
            &CertificateRequest::from_json(br#"{"CN":"admin"}"#).unwrap(),
            &authority,
            &Policy::default(),
        )
        .unwrap();
        KubeconfigSpec {
            cluster: "myk8s".into(),
            server: "https://127.0.0.1:6443".into(),
            ca_pem: ca.cert,
            user: "admin".into(),
            client_cert_pem: leaf.cert,
            client_key_pem: leaf.key,
            context: "admin-context".into(),
            namespace: Some("kube-system".into()),
        }
    }

    #[test]
    fn renders_kubectl_shape() {
        let s = spec();
        let yaml = s.to_yaml().unwrap();
        let doc: serde_yaml::Value = serde_yaml::from_str(&yaml).unwrap();
        assert_eq!(doc["apiVersion"], "v1");
        assert_eq!(doc["kind"], "Config");
        assert_eq!(doc["current-context"], "admin-context");
        assert_eq!(doc["clusters"][0]["name"], "myk8s");
        assert_eq!(
            doc["clusters"][0]["cluster"]["server"],
            "https://127.0.0.1:6443"
        );
        assert_eq!(
            doc["clusters"][0]["cluster"]["certificate-authority-data"],
            STANDARD.encode(&s.ca_pem).as_str()
        );
        assert_eq!(doc["contexts"][0]["context"]["namespace"], "kube-system");
        assert_eq!(doc["contexts"][0]["context"]["user"], "admin");
        assert_eq!(
            doc["users"][0]["user"]["client-key-data"],
            STANDARD.encode(&s.client_key_pem).as_str()
        );
    }

    #[test]
    fn refuses_bad_inputs() {
        let mut s = spec();
        s.server = "http://127.0.0.1:8080".into();
        assert!(matches!(s.to_yaml(), Err(KubeconfigError::BadServer(_))));
        let mut s = spec();
        s.client_key_pem =
            crate::keys::private_key_pem(&crate::keys::KeySpec::Ecdsa(256).generate().unwrap())
                .unwrap();
        assert!(matches!(s.to_yaml(), Err(KubeconfigError::KeyMismatch)));
        let mut s = spec();
        s.ca_pem = b"junk".to_vec();
        assert!(matches!(
            s.to_yaml(),
            Err(KubeconfigError::BadCertificate(_))
        ));
        let mut s = spec();
        s.user = String::new();
        assert!(matches!(s.to_yaml(), Err(KubeconfigError::Empty("user"))));
    }
}
