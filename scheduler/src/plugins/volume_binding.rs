//! VolumeBinding: a pod's PersistentVolumeClaims constrain its node. A
//! bound claim's volume must be reachable from the node (its node
//! affinity); a `WaitForFirstConsumer` claim needs an available volume
//! there or a provisioner. After the node is chosen, [`VolumeBinding::
//! decisions`] says what to write: a static volume's `claimRef`, or the
//! claim's `volume.kubernetes.io/selected-node` annotation.

use crate::framework::{
    CycleState, FilterPlugin, NodeInfo, PodInfo, ScorePlugin, Snapshot, Status,
};
use client::scheduling::terms_match;
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use k8s_openapi::api::storage::v1::StorageClass;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

pub const NAME: &str = "VolumeBinding";
pub const REASON_NODE_CONFLICT: &str = "node(s) had volume node affinity conflict";
pub const REASON_NO_PV: &str = "node(s) didn't find available persistent volumes to bind";
pub const REASON_IMMEDIATE: &str = "pod has unbound immediate PersistentVolumeClaims";
/// The annotation that tells a provisioner where to create the volume.
pub const SELECTED_NODE: &str = "volume.kubernetes.io/selected-node";
const NO_PROVISIONER: &str = "kubernetes.io/no-provisioner";
const STATE_KEY: &str = "VolumeBinding";

/// The storage objects the plugin reads, kept current by the informers.
#[derive(Default)]
pub struct VolumeStore {
    pub claims: HashMap<String, Arc<PersistentVolumeClaim>>,
    pub volumes: HashMap<String, Arc<PersistentVolume>>,
    pub classes: HashMap<String, Arc<StorageClass>>,
}

#[derive(Default)]
pub struct VolumeBinding {
    pub store: RwLock<VolumeStore>,
}

/// What to write once a node is chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VolumeDecision {
    /// Reserve volume `volume` for claim `namespace/claim`.
    BindStatic {
        volume: String,
        namespace: String,
        claim: String,
        claim_uid: String,
    },
    /// Ask the provisioner to create a volume for the claim on `node`.
    Provision {
        namespace: String,
        claim: String,
        node: String,
    },
}

#[derive(Clone)]
struct Claims {
    bound: Vec<Arc<PersistentVolume>>,
    delayed: Vec<Arc<PersistentVolumeClaim>>,
}

type QuantityMap =
    std::collections::BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>;

/// The `storage` entry of a capacity or requests map, in bytes.
fn storage_of(m: Option<&QuantityMap>) -> i64 {
    m.and_then(|m| m.get("storage"))
        .and_then(|q| apimachinery::quantity::Quantity::parse(&q.0).ok())
        .map(|q| q.value())
        .unwrap_or(0)
}

fn storage_request(c: &PersistentVolumeClaim) -> i64 {
    storage_of(
        c.spec
            .as_ref()
            .and_then(|s| s.resources.as_ref())
            .and_then(|r| r.requests.as_ref()),
    )
}

fn volume_fits_node(pv: &PersistentVolume, node: &NodeInfo) -> bool {
    let terms = pv
        .spec
        .as_ref()
        .and_then(|s| s.node_affinity.as_ref())
        .and_then(|a| a.required.as_ref())
        .map(|r| r.node_selector_terms.as_slice());
    terms.is_none_or(|t| terms_match(t, &node.name, &node.labels))
}

/// Whether `pv` could serve `claim`: unclaimed (or claimed by it), same
/// class, large enough, every requested access mode.
fn volume_serves(pv: &PersistentVolume, claim: &PersistentVolumeClaim) -> bool {
    let Some(spec) = pv.spec.as_ref() else {
        return false;
    };
    if let Some(r) = spec.claim_ref.as_ref() {
        let same = r.name.as_deref() == claim.metadata.name.as_deref()
            && r.namespace.as_deref() == claim.metadata.namespace.as_deref();
        if !same {
            return false;
        }
    }
    if pv
        .status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .is_some_and(|p| p != "Available" && p != "Pending")
    {
        return false;
    }
    let cspec = claim.spec.as_ref();
    let class = cspec
        .and_then(|s| s.storage_class_name.as_deref())
        .unwrap_or_default();
    if spec.storage_class_name.as_deref().unwrap_or_default() != class {
        return false;
    }
    let capacity = storage_of(spec.capacity.as_ref());
    if capacity < storage_request(claim) {
        return false;
    }
    let have = spec.access_modes.as_deref().unwrap_or_default();
    cspec
        .and_then(|s| s.access_modes.as_deref())
        .unwrap_or_default()
        .iter()
        .all(|m| have.contains(m))
}

