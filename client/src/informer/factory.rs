//! The process's informers, one per resource, created on first request.

use super::shared_informer::{Informer, Transform};
use super::{Event, Subscription};
use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Resource;
use kube::api::{Api, ApiResource, DynamicObject, PartialObjectMeta};
use kube::runtime::{WatchStreamExt, watcher};
use serde::de::DeserializeOwned;
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt::Debug;
use std::hash::Hash;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// An informer seen only through its objects' metadata, whatever its kind:
/// what the garbage collector needs of every resource.
pub trait MetadataSource: Send + Sync {
    /// Every change from now on, starting with the cached objects as Added.
    fn subscribe_metadata(&self) -> BoxStream<'static, Event<ObjectMeta>>;
    /// Whether the first list has been cached.
    fn has_synced(&self) -> bool;
    /// Resolves once the first list has been cached.
    fn synced(&self) -> BoxFuture<'static, ()>;
}

impl<K> MetadataSource for Informer<K>
where
    K: Resource + Clone + Send + Sync + 'static,
    K::DynamicType: Eq + Hash + Clone + Send + Sync,
{
    fn subscribe_metadata(&self) -> BoxStream<'static, Event<ObjectMeta>> {
        let sub: Subscription<K> = self.subscribe();
        sub.into_stream()
            .map(|e| e.map(|o| o.meta().clone()))
            .boxed()
    }

    fn has_synced(&self) -> bool {
        Informer::has_synced(self)
    }

    fn synced(&self) -> BoxFuture<'static, ()> {
        Box::pin(self.wait_synced())
    }
}

#[derive(Default)]
struct Started {
    typed: HashMap<TypeId, Arc<dyn Any + Send + Sync>>,
    /// By "group/plural": what serves a resource's metadata.
    metadata: HashMap<String, Arc<dyn MetadataSource>>,
}

struct Inner {
    client: kube::Client,
    resync: Option<Duration>,
    strip_managed_fields: bool,
    /// Objects per page of a list; 0 keeps kube-runtime's default (500).
    page_size: AtomicU32,
    transforms: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
    started: Mutex<Started>,
}

/// The shared informers of one process. Cheap to clone; every clone hands
/// out the same informers.
#[derive(Clone)]
pub struct SharedInformerFactory {
    inner: Arc<Inner>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn resource_key(group: &str, plural: &str) -> String {
    format!("{group}/{plural}")
}

impl SharedInformerFactory {
    /// A factory whose informers watch through `client`, without periodic
    /// resync, keeping objects as the apiserver sends them.
    pub fn new(client: kube::Client) -> SharedInformerFactory {
        Self::with_options(client, None, false)
    }

    /// A factory with a resync period (every cached object delivered again
    /// as an `Updated` each period; level-triggered controllers use it to
    /// retry what no event will) and, if `strip_managed_fields`, caches
    /// without `metadata.managedFields` (which no controller reads and
    /// which often is most of an object's size).
    pub fn with_options(
        client: kube::Client,
        resync: Option<Duration>,
        strip_managed_fields: bool,
    ) -> SharedInformerFactory {
        SharedInformerFactory {
            inner: Arc::new(Inner {
                client,
                resync,
                strip_managed_fields,
                page_size: AtomicU32::new(0),
                transforms: Mutex::default(),
                started: Mutex::default(),
            }),
        }
    }

    /// Sets what is done to each `K` before it is cached. Takes effect for
    /// informers started afterwards: call it before the first `get::<K>()`.
    pub fn set_transform<K: 'static>(&self, transform: impl Fn(&mut K) + Send + Sync + 'static) {
        let t: Transform<K> = Arc::new(transform);
        lock(&self.inner.transforms).insert(TypeId::of::<K>(), Arc::new(t));
    }

    /// Sets how many objects each page of a list asks for (kube-runtime's
    /// default is 500). A process that lists tens of thousands of objects
    /// at start (the scheduler) saves round trips with bigger pages. Takes
    /// effect for informers started afterwards.
    pub fn set_page_size(&self, page_size: u32) {
        self.inner.page_size.store(page_size, Ordering::Relaxed);
    }

    fn watcher_config(&self) -> watcher::Config {
        match self.inner.page_size.load(Ordering::Relaxed) {
            0 => watcher::Config::default(),
            n => watcher::Config::default().page_size(n),
        }
    }

