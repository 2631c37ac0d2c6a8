//! What the informers keep of an object: the shared caches hold every Pod
//! of the cluster for the life of the process, so what a cached Pod costs
//! decides the controller-manager's memory (10,000 pods are 10,000 cached
//! objects). Like upstream's informer transform functions, this drops
//! before caching what no controller reads, and gives back the spare
//! capacity serde leaves in lists (a list of 5 conditions is decoded into
//! room for 8; 1 container status into room for 4, 664 bytes each).
//!
//! Only fields no controller in this crate reads are dropped. A controller
//! that needs the whole object (to write it back) must GET it, never send a
//! cached one.

use k8s_openapi::api::core::v1::{Container, ContainerStatus, Pod};
use kube::Resource;
use std::any::Any;

/// Makes a freshly decoded object smaller before it is cached.
pub fn compact<K: Resource + Any>(obj: &mut K) {
    // No controller reads managedFields (upstream's informers drop them too).
    obj.meta_mut().managed_fields = None;
    if let Some(pod) = (obj as &mut dyn Any).downcast_mut::<Pod>() {
        compact_pod(pod);
    }
}

/// Drops what no controller reads from a Pod and trims its lists.
pub fn compact_pod(pod: &mut Pod) {
    pod.metadata.generate_name = None;
    if let Some(spec) = pod.spec.as_mut() {
        spec.containers.iter_mut().for_each(compact_container);
        spec.containers.shrink_to_fit();
        if let Some(init) = spec.init_containers.as_mut() {
            init.iter_mut().for_each(compact_container);
            init.shrink_to_fit();
        }
        spec.dns_policy = None;
        spec.scheduler_name = None;
        spec.security_context = None;
        spec.enable_service_links = None;
        spec.service_account = None;
        spec.service_account_name = None;
        if let Some(t) = spec.tolerations.as_mut() {
            t.shrink_to_fit();
        }
    }
    if let Some(status) = pod.status.as_mut() {
        status.host_ip = None;
        status.host_ips = None;
        status.qos_class = None;
        if let Some(ips) = status.pod_ips.as_mut() {
            ips.shrink_to_fit();
        }
        if let Some(c) = status.conditions.as_mut() {
            c.shrink_to_fit();
        }
        for statuses in [
            status.container_statuses.as_mut(),
            status.init_container_statuses.as_mut(),
        ]
        .into_iter()
        .flatten()
        {
            statuses.iter_mut().for_each(compact_container_status);
            statuses.shrink_to_fit();
        }
        status.ephemeral_container_statuses = None;
    }
}

fn compact_container(c: &mut Container) {
    c.image = None;
    c.image_pull_policy = None;
    c.termination_message_path = None;
    c.termination_message_policy = None;
    c.command = None;
    c.args = None;
    c.env = None;
    c.env_from = None;
    c.volume_mounts = None;
    c.liveness_probe = None;
    c.startup_probe = None;
    c.lifecycle = None;
    c.security_context = None;
    if let Some(p) = c.ports.as_mut() {
        p.shrink_to_fit();
    }
}

fn compact_container_status(c: &mut ContainerStatus) {
    c.image = String::new();
    c.image_id = String::new();
    c.container_id = None;
    c.allocated_resources = None;
    c.volume_mounts = None;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn hollow_pod() -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "big-1", "namespace": "default", "generateName": "big-",
                "labels": {"app": "big"}, "uid": "u1",
                "managedFields": [{"manager": "kubectl", "operation": "Update"}]},
            "spec": {"nodeName": "hollow-1", "restartPolicy": "Always", "dnsPolicy": "ClusterFirst",
                "containers": [{"name": "nginx", "image": "nginx", "imagePullPolicy": "Always",
                    "ports": [{"containerPort": 80, "name": "http"}],
                    "resources": {"requests": {"cpu": "100m"}},
                    "readinessProbe": {"tcpSocket": {"port": 80}}}],
                "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists"}],
                "hostname": "h", "subdomain": "s"},
            "status": {"phase": "Running", "podIP": "172.7.1.2", "hostIP": "10.0.0.1",
                "podIPs": [{"ip": "172.7.1.2"}],
                "conditions": [{"type": "Ready", "status": "True",
                    "lastTransitionTime": "2026-01-01T00:00:00Z"}],
                "containerStatuses": [{"name": "nginx", "image": "nginx", "imageID": "x",
                    "containerID": "containerd://1", "ready": true, "restartCount": 3,
                    "state": {"terminated": {"exitCode": 2}}}]}
        }))
        .expect("valid pod")
    }

    #[test]
    fn keeps_what_controllers_read() {
        let mut pod = hollow_pod();
        compact(&mut pod);
        assert_eq!(pod.metadata.managed_fields, None);
        assert_eq!(pod.metadata.generate_name, None);
        assert_eq!(pod.metadata.labels.as_ref().map(|l| l.len()), Some(1));
        let spec = pod.spec.as_ref().expect("spec");
        let c = &spec.containers[0];
        assert_eq!(c.name, "nginx");
        assert_eq!(c.image, None);
        assert_eq!(c.ports.as_ref().map(|p| p[0].container_port), Some(80));
        assert!(c.resources.is_some());
        assert!(c.readiness_probe.is_some());
        assert_eq!(spec.node_name.as_deref(), Some("hollow-1"));
        assert_eq!(spec.restart_policy.as_deref(), Some("Always"));
        assert_eq!(spec.dns_policy, None);
        assert_eq!(spec.tolerations.as_ref().map(Vec::len), Some(1));
        assert_eq!(
            (spec.hostname.as_deref(), spec.subdomain.as_deref()),
            (Some("h"), Some("s"))
        );
        let status = pod.status.as_ref().expect("status");
        assert_eq!(status.pod_ip.as_deref(), Some("172.7.1.2"));
        assert_eq!(status.host_ip, None);
        assert_eq!(status.conditions.as_ref().map(Vec::capacity), Some(1));
        let cs = &status.container_statuses.as_ref().expect("statuses")[0];
        assert_eq!((cs.restart_count, cs.ready), (3, true));
        assert_eq!(cs.container_id, None);
        let exit = cs.state.as_ref().and_then(|s| s.terminated.as_ref());
        assert_eq!(exit.map(|t| t.exit_code), Some(2));
    }

    #[test]
    fn other_kinds_lose_only_managed_fields() {
        let mut node: k8s_openapi::api::core::v1::Node = serde_json::from_value(json!({
            "metadata": {"name": "n", "managedFields": [{"manager": "kubelet"}]},
            "status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.1"}]}
        }))
        .expect("valid node");
        compact(&mut node);
        assert_eq!(node.metadata.managed_fields, None);
        assert_eq!(
            node.status.and_then(|s| s.addresses).map(|a| a.len()),
            Some(1)
        );
    }
}
