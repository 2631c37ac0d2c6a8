//! Upstream-style validation: every check returns field errors that the
//! handlers turn into a 422 `Status` with `details.causes`.
//!
//! Entry points ([`validate_create`], [`validate_update`],
//! [`validate_status_update`], and [`default_object`] re-exported from
//! `crate::defaults`) dispatch on (group, kind) to a module per API area,
//! mirroring upstream's `pkg/apis/<group>/validation`. Kinds without their
//! own rules get ObjectMeta validation only.

pub mod admissionregistration;
pub mod apps;
pub mod batch;
pub mod config;
pub mod core_kinds;
pub mod cron;
pub mod csr;
pub mod field;
pub mod json;
pub mod meta;
pub mod misc;
pub mod names;
pub mod networking;
pub mod pod;
pub mod rbac;
pub mod resources;
pub mod selector;
pub mod service;
pub mod storage;

pub use crate::defaults::default_object;
pub use field::{ErrorList, ErrorType, FieldError};
pub use service::{carry_over_service_allocations, validate_node_port_range};

use meta::{Scope, validate_object_meta, validate_object_meta_update};
use names::{name_is_dns_subdomain, name_is_path_segment};
use serde_json::Value;

/// Kinds stored without a namespace (all others known here are namespaced).
const CLUSTER_SCOPED: [(&str, &str); 20] = [
    ("", "Namespace"),
    ("", "Node"),
    ("", "PersistentVolume"),
    ("", "ComponentStatus"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("scheduling.k8s.io", "PriorityClass"),
    ("storage.k8s.io", "StorageClass"),
    ("storage.k8s.io", "CSIDriver"),
    ("storage.k8s.io", "CSINode"),
    ("storage.k8s.io", "VolumeAttachment"),
    ("certificates.k8s.io", "CertificateSigningRequest"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("apiregistration.k8s.io", "APIService"),
    (
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
    ),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    ("networking.k8s.io", "IngressClass"),
    ("node.k8s.io", "RuntimeClass"),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
];

/// Namespaced kinds with only metadata rules here (so the namespace is
/// still required for them).
const NAMESPACED_META_ONLY: [(&str, &str); 4] = [
    ("", "PodTemplate"),
    ("", "ReplicationController"),
    ("apps", "ControllerRevision"),
    ("events.k8s.io", "Event"),
];

fn scope_of(group: &str, kind: &str) -> Scope {
    if CLUSTER_SCOPED.contains(&(group, kind)) {
        Scope::Cluster
    } else if NAMESPACED_META_ONLY.contains(&(group, kind)) {
        Scope::Namespaced
    } else {
        Scope::Unknown
    }
}

/// ValidateXxx for a create: metadata (name syntax per kind, generateName,
/// labels, annotations) and spec. Empty list = valid.
pub fn validate_create(group: &str, kind: &str, obj: &Value) -> ErrorList {
    match (group, kind) {
        ("", "Pod") => pod::validate_pod(obj),
        ("", "Service") => service::validate_service(obj),
        ("", "ConfigMap") => config::validate_config_map(obj),
        ("", "Secret") => config::validate_secret(obj),
        ("", "Namespace") => core_kinds::validate_namespace(obj),
        ("", "Node") => core_kinds::validate_node(obj),
        ("", "ServiceAccount") => core_kinds::validate_service_account(obj),
        ("", "Endpoints") => core_kinds::validate_endpoints(obj),
        ("", "PersistentVolume") => core_kinds::validate_pv(obj),
        ("", "PersistentVolumeClaim") => core_kinds::validate_pvc(obj),
        ("", "LimitRange") => core_kinds::validate_limit_range(obj),
        ("", "ResourceQuota") => core_kinds::validate_resource_quota(obj),
        ("", "Event") => core_kinds::validate_event(obj),
        ("apps", "Deployment") => apps::validate_deployment(obj),
        ("apps", "ReplicaSet") => apps::validate_replica_set(obj),
        ("apps", "StatefulSet") => apps::validate_stateful_set(obj),
        ("apps", "DaemonSet") => apps::validate_daemon_set(obj),
        ("batch", "Job") => batch::validate_job(obj),
        ("batch", "CronJob") => batch::validate_cron_job(obj),
        ("networking.k8s.io", "Ingress") => networking::validate_ingress(obj),
        ("networking.k8s.io", "NetworkPolicy") => networking::validate_network_policy(obj),
        ("rbac.authorization.k8s.io", "Role") => rbac::validate_role(obj, false),
        ("rbac.authorization.k8s.io", "ClusterRole") => rbac::validate_role(obj, true),
        ("rbac.authorization.k8s.io", "RoleBinding") => rbac::validate_role_binding(obj, false),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding") => {
            rbac::validate_role_binding(obj, true)
        }
        ("scheduling.k8s.io", "PriorityClass") => misc::validate_priority_class(obj),
        ("policy", "PodDisruptionBudget") => misc::validate_pdb(obj),
        ("coordination.k8s.io", "Lease") => misc::validate_lease(obj),
        ("storage.k8s.io", "StorageClass") => misc::validate_storage_class(obj),
        ("autoscaling", "HorizontalPodAutoscaler") => misc::validate_hpa(obj),
        ("discovery.k8s.io", "EndpointSlice") => misc::validate_endpoint_slice(obj),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy") => {
            admissionregistration::validate_validating_admission_policy(obj)
        }
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding") => {
            admissionregistration::validate_validating_admission_policy_binding(obj)
        }
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration") => {
            admissionregistration::validate_webhook_configuration(obj, false)
        }
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration") => {
            admissionregistration::validate_webhook_configuration(obj, true)
        }
        ("certificates.k8s.io", "CertificateSigningRequest") => misc::validate_csr(obj),
        ("", "PodTemplate") => storage::validate_pod_template(obj),
        ("storage.k8s.io", "CSIDriver") => storage::validate_csi_driver(obj),
        ("storage.k8s.io", "CSINode") => storage::validate_csi_node(obj),
        ("storage.k8s.io", "CSIStorageCapacity") => storage::validate_csi_storage_capacity(obj),
        ("storage.k8s.io", "VolumeAttachment") => storage::validate_volume_attachment(obj),
        ("node.k8s.io", "RuntimeClass") => storage::validate_runtime_class(obj),
        _ => validate_object_meta(obj, scope_of(group, kind), name_is_dns_subdomain),
    }
}

