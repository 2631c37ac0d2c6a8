//! The Go-only facts canonical encoding needs and no schema carries:
//! which fields are non-pointer scalars with `omitempty` (a zero is left
//! out) and which are always written (non-pointer structs, non-`omitempty`
//! scalars, `metav1.Time`). Read from upstream v1.32's Go types
//! (`k8s.io/api/*/types.go`); each row is a field whose value our
//! components can leave at zero or absent. Top-level `metadata`, `spec` and
//! `status`, non-pointer in every built-in kind, are added by
//! `canonical.rs` itself.

/// What upstream writes for an absent always-written field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Empty {
    /// A non-pointer struct: `{}` (with its own always-written fields).
    Object,
    /// A non-`omitempty` number or a zero `int32`: `0`.
    Zero,
    /// A non-`omitempty` string: `""`.
    String,
    /// A zero `metav1.Time` or a nil non-`omitempty` slice: `null`.
    Null,
}

/// (definition, property, what an absent one is written as).
#[rustfmt::skip]
pub static ALWAYS: &[(&str, &str, Empty)] = &[
    ("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "creationTimestamp", Empty::Null),
    ("io.k8s.api.core.v1.ServiceStatus", "loadBalancer", Empty::Object),
    ("io.k8s.api.core.v1.PodTemplateSpec", "metadata", Empty::Object),
    ("io.k8s.api.core.v1.PodTemplateSpec", "spec", Empty::Object),
    ("io.k8s.api.batch.v1.JobTemplateSpec", "metadata", Empty::Object),
    ("io.k8s.api.batch.v1.JobTemplateSpec", "spec", Empty::Object),
    ("io.k8s.api.core.v1.Container", "resources", Empty::Object),
    ("io.k8s.api.core.v1.NodeStatus", "daemonEndpoints", Empty::Object),
    ("io.k8s.api.core.v1.NodeStatus", "nodeInfo", Empty::Object),
    ("io.k8s.api.core.v1.NodeDaemonEndpoints", "kubeletEndpoint", Empty::Object),
    ("io.k8s.api.core.v1.DaemonEndpoint", "Port", Empty::Zero),
    ("io.k8s.api.core.v1.NodeSystemInfo", "machineID", Empty::String),
    ("io.k8s.api.core.v1.NodeSystemInfo", "systemUUID", Empty::String),
    ("io.k8s.api.core.v1.NodeSystemInfo", "bootID", Empty::String),
    ("io.k8s.api.core.v1.NodeSystemInfo", "kernelVersion", Empty::String),
    ("io.k8s.api.core.v1.NodeSystemInfo", "osImage", Empty::String),
    ("io.k8s.api.core.v1.NodeSystemInfo", "containerRuntimeVersion", Empty::String),
    ("io.k8s.api.core.v1.NodeSystemInfo", "kubeletVersion", Empty::String),
    ("io.k8s.api.core.v1.NodeSystemInfo", "kubeProxyVersion", Empty::String),
    ("io.k8s.api.core.v1.NodeSystemInfo", "operatingSystem", Empty::String),
    ("io.k8s.api.core.v1.NodeSystemInfo", "architecture", Empty::String),
    ("io.k8s.api.core.v1.ReplicationControllerStatus", "replicas", Empty::Zero),
    ("io.k8s.api.apps.v1.ReplicaSetStatus", "replicas", Empty::Zero),
    ("io.k8s.api.apps.v1.StatefulSetStatus", "replicas", Empty::Zero),
    ("io.k8s.api.apps.v1.StatefulSetStatus", "availableReplicas", Empty::Zero),
    ("io.k8s.api.apps.v1.DaemonSetStatus", "currentNumberScheduled", Empty::Zero),
    ("io.k8s.api.apps.v1.DaemonSetStatus", "numberMisscheduled", Empty::Zero),
    ("io.k8s.api.apps.v1.DaemonSetStatus", "desiredNumberScheduled", Empty::Zero),
    ("io.k8s.api.apps.v1.DaemonSetStatus", "numberReady", Empty::Zero),
    ("io.k8s.api.policy.v1.PodDisruptionBudgetStatus", "disruptionsAllowed", Empty::Zero),
    ("io.k8s.api.policy.v1.PodDisruptionBudgetStatus", "currentHealthy", Empty::Zero),
    ("io.k8s.api.policy.v1.PodDisruptionBudgetStatus", "desiredHealthy", Empty::Zero),
    ("io.k8s.api.policy.v1.PodDisruptionBudgetStatus", "expectedPods", Empty::Zero),
    ("io.k8s.api.autoscaling.v1.HorizontalPodAutoscalerStatus", "currentReplicas", Empty::Zero),
    ("io.k8s.api.autoscaling.v1.HorizontalPodAutoscalerStatus", "desiredReplicas", Empty::Zero),
    ("io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus", "desiredReplicas", Empty::Zero),
    // Non-omitempty slices: a nil one is written as null.
    ("io.k8s.api.rbac.v1.Role", "rules", Empty::Null),
    ("io.k8s.api.rbac.v1.ClusterRole", "rules", Empty::Null),
    ("io.k8s.api.discovery.v1.EndpointSlice", "endpoints", Empty::Null),
];

/// (definition, property) of non-pointer `omitempty` scalars: a zero value
/// (0, false, "") is not written.
#[rustfmt::skip]
pub static OMIT_ZERO: &[(&str, &str)] = &[
    ("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "generation"),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "name"),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "generateName"),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "namespace"),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "uid"),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "resourceVersion"),
    ("io.k8s.api.apps.v1.DeploymentSpec", "minReadySeconds"),
    ("io.k8s.api.apps.v1.DeploymentSpec", "paused"),
    ("io.k8s.api.apps.v1.DeploymentStatus", "observedGeneration"),
    ("io.k8s.api.apps.v1.DeploymentStatus", "replicas"),
    ("io.k8s.api.apps.v1.DeploymentStatus", "updatedReplicas"),
    ("io.k8s.api.apps.v1.DeploymentStatus", "readyReplicas"),
    ("io.k8s.api.apps.v1.DeploymentStatus", "availableReplicas"),
    ("io.k8s.api.apps.v1.DeploymentStatus", "unavailableReplicas"),
];
