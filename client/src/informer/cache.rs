//! The writing side of an informer's cache: applies the watcher's events to
//! the objects and their indexes in one critical section, and says what
//! changed as [`Event`]s (the diff of a relist included).
//!
//! The objects live in a kube-runtime `reflector::Store` (so a kube-runtime
//! `Controller` can look them up without a second copy); the indexes map an
//! index value to the keys of the objects that have it.

use super::{Error, Event, NAMESPACE_INDEX};
use kube::Resource;
use kube::runtime::reflector::{self, Lookup, ObjectRef, store::Writer};
use kube::runtime::watcher;
use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// An index function: the values of the index an object is filed under
/// (none, one, or several).
pub type IndexFn<K> = Arc<dyn Fn(&K) -> Vec<String> + Send + Sync>;

/// One index: its function and, per value, the keys of the objects filed
/// under it.
pub(crate) struct Index<K: Resource> {
    func: IndexFn<K>,
    pub(crate) entries: HashMap<String, HashSet<ObjectRef<K>>>,
}

/// Every index of one store, by name.
pub(crate) struct Indexes<K: Resource> {
    pub(crate) by_name: HashMap<String, Index<K>>,
}

/// What the writer and every reader of one cache share.
pub(crate) struct Shared<K: Resource + 'static>
where
    K::DynamicType: Eq + Hash + Clone,
{
    pub(crate) objects: reflector::Store<K>,
    pub(crate) indexes: RwLock<Indexes<K>>,
    pub(crate) dyntype: K::DynamicType,
}

impl<K> Shared<K>
where
    K: Resource + Clone + 'static,
    K::DynamicType: Eq + Hash + Clone,
{
    pub(crate) fn read_indexes(&self) -> RwLockReadGuard<'_, Indexes<K>> {
        self.indexes.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write_indexes(&self) -> RwLockWriteGuard<'_, Indexes<K>> {
        self.indexes.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers `func` under `name` and files every cached object under it.
    pub(crate) fn add_index(&self, name: &str, func: IndexFn<K>) -> Result<(), Error> {
        let mut indexes = self.write_indexes();
        if indexes.by_name.contains_key(name) {
            return Err(Error::IndexExists(name.to_string()));
        }
        let mut index = Index {
            func,
            entries: HashMap::new(),
        };
        for obj in self.objects.state() {
            index.file(obj.to_object_ref(self.dyntype.clone()), None, Some(&obj));
        }
        indexes.by_name.insert(name.to_string(), index);
        Ok(())
    }
}

impl<K: Resource> Index<K>
where
    K::DynamicType: Eq + Hash + Clone,
{
    /// Moves `key` from the values `old` had to the values `new` has.
    fn file(&mut self, key: ObjectRef<K>, old: Option<&K>, new: Option<&K>) {
        let before = old.map(|o| (self.func)(o)).unwrap_or_default();
        let after = new.map(|o| (self.func)(o)).unwrap_or_default();
        for value in before.iter().filter(|v| !after.contains(v)) {
            if let Some(keys) = self.entries.get_mut(value) {
                keys.remove(&key);
                if keys.is_empty() {
                    self.entries.remove(value);
                }
            }
        }
        for value in after.into_iter().filter(|v| !before.contains(v)) {
            self.entries.entry(value).or_default().insert(key.clone());
        }
    }
}

/// The namespace index's function.
fn namespace_of<K: Resource>(obj: &K) -> Vec<String> {
    vec![obj.meta().namespace.clone().unwrap_or_default()]
}

/// The writer of one cache; owned by the informer's watch task.
pub(crate) struct Cache<K: Resource + Clone + 'static>
where
    K::DynamicType: Eq + Hash + Clone,
{
    writer: Writer<K>,
    shared: Arc<Shared<K>>,
}

