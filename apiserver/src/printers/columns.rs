//! The Table columns of each resource, with the names, types, priorities and
//! descriptions upstream's printers declare (priority 1 = only with `-o wide`).

use super::docs::doc;
use serde_json::{Value, json};

/// Where a column's description comes from.
#[derive(Clone, Copy)]
pub(super) enum Desc {
    Text(&'static str),
    /// The API documentation of a field: (definition, field), definition without `io.k8s.api.`.
    Doc(&'static str, &'static str),
}

/// One column definition.
#[derive(Clone, Copy)]
pub(super) struct Col {
    name: &'static str,
    ty: &'static str,
    format: &'static str,
    priority: u8,
    desc: Desc,
}

const fn col(name: &'static str, ty: &'static str, desc: Desc) -> Col {
    Col {
        name,
        ty,
        format: "",
        priority: 0,
        desc,
    }
}

/// A column shown only with `-o wide`.
const fn wide(name: &'static str, ty: &'static str, desc: Desc) -> Col {
    Col {
        name,
        ty,
        format: "",
        priority: 1,
        desc,
    }
}

const fn text(name: &'static str, ty: &'static str, t: &'static str) -> Col {
    col(name, ty, Desc::Text(t))
}

const fn field(name: &'static str, ty: &'static str, def: &'static str, f: &'static str) -> Col {
    col(name, ty, Desc::Doc(def, f))
}

const fn wide_text(name: &'static str, t: &'static str) -> Col {
    wide(name, "string", Desc::Text(t))
}

const fn wide_field(name: &'static str, def: &'static str, f: &'static str) -> Col {
    wide(name, "string", Desc::Doc(def, f))
}

const NAME: Col = Col {
    name: "Name",
    ty: "string",
    format: "name",
    priority: 0,
    desc: Desc::Doc("meta", "name"),
};
const AGE: Col = field("Age", "string", "meta", "creationTimestamp");
const CONTAINERS: Col = wide_text("Containers", "Names of each container in the template.");
const IMAGES: Col = wide_text(
    "Images",
    "Images referenced by each container in the template.",
);

impl Col {
    /// The meta.k8s.io/v1 TableColumnDefinition.
    pub(super) fn to_json(self) -> Value {
        let description = match self.desc {
            Desc::Text(t) => t,
            Desc::Doc(def, f) => doc(def, f),
        };
        json!({
            "name": self.name,
            "type": self.ty,
            "format": self.format,
            "description": description,
            "priority": self.priority,
        })
    }
}

pub(super) const PODS: &[Col] = &[
    NAME,
    text(
        "Ready",
        "string",
        "The aggregate readiness state of this pod for accepting traffic.",
    ),
    text(
        "Status",
        "string",
        "The aggregate status of the containers in this pod.",
    ),
    text(
        "Restarts",
        "string",
        "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
    ),
    AGE,
    wide_field("IP", "core.v1.PodStatus", "podIP"),
    wide_field("Node", "core.v1.PodSpec", "nodeName"),
    wide_field("Nominated Node", "core.v1.PodStatus", "nominatedNodeName"),
    wide_field("Readiness Gates", "core.v1.PodSpec", "readinessGates"),
];

pub(super) const POD_TEMPLATES: &[Col] = &[
    NAME,
    text(
        "Containers",
        "string",
        "Names of each container in the template.",
    ),
    text(
        "Images",
        "string",
        "Images referenced by each container in the template.",
    ),
    text("Pod Labels", "string", "The labels for the pod template."),
];

pub(super) const PDBS: &[Col] = &[
    NAME,
    text(
        "Min Available",
        "string",
        "The minimum number of pods that must be available.",
    ),
    text(
        "Max Unavailable",
        "string",
        "The maximum number of pods that may be unavailable.",
    ),
    text(
        "Allowed Disruptions",
        "integer",
        "Calculated number of pods that may be disrupted at this time.",
    ),
    AGE,
];

pub(super) const REPLICATION_CONTROLLERS: &[Col] = &[
    NAME,
    field(
        "Desired",
        "integer",
        "core.v1.ReplicationControllerSpec",
        "replicas",
    ),
    field(
        "Current",
        "integer",
        "core.v1.ReplicationControllerStatus",
        "replicas",
    ),
    field(
        "Ready",
        "integer",
        "core.v1.ReplicationControllerStatus",
        "readyReplicas",
    ),
    AGE,
    CONTAINERS,
    IMAGES,
    wide_field("Selector", "core.v1.ReplicationControllerSpec", "selector"),
];

pub(super) const REPLICA_SETS: &[Col] = &[
    NAME,
    field("Desired", "integer", "apps.v1.ReplicaSetSpec", "replicas"),
    field("Current", "integer", "apps.v1.ReplicaSetStatus", "replicas"),
    field(
        "Ready",
        "integer",
        "apps.v1.ReplicaSetStatus",
        "readyReplicas",
    ),
    AGE,
    CONTAINERS,
    IMAGES,
    wide_field("Selector", "apps.v1.ReplicaSetSpec", "selector"),
];

pub(super) const DAEMON_SETS: &[Col] = &[
    NAME,
    field(
        "Desired",
        "integer",
        "apps.v1.DaemonSetStatus",
        "desiredNumberScheduled",
    ),
    field(
        "Current",
        "integer",
        "apps.v1.DaemonSetStatus",
        "currentNumberScheduled",
    ),
    field("Ready", "integer", "apps.v1.DaemonSetStatus", "numberReady"),
    field(
        "Up-to-date",
        "integer",
        "apps.v1.DaemonSetStatus",
        "updatedNumberScheduled",
    ),
    field(
        "Available",
        "integer",
        "apps.v1.DaemonSetStatus",
        "numberAvailable",
    ),
    field("Node Selector", "string", "core.v1.PodSpec", "nodeSelector"),
    AGE,
    CONTAINERS,
    IMAGES,
    wide_field("Selector", "apps.v1.DaemonSetSpec", "selector"),
];

pub(super) const JOBS: &[Col] = &[
    NAME,
    text("Status", "string", "Status of the job."),
    field("Completions", "string", "batch.v1.JobStatus", "succeeded"),
    text("Duration", "string", "Time required to complete the job."),
    AGE,
    CONTAINERS,
    IMAGES,
    wide_field("Selector", "batch.v1.JobSpec", "selector"),
];

pub(super) const CRON_JOBS: &[Col] = &[
    NAME,
    field("Schedule", "string", "batch.v1.CronJobSpec", "schedule"),
    field("Timezone", "string", "batch.v1.CronJobSpec", "timeZone"),
    field("Suspend", "boolean", "batch.v1.CronJobSpec", "suspend"),
    field("Active", "integer", "batch.v1.CronJobStatus", "active"),
    field(
        "Last Schedule",
        "string",
        "batch.v1.CronJobStatus",
        "lastScheduleTime",
    ),
    AGE,
    CONTAINERS,
    IMAGES,
    wide_field("Selector", "batch.v1.JobSpec", "selector"),
];

pub(super) const SERVICES: &[Col] = &[
    NAME,
    field("Type", "string", "core.v1.ServiceSpec", "type"),
    field("Cluster-IP", "string", "core.v1.ServiceSpec", "clusterIP"),
    field(
        "External-IP",
        "string",
        "core.v1.ServiceSpec",
        "externalIPs",
    ),
    field("Port(s)", "string", "core.v1.ServiceSpec", "ports"),
    AGE,
    wide_field("Selector", "core.v1.ServiceSpec", "selector"),
];

pub(super) const INGRESSES: &[Col] = &[
    NAME,
    text(
        "Class",
        "string",
        "The name of the IngressClass resource that should be used for additional configuration",
    ),
    text(
        "Hosts",
        "string",
        "Hosts that incoming requests are matched against before the ingress rule",
    ),
    text(
        "Address",
        "string",
        "Address is a list containing ingress points for the load-balancer",
    ),
    text("Ports", "string", "Ports of TLS configurations that open"),
    AGE,
];

pub(super) const INGRESS_CLASSES: &[Col] = &[
    NAME,
    text(
        "Controller",
        "string",
        "Controller that is responsible for handling this class",
    ),
    text(
        "Parameters",
        "string",
        "A reference to a resource with additional parameters",
    ),
    AGE,
];

pub(super) const STATEFUL_SETS: &[Col] = &[
    NAME,
    text("Ready", "string", "Number of the pod with ready state"),
    AGE,
    CONTAINERS,
    IMAGES,
];

pub(super) const ENDPOINTS: &[Col] = &[
    NAME,
    field("Endpoints", "string", "core.v1.Endpoints", "subsets"),
    AGE,
];

pub(super) const NODES: &[Col] = &[
    NAME,
    text("Status", "string", "The status of the node"),
    text("Roles", "string", "The roles of the node"),
    AGE,
    field(
        "Version",
        "string",
        "core.v1.NodeSystemInfo",
        "kubeletVersion",
    ),
    wide_field("Internal-IP", "core.v1.NodeStatus", "addresses"),
    wide_field("External-IP", "core.v1.NodeStatus", "addresses"),
    wide_field("OS-Image", "core.v1.NodeSystemInfo", "osImage"),
    wide_field("Kernel-Version", "core.v1.NodeSystemInfo", "kernelVersion"),
    wide_field(
        "Container-Runtime",
        "core.v1.NodeSystemInfo",
        "containerRuntimeVersion",
    ),
];

pub(super) const EVENTS: &[Col] = &[
    field("Last Seen", "string", "core.v1.Event", "lastTimestamp"),
    field("Type", "string", "core.v1.Event", "type"),
    field("Reason", "string", "core.v1.Event", "reason"),
    field("Object", "string", "core.v1.Event", "involvedObject"),
    wide_field("Subobject", "core.v1.ObjectReference", "fieldPath"),
    wide_field("Source", "core.v1.Event", "source"),
    field("Message", "string", "core.v1.Event", "message"),
    wide_field("First Seen", "core.v1.Event", "firstTimestamp"),
    wide_field("Count", "core.v1.Event", "count"),
    Col {
        priority: 1,
        ..NAME
    },
];

pub(super) const NAMESPACES: &[Col] = &[
    NAME,
    text("Status", "string", "The status of the namespace"),
    AGE,
];

pub(super) const SECRETS: &[Col] = &[
    NAME,
    field("Type", "string", "core.v1.Secret", "type"),
    field("Data", "string", "core.v1.Secret", "data"),
    AGE,
];

pub(super) const SERVICE_ACCOUNTS: &[Col] = &[
    NAME,
    field("Secrets", "string", "core.v1.ServiceAccount", "secrets"),
    AGE,
];

pub(super) const PERSISTENT_VOLUMES: &[Col] = &[
    NAME,
    field(
        "Capacity",
        "string",
        "core.v1.PersistentVolumeSpec",
        "capacity",
    ),
    field(
        "Access Modes",
        "string",
        "core.v1.PersistentVolumeSpec",
        "accessModes",
    ),
    field(
        "Reclaim Policy",
        "string",
        "core.v1.PersistentVolumeSpec",
        "persistentVolumeReclaimPolicy",
    ),
    field(
        "Status",
        "string",
        "core.v1.PersistentVolumeStatus",
        "phase",
    ),
    field(
        "Claim",
        "string",
        "core.v1.PersistentVolumeSpec",
        "claimRef",
    ),
    text("StorageClass", "string", "StorageClass of the pv"),
    text(
        "VolumeAttributesClass",
        "string",
        "VolumeAttributesClass of the pv",
    ),
    field(
        "Reason",
        "string",
        "core.v1.PersistentVolumeStatus",
        "reason",
    ),
    AGE,
    wide_field("VolumeMode", "core.v1.PersistentVolumeSpec", "volumeMode"),
];

pub(super) const PERSISTENT_VOLUME_CLAIMS: &[Col] = &[
    NAME,
    field(
        "Status",
        "string",
        "core.v1.PersistentVolumeClaimStatus",
        "phase",
    ),
    field(
        "Volume",
        "string",
        "core.v1.PersistentVolumeClaimSpec",
        "volumeName",
    ),
    field(
        "Capacity",
        "string",
        "core.v1.PersistentVolumeClaimStatus",
        "capacity",
    ),
    field(
        "Access Modes",
        "string",
        "core.v1.PersistentVolumeClaimStatus",
        "accessModes",
    ),
    text("StorageClass", "string", "StorageClass of the pvc"),
    text(
        "VolumeAttributesClass",
        "string",
        "VolumeAttributesClass of the pvc",
    ),
    AGE,
    wide_field(
        "VolumeMode",
        "core.v1.PersistentVolumeClaimSpec",
        "volumeMode",
    ),
];

pub(super) const COMPONENT_STATUSES: &[Col] = &[
    NAME,
    text("Status", "string", "Status of the component conditions"),
    text("Message", "string", "Message of the component conditions"),
    text("Error", "string", "Error of the component conditions"),
];

pub(super) const DEPLOYMENTS: &[Col] = &[
    NAME,
    text("Ready", "string", "Number of the pod with ready state"),
    field(
        "Up-to-date",
        "string",
        "apps.v1.DeploymentStatus",
        "updatedReplicas",
    ),
    field(
        "Available",
        "string",
        "apps.v1.DeploymentStatus",
        "availableReplicas",
    ),
    AGE,
    CONTAINERS,
    IMAGES,
    wide_field("Selector", "apps.v1.DeploymentSpec", "selector"),
];

pub(super) const HPAS: &[Col] = &[
    NAME,
    field(
        "Reference",
        "string",
        "autoscaling.v2.HorizontalPodAutoscalerSpec",
        "scaleTargetRef",
    ),
    field(
        "Targets",
        "string",
        "autoscaling.v2.HorizontalPodAutoscalerSpec",
        "metrics",
    ),
    field(
        "MinPods",
        "string",
        "autoscaling.v2.HorizontalPodAutoscalerSpec",
        "minReplicas",
    ),
    field(
        "MaxPods",
        "string",
        "autoscaling.v2.HorizontalPodAutoscalerSpec",
        "maxReplicas",
    ),
    field(
        "Replicas",
        "string",
        "autoscaling.v2.HorizontalPodAutoscalerStatus",
        "currentReplicas",
    ),
    AGE,
];

pub(super) const CONFIG_MAPS: &[Col] = &[
    NAME,
    field("Data", "string", "core.v1.ConfigMap", "data"),
    AGE,
];

pub(super) const NETWORK_POLICIES: &[Col] = &[
    NAME,
    field(
        "Pod-Selector",
        "string",
        "networking.v1.NetworkPolicySpec",
        "podSelector",
    ),
    AGE,
];

pub(super) const ROLE_BINDINGS: &[Col] = &[
    NAME,
    field("Role", "string", "rbac.v1.RoleBinding", "roleRef"),
    AGE,
    wide_text("Users", "Users in the roleBinding"),
    wide_text("Groups", "Groups in the roleBinding"),
    wide_text("ServiceAccounts", "ServiceAccounts in the roleBinding"),
];

pub(super) const CLUSTER_ROLE_BINDINGS: &[Col] = &[
    NAME,
    field("Role", "string", "rbac.v1.ClusterRoleBinding", "roleRef"),
    AGE,
    wide_text("Users", "Users in the clusterRoleBinding"),
    wide_text("Groups", "Groups in the clusterRoleBinding"),
    wide_text(
        "ServiceAccounts",
        "ServiceAccounts in the clusterRoleBinding",
    ),
];

pub(super) const CSRS: &[Col] = &[
    NAME,
    AGE,
    field(
        "SignerName",
        "string",
        "certificates.v1.CertificateSigningRequestSpec",
        "signerName",
    ),
    field(
        "Requestor",
        "string",
        "certificates.v1.CertificateSigningRequestSpec",
        "request",
    ),
    field(
        "RequestedDuration",
        "string",
        "certificates.v1.CertificateSigningRequestSpec",
        "expirationSeconds",
    ),
    field(
        "Condition",
        "string",
        "certificates.v1.CertificateSigningRequestStatus",
        "conditions",
    ),
];

pub(super) const LEASES: &[Col] = &[
    NAME,
    field(
        "Holder",
        "string",
        "coordination.v1.LeaseSpec",
        "holderIdentity",
    ),
    AGE,
];

pub(super) const STORAGE_CLASSES: &[Col] = &[
    NAME,
    field(
        "Provisioner",
        "string",
        "storage.v1.StorageClass",
        "provisioner",
    ),
    field(
        "ReclaimPolicy",
        "string",
        "storage.v1.StorageClass",
        "reclaimPolicy",
    ),
    field(
        "VolumeBindingMode",
        "string",
        "storage.v1.StorageClass",
        "volumeBindingMode",
    ),
    field(
        "AllowVolumeExpansion",
        "string",
        "storage.v1.StorageClass",
        "allowVolumeExpansion",
    ),
    AGE,
];

pub(super) const CONTROLLER_REVISIONS: &[Col] = &[
    NAME,
    text("Controller", "string", "Controller of the object"),
    field(
        "Revision",
        "string",
        "apps.v1.ControllerRevision",
        "revision",
    ),
    AGE,
];

pub(super) const RESOURCE_QUOTAS: &[Col] = &[
    NAME,
    AGE,
    text(
        "Request",
        "string",
        "Request represents a minimum amount of cpu/memory that a container may consume.",
    ),
    text(
        "Limit",
        "string",
        "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.",
    ),
];

pub(super) const PRIORITY_CLASSES: &[Col] = &[
    NAME,
    field("Value", "integer", "scheduling.v1.PriorityClass", "value"),
    field(
        "Global-Default",
        "boolean",
        "scheduling.v1.PriorityClass",
        "globalDefault",
    ),
    AGE,
    field(
        "PreemptionPolicy",
        "string",
        "scheduling.v1.PriorityClass",
        "preemptionPolicy",
    ),
];

pub(super) const RUNTIME_CLASSES: &[Col] = &[
    NAME,
    // Upstream reads this description from the wrong type, so it is empty.
    text("Handler", "string", ""),
    AGE,
];

pub(super) const CSI_DRIVERS: &[Col] = &[
    NAME,
    text(
        "AttachRequired",
        "boolean",
        "attachRequired indicates this CSI volume driver requires an attach operation (because it implements the CSI ControllerPublishVolume() method), and that the Kubernetes attach detach controller should call the attach volume interface which checks the volumeattachment status and waits until the volume is attached before proceeding to mounting. The CSI external-attacher coordinates with CSI volume driver and updates the volumeattachment status when the attach operation is complete. If the value is specified to false, the attach operation will be skipped. Otherwise the attach operation will be called.\n\nThis field is immutable.",
    ),
    text(
        "PodInfoOnMount",
        "boolean",
        "podInfoOnMount indicates this CSI volume driver requires additional pod information (like podName, podUID, etc.) during mount operations, if set to true. If set to false, pod information will not be passed on mount. Default is false.\n\nThe CSI driver specifies podInfoOnMount as part of driver deployment. If true, Kubelet will pass pod information as VolumeContext in the CSI NodePublishVolume() calls. The CSI driver is responsible for parsing and validating the information passed in as VolumeContext.\n\nThe following VolumeContext will be passed if podInfoOnMount is set to true. This list might grow, but the prefix will be used. \"csi.storage.k8s.io/pod.name\": pod.Name \"csi.storage.k8s.io/pod.namespace\": pod.Namespace \"csi.storage.k8s.io/pod.uid\": string(pod.UID) \"csi.storage.k8s.io/ephemeral\": \"true\" if the volume is an ephemeral inline volume\n                                defined by a CSIVolumeSource, otherwise \"false\"\n\n\"csi.storage.k8s.io/ephemeral\" is a new feature in Kubernetes 1.16. It is only required for drivers which support both the \"Persistent\" and \"Ephemeral\" VolumeLifecycleMode. Other drivers can leave pod info disabled and/or ignore this field. As Kubernetes 1.15 doesn't support this field, drivers can only support one mode when deployed on such a cluster and the deployment determines which mode that is, for example via a command line parameter of the driver.\n\nThis field was immutable in Kubernetes < 1.29 and now is mutable.",
    ),
    text(
        "StorageCapacity",
        "boolean",
        "storageCapacity indicates that the CSI volume driver wants pod scheduling to consider the storage capacity that the driver deployment will report by creating CSIStorageCapacity objects with capacity information, if set to true.\n\nThe check can be enabled immediately when deploying a driver. In that case, provisioning new volumes with late binding will pause until the driver deployment has published some suitable CSIStorageCapacity object.\n\nAlternatively, the driver can be deployed with the field unset or false and it can be flipped later when storage capacity information has been published.\n\nThis field was immutable in Kubernetes <= 1.22 and now is mutable.",
    ),
    text(
        "TokenRequests",
        "string",
        "tokenRequests indicates the CSI driver needs pods' service account tokens it is mounting volume for to do necessary authentication. Kubelet will pass the tokens in VolumeContext in the CSI NodePublishVolume calls. The CSI driver should parse and validate the following VolumeContext: \"csi.storage.k8s.io/serviceAccount.tokens\": {\n  \"<audience>\": {\n    \"token\": <token>,\n    \"expirationTimestamp\": <expiration timestamp in RFC3339>,\n  },\n  ...\n}\n\nNote: Audience in each TokenRequest should be different and at most one token is empty string. To receive a new token after expiry, RequiresRepublish can be used to trigger NodePublishVolume periodically.",
    ),
    text(
        "RequiresRepublish",
        "boolean",
        "requiresRepublish indicates the CSI driver wants `NodePublishVolume` being periodically called to reflect any possible change in the mounted volume. This field defaults to false.\n\nNote: After a successful initial NodePublishVolume call, subsequent calls to NodePublishVolume should only update the contents of the volume. New mount points will not be seen by a running container.",
    ),
    text(
        "Modes",
        "string",
        "volumeLifecycleModes defines what kind of volumes this CSI volume driver supports. The default if the list is empty is \"Persistent\", which is the usage defined by the CSI specification and implemented in Kubernetes via the usual PV/PVC mechanism.\n\nThe other mode is \"Ephemeral\". In this mode, volumes are defined inline inside the pod spec with CSIVolumeSource and their lifecycle is tied to the lifecycle of that pod. A driver has to be aware of this because it is only going to get a NodePublishVolume call for such a volume.\n\nFor more information about implementing this mode, see https://kubernetes-csi.github.io/docs/ephemeral-local-volumes.html A driver can support one or more of these modes and more modes may be added in the future.\n\nThis field is beta. This field is immutable.",
    ),
    AGE,
];

pub(super) const CSI_NODES: &[Col] = &[
    NAME,
    text(
        "Drivers",
        "integer",
        "Drivers indicates the number of CSI drivers registered on the node",
    ),
    AGE,
];

pub(super) const CSI_STORAGE_CAPACITIES: &[Col] = &[
    NAME,
    text(
        "StorageClassName",
        "string",
        "storageClassName represents the name of the StorageClass that the reported capacity applies to. It must meet the same requirements as the name of a StorageClass object (non-empty, DNS subdomain). If that object no longer exists, the CSIStorageCapacity object is obsolete and should be removed by its creator. This field is immutable.",
    ),
    text(
        "Capacity",
        "string",
        "capacity is the value reported by the CSI driver in its GetCapacityResponse for a GetCapacityRequest with topology and parameters that match the previous fields.\n\nThe semantic is currently (CSI spec 1.2) defined as: The available capacity, in bytes, of the storage that can be used to provision volumes. If not set, that information is currently unavailable.",
    ),
];

pub(super) const VOLUME_ATTACHMENTS: &[Col] = &[
    NAME,
    text(
        "Attacher",
        "string",
        "attacher indicates the name of the volume driver that MUST handle this request. This is the name returned by GetPluginName().",
    ),
    text(
        "PV",
        "string",
        "persistentVolumeName represents the name of the persistent volume to attach.",
    ),
    text(
        "Node",
        "string",
        "nodeName represents the node that the volume should be attached to.",
    ),
    text(
        "Attached",
        "boolean",
        "attached indicates the volume is successfully attached. This field must only be set by the entity completing the attach operation, i.e. the external-attacher.",
    ),
    AGE,
];

pub(super) const ENDPOINT_SLICES: &[Col] = &[
    NAME,
    field(
        "AddressType",
        "string",
        "discovery.v1.EndpointSlice",
        "addressType",
    ),
    field("Ports", "string", "discovery.v1.EndpointSlice", "ports"),
    field(
        "Endpoints",
        "string",
        "discovery.v1.EndpointSlice",
        "endpoints",
    ),
    AGE,
];

pub(super) const WEBHOOK_CONFIGURATIONS: &[Col] = &[
    NAME,
    text(
        "Webhooks",
        "integer",
        "Webhooks indicates the number of webhooks registered in this configuration",
    ),
    AGE,
];

/// What upstream's default table convertor shows for resources without a printer
/// (roles, clusterroles, limitranges, ...): the name and the creation time.
pub(super) const DEFAULT: &[Col] = &[
    NAME,
    field("Created At", "date", "meta", "creationTimestamp"),
];

pub(super) const VALIDATING_ADMISSION_POLICIES: &[Col] = &[
    NAME,
    text(
        "Validations",
        "integer",
        "Validations indicates the number of validation rules defined in this configuration",
    ),
    text(
        "ParamKind",
        "string",
        "ParamKind specifies the kind of resources used to parameterize this policy",
    ),
    AGE,
];

pub(super) const VALIDATING_ADMISSION_POLICY_BINDINGS: &[Col] = &[
    NAME,
    text(
        "PolicyName",
        "string",
        "PolicyName indicates the name of the policy this binding applies",
    ),
    text(
        "ParamRef",
        "string",
        "ParamRef indicates the param resource this binding applies",
    ),
    AGE,
];
