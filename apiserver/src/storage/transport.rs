//! The TLS transport to etcd.
//!
//! etcd-client's own openssl transport dials with Nagle's algorithm left on,
//! so every gRPC call (a HEADERS frame then a DATA frame) waits for the
//! peer's delayed ACK: about 40 ms per request on Linux. This transport is
//! the same mutual-TLS connection with `TCP_NODELAY` set, balanced over all
//! `--etcd-servers` like etcd-client's own.

use etcd_client::{BalancedChannelBuilder, Channel, Client, ConnectOptions};
use http::Uri;
use hyper_openssl::client::legacy::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use openssl::pkey::PKey;
use openssl::ssl::{SslConnector, SslMethod};
use openssl::x509::X509;
use std::convert::Infallible;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Endpoint;
use tonic::transport::channel::Change as EndpointChange;
use tower::balance::p2c::Balance;
use tower::buffer::Buffer;
use tower::discover::Change;
use tower::load::{CompleteOnResponse, PendingRequestsDiscover};
use tower::util::BoxCloneSyncService;

/// PEM material for the apiserver's etcd client identity.
pub struct EtcdTls<'a> {
    pub ca: &'a [u8],
    pub cert: &'a [u8],
    pub key: &'a [u8],
}

/// Connects to `servers` (https URLs) over mutual TLS with `TCP_NODELAY`.
pub async fn connect(
    servers: &[String],
    tls: EtcdTls<'_>,
    options: ConnectOptions,
) -> anyhow::Result<Client> {
    let connector = https_connector(&tls)?;
    Ok(
        Client::connect_with_balanced_channel(servers, Some(options), NoDelayTls { connector })
            .await?,
    )
}

fn https_connector(tls: &EtcdTls<'_>) -> anyhow::Result<HttpsConnector<HttpConnector>> {
    let mut ssl = SslConnector::builder(SslMethod::tls_client())?;
    for ca in X509::stack_from_pem(tls.ca)? {
        ssl.cert_store_mut().add_cert(ca)?;
    }
    let mut chain = X509::stack_from_pem(tls.cert)?.into_iter();
    let leaf = chain
        .next()
        .ok_or_else(|| anyhow::anyhow!("--etcd-certfile holds no certificate"))?;
    ssl.set_certificate(&leaf)?;
    for extra in chain {
        ssl.add_extra_chain_cert(extra)?;
    }
    let key = PKey::private_key_from_pem(tls.key)?;
    ssl.set_private_key(&key)?;
    ssl.check_private_key()?;
    // gRPC needs HTTP/2 negotiated by ALPN.
    ssl.set_alpn_protos(b"\x02h2")?;
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    Ok(HttpsConnector::with_connector(http, ssl)?)
}

struct NoDelayTls {
    connector: HttpsConnector<HttpConnector>,
}

type GrpcRequest = http::Request<tonic::body::Body>;

impl BalancedChannelBuilder for NoDelayTls {
    type Error = etcd_client::Error;

    fn balanced_channel(
        self,
        buffer_size: usize,
    ) -> Result<(Channel, mpsc::Sender<EndpointChange<Uri, Endpoint>>), Self::Error> {
        let (updates, mut incoming) = mpsc::channel::<EndpointChange<Uri, Endpoint>>(16);
        let (changes, discovered) = mpsc::channel(16);
        let connector = self.connector;
        tokio::spawn(async move {
            while let Some(update) = incoming.recv().await {
                let change = match update {
                    EndpointChange::Insert(uri, endpoint) => {
                        Change::Insert(uri, endpoint.connect_with_connector_lazy(connector.clone()))
                    }
                    EndpointChange::Remove(uri) => Change::Remove(uri),
                };
                if changes.send(Ok::<_, Infallible>(change)).await.is_err() {
                    return;
                }
            }
        });
        let discover = PendingRequestsDiscover::new(
            ReceiverStream::new(discovered),
            CompleteOnResponse::default(),
        );
        let balanced: Balance<_, GrpcRequest> = Balance::new(discover);
        let buffered = Buffer::new(balanced, buffer_size);
        Ok((Channel::Custom(BoxCloneSyncService::new(buffered)), updates))
    }
}
