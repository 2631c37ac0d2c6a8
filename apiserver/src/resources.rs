//! The table of served resources. One row per (group, version, resource)
//! drives discovery, routing and the etcd key layout; adding a kind is a row
//! here plus (when it needs one) a strategy in `registry::strategy`.

/// Verbs of an ordinary stored resource.
pub const CRUD: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];
/// Namespaces: no `deletecollection` (upstream never deletes every
/// namespace in one request).
const NAMESPACE_VERBS: &[&str] = &[
    "create", "delete", "get", "list", "patch", "update", "watch",
];
/// Verbs of a review-style resource that is only ever created.
pub const CREATE_ONLY: &[&str] = &["create"];
const READ_ONLY: &[&str] = &["get", "list"];

/// How the apiserver serves a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// Kept in etcd under `<prefix>/<path>/...`.
    Etcd { path: &'static str },
    /// Answered on the fly (reviews, componentstatuses); never stored.
    Virtual,
}

/// One served resource in one group-version.
#[derive(Debug, Clone, Copy)]
pub struct ResourceDef {
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
    pub verbs: &'static [&'static str],
    pub subresources: &'static [&'static str],
    pub storage: Storage,
}

impl ResourceDef {
    /// `v1` or `apps/v1`, the apiVersion objects of this resource carry.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    pub fn has_status(&self) -> bool {
        self.subresources.contains(&"status")
    }

    pub fn supports(&self, verb: &str) -> bool {
        self.verbs.contains(&verb)
    }

    /// The etcd path segment, `None` for virtual resources.
    pub fn etcd_path(&self) -> Option<&'static str> {
        match self.storage {
            Storage::Etcd { path } => Some(path),
            Storage::Virtual => None,
        }
    }
}

const ALL: &[&str] = &["all"];
const NONE: &[&str] = &[];
const STATUS: &[&str] = &["status"];
const API_EXTENSIONS: &[&str] = &["api-extensions"];
const STATUS_SCALE: &[&str] = &["status", "scale"];

/// Shorthand for a stored CRUD resource row.
#[allow(clippy::too_many_arguments)]
const fn row(
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    singular: &'static str,
    kind: &'static str,
    namespaced: bool,
    short_names: &'static [&'static str],
    categories: &'static [&'static str],
    subresources: &'static [&'static str],
    path: &'static str,
) -> ResourceDef {
    ResourceDef {
        group,
        version,
        plural,
        singular,
        kind,
        namespaced,
        short_names,
        categories,
        verbs: CRUD,
        subresources,
        storage: Storage::Etcd { path },
    }
}

/// A create-only review resource of a group.
const fn review(
    group: &'static str,
    plural: &'static str,
    singular: &'static str,
    kind: &'static str,
    namespaced: bool,
) -> ResourceDef {
    ResourceDef {
        group,
        version: "v1",
        plural,
        singular,
        kind,
        namespaced,
        short_names: NONE,
        categories: NONE,
        verbs: CREATE_ONLY,
        subresources: NONE,
        storage: Storage::Virtual,
    }
}

