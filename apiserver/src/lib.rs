//! kube-apiserver: the etcd-backed Kubernetes REST API.
//!
//! Map: `server` (TLS listener) → `handlers` (authn, authz, routing,
//! encoding) → `registry` (one generic store + per-kind strategies) →
//! `storage` (etcd). `resources` is the table that drives routing and
//! discovery; `bootstrap` creates what must always exist.

pub mod admission;
pub mod allocator;
pub mod apiextensions;
pub mod audit;
pub mod authn;
pub mod authz;
pub mod bootstrap;
pub mod defaults;
pub mod discovery;
pub mod handlers;
pub mod issuer_discovery;
pub mod metrics;
pub mod openapi;
pub mod options;
pub mod printers;
pub mod protobuf;
pub mod proxy;
pub mod rbac;
pub mod rbac_cache;
pub mod registry;
pub mod resources;
pub mod schema;
pub mod server;
pub mod serviceaccount;
pub mod status;
pub mod storage;
pub mod validation;

use handlers::AppState;
use options::Options;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// Runs the apiserver until SIGTERM/SIGINT.
pub async fn run(opts: Options) -> anyhow::Result<()> {
    let modes = authz::Mode::parse_list(&opts.authorization_mode)?;
    let chain = admission::Chain::from_flags(
        &opts.enable_admission_plugins,
        &opts.disable_admission_plugins,
    )?;
    tracing::info!("admission plugins: {}", chain.names().join(","));
    let tokens = match &opts.token_auth_file {
        Some(p) => Some(authn::TokenFile::load(p)?),
        None => None,
    };
    let etcd = storage::EtcdStorage::connect(&storage::EtcdConfig {
        servers: opts.etcd_servers.clone(),
        ca_file: opts.etcd_cafile.clone(),
        cert_file: opts.etcd_certfile.clone(),
        key_file: opts.etcd_keyfile.clone(),
        prefix: opts.etcd_prefix.clone(),
        request_timeout: Duration::from_secs(opts.etcd_request_timeout_seconds.max(1)),
    })
    .await?;
    let allocators = allocator::ServiceAllocators::new(
        etcd.clone(),
        &opts.service_cluster_ip_range,
        &opts.service_node_port_range,
    )?;
    let cacher = storage::cacher::Cacher::new(
        etcd.clone(),
        storage::cacher::CacherConfig {
            enabled: opts.watch_cache,
            default_size: opts.default_watch_cache_size,
            sizes: storage::cacher::CacherConfig::parse_sizes(&opts.watch_cache_sizes)
                .map_err(|e| anyhow::anyhow!(e))?,
        },
    );
    let store = registry::Store::new(etcd, Some(allocators))
        .with_admission(chain)
        .with_event_ttl(opts.event_ttl)
        .with_cacher(cacher);
    let acceptor = apimachinery::tls::server_acceptor(
        &apimachinery::tls::ServingCert::Files {
            cert: opts.tls_cert_file.clone(),
            key: opts.tls_private_key_file.clone(),
        },
        opts.client_ca_file.as_deref(),
    )?;
    let addr = SocketAddr::new(opts.bind_address, opts.secure_port);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let advertise_ip = opts
        .advertise_address
        .unwrap_or(if opts.bind_address.is_unspecified() {
            IpAddr::from([127, 0, 0, 1])
        } else {
            opts.bind_address
        });
    let sa_tokens = serviceaccount::TokenAuthority::new(
        opts.service_account_issuer.as_deref(),
        opts.service_account_signing_key_file.as_ref(),
        &opts.service_account_key_file,
    )?;
    let advertise = SocketAddr::new(advertise_ip, opts.secure_port).to_string();
    let state = Arc::new(AppState {
        store: store.clone(),
        authorizer: authz::Authorizer {
            modes,
            rbac: rbac_cache::RbacCache::default(),
            node: authz::node::NodeAuthorizer::default(),
        },
        tokens,
        issuer_discovery: issuer_discovery::IssuerDiscovery::new(
            sa_tokens.issuer(),
            opts.service_account_jwks_uri.as_deref(),
            &advertise,
            sa_tokens.public_keys(),
        ),
        sa_tokens,
        anonymous_auth: opts.anonymous_auth,
        advertise,
        metrics: metrics::Metrics::default(),
        started: std::sync::atomic::AtomicBool::new(false),
        kubelet: Box::new(proxy::NoKubelet {
            client_cert: opts.kubelet_client_certificate.clone(),
            client_key: opts.kubelet_client_key.clone(),
        }),
        audit: audit::Auditor::from_flags(
            opts.audit_policy_file.as_deref(),
            opts.audit_log_path.as_deref(),
            audit::writer::Rotation {
                max_age_days: opts.audit_log_maxage,
                max_backups: opts.audit_log_maxbackup,
                max_size_mb: opts.audit_log_maxsize,
            },
        )?,
    });
    state.authorizer.rbac.spawn_sync(store.clone());
    if state.authorizer.modes.contains(&authz::Mode::Node) {
        state.authorizer.node.spawn_sync(store.clone());
    }
    store
        .namespaces
        .spawn_sync(store.cacher.clone(), store.etcd.clone());
    store.admission.caches.spawn_sync(&store);
    let master = bootstrap::Master {
        ip: advertise_ip.to_string(),
        port: opts.secure_port,
    };
    {
        let state = state.clone();
        tokio::spawn(async move {
            bootstrap::run(state.store.clone(), master).await;
            state
                .started
                .store(true, std::sync::atomic::Ordering::Relaxed);
            tracing::info!("bootstrap done");
        });
    }
    // CRDs: conditions, deletion, and the registry of served custom resources.
    apiextensions::controller::spawn(store.clone());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down");
        let _ = stop_tx.send(true);
    });
    tracing::info!("serving on https://{addr}");
    server::serve(listener, Arc::new(acceptor), state, stop_rx).await;
    Ok(())
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let term = signal(SignalKind::terminate());
    match term {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
