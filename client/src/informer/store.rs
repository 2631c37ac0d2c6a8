//! The reading side of an informer's cache.

use super::cache::{IndexFn, Shared};
use super::{Error, NAMESPACE_INDEX};
use kube::Resource;
use kube::runtime::reflector::{self, ObjectRef};
use std::hash::Hash;
use std::sync::Arc;

/// A read handle on one informer's cache; cheap to clone. Reads see the
/// cache as of the last event applied, objects and indexes alike.
pub struct Store<K: Resource + 'static>
where
    K::DynamicType: Eq + Hash + Clone,
{
    shared: Arc<Shared<K>>,
}

impl<K: Resource + 'static> Clone for Store<K>
where
    K::DynamicType: Eq + Hash + Clone,
{
    fn clone(&self) -> Self {
        Store {
            shared: self.shared.clone(),
        }
    }
}

impl<K> Store<K>
where
    K: Resource + Clone + 'static,
    K::DynamicType: Eq + Hash + Clone,
{
    pub(crate) fn new(shared: Arc<Shared<K>>) -> Store<K> {
        Store { shared }
    }

    /// The object `name` in `namespace` (`None` for cluster-scoped kinds).
    pub fn get_in(&self, namespace: Option<&str>, name: &str) -> Option<Arc<K>> {
        let mut key = ObjectRef::<K>::new_with(name, self.shared.dyntype.clone());
        if let Some(ns) = namespace {
            key = key.within(ns);
        }
        self.shared.objects.get(&key)
    }

    /// The object `key` refers to (as kube-runtime's store reads it).
    pub fn get(&self, key: &ObjectRef<K>) -> Option<Arc<K>> {
        self.shared.objects.get(key)
    }

    /// Every cached object. Prefer [`Store::namespaced`] or
    /// [`Store::by_index`] in reconciles: their cost grows with what they
    /// return, not with the cluster.
    pub fn list(&self) -> Vec<Arc<K>> {
        self.shared.objects.state()
    }

    /// How many objects are cached.
    pub fn len(&self) -> usize {
        self.shared.objects.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.shared.objects.is_empty()
    }

    /// The cached objects of one namespace (the built-in index).
    pub fn namespaced(&self, namespace: &str) -> Vec<Arc<K>> {
        self.by_index(NAMESPACE_INDEX, namespace)
            .unwrap_or_default()
    }

    /// The cached objects filed under `value` in the index `index`.
    pub fn by_index(&self, index: &str, value: &str) -> Result<Vec<Arc<K>>, Error> {
        let indexes = self.shared.read_indexes();
        let index = indexes
            .by_name
            .get(index)
            .ok_or_else(|| Error::UnknownIndex(index.to_string()))?;
        Ok(index
            .entries
            .get(value)
            .map(|keys| {
                keys.iter()
                    .filter_map(|k| self.shared.objects.get(k))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The values the index `index` currently has objects under.
    pub fn index_values(&self, index: &str) -> Result<Vec<String>, Error> {
        let indexes = self.shared.read_indexes();
        let index = indexes
            .by_name
            .get(index)
            .ok_or_else(|| Error::UnknownIndex(index.to_string()))?;
        Ok(index.entries.keys().cloned().collect())
    }

    /// Registers an index and files every cached object under it; later
    /// changes keep it current. Registering a name twice is refused:
    /// controllers sharing an index agree on one function, registered
    /// through [`Store::ensure_index`].
    pub fn add_index(
        &self,
        name: &str,
        func: impl Fn(&K) -> Vec<String> + Send + Sync + 'static,
    ) -> Result<(), Error> {
        self.shared.add_index(name, Arc::new(func) as IndexFn<K>)
    }

    /// Registers the index unless one of that name exists (the first
    /// registration wins; share the function, e.g. a `fn` in one module).
    pub fn ensure_index(
        &self,
        name: &str,
        func: impl Fn(&K) -> Vec<String> + Send + Sync + 'static,
    ) {
        match self.add_index(name, func) {
            Ok(()) | Err(Error::IndexExists(_)) => {}
            Err(e) => tracing::warn!(error = %e, "index not registered"),
        }
    }

    /// The kube-runtime store over the same objects, for
    /// `Controller::for_shared_stream` (no second copy of the cache).
    pub fn reader(&self) -> reflector::Store<K> {
        self.shared.objects.clone()
    }
}
