//! The RBAC objects (roles, bindings) held in memory for the authorizer,
//! kept current by a list + watch of etcd per kind, so authorization never
//! waits on storage. Until the first list finished, RBAC has no opinion
//! (only system:masters gets in).

use crate::authn::UserInfo;
use crate::handlers::request::RequestInfo;
use crate::rbac::{self, PolicySource};
use crate::registry::{ListOptions, Store, meta};
use crate::resources;
use crate::storage::WatchEventType;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Objects of one kind by `namespace/name` (cluster-scoped: `/name`).
type Objects = BTreeMap<String, Value>;

#[derive(Default)]
struct Policy {
    roles: Objects,
    cluster_roles: Objects,
    role_bindings: Objects,
    cluster_role_bindings: Objects,
}

/// Shared, cheaply cloned view of the RBAC policy.
#[derive(Default, Clone)]
pub struct RbacCache {
    inner: Arc<RwLock<Policy>>,
}

fn key(obj: &Value) -> String {
    format!("{}/{}", meta::namespace(obj), meta::name(obj))
}

/// A read snapshot implementing the evaluator's [`PolicySource`].
struct Snapshot<'a>(&'a Policy);

impl PolicySource for Snapshot<'_> {
    fn cluster_role(&self, name: &str) -> Option<Value> {
        self.0.cluster_roles.get(&format!("/{name}")).cloned()
    }
    fn role(&self, namespace: &str, name: &str) -> Option<Value> {
        self.0.roles.get(&format!("{namespace}/{name}")).cloned()
    }
    fn cluster_role_bindings(&self) -> Vec<Value> {
        self.0.cluster_role_bindings.values().cloned().collect()
    }
    fn role_bindings(&self, namespace: &str) -> Vec<Value> {
        let prefix = format!("{namespace}/");
        self.0
            .role_bindings
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// The evaluator's view of a request.
pub fn attributes(user: &UserInfo, info: &RequestInfo) -> rbac::Attributes {
    rbac::Attributes {
        user: user.name.clone(),
        groups: user.groups.clone(),
        verb: info.verb.clone(),
        api_group: info.api_group.clone(),
        resource: info.resource.clone(),
        subresource: info.subresource.clone(),
        name: info.name.clone(),
        namespace: info.namespace.clone(),
        resource_request: info.is_resource_request,
        path: info.path.clone(),
    }
}

impl RbacCache {
    /// Allow, or no opinion with upstream's reason text (may be empty).
    pub fn authorize(&self, user: &UserInfo, info: &RequestInfo) -> Result<(), String> {
        let Ok(policy) = self.inner.read() else {
            return Err(String::new());
        };
        match rbac::authorize_with_reason(&attributes(user, info), &Snapshot(&policy)) {
            (rbac::Decision::Allow, _) => Ok(()),
            (_, reason) => Err(reason),
        }
    }

    fn with<F: FnOnce(&mut Policy)>(&self, f: F) {
        if let Ok(mut p) = self.inner.write() {
            f(&mut p);
        }
    }

    /// Keeps the cache in sync forever: list, then watch from the list's
    /// revision; relist after any watch failure (etcd down, compaction).
    pub fn spawn_sync(&self, store: Store) {
        for plural in [
            "roles",
            "clusterroles",
            "rolebindings",
            "clusterrolebindings",
        ] {
            let cache = self.clone();
            let store = store.clone();
            tokio::spawn(async move {
                loop {
                    if let Err(e) = cache.sync_once(&store, plural).await {
                        tracing::debug!("rbac cache {plural}: {e}");
                    }
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            });
        }
    }

    fn objects<'a>(p: &'a mut Policy, plural: &str) -> &'a mut Objects {
        match plural {
            "roles" => &mut p.roles,
            "clusterroles" => &mut p.cluster_roles,
            "rolebindings" => &mut p.role_bindings,
            _ => &mut p.cluster_role_bindings,
        }
    }

    async fn sync_once(&self, store: &Store, plural: &str) -> Result<(), String> {
        let def = resources::lookup("rbac.authorization.k8s.io", "v1", plural)
            .ok_or("unknown resource")?;
        let list = store
            .list(def, "", &ListOptions::default())
            .await
            .map_err(|e| e.to_string())?;
        let rev: i64 = list
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .and_then(|r| r.parse().ok())
            .unwrap_or(0);
        let fresh: Objects = list
            .get("items")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|o| (key(o), o.clone()))
            .collect();
        self.with(|p| *Self::objects(p, plural) = fresh);
        let prefix = store
            .collection_prefix(def, "")
            .map_err(|e| e.to_string())?;
        let mut events = store
            .etcd
            .watch(&prefix, rev)
            .await
            .map_err(|e| e.to_string())?;
        while let Some(ev) = events.recv().await {
            let ev = ev.map_err(|e| e.to_string())?;
            match ev.kind {
                WatchEventType::Added | WatchEventType::Modified => {
                    self.with(|p| {
                        Self::objects(p, plural).insert(key(&ev.object), ev.object.clone());
                    });
                }
                WatchEventType::Deleted => self.with(|p| {
                    Self::objects(p, plural).remove(&key(&ev.object));
                }),
                WatchEventType::Progress => {}
            }
        }
        Err("watch ended".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bindings_grant_roles() {
        let cache = RbacCache::default();
        cache.with(|p| {
            p.cluster_roles.insert(
                "/pod-reader".into(),
                json!({"metadata": {"name": "pod-reader"}, "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]}),
            );
            p.role_bindings.insert(
                "team/read".into(),
                json!({"metadata": {"name": "read", "namespace": "team"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "pod-reader"}, "subjects": [{"kind": "User", "name": "bob"}]}),
            );
        });
        let bob = UserInfo::authenticated("bob", "", vec![]);
        let mut info = RequestInfo {
            is_resource_request: true,
            verb: "list".into(),
            resource: "pods".into(),
            namespace: "team".into(),
            ..Default::default()
        };
        assert_eq!(cache.authorize(&bob, &info), Ok(()));
        info.namespace = "other".into();
        assert!(cache.authorize(&bob, &info).is_err());
        info.namespace = "team".into();
        info.verb = "delete".into();
        assert!(cache.authorize(&bob, &info).is_err());
    }
}
