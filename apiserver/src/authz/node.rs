//! The Node authorizer (`--authorization-mode=Node`): requests of a
//! kubelet's identity (`system:node:<name>` in group `system:nodes`) are
//! limited to its own Node and Lease and to the objects the pods bound to it
//! reference (the [`Graph`]); other resources follow the static rules of the
//! `system:node` ClusterRole, as upstream's authorizer does. Everything it
//! does not allow is "no opinion", so RBAC still gets asked.

use super::graph::{Graph, Vertex};
use crate::authn::UserInfo;
use crate::handlers::request::RequestInfo;
use crate::registry::Store;
use crate::resources;
use crate::storage::cacher::feed;
use serde_json::Value;
use std::sync::{Arc, RwLock};

/// The answer of the Node authorizer: allow, or no opinion with a reason
/// (upstream's text; may be empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeDecision {
    Allow,
    NoOpinion(String),
}

use NodeDecision::{Allow, NoOpinion};

/// The Node authorizer and the graph it consults, cheaply cloned.
#[derive(Clone)]
pub struct NodeAuthorizer {
    graph: Arc<RwLock<Graph>>,
    /// The `system:node` ClusterRole's rules: what every node may do with
    /// resources the graph does not subdivide.
    node_rules: Arc<Vec<Value>>,
}

impl Default for NodeAuthorizer {
    fn default() -> Self {
        let node_rules = crate::rbac::bootstrap::cluster_roles()
            .into_iter()
            .find(|r| r.pointer("/metadata/name").and_then(Value::as_str) == Some("system:node"))
            .and_then(|r| r.get("rules").and_then(Value::as_array).cloned())
            .unwrap_or_default();
        NodeAuthorizer {
            graph: Arc::default(),
            node_rules: Arc::new(node_rules),
        }
    }
}

/// The node name of a kubelet identity, as upstream's node identifier
/// derives it: user `system:node:<name>` and member of `system:nodes`.
pub fn node_identity(user: &UserInfo) -> Option<&str> {
    let name = user.name.strip_prefix("system:node:")?;
    user.groups
        .iter()
        .any(|g| g == "system:nodes")
        .then_some(name)
}

fn no_relationship(node: &str) -> NodeDecision {
    NoOpinion(format!(
        "no relationship found between node '{node}' and this object"
    ))
}

/// The value a field selector requires `field` to equal exactly
/// (`field=value` or `field==value` among its comma-separated terms).
fn exact_match<'a>(field_selector: &'a str, field: &str) -> Option<&'a str> {
    field_selector.split(',').find_map(|term| {
        let term = term.trim();
        let (k, v) = term.split_once("==").or_else(|| term.split_once('='))?;
        (k.trim() == field).then(|| v.trim())
    })
}

/// Whether the request's field selector pins `field` to `value`.
fn selects(field_selector: &str, field: &str, value: &str) -> bool {
    exact_match(field_selector, field) == Some(value)
}

impl NodeAuthorizer {
    /// Decides a request; `None` when the user is not a node at all.
    pub fn authorize(&self, user: &UserInfo, info: &RequestInfo) -> Option<NodeDecision> {
        let node = node_identity(user)?;
        if node.is_empty() {
            return Some(NoOpinion(format!("unknown node for user {:?}", user.name)));
        }
        let graph = self.graph.read().ok()?;
        // As upstream's request info: a list/watch selecting one object by
        // `metadata.name` is about that object (what a kubelet's secret,
        // configmap and Node watches send).
        if matches!(info.verb.as_str(), "list" | "watch")
            && info.name.is_empty()
            && let Some(name) = exact_match(&info.field_selector, "metadata.name")
        {
            let named = RequestInfo {
                name: name.to_string(),
                ..info.clone()
            };
            return Some(self.decide(&graph, node, user, &named));
        }
        Some(self.decide(&graph, node, user, info))
    }

    fn decide(
        &self,
        graph: &Graph,
        node: &str,
        user: &UserInfo,
        info: &RequestInfo,
    ) -> NodeDecision {
        if info.is_resource_request {
            let subdivided = match (info.api_group.as_str(), info.resource.as_str()) {
                ("", "secrets") => Some(read_namespaced(graph, node, Vertex::Secret, info)),
                ("", "configmaps") => Some(read_namespaced(graph, node, Vertex::ConfigMap, info)),
                ("", "persistentvolumeclaims") => Some(if info.subresource == "status" {
                    status_update(graph, node, info)
                } else {
                    get_only(info).unwrap_or_else(|| {
                        related(graph, node, Vertex::PersistentVolumeClaim, info)
                    })
                }),
                ("", "persistentvolumes") => Some(get_only(info).unwrap_or_else(|| {
                    if info.name.is_empty() {
                        NoOpinion("No Object name found".into())
                    } else if graph.reaches_pv(node, &info.name) {
                        Allow
                    } else {
                        no_relationship(node)
                    }
                })),
                ("", "serviceaccounts") => Some(create_token(graph, node, info)),
                ("coordination.k8s.io", "leases") => Some(lease(node, info)),
                ("storage.k8s.io", "csinodes") => Some(csi_node(node, info)),
                ("", "nodes") => Some(node_object(node, info)),
                ("", "pods") => Some(pod(graph, node, info)),
                _ => None,
            };
            if let Some(d) = subdivided {
                return d;
            }
        }
        let attrs = crate::rbac_cache::attributes(user, info);
        if self
            .node_rules
            .iter()
            .any(|r| crate::rbac::rule_allows(&attrs, r))
        {
            Allow
        } else {
            NoOpinion(String::new())
        }
    }

