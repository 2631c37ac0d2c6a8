//! kube-scheduler's entry point: flags and configuration, the apiserver
//! client, the health/metrics server, leader election, then the loop.

use anyhow::{Context, Result};
use apimachinery::health::{Health, serve};
use apimachinery::tls::{ServingCert, server_acceptor};
use clap::Parser;
use scheduler::api::ApiWriter;
use scheduler::config::Configuration;
use scheduler::leader::{self, LeaderConfig};
use scheduler::metrics::Metrics;
use scheduler::options::Options;
use scheduler::plugins::volume_binding::VolumeBinding;
use scheduler::scheduler::Scheduler;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

#[tokio::main]
async fn main() -> Result<()> {
    let opts = Options::parse();
    apimachinery::logging::init(opts.common.verbosity);
    let cfg = match &opts.config {
        Some(p) => Configuration::load(p)?,
        None => Configuration::default(),
    };
    let kubeconfig = opts
        .common
        .kubeconfig
        .clone()
        .or_else(|| cfg.client_connection.kubeconfig.clone().map(PathBuf::from));
    let leader_elect = cfg
        .leader_election
        .leader_elect
        .unwrap_or(opts.leader_elect);
    let volumes = Arc::new(VolumeBinding::default());
    let profiles = cfg.build_profiles(volumes.clone())?;
    let names: Vec<String> = profiles.iter().map(|p| p.scheduler_name.clone()).collect();
    let client = scheduler::client::connect(kubeconfig.as_deref()).await?;

    let metrics = Arc::new(Metrics::default());
    let synced = Arc::new(AtomicBool::new(false));
    if opts.secure_port != 0 {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".into());
        let acceptor = server_acceptor(
            &ServingCert::SelfSigned {
                hosts: vec![host, "localhost".into(), "127.0.0.1".into()],
            },
            None,
        )?;
        let listener = tokio::net::TcpListener::bind((opts.bind_address, opts.secure_port))
            .await
            .with_context(|| {
                format!(
                    "cannot listen on {}:{}",
                    opts.bind_address, opts.secure_port
                )
            })?;
        let m = metrics.clone();
        let profile = names.first().cloned().unwrap_or_default();
        let s = synced.clone();
        let health = Health::new()
            .with_readiness(
                "sched-handler-sync",
                Arc::new(move || {
                    if s.load(Ordering::Relaxed) {
                        Ok(())
                    } else {
                        Err("informers not synced".into())
                    }
                }),
            )
            .with_metrics(Arc::new(move || m.render(&profile)));
        tokio::spawn(serve(
            listener,
            acceptor,
            Arc::new(health),
            std::future::pending(),
        ));
    }

    let identity = format!(
        "{}_{}",
        std::env::var("HOSTNAME").unwrap_or_else(|_| "kube-scheduler".into()),
        std::process::id()
    );
    let mut lost_lease = None;
    if leader_elect {
        let mut lc = LeaderConfig::new(identity.clone());
        lc.name = cfg
            .leader_election
            .resource_name
            .clone()
            .unwrap_or(opts.leader_elect_resource_name.clone());
        lc.namespace = cfg
            .leader_election
            .resource_namespace
            .clone()
            .unwrap_or(opts.leader_elect_resource_namespace.clone());
        leader::acquire(client.clone(), &lc).await;
        lost_lease = Some(tokio::spawn(leader::keep_renewing(client.clone(), lc)));
    }

    let writer = ApiWriter {
        client: client.clone(),
        instance: identity,
    };
    let sched = Scheduler::new(profiles, writer, volumes, metrics);
    let ready = scheduler::informers::start(client, sched.clone());
    for mut r in ready {
        r.wait_for(|v| *v)
            .await
            .context("informer stopped before its first list")?;
    }
    synced.store(true, Ordering::Relaxed);
    tracing::info!(profiles = ?names, "caches synced; scheduling");
    tokio::spawn(sched.clone().housekeeping());
    let run = tokio::spawn(sched.run());

    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("interrupted"),
        _ = terminate() => tracing::info!("terminated"),
        _ = async { match lost_lease { Some(h) => { let _ = h.await; } None => std::future::pending().await } } => {
            anyhow::bail!("leaderelection lost");
        }
        _ = run => {}
    }
    Ok(())
}

async fn terminate() {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut s) => {
            s.recv().await;
        }
        Err(_) => std::future::pending().await,
    }
}