impl<K> Cache<K>
where
    K: Resource + Clone + 'static,
    K::DynamicType: Eq + Hash + Clone,
{
    pub(crate) fn new(dyntype: K::DynamicType) -> Cache<K> {
        let writer = Writer::new(dyntype.clone());
        let mut by_name = HashMap::new();
        by_name.insert(
            NAMESPACE_INDEX.to_string(),
            Index {
                func: Arc::new(namespace_of::<K>) as IndexFn<K>,
                entries: HashMap::new(),
            },
        );
        let shared = Arc::new(Shared {
            objects: writer.as_reader(),
            indexes: RwLock::new(Indexes { by_name }),
            dyntype,
        });
        Cache { writer, shared }
    }

    pub(crate) fn shared(&self) -> Arc<Shared<K>> {
        self.shared.clone()
    }

    fn key(&self, obj: &K) -> ObjectRef<K> {
        obj.to_object_ref(self.shared.dyntype.clone())
    }

    /// Applies one watcher event and returns what subscribers should see.
    pub(crate) fn apply(&mut self, event: watcher::Event<K>) -> Vec<Event<K>> {
        let shared = self.shared.clone();
        let mut indexes = shared.write_indexes();
        match event {
            watcher::Event::Apply(obj) => {
                let key = self.key(&obj);
                let old = shared.objects.get(&key);
                self.writer.apply_watcher_event(&watcher::Event::Apply(obj));
                let Some(new) = shared.objects.get(&key) else {
                    return Vec::new();
                };
                for index in indexes.by_name.values_mut() {
                    index.file(key.clone(), old.as_deref(), Some(&new));
                }
                match old {
                    None => vec![Event::Added(new)],
                    // A missed delete and a re-create under the same name.
                    Some(old) if old.meta().uid != new.meta().uid => {
                        vec![Event::Deleted(old), Event::Added(new)]
                    }
                    Some(old) => vec![Event::Updated { old, new }],
                }
            }
            watcher::Event::Delete(obj) => {
                let key = self.key(&obj);
                let old = shared.objects.get(&key);
                self.writer
                    .apply_watcher_event(&watcher::Event::Delete(obj.clone()));
                let Some(old) = old else {
                    return Vec::new();
                };
                for index in indexes.by_name.values_mut() {
                    index.file(key.clone(), Some(&old), None);
                }
                vec![Event::Deleted(Arc::new(obj))]
            }
            watcher::Event::Init => {
                self.writer.apply_watcher_event(&watcher::Event::Init);
                Vec::new()
            }
            watcher::Event::InitApply(obj) => {
                self.writer
                    .apply_watcher_event(&watcher::Event::InitApply(obj));
                Vec::new()
            }
            watcher::Event::InitDone => {
                let mut before: HashMap<ObjectRef<K>, Arc<K>> = shared
                    .objects
                    .state()
                    .into_iter()
                    .map(|o| (self.key(&o), o))
                    .collect();
                self.writer.apply_watcher_event(&watcher::Event::InitDone);
                let mut events = Vec::new();
                for new in shared.objects.state() {
                    let key = self.key(&new);
                    match before.remove(&key) {
                        None => events.push(Event::Added(new)),
                        Some(old) if old.meta().uid != new.meta().uid => {
                            events.push(Event::Deleted(old));
                            events.push(Event::Added(new));
                        }
                        Some(old) if old.meta().resource_version != new.meta().resource_version => {
                            events.push(Event::Updated { old, new })
                        }
                        Some(_) => {}
                    }
                }
                events.extend(before.into_values().map(Event::Deleted));
                // Refile everything: cheaper to reason about than the diff.
                for index in indexes.by_name.values_mut() {
                    index.entries.clear();
                }
                for obj in shared.objects.state() {
                    let key = self.key(&obj);
                    for index in indexes.by_name.values_mut() {
                        index.file(key.clone(), None, Some(&obj));
                    }
                }
                events
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::informer::Store;
    use k8s_openapi::api::core::v1::{Pod, PodSpec};
    use kube::api::ObjectMeta;

    fn pod(ns: &str, name: &str, uid: &str, rv: &str, node: &str) -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some(ns.into()),
                uid: Some(uid.into()),
                resource_version: Some(rv.into()),
                ..Default::default()
            },
            spec: Some(PodSpec {
                node_name: (!node.is_empty()).then(|| node.to_string()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn by_node(p: &Pod) -> Vec<String> {
        p.spec
            .as_ref()
            .and_then(|s| s.node_name.clone())
            .into_iter()
            .collect()
    }

    fn names(mut pods: Vec<Arc<Pod>>) -> Vec<String> {
        let mut v: Vec<String> = pods
            .drain(..)
            .map(|p| p.metadata.name.clone().unwrap_or_default())
            .collect();
        v.sort();
        v
    }

    fn describe(events: &[Event<Pod>]) -> Vec<String> {
        let mut v: Vec<String> = events
            .iter()
            .map(|e| {
                let (what, o) = match e {
                    Event::Added(o) => ("added", o),
                    Event::Updated { new, .. } => ("updated", new),
                    Event::Deleted(o) => ("deleted", o),
                };
                format!(
                    "{what} {} {}",
                    o.metadata.name.as_deref().unwrap_or(""),
                    o.metadata.resource_version.as_deref().unwrap_or("")
                )
            })
            .collect();
        v.sort();
        v
    }

    fn list(cache: &mut Cache<Pod>, pods: Vec<Pod>) -> Vec<Event<Pod>> {
        cache.apply(watcher::Event::Init);
        for p in pods {
            cache.apply(watcher::Event::InitApply(p));
        }
        cache.apply(watcher::Event::InitDone)
    }

    #[test]
    fn indexes_follow_adds_updates_and_deletes() {
        let mut cache = Cache::<Pod>::new(());
        let store = Store::new(cache.shared());
        store.add_index("node", by_node).expect("new index");
        list(&mut cache, vec![pod("a", "p1", "u1", "1", "n1")]);
        cache.apply(watcher::Event::Apply(pod("a", "p2", "u2", "2", "n1")));
        cache.apply(watcher::Event::Apply(pod("b", "p3", "u3", "3", "")));
        assert_eq!(
            names(store.by_index("node", "n1").expect("index")),
            ["p1", "p2"]
        );
        assert_eq!(names(store.namespaced("a")), ["p1", "p2"]);
        assert_eq!(names(store.namespaced("b")), ["p3"]);

        // p2 moves from n1 to n2; p3 gets a node.
        let events = cache.apply(watcher::Event::Apply(pod("a", "p2", "u2", "4", "n2")));
        assert_eq!(describe(&events), ["updated p2 4"]);
        cache.apply(watcher::Event::Apply(pod("b", "p3", "u3", "5", "n2")));
        assert_eq!(names(store.by_index("node", "n1").expect("index")), ["p1"]);
        assert_eq!(
            names(store.by_index("node", "n2").expect("index")),
            ["p2", "p3"]
        );

        let events = cache.apply(watcher::Event::Delete(pod("a", "p1", "u1", "6", "n1")));
        assert_eq!(describe(&events), ["deleted p1 6"]);
        assert!(store.by_index("node", "n1").expect("index").is_empty());
        assert_eq!(store.index_values("node").expect("index"), ["n2"]);
        assert_eq!(names(store.namespaced("a")), ["p2"]);
        assert_eq!(store.len(), 2);
    }

    #[test]
    fn updates_carry_the_old_state() {
        let mut cache = Cache::<Pod>::new(());
        list(&mut cache, vec![pod("a", "p1", "u1", "1", "n1")]);
        let events = cache.apply(watcher::Event::Apply(pod("a", "p1", "u1", "2", "n2")));
        let [Event::Updated { old, new }] = events.as_slice() else {
            panic!("expected one update, got {events:?}");
        };
        assert_eq!(by_node(old), ["n1"]);
        assert_eq!(by_node(new), ["n2"]);
    }

    #[test]
    fn a_relist_delivers_what_changed_meanwhile() {
        let mut cache = Cache::<Pod>::new(());
        let store = Store::new(cache.shared());
        store.add_index("node", by_node).expect("new index");
        let first = list(
            &mut cache,
            vec![
                pod("a", "kept", "u1", "1", "n1"),
                pod("a", "changed", "u2", "2", "n1"),
                pod("a", "gone", "u3", "3", "n1"),
                pod("a", "recreated", "u4", "4", "n1"),
            ],
        );
        assert_eq!(first.len(), 4);
        assert!(first.iter().all(|e| matches!(e, Event::Added(_))));

        let events = list(
            &mut cache,
            vec![
                pod("a", "kept", "u1", "1", "n1"),
                pod("a", "changed", "u2", "7", "n2"),
                pod("a", "recreated", "u5", "8", "n1"),
                pod("a", "new", "u6", "9", "n1"),
            ],
        );
        assert_eq!(
            describe(&events),
            [
                "added new 9",
                "added recreated 8",
                // The last state the cache had of what disappeared.
                "deleted gone 3",
                "deleted recreated 4",
                "updated changed 7",
            ]
        );
        assert_eq!(
            names(store.by_index("node", "n1").expect("index")),
            ["kept", "new", "recreated"]
        );
        assert_eq!(
            names(store.by_index("node", "n2").expect("index")),
            ["changed"]
        );
        assert_eq!(store.get_in(Some("a"), "gone"), None);
    }

    #[test]
    fn a_relist_buffers_until_done() {
        let mut cache = Cache::<Pod>::new(());
        let store = Store::new(cache.shared());
        list(&mut cache, vec![pod("a", "p1", "u1", "1", "")]);
        cache.apply(watcher::Event::Init);
        cache.apply(watcher::Event::InitApply(pod("a", "p2", "u2", "2", "")));
        // Readers see the previous list until the new one is complete.
        assert_eq!(names(store.list()), ["p1"]);
        cache.apply(watcher::Event::InitDone);
        assert_eq!(names(store.list()), ["p2"]);
        assert_eq!(names(store.namespaced("a")), ["p2"]);
    }

    #[test]
    fn an_index_added_late_files_what_is_cached() {
        let mut cache = Cache::<Pod>::new(());
        let store = Store::new(cache.shared());
        list(&mut cache, vec![pod("a", "p1", "u1", "1", "n1")]);
        assert_eq!(
            store.by_index("node", "n1").err(),
            Some(Error::UnknownIndex("node".into()))
        );
        store.add_index("node", by_node).expect("new index");
        assert_eq!(names(store.by_index("node", "n1").expect("index")), ["p1"]);
        assert_eq!(
            store.add_index("node", by_node),
            Err(Error::IndexExists("node".into()))
        );
    }

    #[test]
    fn deleting_an_unknown_object_says_nothing() {
        let mut cache = Cache::<Pod>::new(());
        list(&mut cache, vec![]);
        let events = cache.apply(watcher::Event::Delete(pod("a", "p1", "u1", "1", "")));
        assert!(events.is_empty());
    }
}