    /// Keeps the graph current, fed by the watch caches of pods and
    /// persistentvolumes (`storage::cacher::feed`).
    pub fn spawn_sync(&self, store: Store) {
        for plural in ["pods", "persistentvolumes"] {
            let Some(def) = resources::lookup("", "v1", plural) else {
                continue;
            };
            let feed = Arc::new(GraphFeed {
                authorizer: self.clone(),
                pods: plural == "pods",
            });
            feed::spawn(store.cacher.clone(), store.etcd.clone(), def, feed);
        }
    }

    fn with<F: FnOnce(&mut Graph)>(&self, f: F) {
        if let Ok(mut g) = self.graph.write() {
            f(&mut g);
        }
    }

    #[cfg(test)]
    fn with_graph(graph: Graph) -> Self {
        let a = NodeAuthorizer::default();
        a.with(|g| *g = graph);
        a
    }
}

/// The object must be related to the node through the graph.
/// Pods or PersistentVolumes into the graph.
struct GraphFeed {
    authorizer: NodeAuthorizer,
    pods: bool,
}

impl feed::Handler for GraphFeed {
    fn replace(&self, items: Vec<Value>) {
        self.authorizer.with(|g| {
            if self.pods {
                g.reset_pods(&items)
            } else {
                g.reset_pvs(&items)
            }
        });
    }
    fn upsert(&self, o: &Value) {
        self.authorizer
            .with(|g| if self.pods { g.set_pod(o) } else { g.set_pv(o) });
    }
    fn delete(&self, o: &Value) {
        self.authorizer.with(|g| {
            if self.pods {
                g.delete_pod(o)
            } else {
                g.delete_pv(o)
            }
        });
    }
}

fn related(graph: &Graph, node: &str, kind: Vertex, info: &RequestInfo) -> NodeDecision {
    if info.name.is_empty() {
        return NoOpinion("No Object name found".into());
    }
    if graph.reaches(node, kind, &info.namespace, &info.name) {
        Allow
    } else {
        no_relationship(node)
    }
}

/// secrets and configmaps: get/list/watch of one related object.
fn read_namespaced(graph: &Graph, node: &str, kind: Vertex, info: &RequestInfo) -> NodeDecision {
    if !matches!(info.verb.as_str(), "get" | "list" | "watch") {
        return NoOpinion("can only read resources of this type".into());
    }
    if !info.subresource.is_empty() {
        return NoOpinion("cannot read subresource".into());
    }
    if info.namespace.is_empty() {
        return NoOpinion("can only read namespaced object of this type".into());
    }
    related(graph, node, kind, info)
}

/// PVs and PVCs: only `get` of the object itself (`None` = go on).
fn get_only(info: &RequestInfo) -> Option<NodeDecision> {
    if info.verb != "get" {
        return Some(NoOpinion(
            "can only get individual resources of this type".into(),
        ));
    }
    if !info.subresource.is_empty() {
        return Some(NoOpinion("cannot get subresource".into()));
    }
    None
}

/// `persistentvolumeclaims/status` update or patch of a related claim.
fn status_update(graph: &Graph, node: &str, info: &RequestInfo) -> NodeDecision {
    if !matches!(info.verb.as_str(), "update" | "patch") {
        return NoOpinion("can only get/update/patch this type".into());
    }
    related(graph, node, Vertex::PersistentVolumeClaim, info)
}

/// `serviceaccounts/<name>/token` for a ServiceAccount a bound pod runs as.
fn create_token(graph: &Graph, node: &str, info: &RequestInfo) -> NodeDecision {
    if info.verb != "create" || info.name.is_empty() {
        return NoOpinion("can only create tokens for individual service accounts".into());
    }
    if info.subresource != "token" {
        return NoOpinion("can only create token subresource of serviceaccount".into());
    }
    related(graph, node, Vertex::ServiceAccount, info)
}

