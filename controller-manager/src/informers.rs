//! Shared informers: one watch and one cache per resource kind for the
//! whole process, however many controllers look at that kind (ReplicaSet,
//! StatefulSet, DaemonSet, disruption, endpoints... all read Pods). Keeps
//! memory flat as controllers are added and gives every controller the
//! same view.
//!
//! A controller asks for [`Informers::get`], then uses `store` to read and
//! `subscribe()` for a stream of changed objects to trigger on
//! (`Controller::owns_shared_stream`, `watches_shared_stream`,
//! `for_shared_stream`). The cache is filled before the trigger stream
//! yields an object, so a reconcile never sees a cache older than the event
//! that woke it.

use futures::StreamExt;
use kube::Resource;
use kube::api::Api;
use kube::runtime::reflector::{self, ReflectHandle, Store};
use kube::runtime::{WatchStreamExt, watcher};
use serde::de::DeserializeOwned;
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};

/// Events buffered per subscriber before the watch waits for it.
const BUFFER: usize = 8192;

/// The cache of one kind and a way to subscribe to its changes.
pub struct Informer<K>
where
    K: Resource<DynamicType = ()> + Clone + 'static,
{
    pub store: Store<K>,
    subscribe_tx: mpsc::UnboundedSender<oneshot::Sender<ReflectHandle<K>>>,
}

impl<K> Informer<K>
where
    K: Resource<DynamicType = ()> + Clone + Send + Sync + 'static,
{
    /// A stream of objects as they change from now on.
    pub async fn subscribe(&self) -> Option<ReflectHandle<K>> {
        let (tx, rx) = oneshot::channel();
        self.subscribe_tx.send(tx).ok()?;
        rx.await.ok()
    }
}

/// The process's informers, keyed by kind; created on first use.
#[derive(Clone)]
pub struct Informers {
    client: kube::Client,
    started: Arc<Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>>,
}

impl Informers {
    pub fn new(client: kube::Client) -> Informers {
        Informers {
            client,
            started: Arc::default(),
        }
    }

    /// The informer for every object of kind `K` in the cluster.
    pub fn get<K>(&self) -> Arc<Informer<K>>
    where
        K: Resource<DynamicType = ()> + Clone + Debug + DeserializeOwned + Send + Sync + 'static,
    {
        let mut started = self.started.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(existing) = started.get(&TypeId::of::<K>())
            && let Ok(informer) = existing.clone().downcast::<Informer<K>>()
        {
            return informer;
        }
        let informer = Arc::new(start::<K>(self.client.clone()));
        started.insert(TypeId::of::<K>(), informer.clone());
        informer
    }
}

fn start<K>(client: kube::Client) -> Informer<K>
where
    K: Resource<DynamicType = ()> + Clone + Debug + DeserializeOwned + Send + Sync + 'static,
{
    let (store, writer) = reflector::store_shared::<K>(BUFFER);
    let template = writer.subscribe();
    let api: Api<K> = Api::all(client);
    let watch = watcher(api, watcher::Config::default())
        .default_backoff()
        // What no controller reads is dropped before caching (see compact.rs).
        .modify(crate::compact::compact::<K>)
        .reflect_shared(writer)
        .for_each(|event| {
            if let Err(e) = event {
                tracing::warn!(kind = %K::kind(&()), error = %e, "watch failed; retrying");
            }
            futures::future::ready(())
        });
    tokio::spawn(watch);
    let (subscribe_tx, mut requests) =
        mpsc::unbounded_channel::<oneshot::Sender<ReflectHandle<K>>>();
    // Keeps one subscription drained, to clone new subscribers from it at
    // the latest position without ever holding the watch back.
    if let Some(mut template) = template {
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    next = template.next() => if next.is_none() { return },
                    request = requests.recv() => match request {
                        Some(reply) => { let _ = reply.send(template.clone()); }
                        None => return,
                    },
                }
            }
        });
    }
    Informer {
        store,
        subscribe_tx,
    }
}
