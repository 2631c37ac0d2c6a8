use super::*;
use chrono::TimeDelta;

fn record(holder: &str, renewed_secs_ago: i64, rv: &str) -> Record {
    Record {
        holder: holder.into(),
        renew_time: Some(crate::time::micro_time(
            Utc::now() - TimeDelta::seconds(renewed_secs_ago),
        )),
        acquire_time: None,
        transitions: Some(0),
        lease_duration_seconds: Some(15),
        resource_version: Some(rv.into()),
    }
}

fn cfg() -> LeaderElectionConfig {
    LeaderElectionConfig {
        namespace: "kube-system".into(),
        name: "kube-scheduler".into(),
        identity: "me".into(),
        lease_duration: Duration::from_secs(15),
        renew_deadline: Duration::from_secs(10),
        retry_period: Duration::from_secs(2),
    }
}

#[test]
fn decisions_use_only_the_local_observation() {
    let ttl = Duration::from_secs(15);
    let wait = |h: &str| Decision::Wait { holder: h.into() };
    let with_ttl = |mut r: Record, secs: Option<i32>| {
        r.lease_duration_seconds = secs;
        r
    };
    // (record, unchanged on our clock for, decision)
    let cases = [
        (record("me", 0, "1"), 0, Decision::Renew),
        (record("me", 100, "1"), 100, Decision::Renew),
        (record("", 0, "1"), 0, Decision::Acquire),
        (record("other", 0, "1"), 3, wait("other")),
        (record("other", 0, "1"), 14, wait("other")),
        (record("other", 0, "1"), 15, Decision::Acquire),
        // renewTime an hour old by our wall clock (the holder's clock is
        // behind, or ours ahead, as under `faketime -f +90s`): the record
        // just changed, so the holder is alive.
        (record("other", 3600, "1"), 0, wait("other")),
        (record("other", 90, "1"), 14, wait("other")),
        // renewTime in our future (the holder's clock ahead): expired once
        // unchanged for the lease duration all the same.
        (record("other", -3600, "1"), 15, Decision::Acquire),
        // The holder's leaseDurationSeconds wins over our own default.
        (
            with_ttl(record("other", 0, "1"), Some(60)),
            20,
            wait("other"),
        ),
        (
            with_ttl(record("other", 0, "1"), None),
            16,
            Decision::Acquire,
        ),
        (
            with_ttl(record("other", 0, "1"), Some(0)),
            16,
            Decision::Acquire,
        ),
    ];
    for (r, secs, want) in cases {
        assert_eq!(
            decide(&r, "me", Duration::from_secs(secs), ttl),
            want,
            "{r:?} unchanged for {secs}s"
        );
    }
}

#[test]
fn the_clock_restarts_whenever_the_record_changes() {
    let t0 = Instant::now();
    let at = |s: u64| t0 + Duration::from_secs(s);
    let base = record("other", 0, "10");
    let mut o = Observation::default();
    assert_eq!(o.observe(base.clone(), at(0)), Duration::ZERO);
    assert_eq!(o.observe(base.clone(), at(5)), Duration::from_secs(5));
    // A renewal (new renewTime and resourceVersion) restarts the clock.
    let renewed = Record {
        renew_time: Some(crate::time::micro_time(Utc::now() + TimeDelta::seconds(2))),
        resource_version: Some("11".into()),
        ..base.clone()
    };
    assert_eq!(o.observe(renewed.clone(), at(7)), Duration::ZERO);
    assert_eq!(o.observe(renewed.clone(), at(20)), Duration::from_secs(13));
    // Any field: a write that changed only the resourceVersion, a new holder.
    let touched = Record {
        resource_version: Some("12".into()),
        ..renewed.clone()
    };
    assert_eq!(o.observe(touched, at(21)), Duration::ZERO);
    let taken = Record {
        holder: "third".into(),
        resource_version: Some("12".into()),
        ..renewed
    };
    assert_eq!(o.observe(taken, at(22)), Duration::ZERO);
    // Nothing changed for 15 s on our clock: expired, whatever renewTime says.
    let mut o = Observation::default();
    let stale_looking = record("other", 3600, "5");
    o.observe(stale_looking.clone(), at(0));
    let unchanged = o.observe(stale_looking.clone(), at(15));
    assert_eq!(
        decide(&stale_looking, "me", unchanged, Duration::from_secs(15)),
        Decision::Acquire
    );
}

