//! The HTTPS call to one webhook: TLS verified against the webhook's
//! `caBundle` (or the system roots without one) and the server name the
//! configuration implies (the URL host, or `<service>.<namespace>.svc`),
//! one POST of the AdmissionReview, bounded by `timeoutSeconds`. There is
//! no way to skip verification.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use openssl::ssl::{SslConnector, SslMethod};
use openssl::x509::X509;
use std::pin::Pin;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_openssl::SslStream;

/// Where to send the review.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// What the certificate must name.
    pub server_name: String,
    /// Where to connect (host or IP, port).
    pub address: (String, u16),
    /// Path and query.
    pub path: String,
    /// The URL shown in errors (upstream's `Post "<url>": ...`).
    pub url: String,
}

/// Why the call failed (the failure policy decides what that means).
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("Post \"{url}\": {why}")]
    Transport { url: String, why: String },
    #[error("Post \"{url}\": context deadline exceeded")]
    Timeout { url: String },
    #[error("{0}")]
    BadResponse(String),
}

impl Target {
    /// A `clientConfig.url` target.
    pub fn from_url(url: &str) -> Result<Target, CallError> {
        let bad = |why: &str| CallError::Transport {
            url: url.to_string(),
            why: why.to_string(),
        };
        let uri: http::Uri = url.parse().map_err(|_| bad("invalid URL"))?;
        if uri.scheme_str() != Some("https") {
            return Err(bad("'https' is the only allowed URL scheme"));
        }
        let host = uri.host().ok_or_else(|| bad("no host"))?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        Ok(Target {
            server_name: host.clone(),
            address: (host, uri.port_u16().unwrap_or(443)),
            path: uri
                .path_and_query()
                .map(|p| p.to_string())
                .unwrap_or_else(|| "/".into()),
            url: url.to_string(),
        })
    }
}

fn connector(ca_bundle: Option<&[u8]>) -> Result<SslConnector, openssl::error::ErrorStack> {
    let mut b = SslConnector::builder(SslMethod::tls_client())?;
    match ca_bundle.filter(|c| !c.is_empty()) {
        Some(pem) => {
            for cert in X509::stack_from_pem(pem)? {
                b.cert_store_mut().add_cert(cert)?;
            }
        }
        None => b.set_default_verify_paths()?,
    }
    Ok(b.build())
}

/// POSTs `body` (JSON) and returns the response body.
pub async fn post(
    target: &Target,
    ca_bundle: Option<&[u8]>,
    body: Vec<u8>,
    timeout: Duration,
) -> Result<Vec<u8>, CallError> {
    match tokio::time::timeout(timeout, post_inner(target, ca_bundle, body)).await {
        Ok(r) => r,
        Err(_) => Err(CallError::Timeout {
            url: target.url.clone(),
        }),
    }
}

async fn post_inner(
    target: &Target,
    ca_bundle: Option<&[u8]>,
    body: Vec<u8>,
) -> Result<Vec<u8>, CallError> {
    let fail = |why: String| CallError::Transport {
        url: target.url.clone(),
        why,
    };
    let tcp = TcpStream::connect((target.address.0.as_str(), target.address.1))
        .await
        .map_err(|e| {
            fail(format!(
                "dial tcp {}:{}: {e}",
                target.address.0, target.address.1
            ))
        })?;
    let ssl = connector(ca_bundle)
        .and_then(|c| c.configure())
        .and_then(|c| c.into_ssl(&target.server_name))
        .map_err(|e| fail(format!("tls: {e}")))?;
    let mut tls = SslStream::new(ssl, tcp).map_err(|e| fail(format!("tls: {e}")))?;
    Pin::new(&mut tls)
        .connect()
        .await
        .map_err(|e| fail(format!("tls: failed to verify certificate: {e}")))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .map_err(|e| fail(e.to_string()))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let req = http::Request::post(&target.path)
        .header(http::header::HOST, &target.server_name)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::ACCEPT, "application/json")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| fail(e.to_string()))?;
    let resp = sender
        .send_request(req)
        .await
        .map_err(|e| fail(e.to_string()))?;
    let status = resp.status();
    let bytes = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| fail(e.to_string()))?
        .to_bytes();
    if !status.is_success() {
        return Err(CallError::BadResponse(format!(
            "received invalid webhook response: HTTP {}",
            status.as_u16()
        )));
    }
    Ok(bytes.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_targets() {
        let t = Target::from_url("https://127.0.0.1:8443/validate?x=1").expect("valid");
        assert_eq!(t.address, ("127.0.0.1".to_string(), 8443));
        assert_eq!(t.server_name, "127.0.0.1");
        assert_eq!(t.path, "/validate?x=1");
        let t = Target::from_url("https://hook.example.com").expect("valid");
        assert_eq!(t.address.1, 443);
        assert_eq!(t.path, "/");
        assert!(Target::from_url("http://hook.example.com/").is_err());
    }
}
