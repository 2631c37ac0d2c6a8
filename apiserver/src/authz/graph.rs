//! The Node authorizer's graph: which objects each node may reach through
//! the pods bound to it (secrets, configmaps, PVCs and their PVs,
//! serviceaccounts, the pods themselves). Built from pods and
//! persistentvolumes only, as upstream's graph populator does; an object's
//! own existence does not matter, only that a bound pod references it.
//!
//! Kept as reference counts per node so that updating or deleting one pod
//! touches only that pod's edges.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The kinds of object a node can be related to through its pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Vertex {
    Pod,
    Secret,
    ConfigMap,
    PersistentVolumeClaim,
    ServiceAccount,
}

/// One referenced object: kind, namespace, name.
pub type Ref = (Vertex, String, String);

/// The edges one pod contributes: its node and what it references.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PodEdges {
    node: String,
    refs: BTreeSet<Ref>,
}

#[derive(Debug, Default, Clone)]
pub struct Graph {
    /// Pod `namespace/name` → its edges (only pods bound to a node).
    pods: HashMap<String, PodEdges>,
    /// Node → referenced object → number of pods referencing it.
    reachable: HashMap<String, HashMap<Ref, usize>>,
    /// PersistentVolume name → what it links.
    pvs: BTreeMap<String, PvEdges>,
}

/// A PersistentVolume's claim (`spec.claimRef`) and the secrets its volume
/// source names (`namespace`, `name`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct PvEdges {
    claim: Option<(String, String)>,
    secrets: Vec<(String, String)>,
}

/// Secret references of PersistentVolume sources (SecretReference:
/// `name` + `namespace`), by pointer to the reference object.
const PV_SECRET_REFS: &[&str] = &[
    "/spec/csi/nodePublishSecretRef",
    "/spec/csi/nodeStageSecretRef",
    "/spec/csi/controllerPublishSecretRef",
    "/spec/csi/controllerExpandSecretRef",
    "/spec/csi/nodeExpandSecretRef",
    "/spec/cephfs/secretRef",
    "/spec/cinder/secretRef",
    "/spec/flexVolume/secretRef",
    "/spec/iscsi/secretRef",
    "/spec/rbd/secretRef",
    "/spec/scaleIO/secretRef",
    "/spec/storageos/secretRef",
];

/// What a PersistentVolume links: its claim and the secrets it names (a
/// reference without a namespace means the claim's namespace).
fn pv_edges(pv: &Value) -> PvEdges {
    let claim = match (
        str_at(pv, "/spec/claimRef/namespace"),
        str_at(pv, "/spec/claimRef/name"),
    ) {
        (Some(ns), Some(name)) => Some((ns.to_string(), name.to_string())),
        _ => None,
    };
    let claim_ns = claim.as_ref().map(|c| c.0.clone()).unwrap_or_default();
    let mut secrets: Vec<(String, String)> = PV_SECRET_REFS
        .iter()
        .filter_map(|p| pv.pointer(p))
        .filter_map(|r| {
            let name = str_at(r, "/name")?;
            let ns = str_at(r, "/namespace").unwrap_or(&claim_ns);
            Some((ns.to_string(), name.to_string()))
        })
        .collect();
    if let Some(name) = str_at(pv, "/spec/azureFile/secretName") {
        let ns = str_at(pv, "/spec/azureFile/secretNamespace").unwrap_or(&claim_ns);
        secrets.push((ns.to_string(), name.to_string()));
    }
    PvEdges { claim, secrets }
}

fn names<'a>(v: Option<&'a Value>, field: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(move |x| x.get(field).and_then(Value::as_str))
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// Volume sources that name a secret, by JSON pointer inside the volume
/// (upstream's list of secret-carrying volume plugins).
const SECRET_VOLUME_POINTERS: &[&str] = &[
    "/secret/secretName",
    "/azureFile/secretName",
    "/cephfs/secretRef/name",
    "/cinder/secretRef/name",
    "/flexVolume/secretRef/name",
    "/iscsi/secretRef/name",
    "/rbd/secretRef/name",
    "/scaleIO/secretRef/name",
    "/storageos/secretRef/name",
    "/csi/nodePublishSecretRef/name",
];

