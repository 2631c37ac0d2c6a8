//! The RBAC objects (roles, bindings) held in memory for the authorizer,
//! kept current by the watch cache of each kind, so authorization never
//! waits on storage. Until the first list finished, RBAC has no opinion
//! (only system:masters gets in).

use crate::authn::UserInfo;
use crate::handlers::request::RequestInfo;
use crate::rbac::{self, PolicySource};
use crate::registry::{Store, meta};
use crate::resources;
use crate::storage::cacher::feed;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

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

/// Does one of the binding's subjects name this user (directly, by group,
/// or as a ServiceAccount)?
fn subject_matches(user: &UserInfo, binding: &Value, namespace: &str) -> bool {
    binding
        .get("subjects")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|s| {
            let name = s.get("name").and_then(Value::as_str).unwrap_or("");
            match s.get("kind").and_then(Value::as_str).unwrap_or("") {
                "User" => user.name == name,
                "Group" => user.groups.iter().any(|g| g == name),
                "ServiceAccount" => {
                    let ns = s
                        .get("namespace")
                        .and_then(Value::as_str)
                        .filter(|n| !n.is_empty())
                        .unwrap_or(namespace);
                    !ns.is_empty() && user.name == rbac::service_account_username(ns, name)
                }
                _ => false,
            }
        })
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

    /// Every rule that applies to `user` in `namespace` (cluster-wide
    /// bindings plus that namespace's), split into resource and
    /// non-resource rules, as a SelfSubjectRulesReview reports them.
    pub fn rules_for(&self, user: &UserInfo, namespace: &str) -> (Vec<Value>, Vec<Value>) {
        let Ok(policy) = self.inner.read() else {
            return (Vec::new(), Vec::new());
        };
        let src = Snapshot(&policy);
        let mut bindings: Vec<(Value, String)> = src
            .cluster_role_bindings()
            .into_iter()
            .map(|b| (b, String::new()))
            .collect();
        if !namespace.is_empty() {
            bindings.extend(
                src.role_bindings(namespace)
                    .into_iter()
                    .map(|b| (b, namespace.to_string())),
            );
        }
        let (mut resource, mut non_resource) = (Vec::new(), Vec::new());
        for (b, ns) in bindings {
            if !subject_matches(user, &b, &ns) {
                continue;
            }
            let role_name = b
                .pointer("/roleRef/name")
                .and_then(Value::as_str)
                .unwrap_or("");
            let role = match b.pointer("/roleRef/kind").and_then(Value::as_str) {
                Some("ClusterRole") => src.cluster_role(role_name),
                _ => src.role(&ns, role_name),
            };
            for rule in role
                .and_then(|r| r.get("rules").cloned())
                .and_then(|r| r.as_array().cloned())
                .unwrap_or_default()
            {
                if rule.get("nonResourceURLs").is_some() {
                    non_resource.push(serde_json::json!({"verbs": rule["verbs"], "nonResourceURLs": rule["nonResourceURLs"]}));
                } else {
                    let mut r = serde_json::json!({"verbs": rule["verbs"], "apiGroups": rule["apiGroups"], "resources": rule["resources"]});
                    if let Some(n) = rule.get("resourceNames") {
                        r["resourceNames"] = n.clone();
                    }
                    resource.push(r);
                }
            }
        }
        (resource, non_resource)
    }

    /// The rules of a Role (`kind` "Role", in `namespace`) or ClusterRole.
    pub fn role_rules(&self, kind: &str, namespace: &str, name: &str) -> Vec<Value> {
        let Ok(policy) = self.inner.read() else {
            return Vec::new();
        };
        let src = Snapshot(&policy);
        let role = if kind == "ClusterRole" {
            src.cluster_role(name)
        } else {
            src.role(namespace, name)
        };
        role.and_then(|r| r.get("rules").and_then(Value::as_array).cloned())
            .unwrap_or_default()
    }

    fn with<F: FnOnce(&mut Policy)>(&self, f: F) {
        if let Ok(mut p) = self.inner.write() {
            f(&mut p);
        }
    }

    /// Keeps the cache in sync forever, fed by the watch cache of each
    /// RBAC resource (`storage::cacher::feed`).
    pub fn spawn_sync(&self, store: Store) {
        for plural in [
            "roles",
            "clusterroles",
            "rolebindings",
            "clusterrolebindings",
        ] {
            let Some(def) = resources::lookup("rbac.authorization.k8s.io", "v1", plural) else {
                continue;
            };
            let feed = Arc::new(RbacFeed {
                cache: self.clone(),
                plural,
            });
            feed::spawn(store.cacher.clone(), store.etcd.clone(), def, feed);
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
}

/// One RBAC resource's objects into the cache.
struct RbacFeed {
    cache: RbacCache,
    plural: &'static str,
}

impl feed::Handler for RbacFeed {
    fn replace(&self, objects: Vec<Value>) {
        let fresh: Objects = objects.into_iter().map(|o| (key(&o), o)).collect();
        self.cache
            .with(|p| *RbacCache::objects(p, self.plural) = fresh);
    }
    fn upsert(&self, o: &Value) {
        self.cache.with(|p| {
            RbacCache::objects(p, self.plural).insert(key(o), o.clone());
        });
    }
    fn delete(&self, o: &Value) {
        self.cache.with(|p| {
            RbacCache::objects(p, self.plural).remove(&key(o));
        });
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
        let (rules, urls) = cache.rules_for(&bob, "team");
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0]["resources"], serde_json::json!(["pods"]));
        assert!(urls.is_empty());
        assert!(cache.rules_for(&bob, "other").0.is_empty());
    }
}
