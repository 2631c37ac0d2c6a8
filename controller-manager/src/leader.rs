//! Leader election on a coordination.k8s.io Lease, as upstream's
//! leaderelection package does: the holder renews `renewTime` every retry
//! period; a candidate takes the Lease over once it has seen no renewal for
//! `leaseDurationSeconds` (measured on its own clock, so clock skew between
//! machines does not matter). A leader that cannot renew within the renew
//! deadline stops, and the process exits so a supervisor restarts it as a
//! candidate.

use ::client::time::micro_time;
use chrono::Utc;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, PostParams};
use std::time::{Duration, Instant};

/// Where and how long the Lease is held.
#[derive(Debug, Clone)]
pub struct LeaseConfig {
    pub namespace: String,
    pub name: String,
    /// `<hostname>_<uuid>`, unique per process.
    pub identity: String,
    pub lease_duration: Duration,
    pub renew_deadline: Duration,
    pub retry_period: Duration,
}

/// The identity upstream uses: the host name and a fresh UUID.
pub fn default_identity() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into());
    let uuid = std::fs::read_to_string("/proc/sys/kernel/random/uuid")
        .map(|u| u.trim().to_string())
        .unwrap_or_else(|_| format!("{}", std::process::id()));
    format!("{host}_{uuid}")
}

/// What a candidate should do with the Lease it just read.
#[derive(Debug, PartialEq, Eq)]
enum Decision {
    /// We hold it: renew.
    Renew,
    /// Free or expired: take it (a new holder bumps leaseTransitions).
    Acquire,
    /// Someone else holds it and renewed recently.
    Wait,
}

/// Decides from the Lease's holder and how long ago we last saw it change.
fn decide(spec: &LeaseSpec, me: &str, unchanged_for: Duration, default_ttl: Duration) -> Decision {
    let holder = spec.holder_identity.as_deref().unwrap_or("");
    if holder == me {
        return Decision::Renew;
    }
    if holder.is_empty() {
        return Decision::Acquire;
    }
    let ttl = spec
        .lease_duration_seconds
        .map(|s| Duration::from_secs(s.max(0) as u64))
        .unwrap_or(default_ttl);
    if unchanged_for >= ttl {
        Decision::Acquire
    } else {
        Decision::Wait
    }
}

pub struct LeaderElector {
    api: Api<Lease>,
    cfg: LeaseConfig,
    /// The resourceVersion we last saw, and when it was first seen.
    observed: Option<(String, Instant)>,
}

impl LeaderElector {
    pub fn new(client: kube::Client, cfg: LeaseConfig) -> LeaderElector {
        LeaderElector {
            api: Api::namespaced(client, &cfg.namespace),
            cfg,
            observed: None,
        }
    }

    pub fn identity(&self) -> &str {
        &self.cfg.identity
    }

    /// Returns once this process holds the Lease.
    pub async fn acquire(&mut self) {
        tracing::info!(lease = %format!("{}/{}", self.cfg.namespace, self.cfg.name), "attempting to acquire leader lease");
        loop {
            match self.try_acquire_or_renew().await {
                Ok(true) => {
                    tracing::info!(identity = %self.cfg.identity, "successfully acquired lease");
                    return;
                }
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "error retrieving resource lock"),
            }
            tokio::time::sleep(self.cfg.retry_period).await;
        }
    }

    /// Renews every retry period; returns when the lease is lost (no
    /// successful renewal within the renew deadline, or another holder).
    pub async fn hold(&mut self) {
        let mut last_renew = Instant::now();
        loop {
            tokio::time::sleep(self.cfg.retry_period).await;
            match self.try_acquire_or_renew().await {
                Ok(true) => last_renew = Instant::now(),
                Ok(false) => {
                    tracing::error!("leader lease taken by another holder");
                    return;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "failed to renew lease");
                }
            }
            if last_renew.elapsed() > self.cfg.renew_deadline {
                tracing::error!("failed to renew lease within the renew deadline");
                return;
            }
        }
    }

    fn fresh_spec(&self, transitions: i32) -> LeaseSpec {
        let now = micro_time(Utc::now());
        LeaseSpec {
            holder_identity: Some(self.cfg.identity.clone()),
            lease_duration_seconds: Some(self.cfg.lease_duration.as_secs() as i32),
            acquire_time: Some(now.clone()),
            renew_time: Some(now),
            lease_transitions: Some(transitions),
            ..Default::default()
        }
    }

    /// One round: Ok(true) when we hold the Lease afterwards.
    async fn try_acquire_or_renew(&mut self) -> Result<bool, kube::Error> {
        let Some(mut lease) = self.api.get_opt(&self.cfg.name).await? else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.cfg.name.clone()),
                    namespace: Some(self.cfg.namespace.clone()),
                    ..Default::default()
                },
                spec: Some(self.fresh_spec(0)),
            };
            return match self.api.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(true),
                Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
                Err(e) => Err(e),
            };
        };
        let rv = lease.metadata.resource_version.clone().unwrap_or_default();
        let unchanged_for = match &self.observed {
            Some((seen, at)) if *seen == rv => at.elapsed(),
            _ => {
                self.observed = Some((rv, Instant::now()));
                Duration::ZERO
            }
        };
        let spec = lease.spec.clone().unwrap_or_default();
        let next = match decide(
            &spec,
            &self.cfg.identity,
            unchanged_for,
            self.cfg.lease_duration,
        ) {
            Decision::Wait => return Ok(false),
            Decision::Renew => LeaseSpec {
                renew_time: Some(micro_time(Utc::now())),
                lease_duration_seconds: Some(self.cfg.lease_duration.as_secs() as i32),
                ..spec
            },
            Decision::Acquire => self.fresh_spec(spec.lease_transitions.unwrap_or(0) + 1),
        };
        lease.spec = Some(next);
        match self
            .api
            .replace(&self.cfg.name, &PostParams::default(), &lease)
            .await
        {
            Ok(written) => {
                self.observed = written
                    .metadata
                    .resource_version
                    .map(|rv| (rv, Instant::now()));
                Ok(true)
            }
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held_by(holder: Option<&str>, secs: Option<i32>) -> LeaseSpec {
        LeaseSpec {
            holder_identity: holder.map(String::from),
            lease_duration_seconds: secs,
            ..Default::default()
        }
    }

    #[test]
    fn decisions() {
        let ttl = Duration::from_secs(15);
        let cases = [
            (held_by(Some("me"), Some(15)), 0, Decision::Renew),
            (held_by(Some("me"), Some(15)), 100, Decision::Renew),
            (held_by(None, None), 0, Decision::Acquire),
            (held_by(Some(""), Some(15)), 0, Decision::Acquire),
            (held_by(Some("other"), Some(15)), 3, Decision::Wait),
            (held_by(Some("other"), Some(15)), 15, Decision::Acquire),
            (held_by(Some("other"), Some(60)), 20, Decision::Wait),
            (held_by(Some("other"), None), 16, Decision::Acquire),
        ];
        for (spec, secs, want) in cases {
            assert_eq!(
                decide(&spec, "me", Duration::from_secs(secs), ttl),
                want,
                "{spec:?} after {secs}s"
            );
        }
    }

    #[test]
    fn identity_has_host_and_uuid() {
        let id = default_identity();
        let (host, uuid) = id.split_once('_').unwrap();
        assert!(!host.is_empty());
        assert_eq!(uuid.len(), 36, "{id}");
    }
}
