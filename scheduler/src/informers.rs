//! The scheduler's handlers on the client crate's shared informers (one
//! list+watch per kind, deletions delivered after a relist too): they keep
//! the cache, the queue and the storage/PDB stores current, and move
//! parked pods on the cluster events that could help them.
//!
//! The informers' stores hold each object once; the cache, the queue and
//! the volume store share those `Arc`s instead of copying objects.

use crate::framework::PodInfo;
use crate::framework::pod_info::pod_key;
use crate::preemption::Pdb;
use crate::scheduler::Scheduler;
use apimachinery::labels::Selector;
use client::informer::{Event, SharedInformerFactory};
use k8s_openapi::api::apps::v1::{ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{
    Namespace, Node, PersistentVolume, PersistentVolumeClaim, Pod, ReplicationController, Service,
};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::storage::v1::StorageClass;
use std::sync::Arc;
use tokio::sync::watch;

/// Objects per page of the first lists (tens of thousands of pods and
/// nodes in a big cluster).
const LIST_PAGE_SIZE: u32 = 2000;

/// The scheduler's informer factory: caches without managedFields, and
/// workload objects reduced to the labels and selectors it reads.
pub fn factory(client: kube::Client) -> SharedInformerFactory {
    let factory = SharedInformerFactory::with_options(client, None, true);
    factory.set_page_size(LIST_PAGE_SIZE);
    // Only the selector of a workload matters (default spreading); its pod
    // template is most of its size.
    factory.set_transform::<ReplicaSet>(|o| {
        if let Some(spec) = o.spec.as_mut() {
            spec.template = None;
        }
        o.status = None;
    });
    factory.set_transform::<ReplicationController>(|o| {
        if let Some(spec) = o.spec.as_mut() {
            spec.template = None;
        }
        o.status = None;
    });
    factory.set_transform::<StatefulSet>(|o| {
        if let Some(spec) = o.spec.as_mut() {
            spec.template = Default::default();
            spec.volume_claim_templates = None;
        }
        o.status = None;
    });
    factory
}

fn name_of<K: kube::Resource>(o: &K) -> String {
    o.meta().name.clone().unwrap_or_default()
}

fn ns_name_of<K: kube::Resource>(o: &K) -> String {
    format!(
        "{}/{}",
        o.meta().namespace.as_deref().unwrap_or_default(),
        o.meta().name.as_deref().unwrap_or_default()
    )
}

fn on_pod(s: &Scheduler, pod: Arc<Pod>) {
    let key = pod_key(&pod);
    let phase = pod
        .status
        .as_ref()
        .and_then(|st| st.phase.as_deref())
        .unwrap_or_default();
    let node = pod
        .spec
        .as_ref()
        .and_then(|sp| sp.node_name.clone())
        .filter(|n| !n.is_empty());
    if matches!(phase, "Succeeded" | "Failed") {
        // Finished pods hold no resources.
        on_pod_deleted(s, &key);
        return;
    }
    match node {
        Some(node) => {
            s.queue.delete(&key);
            s.nominated
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&key);
            s.cache()
                .add_or_update_pod(Arc::new(PodInfo::new(pod)), &node);
        }
        None => {
            if pod.metadata.deletion_timestamp.is_some() || !s.responsible_for(&pod) {
                return;
            }
            if s.cache().is_assumed(&key) {
                return;
            }
            let nominated = pod
                .status
                .as_ref()
                .and_then(|st| st.nominated_node_name.clone())
                .filter(|n| !n.is_empty());
            let info = Arc::new(PodInfo::new(pod));
            if let Some(n) = nominated {
                s.set_nominated(&info, Some(&n));
            }
            s.queue.add_or_update(info);
        }
    }
}

fn on_pod_deleted(s: &Scheduler, key: &str) {
    s.queue.delete(key);
    s.nominated
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(key);
    let had = s.cache().contains_pod(key);
    s.cache().remove_pod(key);
    if had {
        // Room freed on a node.
        s.queue.move_all_to_active_or_backoff();
    }
}

fn pdb_of(p: &PodDisruptionBudget) -> Option<Pdb> {
    let selector = p.spec.as_ref()?.selector.as_ref()?;
    let selector = Selector::from_label_selector(&serde_json::to_value(selector).ok()?).ok()?;
    Some(Pdb {
        namespace: p.metadata.namespace.clone().unwrap_or_default(),
        selector,
        disruptions_allowed: p
            .status
            .as_ref()
            .map(|s| i64::from(s.disruptions_allowed))
            .unwrap_or(0),
    })
}

