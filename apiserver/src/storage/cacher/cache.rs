//! The watch cache of one resource (one etcd key prefix): a snapshot of
//! every object, the ring of recent events and the watchers, kept by ONE
//! etcd watch whose events are decoded once.

use super::event::CachedEvent;
use super::index;
use super::ring::EventRing;
use super::watchers::{Delivery, WatcherSpec, Watchers};
use crate::registry::selection::Filter;
use crate::storage::{EtcdStorage, StorageError, WatchEvent, WatchEventType};
use bytes::Bytes;
use serde_json::Value;
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// Where a new watcher starts.
pub enum From {
    /// The cache's current state as synthetic ADDED events, then changes.
    Snapshot,
    /// Changes after this resourceVersion (from the ring).
    Revision(i64),
}

/// A watch's position is older than the ring: 410 Gone.
#[derive(Debug)]
pub struct TooOld {
    pub requested: i64,
    pub floor: i64,
}

/// A registered watcher: what it is owed before live events, and its
/// buffer. Dropping it unregisters the watcher.
pub struct Subscription {
    /// The snapshot's objects (for [`From::Snapshot`]), in key order.
    pub initial: Vec<Value>,
    /// Ring events after the requested revision, already filtered.
    pub replay: Vec<Delivery>,
    /// The revision the watcher starts at (the snapshot's).
    pub revision: i64,
    pub rx: mpsc::Receiver<Delivery>,
    guard: Unregister,
}

impl Subscription {
    /// The cache's current revision (for bookmarks).
    pub fn current_revision(&self) -> i64 {
        self.guard
            .cache
            .upgrade()
            .map_or(self.revision, |c| c.revision())
    }
}

struct Unregister {
    cache: Weak<ResourceCache>,
    id: u64,
}

impl Drop for Unregister {
    fn drop(&mut self) {
        if let Some(c) = self.cache.upgrade()
            && let Ok(mut s) = c.state.lock()
        {
            s.watchers.remove(self.id);
        }
    }
}

/// One page of a list served from the snapshot.
pub struct CachedList {
    pub items: Vec<Value>,
    pub revision: i64,
    /// The key of the last item when more matching keys may follow.
    pub next_key: Option<String>,
    /// Keys left after the last item (for `remainingItemCount`).
    pub remaining: i64,
}

/// An object of the snapshot as etcd stores it: its JSON bytes and
/// revision. Decoded values are ~10× larger (every small map is a B-tree
/// node), so the snapshot keeps bytes and decodes on the way out; the
/// events in the ring keep their decoded values.
#[derive(Clone)]
struct Stored {
    raw: Bytes,
    revision: i64,
}

impl Stored {
    fn decode(&self) -> Option<Value> {
        crate::storage::etcd::decode_value(&self.raw, self.revision)
    }
}

struct State {
    ready: bool,
    revision: i64,
    objects: BTreeMap<String, Stored>,
    ring: EventRing,
    watchers: Watchers,
}

pub struct ResourceCache {
    /// The resource's etcd path (`pods`, `deployments`, ...).
    pub path: &'static str,
    prefix: String,
    etcd: EtcdStorage,
    capacity: usize,
    /// Buffer of each watcher; a full one is closed.
    buffer: usize,
    state: Mutex<State>,
    ready: watch::Sender<bool>,
    revision: AtomicI64,
    /// Open etcd watches of this cache (0 or 1), for `/metrics`.
    pub etcd_watches: AtomicU64,
    pub events: AtomicU64,
    pub relists: AtomicU64,
}

impl ResourceCache {
    /// Creates the cache and starts its reflector: a list (at `init_rev`
    /// when > 0 and still in etcd, so the first watch that started the
    /// cache can resume there) and then one etcd watch.
    pub fn start(
        etcd: EtcdStorage,
        path: &'static str,
        capacity: usize,
        init_rev: i64,
    ) -> Arc<ResourceCache> {
        let prefix = etcd.keys.collection(path, "");
        let capacity = capacity.max(1);
        let cache = Arc::new(ResourceCache {
            path,
            prefix,
            etcd,
            capacity,
            buffer: (capacity / 10).clamp(10, 1000),
            state: Mutex::new(State {
                ready: false,
                revision: 0,
                objects: BTreeMap::new(),
                ring: EventRing::new(capacity, 0),
                watchers: Watchers::new(index::indexed_field(path)),
            }),
            ready: watch::channel(false).0,
            revision: AtomicI64::new(0),
            etcd_watches: AtomicU64::new(0),
            events: AtomicU64::new(0),
            relists: AtomicU64::new(0),
        });
        tokio::spawn(reflect(Arc::downgrade(&cache), init_rev));
        cache
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The revision the cache has seen up to.
    pub fn revision(&self) -> i64 {
        self.revision.load(Ordering::Acquire)
    }

    /// The etcd key prefix of the resource.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn watcher_count(&self) -> usize {
        self.lock().watchers.len()
    }

