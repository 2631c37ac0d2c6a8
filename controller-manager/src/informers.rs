//! The controller-manager's shared informers: the client crate's
//! [`SharedInformerFactory`] (one list+watch per kind for the whole
//! process, created on first request), with what the caches keep slimmed
//! by `compact.rs`, and the indexes several controllers read.
//!
//! A controller asks for `ctx.informers.get::<K>()` before its first
//! `.await` (so every typed informer exists by the time the garbage
//! collector and the resource-quota controller, which ask for
//! metadata-only views after a round trip to the apiserver, look for one
//! to share), subscribes, waits until synced, and reads the store through
//! its indexes.

use client::informer::{SharedInformerFactory, Store};
use k8s_openapi::api::core::v1::Pod;
use kube::Resource;
use std::hash::Hash;

/// The process's informers.
pub type Informers = SharedInformerFactory;

/// Index of objects by the uid of their controller (ownerReference with
/// `controller: true`).
pub const BY_CONTROLLER_UID: &str = "controller-uid";
/// Index of Pods by `spec.nodeName`.
pub const BY_NODE_NAME: &str = "spec.nodeName";

/// The factory every controller of this process shares.
pub fn factory(client: kube::Client) -> Informers {
    // No periodic resync: controllers requeue what they must retry.
    let factory = SharedInformerFactory::with_options(client, None, true);
    factory.set_transform::<Pod>(crate::compact::compact_pod);
    factory
}

fn controller_uid<K: Resource>(obj: &K) -> Vec<String> {
    obj.meta()
        .owner_references
        .iter()
        .flatten()
        .filter(|r| r.controller == Some(true))
        .map(|r| r.uid.clone())
        .collect()
}

fn node_name(pod: &Pod) -> Vec<String> {
    pod.spec
        .as_ref()
        .and_then(|s| s.node_name.clone())
        .into_iter()
        .collect()
}

/// The objects of `store` controlled by the object with uid `uid`.
pub fn controlled_by<K>(store: &Store<K>, uid: &str) -> Vec<std::sync::Arc<K>>
where
    K: Resource + Clone + 'static,
    K::DynamicType: Eq + Hash + Clone,
{
    store.ensure_index(BY_CONTROLLER_UID, controller_uid::<K>);
    store.by_index(BY_CONTROLLER_UID, uid).unwrap_or_default()
}

/// The Pods bound to `node`.
pub fn pods_on_node(store: &Store<Pod>, node: &str) -> Vec<std::sync::Arc<Pod>> {
    store.ensure_index(BY_NODE_NAME, node_name);
    store.by_index(BY_NODE_NAME, node).unwrap_or_default()
}
