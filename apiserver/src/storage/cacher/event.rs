//! One change as the watch cache keeps it: decoded once from etcd, shared
//! by every watcher as `Arc`s, with the served JSON of its object encoded
//! at most once per served version.

use crate::storage::WatchEventType;
use bytes::Bytes;
use serde_json::Value;
use std::sync::{Arc, Mutex};

/// A change of one object, in the ring and on its way to watchers.
pub struct CachedEvent {
    /// Added, Modified or Deleted (never Progress).
    pub kind: WatchEventType,
    /// The etcd key of the object.
    pub key: String,
    /// The new state; for deletes the last state stamped with the delete's
    /// revision.
    pub object: Arc<Value>,
    /// The state before a modification or delete (what lets a filtered
    /// watch turn "moved out of the selection" into DELETED).
    pub prev: Option<Arc<Value>>,
    pub revision: i64,
    /// `object` encoded as served JSON, per served version (keyed by the
    /// address of its `ResourceDef`, which lives for the whole process).
    encoded: Mutex<Vec<(usize, Bytes)>>,
}

impl CachedEvent {
    pub fn new(
        kind: WatchEventType,
        key: String,
        object: Arc<Value>,
        prev: Option<Arc<Value>>,
        revision: i64,
    ) -> Self {
        CachedEvent {
            kind,
            key,
            object,
            prev,
            revision,
            encoded: Mutex::new(Vec::new()),
        }
    }

    /// The JSON bytes of the object as `version` serves it, encoded by the
    /// first watcher that asks and reused by the others.
    pub fn encoded(&self, version: usize, encode: impl FnOnce(&Value) -> Bytes) -> Bytes {
        if let Ok(cache) = self.encoded.lock()
            && let Some((_, b)) = cache.iter().find(|(v, _)| *v == version)
        {
            return b.clone();
        }
        let b = encode(&self.object);
        if let Ok(mut cache) = self.encoded.lock()
            && !cache.iter().any(|(v, _)| *v == version)
        {
            cache.push((version, b.clone()));
        }
        b
    }
}
