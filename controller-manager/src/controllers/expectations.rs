//! Expectations: what a controller has just created or deleted and not yet
//! seen in its cache. While some are outstanding the controller does not
//! count pods again (its cache is behind its own writes and it would create
//! or delete twice). They lapse after a timeout, in case a watch event was
//! lost.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Default)]
struct Pending {
    created: HashSet<String>,
    deleted: HashSet<String>,
    since: Option<Instant>,
}

/// Outstanding writes per controller object key (`namespace/name`).
#[derive(Default)]
pub struct Expectations {
    pending: Mutex<HashMap<String, Pending>>,
}

impl Expectations {
    fn with<T>(&self, key: &str, f: impl FnOnce(&mut Pending) -> T) -> T {
        let mut map = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let entry = map.entry(key.to_string()).or_default();
        entry.since.get_or_insert_with(Instant::now);
        f(entry)
    }

    /// A pod with this uid was created for `key`.
    pub fn created(&self, key: &str, uid: String) {
        self.with(key, |p| p.created.insert(uid));
    }

    /// The pod with this uid was deleted for `key`.
    pub fn deleted(&self, key: &str, uid: String) {
        self.with(key, |p| p.deleted.insert(uid));
    }

    /// Whether the cache has caught up: `seen(uid)` says whether the cache
    /// holds a live (not terminating) object with that uid.
    pub fn satisfied(&self, key: &str, seen: impl Fn(&str) -> bool) -> bool {
        let mut map = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let Some(p) = map.get_mut(key) else {
            return true;
        };
        p.created.retain(|uid| !seen(uid));
        p.deleted.retain(|uid| seen(uid));
        let expired = p.since.is_some_and(|s| s.elapsed() > TIMEOUT);
        if (p.created.is_empty() && p.deleted.is_empty()) || expired {
            map.remove(key);
            return true;
        }
        false
    }

    /// Forgets `key` (its object is gone).
    pub fn forget(&self, key: &str) {
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_for_cache() {
        let e = Expectations::default();
        assert!(e.satisfied("ns/rs", |_| false));
        e.created("ns/rs", "a".into());
        e.deleted("ns/rs", "b".into());
        assert!(!e.satisfied("ns/rs", |uid| uid == "b"));
        assert!(!e.satisfied("ns/rs", |uid| uid == "a" || uid == "b"));
        assert!(e.satisfied("ns/rs", |uid| uid == "a"));
        assert!(e.satisfied("ns/rs", |_| false));
    }
}
