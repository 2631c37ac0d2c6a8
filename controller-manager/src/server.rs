//! The process: connect to the apiserver, serve /healthz and /metrics,
//! win the leader Lease (unless `--leader-elect=false`), then run the
//! enabled controllers until one fails or the process is told to stop.

use crate::controllers::{CONTROLLERS, enabled_controllers};
use crate::{Context, options::Options};
use anyhow::Context as _;
use apimachinery::health::Health;
use apimachinery::tls::{ServingCert, server_acceptor};
use client::config::ConnectOptions;
use client::leader_election::{LeaderElectionConfig, LeaderElector, default_identity};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// The apiserver client from `--kubeconfig` / `--master` (or `KUBECONFIG`,
/// or the in-cluster ServiceAccount), the one way every daemon connects.
pub fn client(options: &Options) -> anyhow::Result<kube::Client> {
    let connect = ConnectOptions::from_flags(options.common.kubeconfig.as_deref(), &options.master);
    client::config::connect(&connect).context("building the apiserver client")
}

async fn serve_health(options: &Options, ctx: &Context) -> anyhow::Result<()> {
    if options.secure_port == 0 {
        return Ok(());
    }
    let cert = match (&options.tls_cert_file, &options.tls_private_key_file) {
        (Some(cert), Some(key)) => ServingCert::Files {
            cert: cert.clone(),
            key: key.clone(),
        },
        _ => ServingCert::SelfSigned {
            hosts: vec!["localhost".into(), "127.0.0.1".into()],
        },
    };
    let acceptor = server_acceptor(&cert, None).context("serving certificate")?;
    let addr = SocketAddr::new(options.bind_address, options.secure_port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("listening on {addr}"))?;
    let metrics = ctx.metrics.clone();
    let health = Health::new().with_metrics(Arc::new(move || metrics.render()));
    tracing::info!(%addr, "serving /healthz and /metrics");
    tokio::spawn(apimachinery::health::serve(
        listener,
        acceptor,
        Arc::new(health),
        std::future::pending(),
    ));
    Ok(())
}

/// Runs the whole process.
pub async fn run(options: Options) -> anyhow::Result<()> {
    let known: Vec<&str> = CONTROLLERS.iter().map(|(n, _)| *n).collect();
    let enabled = enabled_controllers(&known, &options.controllers)?;
    let client = client(&options)?;
    let ctx = Context::new(client.clone(), options.clone());
    serve_health(&options, &ctx).await?;

    let mut elector = if options.leader_elect {
        let mut e = LeaderElector::new(
            client,
            LeaderElectionConfig {
                namespace: options.leader_elect_resource_namespace.clone(),
                name: options.leader_elect_resource_name.clone(),
                identity: default_identity(),
                lease_duration: options.leader_elect_lease_duration,
                renew_deadline: options.leader_elect_renew_deadline,
                retry_period: options.leader_elect_retry_period,
            },
        )
        .context("--leader-elect-* flags")?;
        e.acquire().await;
        record_leadership(&ctx, &options, e.identity());
        Some(e)
    } else {
        None
    };
    ctx.metrics.leader.store(true, Ordering::Relaxed);

    let mut tasks = tokio::task::JoinSet::new();
    for (name, start) in CONTROLLERS {
        if enabled.contains(name) {
            let fut = start(ctx.clone());
            tasks.spawn(async move { (*name, fut.await) });
        } else {
            tracing::info!(controller = name, "controller disabled");
        }
    }
    tracing::info!(count = tasks.len(), "started controllers");

    // The controllers run as tasks of this runtime; losing the Lease
    // returns from here, and the process exits before they act again.
    let lost = async {
        match elector.as_mut() {
            Some(e) => e.hold().await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        lost = lost => {
            ctx.metrics.leader.store(false, Ordering::Relaxed);
            Err(lost.into())
        }
        _ = shutdown_signal() => {
            tracing::info!("shutting down");
            Ok(())
        }
        Some(done) = tasks.join_next() => match done {
            Ok((name, Ok(()))) => anyhow::bail!("controller {name} stopped"),
            Ok((name, Err(e))) => Err(e.context(format!("controller {name}"))),
            Err(e) => anyhow::bail!("controller task failed: {e}"),
        },
    }
}

/// The Normal `LeaderElection` Event upstream posts on the Lease.
fn record_leadership(ctx: &Context, options: &Options, identity: &str) {
    let object = k8s_openapi::api::core::v1::ObjectReference {
        api_version: Some("coordination.k8s.io/v1".into()),
        kind: Some("Lease".into()),
        namespace: Some(options.leader_elect_resource_namespace.clone()),
        name: Some(options.leader_elect_resource_name.clone()),
        ..Default::default()
    };
    ctx.recorder("kube-controller-manager").normal(
        object,
        "LeaderElection",
        format!("{identity} became leader"),
    );
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
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
