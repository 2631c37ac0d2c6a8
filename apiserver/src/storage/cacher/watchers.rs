//! The watchers of one resource and the fan-out of each event to them.
//! Dispatch never waits: every watcher has a bounded buffer, and one that
//! is full is closed (its client re-watches or relists), as upstream's
//! cacher does, so a slow client never holds back the others or the etcd
//! watch.

use super::event::CachedEvent;
use super::index;
use crate::registry::selection::Filter;
use crate::storage::WatchEventType;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use tokio::sync::mpsc;

/// What a watcher's stream is told: the event type after its selectors
/// (a change moving an object into the selection is ADDED, out of it
/// DELETED) and the shared event.
pub struct Delivery {
    pub kind: &'static str,
    pub event: Arc<CachedEvent>,
}

/// What one API watch asked for.
pub struct WatcherSpec {
    pub filter: Filter,
    /// The etcd key prefix of the namespace watched (or of the resource).
    pub key_prefix: String,
    /// Events at or before this revision are not for this watcher.
    pub after: i64,
}

struct Entry {
    spec: WatcherSpec,
    bucket: Option<String>,
    tx: mpsc::Sender<Delivery>,
}

/// Upstream's "moved in → ADDED / moved out → DELETED" rule for one change
/// seen through a selector.
pub fn transition(
    filter: &Filter,
    kind: WatchEventType,
    object: &Value,
    prev: Option<&Value>,
) -> Option<&'static str> {
    let now = filter.matches(object);
    match kind {
        WatchEventType::Added => now.then_some("ADDED"),
        WatchEventType::Deleted => now.then_some("DELETED"),
        WatchEventType::Modified => {
            let before = prev.is_some_and(|p| filter.matches(p));
            match (before, now) {
                (true, true) => Some("MODIFIED"),
                (false, true) => Some("ADDED"),
                (true, false) => Some("DELETED"),
                (false, false) => None,
            }
        }
        WatchEventType::Progress => None,
    }
}

/// The registry of one resource's watchers, with the field index.
pub struct Watchers {
    field: Option<&'static str>,
    next_id: u64,
    entries: HashMap<u64, Entry>,
    by_bucket: HashMap<String, HashSet<u64>>,
    unindexed: HashSet<u64>,
    /// Watchers closed because their buffer was full (a metric).
    pub closed_slow: u64,
}

impl Watchers {
    pub fn new(field: Option<&'static str>) -> Self {
        Watchers {
            field,
            next_id: 0,
            entries: HashMap::new(),
            by_bucket: HashMap::new(),
            unindexed: HashSet::new(),
            closed_slow: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Would `spec` see `ev`, and as what?
    pub fn offer(spec: &WatcherSpec, ev: &CachedEvent) -> Option<&'static str> {
        if ev.revision <= spec.after || !ev.key.starts_with(&spec.key_prefix) {
            return None;
        }
        transition(&spec.filter, ev.kind, &ev.object, ev.prev.as_deref())
    }

    pub fn add(&mut self, spec: WatcherSpec, tx: mpsc::Sender<Delivery>) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        let bucket = index::bucket_of(self.field, &spec.filter);
        match &bucket {
            Some(b) => {
                self.by_bucket.entry(b.clone()).or_default().insert(id);
            }
            None => {
                self.unindexed.insert(id);
            }
        }
        self.entries.insert(id, Entry { spec, bucket, tx });
        id
    }

    pub fn remove(&mut self, id: u64) {
        let Some(e) = self.entries.remove(&id) else {
            return;
        };
        match e.bucket {
            Some(b) => {
                if let Some(set) = self.by_bucket.get_mut(&b) {
                    set.remove(&id);
                    if set.is_empty() {
                        self.by_bucket.remove(&b);
                    }
                }
            }
            None => {
                self.unindexed.remove(&id);
            }
        }
    }

    /// Ends every watch (after a relist their positions mean nothing).
    pub fn close_all(&mut self) {
        self.entries.clear();
        self.by_bucket.clear();
        self.unindexed.clear();
    }

