//! Watch-fed caches of the objects admission plugins read (namespaces,
//! service accounts, LimitRanges, PriorityClasses, ResourceQuotas,
//! StorageClasses), so a pod create does not pay half a dozen etcd reads.
//!
//! Each kind is fed by its watch cache (`storage::cacher::feed`: the
//! snapshot, then the changes); after any break the kind is marked
//! unsynced, every read goes live, until it has a fresh snapshot. As upstream's
//! informers plus "live lookup" do, a miss on one name (an object created a
//! moment ago, not yet seen by the watch) is confirmed with a live read, and
//! an empty namespaced list of a kind that must not be missed (quotas,
//! LimitRanges) is confirmed live too, memoized for a short while.

use crate::registry::{Store, meta};
use crate::storage::cacher::feed;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// (group, version, plural) of a kind.
pub type Kind = (&'static str, &'static str, &'static str);

/// How long an empty live list is trusted before being asked again
/// (upstream memoizes its live lookups for 30s; we stay much shorter since
/// the watch normally delivers a new object within milliseconds).
const EMPTY_LIST_TTL: Duration = Duration::from_secs(1);

/// Objects of one kind by namespace ("" for cluster-scoped) then name.
type Objects = BTreeMap<String, BTreeMap<String, Value>>;

#[derive(Default)]
struct Inner {
    objects: RwLock<Objects>,
    synced: AtomicBool,
    /// Namespaces whose live list came back empty, and when.
    empty_checked: RwLock<HashMap<String, Instant>>,
    /// Held while an empty list is confirmed live, so that concurrent
    /// requests share one etcd list instead of each sending their own
    /// (64 concurrent pod creates otherwise list LimitRanges and quotas
    /// 64 times every time the memo expires).
    confirming: tokio::sync::Mutex<()>,
}

/// The cache of one kind; cheap to clone.
#[derive(Clone)]
pub struct KindCache {
    pub kind: Kind,
    /// Confirm an empty namespaced list live (see the module doc).
    confirm_empty: bool,
    inner: Arc<Inner>,
}

impl KindCache {
    fn new(kind: Kind, confirm_empty: bool) -> Self {
        KindCache {
            kind,
            confirm_empty,
            inner: Arc::default(),
        }
    }

    pub fn is_synced(&self) -> bool {
        self.inner.synced.load(Ordering::Relaxed)
    }

    /// The cached object (None: unsynced or not known).
    pub fn cached(&self, ns: &str, name: &str) -> Option<Value> {
        if !self.is_synced() {
            return None;
        }
        let m = self.inner.objects.read().ok()?;
        m.get(ns).and_then(|n| n.get(name)).cloned()
    }

    /// Every cached object in `ns` ("" = every namespace); None when the
    /// cache cannot answer (unsynced, or an empty list to confirm live).
    pub fn cached_list(&self, ns: &str) -> Option<Vec<Value>> {
        if !self.is_synced() {
            return None;
        }
        let m = self.inner.objects.read().ok()?;
        let items: Vec<Value> = if ns.is_empty() {
            m.values().flat_map(|n| n.values().cloned()).collect()
        } else {
            m.get(ns)
                .map(|n| n.values().cloned().collect())
                .unwrap_or_default()
        };
        if items.is_empty() && self.confirm_empty && !ns.is_empty() {
            let fresh = self
                .inner
                .empty_checked
                .read()
                .ok()
                .and_then(|e| e.get(ns).copied())
                .is_some_and(|t| t.elapsed() < EMPTY_LIST_TTL);
            if !fresh {
                return None;
            }
        }
        Some(items)
    }

    /// Serialises live confirmations of an empty list: the holder lists
    /// etcd, later holders find its fresh answer with [`Self::cached_list`].
    pub async fn confirming(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.inner.confirming.lock().await
    }

    /// Records that a live list of `ns` was empty.
    pub fn note_live_list(&self, ns: &str, len: usize) {
        if !self.confirm_empty || ns.is_empty() {
            return;
        }
        if let Ok(mut e) = self.inner.empty_checked.write() {
            if len == 0 {
                e.insert(ns.to_string(), Instant::now());
            } else {
                e.remove(ns);
            }
        }
    }

    fn set(&self, o: &Value) {
        if let Ok(mut m) = self.inner.objects.write() {
            m.entry(meta::namespace(o).to_string())
                .or_default()
                .insert(meta::name(o).to_string(), o.clone());
        }
    }

    fn remove(&self, o: &Value) {
        if let Ok(mut m) = self.inner.objects.write() {
            let ns = meta::namespace(o);
            if let Some(n) = m.get_mut(ns) {
                n.remove(meta::name(o));
                if n.is_empty() {
                    m.remove(ns);
                }
            }
        }
    }

    fn replace(&self, items: impl Iterator<Item = Value>) {
        let mut all = Objects::new();
        for o in items {
            all.entry(meta::namespace(&o).to_string())
                .or_default()
                .insert(meta::name(&o).to_string(), o);
        }
        if let Ok(mut m) = self.inner.objects.write() {
            *m = all;
        }
    }
}

/// Fed by the kind's watch cache (`storage::cacher::feed`): answers only
/// between a replace and the next break, reads go live otherwise.
impl feed::Handler for KindCache {
    fn replace(&self, objects: Vec<Value>) {
        KindCache::replace(self, objects.into_iter());
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
        KindCache::replace(self, std::iter::empty());
    }
}

/// One cache per kind admission reads.
#[derive(Clone)]
pub struct AdmissionCaches {
    pub kinds: Vec<KindCache>,
}

impl std::fmt::Debug for AdmissionCaches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.kinds.iter().map(|k| k.kind.2).collect();
        f.debug_struct("AdmissionCaches")
            .field("kinds", &names)
            .finish()
    }
}

