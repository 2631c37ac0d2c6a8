//! Shared informers (upstream client-go's `SharedInformerFactory`): one
//! list+watch per kind per process, however many controllers read that
//! kind, so the apiserver serves one watch per kind and the process keeps
//! one cache per kind.
//!
//! - [`SharedInformerFactory`] starts an [`Informer`] on the first request
//!   for a kind and hands the same one to every later caller.
//! - [`Store`] is the informer's cache: reads by key, the whole list, or an
//!   index (the namespace index is always there; controllers register
//!   others, such as pods by node name, with [`Store::add_index`]). Indexes
//!   are kept in the same critical section as the cache, through adds,
//!   updates that move an object between index values, and deletes.
//! - [`Subscription`] delivers [`Event`]s: `Added`, `Updated` (old and new)
//!   and `Deleted` (the final state of the object). After a watch restart
//!   or a relist after 410 Gone, objects missing from the new list are
//!   delivered as `Deleted` with the last state the cache had.
//! - A subscription never holds the watch back: each has its own queue that
//!   coalesces per object (see [`queue`]), so a subscriber that lags sees
//!   fewer, merged events and never a missing delete.
//! - [`Subscription::objects`] turns a subscription into the stream of
//!   changed objects (deletions included) kube-runtime's `Controller`
//!   takes in `for_shared_stream`, `owns_shared_stream` and
//!   `watches_shared_stream`.
//! - Metadata-only informers ([`SharedInformerFactory::metadata_for`]) serve
//!   the garbage collector: a typed informer of the same resource is reused
//!   when one is running, otherwise a `metadata_watcher` is started.

mod cache;
mod factory;
pub mod queue;
mod shared_informer;
mod store;

pub use cache::IndexFn;
pub use factory::{MetadataSource, SharedInformerFactory};
pub use queue::Subscription;
pub use shared_informer::Informer;
pub use store::Store;

use std::sync::Arc;

/// The name of the index every store has: objects by namespace
/// (cluster-scoped objects are indexed under "").
pub const NAMESPACE_INDEX: &str = "namespace";

/// What happened to an object, as a subscriber sees it.
#[derive(Debug)]
pub enum Event<K> {
    /// The object appeared: created, or first seen by a list.
    Added(Arc<K>),
    /// The object changed. A periodic resync delivers `old` and `new` as the
    /// same object.
    Updated { old: Arc<K>, new: Arc<K> },
    /// The object is gone; this is its final state (from the watch's DELETED
    /// event, or the cache's last copy when a relist found it missing).
    Deleted(Arc<K>),
}

impl<K> Clone for Event<K> {
    fn clone(&self) -> Self {
        match self {
            Event::Added(o) => Event::Added(o.clone()),
            Event::Updated { old, new } => Event::Updated {
                old: old.clone(),
                new: new.clone(),
            },
            Event::Deleted(o) => Event::Deleted(o.clone()),
        }
    }
}

impl<K> Event<K> {
    /// The object as it is now (or was last, for a deletion).
    pub fn object(&self) -> &Arc<K> {
        match self {
            Event::Added(o) | Event::Deleted(o) => o,
            Event::Updated { new, .. } => new,
        }
    }

    /// Maps the objects of the event (used to give metadata-only views of
    /// typed informers).
    pub fn map<T>(&self, mut f: impl FnMut(&K) -> T) -> Event<T> {
        match self {
            Event::Added(o) => Event::Added(Arc::new(f(o))),
            Event::Updated { old, new } => {
                let new_t = Arc::new(f(new));
                let old_t = if Arc::ptr_eq(old, new) {
                    new_t.clone()
                } else {
                    Arc::new(f(old))
                };
                Event::Updated {
                    old: old_t,
                    new: new_t,
                }
            }
            Event::Deleted(o) => Event::Deleted(Arc::new(f(o))),
        }
    }
}

/// What the informer library refuses.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// A controller asked for an index nobody registered.
    #[error("no index named {0:?} is registered on this store")]
    UnknownIndex(String),
    /// Two controllers registered different functions under one name.
    #[error("an index named {0:?} is already registered on this store")]
    IndexExists(String),
}
