//! Server-side printing: the meta.k8s.io/v1 Table columns and row cells that
//! `kubectl get` (and `-o wide`) shows for each resource, matching upstream's
//! printers so our output reads like upstream's: same column names, types and
//! priorities, same cell formats (`1/2`, `80:30080/TCP`, `<none>`, `5 (3m ago)`,
//! ages like `2d5h`). Resources without a printer get upstream's default table:
//! Name and Created At.

mod cluster;
mod columns;
mod core;
mod docs;
mod json;
mod pod;
mod time;
mod workloads;

#[cfg(test)]
mod tests;

use columns::Col;
use serde_json::Value;
use std::time::SystemTime;

pub use time::human_duration;

type RowFn = fn(&Value, SystemTime) -> Vec<Value>;

/// The columns and row function for a resource; the default table when there is none.
fn printer(group: &str, resource: &str) -> (&'static [Col], RowFn) {
    use columns as c;
    match (group, resource) {
        ("", "pods") => (c::PODS, pod::row),
        ("", "podtemplates") => (c::POD_TEMPLATES, workloads::pod_template),
        ("", "namespaces") => (c::NAMESPACES, core::namespace),
        ("", "services") => (c::SERVICES, core::service),
        ("", "endpoints") => (c::ENDPOINTS, core::endpoints),
        ("", "nodes") => (c::NODES, core::node),
        ("", "configmaps") => (c::CONFIG_MAPS, core::config_map),
        ("", "secrets") => (c::SECRETS, core::secret),
        ("", "serviceaccounts") => (c::SERVICE_ACCOUNTS, core::service_account),
        ("", "events") => (c::EVENTS, core::event),
        ("events.k8s.io", "events") => (c::EVENTS, events_v1),
        ("", "persistentvolumes") => (c::PERSISTENT_VOLUMES, core::persistent_volume),
        ("", "persistentvolumeclaims") => {
            (c::PERSISTENT_VOLUME_CLAIMS, core::persistent_volume_claim)
        }
        ("", "resourcequotas") => (c::RESOURCE_QUOTAS, core::resource_quota),
        ("", "componentstatuses") => (c::COMPONENT_STATUSES, core::component_status),
        ("", "replicationcontrollers") => (
            c::REPLICATION_CONTROLLERS,
            workloads::replication_controller,
        ),
        ("apps", "deployments") => (c::DEPLOYMENTS, workloads::deployment),
        ("apps", "replicasets") => (c::REPLICA_SETS, workloads::replica_set),
        ("apps", "statefulsets") => (c::STATEFUL_SETS, workloads::stateful_set),
        ("apps", "daemonsets") => (c::DAEMON_SETS, workloads::daemon_set),
        ("apps", "controllerrevisions") => {
            (c::CONTROLLER_REVISIONS, workloads::controller_revision)
        }
        ("batch", "jobs") => (c::JOBS, workloads::job),
        ("batch", "cronjobs") => (c::CRON_JOBS, workloads::cron_job),
        ("autoscaling", "horizontalpodautoscalers") => {
            (c::HPAS, workloads::horizontal_pod_autoscaler)
        }
        ("policy", "poddisruptionbudgets") => (c::PDBS, workloads::pod_disruption_budget),
        ("networking.k8s.io", "ingresses") => (c::INGRESSES, cluster::ingress),
        ("networking.k8s.io", "ingressclasses") => (c::INGRESS_CLASSES, cluster::ingress_class),
        ("networking.k8s.io", "networkpolicies") => (c::NETWORK_POLICIES, cluster::network_policy),
        ("discovery.k8s.io", "endpointslices") => (c::ENDPOINT_SLICES, cluster::endpoint_slice),
        ("rbac.authorization.k8s.io", "rolebindings") => (c::ROLE_BINDINGS, cluster::role_binding),
        ("rbac.authorization.k8s.io", "clusterrolebindings") => {
            (c::CLUSTER_ROLE_BINDINGS, cluster::role_binding)
        }
        ("storage.k8s.io", "storageclasses") => (c::STORAGE_CLASSES, cluster::storage_class),
        ("storage.k8s.io", "csidrivers") => (c::CSI_DRIVERS, cluster::csi_driver),
        ("storage.k8s.io", "csinodes") => (c::CSI_NODES, cluster::csi_node),
        ("storage.k8s.io", "csistoragecapacities") => {
            (c::CSI_STORAGE_CAPACITIES, cluster::csi_storage_capacity)
        }
        ("storage.k8s.io", "volumeattachments") => {
            (c::VOLUME_ATTACHMENTS, cluster::volume_attachment)
        }
        ("coordination.k8s.io", "leases") => (c::LEASES, cluster::lease),
        ("scheduling.k8s.io", "priorityclasses") => (c::PRIORITY_CLASSES, cluster::priority_class),
        ("certificates.k8s.io", "certificatesigningrequests") => {
            (c::CSRS, cluster::certificate_signing_request)
        }
        ("node.k8s.io", "runtimeclasses") => (c::RUNTIME_CLASSES, cluster::runtime_class),
        (
            "admissionregistration.k8s.io",
            "mutatingwebhookconfigurations" | "validatingwebhookconfigurations",
        ) => (c::WEBHOOK_CONFIGURATIONS, cluster::webhook_configuration),
        ("admissionregistration.k8s.io", "validatingadmissionpolicies") => (
            c::VALIDATING_ADMISSION_POLICIES,
            cluster::validating_admission_policy,
        ),
        ("admissionregistration.k8s.io", "validatingadmissionpolicybindings") => (
            c::VALIDATING_ADMISSION_POLICY_BINDINGS,
            cluster::validating_admission_policy_binding,
        ),
        // roles, clusterroles, limitranges and everything else: upstream's default table.
        _ => (c::DEFAULT, core::default_row),
    }
}

fn events_v1(obj: &Value, now: SystemTime) -> Vec<Value> {
    core::event(&core::core_event_from_events_v1(obj), now)
}

/// Whether upstream has a dedicated printer for the resource (otherwise the default
/// Name/Created At table applies).
pub fn has_printer(group: &str, resource: &str) -> bool {
    !std::ptr::eq(printer(group, resource).0, columns::DEFAULT)
}

/// meta.k8s.io/v1 TableColumnDefinition objects ({name, type, format, description,
/// priority}) for a resource, as upstream's printers define them; priority 1 = only
/// with `-o wide`. Unknown resources: Name + Created At (upstream's default table).
pub fn column_definitions(group: &str, resource: &str) -> Vec<Value> {
    printer(group, resource)
        .0
        .iter()
        .map(|c| c.to_json())
        .collect()
}

/// The cells of one row for one object, same order as the columns (strings,
/// integers, booleans), computed at `now` for the ages.
pub fn row_cells(group: &str, resource: &str, obj: &Value, now: SystemTime) -> Vec<Value> {
    (printer(group, resource).1)(obj, now)
}