/// Every served resource, in discovery order.
#[rustfmt::skip]
pub static RESOURCES: &[ResourceDef] = &[
    // core/v1
    ResourceDef {
        verbs: NAMESPACE_VERBS,
        ..row("", "v1", "namespaces", "namespace", "Namespace", false, &["ns"], NONE, &["status", "finalize"], "namespaces")
    },
    row("", "v1", "pods", "pod", "Pod", true, &["po"], ALL, &["status", "binding", "eviction", "log", "exec", "attach", "portforward", "proxy"], "pods"),
    row("", "v1", "services", "service", "Service", true, &["svc"], ALL, &["status", "proxy"], "services/specs"),
    row("", "v1", "endpoints", "endpoints", "Endpoints", true, &["ep"], NONE, NONE, "services/endpoints"),
    row("", "v1", "configmaps", "configmap", "ConfigMap", true, &["cm"], NONE, NONE, "configmaps"),
    row("", "v1", "secrets", "secret", "Secret", true, NONE, NONE, NONE, "secrets"),
    row("", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", true, &["sa"], NONE, &["token"], "serviceaccounts"),
    row("", "v1", "nodes", "node", "Node", false, &["no"], NONE, &["status", "proxy"], "minions"),
    row("", "v1", "events", "event", "Event", true, &["ev"], NONE, NONE, "events"),
    row("", "v1", "persistentvolumes", "persistentvolume", "PersistentVolume", false, &["pv"], NONE, STATUS, "persistentvolumes"),
    row("", "v1", "persistentvolumeclaims", "persistentvolumeclaim", "PersistentVolumeClaim", true, &["pvc"], NONE, STATUS, "persistentvolumeclaims"),
    row("", "v1", "limitranges", "limitrange", "LimitRange", true, &["limits"], NONE, NONE, "limitranges"),
    row("", "v1", "resourcequotas", "resourcequota", "ResourceQuota", true, &["quota"], NONE, STATUS, "resourcequotas"),
    row("", "v1", "replicationcontrollers", "replicationcontroller", "ReplicationController", true, &["rc"], ALL, STATUS_SCALE, "controllers"),
    row("", "v1", "podtemplates", "podtemplate", "PodTemplate", true, NONE, NONE, NONE, "podtemplates"),
    // The legacy `POST /api/v1/namespaces/{ns}/bindings`: binds the pod the
    // Binding names, as `pods/binding` does; never stored.
    ResourceDef {
        verbs: CREATE_ONLY,
        storage: Storage::Virtual,
        ..row("", "v1", "bindings", "binding", "Binding", true, NONE, NONE, NONE, "")
    },
    ResourceDef {
        group: "",
        version: "v1",
        plural: "componentstatuses",
        singular: "componentstatus",
        kind: "ComponentStatus",
        namespaced: false,
        short_names: &["cs"],
        categories: NONE,
        verbs: READ_ONLY,
        subresources: NONE,
        storage: Storage::Virtual,
    },
    // apps/v1
    row("apps", "v1", "deployments", "deployment", "Deployment", true, &["deploy"], ALL, STATUS_SCALE, "deployments"),
    row("apps", "v1", "replicasets", "replicaset", "ReplicaSet", true, &["rs"], ALL, STATUS_SCALE, "replicasets"),
    row("apps", "v1", "statefulsets", "statefulset", "StatefulSet", true, &["sts"], ALL, STATUS_SCALE, "statefulsets"),
    row("apps", "v1", "daemonsets", "daemonset", "DaemonSet", true, &["ds"], ALL, STATUS, "daemonsets"),
    row("apps", "v1", "controllerrevisions", "controllerrevision", "ControllerRevision", true, NONE, NONE, NONE, "controllerrevisions"),
    // batch/v1
    row("batch", "v1", "jobs", "job", "Job", true, NONE, ALL, STATUS, "jobs"),
    row("batch", "v1", "cronjobs", "cronjob", "CronJob", true, &["cj"], ALL, STATUS, "cronjobs"),
    // autoscaling
    row("autoscaling", "v2", "horizontalpodautoscalers", "horizontalpodautoscaler", "HorizontalPodAutoscaler", true, &["hpa"], ALL, STATUS, "horizontalpodautoscalers"),
    row("autoscaling", "v1", "horizontalpodautoscalers", "horizontalpodautoscaler", "HorizontalPodAutoscaler", true, &["hpa"], ALL, STATUS, "horizontalpodautoscalers"),
    // networking.k8s.io/v1
    row("networking.k8s.io", "v1", "ingresses", "ingress", "Ingress", true, &["ing"], NONE, STATUS, "ingress"),
    row("networking.k8s.io", "v1", "ingressclasses", "ingressclass", "IngressClass", false, NONE, NONE, NONE, "ingressclasses"),
    row("networking.k8s.io", "v1", "networkpolicies", "networkpolicy", "NetworkPolicy", true, &["netpol"], NONE, NONE, "networkpolicies"),
    // discovery.k8s.io/v1
    row("discovery.k8s.io", "v1", "endpointslices", "endpointslice", "EndpointSlice", true, NONE, NONE, NONE, "endpointslices"),
    // rbac.authorization.k8s.io/v1
    row("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "clusterrolebinding", "ClusterRoleBinding", false, NONE, NONE, NONE, "clusterrolebindings"),
    row("rbac.authorization.k8s.io", "v1", "clusterroles", "clusterrole", "ClusterRole", false, NONE, NONE, NONE, "clusterroles"),
    row("rbac.authorization.k8s.io", "v1", "rolebindings", "rolebinding", "RoleBinding", true, NONE, NONE, NONE, "rolebindings"),
    row("rbac.authorization.k8s.io", "v1", "roles", "role", "Role", true, NONE, NONE, NONE, "roles"),
    // storage.k8s.io/v1
    row("storage.k8s.io", "v1", "storageclasses", "storageclass", "StorageClass", false, &["sc"], NONE, NONE, "storageclasses"),
    row("storage.k8s.io", "v1", "csidrivers", "csidriver", "CSIDriver", false, NONE, NONE, NONE, "csidrivers"),
    row("storage.k8s.io", "v1", "csinodes", "csinode", "CSINode", false, NONE, NONE, NONE, "csinodes"),
    row("storage.k8s.io", "v1", "csistoragecapacities", "csistoragecapacity", "CSIStorageCapacity", true, NONE, NONE, NONE, "csistoragecapacities"),
    row("storage.k8s.io", "v1", "volumeattachments", "volumeattachment", "VolumeAttachment", false, NONE, NONE, STATUS, "volumeattachments"),
    // node.k8s.io/v1
    row("node.k8s.io", "v1", "runtimeclasses", "runtimeclass", "RuntimeClass", false, NONE, NONE, NONE, "runtimeclasses"),
    // coordination.k8s.io/v1
    row("coordination.k8s.io", "v1", "leases", "lease", "Lease", true, NONE, NONE, NONE, "leases"),
    // policy/v1
    row("policy", "v1", "poddisruptionbudgets", "poddisruptionbudget", "PodDisruptionBudget", true, &["pdb"], NONE, STATUS, "poddisruptionbudgets"),
    // scheduling.k8s.io/v1
    row("scheduling.k8s.io", "v1", "priorityclasses", "priorityclass", "PriorityClass", false, &["pc"], NONE, NONE, "priorityclasses"),
    // events.k8s.io/v1 (same etcd keys as core events, as upstream)
    row("events.k8s.io", "v1", "events", "event", "Event", true, &["ev"], NONE, NONE, "events"),
    // admissionregistration.k8s.io/v1
    row("admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations", "mutatingwebhookconfiguration", "MutatingWebhookConfiguration", false, NONE, API_EXTENSIONS, NONE, "mutatingwebhookconfigurations"),
    row("admissionregistration.k8s.io", "v1", "validatingadmissionpolicies", "validatingadmissionpolicy", "ValidatingAdmissionPolicy", false, NONE, API_EXTENSIONS, STATUS, "validatingadmissionpolicies"),
    row("admissionregistration.k8s.io", "v1", "validatingadmissionpolicybindings", "validatingadmissionpolicybinding", "ValidatingAdmissionPolicyBinding", false, NONE, API_EXTENSIONS, NONE, "validatingadmissionpolicybindings"),
    row("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations", "validatingwebhookconfiguration", "ValidatingWebhookConfiguration", false, NONE, API_EXTENSIONS, NONE, "validatingwebhookconfigurations"),
    // apiextensions.k8s.io/v1 (the custom resources themselves are served
    // from `apiextensions::registry`, consulted after this table)
    row("apiextensions.k8s.io", "v1", "customresourcedefinitions", "customresourcedefinition", "CustomResourceDefinition", false, &["crd", "crds"], API_EXTENSIONS, STATUS, "apiextensions.k8s.io/customresourcedefinitions"),
    // certificates.k8s.io/v1
    row("certificates.k8s.io", "v1", "certificatesigningrequests", "certificatesigningrequest", "CertificateSigningRequest", false, &["csr"], NONE, &["status", "approval"], "certificatesigningrequests"),
    // authentication.k8s.io/v1
    review("authentication.k8s.io", "tokenreviews", "tokenreview", "TokenReview", false),
    review("authentication.k8s.io", "selfsubjectreviews", "selfsubjectreview", "SelfSubjectReview", false),
    // authorization.k8s.io/v1
    review("authorization.k8s.io", "localsubjectaccessreviews", "localsubjectaccessreview", "LocalSubjectAccessReview", true),
    review("authorization.k8s.io", "selfsubjectaccessreviews", "selfsubjectaccessreview", "SelfSubjectAccessReview", false),
    review("authorization.k8s.io", "selfsubjectrulesreviews", "selfsubjectrulesreview", "SelfSubjectRulesReview", false),
    review("authorization.k8s.io", "subjectaccessreviews", "subjectaccessreview", "SubjectAccessReview", false),
];

/// One API group with its versions, preferred first.
#[derive(Debug, Clone)]
pub struct GroupInfo {
    pub name: &'static str,
    pub versions: Vec<&'static str>,
}

/// Every served resource: the static table, then the custom resources of
/// established CustomResourceDefinitions (a snapshot of the registry).
pub fn all() -> impl Iterator<Item = &'static ResourceDef> {
    RESOURCES
        .iter()
        .chain(crate::apiextensions::registry::defs())
}

/// The named groups (not core), in first-seen order, versions preferred first.
pub fn groups() -> Vec<GroupInfo> {
    let mut out: Vec<GroupInfo> = Vec::new();
    for r in all().filter(|r| !r.group.is_empty()) {
        match out.iter_mut().find(|g| g.name == r.group) {
            Some(g) => {
                if !g.versions.contains(&r.version) {
                    g.versions.push(r.version);
                }
            }
            None => out.push(GroupInfo {
                name: r.group,
                versions: vec![r.version],
            }),
        }
    }
    out
}

/// The resources of one group-version.
pub fn in_group_version<'a>(
    group: &'a str,
    version: &'a str,
) -> impl Iterator<Item = &'static ResourceDef> + 'a {
    all().filter(move |r| r.group == group && r.version == version)
}

