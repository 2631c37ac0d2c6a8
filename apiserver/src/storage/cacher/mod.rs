//! The watch cache (upstream's "cacher"): per resource, ONE etcd watch
//! whose events are decoded once into a snapshot and a bounded ring of
//! recent events, and fanned out to every API watch of that resource.
//! Lists with `resourceVersion=0` are served from the snapshot.
//!
//! `cache.rs` the per-resource cache and its reflector, `ring.rs` the
//! event ring, `watchers.rs` the fan-out with bounded buffers, `index.rs`
//! the field index (pods by `spec.nodeName`), `event.rs` the shared event,
//! `feed.rs` the one list+watch loop of the apiserver's own caches.

pub mod cache;
pub mod event;
pub mod feed;
pub mod index;
pub mod ring;
pub mod watchers;

pub use cache::{CachedList, From, ResourceCache, Subscription, TooOld};
pub use watchers::{Delivery, WatcherSpec, transition};

use super::EtcdStorage;
use crate::resources::ResourceDef;
use std::collections::HashMap;
use std::fmt::Write;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

/// Upstream's default is 100 events plus growth to ~75 s of history; a
/// fixed ring of this many events stands in for both.
pub const DEFAULT_SIZE: usize = 1000;

/// `--watch-cache`, `--default-watch-cache-size`, `--watch-cache-sizes`.
#[derive(Debug, Clone)]
pub struct CacherConfig {
    pub enabled: bool,
    pub default_size: usize,
    /// `resource[.group]` → ring size; 0 disables the cache of it.
    pub sizes: HashMap<String, usize>,
}

impl Default for CacherConfig {
    fn default() -> Self {
        CacherConfig {
            enabled: true,
            default_size: DEFAULT_SIZE,
            sizes: HashMap::new(),
        }
    }
}

impl CacherConfig {
    /// Parses upstream's `--watch-cache-sizes` (`pods#1000,deployments.apps#50`).
    pub fn parse_sizes(list: &[String]) -> Result<HashMap<String, usize>, String> {
        let mut out = HashMap::new();
        for item in list.iter().filter(|s| !s.is_empty()) {
            let (res, size) = item
                .split_once('#')
                .ok_or_else(|| format!("invalid value of watch cache size: {item}"))?;
            let size = size
                .parse::<usize>()
                .map_err(|_| format!("invalid size of watch cache size: {item}"))?;
            out.insert(res.to_lowercase(), size);
        }
        Ok(out)
    }

    /// The ring size of `def`'s resource; 0 = not cached. Events are not
    /// cached by default, as upstream.
    fn size_of(&self, def: &ResourceDef) -> usize {
        if !self.enabled {
            return 0;
        }
        let key = if def.group.is_empty() {
            def.plural.to_string()
        } else {
            format!("{}.{}", def.plural, def.group)
        };
        if let Some(s) = self.sizes.get(&key) {
            return *s;
        }
        if def.plural == "events" {
            return 0;
        }
        self.default_size
    }
}

/// Every resource's cache, created on first use.
pub struct Cacher {
    etcd: EtcdStorage,
    config: CacherConfig,
    caches: Mutex<HashMap<&'static str, Arc<ResourceCache>>>,
}

impl Cacher {
    pub fn new(etcd: EtcdStorage, config: CacherConfig) -> Self {
        Cacher {
            etcd,
            config,
            caches: Mutex::new(HashMap::new()),
        }
    }

    /// The cache of `def`'s resource, started now if it is not running
    /// (listing at `init_rev` when > 0); None when it is not cached.
    pub fn for_resource(&self, def: &ResourceDef, init_rev: i64) -> Option<Arc<ResourceCache>> {
        let path = def.etcd_path()?;
        let size = self.config.size_of(def);
        if size == 0 {
            return None;
        }
        let mut caches = self.caches.lock().unwrap_or_else(|p| p.into_inner());
        Some(
            caches
                .entry(path)
                .or_insert_with(|| ResourceCache::start(self.etcd.clone(), path, size, init_rev))
                .clone(),
        )
    }

    /// The cache of `def`'s resource when it already runs.
    pub fn running(&self, def: &ResourceDef) -> Option<Arc<ResourceCache>> {
        let path = def.etcd_path()?;
        if self.config.size_of(def) == 0 {
            return None;
        }
        let caches = self.caches.lock().unwrap_or_else(|p| p.into_inner());
        caches.get(path).cloned()
    }

    /// The caches' metrics in the Prometheus text format.
    pub fn render_metrics(&self) -> String {
        let caches: Vec<Arc<ResourceCache>> = {
            let c = self.caches.lock().unwrap_or_else(|p| p.into_inner());
            c.values().cloned().collect()
        };
        let mut rows: Vec<_> = caches.iter().map(|c| (c.path, c.clone())).collect();
        rows.sort_by_key(|(p, _)| *p);
        let mut s = String::new();
        let gauge = |s: &mut String,
                     name: &str,
                     help: &str,
                     kind: &str,
                     f: &dyn Fn(&ResourceCache) -> u64| {
            let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (path, c) in &rows {
                let _ = writeln!(s, "{name}{{resource=\"{path}\"}} {}", f(c));
            }
        };
        gauge(
            &mut s,
            "apiserver_watch_cache_etcd_watches",
            "Open etcd watches of the watch cache, per resource.",
            "gauge",
            &|c| c.etcd_watches.load(Ordering::Relaxed),
        );
        gauge(
            &mut s,
            "apiserver_watch_cache_watchers",
            "API watches served by the watch cache, per resource.",
            "gauge",
            &|c| c.watcher_count() as u64,
        );
        gauge(
            &mut s,
            "apiserver_watch_cache_events_received_total",
            "Events the watch cache received from etcd, per resource.",
            "counter",
            &|c| c.events.load(Ordering::Relaxed),
        );
        gauge(
            &mut s,
            "apiserver_watch_cache_relists_total",
            "Lists of the watch cache from etcd, per resource.",
            "counter",
            &|c| c.relists.load(Ordering::Relaxed),
        );
        gauge(
            &mut s,
            "apiserver_watch_cache_slow_watchers_closed_total",
            "Watchers closed because their buffer was full, per resource.",
            "counter",
            &|c| c.closed_slow(),
        );
        gauge(
            &mut s,
            "apiserver_watch_cache_objects",
            "Objects in the watch cache, per resource.",
            "gauge",
            &|c| c.object_count() as u64,
        );
        let total: u64 = rows
            .iter()
            .map(|(_, c)| c.etcd_watches.load(Ordering::Relaxed))
            .sum();
        let _ = writeln!(
            s,
            "# HELP etcd_watches_open Open etcd watches of the apiserver's watch cache.\n# TYPE etcd_watches_open gauge\netcd_watches_open {total}"
        );
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watch_cache_sizes_parse_as_upstream() {
        let s = CacherConfig::parse_sizes(&["pods#5".into(), "deployments.apps#0".into()]).unwrap();
        assert_eq!(s.get("pods"), Some(&5));
        assert_eq!(s.get("deployments.apps"), Some(&0));
        assert!(CacherConfig::parse_sizes(&["pods".into()]).is_err());
        assert!(CacherConfig::parse_sizes(&["pods#x".into()]).is_err());
    }
}