    pub fn closed_slow(&self) -> u64 {
        self.lock().watchers.closed_slow
    }

    pub fn object_count(&self) -> usize {
        self.lock().objects.len()
    }

    /// Waits until the cache has listed (true) or `timeout` passes.
    pub async fn wait_ready(&self, timeout: Duration) -> bool {
        let mut rx = self.ready.subscribe();
        matches!(
            tokio::time::timeout(timeout, rx.wait_for(|r| *r)).await,
            Ok(Ok(_))
        )
    }

    /// Registers a watcher; atomically with the dispatch of live events, so
    /// it misses none and sees none twice.
    pub fn subscribe(
        self: &Arc<Self>,
        spec: WatcherSpec,
        from: From,
    ) -> Result<Subscription, TooOld> {
        self.subscribe_with_buffer(spec, from, self.buffer)
    }

    /// [`subscribe`](Self::subscribe) with a buffer of `buffer` events.
    pub fn subscribe_with_buffer(
        self: &Arc<Self>,
        mut spec: WatcherSpec,
        from: From,
        buffer: usize,
    ) -> Result<Subscription, TooOld> {
        let (tx, rx) = mpsc::channel(buffer.max(1));
        let mut s = self.lock();
        let mut snapshot = Vec::new();
        let mut replay = Vec::new();
        match from {
            From::Snapshot => {
                spec.after = s.revision;
                snapshot = s
                    .objects
                    .range::<str, _>((Bound::Included(spec.key_prefix.as_str()), Bound::Unbounded))
                    .take_while(|(k, _)| k.starts_with(&spec.key_prefix))
                    .map(|(_, o)| o.clone())
                    .collect();
            }
            From::Revision(rv) => {
                let events = s.ring.since(rv).ok_or(TooOld {
                    requested: rv,
                    floor: s.ring.floor(),
                })?;
                spec.after = rv;
                for ev in events {
                    if let Some(kind) = Watchers::offer(&spec, &ev) {
                        replay.push(Delivery { kind, event: ev });
                    }
                }
            }
        }
        let revision = spec.after.max(s.revision);
        // Decoded and filtered outside the lock (byte copies were cheap).
        let filter = spec.filter.clone();
        let id = s.watchers.add(spec, tx);
        drop(s);
        let initial = snapshot
            .iter()
            .filter_map(Stored::decode)
            .filter(|o| filter.matches(o))
            .collect();
        Ok(Subscription {
            initial,
            replay,
            revision,
            rx,
            guard: Unregister {
                cache: Arc::downgrade(self),
                id,
            },
        })
    }

    /// Up to `limit` (0: all) objects under `key_prefix` matching `filter`,
    /// after the key `start_after`.
    pub fn list(
        &self,
        key_prefix: &str,
        filter: &Filter,
        start_after: Option<&str>,
        limit: usize,
    ) -> CachedList {
        let lower = match start_after {
            Some(k) => Bound::Excluded(k),
            None => Bound::Included(key_prefix),
        };
        // Copy the entries under the lock (reference counts only), decode
        // and filter outside it so dispatch is not held up.
        let (entries, revision): (Vec<(String, Stored)>, i64) = {
            let s = self.lock();
            let entries = s
                .objects
                .range::<str, _>((lower, Bound::Unbounded))
                .take_while(|(k, _)| k.starts_with(key_prefix))
                .map(|(k, o)| (k.clone(), o.clone()))
                .collect();
            (entries, s.revision)
        };
        let mut items = Vec::new();
        let mut next_key = None;
        let mut remaining = 0;
        for (i, (k, o)) in entries.iter().enumerate() {
            let Some(v) = o.decode() else { continue };
            if !filter.matches(&v) {
                continue;
            }
            items.push(v);
            if limit > 0 && items.len() == limit {
                remaining = (entries.len() - i - 1) as i64;
                if remaining > 0 {
                    next_key = Some(k.clone());
                }
                break;
            }
        }
        CachedList {
            items,
            revision,
            next_key,
            remaining,
        }
    }

    /// Replaces the snapshot after a (re)list; every watcher is closed
    /// (their positions are from before) and the ring starts at `revision`.
    fn replace(&self, objects: BTreeMap<String, Stored>, revision: i64) {
        let mut s = self.lock();
        s.objects = objects;
        s.revision = revision;
        s.ring = EventRing::new(self.capacity, revision);
        s.watchers.close_all();
        s.ready = true;
        self.revision.store(revision, Ordering::Release);
        drop(s);
        self.ready.send_replace(true);
    }