pub fn group_version_exists(group: &str, version: &str) -> bool {
    in_group_version(group, version).next().is_some()
}

/// Looks up a resource by group, version and plural: the static table
/// first, so a custom resource can never shadow a built-in one.
pub fn lookup(group: &str, version: &str, plural: &str) -> Option<&'static ResourceDef> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
        .or_else(|| crate::apiextensions::registry::lookup(group, version, plural))
}

/// The preferred-version row of a group's kind, for objects that must be
/// found by kind (bootstrap, reviews).
pub fn by_kind(group: &str, kind: &str) -> Option<&'static ResourceDef> {
    all().find(|r| r.group == group && r.kind == kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_key_renames() {
        let etcd = |g, p| lookup(g, "v1", p).and_then(|r| r.etcd_path());
        assert_eq!(etcd("", "nodes"), Some("minions"));
        assert_eq!(etcd("", "services"), Some("services/specs"));
        assert_eq!(etcd("", "endpoints"), Some("services/endpoints"));
        assert_eq!(etcd("", "replicationcontrollers"), Some("controllers"));
        assert_eq!(etcd("networking.k8s.io", "ingresses"), Some("ingress"));
        assert_eq!(etcd("apps", "deployments"), Some("deployments"));
    }

    #[test]
    fn groups_list_preferred_version_first() {
        let g = groups();
        let autoscaling = g.iter().find(|g| g.name == "autoscaling");
        assert_eq!(
            autoscaling.map(|g| g.versions.clone()),
            Some(vec!["v2", "v1"])
        );
        assert!(g.iter().any(|g| g.name == "apps"));
        assert!(!g.iter().any(|g| g.name.is_empty()));
    }

    /// The operations of upstream's OpenAPI document (the reference in
    /// `../shared/reference/`) per (group, version, resource), as verbs,
    /// and its subresources.
    type Verbs =
        std::collections::BTreeMap<(String, String, String), std::collections::BTreeSet<String>>;
    type Subresources = std::collections::BTreeSet<(String, String, String, String)>;

    fn reference_operations() -> Option<(Verbs, Subresources)> {
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/reference/kubernetes-openapi-v2.json");
        let Ok(text) = std::fs::read_to_string(&path) else {
            println!("notice: {} absent, verb test skipped", path.display());
            return None;
        };
        let doc: serde_json::Value = serde_json::from_str(&text).expect("reference parses");
        let mut verbs = std::collections::BTreeMap::new();
        let mut subs = std::collections::BTreeSet::new();
        for (path, ops) in doc["paths"].as_object().expect("paths") {
            let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
            let (group, version, mut rest) = match segs.as_slice() {
                ["api", v, rest @ ..] => ("", *v, rest),
                ["apis", g, v, rest @ ..] => (*g, *v, rest),
                _ => continue,
            };
            if rest.first() == Some(&"watch") {
                rest = &rest[1..];
            }
            if rest.len() > 2 && rest[0] == "namespaces" && rest[1] == "{namespace}" {
                rest = &rest[2..];
            }
            let Some(resource) = rest.first() else {
                continue;
            };
            let key = (group.to_string(), version.to_string(), resource.to_string());
            if let Some(sub) = rest.get(2) {
                subs.insert((key.0, key.1, key.2, sub.to_string()));
                continue;
            }
            for op in ops.as_object().expect("operations").values() {
                let verb = match op["x-kubernetes-action"].as_str() {
                    Some("post") => "create",
                    Some("put") => "update",
                    Some("watchlist") => "watch",
                    Some(a) => a,
                    None => continue,
                };
                verbs
                    .entry(key.clone())
                    .or_insert_with(std::collections::BTreeSet::new)
                    .insert(verb.to_string());
            }
        }
        Some((verbs, subs))
    }

    /// Every served resource has exactly upstream's verbs and only
    /// subresources upstream has, so neither discovery nor `/openapi/v2`
    /// can drift from what upstream serves.
    #[test]
    fn verbs_and_subresources_are_upstreams() {
        let Some((verbs, subs)) = reference_operations() else {
            return;
        };
        for r in RESOURCES {
            let key = (
                r.group.to_string(),
                r.version.to_string(),
                r.plural.to_string(),
            );
            let want = verbs
                .get(&key)
                .unwrap_or_else(|| panic!("{key:?} is not in upstream's API"));
            let have: std::collections::BTreeSet<String> =
                r.verbs.iter().map(|v| v.to_string()).collect();
            assert_eq!(&have, want, "verbs of {key:?}");
            for s in r.subresources {
                let sub = (key.0.clone(), key.1.clone(), key.2.clone(), s.to_string());
                assert!(subs.contains(&sub), "{sub:?} is not upstream's");
            }
        }
        let ns = lookup("", "v1", "namespaces").expect("namespaces");
        assert!(!ns.supports("deletecollection"));
    }

    #[test]
    fn plurals_are_unique_per_group_version() {
        for r in RESOURCES {
            let n = in_group_version(r.group, r.version)
                .filter(|o| o.plural == r.plural)
                .count();
            assert_eq!(n, 1, "{}/{} {}", r.group, r.version, r.plural);
        }
    }
}
