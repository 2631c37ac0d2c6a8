//! Every write the scheduler makes to the apiserver: bindings, events,
//! the PodScheduled condition, nominated nodes, evictions for preemption,
//! and volume decisions.

use crate::plugins::volume_binding::{SELECTED_NODE, VolumeDecision};
use k8s_openapi::api::core::v1::{Event, PersistentVolume, PersistentVolumeClaim, Pod};
use kube::Client;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::json;

/// The component name in events, as upstream's default profile.
pub const COMPONENT: &str = "default-scheduler";

#[derive(Clone)]
pub struct ApiWriter {
    pub client: Client,
    /// Reported as the event's reporting instance.
    pub instance: String,
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl ApiWriter {
    /// POST pods/binding: the apiserver sets `spec.nodeName`.
    pub async fn bind(&self, pod: &Pod, node: &str) -> Result<(), kube::Error> {
        let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
        let name = pod.metadata.name.as_deref().unwrap_or_default();
        let body = json!({
            "apiVersion": "v1", "kind": "Binding",
            "metadata": {"name": name, "namespace": ns, "uid": pod.metadata.uid},
            "target": {"apiVersion": "v1", "kind": "Node", "name": node},
        });
        let api: Api<Pod> = Api::namespaced(self.client.clone(), ns);
        api.create_subresource::<_, serde_json::Value>(
            "binding",
            name,
            &PostParams::default(),
            &body,
        )
        .await?;
        Ok(())
    }

    /// A core/v1 Event about `pod` (kubectl describe and get events show it).
    pub async fn event(
        &self,
        pod: &Pod,
        kind: &str,
        reason: &str,
        action: &str,
        message: &str,
    ) -> Result<(), kube::Error> {
        let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
        let name = pod.metadata.name.as_deref().unwrap_or_default();
        let nanos = chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default();
        let ts = now();
        let event: Event = serde_json::from_value(json!({
            "metadata": {"name": format!("{name}.{nanos:x}"), "namespace": ns},
            "involvedObject": {"apiVersion": "v1", "kind": "Pod", "namespace": ns, "name": name,
                "uid": pod.metadata.uid, "resourceVersion": pod.metadata.resource_version},
            "reason": reason, "message": message, "type": kind, "action": action,
            "source": {"component": COMPONENT},
            "reportingComponent": COMPONENT, "reportingInstance": self.instance,
            "firstTimestamp": ts, "lastTimestamp": ts, "count": 1,
        }))
        .map_err(kube::Error::SerdeError)?;
        Api::<Event>::namespaced(self.client.clone(), ns)
            .create(&PostParams::default(), &event)
            .await?;
        Ok(())
    }

    /// Sets PodScheduled=False/Unschedulable with the fit message, and the
    /// nominated node when preemption chose one.
    pub async fn mark_unschedulable(
        &self,
        pod: &Pod,
        message: &str,
        nominated: Option<&str>,
    ) -> Result<(), kube::Error> {
        let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
        let name = pod.metadata.name.as_deref().unwrap_or_default();
        let mut status = json!({"conditions": [{
            "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
            "message": message, "lastProbeTime": null, "lastTransitionTime": now(),
        }]});
        if let Some(n) = nominated {
            status["nominatedNodeName"] = json!(n);
        }
        let api: Api<Pod> = Api::namespaced(self.client.clone(), ns);
        api.patch_status(
            name,
            &PatchParams::default(),
            &Patch::Strategic(json!({"status": status})),
        )
        .await?;
        Ok(())
    }

    /// Deletes a preemption victim (graceful, as upstream).
    pub async fn evict(&self, victim: &Pod) -> Result<(), kube::Error> {
        let ns = victim.metadata.namespace.as_deref().unwrap_or("default");
        let name = victim.metadata.name.as_deref().unwrap_or_default();
        let api: Api<Pod> = Api::namespaced(self.client.clone(), ns);
        match api.delete(name, &DeleteParams::default()).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Writes what VolumeBinding decided for the chosen node.
    pub async fn apply_volume_decision(&self, d: &VolumeDecision) -> Result<(), kube::Error> {
        match d {
            VolumeDecision::BindStatic {
                volume,
                namespace,
                claim,
                claim_uid,
            } => {
                let api: Api<PersistentVolume> = Api::all(self.client.clone());
                let patch = json!({
                    "metadata": {"annotations": {"pv.kubernetes.io/bound-by-controller": "yes"}},
                    "spec": {"claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                        "namespace": namespace, "name": claim, "uid": claim_uid}},
                });
                api.patch(volume, &PatchParams::default(), &Patch::Merge(patch))
                    .await?;
            }
            VolumeDecision::Provision {
                namespace,
                claim,
                node,
            } => {
                let api: Api<PersistentVolumeClaim> =
                    Api::namespaced(self.client.clone(), namespace);
                let patch = json!({"metadata": {"annotations": {SELECTED_NODE: node}}});
                api.patch(claim, &PatchParams::default(), &Patch::Merge(patch))
                    .await?;
            }
        }
        Ok(())
    }
}
