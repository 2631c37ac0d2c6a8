//! The apiserver client: kube-rs over apimachinery's OpenSSL client
//! connector (the kubeconfig's CA only, the client certificate, ALPN h2
//! then http/1.1), with TLS session resumption on reconnect.
//!
//! kube-rs supplies the request layers (base URI, bearer tokens); this
//! module only dials. HTTP/2 puts nearly every request and watch on one
//! connection, so resumption matters when that connection is re-opened
//! (apiserver restart, network blip): the reconnect skips the full
//! handshake, as client-go's does.

use anyhow::{Context, Result};
use apimachinery::kubeconfig::{Connection as KubeConnection, load_connection};
use apimachinery::tls::client_connector;
use hyper::Uri;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::{TokioExecutor, TokioIo};
use kube::client::ConfigExt;
use openssl::ssl::{SslConnector, SslSession};
use std::future::Future;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};
use tokio::net::TcpStream;
use tokio_openssl::SslStream;
use tower::ServiceExt;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The last session a connection to the apiserver established.
type SessionSlot = Arc<Mutex<Option<SslSession>>>;

/// A TLS connection that tells hyper whether h2 was negotiated and keeps
/// its session for the next dial when it closes (TLS 1.3 tickets arrive
/// after the handshake, so the session is complete only later).
pub struct TlsStream {
    io: TokioIo<SslStream<TcpStream>>,
    session: SessionSlot,
}

impl TlsStream {
    fn remember_session(&self) {
        if let (Some(s), Ok(mut slot)) = (self.io.inner().ssl().session(), self.session.lock()) {
            *slot = Some(s.to_owned());
        }
    }
}

impl Drop for TlsStream {
    fn drop(&mut self) {
        self.remember_session();
    }
}

impl Read for TlsStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl Write for TlsStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

impl Connection for TlsStream {
    fn connected(&self) -> Connected {
        let c = Connected::new();
        if self.io.inner().ssl().selected_alpn_protocol() == Some(b"h2") {
            c.negotiated_h2()
        } else {
            c
        }
    }
}

/// Dials `https://host:port`, offering the previous session.
#[derive(Clone)]
pub struct Connector {
    tls: Arc<SslConnector>,
    /// The kubeconfig's `tls-server-name`, checked instead of the host.
    server_name: Option<String>,
    session: SessionSlot,
}

impl tower::Service<Uri> for Connector {
    type Response = TlsStream;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<TlsStream, BoxError>> + Send>>;

    fn poll_ready(&mut self, _: &mut TaskContext<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let host = uri
                .host()
                .ok_or("apiserver URL has no host")?
                .trim_matches(['[', ']'])
                .to_string();
            let port = uri.port_u16().unwrap_or(443);
            let tcp = TcpStream::connect((host.as_str(), port)).await?;
            tcp.set_nodelay(true)?;
            let mut config = this.tls.configure()?;
            let previous = this.session.lock().ok().and_then(|s| s.clone());
            if let Some(session) = previous {
                // SAFETY: the session was negotiated by an SSL object made
                // from this same connector's context, which OpenSSL
                // requires of `SSL_set_session`.
                unsafe { config.set_session(&session)? };
            }
            let name = this.server_name.as_deref().unwrap_or(&host);
            let ssl = config.into_ssl(name)?;
            let mut stream = SslStream::new(ssl, tcp)?;
            Pin::new(&mut stream).connect().await?;
            let stream = TlsStream {
                io: TokioIo::new(stream),
                session: this.session.clone(),
            };
            stream.remember_session();
            Ok(stream)
        })
    }
}

/// The in-cluster connection: the service account's CA (the token is
/// added by kube's auth layer).
fn in_cluster(config: &kube::Config) -> Result<KubeConnection> {
    const CA: &str = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
    Ok(KubeConnection {
        server: config.cluster_url.to_string(),
        tls_server_name: config.tls_server_name.clone(),
        ca_pem: Some(std::fs::read(CA).with_context(|| format!("cannot read {CA}"))?),
        client_cert_pem: None,
        client_key_pem: None,
        token: None,
        namespace: config.default_namespace.clone(),
    })
}

/// A kube client for `kubeconfig` (or the in-cluster configuration).
pub async fn connect(kubeconfig: Option<&Path>) -> Result<kube::Client> {
    let (config, conn) = match kubeconfig {
        Some(path) => {
            let kc = kube::config::Kubeconfig::read_from(path)
                .with_context(|| format!("cannot read kubeconfig {}", path.display()))?;
            let config = kube::Config::from_custom_kubeconfig(
                kc,
                &kube::config::KubeConfigOptions::default(),
            )
            .await
            .with_context(|| format!("invalid kubeconfig {}", path.display()))?;
            let conn = load_connection(path)
                .with_context(|| format!("invalid kubeconfig {}", path.display()))?;
            (config, conn)
        }
        None => {
            let config = kube::Config::infer()
                .await
                .context("no --kubeconfig and no in-cluster configuration")?;
            let conn = in_cluster(&config)?;
            (config, conn)
        }
    };
    let connector = Connector {
        tls: Arc::new(client_connector(&conn, true).context("TLS client setup")?),
        server_name: conn.tls_server_name.clone(),
        session: Arc::default(),
    };
    let http = hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build(connector);
    let service = tower::ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(config.auth_layer().context("client authentication setup")?)
        .service(http.map_err(|e| -> BoxError { Box::new(e) }));
    Ok(kube::Client::new(service, config.default_namespace))
}

#[cfg(test)]
mod tests {
    use super::*;
    use apimachinery::tls::{ServingCert, server_acceptor};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// The second dial resumes the first connection's TLS session.
    #[tokio::test]
    async fn reconnect_resumes_the_session() {
        let acceptor = server_acceptor(
            &ServingCert::SelfSigned {
                hosts: vec!["127.0.0.1".into()],
            },
            None,
        )
        .expect("acceptor");
        let cert = acceptor
            .context()
            .certificate()
            .expect("certificate")
            .to_pem()
            .expect("pem");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let server = tokio::spawn(async move {
            let mut reused = Vec::new();
            for _ in 0..2 {
                let (tcp, _) = listener.accept().await.expect("accept");
                let ssl = openssl::ssl::Ssl::new(acceptor.context()).expect("ssl");
                let mut tls = SslStream::new(ssl, tcp).expect("stream");
                Pin::new(&mut tls).accept().await.expect("handshake");
                reused.push(tls.ssl().session_reused());
                tls.write_all(b"x").await.expect("write");
                let mut rest = Vec::new();
                let _ = tls.read_to_end(&mut rest).await;
            }
            reused
        });
        let conn = KubeConnection {
            server: format!("https://127.0.0.1:{port}"),
            tls_server_name: None,
            ca_pem: Some(cert),
            client_cert_pem: None,
            client_key_pem: None,
            token: None,
            namespace: "default".into(),
        };
        let connector = Connector {
            tls: Arc::new(client_connector(&conn, true).expect("connector")),
            server_name: None,
            session: Arc::default(),
        };
        let uri: Uri = conn.server.parse().expect("uri");
        for _ in 0..2 {
            let mut stream = connector.clone().oneshot(uri.clone()).await.expect("dial");
            // Reading lets the client take in the TLS 1.3 session ticket.
            let mut byte = [0u8; 1];
            stream
                .io
                .inner_mut()
                .read_exact(&mut byte)
                .await
                .expect("read");
            let _ = stream.io.inner_mut().shutdown().await;
        }
        assert_eq!(server.await.expect("server"), vec![false, true]);
    }
}
