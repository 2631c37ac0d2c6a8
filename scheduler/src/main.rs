//! kube-scheduler's entry point: flags and configuration, the apiserver
//! client, the health/metrics server, leader election, then the loop.

use anyhow::{Context, Result};
use apimachinery::flags::parse_duration;
use apimachinery::health::{Health, serve};
use apimachinery::tls::{ServingCert, server_acceptor};
use clap::Parser;
use client::config::ConnectOptions;
use client::leader_election::{LeaderElectionConfig, LeaderElector, default_identity};
use scheduler::api::ApiWriter;
use scheduler::config::Configuration;
use scheduler::metrics::Metrics;
use scheduler::options::Options;
use scheduler::plugins::volume_binding::VolumeBinding;
use scheduler::scheduler::Scheduler;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

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
    let client = client::config::connect(&ConnectOptions::from_flags(
        kubeconfig.as_deref(),
        &opts.master,
    ))?;

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

    let identity = default_identity();
    let mut elector = None;
    if leader_elect {
        let mut e = LeaderElector::new(client.clone(), leader_election(&opts, &cfg, &identity)?)
            .context("leader election settings")?;
        e.acquire().await;
        elector = Some(e);
    }

    let writer = ApiWriter {
        client: client.clone(),
        instance: identity,
    };
    let sched = Scheduler::new(profiles, writer, volumes, metrics);
    // Everything that acts runs inside `work`, which the elector drops the
    // moment the Lease is lost; the process then exits non-zero.
    let work = async move {
        let informers = scheduler::informers::factory(client);
        let ready = scheduler::informers::start(&informers, sched.clone());
        for mut r in ready {
            r.wait_for(|v| *v)
                .await
                .context("informer handler stopped before its first list")?;
        }
        synced.store(true, Ordering::Relaxed);
        tracing::info!(profiles = ?names, "caches synced; scheduling");
        let housekeeping = tokio::spawn(sched.clone().housekeeping());
        tokio::select! {
            _ = tokio::signal::ctrl_c() => tracing::info!("interrupted"),
            _ = terminate() => tracing::info!("terminated"),
            _ = sched.run() => {}
        }
        housekeeping.abort();
        anyhow::Ok(())
    };
    match elector.as_mut() {
        Some(e) => {
            e.lead(work).await??;
            // Stopped cleanly (SIGTERM): hand over without a lease's wait.
            e.release().await;
        }
        None => work.await?,
    }
    Ok(())
}

/// The Lease settings: the `--config` file's `leaderElection` where it
/// sets them, else the `--leader-elect-*` flags.
fn leader_election(
    opts: &Options,
    cfg: &Configuration,
    identity: &str,
) -> Result<LeaderElectionConfig> {
    let le = &cfg.leader_election;
    let duration = |from_file: &Option<String>, flag: Duration, name: &str| -> Result<Duration> {
        match from_file {
            Some(text) => parse_duration(text)
                .map_err(|e| anyhow::anyhow!("leaderElection.{name} in --config: {e}")),
            None => Ok(flag),
        }
    };
    Ok(LeaderElectionConfig {
        namespace: le
            .resource_namespace
            .clone()
            .unwrap_or_else(|| opts.leader_elect_resource_namespace.clone()),
        name: le
            .resource_name
            .clone()
            .unwrap_or_else(|| opts.leader_elect_resource_name.clone()),
        identity: identity.to_string(),
        lease_duration: duration(
            &le.lease_duration,
            opts.leader_elect_lease_duration,
            "leaseDuration",
        )?,
        renew_deadline: duration(
            &le.renew_deadline,
            opts.leader_elect_renew_deadline,
            "renewDeadline",
        )?,
        retry_period: duration(
            &le.retry_period,
            opts.leader_elect_retry_period,
            "retryPeriod",
        )?,
    })
}

async fn terminate() {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut s) => {
            s.recv().await;
        }
        Err(_) => std::future::pending().await,
    }
}
