//! Reading kubeconfig files (the `v1` `Config` kind kubectl writes) and
//! resolving the current context into what a client needs to connect.

use base64::Engine;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum KubeconfigError {
    #[error("cannot read kubeconfig {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("kubeconfig {path} is not valid: {source}")]
    Parse {
        path: PathBuf,
        source: serde_yaml::Error,
    },
    #[error("kubeconfig has no current-context and none was asked for")]
    NoContext,
    #[error("context \"{0}\" not found in kubeconfig")]
    ContextNotFound(String),
    #[error("cluster \"{0}\" not found in kubeconfig")]
    ClusterNotFound(String),
    #[error("user \"{0}\" not found in kubeconfig")]
    UserNotFound(String),
    #[error("{field} is not valid base64: {source}")]
    Base64 {
        field: &'static str,
        source: base64::DecodeError,
    },
    #[error("cannot read {field} file {path}: {source}")]
    ReferencedFile {
        field: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A kubeconfig file as kubectl writes it. Unknown fields are ignored, as
/// client-go does.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Kubeconfig {
    #[serde(default)]
    pub clusters: Vec<NamedCluster>,
    #[serde(default)]
    pub users: Vec<NamedUser>,
    #[serde(default)]
    pub contexts: Vec<NamedContext>,
    #[serde(default)]
    pub current_context: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct NamedCluster {
    pub name: String,
    pub cluster: Cluster,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Cluster {
    pub server: String,
    pub certificate_authority: Option<PathBuf>,
    pub certificate_authority_data: Option<String>,
    pub tls_server_name: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct NamedUser {
    pub name: String,
    #[serde(default)]
    pub user: AuthInfo,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct AuthInfo {
    pub client_certificate: Option<PathBuf>,
    pub client_certificate_data: Option<String>,
    pub client_key: Option<PathBuf>,
    pub client_key_data: Option<String>,
    pub token: Option<String>,
    /// client-go spells this one field in camelCase.
    #[serde(rename = "tokenFile", alias = "token-file")]
    pub token_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct NamedContext {
    pub name: String,
    pub context: Context,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Context {
    pub cluster: String,
    #[serde(default)]
    pub user: String,
    pub namespace: Option<String>,
}

/// Everything needed to open a connection to the apiserver, with the
/// PEM material already loaded (from `-data` fields or referenced files).
#[derive(Debug, Clone)]
pub struct Connection {
    pub server: String,
    pub tls_server_name: Option<String>,
    pub ca_pem: Option<Vec<u8>>,
    pub client_cert_pem: Option<Vec<u8>>,
    pub client_key_pem: Option<Vec<u8>>,
    pub token: Option<String>,
    pub namespace: String,
}

impl Kubeconfig {
    pub fn parse(text: &str, origin: &Path) -> Result<Kubeconfig, KubeconfigError> {
        serde_yaml::from_str(text).map_err(|source| KubeconfigError::Parse {
            path: origin.to_path_buf(),
            source,
        })
    }

    pub fn load(path: &Path) -> Result<Kubeconfig, KubeconfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| KubeconfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Resolves `context` (or the current context) into a [`Connection`].
    /// Relative file paths are taken relative to `base_dir`, the directory of
    /// the kubeconfig, as client-go does.
    pub fn connection(
        &self,
        context: Option<&str>,
        base_dir: &Path,
    ) -> Result<Connection, KubeconfigError> {
        let name = context
            .map(str::to_owned)
            .or_else(|| self.current_context.clone())
            .filter(|n| !n.is_empty())
            .ok_or(KubeconfigError::NoContext)?;
        let ctx = &self
            .contexts
            .iter()
            .find(|c| c.name == name)
            .ok_or_else(|| KubeconfigError::ContextNotFound(name.clone()))?
            .context;
        let cluster = &self
            .clusters
            .iter()
            .find(|c| c.name == ctx.cluster)
            .ok_or_else(|| KubeconfigError::ClusterNotFound(ctx.cluster.clone()))?
            .cluster;
        let user = if ctx.user.is_empty() {
            AuthInfo::default()
        } else {
            self.users
                .iter()
                .find(|u| u.name == ctx.user)
                .ok_or_else(|| KubeconfigError::UserNotFound(ctx.user.clone()))?
                .user
                .clone()
        };
        let token = match (&user.token, &user.token_file) {
            (Some(t), _) => Some(t.clone()),
            (None, Some(f)) => Some(
                read_referenced("tokenFile", base_dir, f)
                    .map(|b| String::from_utf8_lossy(&b).trim().to_string())?,
            ),
            (None, None) => None,
        };
        Ok(Connection {
            server: cluster.server.clone(),
            tls_server_name: cluster.tls_server_name.clone(),
            ca_pem: material(
                "certificate-authority-data",
                &cluster.certificate_authority_data,
                "certificate-authority",
                &cluster.certificate_authority,
                base_dir,
            )?,
            client_cert_pem: material(
                "client-certificate-data",
                &user.client_certificate_data,
                "client-certificate",
                &user.client_certificate,
                base_dir,
            )?,
            client_key_pem: material(
                "client-key-data",
                &user.client_key_data,
                "client-key",
                &user.client_key,
                base_dir,
            )?,
            token,
            namespace: ctx
                .namespace
                .clone()
                .unwrap_or_else(|| "default".to_string()),
        })
    }
}

/// Loads a kubeconfig file and resolves its current context.
pub fn load_connection(path: &Path) -> Result<Connection, KubeconfigError> {
    let base = path.parent().unwrap_or_else(|| Path::new("."));
    Kubeconfig::load(path)?.connection(None, base)
}

fn material(
    data_field: &'static str,
    data: &Option<String>,
    file_field: &'static str,
    file: &Option<PathBuf>,
    base_dir: &Path,
) -> Result<Option<Vec<u8>>, KubeconfigError> {
    if let Some(d) = data {
        let compact: String = d.split_whitespace().collect();
        return base64::engine::general_purpose::STANDARD
            .decode(compact)
            .map(Some)
            .map_err(|source| KubeconfigError::Base64 {
                field: data_field,
                source,
            });
    }
    match file {
        Some(f) => read_referenced(file_field, base_dir, f).map(Some),
        None => Ok(None),
    }
}

fn read_referenced(
    field: &'static str,
    base_dir: &Path,
    file: &Path,
) -> Result<Vec<u8>, KubeconfigError> {
    let path = if file.is_absolute() {
        file.to_path_buf()
    } else {
        base_dir.join(file)
    };
    std::fs::read(&path).map_err(|source| KubeconfigError::ReferencedFile {
        field,
        path,
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
apiVersion: v1
kind: Config
clusters:
- name: myk8s
  cluster:
    server: https://10.4.7.21:6443
    certificate-authority-data: Q0EtUEVN
users:
- name: k8s-node
  user:
    client-certificate-data: Q0VSVA==
    client-key: node-key.pem
contexts:
- name: myk8s-context
  context:
    cluster: myk8s
    user: k8s-node
current-context: myk8s-context
preferences: {}
"#;

    #[test]
    fn resolves_current_context_with_data_and_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("node-key.pem"), b"KEY").unwrap();
        let kc = Kubeconfig::parse(SAMPLE, Path::new("k")).unwrap();
        let c = kc.connection(None, dir.path()).unwrap();
        assert_eq!(c.server, "https://10.4.7.21:6443");
        assert_eq!(c.ca_pem.as_deref(), Some(&b"CA-PEM"[..]));
        assert_eq!(c.client_cert_pem.as_deref(), Some(&b"CERT"[..]));
        assert_eq!(c.client_key_pem.as_deref(), Some(&b"KEY"[..]));
        assert_eq!(c.namespace, "default");
    }

    #[test]
    fn missing_pieces_are_named() {
        let kc = Kubeconfig::parse(SAMPLE, Path::new("k")).unwrap();
        let err = kc
            .connection(Some("other"), Path::new("/nonexistent"))
            .unwrap_err();
        assert_eq!(err.to_string(), "context \"other\" not found in kubeconfig");
        let err = kc.connection(None, Path::new("/nonexistent")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("cannot read client-key file /nonexistent/node-key.pem")
        );
        let empty = Kubeconfig::parse("apiVersion: v1\nkind: Config\n", Path::new("k")).unwrap();
        assert!(matches!(
            empty.connection(None, Path::new(".")),
            Err(KubeconfigError::NoContext)
        ));
    }
}