/// The node's own Lease in `kube-node-lease`.
fn lease(node: &str, info: &RequestInfo) -> NodeDecision {
    if !matches!(
        info.verb.as_str(),
        "get" | "create" | "update" | "patch" | "delete"
    ) {
        return NoOpinion("can only get, create, update, patch, or delete a node lease".into());
    }
    if info.namespace != "kube-node-lease" {
        return NoOpinion(
            "can only access leases in the \"kube-node-lease\" system namespace".into(),
        );
    }
    // The name of a created Lease is in the body; admission checks it.
    if info.verb != "create" && info.name != node {
        return NoOpinion(
            "can only access node lease with the same name as the requesting node".into(),
        );
    }
    Allow
}

/// The node's own CSINode (the kubelet registers its CSI drivers there).
fn csi_node(node: &str, info: &RequestInfo) -> NodeDecision {
    if !matches!(
        info.verb.as_str(),
        "get" | "create" | "update" | "patch" | "delete"
    ) {
        return NoOpinion("can only get, create, update, patch, or delete a CSINode".into());
    }
    if !info.subresource.is_empty() {
        return NoOpinion("cannot authorize CSINode subresources".into());
    }
    // The name of a created CSINode is in the body; admission checks it.
    if info.verb != "create" && info.name != node {
        return NoOpinion(
            "can only access CSINode with the same name as the requesting node".into(),
        );
    }
    Allow
}

/// Node objects: create/update/patch (admission limits them to the node's
/// own), reads of its own Node by name, status of its own Node.
fn node_object(node: &str, info: &RequestInfo) -> NodeDecision {
    match (info.subresource.as_str(), info.verb.as_str()) {
        ("", "create" | "update" | "patch") => Allow,
        ("", "get" | "list" | "watch") => {
            if info.name == node {
                Allow
            } else if info.name.is_empty() {
                NoOpinion(format!(
                    "node '{node}' cannot read all nodes, only its own Node object"
                ))
            } else {
                NoOpinion(format!(
                    "node '{node}' cannot read '{}', only its own Node object",
                    info.name
                ))
            }
        }
        ("status", "update" | "patch") => Allow,
        _ => NoOpinion(String::new()),
    }
}