    fn transform<K: Resource + 'static>(&self) -> Option<Transform<K>> {
        let own = lock(&self.inner.transforms)
            .get(&TypeId::of::<K>())
            .and_then(|t| t.clone().downcast::<Transform<K>>().ok())
            .map(|t| (*t).clone());
        match (self.inner.strip_managed_fields, own) {
            (false, own) => own,
            (true, None) => Some(Arc::new(|o: &mut K| o.meta_mut().managed_fields = None)),
            (true, Some(own)) => Some(Arc::new(move |o: &mut K| {
                o.meta_mut().managed_fields = None;
                own(o)
            })),
        }
    }

    /// The informer of every `K` in the cluster, started on first request.
    pub fn get<K>(&self) -> Arc<Informer<K>>
    where
        K: Resource<DynamicType = ()> + Clone + Debug + DeserializeOwned + Send + Sync + 'static,
    {
        let mut started = lock(&self.inner.started);
        if let Some(existing) = started.typed.get(&TypeId::of::<K>())
            && let Ok(informer) = existing.clone().downcast::<Informer<K>>()
        {
            return informer;
        }
        let api: Api<K> = Api::all(self.inner.client.clone());
        let events = watcher(api, self.watcher_config()).default_backoff();
        let informer = Arc::new(Informer::spawn(
            events,
            (),
            self.transform::<K>(),
            self.inner.resync,
        ));
        started.typed.insert(TypeId::of::<K>(), informer.clone());
        started.metadata.insert(
            resource_key(&K::group(&()), &K::plural(&())),
            informer.clone(),
        );
        informer
    }

    /// The metadata of every object of `resource`: the typed informer of
    /// that resource when one is running (one watch per resource), or else
    /// a metadata-only watch (`PartialObjectMeta`, a fraction of the bytes).
    pub fn metadata_for(&self, resource: &ApiResource) -> Arc<dyn MetadataSource> {
        let key = resource_key(&resource.group, &resource.plural);
        let mut started = lock(&self.inner.started);
        if let Some(existing) = started.metadata.get(&key) {
            return existing.clone();
        }
        // An Api of PartialObjectMeta asks for metadata-only lists and watches.
        let api: Api<PartialObjectMeta<DynamicObject>> =
            Api::all_with(self.inner.client.clone(), resource);
        let events = watcher(api, self.watcher_config()).default_backoff();
        let transform: Option<Transform<PartialObjectMeta<DynamicObject>>> =
            self.inner.strip_managed_fields.then(|| {
                Arc::new(|o: &mut PartialObjectMeta<DynamicObject>| {
                    o.metadata.managed_fields = None
                }) as _
            });
        let informer: Arc<dyn MetadataSource> = Arc::new(Informer::spawn(
            events,
            resource.clone(),
            transform,
            self.inner.resync,
        ));
        started.metadata.insert(key, informer.clone());
        informer
    }

    /// Whether a typed informer of `resource` is running.
    pub fn has_resource(&self, group: &str, plural: &str) -> bool {
        lock(&self.inner.started)
            .metadata
            .contains_key(&resource_key(group, plural))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ConfigMap;
    use tokio::sync::mpsc;

    /// The URIs an informer's watcher asks for, answered with empty lists.
    fn recording_client() -> (kube::Client, mpsc::UnboundedReceiver<String>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let service = tower::service_fn(move |req: http::Request<kube::client::Body>| {
            let _ = tx.send(req.uri().to_string());
            async move {
                let body = br#"{"apiVersion":"v1","kind":"ConfigMapList","metadata":{"resourceVersion":"1"},"items":[]}"#;
                Ok::<_, std::convert::Infallible>(http::Response::new(kube::client::Body::from(
                    body.to_vec(),
                )))
            }
        });
        (kube::Client::new(service, "default"), rx)
    }

    async fn first_uri(rx: &mut mpsc::UnboundedReceiver<String>) -> String {
        tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .expect("a list request")
            .expect("the client is alive")
    }

    #[tokio::test]
    async fn lists_ask_for_the_page_size_set() {
        let (client, mut rx) = recording_client();
        let factory = SharedInformerFactory::new(client);
        factory.set_page_size(2000);
        let _informer = factory.get::<ConfigMap>();
        let uri = first_uri(&mut rx).await;
        assert!(uri.contains("limit=2000"), "{uri}");
    }

    #[tokio::test]
    async fn without_a_page_size_lists_keep_the_default() {
        let (client, mut rx) = recording_client();
        let _informer = SharedInformerFactory::new(client).get::<ConfigMap>();
        let uri = first_uri(&mut rx).await;
        assert!(uri.contains("limit=500"), "{uri}");
    }
}