impl VolumeBinding {
    fn claims_of(&self, pod: &PodInfo) -> Result<Option<Claims>, Status> {
        let names: Vec<&str> = pod
            .pod
            .spec
            .as_ref()
            .and_then(|s| s.volumes.as_ref())
            .into_iter()
            .flatten()
            .filter_map(|v| {
                v.persistent_volume_claim
                    .as_ref()
                    .map(|c| c.claim_name.as_str())
            })
            .collect();
        if names.is_empty() {
            return Ok(None);
        }
        let store = self
            .store
            .read()
            .map_err(|_| Status::error("volume store poisoned"))?;
        let mut claims = Claims {
            bound: Vec::new(),
            delayed: Vec::new(),
        };
        for name in names {
            let key = format!("{}/{name}", pod.namespace);
            let Some(claim) = store.claims.get(&key) else {
                return Err(Status::unresolvable(format!(
                    "persistentvolumeclaim \"{name}\" not found"
                )));
            };
            if claim.metadata.deletion_timestamp.is_some() {
                return Err(Status::unresolvable(format!(
                    "persistentvolumeclaim \"{name}\" is being deleted"
                )));
            }
            let spec = claim.spec.as_ref();
            match spec
                .and_then(|s| s.volume_name.as_deref())
                .filter(|v| !v.is_empty())
            {
                Some(volume) => match store.volumes.get(volume) {
                    Some(pv) => claims.bound.push(pv.clone()),
                    None => {
                        return Err(Status::unresolvable(format!(
                            "persistentvolume \"{volume}\" not found"
                        )));
                    }
                },
                None => {
                    let class = spec
                        .and_then(|s| s.storage_class_name.as_deref())
                        .unwrap_or_default();
                    let delayed = store.classes.get(class).is_some_and(|c| {
                        c.volume_binding_mode.as_deref() == Some("WaitForFirstConsumer")
                    });
                    if !delayed {
                        return Err(Status::unresolvable(REASON_IMMEDIATE));
                    }
                    claims.delayed.push(claim.clone());
                }
            }
        }
        Ok(Some(claims))
    }

    /// For each delayed claim, a volume on `node` or a provisioning, or the
    /// reason there is none.
    fn plan(&self, claims: &Claims, node: &NodeInfo) -> Result<Vec<VolumeDecision>, Status> {
        let store = self
            .store
            .read()
            .map_err(|_| Status::error("volume store poisoned"))?;
        let mut taken: Vec<String> = Vec::new();
        let mut out = Vec::new();
        for claim in &claims.delayed {
            let namespace = claim.metadata.namespace.clone().unwrap_or_default();
            let name = claim.metadata.name.clone().unwrap_or_default();
            let mut candidates: Vec<&Arc<PersistentVolume>> = store
                .volumes
                .values()
                .filter(|pv| {
                    let n = pv.metadata.name.clone().unwrap_or_default();
                    !taken.contains(&n) && volume_serves(pv, claim) && volume_fits_node(pv, node)
                })
                .collect();
            // The smallest volume that fits, as upstream picks.
            candidates
                .sort_by_key(|pv| storage_of(pv.spec.as_ref().and_then(|s| s.capacity.as_ref())));
            if let Some(pv) = candidates.first() {
                let volume = pv.metadata.name.clone().unwrap_or_default();
                taken.push(volume.clone());
                out.push(VolumeDecision::BindStatic {
                    volume,
                    namespace,
                    claim: name,
                    claim_uid: claim.metadata.uid.clone().unwrap_or_default(),
                });
                continue;
            }
            let class = claim
                .spec
                .as_ref()
                .and_then(|s| s.storage_class_name.as_deref())
                .unwrap_or_default();
            let provisioner = store
                .classes
                .get(class)
                .map(|c| c.provisioner.as_str())
                .unwrap_or(NO_PROVISIONER);
            if provisioner == NO_PROVISIONER {
                return Err(Status::unschedulable(REASON_NO_PV));
            }
            out.push(VolumeDecision::Provision {
                namespace,
                claim: name,
                node: node.name.clone(),
            });
        }
        Ok(out)
    }