/// Pods: get of a bound pod, list/watch scoped by `spec.nodeName`,
/// create/delete (mirror pods), status updates and evictions.
fn pod(graph: &Graph, node: &str, info: &RequestInfo) -> NodeDecision {
    match (info.subresource.as_str(), info.verb.as_str()) {
        ("", "get") => related(graph, node, Vertex::Pod, info),
        ("", "list" | "watch") => {
            if selects(&info.field_selector, "spec.nodeName", node) {
                Allow
            } else if !info.name.is_empty() {
                related(graph, node, Vertex::Pod, info)
            } else {
                NoOpinion("can only list/watch pods with spec.nodeName field selector".into())
            }
        }
        ("", "create" | "delete") => Allow,
        ("status", "update" | "patch") => Allow,
        ("eviction", "create") => Allow,
        _ => NoOpinion(String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kubelet(node: &str) -> UserInfo {
        UserInfo::authenticated(
            &format!("system:node:{node}"),
            "",
            vec!["system:nodes".into()],
        )
    }

    fn req(verb: &str, group: &str, resource: &str, ns: &str, name: &str) -> RequestInfo {
        let (resource, subresource) = resource.split_once('/').unwrap_or((resource, ""));
        RequestInfo {
            is_resource_request: true,
            verb: verb.into(),
            api_group: group.into(),
            resource: resource.into(),
            subresource: subresource.into(),
            namespace: ns.into(),
            name: name.into(),
            ..Default::default()
        }
    }

    fn authorizer() -> NodeAuthorizer {
        let mut g = Graph::default();
        g.set_pod(&json!({"metadata": {"name": "web", "namespace": "default"},
            "spec": {"nodeName": "n1", "serviceAccountName": "builder",
                "containers": [{"name": "c", "envFrom": [{"configMapRef": {"name": "cfg"}}]}],
                "volumes": [{"name": "s", "secret": {"secretName": "s1"}},
                    {"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]}}));
        g.set_pod(&json!({"metadata": {"name": "db", "namespace": "default"},
            "spec": {"nodeName": "n2", "volumes": [{"name": "s", "secret": {"secretName": "s2"}}]}}));
        g.set_pv(&json!({"metadata": {"name": "pv1"}, "spec": {"claimRef": {"namespace": "default", "name": "data"}}}));
        NodeAuthorizer::with_graph(g)
    }

    #[test]
    fn decisions_for_a_kubelet() {
        let a = authorizer();
        let rel = NoOpinion("no relationship found between node 'n1' and this object".into());
        let mut list_pods = req("list", "", "pods", "", "");
        list_pods.field_selector = "spec.nodeName=n1".into();
        let mut list_other = list_pods.clone();
        list_other.field_selector = "spec.nodeName=n2".into();
        let mut watch_s1 = req("watch", "", "secrets", "default", "");
        watch_s1.field_selector = "metadata.name=s1".into();
        let mut watch_own_node = req("watch", "", "nodes", "", "");
        watch_own_node.field_selector = "metadata.name=n1".into();
        let cases: Vec<(RequestInfo, NodeDecision)> = vec![
            (req("get", "", "secrets", "default", "s1"), Allow),
            (req("watch", "", "secrets", "default", "s1"), Allow),
            (req("get", "", "secrets", "default", "s2"), rel.clone()),
            (req("get", "", "secrets", "default", "unused"), rel.clone()),
            (req("get", "", "secrets", "other", "s1"), rel.clone()),
            (
                req("list", "", "secrets", "default", ""),
                NoOpinion("No Object name found".into()),
            ),
            (
                req("delete", "", "secrets", "default", "s1"),
                NoOpinion("can only read resources of this type".into()),
            ),
            (req("get", "", "configmaps", "default", "cfg"), Allow),
            (
                req("get", "", "persistentvolumeclaims", "default", "data"),
                Allow,
            ),
            (req("get", "", "persistentvolumes", "", "pv1"), Allow),
            (
                req("list", "", "persistentvolumes", "", ""),
                NoOpinion("can only get individual resources of this type".into()),
            ),
            (
                req("create", "", "serviceaccounts/token", "default", "builder"),
                Allow,
            ),
            (
                req("create", "", "serviceaccounts/token", "default", "default"),
                rel.clone(),
            ),
            (req("get", "storage.k8s.io", "csinodes", "", "n1"), Allow),
            (req("create", "storage.k8s.io", "csinodes", "", ""), Allow),
            (
                req("update", "storage.k8s.io", "csinodes", "", "n2"),
                NoOpinion(
                    "can only access CSINode with the same name as the requesting node".into(),
                ),
            ),
            (
                req("list", "storage.k8s.io", "csinodes", "", ""),
                NoOpinion("can only get, create, update, patch, or delete a CSINode".into()),
            ),
            (req("get", "", "nodes", "", "n1"), Allow),
            (
                req("get", "", "nodes", "", "n2"),
                NoOpinion("node 'n1' cannot read 'n2', only its own Node object".into()),
            ),
            (req("patch", "", "nodes/status", "", "n1"), Allow),
            (
                req(
                    "get",
                    "coordination.k8s.io",
                    "leases",
                    "kube-node-lease",
                    "n1",
                ),
                Allow,
            ),
            (
                req(
                    "update",
                    "coordination.k8s.io",
                    "leases",
                    "kube-node-lease",
                    "n2",
                ),
                NoOpinion(
                    "can only access node lease with the same name as the requesting node".into(),
                ),
            ),
            (req("get", "", "pods", "default", "web"), Allow),
            (req("get", "", "pods", "default", "db"), rel.clone()),
            (list_pods, Allow),
            (
                list_other,
                NoOpinion("can only list/watch pods with spec.nodeName field selector".into()),
            ),
            (req("patch", "", "pods/status", "default", "web"), Allow),
            (watch_s1, Allow),
            (watch_own_node, Allow),
            // Not subdivided: the system:node rules decide.
            (req("create", "", "events", "default", ""), Allow),
            (req("list", "", "services", "", ""), Allow),
            (
                req(
                    "create",
                    "certificates.k8s.io",
                    "certificatesigningrequests",
                    "",
                    "",
                ),
                Allow,
            ),
            (
                req("list", "apps", "deployments", "", ""),
                NoOpinion(String::new()),
            ),
        ];
        for (info, want) in cases {
            assert_eq!(
                a.authorize(&kubelet("n1"), &info),
                Some(want),
                "{} {}/{} {}/{}",
                info.verb,
                info.resource,
                info.subresource,
                info.namespace,
                info.name
            );
        }
    }

    #[test]
    fn only_node_identities_are_judged() {
        let a = authorizer();
        let get = req("get", "", "secrets", "default", "s1");
        assert_eq!(
            a.authorize(&UserInfo::authenticated("system:node:n1", "", vec![]), &get),
            None,
            "not in system:nodes"
        );
        assert_eq!(
            a.authorize(
                &UserInfo::authenticated("bob", "", vec!["system:nodes".into()]),
                &get
            ),
            None
        );
        assert!(selects(
            "metadata.name=x,spec.nodeName==n1",
            "spec.nodeName",
            "n1"
        ));
        assert!(!selects("spec.nodeName!=n1", "spec.nodeName", "n1"));
    }
}
