use super::*;
use std::fs;

/// A kubeconfig naming `ca.pem`, `cert.pem`, `key.pem` (relative) and
/// a second context with an inline CA and a token file.
const KUBECONFIG: &str = r#"
apiVersion: v1
kind: Config
clusters:
- name: files
  cluster:
    server: https://10.4.7.21:6443
    certificate-authority: pki/ca.pem
- name: data
  cluster:
    server: https://10.4.7.22:6443
    certificate-authority-data: SU5MSU5FLUNB
    tls-server-name: kubernetes.default
users:
- name: cert-user
  user:
    client-certificate: pki/cert.pem
    client-key: pki/key.pem
- name: token-user
  user:
    tokenFile: token
contexts:
- name: by-files
  context: {cluster: files, user: cert-user}
- name: by-data
  context: {cluster: data, user: token-user, namespace: kube-system}
current-context: by-files
"#;

/// A directory holding the kubeconfig and the files it names.
fn kubeconfig_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::create_dir(dir.path().join("pki")).expect("mkdir");
    fs::write(dir.path().join("pki/ca.pem"), "FILE-CA").expect("ca");
    fs::write(dir.path().join("pki/cert.pem"), "FILE-CERT").expect("cert");
    fs::write(dir.path().join("pki/key.pem"), "FILE-KEY").expect("key");
    fs::write(dir.path().join("token"), "secret-token\n").expect("token");
    fs::write(dir.path().join("kubeconfig"), KUBECONFIG).expect("kubeconfig");
    dir
}

fn options(kubeconfig: Option<PathBuf>) -> ConnectOptions {
    ConnectOptions {
        kubeconfig,
        ..ConnectOptions::default()
    }
}

/// An environment with nothing set (no in-cluster, no KUBECONFIG, no home).
fn bare() -> Environment {
    Environment {
        service_account_dir: PathBuf::from("/nonexistent/serviceaccount"),
        ..Environment::default()
    }
}

#[test]
fn file_fields_are_relative_to_the_kubeconfig_directory() {
    let dir = kubeconfig_dir();
    // Run from elsewhere: the paths must not depend on the working directory.
    let c = ClientConfig::load_in(&options(Some(dir.path().join("kubeconfig"))), &bare())
        .expect("load");
    assert_eq!(c.connection.server, "https://10.4.7.21:6443");
    assert_eq!(c.connection.ca_pem.as_deref(), Some(&b"FILE-CA"[..]));
    assert_eq!(
        c.connection.client_cert_pem.as_deref(),
        Some(&b"FILE-CERT"[..])
    );
    assert_eq!(
        c.connection.client_key_pem.as_deref(),
        Some(&b"FILE-KEY"[..])
    );
    assert_eq!(c.connection.namespace, "default");
    assert_eq!(c.token_file, None);
    assert_eq!(
        c.origin,
        Origin::Kubeconfig(vec![dir.path().join("kubeconfig")])
    );
}

#[test]
fn data_fields_and_a_named_context() {
    let dir = kubeconfig_dir();
    let opts = ConnectOptions {
        context: Some("by-data".into()),
        ..options(Some(dir.path().join("kubeconfig")))
    };
    let c = ClientConfig::load_in(&opts, &bare()).expect("load");
    assert_eq!(c.connection.server, "https://10.4.7.22:6443");
    assert_eq!(c.connection.ca_pem.as_deref(), Some(&b"INLINE-CA"[..]));
    assert_eq!(
        c.connection.tls_server_name.as_deref(),
        Some("kubernetes.default")
    );
    assert_eq!(c.connection.namespace, "kube-system");
    assert_eq!(c.token_file, Some(dir.path().join("token")));
    let kube = c.kube_config().expect("kube config");
    assert_eq!(kube.default_namespace, "kube-system");
    // The file's trailing newline is not part of the token.
    let token = c.bearer().expect("token").expect("a token");
    assert_eq!(token.header(), "Bearer secret-token");
    // Rotated on disk: the next read after the interval sees the new one.
    fs::write(dir.path().join("token"), "rotated").expect("rotate");
    assert_eq!(token.header(), "Bearer secret-token");
    token.expire();
    assert_eq!(token.header(), "Bearer rotated");
}

#[test]
fn a_missing_kubeconfig_is_named() {
    let err = ClientConfig::load_in(
        &options(Some("/nonexistent/kcm.kubeconfig".into())),
        &bare(),
    )
    .expect_err("must fail");
    let msg = err.to_string();
    assert!(
        msg.starts_with("cannot read kubeconfig /nonexistent/kcm.kubeconfig"),
        "{msg}"
    );
}