    /// Whether every claim `namespace/name` in `claims` is bound to a
    /// volume; an error names a claim that disappeared meanwhile.
    pub fn claims_bound(&self, claims: &[(String, String)]) -> Result<bool, String> {
        let store = self
            .store
            .read()
            .map_err(|_| "volume store poisoned".to_string())?;
        for (namespace, name) in claims {
            let Some(claim) = store.claims.get(&format!("{namespace}/{name}")) else {
                return Err(format!("persistentvolumeclaim \"{name}\" not found"));
            };
            if claim.metadata.deletion_timestamp.is_some() {
                return Err(format!("persistentvolumeclaim \"{name}\" is being deleted"));
            }
            let bound = claim
                .spec
                .as_ref()
                .and_then(|s| s.volume_name.as_deref())
                .is_some_and(|v| !v.is_empty())
                && claim.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Bound");
            if !bound {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// What to write for `pod` placed on `node` (empty when nothing).
    pub fn decisions(&self, pod: &PodInfo, node: &NodeInfo) -> Vec<VolumeDecision> {
        match self.claims_of(pod) {
            Ok(Some(c)) => self.plan(&c, node).unwrap_or_default(),
            _ => Vec::new(),
        }
    }
}

impl FilterPlugin for VolumeBinding {
    fn name(&self) -> &'static str {
        NAME
    }
    fn pre_filter(&self, state: &mut CycleState, pod: &PodInfo, _: &Snapshot) -> Status {
        match self.claims_of(pod) {
            Ok(None) => Status::skip(),
            Ok(Some(c)) => {
                state.write(STATE_KEY, c);
                Status::success()
            }
            Err(s) => s,
        }
    }
    fn filter(&self, state: &CycleState, _: &PodInfo, node: &NodeInfo) -> Status {
        let Some(claims) = state.read::<Claims>(STATE_KEY) else {
            return Status::success();
        };
        if !claims.bound.iter().all(|pv| volume_fits_node(pv, node)) {
            return Status::unresolvable(REASON_NODE_CONFLICT);
        }
        match self.plan(claims, node) {
            Ok(_) => Status::success(),
            Err(s) => s,
        }
    }
}

impl ScorePlugin for VolumeBinding {
    fn name(&self) -> &'static str {
        NAME
    }
    /// Upstream scores volume capacity only behind a feature gate; every
    /// node scores the same here.
    fn score(&self, _: &CycleState, _: &PodInfo, _: &NodeInfo) -> i64 {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Code;
    use crate::plugins::testing::{node, pod};
    use serde_json::{Value, json};

    fn plugin(claims: Vec<Value>, volumes: Vec<Value>, classes: Vec<Value>) -> VolumeBinding {
        let vb = VolumeBinding::default();
        {
            let mut s = vb.store.write().unwrap();
            for c in claims {
                let c: PersistentVolumeClaim = serde_json::from_value(c).unwrap();
                s.claims.insert(
                    format!("default/{}", c.metadata.name.clone().unwrap()),
                    Arc::new(c),
                );
            }
            for v in volumes {
                let v: PersistentVolume = serde_json::from_value(v).unwrap();
                s.volumes
                    .insert(v.metadata.name.clone().unwrap(), Arc::new(v));
            }
            for c in classes {
                let c: StorageClass = serde_json::from_value(c).unwrap();
                s.classes
                    .insert(c.metadata.name.clone().unwrap(), Arc::new(c));
            }
        }
        vb
    }

    fn local_pv(name: &str, host: &str, claim: Option<&str>) -> Value {
        let mut v = json!({"metadata": {"name": name}, "spec": {"capacity": {"storage": "2Gi"},
            "accessModes": ["ReadWriteOnce"], "storageClassName": "local-storage", "local": {"path": "/root/data"},
            "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                {"key": "kubernetes.io/hostname", "operator": "In", "values": [host]}]}]}}}});
        if let Some(c) = claim {
            v["spec"]["claimRef"] = json!({"namespace": "default", "name": c});
        }
        v
    }

    fn claim(name: &str, volume: Option<&str>) -> Value {
        let mut v = json!({"metadata": {"name": name, "namespace": "default", "uid": "u1"}, "spec": {
            "accessModes": ["ReadWriteOnce"], "storageClassName": "local-storage",
            "resources": {"requests": {"storage": "2Gi"}}}});
        if let Some(vol) = volume {
            v["spec"]["volumeName"] = json!(vol);
        }
        v
    }

    fn wffc(provisioner: &str) -> Value {
        json!({"metadata": {"name": "local-storage"}, "provisioner": provisioner, "volumeBindingMode": "WaitForFirstConsumer"})
    }

    fn host(name: &str) -> NodeInfo {
        node(json!({"metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}}}))
    }

    fn using(claim: &str) -> PodInfo {
        pod(
            json!({"spec": {"volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": claim}}]}}),
        )
    }

    fn run(vb: &VolumeBinding, p: &PodInfo, nodes: &[NodeInfo]) -> Result<Vec<Code>, Status> {
        let mut state = CycleState::new();
        let pre = vb.pre_filter(&mut state, p, &Snapshot::default());
        if !pre.is_success() {
            return Err(pre);
        }
        Ok(nodes.iter().map(|n| vb.filter(&state, p, n).code).collect())
    }

    #[test]
    fn bound_volume_pins_the_node() {
        let vb = plugin(
            vec![claim("mongodata", Some("pv1"))],
            vec![local_pv("pv1", "node2", Some("mongodata"))],
            vec![wffc(NO_PROVISIONER)],
        );
        let codes = run(&vb, &using("mongodata"), &[host("node1"), host("node2")]).unwrap();
        assert_eq!(
            codes,
            vec![Code::UnschedulableAndUnresolvable, Code::Success]
        );
    }

    #[test]
    fn wait_for_first_consumer_finds_a_local_volume() {
        let vb = plugin(
            vec![claim("mongodata", None)],
            vec![local_pv("pv1", "node2", None)],
            vec![wffc(NO_PROVISIONER)],
        );
        let codes = run(&vb, &using("mongodata"), &[host("node1"), host("node2")]).unwrap();
        assert_eq!(codes, vec![Code::Unschedulable, Code::Success]);
        assert_eq!(
            vb.decisions(&using("mongodata"), &host("node2")),
            vec![VolumeDecision::BindStatic {
                volume: "pv1".into(),
                namespace: "default".into(),
                claim: "mongodata".into(),
                claim_uid: "u1".into()
            }]
        );
    }

    #[test]
    fn provisioner_classes_select_the_node() {
        let vb = plugin(
            vec![claim("data", None)],
            vec![],
            vec![wffc("example.com/csi")],
        );
        assert_eq!(
            run(&vb, &using("data"), &[host("node1")]).unwrap(),
            vec![Code::Success]
        );
        assert_eq!(
            vb.decisions(&using("data"), &host("node1")),
            vec![VolumeDecision::Provision {
                namespace: "default".into(),
                claim: "data".into(),
                node: "node1".into()
            }]
        );
    }

    #[test]
    fn missing_and_immediate_claims_reject_every_node() {
        let vb = plugin(vec![claim("imm", None)], vec![], vec![]);
        assert_eq!(
            run(&vb, &using("nope"), &[]).unwrap_err().message(),
            "persistentvolumeclaim \"nope\" not found"
        );
        assert_eq!(
            run(&vb, &using("imm"), &[]).unwrap_err().message(),
            REASON_IMMEDIATE
        );
        assert_eq!(
            run(&vb, &pod(json!({})), &[host("a")]).unwrap_err().code,
            Code::Skip
        );
    }

    /// The PreBind wait ends when every provisioned claim is Bound, and
    /// fails when a claim goes away.
    #[test]
    fn claims_bound_reads_the_claims_phase() {
        let claim = |name: &str, volume: Option<&str>, phase: &str, deleting: bool| {
            let mut c = json!({"metadata": {"name": name, "namespace": "default"},
                "spec": {"storageClassName": "fast"}, "status": {"phase": phase}});
            if let Some(v) = volume {
                c["spec"]["volumeName"] = json!(v);
            }
            if deleting {
                c["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
            }
            c
        };
        let vb = plugin(
            vec![
                claim("bound", Some("pv-1"), "Bound", false),
                claim("pending", None, "Pending", false),
                claim("named", Some("pv-2"), "Pending", false),
                claim("going", Some("pv-3"), "Bound", true),
            ],
            vec![],
            vec![],
        );
        let key = |n: &str| ("default".to_string(), n.to_string());
        let cases: [(&[&str], Result<bool, &str>); 5] = [
            (&["bound"], Ok(true)),
            (&["bound", "pending"], Ok(false)),
            (&["named"], Ok(false)),
            (
                &["going"],
                Err("persistentvolumeclaim \"going\" is being deleted"),
            ),
            (
                &["missing"],
                Err("persistentvolumeclaim \"missing\" not found"),
            ),
        ];
        for (names, want) in cases {
            let claims: Vec<(String, String)> = names.iter().map(|n| key(n)).collect();
            let got = vb.claims_bound(&claims);
            assert_eq!(got, want.map_err(str::to_string), "{names:?}");
        }
    }
}
