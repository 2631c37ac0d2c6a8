//! An HTTP/2 client for the apiserver that benchmarks and load tests use:
//! one TLS connection (client certificate from a kubeconfig), many
//! concurrent streams, as client-go does.

use apimachinery::kubeconfig::load_connection;
use apimachinery::tls::client_connector;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http2::SendRequest;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::path::Path;
use std::pin::Pin;

#[derive(Clone)]
pub struct ApiClient {
    sender: SendRequest<Full<Bytes>>,
    authority: String,
}

impl ApiClient {
    /// Connects to the kubeconfig's server as its user, over HTTP/2.
    pub async fn connect(kubeconfig: &Path) -> anyhow::Result<ApiClient> {
        let conn = load_connection(kubeconfig)?;
        let connector = client_connector(&conn, true)?;
        let url: hyper::Uri = conn.server.parse()?;
        let host = url
            .host()
            .ok_or_else(|| anyhow::anyhow!("server URL has no host"))?
            .to_string();
        let port = url.port_u16().unwrap_or(443);
        let tcp = tokio::net::TcpStream::connect((host.as_str(), port)).await?;
        tcp.set_nodelay(true)?;
        let ssl = connector.configure()?.into_ssl(&host)?;
        let mut tls = tokio_openssl::SslStream::new(ssl, tcp)?;
        Pin::new(&mut tls).connect().await?;
        let (sender, connection) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls)).await?;
        tokio::spawn(connection);
        Ok(ApiClient {
            sender,
            authority: format!("{host}:{port}"),
        })
    }

    /// Sends a request; returns the status and the response with its body
    /// unread (for watches).
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> anyhow::Result<Response<Incoming>> {
        let mut req = Request::builder()
            .method(method)
            .uri(format!("https://{}{}", self.authority, path))
            .header("accept", "application/json");
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        let req = req.body(Full::new(Bytes::from(body.unwrap_or_default())))?;
        let mut sender = self.sender.clone();
        sender.ready().await?;
        Ok(sender.send_request(req).await?)
    }

    /// Sends a request and reads the whole body: (status code, body).
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> anyhow::Result<(u16, Bytes)> {
        let resp = self.send(method, path, body).await?;
        let status = resp.status().as_u16();
        let bytes = resp.into_body().collect().await?.to_bytes();
        Ok((status, bytes))
    }
}