/// Everything a pod references, as upstream's pod visitors enumerate it.
pub fn pod_references(pod: &Value) -> BTreeSet<Ref> {
    let ns = pod
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let pod_name = pod
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let mut out = BTreeSet::new();
    let mut add = |kind: Vertex, name: &str| {
        if !name.is_empty() {
            out.insert((kind, ns.clone(), name.to_string()));
        }
    };
    add(Vertex::Pod, pod_name);
    let spec = pod.get("spec").unwrap_or(&Value::Null);
    add(
        Vertex::ServiceAccount,
        str_at(spec, "/serviceAccountName").unwrap_or("default"),
    );
    for name in names(spec.get("imagePullSecrets"), "name") {
        add(Vertex::Secret, name);
    }
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        for c in spec
            .get(list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            for e in c.get("env").and_then(Value::as_array).into_iter().flatten() {
                if let Some(n) = str_at(e, "/valueFrom/secretKeyRef/name") {
                    add(Vertex::Secret, n);
                }
                if let Some(n) = str_at(e, "/valueFrom/configMapKeyRef/name") {
                    add(Vertex::ConfigMap, n);
                }
            }
            for e in c
                .get("envFrom")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(n) = str_at(e, "/secretRef/name") {
                    add(Vertex::Secret, n);
                }
                if let Some(n) = str_at(e, "/configMapRef/name") {
                    add(Vertex::ConfigMap, n);
                }
            }
        }
    }
    for vol in spec
        .get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for p in SECRET_VOLUME_POINTERS {
            if let Some(n) = str_at(vol, p) {
                add(Vertex::Secret, n);
            }
        }
        if let Some(n) = str_at(vol, "/configMap/name") {
            add(Vertex::ConfigMap, n);
        }
        for src in vol
            .pointer("/projected/sources")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(n) = str_at(src, "/secret/name") {
                add(Vertex::Secret, n);
            }
            if let Some(n) = str_at(src, "/configMap/name") {
                add(Vertex::ConfigMap, n);
            }
        }
        if let Some(n) = str_at(vol, "/persistentVolumeClaim/claimName") {
            add(Vertex::PersistentVolumeClaim, n);
        }
        // A generic ephemeral volume's claim is named `<pod>-<volume>`.
        if vol.get("ephemeral").is_some()
            && let Some(v) = str_at(vol, "/name")
        {
            add(Vertex::PersistentVolumeClaim, &format!("{pod_name}-{v}"));
        }
    }
    out
}

impl Graph {
    fn pod_key(pod: &Value) -> String {
        format!(
            "{}/{}",
            pod.pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or(""),
            pod.pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("")
        )
    }

    /// Adds or replaces a pod's edges (a pod without `spec.nodeName` has none).
    pub fn set_pod(&mut self, pod: &Value) {
        let key = Self::pod_key(pod);
        let node = str_at(pod, "/spec/nodeName").map(String::from);
        let edges = node.map(|node| PodEdges {
            node,
            refs: pod_references(pod),
        });
        if self.pods.get(&key) == edges.as_ref() {
            return;
        }
        self.remove_pod_key(&key);
        if let Some(e) = edges {
            let counts = self.reachable.entry(e.node.clone()).or_default();
            for r in &e.refs {
                *counts.entry(r.clone()).or_default() += 1;
            }
            self.pods.insert(key, e);
        }
    }

    pub fn delete_pod(&mut self, pod: &Value) {
        self.remove_pod_key(&Self::pod_key(pod));
    }

    fn remove_pod_key(&mut self, key: &str) {
        let Some(old) = self.pods.remove(key) else {
            return;
        };
        if let Some(counts) = self.reachable.get_mut(&old.node) {
            for r in &old.refs {
                if let Some(c) = counts.get_mut(r) {
                    *c -= 1;
                    if *c == 0 {
                        counts.remove(r);
                    }
                }
            }
            if counts.is_empty() {
                self.reachable.remove(&old.node);
            }
        }
    }