    /// Applies one etcd event: snapshot, ring, fan-out.
    fn apply(&self, ev: WatchEvent) {
        let mut s = self.lock();
        if ev.revision <= s.revision && ev.kind != WatchEventType::Progress {
            return;
        }
        let cached = match ev.kind {
            WatchEventType::Progress => None,
            WatchEventType::Added | WatchEventType::Modified => {
                let obj = Arc::new(ev.object);
                let stored = Stored {
                    raw: ev.raw,
                    revision: ev.revision,
                };
                let prev = s.objects.insert(ev.key.clone(), stored);
                let kind = if prev.is_some() {
                    WatchEventType::Modified
                } else {
                    WatchEventType::Added
                };
                // The previous state, for selector transitions.
                let prev = prev.and_then(|p| p.decode()).map(Arc::new);
                Some(CachedEvent::new(kind, ev.key, obj, prev, ev.revision))
            }
            WatchEventType::Deleted => s
                .objects
                .remove(&ev.key)
                .and_then(|prev| {
                    // The last state, stamped with the delete's revision.
                    crate::storage::etcd::decode_value(&prev.raw, ev.revision)
                })
                .map(|last| {
                    CachedEvent::new(
                        WatchEventType::Deleted,
                        ev.key,
                        Arc::new(last),
                        None,
                        ev.revision,
                    )
                }),
        };
        if let Some(c) = cached {
            let c = Arc::new(c);
            s.ring.push(c.clone());
            s.watchers.dispatch(&c);
            self.events.fetch_add(1, Ordering::Relaxed);
        }
        s.revision = s.revision.max(ev.revision);
        self.revision.store(s.revision, Ordering::Release);
    }
}

/// The cache's reflector: list, then one etcd watch from the list's
/// revision. A broken watch (etcd restarted, connection lost) is resumed
/// from the last revision seen, keeping snapshot, ring and watchers; only
/// a compacted revision makes it list again. Ends when the cache is gone.
async fn reflect(cache: Weak<ResourceCache>, mut init_rev: i64) {
    loop {
        let Some(c) = cache.upgrade() else { return };
        let listed = c.etcd.list_all(&c.prefix, init_rev).await;
        let page = match listed {
            Ok(p) => p,
            Err(StorageError::Compacted { .. }) if init_rev > 0 => {
                init_rev = 0;
                continue;
            }
            Err(e) => {
                tracing::warn!("watch cache of {}: list failed: {e}", c.path);
                // A requested revision etcd cannot serve (a future one)
                // must not keep the cache from ever starting.
                init_rev = 0;
                drop(c);
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let revision = if init_rev > 0 {
            init_rev
        } else {
            page.revision
        };
        init_rev = 0;
        let objects = page
            .items
            .into_iter()
            .map(|o| {
                let raw = Bytes::from(serde_json::to_vec(&o.value).unwrap_or_default());
                let stored = Stored {
                    raw,
                    revision: o.mod_revision,
                };
                (o.key, stored)
            })
            .collect();
        c.replace(objects, revision);
        c.relists.fetch_add(1, Ordering::Relaxed);
        drop(c);
        if !watch_until_compacted(&cache).await {
            return;
        }
    }
}

/// Follows etcd from the cache's revision; returns true when the cache
/// must list again (compaction), false when the cache is gone.
async fn watch_until_compacted(cache: &Weak<ResourceCache>) -> bool {
    loop {
        let Some(c) = cache.upgrade() else {
            return false;
        };
        let from = c.revision();
        let mut events = match c.etcd.watch_with(&c.prefix, from, false).await {
            Ok(rx) => rx,
            Err(StorageError::Compacted { .. }) => return true,
            Err(e) => {
                tracing::warn!("watch cache of {}: watch failed: {e}", c.path);
                drop(c);
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        c.etcd_watches.fetch_add(1, Ordering::Relaxed);
        let path = c.path;
        drop(c);
        let outcome = loop {
            match events.recv().await {
                Some(Ok(ev)) => match cache.upgrade() {
                    Some(c) => c.apply(ev),
                    None => return false,
                },
                Some(Err(StorageError::Compacted { .. })) => break true,
                Some(Err(e)) => {
                    tracing::warn!("watch cache of {path}: etcd watch ended: {e}");
                    break false;
                }
                None => break false,
            }
        };
        let Some(c) = cache.upgrade() else {
            return false;
        };
        c.etcd_watches.fetch_sub(1, Ordering::Relaxed);
        if outcome {
            tracing::info!("watch cache of {path}: revision compacted, listing again");
            return true;
        }
        drop(c);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
