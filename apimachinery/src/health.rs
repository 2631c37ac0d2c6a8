//! The small HTTPS server every daemon runs beside its real work:
//! `/healthz`, `/livez`, `/readyz` (upstream's plain and `?verbose` answers,
//! per-check paths, `?exclude=`) and `/metrics` in Prometheus text format.

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use openssl::ssl::{Ssl, SslAcceptor};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::net::TcpListener;

/// A health check: `Ok` when healthy, otherwise the reason (logged, and
/// shown only with `?verbose`).
pub type Check = Arc<dyn Fn() -> Result<(), String> + Send + Sync>;
/// Produces the daemon's own metrics in Prometheus text format.
pub type MetricsSource = Arc<dyn Fn() -> String + Send + Sync>;

/// The checks behind each endpoint. `ping` is always present, as upstream.
#[derive(Clone, Default)]
pub struct Health {
    livez: Vec<(String, Check)>,
    readyz: Vec<(String, Check)>,
    metrics: Option<MetricsSource>,
}

impl Health {
    pub fn new() -> Self {
        Self::default()
    }
    /// A check that counts for `/livez`, `/readyz` and `/healthz`.
    pub fn with_liveness(mut self, name: &str, check: Check) -> Self {
        self.livez.push((name.to_string(), check));
        self
    }
    /// A check that counts only for `/readyz` and `/healthz`.
    pub fn with_readiness(mut self, name: &str, check: Check) -> Self {
        self.readyz.push((name.to_string(), check));
        self
    }
    pub fn with_metrics(mut self, source: MetricsSource) -> Self {
        self.metrics = Some(source);
        self
    }

    fn checks_for(&self, endpoint: &str) -> Vec<(&str, &Check)> {
        let live = self.livez.iter().map(|(n, c)| (n.as_str(), c));
        match endpoint {
            "livez" => live.collect(),
            _ => live
                .chain(self.readyz.iter().map(|(n, c)| (n.as_str(), c)))
                .collect(),
        }
    }

    /// The answer for one request path and query, as (status, body).
    pub fn answer(&self, path: &str, query: &str) -> (StatusCode, String) {
        let mut parts = path.trim_start_matches('/').splitn(2, '/');
        let endpoint = parts.next().unwrap_or_default();
        let single = parts.next();
        if !matches!(endpoint, "healthz" | "livez" | "readyz") {
            return (StatusCode::NOT_FOUND, "404 page not found\n".to_string());
        }
        let checks = self.checks_for(endpoint);
        if let Some(name) = single {
            if name == "ping" {
                return (StatusCode::OK, "ok".to_string());
            }
            return match checks.iter().find(|(n, _)| *n == name) {
                Some((_, check)) => match check() {
                    Ok(()) => (StatusCode::OK, "ok".to_string()),
                    Err(e) => (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        format!("internal server error: {e}\n"),
                    ),
                },
                None => (StatusCode::NOT_FOUND, "404 page not found\n".to_string()),
            };
        }
        let params: Vec<(&str, &str)> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| p.split_once('=').unwrap_or((p, "")))
            .collect();
        let verbose = params.iter().any(|(k, _)| *k == "verbose");
        let excluded: Vec<&str> = params
            .iter()
            .filter(|(k, _)| *k == "exclude")
            .map(|(_, v)| *v)
            .collect();
        let mut lines = vec!["[+]ping ok".to_string()];
        let mut failed = false;
        for (name, check) in checks {
            if excluded.contains(&name) {
                lines.push(format!("[+]{name} excluded: ok"));
                continue;
            }
            match check() {
                Ok(()) => lines.push(format!("[+]{name} ok")),
                Err(reason) => {
                    failed = true;
                    tracing::warn!(check = name, %reason, "{endpoint} check failed");
                    lines.push(format!(
                        "[-]{name} failed: {}",
                        if verbose {
                            reason.as_str()
                        } else {
                            "reason withheld"
                        }
                    ));
                }
            }
        }
        if failed {
            lines.push(format!("{endpoint} check failed"));
            (StatusCode::INTERNAL_SERVER_ERROR, lines.join("\n") + "\n")
        } else if verbose {
            lines.push(format!("{endpoint} check passed"));
            (StatusCode::OK, lines.join("\n") + "\n")
        } else {
            (StatusCode::OK, "ok".to_string())
        }
    }

    /// Process metrics followed by the daemon's own.
    pub fn metrics_text(&self) -> String {
        let mut out = process_metrics();
        if let Some(m) = &self.metrics {
            out.push_str(&m());
        }
        out
    }
}

fn process_metrics() -> String {
    static START: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    let start = *START.get_or_init(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0)
    });
    let page = 4096.0;
    let rss = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map(|pages| pages * page)
        .unwrap_or(0.0);
    let cpu = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            // Fields after the parenthesised command name; utime and stime are 14 and 15.
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some((f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?) / 100.0)
        })
        .unwrap_or(0.0);
    format!(
        "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n\
         # TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total {cpu}\n\
         # HELP process_resident_memory_bytes Resident memory size in bytes.\n\
         # TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes {rss}\n\
         # HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n\
         # TYPE process_start_time_seconds gauge\nprocess_start_time_seconds {start}\n"
    )
}

type Body = Full<Bytes>;

