//! Leader election on a `coordination.k8s.io/v1` Lease, with client-go's
//! semantics, so several replicas of a daemon can run and only one acts.
//!
//! - A candidate takes the Lease when it is free, or when the record
//!   (holder, renewTime, acquireTime, leaseTransitions, resourceVersion)
//!   has not changed for `leaseDurationSeconds` measured on the
//!   candidate's OWN monotonic clock since it last saw it change. The
//!   `renewTime` written by another machine is never compared with the
//!   local wall clock, so clock skew between machines cannot make a live
//!   leader look expired.
//! - Taking it sets `acquireTime` and bumps `leaseTransitions`; the
//!   leader renews `renewTime` every retry period.
//! - Every write is an update with the resourceVersion that was read: a
//!   409 Conflict means someone else wrote first.
//! - The leader gives up when it has not renewed within the renew
//!   deadline (measured from when it sent its last successful renewal), or
//!   as soon as it sees another holder. [`LeaderElector::lead`] then drops
//!   the work, and the binary exits with "leaderelection lost" as upstream
//!   does, so its supervisor restarts it as a plain candidate.
//!
//! Because `lease duration > renew deadline`, a leader that cannot renew
//! stops before any candidate can consider the Lease expired.

use chrono::Utc;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, PostParams};
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// Upstream's jitter on the candidates' retry period (up to +20 %), so
/// candidates that started together do not poll in lockstep.
const JITTER_FACTOR: f64 = 1.2;

/// Where and how long the Lease is held, from the daemon's
/// `--leader-elect-*` flags.
#[derive(Debug, Clone)]
pub struct LeaderElectionConfig {
    /// `--leader-elect-resource-namespace`.
    pub namespace: String,
    /// `--leader-elect-resource-name`.
    pub name: String,
    /// Unique per process: see [`default_identity`].
    pub identity: String,
    /// `--leader-elect-lease-duration`: how long candidates wait, after
    /// they last saw the record change, before taking the Lease.
    pub lease_duration: Duration,
    /// `--leader-elect-renew-deadline`: how long the leader keeps trying
    /// to renew before it gives up.
    pub renew_deadline: Duration,
    /// `--leader-elect-retry-period`: how often every client tries.
    pub retry_period: Duration,
}

/// Why a configuration or an election failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LeaderElectionError {
    #[error("leaseDuration ({lease:?}) must be greater than renewDeadline ({renew:?})")]
    LeaseNotLongerThanRenew { lease: Duration, renew: Duration },
    #[error("renewDeadline ({renew:?}) must be greater than retryPeriod*1.2 ({retry:?}*1.2)")]
    RenewTooShort { renew: Duration, retry: Duration },
    #[error("{0} must be greater than zero")]
    Zero(&'static str),
    #[error("the Lease name and the identity must not be empty")]
    Empty,
}

/// The elected process lost its Lease; its work has been stopped.
#[derive(Debug, thiserror::Error)]
#[error("leaderelection lost: {reason}")]
pub struct LeadershipLost {
    pub reason: String,
}

impl LeaderElectionConfig {
    /// Checks upstream's ordering: leaseDuration > renewDeadline >
    /// retryPeriod × 1.2, which is what keeps two leaders from overlapping.
    pub fn validate(&self) -> Result<(), LeaderElectionError> {
        for (name, d) in [
            ("leaseDuration", self.lease_duration),
            ("renewDeadline", self.renew_deadline),
            ("retryPeriod", self.retry_period),
        ] {
            if d.is_zero() {
                return Err(LeaderElectionError::Zero(name));
            }
        }
        if self.lease_duration <= self.renew_deadline {
            return Err(LeaderElectionError::LeaseNotLongerThanRenew {
                lease: self.lease_duration,
                renew: self.renew_deadline,
            });
        }
        if self.renew_deadline.as_secs_f64() <= self.retry_period.as_secs_f64() * JITTER_FACTOR {
            return Err(LeaderElectionError::RenewTooShort {
                renew: self.renew_deadline,
                retry: self.retry_period,
            });
        }
        if self.name.is_empty() || self.identity.is_empty() {
            return Err(LeaderElectionError::Empty);
        }
        Ok(())
    }
}

