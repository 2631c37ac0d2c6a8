//! The scheduling queue: `active` (ordered by priority, then arrival),
//! `backoff` (failed pods wait 1 s, doubling up to 10 s) and
//! `unschedulable` (parked until a cluster event could help them, or five
//! minutes pass). One pod is handed out at a time.

use crate::framework::PodInfo;
use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

pub const INITIAL_BACKOFF: Duration = Duration::from_secs(1);
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// Unschedulable pods are retried at least this often.
pub const MAX_IN_UNSCHEDULABLE: Duration = Duration::from_secs(300);

/// A pod waiting in the queue, with its scheduling history.
#[derive(Debug, Clone)]
pub struct QueuedPod {
    pub info: Arc<PodInfo>,
    /// When the pod was first seen (for ordering and e2e latency).
    pub first_seen: Instant,
    /// When it last entered the active queue (for ordering).
    pub timestamp: Instant,
    pub attempts: u32,
    /// The scheduling cycle of the last attempt.
    pub cycle: u64,
}

impl QueuedPod {
    pub fn new(info: Arc<PodInfo>) -> QueuedPod {
        let now = Instant::now();
        QueuedPod {
            info,
            first_seen: now,
            timestamp: now,
            attempts: 0,
            cycle: 0,
        }
    }

    pub fn backoff(&self) -> Duration {
        let shift = self.attempts.saturating_sub(1).min(10);
        (INITIAL_BACKOFF * (1u32 << shift)).min(MAX_BACKOFF)
    }
}

/// Heap entry; `seq` tells a stale entry (the pod moved or changed) from
/// the live one.
#[derive(Debug, PartialEq, Eq)]
struct Entry {
    priority: i32,
    seq: u64,
    key: String,
}

impl Ord for Entry {
    fn cmp(&self, o: &Self) -> Ordering {
        // Higher priority first, then earlier arrival.
        self.priority
            .cmp(&o.priority)
            .then_with(|| o.seq.cmp(&self.seq))
    }
}
impl PartialOrd for Entry {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

#[derive(Default)]
struct Inner {
    heap: BinaryHeap<Entry>,
    active: HashMap<String, (u64, QueuedPod)>,
    backoff: HashMap<String, (Instant, QueuedPod)>,
    unschedulable: HashMap<String, (Instant, QueuedPod)>,
    in_flight: HashSet<String>,
    seq: u64,
    scheduling_cycle: u64,
    /// The cycle during which the last "something changed" event came:
    /// pods that failed in that cycle or earlier go to backoff, not park.
    move_request_cycle: u64,
    closed: bool,
}

/// Queue lengths, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lengths {
    pub active: usize,
    pub backoff: usize,
    pub unschedulable: usize,
}

#[derive(Default)]
pub struct SchedulingQueue {
    inner: Mutex<Inner>,
    ready: Notify,
}

impl Inner {
    fn push_active(&mut self, mut qp: QueuedPod) {
        self.seq += 1;
        let key = qp.info.key();
        qp.timestamp = Instant::now();
        self.heap.push(Entry {
            priority: qp.info.priority,
            seq: self.seq,
            key: key.clone(),
        });
        self.active.insert(key, (self.seq, qp));
    }

    fn contains(&self, key: &str) -> bool {
        self.active.contains_key(key)
            || self.backoff.contains_key(key)
            || self.unschedulable.contains_key(key)
    }

    fn take(&mut self, key: &str) -> Option<QueuedPod> {
        if let Some((_, qp)) = self.active.remove(key) {
            return Some(qp);
        }
        if let Some((_, qp)) = self.backoff.remove(key) {
            return Some(qp);
        }
        self.unschedulable.remove(key).map(|(_, qp)| qp)
    }

    /// To backoff when its backoff has not run out, else to active.
    fn requeue(&mut self, qp: QueuedPod, failed_at: Instant) {
        let until = failed_at + qp.backoff();
        if qp.attempts > 0 && until > Instant::now() {
            self.backoff.insert(qp.info.key(), (until, qp));
        } else {
            self.push_active(qp);
        }
    }
}

