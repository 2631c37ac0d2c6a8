//! Connecting to the apiserver: the ONE way every daemon and the tests
//! turn `--kubeconfig`, `--master`, the `KUBECONFIG` variable or the
//! in-cluster ServiceAccount into a `kube::Client`.
//!
//! The order is client-go's (`BuildConfigFromFlags` plus its loading
//! rules): an explicit `--kubeconfig` file; else, when no `--master` is
//! given and the process runs in a pod, the in-cluster config; else the
//! files listed in `KUBECONFIG` (missing ones skipped, the first file to
//! name an entry wins); else `~/.kube/config`; else `--master` alone.
//! `--master` then replaces the chosen server address.
//!
//! Kubeconfigs are read with `apimachinery::kubeconfig` (both the `*-data`
//! and the file fields; relative paths are relative to the kubeconfig's own
//! directory), the connection is [`transport`]'s OpenSSL connector, and
//! [`bearer`] adds bearer tokens (re-reading token files as they rotate).

mod bearer;
mod transport;

pub use transport::Connector;

use apimachinery::kubeconfig::{Connection, Kubeconfig, KubeconfigError};
use kube::client::ConfigExt;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use tower::ServiceExt as _;
use transport::BoxError;

/// Where a pod's ServiceAccount credentials are mounted.
pub const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// Why no client could be made; each variant names the file or setting
/// at fault so an operator can fix the start line.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Kubeconfig(#[from] KubeconfigError),
    #[error(
        "no apiserver configured: no --kubeconfig or --master, KUBECONFIG names no existing file, \
         not running in a pod (KUBERNETES_SERVICE_HOST/PORT unset) and no {home_config}"
    )]
    NothingConfigured { home_config: String },
    #[error("in-cluster configuration: cannot read {path}: {source}")]
    InCluster {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("apiserver address {server:?} is not a valid URL: {reason}")]
    Server { server: String, reason: String },
    #[error("apiserver address {0:?} is not https: every connection is verified TLS")]
    NotHttps(String),
    #[error("TLS client setup: {0}")]
    Tls(#[from] apimachinery::tls::TlsError),
    #[error("bearer token: {0}")]
    Token(String),
}

/// `--master`: upstream's override of the kubeconfig's server address,
/// flattened into each daemon's flags beside `--kubeconfig`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct MasterFlag {
    /// The address of the Kubernetes API server (overrides any value in
    /// the kubeconfig).
    #[arg(long, value_name = "URL")]
    pub master: Option<String>,
}

/// What the daemon was told on its command line.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// `--kubeconfig`.
    pub kubeconfig: Option<PathBuf>,
    /// `--master`.
    pub master: Option<String>,
    /// A context to use instead of the kubeconfig's current-context.
    pub context: Option<String>,
}

impl ConnectOptions {
    /// From a daemon's `--kubeconfig` and `--master`.
    pub fn from_flags(kubeconfig: Option<&Path>, master: &MasterFlag) -> ConnectOptions {
        ConnectOptions {
            kubeconfig: kubeconfig.map(Path::to_path_buf),
            master: master.master.clone().filter(|m| !m.is_empty()),
            context: None,
        }
    }
}

/// The process environment the resolution reads, separate so tests can
/// give their own.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    /// `KUBECONFIG`: a list of files in the platform's path-list syntax.
    pub kubeconfig: Option<OsString>,
    /// `KUBERNETES_SERVICE_HOST` and `KUBERNETES_SERVICE_PORT`.
    pub service_host: Option<String>,
    pub service_port: Option<String>,
    /// `$HOME`, for `~/.kube/config`.
    pub home: Option<PathBuf>,
    /// Where the ServiceAccount token, CA and namespace are mounted.
    pub service_account_dir: PathBuf,
}

impl Environment {
    /// This process's environment.
    pub fn current() -> Environment {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Environment {
            kubeconfig: std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()),
            service_host: var("KUBERNETES_SERVICE_HOST"),
            service_port: var("KUBERNETES_SERVICE_PORT"),
            home: std::env::var_os("HOME").map(PathBuf::from),
            service_account_dir: PathBuf::from(SERVICE_ACCOUNT_DIR),
        }
    }
}

