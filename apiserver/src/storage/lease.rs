//! Leases for objects that expire (Events, `--event-ttl`): etcd deletes a
//! key when its lease runs out. Granting one lease per object would cost a
//! round trip per write and fill etcd with leases, so, as upstream does, a
//! lease is reused while it still outlives the new object's TTL and does
//! not outlive it by more than a small margin (5% of the TTL, at most 60 s):
//! every object lives at least its TTL and at most TTL + margin.

use std::time::{Duration, Instant};

/// Fraction of the TTL a lease may overshoot so it can be shared.
const REUSE_FRACTION: f64 = 0.05;
/// Upper bound of that overshoot.
const REUSE_MAX_SECS: i64 = 60;

/// The last lease granted and when it expires.
#[derive(Debug, Clone, Copy)]
pub struct GrantedLease {
    pub id: i64,
    pub expires: Instant,
}

/// Seconds a lease for `ttl` may overshoot.
pub fn reuse_secs(ttl_secs: i64) -> i64 {
    ((REUSE_FRACTION * ttl_secs as f64) as i64).min(REUSE_MAX_SECS)
}

/// Whether `prev` can carry an object that must live `ttl_secs` from `now`.
pub fn reusable(prev: Option<GrantedLease>, ttl_secs: i64, now: Instant) -> Option<i64> {
    let prev = prev?;
    let ttl = Duration::from_secs(ttl_secs.max(0) as u64);
    let slack = Duration::from_secs((ttl_secs + reuse_secs(ttl_secs)).max(0) as u64);
    let valid = now + ttl < prev.expires;
    let sufficient = now + slack > prev.expires;
    (valid && sufficient).then_some(prev.id)
}

/// The TTL (seconds) to ask etcd for: the object's TTL plus the reuse
/// margin, at least one second.
pub fn grant_secs(ttl: Duration) -> i64 {
    let secs = ttl.as_secs().max(1) as i64;
    secs + reuse_secs(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leases_are_shared_within_the_margin() {
        let now = Instant::now();
        // One hour: margin 60 s (5% is 180 s, capped).
        assert_eq!(grant_secs(Duration::from_secs(3600)), 3660);
        assert_eq!(grant_secs(Duration::from_secs(5)), 5);
        let prev = GrantedLease {
            id: 7,
            expires: now + Duration::from_secs(3660),
        };
        // At the instant of the grant the lease is exactly TTL + margin.
        assert_eq!(reusable(Some(prev), 3600, now), None);
        assert_eq!(
            reusable(Some(prev), 3600, now + Duration::from_millis(1)),
            Some(7)
        );
        // 30 s later the lease still outlives a new 1 h object.
        assert_eq!(
            reusable(Some(prev), 3600, now + Duration::from_secs(30)),
            Some(7)
        );
        // 61 s later it would expire before the object's hour is up.
        assert_eq!(
            reusable(Some(prev), 3600, now + Duration::from_secs(61)),
            None
        );
        // A lease far longer than needed is not used for a short TTL.
        assert_eq!(reusable(Some(prev), 5, now), None);
        assert_eq!(reusable(None, 5, now), None);
    }
}