    /// Offers `ev` to the watchers it can concern; closes those whose
    /// buffer is full or whose stream is gone. Never waits.
    pub fn dispatch(&mut self, ev: &Arc<CachedEvent>) {
        let mut candidates: Vec<u64> = self.unindexed.iter().copied().collect();
        if let Some(field) = self.field {
            let now = index::value_of(field, &ev.object);
            let before = ev.prev.as_deref().map(|p| index::value_of(field, p));
            if let Some(set) = self.by_bucket.get(&now) {
                candidates.extend(set.iter().copied());
            }
            if let Some(b) = before.filter(|b| *b != now)
                && let Some(set) = self.by_bucket.get(&b)
            {
                candidates.extend(set.iter().copied());
            }
        }
        let mut gone = Vec::new();
        for id in candidates {
            let Some(e) = self.entries.get(&id) else {
                continue;
            };
            let Some(kind) = Self::offer(&e.spec, ev) else {
                continue;
            };
            let d = Delivery {
                kind,
                event: ev.clone(),
            };
            match e.tx.try_send(d) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => {
                    self.closed_slow += 1;
                    gone.push(id);
                }
                Err(mpsc::error::TrySendError::Closed(_)) => gone.push(id),
            }
        }
        for id in gone {
            self.remove(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pods_filter(sel: Option<&str>) -> Filter {
        let pods = crate::resources::lookup("", "v1", "pods").expect("served");
        Filter::new(None, sel, crate::registry::strategy::for_resource(pods)).unwrap()
    }

    fn pod_event(kind: WatchEventType, node: &str, prev_node: Option<&str>) -> Arc<CachedEvent> {
        let obj = |n: &str| {
            Arc::new(
                json!({"metadata": {"name": "p", "namespace": "default"}, "spec": {"nodeName": n}}),
            )
        };
        Arc::new(CachedEvent::new(
            kind,
            "/registry/pods/default/p".into(),
            obj(node),
            prev_node.map(obj),
            7,
        ))
    }

    fn spec(sel: Option<&str>) -> WatcherSpec {
        WatcherSpec {
            filter: pods_filter(sel),
            key_prefix: "/registry/pods/".into(),
            after: 0,
        }
    }

    #[test]
    fn node_index_offers_events_only_to_the_nodes_concerned() {
        let mut w = Watchers::new(Some("spec.nodeName"));
        let (tx1, mut rx1) = mpsc::channel(8);
        let (tx2, mut rx2) = mpsc::channel(8);
        let (tx_all, mut rx_all) = mpsc::channel(8);
        w.add(spec(Some("spec.nodeName=n1")), tx1);
        w.add(spec(Some("spec.nodeName=n2")), tx2);
        w.add(spec(None), tx_all);
        // Bound to n1 (was unscheduled): n1 sees ADDED, n2 nothing.
        w.dispatch(&pod_event(WatchEventType::Modified, "n1", Some("")));
        assert_eq!(rx1.try_recv().map(|d| d.kind).ok(), Some("ADDED"));
        assert!(rx2.try_recv().is_err());
        assert_eq!(rx_all.try_recv().map(|d| d.kind).ok(), Some("MODIFIED"));
        // Moved from n1 to n2: DELETED for n1, ADDED for n2.
        w.dispatch(&pod_event(WatchEventType::Modified, "n2", Some("n1")));
        assert_eq!(rx1.try_recv().map(|d| d.kind).ok(), Some("DELETED"));
        assert_eq!(rx2.try_recv().map(|d| d.kind).ok(), Some("ADDED"));
    }

    #[test]
    fn a_full_watcher_is_closed_and_the_others_go_on() {
        let mut w = Watchers::new(None);
        let (slow_tx, slow_rx) = mpsc::channel(1);
        let (fast_tx, mut fast_rx) = mpsc::channel(8);
        w.add(spec(None), slow_tx);
        w.add(spec(None), fast_tx);
        for _ in 0..3 {
            w.dispatch(&pod_event(WatchEventType::Added, "n1", None));
            assert!(fast_rx.try_recv().is_ok());
        }
        assert_eq!(w.len(), 1);
        assert_eq!(w.closed_slow, 1);
        drop(slow_rx);
    }

    #[test]
    fn selector_transitions_become_added_and_deleted() {
        let pods = crate::resources::lookup("", "v1", "pods").expect("served");
        let f = Filter::new(
            Some("app=web"),
            None,
            crate::registry::strategy::for_resource(pods),
        )
        .unwrap();
        let o = |app: &str| json!({"metadata": {"name": "a", "labels": {"app": app}}});
        let t =
            |k, now: &str, before: Option<&str>| transition(&f, k, &o(now), before.map(o).as_ref());
        assert_eq!(t(WatchEventType::Added, "web", None), Some("ADDED"));
        assert_eq!(t(WatchEventType::Added, "db", None), None);
        assert_eq!(
            t(WatchEventType::Modified, "db", Some("web")),
            Some("DELETED")
        );
        assert_eq!(
            t(WatchEventType::Modified, "web", Some("db")),
            Some("ADDED")
        );
        assert_eq!(
            t(WatchEventType::Modified, "web", Some("web")),
            Some("MODIFIED")
        );
    }
}