/// The identity upstream's daemons use: the host name and a fresh UUID,
/// so a restarted process is a new candidate.
pub fn default_identity() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into());
    let uuid = std::fs::read_to_string("/proc/sys/kernel/random/uuid")
        .map(|u| u.trim().to_string())
        .unwrap_or_else(|_| format!("{}", std::process::id()));
    format!("{host}_{uuid}")
}

/// The parts of a Lease whose change proves its holder alive.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Record {
    holder: String,
    renew_time: Option<MicroTime>,
    acquire_time: Option<MicroTime>,
    transitions: Option<i32>,
    lease_duration_seconds: Option<i32>,
    resource_version: Option<String>,
}

impl Record {
    fn of(lease: &Lease) -> Record {
        let spec = lease.spec.clone().unwrap_or_default();
        Record {
            holder: spec.holder_identity.unwrap_or_default(),
            renew_time: spec.renew_time,
            acquire_time: spec.acquire_time,
            transitions: spec.lease_transitions,
            lease_duration_seconds: spec.lease_duration_seconds,
            resource_version: lease.metadata.resource_version.clone(),
        }
    }
}

/// The last record seen and when it was first seen, on our monotonic clock.
#[derive(Debug, Default)]
struct Observation(Option<(Record, Instant)>);

impl Observation {
    /// Takes in the record just read; returns for how long it has been
    /// unchanged as far as this process knows.
    fn observe(&mut self, record: Record, now: Instant) -> Duration {
        match &self.0 {
            Some((seen, at)) if *seen == record => now.saturating_duration_since(*at),
            _ => {
                self.0 = Some((record, now));
                Duration::ZERO
            }
        }
    }
}

/// What a client should do with the Lease it just read.
#[derive(Debug, PartialEq, Eq)]
enum Decision {
    /// We hold it: renew.
    Renew,
    /// Free or expired: take it.
    Acquire,
    /// Someone else holds it and we saw it change recently.
    Wait { holder: String },
}

/// Decides from the holder and how long the record has been unchanged
/// on our clock; the Lease's own timestamps are deliberately not inputs.
fn decide(record: &Record, me: &str, unchanged_for: Duration, default_ttl: Duration) -> Decision {
    if record.holder == me {
        return Decision::Renew;
    }
    if record.holder.is_empty() {
        return Decision::Acquire;
    }
    let ttl = record
        .lease_duration_seconds
        .filter(|s| *s > 0)
        .map(|s| Duration::from_secs(s as u64))
        .unwrap_or(default_ttl);
    if unchanged_for >= ttl {
        Decision::Acquire
    } else {
        Decision::Wait {
            holder: record.holder.clone(),
        }
    }
}

/// The spec this client writes to take (or create) the Lease.
fn acquired_spec(cfg: &LeaderElectionConfig, previous: Option<&LeaseSpec>) -> LeaseSpec {
    let now = crate::time::micro_time(Utc::now());
    LeaseSpec {
        holder_identity: Some(cfg.identity.clone()),
        lease_duration_seconds: Some(lease_seconds(cfg)),
        acquire_time: Some(now.clone()),
        renew_time: Some(now),
        lease_transitions: Some(match previous {
            Some(p) => p.lease_transitions.unwrap_or(0) + 1,
            None => 0,
        }),
        ..previous.cloned().unwrap_or_default()
    }
}

/// The spec the holder writes to renew: only renewTime (and its own
/// leaseDurationSeconds) change; acquireTime and transitions stay.
fn renewed_spec(cfg: &LeaderElectionConfig, current: LeaseSpec) -> LeaseSpec {
    LeaseSpec {
        renew_time: Some(crate::time::micro_time(Utc::now())),
        lease_duration_seconds: Some(lease_seconds(cfg)),
        holder_identity: Some(cfg.identity.clone()),
        ..current
    }
}

/// The spec a leader writes when it steps down: no holder, a one-second
/// lease; leaseTransitions stays (the next holder bumps it).
fn released_spec(current: LeaseSpec) -> LeaseSpec {
    let now = crate::time::micro_time(Utc::now());
    LeaseSpec {
        holder_identity: None,
        lease_duration_seconds: Some(1),
        acquire_time: Some(now.clone()),
        renew_time: Some(now),
        ..current
    }
}