    /// Records which claim a PersistentVolume is bound to (`spec.claimRef`)
    /// and which secrets it names.
    pub fn set_pv(&mut self, pv: &Value) {
        let name = str_at(pv, "/metadata/name").unwrap_or("").to_string();
        self.pvs.insert(name, pv_edges(pv));
    }

    pub fn delete_pv(&mut self, pv: &Value) {
        if let Some(name) = str_at(pv, "/metadata/name") {
            self.pvs.remove(name);
        }
    }

    /// Replaces every pod (after a relist).
    pub fn reset_pods(&mut self, pods: &[Value]) {
        self.pods.clear();
        self.reachable.clear();
        for p in pods {
            self.set_pod(p);
        }
    }

    /// Replaces every PersistentVolume (after a relist).
    pub fn reset_pvs(&mut self, pvs: &[Value]) {
        self.pvs.clear();
        for pv in pvs {
            self.set_pv(pv);
        }
    }

    /// Whether a pod bound to `node` references the object (for secrets,
    /// also through a PersistentVolume bound to a claim such a pod uses).
    pub fn reaches(&self, node: &str, kind: Vertex, namespace: &str, name: &str) -> bool {
        let direct = self.reachable.get(node).is_some_and(|refs| {
            refs.contains_key(&(kind, namespace.to_string(), name.to_string()))
        });
        direct
            || (kind == Vertex::Secret
                && self.pvs.iter().any(|(pv, e)| {
                    e.secrets.iter().any(|(ns, n)| ns == namespace && n == name)
                        && self.reaches_pv(node, pv)
                }))
    }