#[test]
fn a_missing_referenced_file_is_named() {
    let dir = kubeconfig_dir();
    fs::remove_file(dir.path().join("pki/key.pem")).expect("rm");
    let err = ClientConfig::load_in(&options(Some(dir.path().join("kubeconfig"))), &bare())
        .expect_err("must fail");
    let want = format!(
        "cannot read client-key file {}",
        dir.path().join("pki/key.pem").display()
    );
    assert!(err.to_string().starts_with(&want), "{err}");
}

#[test]
fn master_overrides_the_server() {
    let dir = kubeconfig_dir();
    let opts = ConnectOptions {
        master: Some("https://127.0.0.1:7443".into()),
        ..options(Some(dir.path().join("kubeconfig")))
    };
    let c = ClientConfig::load_in(&opts, &bare()).expect("load");
    assert_eq!(c.connection.server, "https://127.0.0.1:7443");
    // The rest still comes from the kubeconfig.
    assert_eq!(c.connection.ca_pem.as_deref(), Some(&b"FILE-CA"[..]));

    // --master alone: the address, verified against the system trust store.
    let opts = ConnectOptions {
        master: Some("https://10.4.7.21:6443".into()),
        ..ConnectOptions::default()
    };
    let c = ClientConfig::load_in(&opts, &bare()).expect("load");
    assert_eq!(c.origin, Origin::MasterOnly);
    assert_eq!(c.connection.server, "https://10.4.7.21:6443");
    assert_eq!(c.connection.ca_pem, None);
}

#[test]
fn plaintext_servers_are_refused() {
    let opts = ConnectOptions {
        master: Some("http://127.0.0.1:8080".into()),
        ..ConnectOptions::default()
    };
    let c = ClientConfig::load_in(&opts, &bare()).expect("load");
    assert!(matches!(c.kube_config(), Err(ConfigError::NotHttps(_))));
}

#[test]
fn kubeconfig_variable_lists_files_first_wins() {
    let dir = kubeconfig_dir();
    let first = dir.path().join("first");
    fs::write(
        &first,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: files\n  cluster: {server: 'https://first:6443'}\n",
    )
    .expect("first");
    let list = std::env::join_paths([
        dir.path().join("missing"),
        first.clone(),
        dir.path().join("kubeconfig"),
    ])
    .expect("join");
    let env = Environment {
        kubeconfig: Some(list),
        ..bare()
    };
    let c = ClientConfig::load_in(&ConnectOptions::default(), &env).expect("load");
    // `files` comes from the first file that names it; the context and the
    // user from the second, with paths relative to the second's directory.
    assert_eq!(c.connection.server, "https://first:6443");
    assert_eq!(
        c.connection.client_key_pem.as_deref(),
        Some(&b"FILE-KEY"[..])
    );
    assert_eq!(
        c.origin,
        Origin::Kubeconfig(vec![first, dir.path().join("kubeconfig")])
    );

    // An explicit --kubeconfig wins over the variable.
    let other = kubeconfig_dir();
    let opts = ConnectOptions {
        context: Some("by-data".into()),
        ..options(Some(other.path().join("kubeconfig")))
    };
    let c = ClientConfig::load_in(&opts, &env).expect("load");
    assert_eq!(c.connection.server, "https://10.4.7.22:6443");
}

#[test]
fn in_cluster_uses_the_service_account() {
    let sa = tempfile::tempdir().expect("tempdir");
    fs::write(sa.path().join("ca.crt"), "SA-CA").expect("ca");
    fs::write(sa.path().join("token"), "jwt").expect("token");
    fs::write(sa.path().join("namespace"), "monitoring\n").expect("ns");
    let env = Environment {
        service_host: Some("192.168.0.1".into()),
        service_port: Some("443".into()),
        service_account_dir: sa.path().to_path_buf(),
        ..Environment::default()
    };
    let c = ClientConfig::load_in(&ConnectOptions::default(), &env).expect("load");
    assert_eq!(c.origin, Origin::InCluster);
    assert_eq!(c.connection.server, "https://192.168.0.1:443");
    assert_eq!(c.connection.ca_pem.as_deref(), Some(&b"SA-CA"[..]));
    assert_eq!(c.connection.namespace, "monitoring");
    assert_eq!(c.token_file, Some(sa.path().join("token")));

    // IPv6 service hosts are bracketed.
    let env6 = Environment {
        service_host: Some("fd00::1".into()),
        ..env.clone()
    };
    let c = ClientConfig::load_in(&ConnectOptions::default(), &env6).expect("load");
    assert_eq!(c.connection.server, "https://[fd00::1]:443");

    // A missing token is named.
    fs::remove_file(sa.path().join("token")).expect("rm");
    let err = ClientConfig::load_in(&ConnectOptions::default(), &env).expect_err("must fail");
    assert!(
        err.to_string()
            .contains(&sa.path().join("token").display().to_string()),
        "{err}"
    );
}

