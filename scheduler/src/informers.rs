//! Watches (list + watch, relist on 410) that keep the cache, the queue
//! and the storage/PDB stores current, and move parked pods on the
//! cluster events that could help them.

use crate::framework::PodInfo;
use crate::framework::pod_info::pod_key;
use crate::preemption::Pdb;
use crate::scheduler::Scheduler;
use apimachinery::labels::Selector;
use futures::StreamExt;
use k8s_openapi::api::apps::v1::{ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{
    Namespace, Node, PersistentVolume, PersistentVolumeClaim, Pod, ReplicationController, Service,
};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::storage::v1::StorageClass;
use kube::Client;
use kube::api::Api;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use std::collections::HashSet;
use std::fmt::Debug;
use std::sync::Arc;
use tokio::sync::watch;

/// Runs one watch forever; `apply`/`delete` get each change, and after a
/// (re)list `delete` gets the keys that vanished meanwhile. `synced` turns
/// true after the first list.
async fn run<K, A, D>(
    api: Api<K>,
    key: fn(&K) -> String,
    apply: A,
    delete: D,
    synced: watch::Sender<bool>,
) where
    K: kube::Resource + Clone + Debug + serde::de::DeserializeOwned + Send + 'static,
    K::DynamicType: Default,
    A: Fn(K) + Send,
    D: Fn(&str, Option<K>) + Send,
{
    let mut known: HashSet<String> = HashSet::new();
    let mut listing: HashSet<String> = HashSet::new();
    let stream =
        watcher::watcher(api, watcher::Config::default().page_size(2000)).default_backoff();
    futures::pin_mut!(stream);
    while let Some(ev) = stream.next().await {
        match ev {
            Ok(Event::Init) => listing.clear(),
            Ok(Event::InitApply(obj)) => {
                listing.insert(key(&obj));
                apply(obj);
            }
            Ok(Event::InitDone) => {
                for gone in known.difference(&listing) {
                    delete(gone, None);
                }
                known = std::mem::take(&mut listing);
                let _ = synced.send(true);
            }
            Ok(Event::Apply(obj)) => {
                known.insert(key(&obj));
                apply(obj);
            }
            Ok(Event::Delete(obj)) => {
                let k = key(&obj);
                known.remove(&k);
                delete(&k, Some(obj));
            }
            Err(e) => tracing::warn!(error = %e, "watch failed; retrying"),
        }
    }
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

fn on_pod(s: &Scheduler, mut pod: Pod) {
    // managedFields are large and no plugin reads them.
    pod.metadata.managed_fields = None;
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
        s.queue.delete(&key);
        let had = s.cache().contains_pod(&key);
        s.cache().remove_pod(&key);
        if had {
            s.queue.move_all_to_active_or_backoff();
        }
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
                .add_or_update_pod(Arc::new(PodInfo::new(Arc::new(pod))), &node);
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
            let info = Arc::new(PodInfo::new(Arc::new(pod)));
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

/// Starts every watch; the returned receivers turn true once pods and
/// nodes have been listed (scheduling waits for both).
pub fn start(client: Client, s: Arc<Scheduler>) -> Vec<watch::Receiver<bool>> {
    let mut ready = Vec::new();

    let (tx, rx) = watch::channel(false);
    ready.push(rx);
    let (a, d) = (s.clone(), s.clone());
    tokio::spawn(run(
        Api::<Node>::all(client.clone()),
        name_of::<Node>,
        move |mut n: Node| {
            n.metadata.managed_fields = None;
            let relevant = a.cache().add_or_update_node(Arc::new(n));
            if relevant {
                a.queue.move_all_to_active_or_backoff();
            }
        },
        move |name: &str, _| d.cache().remove_node(name),
        tx,
    ));

    let (tx, rx) = watch::channel(false);
    ready.push(rx);
    let (a, d) = (s.clone(), s.clone());
    tokio::spawn(run(
        Api::<Pod>::all(client.clone()),
        ns_name_of::<Pod>,
        move |p: Pod| on_pod(&a, p),
        move |key: &str, _| on_pod_deleted(&d, key),
        tx,
    ));

    macro_rules! store_watch {
        ($kind:ty, $key:expr, $field:ident) => {{
            let (tx, _rx) = watch::channel(false);
            let (a, d) = (s.clone(), s.clone());
            tokio::spawn(run(
                Api::<$kind>::all(client.clone()),
                $key,
                move |o: $kind| {
                    if let Ok(mut st) = a.volumes.store.write() {
                        st.$field.insert($key(&o), Arc::new(o));
                    }
                    a.queue.move_all_to_active_or_backoff();
                },
                move |k: &str, _| {
                    if let Ok(mut st) = d.volumes.store.write() {
                        st.$field.remove(k);
                    }
                },
                tx,
            ));
        }};
    }
    store_watch!(
        PersistentVolumeClaim,
        ns_name_of::<PersistentVolumeClaim>,
        claims
    );
    store_watch!(PersistentVolume, name_of::<PersistentVolume>, volumes);
    store_watch!(StorageClass, name_of::<StorageClass>, classes);

    watch_cluster_objects(&client, &s);

    let (tx, _rx) = watch::channel(false);
    let (a, d) = (s.clone(), s);
    tokio::spawn(run(
        Api::<PodDisruptionBudget>::all(client),
        ns_name_of::<PodDisruptionBudget>,
        move |p: PodDisruptionBudget| {
            let key = ns_name_of(&p);
            if let (Some(pdb), Ok(mut m)) = (pdb_of(&p), a.pdbs.write()) {
                m.insert(key, pdb);
            }
        },
        move |k: &str, _| {
            if let Ok(mut m) = d.pdbs.write() {
                m.remove(k);
            }
        },
        tx,
    ));
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

/// Watches namespaces (labels, for namespaceSelector) and the Services,
/// ReplicationControllers, ReplicaSets and StatefulSets (selectors, for the
/// default spreading constraints). Only labels and selectors are kept.
fn watch_cluster_objects(client: &Client, s: &Arc<Scheduler>) {
    let (tx, _rx) = watch::channel(false);
    let (a, d) = (s.clone(), s.clone());
    tokio::spawn(run(
        Api::<Namespace>::all(client.clone()),
        name_of::<Namespace>,
        move |n: Namespace| {
            let name = name_of(&n);
            let labels = n.metadata.labels.unwrap_or_default();
            let changed = a.cache().objects.labels_of(&name) != Some(&labels);
            a.cache().objects.set_namespace(&name, labels);
            if changed {
                // A namespaceSelector may now select it.
                a.queue.move_all_to_active_or_backoff();
            }
        },
        move |name: &str, _| d.cache().objects.remove_namespace(name),
        tx,
    ));

    macro_rules! selector_watch {
        ($kind:ty, $selector:expr) => {{
            let (tx, _rx) = watch::channel(false);
            let (a, d) = (s.clone(), s.clone());
            tokio::spawn(run(
                Api::<$kind>::all(client.clone()),
                ns_name_of::<$kind>,
                move |o: $kind| {
                    let ns = o.metadata.namespace.clone().unwrap_or_default();
                    let selector: Option<Selector> = $selector(&o);
                    a.cache()
                        .objects
                        .set_selector(&ns, &kind_name(&o), selector);
                },
                move |key: &str, _| {
                    let (ns, name) = key.split_once('/').unwrap_or(("", key));
                    let kind = <$kind as kube::Resource>::kind(&());
                    d.cache()
                        .objects
                        .set_selector(ns, &format!("{kind}/{name}"), None);
                },
                tx,
            ));
        }};
    }
    selector_watch!(Service, |o: &Service| map_selector(
        o.spec.as_ref().and_then(|s| s.selector.as_ref())
    ));
    selector_watch!(ReplicationController, |o: &ReplicationController| {
        map_selector(o.spec.as_ref().and_then(|s| s.selector.as_ref()))
    });
    selector_watch!(ReplicaSet, |o: &ReplicaSet| label_selector(
        o.spec.as_ref().map(|s| &s.selector)
    ));
    selector_watch!(StatefulSet, |o: &StatefulSet| label_selector(
        o.spec.as_ref().map(|s| &s.selector)
    ));
}
