//! The apiserver client: kube-rs over our own OpenSSL connector (the
//! kubeconfig's CA and client certificate, ALPN h2 then http/1.1).
//!
//! The connector keeps no TLS session cache, so every new connection does
//! a full handshake: the scheduler does not depend on the server accepting
//! resumed sessions (kube-apiserver builds before it set a session id
//! context answered resumption with a TLS "internal error" alert). With
//! HTTP/2 nearly everything shares one connection anyway.

use anyhow::{Context, Result};
use hyper::Uri;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::{TokioExecutor, TokioIo};
use kube::client::ConfigExt;
use openssl::ssl::SslConnector;
use std::future::Future;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use tokio::net::TcpStream;
use tokio_openssl::SslStream;
use tower::ServiceExt;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A TLS connection that tells hyper whether h2 was negotiated.
pub struct TlsStream(TokioIo<SslStream<TcpStream>>);

impl Read for TlsStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl Write for TlsStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl Connection for TlsStream {
    fn connected(&self) -> Connected {
        let c = Connected::new();
        if self.0.inner().ssl().selected_alpn_protocol() == Some(b"h2") {
            c.negotiated_h2()
        } else {
            c
        }
    }
}

/// Dials `https://host:port` with a fresh handshake each time.
#[derive(Clone)]
pub struct Connector {
    tls: Arc<SslConnector>,
}

impl tower::Service<Uri> for Connector {
    type Response = TlsStream;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<TlsStream, BoxError>> + Send>>;

    fn poll_ready(&mut self, _: &mut TaskContext<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let tls = self.tls.clone();
        Box::pin(async move {
            let host = uri
                .host()
                .ok_or("apiserver URL has no host")?
                .trim_matches(['[', ']'])
                .to_string();
            let port = uri.port_u16().unwrap_or(443);
            let tcp = TcpStream::connect((host.as_str(), port)).await?;
            tcp.set_nodelay(true)?;
            let ssl = tls.configure()?.into_ssl(&host)?;
            let mut stream = SslStream::new(ssl, tcp)?;
            Pin::new(&mut stream).connect().await?;
            Ok(TlsStream(TokioIo::new(stream)))
        })
    }
}

/// A kube client for `kubeconfig` (or the in-cluster configuration).
pub async fn connect(kubeconfig: Option<&Path>) -> Result<kube::Client> {
    let config = match kubeconfig {
        Some(path) => {
            let kc = kube::config::Kubeconfig::read_from(path)
                .with_context(|| format!("cannot read kubeconfig {}", path.display()))?;
            kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
                .await
                .with_context(|| format!("invalid kubeconfig {}", path.display()))?
        }
        None => kube::Config::infer()
            .await
            .context("no --kubeconfig and no in-cluster configuration")?,
    };
    let mut builder = config
        .openssl_ssl_connector_builder()
        .context("TLS client setup")?;
    builder
        .set_alpn_protos(b"\x02h2\x08http/1.1")
        .context("TLS ALPN setup")?;
    let connector = Connector {
        tls: Arc::new(builder.build()),
    };
    let http = hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build(connector);
    let service = tower::ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(config.auth_layer().context("client authentication setup")?)
        .service(http.map_err(|e| -> BoxError { Box::new(e) }));
    Ok(kube::Client::new(service, config.default_namespace))
}