fn respond(health: &Health, req: &Request<Incoming>) -> Response<Body> {
    let path = req.uri().path();
    let query = req.uri().query().unwrap_or("");
    let (status, body, ctype) = if req.method() != Method::GET && req.method() != Method::HEAD {
        (
            StatusCode::METHOD_NOT_ALLOWED,
            "405 method not allowed\n".to_string(),
            "text/plain; charset=utf-8",
        )
    } else if path == "/metrics" {
        (
            StatusCode::OK,
            health.metrics_text(),
            "text/plain; version=0.0.4; charset=utf-8",
        )
    } else {
        let (s, b) = health.answer(path, query);
        (s, b, "text/plain; charset=utf-8")
    };
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(ctype),
    );
    resp.headers_mut().insert(
        "x-content-type-options",
        hyper::header::HeaderValue::from_static("nosniff"),
    );
    resp
}

/// Serves `health` over TLS on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    acceptor: SslAcceptor,
    health: Arc<Health>,
    shutdown: impl Future<Output = ()> + Send,
) {
    let acceptor = Arc::new(acceptor);
    let mut shutdown: Pin<Box<dyn Future<Output = ()> + Send>> = Box::pin(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => { tracing::warn!(error = %e, "accept failed"); continue; }
            },
        };
        let acceptor = acceptor.clone();
        let health = health.clone();
        tokio::spawn(async move {
            if let Err(e) = serve_connection(tcp, peer, &acceptor, health).await {
                tracing::debug!(%peer, error = %e, "health connection ended with an error");
            }
        });
    }
}

async fn serve_connection(
    tcp: tokio::net::TcpStream,
    _peer: SocketAddr,
    acceptor: &SslAcceptor,
    health: Arc<Health>,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let ssl = Ssl::new(acceptor.context())?;
    let mut stream = tokio_openssl::SslStream::new(ssl, tcp)?;
    Pin::new(&mut stream).accept().await?;
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let resp = respond(&health, &req);
        async move { Ok::<_, std::convert::Infallible>(resp) }
    });
    hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
        .serve_connection(TokioIo::new(stream), service)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::{ServingCert, server_acceptor};
    use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode};
    use std::sync::atomic::{AtomicBool, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn with_flag(flag: Arc<AtomicBool>) -> Health {
        Health::new()
            .with_liveness("log", Arc::new(|| Ok(())))
            .with_readiness(
                "etcd",
                Arc::new(move || {
                    if flag.load(Ordering::SeqCst) {
                        Ok(())
                    } else {
                        Err("etcd unreachable".into())
                    }
                }),
            )
            .with_metrics(Arc::new(|| {
                "# TYPE demo_total counter\ndemo_total 3\n".to_string()
            }))
    }

    #[test]
    fn answers_like_upstream() {
        let flag = Arc::new(AtomicBool::new(true));
        let h = with_flag(flag.clone());
        assert_eq!(h.answer("/healthz", ""), (StatusCode::OK, "ok".into()));
        assert_eq!(
            h.answer("/readyz", "verbose"),
            (
                StatusCode::OK,
                "[+]ping ok\n[+]log ok\n[+]etcd ok\nreadyz check passed\n".into()
            )
        );
        flag.store(false, Ordering::SeqCst);
        assert_eq!(
            h.answer("/readyz", ""),
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "[+]ping ok\n[+]log ok\n[-]etcd failed: reason withheld\nreadyz check failed\n"
                    .into()
            )
        );
        assert_eq!(h.answer("/livez", ""), (StatusCode::OK, "ok".into()));
        assert_eq!(
            h.answer("/readyz", "exclude=etcd"),
            (StatusCode::OK, "ok".into())
        );
        assert_eq!(
            h.answer("/readyz/etcd", "").0,
            StatusCode::INTERNAL_SERVER_ERROR
        );
        assert_eq!(h.answer("/livez/etcd", "").0, StatusCode::NOT_FOUND);
        assert_eq!(h.answer("/nothing", "").0, StatusCode::NOT_FOUND);
        assert!(h.metrics_text().contains("process_resident_memory_bytes "));
        assert!(h.metrics_text().ends_with("demo_total 3\n"));
    }

    async fn get(port: u16, path: &str, ca: &openssl::x509::X509) -> String {
        let mut b = SslConnector::builder(SslMethod::tls_client()).unwrap();
        b.cert_store_mut().add_cert(ca.clone()).unwrap();
        b.set_verify(SslVerifyMode::PEER);
        let cfg = b.build().configure().unwrap();
        let ssl = cfg.into_ssl("localhost").unwrap();
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        let mut s = tokio_openssl::SslStream::new(ssl, tcp).unwrap();
        Pin::new(&mut s).connect().await.unwrap();
        s.write_all(
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.ok();
        out
    }

    #[tokio::test]
    async fn serves_over_tls() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = crate::tls::self_signed(&["localhost".into()]).unwrap();
        let (cert_path, key_path) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
        std::fs::write(&cert_path, cert.to_pem().unwrap()).unwrap();
        std::fs::write(&key_path, key.private_key_to_pem_pkcs8().unwrap()).unwrap();
        let acceptor = server_acceptor(
            &ServingCert::Files {
                cert: cert_path,
                key: key_path,
            },
            None,
        )
        .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let flag = Arc::new(AtomicBool::new(false));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(
            listener,
            acceptor,
            Arc::new(with_flag(flag)),
            async {
                rx.await.ok();
            },
        ));
        let livez = get(port, "/livez", &cert).await;
        assert!(livez.starts_with("HTTP/1.1 200"), "{livez}");
        assert!(livez.ends_with("ok"), "{livez}");
        let readyz = get(port, "/readyz?verbose", &cert).await;
        assert!(readyz.starts_with("HTTP/1.1 500"), "{readyz}");
        assert!(
            readyz.contains("[-]etcd failed: etcd unreachable"),
            "{readyz}"
        );
        let metrics = get(port, "/metrics", &cert).await;
        assert!(metrics.contains("demo_total 3"), "{metrics}");
        tx.send(()).unwrap();
        server.await.unwrap();
    }
}