fn lease_seconds(cfg: &LeaderElectionConfig) -> i32 {
    i32::try_from(cfg.lease_duration.as_secs().max(1)).unwrap_or(i32::MAX)
}

/// The result of one acquire-or-renew round.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// We hold the Lease now.
    Held,
    /// Another holder whose record we saw change within its lease duration.
    HeldBy(String),
    /// Our write lost a race (409): someone else wrote first.
    Conflict,
}

/// One candidate for one Lease.
pub struct LeaderElector {
    api: Api<Lease>,
    cfg: LeaderElectionConfig,
    observed: Observation,
    /// When our last successful acquire or renew was sent.
    renewed_at: Option<Instant>,
}

impl LeaderElector {
    /// A candidate; refuses timings that would let two leaders overlap.
    pub fn new(
        client: kube::Client,
        cfg: LeaderElectionConfig,
    ) -> Result<LeaderElector, LeaderElectionError> {
        cfg.validate()?;
        Ok(LeaderElector {
            api: Api::namespaced(client, &cfg.namespace),
            cfg,
            observed: Observation::default(),
            renewed_at: None,
        })
    }

    /// This process's holderIdentity.
    pub fn identity(&self) -> &str {
        &self.cfg.identity
    }

    /// `namespace/name` of the Lease, for logs and Events.
    pub fn lease(&self) -> String {
        format!("{}/{}", self.cfg.namespace, self.cfg.name)
    }

    /// Returns once this process holds the Lease (tries every retry
    /// period, jittered).
    pub async fn acquire(&mut self) {
        let lease = self.lease();
        tracing::info!(%lease, identity = %self.cfg.identity, "attempting to acquire leader lease");
        let mut last_holder = String::new();
        loop {
            let sent = Instant::now();
            let attempt =
                tokio::time::timeout(self.cfg.renew_deadline, self.try_acquire_or_renew());
            match attempt.await {
                Ok(Ok(Outcome::Held)) => {
                    self.renewed_at = Some(sent);
                    tracing::info!(%lease, identity = %self.cfg.identity, "successfully acquired lease");
                    return;
                }
                Ok(Ok(Outcome::HeldBy(holder))) => {
                    if holder != last_holder {
                        tracing::info!(%lease, %holder, "lock is held by another candidate and has not yet expired");
                        last_holder = holder;
                    }
                }
                Ok(Ok(Outcome::Conflict)) => {
                    tracing::info!(%lease, "lost a race for the lease; retrying");
                }
                Ok(Err(e)) => tracing::warn!(%lease, error = %e, "error retrieving resource lock"),
                Err(_) => tracing::warn!(%lease, "timed out reading the resource lock"),
            }
            tokio::time::sleep(jittered(self.cfg.retry_period)).await;
        }
    }

    /// Renews every retry period while this process holds the Lease, and
    /// resolves when it no longer does: another holder took it, or no
    /// renewal succeeded within the renew deadline.
    pub async fn hold(&mut self) -> LeadershipLost {
        loop {
            // The last renewal counts from when it was sent: a candidate saw
            // the write no earlier than that.
            let renewed_at = *self.renewed_at.get_or_insert_with(Instant::now);
            let deadline = renewed_at + self.cfg.renew_deadline;
            let next = (Instant::now() + self.cfg.retry_period).min(deadline);
            tokio::time::sleep_until(next).await;
            if Instant::now() >= deadline {
                return self.lost(format!(
                    "failed to renew lease {} within the renew deadline {:?}",
                    self.lease(),
                    self.cfg.renew_deadline
                ));
            }
            let sent = Instant::now();
            match tokio::time::timeout_at(deadline, self.try_acquire_or_renew()).await {
                Ok(Ok(Outcome::Held)) => self.renewed_at = Some(sent),
                Ok(Ok(Outcome::HeldBy(holder))) => {
                    return self.lost(format!("lease {} is now held by {holder}", self.lease()));
                }
                Ok(Ok(Outcome::Conflict)) => {
                    tracing::warn!(lease = %self.lease(), "conflict renewing the lease; retrying")
                }
                Ok(Err(e)) => {
                    tracing::warn!(lease = %self.lease(), error = %e, "failed to renew lease")
                }
                Err(_) => {} // the deadline passed mid-request: reported above next round
            }
        }
    }

