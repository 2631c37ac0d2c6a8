//! Delivering events to subscribers without ever holding the watch back.
//!
//! Each [`Subscription`] has its own queue, filled by the informer's watch
//! task and drained by the subscriber at its own pace. The queue keeps at
//! most one pending entry per object (like client-go's DeltaFIFO keeps
//! deltas per key), so it is bounded by the number of objects, not by the
//! number of events:
//!
//! - Added then Updated is delivered as one Added (the newest state);
//! - Updated then Updated as one Updated (the oldest old, the newest new);
//! - Updated then Deleted as one Deleted (the final state);
//! - Added then Deleted as nothing (the subscriber never saw the object);
//! - Deleted then Added (a re-create) stays two events, in order.
//!
//! So a subscriber that lags does not lose a deletion, it sees fewer,
//! merged events; objects are delivered in the order they first changed.

use super::Event;
use futures::Stream;
use kube::Resource;
use kube::runtime::reflector::{Lookup, ObjectRef};
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use tokio::sync::Notify;

/// Pending events of one subscriber, at most two per object.
pub(crate) struct Pending<K: Resource>
where
    K::DynamicType: Eq + Hash + Clone,
{
    order: VecDeque<ObjectRef<K>>,
    events: HashMap<ObjectRef<K>, Vec<Event<K>>>,
}

impl<K: Resource> Default for Pending<K>
where
    K::DynamicType: Eq + Hash + Clone,
{
    fn default() -> Self {
        Pending {
            order: VecDeque::new(),
            events: HashMap::new(),
        }
    }
}

impl<K: Resource> Pending<K>
where
    K::DynamicType: Eq + Hash + Clone,
{
    /// Adds `event` for `key`, merged with what is pending for it.
    pub(crate) fn push(&mut self, key: ObjectRef<K>, event: Event<K>) {
        let pending = match self.events.get_mut(&key) {
            Some(p) => p,
            None => {
                self.order.push_back(key.clone());
                self.events.entry(key).or_default()
            }
        };
        let merged = match (pending.pop(), event) {
            (None, e) => Some(e),
            (Some(Event::Added(_)), Event::Updated { new, .. }) => Some(Event::Added(new)),
            (Some(Event::Added(_)), Event::Deleted(_)) => None,
            (Some(Event::Updated { old, .. }), Event::Updated { new, .. }) => {
                Some(Event::Updated { old, new })
            }
            (Some(Event::Updated { .. }), Event::Deleted(d)) => Some(Event::Deleted(d)),
            (Some(last), e) => {
                pending.push(last);
                Some(e)
            }
        };
        pending.extend(merged);
    }

    /// The next object's events, oldest first.
    pub(crate) fn pop(&mut self) -> Option<Vec<Event<K>>> {
        while let Some(key) = self.order.pop_front() {
            match self.events.remove(&key) {
                Some(events) if !events.is_empty() => return Some(events),
                _ => continue,
            }
        }
        None
    }

    /// How many objects have events pending.
    pub(crate) fn len(&self) -> usize {
        self.events.values().filter(|e| !e.is_empty()).count()
    }
}

/// One subscriber's queue, shared between the watch task and the
/// subscriber.
pub(crate) struct Queue<K: Resource>
where
    K::DynamicType: Eq + Hash + Clone,
{
    pending: Mutex<Pending<K>>,
    notify: Notify,
    dyntype: K::DynamicType,
}

impl<K: Resource> Queue<K>
where
    K::DynamicType: Eq + Hash + Clone,
{
    fn lock(&self) -> MutexGuard<'_, Pending<K>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn push_all(&self, events: &[Event<K>]) {
        if events.is_empty() {
            return;
        }
        let mut pending = self.lock();
        for e in events {
            pending.push(e.object().to_object_ref(self.dyntype.clone()), e.clone());
        }
        drop(pending);
        self.notify.notify_one();
    }
}

/// The subscribers of one informer.
pub(crate) struct Fanout<K: Resource>
where
    K::DynamicType: Eq + Hash + Clone,
{
    subscribers: Vec<Weak<Queue<K>>>,
}

impl<K: Resource> Default for Fanout<K>
where
    K::DynamicType: Eq + Hash + Clone,
{
    fn default() -> Self {
        Fanout {
            subscribers: Vec::new(),
        }
    }
}

impl<K: Resource> Fanout<K>
where
    K::DynamicType: Eq + Hash + Clone,
{
    /// Hands `events` to every live subscriber; forgets dropped ones.
    pub(crate) fn send(&mut self, events: &[Event<K>]) {
        self.subscribers.retain(|s| match s.upgrade() {
            Some(queue) => {
                queue.push_all(events);
                true
            }
            None => false,
        });
    }

    /// A new subscriber that first sees `initial` (the cache as Added).
    pub(crate) fn subscribe(
        &mut self,
        dyntype: K::DynamicType,
        initial: &[Event<K>],
    ) -> Subscription<K> {
        let queue = Arc::new(Queue {
            pending: Mutex::new(Pending::default()),
            notify: Notify::new(),
            dyntype,
        });
        queue.push_all(initial);
        self.subscribers.push(Arc::downgrade(&queue));
        Subscription {
            queue,
            ready: VecDeque::new(),
        }
    }
}

/// A subscriber's view of an informer: every change from the moment of
/// subscribing, starting with the cached objects as `Added`.
pub struct Subscription<K: Resource>
where
    K::DynamicType: Eq + Hash + Clone,
{
    queue: Arc<Queue<K>>,
    ready: VecDeque<Event<K>>,
}

