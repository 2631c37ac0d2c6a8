//! The HTTPS listener: TLS with ALPN (h2, http/1.1), client certificates
//! verified against `--client-ca-file`, one hyper connection per socket,
//! graceful shutdown.

use crate::authn::{self, UserInfo};
use crate::handlers::{self, AppState};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use openssl::ssl::{Ssl, SslAcceptor};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_openssl::SslStream;

/// Serves until `shutdown` flips to true, then lets open requests finish
/// (up to a grace period).
pub async fn serve(
    listener: TcpListener,
    acceptor: Arc<SslAcceptor>,
    state: Arc<AppState>,
    mut shutdown: watch::Receiver<bool>,
) {
    let (conn_done_tx, mut conn_done_rx) = tokio::sync::mpsc::channel::<()>(1);
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.changed() => break,
        };
        let (tcp, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!("accept: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let state = state.clone();
        let shutdown = shutdown.clone();
        let done = conn_done_tx.clone();
        tokio::spawn(async move {
            serve_conn(tcp, peer, acceptor, state, shutdown).await;
            drop(done);
        });
    }
    drop(conn_done_tx);
    // Wait for connections to drain, but not forever (watches are long).
    let _ = tokio::time::timeout(Duration::from_secs(5), conn_done_rx.recv()).await;
}

async fn serve_conn(
    tcp: tokio::net::TcpStream,
    peer: SocketAddr,
    acceptor: Arc<SslAcceptor>,
    state: Arc<AppState>,
    mut shutdown: watch::Receiver<bool>,
) {
    let ssl = match Ssl::new(acceptor.context()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("tls setup for {peer}: {e}");
            return;
        }
    };
    let mut stream = match SslStream::new(ssl, tcp) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("tls setup for {peer}: {e}");
            return;
        }
    };
    let handshake =
        tokio::time::timeout(Duration::from_secs(10), Pin::new(&mut stream).accept()).await;
    match handshake {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            tracing::debug!("tls handshake with {peer}: {e}");
            return;
        }
        Err(_) => return,
    }
    // The handshake verified the chain; the certificate's subject is the user.
    let cert_user: Option<UserInfo> = stream
        .ssl()
        .peer_certificate()
        .and_then(|c| authn::from_certificate(&c));
    let service = service_fn(move |mut req: http::Request<hyper::body::Incoming>| {
        // The peer address reaches the audit log's sourceIPs.
        req.extensions_mut().insert(peer);
        handlers::handle(state.clone(), cert_user.clone(), req)
    });
    let builder = auto::Builder::new(TokioExecutor::new());
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        r = conn.as_mut() => {
            if let Err(e) = r {
                tracing::debug!("connection {peer}: {e}");
            }
        }
        _ = shutdown.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(Duration::from_secs(5), conn.as_mut()).await;
        }
    }
}