impl Default for AdmissionCaches {
    fn default() -> Self {
        use super::lookup::*;
        AdmissionCaches {
            kinds: vec![
                KindCache::new(NAMESPACES, false),
                KindCache::new(SERVICE_ACCOUNTS, false),
                KindCache::new(LIMIT_RANGES, true),
                KindCache::new(RESOURCE_QUOTAS, true),
                KindCache::new(PRIORITY_CLASSES, false),
                KindCache::new(STORAGE_CLASSES, false),
                KindCache::new(super::policy::POLICIES, false),
                KindCache::new(super::policy::BINDINGS, false),
                KindCache::new(super::webhook::VALIDATING, false),
                KindCache::new(super::webhook::MUTATING, false),
            ],
        }
    }
}

impl AdmissionCaches {
    pub fn of(&self, kind: Kind) -> Option<&KindCache> {
        self.kinds.iter().find(|k| k.kind == kind)
    }

    /// Starts every kind's list + watch loop (once, at apiserver start).
    pub fn spawn_sync(&self, store: &Store) {
        for k in &self.kinds {
            let Ok(def) = super::lookup::def(k.kind.0, k.kind.1, k.kind.2) else {
                continue;
            };
            feed::spawn(
                store.cacher.clone(),
                store.etcd.clone(),
                def,
                Arc::new(k.clone()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(ns: &str, name: &str) -> Value {
        json!({"metadata": {"namespace": ns, "name": name}})
    }

    #[test]
    fn answers_only_when_synced_and_tracks_events() {
        let c = KindCache::new(("", "v1", "serviceaccounts"), false);
        c.set(&obj("a", "default"));
        assert_eq!(c.cached("a", "default"), None, "unsynced: no answer");
        c.inner.synced.store(true, Ordering::Relaxed);
        assert_eq!(c.cached("a", "default"), Some(obj("a", "default")));
        c.set(&obj("b", "x"));
        assert_eq!(c.cached_list("").map(|l| l.len()), Some(2));
        assert_eq!(c.cached_list("a").map(|l| l.len()), Some(1));
        c.remove(&obj("a", "default"));
        assert_eq!(c.cached("a", "default"), None);
        assert_eq!(c.cached_list("a"), Some(Vec::new()));
        c.replace(vec![obj("c", "y")].into_iter());
        assert_eq!(c.cached_list("").map(|l| l.len()), Some(1));
    }

    #[test]
    fn empty_quota_lists_are_confirmed_live_then_memoized() {
        let c = KindCache::new(("", "v1", "resourcequotas"), true);
        c.inner.synced.store(true, Ordering::Relaxed);
        assert_eq!(c.cached_list("web"), None, "empty: go live");
        c.note_live_list("web", 0);
        assert_eq!(c.cached_list("web"), Some(Vec::new()), "memoized empty");
        c.set(&obj("web", "q"));
        assert_eq!(c.cached_list("web").map(|l| l.len()), Some(1));
    }

    #[tokio::test]
    async fn a_waiting_confirmation_reads_the_holders_answer() {
        let c = KindCache::new(("", "v1", "limitranges"), true);
        c.inner.synced.store(true, Ordering::Relaxed);
        let holder = c.confirming().await;
        let waiter = {
            let c = c.clone();
            tokio::spawn(async move {
                let _g = c.confirming().await;
                c.cached_list("web")
            })
        };
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished(), "the waiter queues behind the holder");
        assert_eq!(c.cached_list("web"), None);
        c.note_live_list("web", 0);
        drop(holder);
        let seen = waiter.await.expect("waiter runs");
        assert_eq!(seen, Some(Vec::new()), "no second live list needed");
    }
}