impl<K: Resource + Send + Sync + 'static> Subscription<K>
where
    K::DynamicType: Eq + Hash + Clone + Send + Sync,
{
    /// The next event; waits while there is none.
    pub async fn recv(&mut self) -> Event<K> {
        loop {
            if let Some(e) = self.try_recv() {
                return e;
            }
            self.queue.notify.notified().await;
        }
    }

    /// The next event if one is pending.
    pub fn try_recv(&mut self) -> Option<Event<K>> {
        if let Some(e) = self.ready.pop_front() {
            return Some(e);
        }
        let events = self.queue.lock().pop()?;
        self.ready.extend(events);
        self.ready.pop_front()
    }

    /// How many objects have events waiting for this subscriber.
    pub fn pending(&self) -> usize {
        self.ready.len() + self.queue.lock().len()
    }

    /// The events as a stream (it never ends while the informer runs).
    pub fn into_stream(self) -> impl Stream<Item = Event<K>> + Send + 'static {
        futures::stream::unfold(self, |mut s| async move {
            let e = s.recv().await;
            Some((e, s))
        })
    }

    /// The changed objects, deletions included (their final state): the
    /// trigger stream kube-runtime's `Controller` takes in
    /// `for_shared_stream`, `owns_shared_stream` and `watches_shared_stream`.
    pub fn objects(self) -> impl Stream<Item = Arc<K>> + Send + 'static {
        futures::StreamExt::map(self.into_stream(), |e| e.object().clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ConfigMap;
    use kube::api::ObjectMeta;

    fn cm(name: &str, rv: &str) -> Arc<ConfigMap> {
        Arc::new(ConfigMap {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("ns".into()),
                resource_version: Some(rv.into()),
                ..Default::default()
            },
            ..Default::default()
        })
    }

    fn rv(o: &ConfigMap) -> &str {
        o.metadata.resource_version.as_deref().unwrap_or("")
    }

    fn drain(s: &mut Subscription<ConfigMap>) -> Vec<String> {
        std::iter::from_fn(|| s.try_recv())
            .map(|e| match e {
                Event::Added(o) => format!(
                    "add {} {}",
                    o.metadata.name.as_deref().unwrap_or(""),
                    rv(&o)
                ),
                Event::Updated { old, new } => format!(
                    "update {} {}->{}",
                    new.metadata.name.as_deref().unwrap_or(""),
                    rv(&old),
                    rv(&new)
                ),
                Event::Deleted(o) => format!(
                    "delete {} {}",
                    o.metadata.name.as_deref().unwrap_or(""),
                    rv(&o)
                ),
            })
            .collect()
    }

    #[test]
    fn a_lagging_subscriber_sees_merged_events_and_every_delete() {
        let mut fanout = Fanout::<ConfigMap>::default();
        let mut sub = fanout.subscribe((), &[]);
        fanout.send(&[Event::Added(cm("a", "1"))]);
        fanout.send(&[Event::Updated {
            old: cm("a", "1"),
            new: cm("a", "2"),
        }]);
        fanout.send(&[Event::Added(cm("b", "3"))]);
        fanout.send(&[Event::Updated {
            old: cm("b", "3"),
            new: cm("b", "4"),
        }]);
        assert_eq!(drain(&mut sub), ["add a 2", "add b 4"]);

        fanout.send(&[Event::Updated {
            old: cm("a", "2"),
            new: cm("a", "5"),
        }]);
        fanout.send(&[Event::Updated {
            old: cm("a", "5"),
            new: cm("a", "6"),
        }]);
        fanout.send(&[Event::Updated {
            old: cm("b", "4"),
            new: cm("b", "7"),
        }]);
        fanout.send(&[Event::Deleted(cm("b", "8"))]);
        assert_eq!(drain(&mut sub), ["update a 2->6", "delete b 8"]);
    }

    #[test]
    fn an_object_created_and_deleted_unseen_is_not_delivered() {
        let mut fanout = Fanout::<ConfigMap>::default();
        let mut sub = fanout.subscribe((), &[]);
        fanout.send(&[Event::Added(cm("a", "1"))]);
        fanout.send(&[Event::Deleted(cm("a", "2"))]);
        assert_eq!(drain(&mut sub), Vec::<String>::new());
        assert_eq!(sub.pending(), 0);
    }

    #[test]
    fn a_recreate_stays_a_delete_then_an_add() {
        let mut fanout = Fanout::<ConfigMap>::default();
        let mut sub = fanout.subscribe((), &[Event::Added(cm("a", "1"))]);
        assert_eq!(drain(&mut sub), ["add a 1"]);
        fanout.send(&[Event::Deleted(cm("a", "2"))]);
        fanout.send(&[Event::Added(cm("a", "3"))]);
        fanout.send(&[Event::Updated {
            old: cm("a", "3"),
            new: cm("a", "4"),
        }]);
        assert_eq!(drain(&mut sub), ["delete a 2", "add a 4"]);
    }

    #[test]
    fn the_queue_holds_one_entry_per_object() {
        let mut fanout = Fanout::<ConfigMap>::default();
        let sub = fanout.subscribe((), &[Event::Added(cm("a", "0"))]);
        for i in 1..1000 {
            fanout.send(&[Event::Updated {
                old: cm("a", &(i - 1).to_string()),
                new: cm("a", &i.to_string()),
            }]);
        }
        assert_eq!(sub.pending(), 1);
    }

    #[test]
    fn dropped_subscribers_are_forgotten() {
        let mut fanout = Fanout::<ConfigMap>::default();
        let sub = fanout.subscribe((), &[]);
        drop(sub);
        fanout.send(&[Event::Added(cm("a", "1"))]);
        assert!(fanout.subscribers.is_empty());
    }
}
