//! The gRPC channel to etcd: mutual TLS through openssl on sockets with
//! TCP_NODELAY. (etcd-client's own openssl transport leaves Nagle's
//! algorithm on; a request written as several TLS records then waits for
//! etcd's delayed ACK, about 40 ms per call.) Several `--etcd-servers` are
//! used in order: a transport failure moves later calls to the next one.

use hyper_openssl::client::legacy::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use openssl::pkey::PKey;
use openssl::ssl::{SslConnector, SslConnectorBuilder, SslMethod};
use openssl::x509::X509;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tonic::transport::{Channel, Endpoint};
use tower::util::BoxCloneSyncService;

type Request = http::Request<tonic::body::Body>;
type Response = http::Response<tonic::body::Body>;

/// PEM material of the etcd client identity.
#[derive(Clone)]
pub struct TlsFiles {
    pub ca: Vec<u8>,
    pub cert: Vec<u8>,
    pub key: Vec<u8>,
}

/// An openssl client: trusts the etcd CA, presents the client certificate,
/// speaks HTTP/2 (gRPC) by ALPN.
fn tls_builder(tls: &TlsFiles) -> anyhow::Result<SslConnectorBuilder> {
    let mut b = SslConnector::builder(SslMethod::tls_client())?;
    for ca in X509::stack_from_pem(&tls.ca)? {
        b.cert_store_mut().add_cert(ca)?;
    }
    let mut chain = X509::stack_from_pem(&tls.cert)?.into_iter();
    let leaf = chain
        .next()
        .ok_or_else(|| anyhow::anyhow!("--etcd-certfile holds no certificate"))?;
    b.set_certificate(&leaf)?;
    for extra in chain {
        b.add_extra_chain_cert(extra)?;
    }
    let key = PKey::private_key_from_pem(&tls.key)?;
    b.set_private_key(&key)?;
    b.check_private_key()?;
    b.set_alpn_protos(b"\x02h2")?;
    Ok(b)
}

/// etcd-client's channel over `endpoints`, built here instead of by the
/// client library.
pub struct NoDelayChannels {
    pub tls: TlsFiles,
}

impl etcd_client::BalancedChannelBuilder for NoDelayChannels {
    type Error = etcd_client::Error;

    fn balanced_channel(
        self,
        _buffer: usize,
    ) -> Result<
        (
            etcd_client::Channel,
            tokio::sync::mpsc::Sender<tonic::transport::channel::Change<http::Uri, Endpoint>>,
        ),
        Self::Error,
    > {
        // The client announces each endpoint on this sender; the channels
        // are made once the announcements are in.
        let (tx, mut rx) = tokio::sync::mpsc::channel::<
            tonic::transport::channel::Change<http::Uri, Endpoint>,
        >(64);
        let shared = Arc::new(std::sync::Mutex::new(Vec::<Channel>::new()));
        let tls = self.tls;
        let current = Arc::new(AtomicUsize::new(0));
        let sink = shared.clone();
        tokio::spawn(async move {
            while let Some(change) = rx.recv().await {
                if let tonic::transport::channel::Change::Insert(uri, _) = change {
                    match connect(&uri.to_string(), &tls) {
                        Ok(ch) => {
                            if let Ok(mut v) = sink.lock() {
                                v.push(ch);
                            }
                        }
                        Err(e) => tracing::error!("etcd endpoint {uri}: {e}"),
                    }
                }
            }
        });
        let svc = Lazy {
            shared,
            current,
            local: Vec::new(),
            readied: None,
        };
        Ok((
            etcd_client::Channel::Custom(BoxCloneSyncService::new(svc)),
            tx,
        ))
    }
}

fn connect(url: &str, tls: &TlsFiles) -> anyhow::Result<Channel> {
    let builder = tls_builder(tls)?;
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(Duration::from_secs(2)));
    let connector = HttpsConnector::with_connector(http, builder)?;
    let endpoint = Endpoint::from_shared(url.to_string())?
        .tcp_nodelay(true)
        .http2_keep_alive_interval(Duration::from_secs(5))
        .keep_alive_timeout(Duration::from_secs(3))
        .keep_alive_while_idle(true);
    Ok(endpoint.connect_with_connector_lazy(connector))
}

/// The channels, one per endpoint, once the client announced them;
/// `current` names the one in use. Each clone readies and calls the same
/// channel (tonic channels are buffers: `call` must follow `poll_ready` on
/// the same handle).
#[derive(Clone)]
struct Lazy {
    shared: Arc<std::sync::Mutex<Vec<Channel>>>,
    current: Arc<AtomicUsize>,
    local: Vec<Channel>,
    readied: Option<usize>,
}

impl tower::Service<Request> for Lazy {
    type Response = Response;
    type Error = tower::BoxError;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Response, tower::BoxError>> + Send>,
    >;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        if self.local.is_empty() {
            if let Ok(v) = self.shared.lock() {
                self.local = v.clone();
            }
            if self.local.is_empty() {
                // The endpoints are still being announced (start-up only).
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
        }
        let i = self.current.load(Ordering::Relaxed) % self.local.len();
        let r = tower::Service::poll_ready(&mut self.local[i], cx).map_err(Into::into);
        if let Poll::Ready(Ok(())) = r {
            self.readied = Some(i);
        }
        r
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let Some(i) = self.readied.take() else {
            return Box::pin(async { Err("etcd channel called before it was ready".into()) });
        };
        let n = self.local.len();
        let fut = tower::Service::call(&mut self.local[i], req);
        let current = self.current.clone();
        Box::pin(async move {
            match fut.await {
                Ok(r) => Ok(r),
                Err(e) => {
                    // The endpoint is unreachable: later calls try the next one.
                    let _ = current.compare_exchange(
                        i,
                        (i + 1) % n,
                        Ordering::Relaxed,
                        Ordering::Relaxed,
                    );
                    Err(e.into())
                }
            }
        })
    }
}
