//! The phase of every namespace, held in memory and kept current by the
//! namespaces' watch cache, so a create does not pay an etcd read for
//! NamespaceLifecycle's "does the namespace exist, is it terminating?".
//!
//! As upstream's admission plugin does, a namespace the cache does not know
//! (created a moment ago, or the watch is down during an etcd outage) is
//! looked up live in etcd; only a cache hit skips the read.

use super::meta;
use crate::storage::cacher::{Cacher, feed};
use crate::storage::{EtcdStorage, StorageError};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

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

    /// Keeps the cache in sync forever, fed by the namespaces' watch
    /// cache (`storage::cacher::feed`); after any break the cache is
    /// emptied, so every lookup goes live until the next snapshot.
    pub fn spawn_sync(&self, cacher: Option<Arc<Cacher>>, etcd: EtcdStorage) {
        if let Some(def) = crate::resources::lookup("", "v1", "namespaces") {
            feed::spawn(cacher, etcd, def, Arc::new(self.clone()));
        }
    }
}

impl feed::Handler for NamespaceCache {
    fn replace(&self, objects: Vec<Value>) {
        let all = objects
            .iter()
            .map(|o| (meta::name(o).to_string(), NamespacePhase::of(o)))
            .collect();
        NamespaceCache::replace(self, all);
        self.inner.synced.store(true, Ordering::Relaxed);
    }
    fn upsert(&self, o: &Value) {
        self.set(o);
    }
    fn delete(&self, o: &Value) {
        self.remove(o);
    }
    fn lost(&self) {
        self.inner.synced.store(false, Ordering::Relaxed);
        NamespaceCache::replace(self, HashMap::new());
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