    /// Whether `node` reaches the PersistentVolume through a bound claim.
    pub fn reaches_pv(&self, node: &str, pv: &str) -> bool {
        self.pvs
            .get(pv)
            .and_then(|e| e.claim.as_ref())
            .is_some_and(|(ns, claim)| {
                self.reachable.get(node).is_some_and(|refs| {
                    refs.contains_key(&(Vertex::PersistentVolumeClaim, ns.clone(), claim.clone()))
                })
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, node: &str, spec_extra: Value) -> Value {
        let mut spec = json!({"containers": [{"name": "c", "image": "busybox"}]});
        if !node.is_empty() {
            spec["nodeName"] = json!(node);
        }
        if let (Some(s), Some(extra)) = (spec.as_object_mut(), spec_extra.as_object()) {
            for (k, v) in extra {
                s.insert(k.clone(), v.clone());
            }
        }
        json!({"metadata": {"name": name, "namespace": "ns"}, "spec": spec})
    }

    #[test]
    fn references_cover_env_volumes_and_pull_secrets() {
        let p = pod(
            "web",
            "n1",
            json!({
                "serviceAccountName": "builder",
                "imagePullSecrets": [{"name": "pull"}],
                "containers": [{"name": "c", "env": [
                    {"name": "A", "valueFrom": {"secretKeyRef": {"name": "env-secret", "key": "k"}}},
                    {"name": "B", "valueFrom": {"configMapKeyRef": {"name": "env-cm", "key": "k"}}}],
                    "envFrom": [{"secretRef": {"name": "from-secret"}}, {"configMapRef": {"name": "from-cm"}}]}],
                "initContainers": [{"name": "i", "envFrom": [{"configMapRef": {"name": "init-cm"}}]}],
                "volumes": [
                    {"name": "s", "secret": {"secretName": "vol-secret"}},
                    {"name": "c", "configMap": {"name": "vol-cm"}},
                    {"name": "p", "projected": {"sources": [{"secret": {"name": "proj-secret"}}, {"configMap": {"name": "proj-cm"}}]}},
                    {"name": "d", "persistentVolumeClaim": {"claimName": "data"}},
                    {"name": "scratch", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}},
                    {"name": "r", "rbd": {"secretRef": {"name": "rbd-secret"}}}
                ]
            }),
        );
        let refs = pod_references(&p);
        let of = |k: Vertex| -> Vec<String> {
            refs.iter()
                .filter(|r| r.0 == k)
                .map(|r| r.2.clone())
                .collect()
        };
        assert_eq!(
            of(Vertex::Secret),
            [
                "env-secret",
                "from-secret",
                "proj-secret",
                "pull",
                "rbd-secret",
                "vol-secret"
            ]
        );
        assert_eq!(
            of(Vertex::ConfigMap),
            ["env-cm", "from-cm", "init-cm", "proj-cm", "vol-cm"]
        );
        assert_eq!(of(Vertex::PersistentVolumeClaim), ["data", "web-scratch"]);
        assert_eq!(of(Vertex::ServiceAccount), ["builder"]);
        assert_eq!(of(Vertex::Pod), ["web"]);
        // No serviceAccountName means the default ServiceAccount.
        assert!(pod_references(&pod("x", "n1", json!({}))).contains(&(
            Vertex::ServiceAccount,
            "ns".into(),
            "default".into()
        )));
    }

    #[test]
    fn edges_follow_binding_update_and_delete() {
        let mut g = Graph::default();
        let vols = json!({"volumes": [{"name": "s", "secret": {"secretName": "shared"}},
            {"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]});
        // Unbound: nothing reachable.
        g.set_pod(&pod("a", "", vols.clone()));
        assert!(!g.reaches("n1", Vertex::Secret, "ns", "shared"));
        // Bound to n1: reachable from n1 only, and only in its namespace.
        g.set_pod(&pod("a", "n1", vols.clone()));
        assert!(g.reaches("n1", Vertex::Secret, "ns", "shared"));
        assert!(g.reaches("n1", Vertex::Pod, "ns", "a"));
        assert!(!g.reaches("n2", Vertex::Secret, "ns", "shared"));
        assert!(!g.reaches("n1", Vertex::Secret, "other", "shared"));
        // Two pods share the secret: it stays reachable until both are gone.
        g.set_pod(&pod("b", "n1", vols.clone()));
        g.delete_pod(&pod("a", "n1", json!({})));
        assert!(g.reaches("n1", Vertex::Secret, "ns", "shared"));
        assert!(!g.reaches("n1", Vertex::Pod, "ns", "a"));
        // An update that drops the reference drops the edge.
        g.set_pod(&pod("b", "n1", json!({})));
        assert!(!g.reaches("n1", Vertex::Secret, "ns", "shared"));
        // PVs are reached through the claim their claimRef names.
        g.set_pod(&pod("c", "n2", vols));
        g.set_pv(&json!({"metadata": {"name": "pv1"}, "spec": {
            "claimRef": {"namespace": "ns", "name": "data"},
            "csi": {"driver": "d", "volumeHandle": "h", "nodePublishSecretRef": {"name": "csi-creds", "namespace": "storage"}},
            "rbd": {"secretRef": {"name": "rbd-creds"}}}}));
        assert!(g.reaches_pv("n2", "pv1"));
        assert!(!g.reaches_pv("n1", "pv1"));
        // The PV's secrets are reached through it (namespace defaults to the claim's).
        assert!(g.reaches("n2", Vertex::Secret, "storage", "csi-creds"));
        assert!(g.reaches("n2", Vertex::Secret, "ns", "rbd-creds"));
        assert!(!g.reaches("n1", Vertex::Secret, "storage", "csi-creds"));
        g.delete_pv(&json!({"metadata": {"name": "pv1"}}));
        assert!(!g.reaches_pv("n2", "pv1"));
        assert!(!g.reaches("n2", Vertex::Secret, "storage", "csi-creds"));
        g.reset_pods(&[]);
        assert!(!g.reaches("n2", Vertex::Pod, "ns", "c"));
        assert!(g.reachable.is_empty() && g.pods.is_empty());
    }
}
