//! `--leader-elect`: only the holder of the `kube-system/kube-scheduler`
//! Lease schedules. Acquire when the lease is free or expired, renew every
//! retry period, and stop (exit) when renewal fails past the deadline, as
//! upstream does, so two schedulers never bind at once.

use ::client::time::{micro_time, to_chrono};
use chrono::{DateTime, Utc};
use k8s_openapi::api::coordination::v1::Lease;
use kube::Client;
use kube::api::{Api, PostParams};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct LeaderConfig {
    pub namespace: String,
    pub name: String,
    pub identity: String,
    pub lease_duration: Duration,
    pub renew_deadline: Duration,
    pub retry_period: Duration,
}

impl LeaderConfig {
    pub fn new(identity: String) -> LeaderConfig {
        LeaderConfig {
            namespace: "kube-system".into(),
            name: "kube-scheduler".into(),
            identity,
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
        }
    }
}

/// Whether `lease` may be taken by `me` at `now`.
pub fn can_acquire(lease: &Lease, me: &str, now: DateTime<Utc>) -> bool {
    let Some(spec) = lease.spec.as_ref() else {
        return true;
    };
    let holder = spec.holder_identity.as_deref().unwrap_or_default();
    if holder.is_empty() || holder == me {
        return true;
    }
    let Some(renewed) = spec.renew_time.as_ref().map(|t| to_chrono(t.0)) else {
        return true;
    };
    let duration = chrono::Duration::seconds(i64::from(spec.lease_duration_seconds.unwrap_or(15)));
    renewed + duration < now
}

fn claim(lease: &mut Lease, cfg: &LeaderConfig, now: DateTime<Utc>) {
    let spec = lease.spec.get_or_insert_with(Default::default);
    let was_mine = spec.holder_identity.as_deref() == Some(cfg.identity.as_str());
    if !was_mine {
        spec.acquire_time = Some(micro_time(now));
        spec.lease_transitions =
            Some(spec.lease_transitions.unwrap_or(0) + i32::from(spec.holder_identity.is_some()));
    }
    spec.holder_identity = Some(cfg.identity.clone());
    spec.lease_duration_seconds = Some(cfg.lease_duration.as_secs() as i32);
    spec.renew_time = Some(micro_time(now));
}

/// One acquire-or-renew attempt; true when we hold the lease afterwards.
async fn try_acquire_or_renew(api: &Api<Lease>, cfg: &LeaderConfig) -> Result<bool, kube::Error> {
    let now = Utc::now();
    match api.get_opt(&cfg.name).await? {
        None => {
            let mut lease = Lease::default();
            lease.metadata.name = Some(cfg.name.clone());
            lease.metadata.namespace = Some(cfg.namespace.clone());
            claim(&mut lease, cfg, now);
            match api.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(true),
                Err(kube::Error::Api(e)) if e.code == 409 => Ok(false),
                Err(e) => Err(e),
            }
        }
        Some(mut lease) => {
            if !can_acquire(&lease, &cfg.identity, now) {
                return Ok(false);
            }
            claim(&mut lease, cfg, now);
            // resourceVersion travels with the object: a stale write is a 409.
            match api.replace(&cfg.name, &PostParams::default(), &lease).await {
                Ok(_) => Ok(true),
                Err(kube::Error::Api(e)) if e.code == 409 => Ok(false),
                Err(e) => Err(e),
            }
        }
    }
}

/// Waits until this process holds the lease.
pub async fn acquire(client: Client, cfg: &LeaderConfig) {
    let api: Api<Lease> = Api::namespaced(client, &cfg.namespace);
    tracing::info!(lease = %format!("{}/{}", cfg.namespace, cfg.name), "attempting to acquire leader lease");
    loop {
        match try_acquire_or_renew(&api, cfg).await {
            Ok(true) => {
                tracing::info!(identity = %cfg.identity, "successfully acquired lease");
                return;
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "error retrieving resource lock"),
        }
        tokio::time::sleep(cfg.retry_period).await;
    }
}

/// Keeps renewing; returns when the lease is lost (the caller exits).
pub async fn keep_renewing(client: Client, cfg: LeaderConfig) {
    let api: Api<Lease> = Api::namespaced(client, &cfg.namespace);
    let mut last_ok = tokio::time::Instant::now();
    loop {
        tokio::time::sleep(cfg.retry_period).await;
        match try_acquire_or_renew(&api, &cfg).await {
            Ok(true) => last_ok = tokio::time::Instant::now(),
            Ok(false) => {
                tracing::error!("leader lease taken by another instance");
                return;
            }
            Err(e) => tracing::warn!(error = %e, "failed to renew lease"),
        }
        if last_ok.elapsed() > cfg.renew_deadline {
            tracing::error!("failed to renew lease within the renew deadline");
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::coordination::v1::LeaseSpec;

    fn lease(holder: &str, renewed_secs_ago: i64) -> Lease {
        Lease {
            spec: Some(LeaseSpec {
                holder_identity: Some(holder.into()),
                lease_duration_seconds: Some(15),
                renew_time: Some(micro_time(
                    Utc::now() - chrono::Duration::seconds(renewed_secs_ago),
                )),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn acquire_rules() {
        let now = Utc::now();
        let cases = [
            (lease("me", 1), true),
            (lease("other", 1), false),
            (lease("other", 20), true),
            (lease("", 1), true),
            (Lease::default(), true),
        ];
        for (l, want) in cases {
            assert_eq!(can_acquire(&l, "me", now), want, "{:?}", l.spec);
        }
    }

    #[test]
    fn claiming_counts_transitions() {
        let cfg = LeaderConfig::new("me".into());
        let mut l = lease("other", 20);
        claim(&mut l, &cfg, Utc::now());
        let spec = l.spec.unwrap();
        assert_eq!(spec.holder_identity.as_deref(), Some("me"));
        assert_eq!(spec.lease_transitions, Some(1));
        assert!(spec.acquire_time.is_some());
    }
}