#[test]
fn acquiring_bumps_transitions_and_renewing_keeps_them() {
    let c = cfg();
    let created = acquired_spec(&c, None);
    assert_eq!(created.holder_identity.as_deref(), Some("me"));
    assert_eq!(created.lease_transitions, Some(0));
    assert_eq!(created.lease_duration_seconds, Some(15));
    assert_eq!(created.acquire_time, created.renew_time);

    let theirs = LeaseSpec {
        holder_identity: Some("other".into()),
        lease_transitions: Some(3),
        acquire_time: Some(crate::time::micro_time(
            Utc::now() - TimeDelta::seconds(600),
        )),
        renew_time: Some(crate::time::micro_time(Utc::now() - TimeDelta::seconds(30))),
        lease_duration_seconds: Some(60),
        ..Default::default()
    };
    let taken = acquired_spec(&c, Some(&theirs));
    assert_eq!(taken.holder_identity.as_deref(), Some("me"));
    assert_eq!(taken.lease_transitions, Some(4));
    assert_eq!(taken.lease_duration_seconds, Some(15));
    assert!(taken.acquire_time > theirs.acquire_time);

    let released = released_spec(taken.clone());
    assert_eq!(released.holder_identity, None);
    assert_eq!(released.lease_transitions, Some(4));
    let r = Record {
        holder: String::new(),
        ..record("x", 0, "9")
    };
    assert_eq!(
        decide(&r, "other", Duration::ZERO, Duration::from_secs(15)),
        Decision::Acquire
    );

    let renewed = renewed_spec(&c, taken.clone());
    assert_eq!(renewed.lease_transitions, Some(4));
    assert_eq!(renewed.acquire_time, taken.acquire_time);
    assert!(renewed.renew_time >= taken.renew_time);
}

#[test]
fn timings_that_allow_two_leaders_are_refused() {
    let ok = cfg();
    assert_eq!(ok.validate(), Ok(()));
    let with = |lease: u64, renew: u64, retry_ms: u64| LeaderElectionConfig {
        lease_duration: Duration::from_secs(lease),
        renew_deadline: Duration::from_secs(renew),
        retry_period: Duration::from_millis(retry_ms),
        ..cfg()
    };
    assert!(matches!(
        with(10, 10, 2000).validate(),
        Err(LeaderElectionError::LeaseNotLongerThanRenew { .. })
    ));
    assert!(matches!(
        with(15, 2, 2000).validate(),
        Err(LeaderElectionError::RenewTooShort { .. })
    ));
    assert_eq!(
        with(15, 10, 0).validate(),
        Err(LeaderElectionError::Zero("retryPeriod"))
    );
    assert_eq!(with(4, 3, 500).validate(), Ok(()));
    let nameless = LeaderElectionConfig {
        identity: String::new(),
        ..cfg()
    };
    assert_eq!(nameless.validate(), Err(LeaderElectionError::Empty));
}

#[test]
fn jitter_stays_within_twenty_percent() {
    let p = Duration::from_secs(2);
    for _ in 0..100 {
        let j = jittered(p);
        assert!(j >= p && j <= p.mul_f64(1.2), "{j:?}");
    }
}

#[test]
fn identity_has_host_and_uuid() {
    let id = default_identity();
    let (host, uuid) = id.split_once('_').expect("host_uuid");
    assert!(!host.is_empty());
    assert_eq!(uuid.len(), 36, "{id}");
    assert_ne!(default_identity(), id);
}
