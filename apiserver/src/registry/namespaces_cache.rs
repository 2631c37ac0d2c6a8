//! The phase of every namespace, held in memory and kept current by a
//! list + watch of etcd, so a create does not pay an etcd read for
//! NamespaceLifecycle's "does the namespace exist, is it terminating?".
//!
//! As upstream's admission plugin does, a namespace the cache does not know
//! (created a moment ago, or the watch is down during an etcd outage) is
//! looked up live in etcd; only a cache hit skips the read.

use super::meta;
use crate::storage::{EtcdStorage, StorageError, WatchEventType};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// `status.phase` of a Namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamespacePhase {
    Active,
    Terminating,
}

impl NamespacePhase {
    /// The phase of a stored Namespace: Terminating once it carries a
    /// deletionTimestamp, whatever its status says yet.
    pub fn of(ns: &Value) -> NamespacePhase {
        let terminating = meta::is_deleting(ns)
            || ns.pointer("/status/phase").and_then(Value::as_str) == Some("Terminating");
        if terminating {
            NamespacePhase::Terminating
        } else {
            NamespacePhase::Active
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            NamespacePhase::Active => "Active",
            NamespacePhase::Terminating => "Terminating",
        }
    }
}

#[derive(Default)]
struct Inner {
    phases: RwLock<HashMap<String, NamespacePhase>>,
    /// True between a completed list and the watch after it failing: only
    /// then is a miss known to mean "no such namespace" (we still confirm
    /// misses live, so this only serves diagnostics and tests).
    synced: AtomicBool,
}

/// Shared, cheaply cloned namespace phase cache.
#[derive(Default, Clone)]
pub struct NamespaceCache {
    inner: Arc<Inner>,
}

impl NamespaceCache {
    /// The cached phase of `ns` (None: not known to the cache). Callers
    /// that must be exact on a miss use [`phase`](Self::phase).
    pub fn namespace_phase(&self, ns: &str) -> Option<NamespacePhase> {
        self.inner
            .phases
            .read()
            .ok()
            .and_then(|m| m.get(ns).copied())
    }

    /// The phase of `ns`: from the cache, or read from etcd on a miss
    /// (Ok(None) when the namespace does not exist).
    pub async fn phase(
        &self,
        etcd: &EtcdStorage,
        ns: &str,
    ) -> Result<Option<NamespacePhase>, StorageError> {
        if let Some(p) = self.namespace_phase(ns) {
            return Ok(Some(p));
        }
        let key = etcd.keys.object("namespaces", "", ns);
        match etcd.get(&key).await {
            Ok(o) => Ok(Some(NamespacePhase::of(&o.value))),
            Err(StorageError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub fn is_synced(&self) -> bool {
        self.inner.synced.load(Ordering::Relaxed)
    }

    fn set(&self, ns: &Value) {
        let name = meta::name(ns).to_string();
        if let Ok(mut m) = self.inner.phases.write() {
            m.insert(name, NamespacePhase::of(ns));
        }
    }

    fn remove(&self, ns: &Value) {
        if let Ok(mut m) = self.inner.phases.write() {
            m.remove(meta::name(ns));
        }
    }

    fn replace(&self, all: HashMap<String, NamespacePhase>) {
        if let Ok(mut m) = self.inner.phases.write() {
            *m = all;
        }
    }

    /// Keeps the cache in sync forever: list, then watch from the list's
    /// revision; after any failure (etcd down, compaction) the cache is
    /// emptied, so every lookup goes live until the next list.
    pub fn spawn_sync(&self, etcd: EtcdStorage) {
        let cache = self.clone();
        tokio::spawn(async move {
            loop {
                if let Err(e) = cache.sync_once(&etcd).await {
                    tracing::debug!("namespace cache: {e}");
                }
                cache.inner.synced.store(false, Ordering::Relaxed);
                cache.replace(HashMap::new());
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        });
    }

    async fn sync_once(&self, etcd: &EtcdStorage) -> Result<(), StorageError> {
        let prefix = etcd.keys.collection("namespaces", "");
        let page = etcd.list(&prefix, None, 0, 0).await?;
        let all = page
            .items
            .iter()
            .map(|o| {
                (
                    meta::name(&o.value).to_string(),
                    NamespacePhase::of(&o.value),
                )
            })
            .collect();
        self.replace(all);
        let mut events = etcd.watch(&prefix, page.revision).await?;
        self.inner.synced.store(true, Ordering::Relaxed);
        while let Some(ev) = events.recv().await {
            let ev = ev?;
            match ev.kind {
                WatchEventType::Added | WatchEventType::Modified => self.set(&ev.object),
                WatchEventType::Deleted => self.remove(&ev.object),
                WatchEventType::Progress => {}
            }
        }
        Err(StorageError::Unavailable("namespace watch ended".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn phase_of_stored_namespaces() {
        let cases = [
            (json!({"metadata": {"name": "a"}}), NamespacePhase::Active),
            (
                json!({"metadata": {"name": "a"}, "status": {"phase": "Active"}}),
                NamespacePhase::Active,
            ),
            (
                json!({"metadata": {"name": "a"}, "status": {"phase": "Terminating"}}),
                NamespacePhase::Terminating,
            ),
            (
                json!({"metadata": {"name": "a", "deletionTimestamp": "2026-11-22T10:00:00Z"}, "status": {"phase": "Active"}}),
                NamespacePhase::Terminating,
            ),
        ];
        for (ns, want) in cases {
            assert_eq!(NamespacePhase::of(&ns), want, "{ns}");
        }
    }

    #[test]
    fn cache_tracks_set_and_remove() {
        let c = NamespaceCache::default();
        assert_eq!(c.namespace_phase("web"), None);
        c.set(&json!({"metadata": {"name": "web"}, "status": {"phase": "Active"}}));
        assert_eq!(c.namespace_phase("web"), Some(NamespacePhase::Active));
        c.set(&json!({"metadata": {"name": "web", "deletionTimestamp": "x"}}));
        assert_eq!(c.namespace_phase("web"), Some(NamespacePhase::Terminating));
        c.remove(&json!({"metadata": {"name": "web"}}));
        assert_eq!(c.namespace_phase("web"), None);
        assert!(!c.is_synced());
    }
}