impl SchedulingQueue {
    pub fn new() -> Arc<SchedulingQueue> {
        Arc::new(SchedulingQueue::default())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new pending pod, or a change to one already queued.
    pub fn add_or_update(&self, info: Arc<PodInfo>) {
        let key = info.key();
        let mut q = self.lock();
        if q.in_flight.contains(&key) {
            return;
        }
        if let Some((_, mut qp)) = q.active.remove(&key) {
            // Re-pushed so a priority change reorders it (the old heap
            // entry goes stale).
            qp.info = info;
            q.push_active(qp);
        } else if let Some((_, qp)) = q.backoff.get_mut(&key) {
            qp.info = info;
        } else if let Some((since, mut qp)) = q.unschedulable.remove(&key) {
            // A change to the pod's spec or labels may make it fit; a
            // status-only change (our own PodScheduled condition) does not.
            let changed = qp.info.pod.spec != info.pod.spec || qp.info.labels != info.labels;
            qp.info = info;
            if changed {
                q.requeue(qp, since);
            } else {
                q.unschedulable.insert(key, (since, qp));
            }
        } else {
            q.push_active(QueuedPod::new(info));
        }
        drop(q);
        self.ready.notify_one();
    }

    pub fn delete(&self, key: &str) {
        let mut q = self.lock();
        q.take(key);
    }

    pub fn contains(&self, key: &str) -> bool {
        self.lock().contains(key)
    }

    /// Waits for the next pod to schedule; None once closed.
    pub async fn pop(&self) -> Option<QueuedPod> {
        loop {
            let notified = self.ready.notified();
            {
                let mut q = self.lock();
                if q.closed {
                    return None;
                }
                while let Some(e) = q.heap.pop() {
                    let live = q.active.get(&e.key).is_some_and(|(seq, _)| *seq == e.seq);
                    if !live {
                        continue;
                    }
                    if let Some((_, mut qp)) = q.active.remove(&e.key) {
                        q.scheduling_cycle += 1;
                        qp.cycle = q.scheduling_cycle;
                        qp.attempts += 1;
                        q.in_flight.insert(e.key.clone());
                        return Some(qp);
                    }
                }
            }
            notified.await;
        }
    }

    /// The attempt for this pod is over (scheduled, or handed back).
    pub fn done(&self, key: &str) {
        self.lock().in_flight.remove(key);
    }

    /// Hands back a pod that did not fit: parked, unless a cluster event
    /// came while it was being scheduled (then it backs off and retries).
    pub fn add_unschedulable(&self, qp: QueuedPod) {
        let key = qp.info.key();
        let mut q = self.lock();
        q.in_flight.remove(&key);
        if q.contains(&key) {
            return;
        }
        let now = Instant::now();
        if q.move_request_cycle >= qp.cycle {
            q.backoff.insert(key, (now + qp.backoff(), qp));
        } else {
            q.unschedulable.insert(key, (now, qp));
        }
    }

    /// Hands back a pod whose attempt failed for a reason other than fit
    /// (an API error): it backs off.
    pub fn add_backoff(&self, qp: QueuedPod) {
        let key = qp.info.key();
        let mut q = self.lock();
        q.in_flight.remove(&key);
        if q.contains(&key) {
            return;
        }
        let until = Instant::now() + qp.backoff();
        q.backoff.insert(key, (until, qp));
    }

    /// A cluster event that could make parked pods fit (node added or
    /// changed, pod deleted, volume changes): move them all on.
    pub fn move_all_to_active_or_backoff(&self) {
        let mut q = self.lock();
        let parked: Vec<(Instant, QueuedPod)> = q.unschedulable.drain().map(|(_, v)| v).collect();
        for (since, qp) in parked {
            q.requeue(qp, since);
        }
        q.move_request_cycle = q.scheduling_cycle;
        drop(q);
        self.ready.notify_one();
    }

    /// Moves pods whose backoff ran out to active, and pods parked too
    /// long back to the queue. Called every second.
    pub fn flush(&self) {
        let now = Instant::now();
        let mut q = self.lock();
        let due: Vec<String> = q
            .backoff
            .iter()
            .filter(|(_, (until, _))| *until <= now)
            .map(|(k, _)| k.clone())
            .collect();
        let moved = !due.is_empty();
        for k in due {
            if let Some((_, qp)) = q.backoff.remove(&k) {
                q.push_active(qp);
            }
        }
        let stale: Vec<String> = q
            .unschedulable
            .iter()
            .filter(|(_, (since, _))| now.duration_since(*since) >= MAX_IN_UNSCHEDULABLE)
            .map(|(k, _)| k.clone())
            .collect();
        for k in stale {
            if let Some((since, qp)) = q.unschedulable.remove(&k) {
                q.requeue(qp, since);
            }
        }
        drop(q);
        if moved {
            self.ready.notify_one();
        }
    }

    pub fn lengths(&self) -> Lengths {
        let q = self.lock();
        Lengths {
            active: q.active.len(),
            backoff: q.backoff.len(),
            unschedulable: q.unschedulable.len(),
        }
    }

    /// Makes `pop` return None (shutdown).
    pub fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::pod;
    use serde_json::json;

    fn info(name: &str, priority: i32) -> Arc<PodInfo> {
        Arc::new(pod(
            json!({"metadata": {"name": name}, "spec": {"priority": priority}}),
        ))
    }

    #[tokio::test]
    async fn pops_by_priority_then_arrival() {
        let q = SchedulingQueue::new();
        q.add_or_update(info("low", 0));
        q.add_or_update(info("high", 100));
        q.add_or_update(info("low2", 0));
        q.add_or_update(info("high2", 100));
        let mut order = Vec::new();
        for _ in 0..4 {
            let p = q.pop().await.unwrap();
            order.push(p.info.name.clone());
            q.done(&p.info.key());
        }
        assert_eq!(order, vec!["high", "high2", "low", "low2"]);
    }

    #[tokio::test]
    async fn unschedulable_pods_wait_for_an_event() {
        let q = SchedulingQueue::new();
        q.add_or_update(info("p", 0));
        let p = q.pop().await.unwrap();
        q.add_unschedulable(p);
        assert_eq!(
            q.lengths(),
            Lengths {
                active: 0,
                backoff: 0,
                unschedulable: 1
            }
        );
        q.flush();
        assert_eq!(q.lengths().unschedulable, 1);
        q.move_all_to_active_or_backoff();
        // Failed a moment ago with a 1 s backoff: it waits in backoff.
        assert_eq!(
            q.lengths(),
            Lengths {
                active: 0,
                backoff: 1,
                unschedulable: 0
            }
        );
    }

    #[tokio::test]
    async fn an_event_during_the_attempt_sends_the_pod_to_backoff() {
        let q = SchedulingQueue::new();
        q.add_or_update(info("p", 0));
        let p = q.pop().await.unwrap();
        q.move_all_to_active_or_backoff();
        q.add_unschedulable(p);
        assert_eq!(
            q.lengths(),
            Lengths {
                active: 0,
                backoff: 1,
                unschedulable: 0
            }
        );
    }

    #[tokio::test]
    async fn in_flight_pods_are_not_queued_twice_and_deletes_remove() {
        let q = SchedulingQueue::new();
        q.add_or_update(info("p", 0));
        let p = q.pop().await.unwrap();
        q.add_or_update(info("p", 0));
        assert!(!q.contains("default/p"));
        q.done(&p.info.key());
        q.add_or_update(info("p", 0));
        assert!(q.contains("default/p"));
        q.delete("default/p");
        assert!(!q.contains("default/p"));
    }

    #[tokio::test]
    async fn only_spec_or_label_changes_requeue_a_parked_pod() {
        let q = SchedulingQueue::new();
        q.add_or_update(info("p", 0));
        let p = q.pop().await.unwrap();
        q.add_unschedulable(p);
        q.add_or_update(info("p", 0));
        assert_eq!(
            q.lengths().unschedulable,
            1,
            "status-only update keeps it parked"
        );
        let relabelled = Arc::new(pod(
            json!({"metadata": {"name": "p", "labels": {"x": "y"}}, "spec": {"priority": 0}}),
        ));
        q.add_or_update(relabelled);
        assert_eq!(q.lengths().unschedulable, 0);
    }

    #[test]
    fn backoff_doubles_to_ten_seconds() {
        let mut qp = QueuedPod::new(info("p", 0));
        let mut got = Vec::new();
        for a in 1..=6 {
            qp.attempts = a;
            got.push(qp.backoff().as_secs());
        }
        assert_eq!(got, vec![1, 2, 4, 8, 10, 10]);
    }
}