/// Where the connection was found, for the start-up log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// One or more kubeconfig files (`--kubeconfig`, `KUBECONFIG`, `~/.kube/config`).
    Kubeconfig(Vec<PathBuf>),
    /// The pod's ServiceAccount.
    InCluster,
    /// `--master` with nothing else: the system trust store, no identity.
    MasterOnly,
}

/// A resolved connection: address, TLS material and credentials.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Server, CA, client certificate and key, inline token, namespace.
    pub connection: Connection,
    /// A bearer token file, re-read as it rotates (in-cluster tokens
    /// expire; kubeconfig `tokenFile`). Takes the place of `connection.token`.
    pub token_file: Option<PathBuf>,
    pub origin: Origin,
}

impl ClientConfig {
    /// Resolves `options` against this process's environment.
    pub fn load(options: &ConnectOptions) -> Result<ClientConfig, ConfigError> {
        Self::load_in(options, &Environment::current())
    }

    /// Resolves `options` against `env` (see the module docs for the order).
    pub fn load_in(
        options: &ConnectOptions,
        env: &Environment,
    ) -> Result<ClientConfig, ConfigError> {
        let mut config = if let Some(path) = &options.kubeconfig {
            from_files(std::slice::from_ref(path), options.context.as_deref())?
        } else if let (None, Some(host), Some(port)) =
            (&options.master, &env.service_host, &env.service_port)
        {
            in_cluster(host, port, &env.service_account_dir)?
        } else if let Some(files) = listed_files(env) {
            from_files(&files, options.context.as_deref())?
        } else if let Some(home) = env
            .home
            .as_ref()
            .map(|h| h.join(".kube/config"))
            .filter(|p| p.is_file())
        {
            from_files(&[home], options.context.as_deref())?
        } else if let Some(master) = &options.master {
            ClientConfig {
                connection: Connection {
                    server: master.clone(),
                    tls_server_name: None,
                    ca_pem: None,
                    client_cert_pem: None,
                    client_key_pem: None,
                    token: None,
                    namespace: "default".into(),
                },
                token_file: None,
                origin: Origin::MasterOnly,
            }
        } else {
            let home_config = env
                .home
                .as_ref()
                .map(|h| h.join(".kube/config").display().to_string())
                .unwrap_or_else(|| "~/.kube/config ($HOME unset)".into());
            return Err(ConfigError::NothingConfigured { home_config });
        };
        if let Some(master) = &options.master {
            config.connection.server = master.clone();
        }
        Ok(config)
    }

    /// The kube-rs `Config` for the request layers: base URI and namespace
    /// (TLS is [`Connector`]'s, the bearer token [`bearer`]'s).
    fn kube_config(&self) -> Result<kube::Config, ConfigError> {
        let server = &self.connection.server;
        let uri: http::Uri =
            server
                .parse()
                .map_err(|e: http::uri::InvalidUri| ConfigError::Server {
                    server: server.clone(),
                    reason: e.to_string(),
                })?;
        if uri.scheme_str() != Some("https") {
            return Err(ConfigError::NotHttps(server.clone()));
        }
        if uri.host().is_none() {
            return Err(ConfigError::Server {
                server: server.clone(),
                reason: "no host".into(),
            });
        }
        let mut config = kube::Config::new(uri);
        config.default_namespace = self.connection.namespace.clone();
        config.tls_server_name = self.connection.tls_server_name.clone();
        Ok(config)
    }

    /// The bearer token source, when the configuration has one.
    fn bearer(&self) -> Result<Option<bearer::BearerToken>, ConfigError> {
        match (&self.token_file, &self.connection.token) {
            (Some(file), _) => bearer::BearerToken::file(file).map(Some),
            (None, Some(token)) => bearer::BearerToken::fixed(token).map(Some),
            (None, None) => Ok(None),
        }
    }

    /// A `kube::Client` over the OpenSSL connector with session resumption.
    /// Call inside a tokio runtime (the client spawns its request buffer).
    pub fn client(&self) -> Result<kube::Client, ConfigError> {
        let config = self.kube_config()?;
        let token = self.bearer()?;
        let tls = apimachinery::tls::client_connector(&self.connection, true)?;
        let connector = Connector::new(tls, self.connection.tls_server_name.clone());
        let http =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build(connector);
        let service = tower::ServiceBuilder::new()
            .layer(config.base_uri_layer())
            .map_request(move |mut req: http::Request<kube::client::Body>| {
                if let Some(token) = &token {
                    req.headers_mut()
                        .insert(http::header::AUTHORIZATION, token.header());
                }
                req
            })
            .service(http.map_err(|e| -> BoxError { Box::new(e) }));
        Ok(kube::Client::new(service, config.default_namespace))
    }
}

