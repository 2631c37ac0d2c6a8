//! One informer: the watch task that keeps a cache and feeds subscribers.

use super::cache::Cache;
use super::queue::{Fanout, Subscription};
use super::{Event, Store};
use futures::{Stream, StreamExt};
use kube::Resource;
use kube::runtime::{reflector, watcher};
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::watch;

/// What is done to every object before it is cached (upstream's transform
/// functions): drop what no reader needs, so the cache stays small.
pub type Transform<K> = Arc<dyn Fn(&mut K) + Send + Sync>;

/// The informer of one kind: its cache, its subscribers and whether the
/// first list has completed.
pub struct Informer<K: Resource + Clone + 'static>
where
    K::DynamicType: Eq + Hash + Clone,
{
    store: Store<K>,
    fanout: Arc<Mutex<Fanout<K>>>,
    synced: watch::Receiver<bool>,
    dyntype: K::DynamicType,
}

fn lock<K: Resource>(fanout: &Mutex<Fanout<K>>) -> MutexGuard<'_, Fanout<K>>
where
    K::DynamicType: Eq + Hash + Clone,
{
    fanout.lock().unwrap_or_else(|e| e.into_inner())
}

impl<K> Informer<K>
where
    K: Resource + Clone + Send + Sync + 'static,
    K::DynamicType: Eq + Hash + Clone + Send + Sync,
{
    /// Starts an informer over `events` (a kube-runtime watcher stream, with
    /// its own backoff): applies `transform` to each object, caches it,
    /// and, every `resync` if given, delivers every cached object to the
    /// subscribers again as an `Updated` with `old` and `new` the same.
    pub fn spawn<S>(
        events: S,
        dyntype: K::DynamicType,
        transform: Option<Transform<K>>,
        resync: Option<Duration>,
    ) -> Informer<K>
    where
        S: Stream<Item = Result<watcher::Event<K>, watcher::Error>> + Send + 'static,
    {
        let mut cache = Cache::new(dyntype.clone());
        let store = Store::new(cache.shared());
        let fanout: Arc<Mutex<Fanout<K>>> = Arc::default();
        let (synced_tx, synced) = watch::channel(false);
        let kind = K::kind(&dyntype).into_owned();
        let task_fanout = fanout.clone();
        let task_store = store.clone();
        tokio::spawn(async move {
            let mut events = std::pin::pin!(events);
            let mut resync = resync.map(|period| {
                let mut t = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
                t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                t
            });
            loop {
                let tick = async {
                    match resync.as_mut() {
                        Some(t) => t.tick().await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    next = events.next() => match next {
                        Some(Ok(mut event)) => {
                            if let Some(t) = &transform {
                                transform_event(&mut event, t);
                            }
                            let done = matches!(event, watcher::Event::InitDone);
                            let mut fanout = lock(&task_fanout);
                            let changes = cache.apply(event);
                            fanout.send(&changes);
                            drop(fanout);
                            if done {
                                synced_tx.send_replace(true);
                            }
                        }
                        Some(Err(e)) => {
                            tracing::warn!(kind = %kind, error = %e, "watch failed; retrying");
                        }
                        None => return,
                    },
                    _ = tick => {
                        let mut fanout = lock(&task_fanout);
                        let all: Vec<Event<K>> = task_store
                            .list()
                            .into_iter()
                            .map(|o| Event::Updated { old: o.clone(), new: o })
                            .collect();
                        fanout.send(&all);
                    }
                }
            }
        });
        Informer {
            store,
            fanout,
            synced,
            dyntype,
        }
    }

    /// The cache.
    pub fn store(&self) -> &Store<K> {
        &self.store
    }

    /// A new subscriber: first every cached object as `Added`, then every
    /// change. Events are queued per subscriber (see `queue`), so a slow
    /// subscriber never delays the watch or the others.
    pub fn subscribe(&self) -> Subscription<K> {
        let mut fanout = lock(&self.fanout);
        let initial: Vec<Event<K>> = self.store.list().into_iter().map(Event::Added).collect();
        fanout.subscribe(self.dyntype.clone(), &initial)
    }

    /// Whether the first list has been cached.
    pub fn has_synced(&self) -> bool {
        *self.synced.borrow()
    }

    /// Waits until the first list has been cached; any number of tasks may
    /// wait at once (kube-runtime's own readiness wakes only one waiter).
    pub fn wait_synced(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut synced = self.synced.clone();
        async move {
            // An error means the watch task ended: nothing will ever sync.
            if synced.wait_for(|s| *s).await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }

    /// Runs `handler` on every event of a new subscription, in a task of
    /// its own (upstream's `AddEventHandler`). The returned receiver turns
    /// true once the handler has been given every object of the first list,
    /// not merely once the cache holds them: a process that must not act
    /// on a partial view (the scheduler, before it places a pod) waits for
    /// it. Events stay queued per object as for any subscription, so a slow
    /// handler never holds the watch back.
    pub fn spawn_handler(
        &self,
        mut handler: impl FnMut(Event<K>) + Send + 'static,
    ) -> watch::Receiver<bool> {
        let mut sub = self.subscribe();
        let mut informer_synced = self.synced.clone();
        let (tx, rx) = watch::channel(false);
        tokio::spawn(async move {
            // The list's events are queued before the informer says it has
            // synced, so once it has, draining the queue hands them all over.
            loop {
                if *informer_synced.borrow() {
                    while let Some(e) = sub.try_recv() {
                        handler(e);
                    }
                    tx.send_replace(true);
                    break;
                }
                tokio::select! {
                    e = sub.recv() => handler(e),
                    ended = informer_synced.changed() => if ended.is_err() {
                        // The watch task is gone: no event will come.
                        return;
                    },
                }
            }
            loop {
                handler(sub.recv().await);
            }
        });
        rx
    }

    /// The kube-runtime store over this cache, once synced, for
    /// `Controller::for_shared_stream` (whose readiness wait is then
    /// immediate, so several controllers can share one store).
    pub async fn reader(&self) -> reflector::Store<K> {
        self.wait_synced().await;
        self.store.reader()
    }
}

fn transform_event<K>(event: &mut watcher::Event<K>, transform: &Transform<K>) {
    match event {
        watcher::Event::Apply(o) | watcher::Event::InitApply(o) | watcher::Event::Delete(o) => {
            transform(o)
        }
        watcher::Event::Init | watcher::Event::InitDone => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ConfigMap;
    use kube::api::ObjectMeta;
    use tokio::sync::mpsc;

    fn cm(name: &str, rv: &str) -> ConfigMap {
        ConfigMap {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("ns".into()),
                uid: Some(format!("uid-{name}")),
                resource_version: Some(rv.into()),
                managed_fields: Some(Vec::new()),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn name(e: &Event<ConfigMap>) -> String {
        let kind = match e {
            Event::Added(_) => "added",
            Event::Updated { .. } => "updated",
            Event::Deleted(_) => "deleted",
        };
        format!(
            "{kind} {}",
            e.object().metadata.name.as_deref().unwrap_or("")
        )
    }

    /// An informer fed by hand, as a watcher stream would feed it.
    fn fed(
        transform: Option<Transform<ConfigMap>>,
        resync: Option<Duration>,
    ) -> (
        Informer<ConfigMap>,
        mpsc::UnboundedSender<watcher::Event<ConfigMap>>,
    ) {
        let (tx, rx) = mpsc::unbounded_channel();
        let events =
            futures::stream::unfold(
                rx,
                |mut rx| async move { rx.recv().await.map(|e| (Ok(e), rx)) },
            );
        (Informer::spawn(events, (), transform, resync), tx)
    }

    #[tokio::test]
    async fn subscribers_see_the_list_then_changes_and_sync_is_awaitable() {
        let strip: Transform<ConfigMap> = Arc::new(|o| o.metadata.managed_fields = None);
        let (informer, tx) = fed(Some(strip), None);
        let mut early = informer.subscribe();
        assert!(!informer.has_synced());
        for e in [
            watcher::Event::Init,
            watcher::Event::InitApply(cm("a", "1")),
            watcher::Event::InitDone,
        ] {
            tx.send(e).expect("send");
        }
        // Two waiters at once: both are woken.
        let (w1, w2) = (informer.wait_synced(), informer.wait_synced());
        tokio::time::timeout(Duration::from_secs(5), async { tokio::join!(w1, w2) })
            .await
            .expect("synced");
        assert_eq!(name(&early.recv().await), "added a");
        let cached = informer.store().get_in(Some("ns"), "a").expect("cached");
        assert_eq!(
            cached.metadata.managed_fields, None,
            "transformed before caching"
        );

        // A late subscriber starts from the cache.
        let mut late = informer.subscribe();
        assert_eq!(name(&late.recv().await), "added a");
        tx.send(watcher::Event::Delete(cm("a", "2"))).expect("send");
        assert_eq!(name(&early.recv().await), "deleted a");
        assert_eq!(name(&late.recv().await), "deleted a");
        assert!(informer.store().is_empty());
    }

    // Two threads: the test reads the log while the handler still works.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_handler_is_synced_only_after_it_saw_the_whole_list() {
        let (informer, tx) = fed(None, None);
        let seen: Arc<Mutex<Vec<String>>> = Arc::default();
        let log = seen.clone();
        let mut synced = informer.spawn_handler(move |e| {
            // A slow handler: the informer syncs long before it is done.
            std::thread::sleep(Duration::from_millis(20));
            lock_log(&log).push(name(&e));
        });
        tx.send(watcher::Event::Init).expect("send");
        for i in 0..10 {
            tx.send(watcher::Event::InitApply(cm(&format!("c{i}"), "1")))
                .expect("send");
        }
        tx.send(watcher::Event::InitDone).expect("send");
        tokio::time::timeout(Duration::from_secs(5), synced.wait_for(|s| *s))
            .await
            .expect("handler synced")
            .expect("handler task alive");
        assert_eq!(lock_log(&seen).len(), 10, "every listed object handled");

        tx.send(watcher::Event::Delete(cm("c3", "2")))
            .expect("send");
        tokio::time::timeout(Duration::from_secs(5), async {
            while !lock_log(&seen).contains(&"deleted c3".to_string()) {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .expect("the delete reaches the handler");
    }

    #[tokio::test]
    async fn a_handler_of_an_empty_list_is_synced() {
        let (informer, tx) = fed(None, None);
        let mut synced = informer.spawn_handler(|_| {});
        tx.send(watcher::Event::Init).expect("send");
        tx.send(watcher::Event::InitDone).expect("send");
        tokio::time::timeout(Duration::from_secs(5), synced.wait_for(|s| *s))
            .await
            .expect("handler synced")
            .expect("handler task alive");
    }

    fn lock_log(log: &Mutex<Vec<String>>) -> MutexGuard<'_, Vec<String>> {
        log.lock().unwrap_or_else(|e| e.into_inner())
    }

    #[tokio::test]
    async fn resync_delivers_every_cached_object_again() {
        let (informer, tx) = fed(None, Some(Duration::from_millis(100)));
        let mut sub = informer.subscribe();
        for e in [
            watcher::Event::Init,
            watcher::Event::InitApply(cm("a", "1")),
            watcher::Event::InitDone,
        ] {
            tx.send(e).expect("send");
        }
        assert_eq!(name(&sub.recv().await), "added a");
        let e = tokio::time::timeout(Duration::from_secs(5), sub.recv())
            .await
            .expect("a resync");
        let Event::Updated { old, new } = e else {
            panic!("resync is an update");
        };
        assert!(Arc::ptr_eq(&old, &new));
    }
}