/// Registers every handler; the returned receivers turn true once the
/// handlers of pods and nodes have seen the first lists (scheduling waits
/// for both).
pub fn start(factory: &SharedInformerFactory, s: Arc<Scheduler>) -> Vec<watch::Receiver<bool>> {
    let mut ready = Vec::new();

    let a = s.clone();
    ready.push(factory.get::<Node>().spawn_handler(move |e| match e {
        Event::Added(n) | Event::Updated { new: n, .. } => {
            let relevant = a.cache().add_or_update_node(n);
            if relevant {
                a.queue.move_all_to_active_or_backoff();
            }
        }
        Event::Deleted(n) => a.cache().remove_node(&name_of(&*n)),
    }));

    let a = s.clone();
    ready.push(factory.get::<Pod>().spawn_handler(move |e| match e {
        Event::Added(p) | Event::Updated { new: p, .. } => on_pod(&a, p),
        Event::Deleted(p) => on_pod_deleted(&a, &pod_key(&p)),
    }));

    macro_rules! store_handler {
        ($kind:ty, $key:expr, $field:ident) => {{
            let a = s.clone();
            factory.get::<$kind>().spawn_handler(move |e| match e {
                Event::Added(o) | Event::Updated { new: o, .. } => {
                    if let Ok(mut st) = a.volumes.store.write() {
                        st.$field.insert($key(&*o), o);
                    }
                    a.queue.move_all_to_active_or_backoff();
                }
                Event::Deleted(o) => {
                    if let Ok(mut st) = a.volumes.store.write() {
                        st.$field.remove(&$key(&*o));
                    }
                }
            });
        }};
    }
    store_handler!(
        PersistentVolumeClaim,
        ns_name_of::<PersistentVolumeClaim>,
        claims
    );
    store_handler!(PersistentVolume, name_of::<PersistentVolume>, volumes);
    store_handler!(StorageClass, name_of::<StorageClass>, classes);

    watch_cluster_objects(factory, &s);

    factory
        .get::<PodDisruptionBudget>()
        .spawn_handler(move |e| {
            let key = ns_name_of(&**e.object());
            let Ok(mut m) = s.pdbs.write() else {
                return;
            };
            match e {
                Event::Added(p) | Event::Updated { new: p, .. } => match pdb_of(&p) {
                    Some(pdb) => {
                        m.insert(key, pdb);
                    }
                    None => {
                        m.remove(&key);
                    }
                },
                Event::Deleted(_) => {
                    m.remove(&key);
                }
            }
        });
    ready
}

/// `Kind/name` within a namespace: the key of a workload selector.
fn kind_name<K: kube::Resource<DynamicType = ()>>(o: &K) -> String {
    format!(
        "{}/{}",
        K::kind(&()),
        o.meta().name.as_deref().unwrap_or_default()
    )
}

fn map_selector(m: Option<&std::collections::BTreeMap<String, String>>) -> Option<Selector> {
    m.filter(|m| !m.is_empty())
        .and_then(|m| Selector::from_map(m).ok())
}

fn label_selector(
    s: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector>,
) -> Option<Selector> {
    s.and_then(|s| serde_json::to_value(s).ok())
        .and_then(|v| Selector::from_label_selector(&v).ok())
}

/// Follows namespaces (labels, for namespaceSelector) and the Services,
/// ReplicationControllers, ReplicaSets and StatefulSets (selectors, for the
/// default spreading constraints) into the cache's cluster objects.
fn watch_cluster_objects(factory: &SharedInformerFactory, s: &Arc<Scheduler>) {
    let a = s.clone();
    factory.get::<Namespace>().spawn_handler(move |e| match e {
        Event::Added(n) | Event::Updated { new: n, .. } => {
            let name = name_of(&*n);
            let labels = n.metadata.labels.clone().unwrap_or_default();
            let changed = a.cache().objects.labels_of(&name) != Some(&labels);
            a.cache().objects.set_namespace(&name, labels);
            if changed {
                // A namespaceSelector may now select it.
                a.queue.move_all_to_active_or_backoff();
            }
        }
        Event::Deleted(n) => a.cache().objects.remove_namespace(&name_of(&*n)),
    });

    macro_rules! selector_handler {
        ($kind:ty, $selector:expr) => {{
            let a = s.clone();
            factory.get::<$kind>().spawn_handler(move |e| {
                let o = e.object();
                let ns = o.metadata.namespace.clone().unwrap_or_default();
                let selector: Option<Selector> = match &e {
                    Event::Deleted(_) => None,
                    _ => $selector(&**o),
                };
                a.cache()
                    .objects
                    .set_selector(&ns, &kind_name(&**o), selector);
            });
        }};
    }
    selector_handler!(Service, |o: &Service| map_selector(
        o.spec.as_ref().and_then(|s| s.selector.as_ref())
    ));
    selector_handler!(ReplicationController, |o: &ReplicationController| {
        map_selector(o.spec.as_ref().and_then(|s| s.selector.as_ref()))
    });
    selector_handler!(ReplicaSet, |o: &ReplicaSet| label_selector(
        o.spec.as_ref().map(|s| &s.selector)
    ));
    selector_handler!(StatefulSet, |o: &StatefulSet| label_selector(
        o.spec.as_ref().map(|s| &s.selector)
    ));
}