    /// Runs `work` while this process holds the Lease (call after
    /// [`acquire`](Self::acquire)). `work` is dropped — stopped at its
    /// next await — the moment leadership is lost.
    pub async fn lead<F: Future>(&mut self, work: F) -> Result<F::Output, LeadershipLost> {
        tokio::select! {
            // Loss first: when both are ready, the work must not go on.
            biased;
            lost = self.hold() => Err(lost),
            out = work => Ok(out),
        }
    }

    /// Gives the Lease up on a clean shutdown (upstream's
    /// `ReleaseOnCancel`): holderIdentity cleared, so a candidate takes it
    /// at its next retry instead of waiting out the lease duration. Does
    /// nothing unless this process still holds it.
    pub async fn release(&mut self) {
        let lease = self.lease();
        let Ok(Some(mut current)) = self.api.get_opt(&self.cfg.name).await else {
            return;
        };
        let spec = current.spec.take().unwrap_or_default();
        if spec.holder_identity.as_deref() != Some(self.cfg.identity.as_str()) {
            return;
        }
        current.spec = Some(released_spec(spec));
        match self
            .api
            .replace(&self.cfg.name, &PostParams::default(), &current)
            .await
        {
            Ok(_) => tracing::info!(%lease, "released the leader lease"),
            Err(e) => tracing::warn!(%lease, error = %e, "could not release the leader lease"),
        }
        self.renewed_at = None;
    }

    fn lost(&mut self, reason: String) -> LeadershipLost {
        self.renewed_at = None;
        tracing::error!(lease = %self.lease(), identity = %self.cfg.identity, %reason, "leaderelection lost");
        LeadershipLost { reason }
    }

    /// One round: read the Lease, decide, write with the resourceVersion read.
    async fn try_acquire_or_renew(&mut self) -> Result<Outcome, kube::Error> {
        let Some(mut lease) = self.api.get_opt(&self.cfg.name).await? else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.cfg.name.clone()),
                    namespace: Some(self.cfg.namespace.clone()),
                    ..Default::default()
                },
                spec: Some(acquired_spec(&self.cfg, None)),
            };
            return self.write(self.api.create(&PostParams::default(), &lease).await);
        };
        let record = Record::of(&lease);
        let unchanged_for = self.observed.observe(record.clone(), Instant::now());
        let spec = lease.spec.take().unwrap_or_default();
        lease.spec = Some(
            match decide(
                &record,
                &self.cfg.identity,
                unchanged_for,
                self.cfg.lease_duration,
            ) {
                Decision::Wait { holder } => return Ok(Outcome::HeldBy(holder)),
                Decision::Renew => renewed_spec(&self.cfg, spec),
                Decision::Acquire => {
                    if !record.holder.is_empty() {
                        tracing::info!(lease = %self.lease(), previous = %record.holder, unchanged_for = ?unchanged_for, "lease expired; taking it over");
                    }
                    acquired_spec(&self.cfg, Some(&spec))
                }
            },
        );
        // The object carries the resourceVersion we read: a stale write is a 409.
        let written = self
            .api
            .replace(&self.cfg.name, &PostParams::default(), &lease)
            .await;
        self.write(written)
    }

    fn write(&mut self, written: Result<Lease, kube::Error>) -> Result<Outcome, kube::Error> {
        match written {
            Ok(lease) => {
                self.observed.observe(Record::of(&lease), Instant::now());
                Ok(Outcome::Held)
            }
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(Outcome::Conflict),
            Err(e) => Err(e),
        }
    }
}

/// `period` stretched by a random 0–20 %.
fn jittered(period: Duration) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    let unit = (h.finish() % 1000) as f64 / 1000.0;
    period.mul_f64(1.0 + (JITTER_FACTOR - 1.0) * unit)
}

#[cfg(test)]
mod tests;