/// Resolves `options` in this process's environment and connects; the
/// one call a daemon makes. Logs where the connection came from.
pub fn connect(options: &ConnectOptions) -> Result<kube::Client, ConfigError> {
    let config = ClientConfig::load(options)?;
    tracing::info!(server = %config.connection.server, origin = ?config.origin, "apiserver client configured");
    config.client()
}

/// The existing files `KUBECONFIG` lists, or None when it lists none.
fn listed_files(env: &Environment) -> Option<Vec<PathBuf>> {
    let list = env.kubeconfig.as_ref()?;
    let files: Vec<PathBuf> = std::env::split_paths(list)
        .filter(|p| !p.as_os_str().is_empty() && p.is_file())
        .collect();
    (!files.is_empty()).then_some(files)
}

/// Loads and merges kubeconfig files (the first to name an entry wins),
/// each file's relative paths made relative to its own directory first.
fn from_files(files: &[PathBuf], context: Option<&str>) -> Result<ClientConfig, ConfigError> {
    let mut merged = Kubeconfig::default();
    for path in files {
        let mut kc = Kubeconfig::load(path)?;
        let dir = path.parent().unwrap_or_else(|| Path::new("."));
        absolutize(&mut kc, dir);
        merged.clusters.extend(kc.clusters);
        merged.users.extend(kc.users);
        merged.contexts.extend(kc.contexts);
        if merged.current_context.as_deref().unwrap_or("").is_empty() {
            merged.current_context = kc.current_context;
        }
    }
    // Every path is absolute now: the base directory is never consulted.
    let connection = merged.connection(context, Path::new("/"))?;
    Ok(ClientConfig {
        token_file: token_file_of(&merged, context),
        connection,
        origin: Origin::Kubeconfig(files.to_vec()),
    })
}

/// The `tokenFile` of the context's user when it has no inline token.
fn token_file_of(kc: &Kubeconfig, context: Option<&str>) -> Option<PathBuf> {
    let name = context.or(kc.current_context.as_deref())?;
    let ctx = &kc.contexts.iter().find(|c| c.name == name)?.context;
    let user = &kc.users.iter().find(|u| u.name == ctx.user)?.user;
    match (&user.token, &user.token_file) {
        (None, Some(file)) => Some(file.clone()),
        _ => None,
    }
}

fn absolutize(kc: &mut Kubeconfig, dir: &Path) {
    let fix = |p: &mut Option<PathBuf>| {
        if let Some(path) = p.as_mut().filter(|p| p.is_relative()) {
            *path = dir.join(&*path);
        }
    };
    for c in &mut kc.clusters {
        fix(&mut c.cluster.certificate_authority);
    }
    for u in &mut kc.users {
        fix(&mut u.user.client_certificate);
        fix(&mut u.user.client_key);
        fix(&mut u.user.token_file);
    }
}

/// The pod's ServiceAccount: CA and namespace from the mounted files,
/// the token file re-read as the kubelet rotates it.
fn in_cluster(host: &str, port: &str, dir: &Path) -> Result<ClientConfig, ConfigError> {
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read(&path).map_err(|source| ConfigError::InCluster { path, source })
    };
    let ca = read("ca.crt")?;
    // The token must exist now; kube-rs re-reads it later.
    read("token")?;
    let namespace = read("namespace")
        .map(|n| String::from_utf8_lossy(&n).trim().to_string())
        .ok()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "default".into());
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    Ok(ClientConfig {
        connection: Connection {
            server: format!("https://{host}:{port}"),
            tls_server_name: None,
            ca_pem: Some(ca),
            client_cert_pem: None,
            client_key_pem: None,
            token: None,
            namespace,
        },
        token_file: Some(dir.join("token")),
        origin: Origin::InCluster,
    })
}

#[cfg(test)]
mod tests;
