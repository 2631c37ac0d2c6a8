//! Upstream's defaulting (`SetDefaults_*` in `pkg/apis/*/v1/defaults.go`),
//! applied in place to objects as clients sent them. The apiserver runs it
//! before validation on create and update, so stored objects look like an
//! upstream cluster's.

mod admissionregistration;
mod apps;
mod batch;
mod other;
mod pod;
mod service;

pub use batch::CONTROLLER_UID_LABEL;
pub use pod::image_tag;

use serde_json::Value;

/// Upstream defaulting for the kind, in place. No-op for kinds without
/// defaults. For Jobs, call it after `metadata.uid` is set so the
/// generated selector can be added (upstream's Job strategy does that).
pub fn default_object(group: &str, kind: &str, obj: &mut Value) {
    match (group, kind) {
        ("", "Pod") => pod::default_pod(obj),
        ("", "PodTemplate") => {
            if let Some(t) = obj.get_mut("template") {
                pod::default_pod_template(t);
            }
        }
        ("", "ReplicationController") => {
            if let Some(spec) = obj.get_mut("spec") {
                crate::validation::json::set_default(spec, "replicas", serde_json::json!(1));
                if let Some(t) = spec.get_mut("template").filter(|t| !t.is_null()) {
                    pod::default_pod_template(t);
                }
            }
        }
        ("", "Service") => service::default_service(obj),
        ("", "Endpoints") => service::default_endpoints(obj),
        ("", "Namespace") => other::default_namespace(obj),
        ("", "Secret") => other::default_secret(obj),
        ("", "Node") => other::default_node(obj),
        ("", "PersistentVolume") => other::default_pv(obj),
        ("", "PersistentVolumeClaim") => other::default_pvc(obj),
        ("", "LimitRange") => other::default_limit_range(obj),
        ("apps", "Deployment") => apps::default_deployment(obj),
        ("apps", "ReplicaSet") => apps::default_replica_set(obj),
        ("apps", "StatefulSet") => apps::default_stateful_set(obj),
        ("apps", "DaemonSet") => apps::default_daemon_set(obj),
        ("batch", "Job") => batch::default_job(obj),
        ("batch", "CronJob") => batch::default_cron_job(obj),
        ("discovery.k8s.io", "EndpointSlice") => service::default_endpoint_slice(obj),
        ("networking.k8s.io", "NetworkPolicy") => other::default_network_policy(obj),
        ("scheduling.k8s.io", "PriorityClass") => other::default_priority_class(obj),
        ("storage.k8s.io", "StorageClass") => other::default_storage_class(obj),
        ("storage.k8s.io", "CSIDriver") => other::default_csi_driver(obj),
        ("autoscaling", "HorizontalPodAutoscaler") => other::default_hpa(obj),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy") => {
            admissionregistration::default_validating_admission_policy(obj)
        }
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding") => {
            admissionregistration::default_validating_admission_policy_binding(obj)
        }
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration") => {
            admissionregistration::default_webhook_configuration(obj, false)
        }
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration") => {
            admissionregistration::default_webhook_configuration(obj, true)
        }
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => {
            other::default_role_binding(obj)
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests;