#[test]
fn home_config_is_the_last_resort() {
    let home = tempfile::tempdir().expect("home");
    let err = ClientConfig::load_in(
        &ConnectOptions::default(),
        &Environment {
            home: Some(home.path().to_path_buf()),
            ..bare()
        },
    )
    .expect_err("nothing configured");
    assert!(
        err.to_string()
            .contains(&home.path().join(".kube/config").display().to_string()),
        "{err}"
    );
    let dir = kubeconfig_dir();
    fs::create_dir(home.path().join(".kube")).expect("mkdir");
    fs::copy(
        dir.path().join("kubeconfig"),
        home.path().join(".kube/config"),
    )
    .expect("copy");
    fs::copy(dir.path().join("token"), home.path().join(".kube/token")).expect("copy");
    let opts = ConnectOptions {
        context: Some("by-data".into()),
        ..ConnectOptions::default()
    };
    let c = ClientConfig::load_in(
        &opts,
        &Environment {
            home: Some(home.path().to_path_buf()),
            ..bare()
        },
    )
    .expect("load");
    assert_eq!(c.connection.server, "https://10.4.7.22:6443");
}

#[test]
fn flags_parse_under_upstream_names() {
    use clap::Parser;
    #[derive(Parser)]
    struct Daemon {
        #[command(flatten)]
        master: MasterFlag,
    }
    let d = Daemon::try_parse_from(["d", "--master=https://10.4.7.21:6443"]).expect("parse");
    let o = ConnectOptions::from_flags(Some(Path::new("/etc/k.conf")), &d.master);
    assert_eq!(o.master.as_deref(), Some("https://10.4.7.21:6443"));
    assert_eq!(o.kubeconfig.as_deref(), Some(Path::new("/etc/k.conf")));
    let d = Daemon::try_parse_from(["d", "--master="]).expect("parse");
    assert_eq!(ConnectOptions::from_flags(None, &d.master).master, None);
}

/// The whole stack against a TLS server signed by the configured CA: the
/// request arrives over h2 with the bearer token read from the token file.
#[tokio::test]
async fn bearer_token_from_a_token_file_reaches_the_server() {
    use http_body_util::Full;
    use hyper::body::Bytes;
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use std::pin::Pin;

    let (acceptor, ca, listener, port) = super::transport::test_server::listen().await;
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let ssl = openssl::ssl::Ssl::new(acceptor.context()).expect("ssl");
            let mut tls = tokio_openssl::SslStream::new(ssl, tcp).expect("stream");
            if Pin::new(&mut tls).accept().await.is_err() {
                continue;
            }
            let h2 = tls.ssl().selected_alpn_protocol() == Some(b"h2");
            let service = hyper::service::service_fn(
                move |req: hyper::Request<hyper::body::Incoming>| {
                    let auth = req
                        .headers()
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string();
                    async move {
                        let body = serde_json::json!({
                            "major": "1", "minor": "32", "gitVersion": format!("h2={h2} auth={auth}"),
                            "gitCommit": "", "gitTreeState": "", "buildDate": "", "goVersion": "",
                            "compiler": "", "platform": ""
                        });
                        hyper::Response::builder()
                            .header("content-type", "application/json")
                            .body(Full::new(Bytes::from(body.to_string())))
                    }
                },
            );
            tokio::spawn(
                hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), service)
                    .into_owned(),
            );
        }
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let token = dir.path().join("token");
    fs::write(&token, "secret-token\n").expect("token");
    let config = ClientConfig {
        connection: Connection {
            server: format!("https://127.0.0.1:{port}"),
            tls_server_name: None,
            ca_pem: Some(ca),
            client_cert_pem: None,
            client_key_pem: None,
            token: None,
            namespace: "default".into(),
        },
        token_file: Some(token),
        origin: Origin::MasterOnly,
    };
    let client = config.client().expect("client");
    let info = client.apiserver_version().await.expect("version");
    assert_eq!(info.git_version, "h2=true auth=Bearer secret-token");

    // An inline token (kubeconfig `token`) the same way.
    let inline = ClientConfig {
        connection: Connection {
            token: Some("inline".into()),
            ..config.connection.clone()
        },
        token_file: None,
        ..config
    };
    let info = inline
        .client()
        .expect("client")
        .apiserver_version()
        .await
        .expect("version");
    assert_eq!(info.git_version, "h2=true auth=Bearer inline");
}
