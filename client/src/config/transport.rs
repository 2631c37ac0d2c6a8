//! The transport under every `kube::Client` this crate builds: OpenSSL
//! (the kubeconfig's CA only, the client certificate, ALPN h2 then
//! http/1.1) with TLS session resumption on reconnect.
//!
//! kube-rs supplies the request layers (base URI, bearer tokens); this
//! module only dials. HTTP/2 puts nearly every request and watch on one
//! connection, so resumption matters when that connection is re-opened
//! (apiserver restart, network blip): the reconnect skips the full
//! handshake, as client-go's does.

use hyper::Uri;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::TokioIo;
use openssl::ssl::{SslConnector, SslSession};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_openssl::SslStream;

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How long a TCP connect plus TLS handshake may take, as kube-rs's
/// default connect timeout: a silent address must not hang a daemon.
const DIAL_TIMEOUT: Duration = Duration::from_secs(30);

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
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl Write for TlsStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
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

impl Connector {
    /// A connector over `tls` (built from the kubeconfig's CA and client
    /// certificate) that checks `server_name` when given, else the host.
    pub fn new(tls: SslConnector, server_name: Option<String>) -> Connector {
        Connector {
            tls: Arc::new(tls),
            server_name,
            session: Arc::default(),
        }
    }

    async fn dial(self, uri: Uri) -> Result<TlsStream, BoxError> {
        if uri.scheme_str() != Some("https") {
            return Err(format!("refusing {uri}: the apiserver is reached over https only").into());
        }
        let host = uri
            .host()
            .ok_or("apiserver URL has no host")?
            .trim_matches(['[', ']'])
            .to_string();
        let port = uri.port_u16().unwrap_or(443);
        let tcp = TcpStream::connect((host.as_str(), port)).await?;
        tcp.set_nodelay(true)?;
        let mut config = self.tls.configure()?;
        let previous = self.session.lock().ok().and_then(|s| s.clone());
        if let Some(session) = previous {
            // SAFETY: the session was negotiated by an SSL object made
            // from this same connector's context, which OpenSSL
            // requires of `SSL_set_session`.
            unsafe { config.set_session(&session)? };
        }
        let name = self.server_name.as_deref().unwrap_or(&host);
        let ssl = config.into_ssl(name)?;
        let mut stream = SslStream::new(ssl, tcp)?;
        Pin::new(&mut stream).connect().await?;
        let stream = TlsStream {
            io: TokioIo::new(stream),
            session: self.session.clone(),
        };
        stream.remember_session();
        Ok(stream)
    }
}

impl tower::Service<Uri> for Connector {
    type Response = TlsStream;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<TlsStream, BoxError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let shown = uri.to_string();
            match tokio::time::timeout(DIAL_TIMEOUT, this.dial(uri)).await {
                Ok(result) => result,
                Err(_) => {
                    Err(format!("connecting to {shown} timed out after {DIAL_TIMEOUT:?}").into())
                }
            }
        })
    }
}

#[cfg(test)]
pub(crate) mod test_server {
    use apimachinery::tls::{ServingCert, server_acceptor};
    use openssl::ssl::SslAcceptor;
    use tokio::net::TcpListener;

    /// A loopback TLS listener with a fresh self-signed certificate for
    /// 127.0.0.1: (acceptor, its certificate in PEM, listener, port).
    pub(crate) async fn listen() -> (SslAcceptor, Vec<u8>, TcpListener, u16) {
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
        (acceptor, cert, listener, port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use apimachinery::kubeconfig::Connection as KubeConnection;
    use apimachinery::tls::client_connector;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tower::ServiceExt;

    /// The second dial resumes the first connection's TLS session.
    #[tokio::test]
    async fn reconnect_resumes_the_session() {
        let (acceptor, cert, listener, port) = super::test_server::listen().await;
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
        let connector = Connector::new(client_connector(&conn, true).expect("tls"), None);
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

    /// A server whose certificate the kubeconfig's CA did not sign is
    /// refused: there is no way to skip verification.
    #[tokio::test]
    async fn an_unknown_server_certificate_is_refused() {
        let (acceptor, _, listener, port) = super::test_server::listen().await;
        let (other, _) = apimachinery::tls::self_signed(&["127.0.0.1".into()]).expect("other");
        tokio::spawn(async move {
            if let Ok((tcp, _)) = listener.accept().await {
                let ssl = openssl::ssl::Ssl::new(acceptor.context()).expect("ssl");
                let mut tls = SslStream::new(ssl, tcp).expect("stream");
                let _ = Pin::new(&mut tls).accept().await;
            }
        });
        let conn = KubeConnection {
            server: format!("https://127.0.0.1:{port}"),
            tls_server_name: None,
            ca_pem: Some(other.to_pem().expect("pem")),
            client_cert_pem: None,
            client_key_pem: None,
            token: None,
            namespace: "default".into(),
        };
        let connector = Connector::new(client_connector(&conn, true).expect("tls"), None);
        let uri: Uri = conn.server.parse().expect("uri");
        let err = connector.oneshot(uri).await.err().expect("must fail");
        assert!(
            err.to_string().contains("certificate verify failed"),
            "{err}"
        );
    }
}
