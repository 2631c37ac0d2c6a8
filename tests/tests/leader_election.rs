//! Leader election through the real binaries (the client crate's
//! `leader_election`, as kube-scheduler and kube-controller-manager use
//! it): failover when the leader is killed, no double leadership when one
//! process's clock is 90 s ahead or behind (Debian's libfaketime, as
//! `faketime -f ±90s` runs it), and a
//! leader whose Lease was taken while it was frozen stops instead of
//! acting on.
//!
//! Short timings throughout: lease duration 4 s, renew deadline 3 s,
//! retry period 500 ms.

use harness::apiserver::ApiCluster;
use harness::bins;
use harness::process::{Daemon, wait_until};
use jiff::Timestamp;
use std::process::Command;
use std::time::{Duration, Instant};

const LEASE_DURATION: Duration = Duration::from_secs(4);
const RETRY_PERIOD: Duration = Duration::from_millis(500);
/// Room for process start-up, kubectl round trips and a busy machine.
const SLACK: Duration = Duration::from_millis(2500);

#[derive(Clone, Copy, Debug)]
enum Kind {
    Scheduler,
    ControllerManager,
}

impl Kind {
    fn binary(self) -> &'static str {
        match self {
            Kind::Scheduler => "kube-scheduler",
            Kind::ControllerManager => "kube-controller-manager",
        }
    }

    /// The Lease and the identity (kubeconfig) share the binary's name.
    fn lease(self) -> &'static str {
        self.binary()
    }
}

/// Starts a candidate with short lease timings, under `faketime -f
/// <skew>` when asked; the log is `<name>.log` in the cluster's directory.
fn spawn(api: &ApiCluster, kind: Kind, name: &str, skew: Option<&str>) -> Daemon {
    let mut cmd = Command::new(bins::binary(kind.binary()));
    if let Some(offset) = skew {
        // What `faketime -f <offset>` sets up, without its wrapper process
        // (which forks: a signal to it would not reach the daemon).
        cmd.env("LD_PRELOAD", libfaketime()).env("FAKETIME", offset);
    }
    cmd.arg(format!(
        "--kubeconfig={}",
        api.kubeconfig(kind.binary()).display()
    ))
    .args([
        "--leader-elect=true",
        "--leader-elect-lease-duration=4s",
        "--leader-elect-renew-deadline=3s",
        "--leader-elect-retry-period=500ms",
        "--secure-port=0",
    ]);
    if let Kind::ControllerManager = kind {
        // One cheap controller whose work is visible (default ServiceAccounts).
        cmd.arg("--controllers=serviceaccount");
    }
    Daemon::spawn(name, &mut cmd, api.work.path())
}

/// Debian's libfaketime (package `libfaketime`, which `faketime` needs).
fn libfaketime() -> &'static str {
    const LIB: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";
    assert!(
        std::path::Path::new(LIB).is_file(),
        "{LIB} is missing: install Debian's faketime (cluster/packages.sh)"
    );
    LIB
}

/// The identity the daemon campaigns under (from its log).
fn identity(d: &Daemon) -> String {
    let mut id = None;
    let found = wait_until(Duration::from_secs(20), || {
        id = d.leader_identity();
        id.is_some()
    });
    assert!(found, "{} never campaigned:\n{}", d.name, d.log_tail(20));
    id.unwrap_or_default()
}

fn lease_field(api: &ApiCluster, kind: Kind, field: &str) -> String {
    let (_, out, _) = api.kubectl(&[
        "get",
        "lease",
        kind.lease(),
        "-n",
        "kube-system",
        &format!("-o=jsonpath={{.spec.{field}}}"),
    ]);
    out
}

fn holder(api: &ApiCluster, kind: Kind) -> String {
    lease_field(api, kind, "holderIdentity")
}

/// Waits until `who` holds the Lease; fails with both logs otherwise.
fn wait_holder(api: &ApiCluster, kind: Kind, who: &Daemon, timeout: Duration) -> String {
    let id = identity(who);
    let ok = wait_until(timeout, || holder(api, kind) == id);
    assert!(
        ok,
        "{} never held the {} Lease (holder {:?}):\n{}",
        who.name,
        kind.lease(),
        holder(api, kind),
        who.log_tail(30)
    );
    id
}

/// The first log line's timestamp minus `started`: how far the process's
/// wall clock is from ours.
fn clock_offset(d: &Daemon, started: Timestamp) -> i64 {
    let log = d.log_plain();
    let stamp = log
        .split_whitespace()
        .next()
        .and_then(|s| s.parse::<Timestamp>().ok())
        .unwrap_or_else(|| panic!("no timestamp in {}'s log:\n{log}", d.name));
    stamp.duration_since(started).as_secs()
}