/// Create-time errors minus the metadata ones, for update validators that
/// already ran `validate_object_meta_update`.
fn spec_errors(group: &str, kind: &str, obj: &Value) -> ErrorList {
    validate_create(group, kind, obj)
        .into_iter()
        .filter(|e| !e.field.starts_with("metadata."))
        .collect()
}

/// ValidateXxxUpdate: everything validate_create checks plus immutable fields.
pub fn validate_update(group: &str, kind: &str, new: &Value, old: &Value) -> ErrorList {
    match (group, kind) {
        ("", "Pod") => pod::validate_pod_update(new, old),
        ("", "Service") => service::validate_service_update(new, old),
        ("", "ConfigMap") => config::validate_config_map_update(new, old),
        ("", "Secret") => config::validate_secret_update(new, old),
        ("", "Node") => core_kinds::validate_node_update(new, old),
        ("", "PersistentVolumeClaim") => core_kinds::validate_pvc_update(new, old),
        ("apps", "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet") => {
            apps::validate_apps_update(kind, new, old)
        }
        ("batch", "Job") => batch::validate_job_update(new, old),
        ("batch", "CronJob") => batch::validate_cron_job_update(new, old),
        ("rbac.authorization.k8s.io", "RoleBinding") => {
            rbac::validate_role_binding_update(new, old, false)
        }
        ("rbac.authorization.k8s.io", "ClusterRoleBinding") => {
            rbac::validate_role_binding_update(new, old, true)
        }
        ("scheduling.k8s.io", "PriorityClass") => {
            let mut errs = misc::validate_priority_class_update(new, old);
            errs.extend(spec_errors(group, kind, new));
            errs
        }
        ("storage.k8s.io", "StorageClass") => {
            let mut errs = misc::validate_storage_class_update(new, old);
            errs.extend(spec_errors(group, kind, new));
            errs
        }
        ("discovery.k8s.io", "EndpointSlice") => misc::validate_endpoint_slice_update(new, old),
        ("storage.k8s.io", "CSIDriver") => storage::validate_csi_driver_update(new, old),
        ("storage.k8s.io", "CSINode") => storage::validate_csi_node_update(new, old),
        ("storage.k8s.io", "CSIStorageCapacity") => {
            storage::validate_csi_storage_capacity_update(new, old)
        }
        ("storage.k8s.io", "VolumeAttachment") => {
            storage::validate_volume_attachment_update(new, old)
        }
        ("node.k8s.io", "RuntimeClass") => storage::validate_runtime_class_update(new, old),
        ("networking.k8s.io", "IngressClass") => {
            let mut errs = validate_object_meta_update(new, old);
            errs.extend(networking::validate_ingress_class_update(new, old));
            errs.extend(spec_errors(group, kind, new));
            errs
        }
        ("certificates.k8s.io", "CertificateSigningRequest") => {
            let mut errs = validate_object_meta_update(new, old);
            errs.extend(core_kinds::validate_spec_immutable(new, old, "spec"));
            errs
        }
        _ => {
            let mut errs = validate_object_meta_update(new, old);
            errs.extend(spec_errors(group, kind, new));
            errs
        }
    }
}

/// ValidateXxxStatusUpdate for the status subresource.
pub fn validate_status_update(group: &str, kind: &str, new: &Value, old: &Value) -> ErrorList {
    match (group, kind) {
        ("certificates.k8s.io", "CertificateSigningRequest") => {
            let mut errs = validate_object_meta_update(new, old);
            errs.extend(csr::validate_status_update(new, old));
            errs
        }
        ("", "Pod") => pod::validate_pod_status_update(new, old),
        ("", "Service") => service::validate_service_status_update(new, old),
        ("", "Namespace") => core_kinds::validate_namespace_status_update(new, old),
        ("", "ResourceQuota") => core_kinds::validate_resource_quota_status_update(new, old),
        ("apps", "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet") => {
            apps::validate_apps_status_update(new, old)
        }
        ("batch", "Job") => batch::validate_job_status_update(new, old),
        _ => validate_object_meta_update(new, old),
    }
}

/// The name rule a kind uses, for callers that check names outside an
/// object (e.g. the apiserver's path segment checks).
pub fn name_rule(group: &str, kind: &str) -> names::NameFn {
    match (group, kind) {
        ("", "Service") => names::name_is_dns1035_label,
        ("", "Namespace") => names::name_is_dns_label,
        ("rbac.authorization.k8s.io", _) | ("certificates.k8s.io", _) => name_is_path_segment,
        _ => name_is_dns_subdomain,
    }
}

#[cfg(test)]
mod tests;
