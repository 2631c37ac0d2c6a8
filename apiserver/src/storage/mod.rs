//! etcd v3 storage: JSON objects under upstream's key layout, with
//! resourceVersion = mod_revision, create-if-absent and compare-and-swap
//! updates. Every call is bounded by a deadline so a dead etcd turns into a
//! fast 503/504 instead of a hung request.

pub mod cacher;
pub mod etcd;
pub mod keys;
pub mod lease;
pub mod transport;

pub use etcd::{EtcdConfig, EtcdStorage, ListPage, StoredObject, WatchEvent, WatchEventType};

use crate::status::ApiError;

/// What can go wrong talking to etcd, in apiserver terms.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum StorageError {
    #[error("key not found")]
    NotFound,
    #[error("key already exists")]
    AlreadyExists,
    /// The compare-and-swap saw a different mod_revision.
    #[error("the object has been modified")]
    Conflict,
    /// The requested revision is older than etcd's compaction point.
    #[error("too old resource version: {requested} ({compacted})")]
    Compacted { requested: i64, compacted: i64 },
    #[error("etcd unavailable: {0}")]
    Unavailable(String),
    #[error("etcd request timed out")]
    Timeout,
    #[error("stored object is corrupt: {0}")]
    Corrupt(String),
}

impl StorageError {
    /// The `Status` for errors that don't depend on which object was asked for.
    pub fn to_api(&self) -> ApiError {
        match self {
            StorageError::Compacted {
                requested,
                compacted,
            } => ApiError::gone(format!(
                "too old resource version: {requested} ({compacted})"
            )),
            StorageError::Unavailable(m) => {
                // The client library's text names internals; log it, answer plainly.
                tracing::warn!("etcd unavailable: {m}");
                ApiError::unavailable("etcd cluster is unavailable or misconfigured")
            }
            StorageError::Timeout => ApiError::timeout(
                "The request did not complete in time: etcd did not answer (request timed out)",
            ),
            StorageError::Corrupt(m) => ApiError::internal(m.clone()),
            StorageError::NotFound => ApiError::not_found_path(),
            StorageError::AlreadyExists => ApiError::new(409, "AlreadyExists", "already exists"),
            StorageError::Conflict => ApiError::new(409, "Conflict", "conflict"),
        }
    }
}