#[test]
fn a_killed_leader_is_replaced_within_the_lease_duration() {
    let api = ApiCluster::start();
    let first = spawn(&api, Kind::Scheduler, "scheduler-a", None);
    let first_id = wait_holder(&api, Kind::Scheduler, &first, Duration::from_secs(30));
    let second = spawn(&api, Kind::Scheduler, "scheduler-b", None);
    let second_id = identity(&second);

    // The standby campaigns but never takes a live Lease.
    let watch_until = Instant::now() + LEASE_DURATION + Duration::from_secs(1);
    while Instant::now() < watch_until {
        assert_eq!(
            holder(&api, Kind::Scheduler),
            first_id,
            "the standby took a live Lease"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    first.signal("KILL");
    let killed = Instant::now();
    let took_over = wait_until(Duration::from_secs(30), || {
        holder(&api, Kind::Scheduler) == second_id
    });
    let took = killed.elapsed();
    assert!(took_over, "no failover:\n{}", second.log_tail(30));
    println!(
        "failover took {:.2}s (lease duration {:?}, retry period {:?})",
        took.as_secs_f64(),
        LEASE_DURATION,
        RETRY_PERIOD
    );
    // The standby last saw a renewal at most a retry period (+20 % jitter)
    // before the kill, and must then wait a whole lease duration.
    assert!(
        took >= LEASE_DURATION - RETRY_PERIOD.mul_f64(1.2) - Duration::from_millis(200),
        "took over too early: {took:?}"
    );
    assert!(
        took <= LEASE_DURATION + RETRY_PERIOD.mul_f64(1.2) + SLACK,
        "failover took {took:?}"
    );
    assert_eq!(lease_field(&api, Kind::Scheduler, "leaseTransitions"), "1");
    let acquired = lease_field(&api, Kind::Scheduler, "acquireTime");
    let renewed = lease_field(&api, Kind::Scheduler, "renewTime");
    assert!(
        !acquired.is_empty() && acquired <= renewed,
        "{acquired} {renewed}"
    );
    assert!(second.log_plain().contains("successfully acquired lease"));
}

/// One skew case: `skewed` runs under `faketime -f <offset>`; the other
/// process is normal. The first of the two started becomes the leader.
fn no_double_leadership(api: &ApiCluster, offset: &str, skewed_leads: bool) {
    let case = format!(
        "offset {offset}, skewed process is the {}",
        if skewed_leads { "leader" } else { "candidate" }
    );
    let suffix = format!(
        "{}{}",
        if skewed_leads { "leader" } else { "candidate" },
        offset
    );
    let started = Timestamp::now();
    let mut leader = spawn(
        api,
        Kind::Scheduler,
        &format!("leader-{suffix}"),
        skewed_leads.then_some(offset),
    );
    let leader_id = wait_holder(api, Kind::Scheduler, &leader, Duration::from_secs(30));
    let candidate_started = Timestamp::now();
    let candidate = spawn(
        api,
        Kind::Scheduler,
        &format!("candidate-{suffix}"),
        (!skewed_leads).then_some(offset),
    );
    let candidate_id = identity(&candidate);
    let transitions = lease_field(api, Kind::Scheduler, "leaseTransitions");

    // libfaketime really moves the Rust binary's wall clock.
    let want: i64 = offset.trim_end_matches('s').parse().expect("offset");
    let (skewed, since) = if skewed_leads {
        (&leader, started)
    } else {
        (&candidate, candidate_started)
    };
    let seen = clock_offset(skewed, since);
    assert!(
        (seen - want).abs() <= 15,
        "{case}: log clock is {seen}s off, wanted {want}s"
    );
    if skewed_leads {
        // ... and the renewTime it writes is off by as much.
        let renewed = lease_field(api, Kind::Scheduler, "renewTime");
        let renewed: Timestamp = renewed.parse().expect("renewTime");
        let off = renewed.duration_since(Timestamp::now()).as_secs();
        assert!((off - want).abs() <= 15, "{case}: renewTime is {off}s off");
    }

    // Two lease durations and more: the Lease never changes hands.
    let watch_until = Instant::now() + 2 * LEASE_DURATION + Duration::from_secs(2);
    let mut polls = 0;
    while Instant::now() < watch_until {
        let h = holder(api, Kind::Scheduler);
        assert_eq!(
            h,
            leader_id,
            "{case}: the Lease changed hands from a live leader\ncandidate log:\n{}",
            candidate.log_tail(20)
        );
        polls += 1;
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(polls >= 10, "{case}: only {polls} polls");
    assert!(
        !candidate
            .log_plain()
            .contains("successfully acquired lease"),
        "{case}: the candidate believed it leads:\n{}",
        candidate.log_tail(20)
    );
    assert_eq!(
        lease_field(api, Kind::Scheduler, "leaseTransitions"),
        transitions,
        "{case}"
    );

    // The candidate is a working one: it takes over once the leader dies.
    leader.signal("KILL");
    let killed = Instant::now();
    let ok = wait_until(Duration::from_secs(20), || {
        holder(api, Kind::Scheduler) == candidate_id
    });
    assert!(ok, "{case}: no failover:\n{}", candidate.log_tail(20));
    println!(
        "{case}: failover after {:.2}s",
        killed.elapsed().as_secs_f64()
    );
    leader.stop();
    drop(candidate);
    api.kubectl_ok(&["delete", "lease", "kube-scheduler", "-n", "kube-system"]);
}

#[test]
fn clock_skew_never_gives_two_leaders() {
    let api = ApiCluster::start();
    for offset in ["+90s", "-90s"] {
        no_double_leadership(&api, offset, false);
        no_double_leadership(&api, offset, true);
    }
}

#[test]
fn a_leader_whose_lease_was_taken_stops() {
    let api = ApiCluster::start();
    let kinds = [Kind::Scheduler, Kind::ControllerManager];
    let mut leaders: Vec<Daemon> = Vec::new();
    let mut standbys: Vec<(Daemon, String)> = Vec::new();
    for kind in kinds {
        let leader = spawn(&api, kind, &format!("{}-leader", kind.binary()), None);
        wait_holder(&api, kind, &leader, Duration::from_secs(30));
        leaders.push(leader);
    }
    for kind in kinds {
        let standby = spawn(&api, kind, &format!("{}-standby", kind.binary()), None);
        let id = identity(&standby);
        standbys.push((standby, id));
    }
    // The leaders freeze past the lease duration; the standbys take over.
    for l in &leaders {
        l.signal("STOP");
    }
    for (kind, (standby, id)) in kinds.iter().zip(&standbys) {
        let ok = wait_until(LEASE_DURATION + Duration::from_secs(15), || {
            holder(&api, *kind) == *id
        });
        if !ok {
            for l in &leaders {
                l.signal("CONT");
            }
        }
        assert!(
            ok,
            "{kind:?}: the standby never took over:\n{}",
            standby.log_tail(20)
        );
    }
    for l in &leaders {
        l.signal("CONT");
    }
    let resumed = Instant::now();
    for (kind, leader) in kinds.iter().zip(leaders.iter_mut()) {
        let mut status = None;
        let exited = wait_until(Duration::from_secs(10), || {
            status = leader.exit_status();
            status.is_some()
        });
        assert!(
            exited,
            "{kind:?}: the old leader kept running after losing its Lease:\n{}",
            leader.log_tail(20)
        );
        println!(
            "{kind:?}: the old leader exited {:.2}s after it resumed",
            resumed.elapsed().as_secs_f64()
        );
        let log = leader.log_plain();
        assert!(status.is_some_and(|s| !s.success()), "{kind:?}: {status:?}");
        assert!(log.contains("leaderelection lost"), "{kind:?}:\n{log}");
    }
    // The new leaders keep their Leases.
    for (kind, (_, id)) in kinds.iter().zip(&standbys) {
        assert_eq!(holder(&api, *kind), *id, "{kind:?}");
    }
    // ... and act: the controller-manager's serviceaccount controller
    // gives a new namespace its default ServiceAccount.
    api.kubectl_ok(&["create", "namespace", "after-failover"]);
    let ok = wait_until(Duration::from_secs(20), || {
        api.kubectl(&["get", "serviceaccount", "default", "-n", "after-failover"])
            .0
    });
    assert!(
        ok,
        "the new controller-manager leader does not act:\n{}",
        standbys[1].0.log_tail(20)
    );
}

#[test]
fn a_scheduler_stopped_cleanly_hands_over_at_once() {
    let api = ApiCluster::start();
    let mut first = spawn(&api, Kind::Scheduler, "scheduler-a", None);
    wait_holder(&api, Kind::Scheduler, &first, Duration::from_secs(30));
    let second = spawn(&api, Kind::Scheduler, "scheduler-b", None);
    let second_id = identity(&second);
    std::thread::sleep(Duration::from_secs(1));
    // SIGTERM: the leader releases the Lease on its way out.
    let stopped = Instant::now();
    first.stop();
    assert!(
        first.log_plain().contains("released the leader lease"),
        "{}",
        first.log_tail(10)
    );
    let ok = wait_until(Duration::from_secs(20), || {
        holder(&api, Kind::Scheduler) == second_id
    });
    let took = stopped.elapsed();
    assert!(ok, "no handover:\n{}", second.log_tail(20));
    println!(
        "handover after a clean stop took {:.2}s",
        took.as_secs_f64()
    );
    assert!(
        took < LEASE_DURATION - Duration::from_secs(1),
        "took {took:?}: the Lease was not released"
    );
    assert_eq!(lease_field(&api, Kind::Scheduler, "leaseTransitions"), "1");
}
