//! The bounded ring of recent events: a watch from a resourceVersion the
//! ring still covers starts from memory; an older one is answered 410.

use super::event::CachedEvent;
use std::collections::VecDeque;
use std::sync::Arc;

pub struct EventRing {
    events: VecDeque<Arc<CachedEvent>>,
    capacity: usize,
    /// Every event after this revision is in the ring: a watch from a
    /// resourceVersion >= floor can be served.
    floor: i64,
}

impl EventRing {
    pub fn new(capacity: usize, floor: i64) -> Self {
        EventRing {
            events: VecDeque::with_capacity(capacity.min(4096)),
            capacity: capacity.max(1),
            floor,
        }
    }

    /// The oldest resourceVersion a watch may start from.
    pub fn floor(&self) -> i64 {
        self.floor
    }

    pub fn push(&mut self, ev: Arc<CachedEvent>) {
        if self.events.len() == self.capacity
            && let Some(old) = self.events.pop_front()
        {
            self.floor = self.floor.max(old.revision);
        }
        self.events.push_back(ev);
    }

    /// The events after `rv`, oldest first; None when `rv` is older than
    /// the ring covers.
    pub fn since(&self, rv: i64) -> Option<Vec<Arc<CachedEvent>>> {
        if rv < self.floor {
            return None;
        }
        let start = self.events.partition_point(|e| e.revision <= rv);
        Some(self.events.range(start..).cloned().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::WatchEventType;
    use serde_json::json;

    fn ev(rev: i64) -> Arc<CachedEvent> {
        Arc::new(CachedEvent::new(
            WatchEventType::Added,
            format!("/k/{rev}"),
            Arc::new(json!({})),
            None,
            rev,
        ))
    }

    #[test]
    fn serves_recent_revisions_and_refuses_older_than_the_ring() {
        let mut r = EventRing::new(3, 10);
        assert_eq!(r.since(10).map(|v| v.len()), Some(0));
        assert!(r.since(9).is_none());
        for rev in [11, 12, 13, 14] {
            r.push(ev(rev));
        }
        // 11 fell out: a watch from 10 would miss it.
        assert_eq!(r.floor(), 11);
        assert!(r.since(10).is_none());
        let revs: Vec<i64> = r.since(12).unwrap().iter().map(|e| e.revision).collect();
        assert_eq!(revs, vec![13, 14]);
        assert_eq!(r.since(20).map(|v| v.len()), Some(0));
    }
}
