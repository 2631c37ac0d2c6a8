//! The ONE list+watch loop for the apiserver's own in-memory views (the
//! RBAC cache, the Node authorizer's graph, the admission caches, the
//! namespace phase cache): each is a [`Handler`] fed by the resource's
//! watch cache (its snapshot, then its changes) or, for a resource the
//! cache does not hold, by a list and an etcd watch of its own. After any
//! break the handler is told ([`Handler::lost`]) and fed a fresh state.

use super::Cacher;
use super::cache::From;
use super::watchers::WatcherSpec;
use crate::registry::selection::Filter;
use crate::registry::strategy;
use crate::resources::ResourceDef;
use crate::storage::{EtcdStorage, StorageError, WatchEventType};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// A consumer of one resource's objects.
pub trait Handler: Send + Sync + 'static {
    /// The whole state after a (re)list; the handler is in sync from here.
    fn replace(&self, objects: Vec<Value>);
    /// An object was created or changed.
    fn upsert(&self, object: &Value);
    /// An object was deleted (its last state).
    fn delete(&self, object: &Value);
    /// The feed broke; a [`replace`](Self::replace) follows once it is back.
    fn lost(&self) {}
}

/// How long to wait before starting over after a break.
const RETRY: Duration = Duration::from_millis(500);
/// Internal subscribers get a deep buffer: they only update memory, and
/// being closed costs them a full replace.
const INTERNAL_BUFFER: usize = 10_000;

/// Keeps `handler` in sync with every object of `def` for the life of the
/// process.
pub fn spawn(
    cacher: Option<Arc<Cacher>>,
    etcd: EtcdStorage,
    def: &'static ResourceDef,
    handler: Arc<dyn Handler>,
) {
    tokio::spawn(async move {
        loop {
            let cache = cacher.as_ref().and_then(|c| c.for_resource(def, 0));
            let outcome = match cache {
                Some(cache) => from_cache(&cache, def, handler.as_ref()).await,
                None => from_etcd(&etcd, def, handler.as_ref())
                    .await
                    .map_err(|e| e.to_string()),
            };
            if let Err(e) = outcome {
                tracing::debug!("{} feed: {e}", def.plural);
            }
            handler.lost();
            tokio::time::sleep(RETRY).await;
        }
    });
}

async fn from_cache(
    cache: &Arc<super::ResourceCache>,
    def: &'static ResourceDef,
    handler: &dyn Handler,
) -> Result<(), String> {
    if !cache.wait_ready(Duration::from_secs(5)).await {
        return Err("watch cache not ready".into());
    }
    let spec = WatcherSpec {
        filter: Filter::new(None, None, strategy::for_resource(def)).map_err(|e| e.message)?,
        key_prefix: cache.prefix().to_string(),
        after: 0,
    };
    let mut sub = cache
        .subscribe_with_buffer(spec, From::Snapshot, INTERNAL_BUFFER)
        .map_err(|e| format!("too old: {e:?}"))?;
    handler.replace(std::mem::take(&mut sub.initial));
    while let Some(d) = sub.rx.recv().await {
        match d.event.kind {
            WatchEventType::Deleted => handler.delete(&d.event.object),
            _ => handler.upsert(&d.event.object),
        }
    }
    Err("closed by the watch cache".into())
}

async fn from_etcd(
    etcd: &EtcdStorage,
    def: &'static ResourceDef,
    handler: &dyn Handler,
) -> Result<(), StorageError> {
    let path = def
        .etcd_path()
        .ok_or_else(|| StorageError::Corrupt("not stored".into()))?;
    let prefix = etcd.keys.collection(path, "");
    let page = etcd.list_all(&prefix, 0).await?;
    handler.replace(page.items.into_iter().map(|o| o.value).collect());
    let mut events = etcd.watch(&prefix, page.revision).await?;
    while let Some(ev) = events.recv().await {
        let ev = ev?;
        match ev.kind {
            WatchEventType::Added | WatchEventType::Modified => handler.upsert(&ev.object),
            WatchEventType::Deleted => handler.delete(&ev.object),
            WatchEventType::Progress => {}
        }
    }
    Err(StorageError::Unavailable("watch ended".into()))
}
