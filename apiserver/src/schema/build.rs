//! Builds the definitions from k8s-openapi's JsonSchema implementations:
//! one schemars generator walks every served kind, then list kinds,
//! `x-kubernetes-group-version-kind` and the patch metadata are added.

use super::KindDefinition;
use super::field_meta::{DEFINITION_MAP_TYPES, FIELDS, FieldMeta};
use crate::resources::RESOURCES;
use k8s_openapi::api as a;
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{Map, Value, json};

/// Adds one kind's schema (and everything it references) to the generator
/// and returns its definition name.
type AddKind = fn(&mut SchemaGenerator) -> String;

fn add<T: JsonSchema>(generator: &mut SchemaGenerator) -> String {
    generator.subschema_for::<T>();
    T::schema_name().into_owned()
}

/// The kinds with a definition: (group, version, kind, has a List kind).
macro_rules! kinds {
    ($($g:literal, $v:literal, $k:literal, $list:literal => $t:ty;)*) => {
        &[$(($g, $v, $k, $list, add::<$t> as AddKind),)*]
    };
}

#[rustfmt::skip]
static KINDS: &[(&str, &str, &str, bool, AddKind)] = kinds! {
    "", "v1", "Namespace", true => a::core::v1::Namespace;
    "", "v1", "Pod", true => a::core::v1::Pod;
    "", "v1", "Service", true => a::core::v1::Service;
    "", "v1", "Endpoints", true => a::core::v1::Endpoints;
    "", "v1", "ConfigMap", true => a::core::v1::ConfigMap;
    "", "v1", "Secret", true => a::core::v1::Secret;
    "", "v1", "ServiceAccount", true => a::core::v1::ServiceAccount;
    "", "v1", "Node", true => a::core::v1::Node;
    "", "v1", "Event", true => a::core::v1::Event;
    "", "v1", "PersistentVolume", true => a::core::v1::PersistentVolume;
    "", "v1", "PersistentVolumeClaim", true => a::core::v1::PersistentVolumeClaim;
    "", "v1", "LimitRange", true => a::core::v1::LimitRange;
    "", "v1", "ResourceQuota", true => a::core::v1::ResourceQuota;
    "", "v1", "ReplicationController", true => a::core::v1::ReplicationController;
    "", "v1", "ComponentStatus", true => a::core::v1::ComponentStatus;
    "", "v1", "Binding", false => a::core::v1::Binding;
    "", "v1", "PodTemplate", true => a::core::v1::PodTemplate;
    "apps", "v1", "Deployment", true => a::apps::v1::Deployment;
    "apps", "v1", "ReplicaSet", true => a::apps::v1::ReplicaSet;
    "apps", "v1", "StatefulSet", true => a::apps::v1::StatefulSet;
    "apps", "v1", "DaemonSet", true => a::apps::v1::DaemonSet;
    "apps", "v1", "ControllerRevision", true => a::apps::v1::ControllerRevision;
    "batch", "v1", "Job", true => a::batch::v1::Job;
    "batch", "v1", "CronJob", true => a::batch::v1::CronJob;
    "autoscaling", "v1", "HorizontalPodAutoscaler", true => a::autoscaling::v1::HorizontalPodAutoscaler;
    "autoscaling", "v1", "Scale", false => a::autoscaling::v1::Scale;
    "autoscaling", "v2", "HorizontalPodAutoscaler", true => a::autoscaling::v2::HorizontalPodAutoscaler;
    "networking.k8s.io", "v1", "Ingress", true => a::networking::v1::Ingress;
    "networking.k8s.io", "v1", "IngressClass", true => a::networking::v1::IngressClass;
    "networking.k8s.io", "v1", "NetworkPolicy", true => a::networking::v1::NetworkPolicy;
    "discovery.k8s.io", "v1", "EndpointSlice", true => a::discovery::v1::EndpointSlice;
    "rbac.authorization.k8s.io", "v1", "ClusterRole", true => a::rbac::v1::ClusterRole;
    "rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", true => a::rbac::v1::ClusterRoleBinding;
    "rbac.authorization.k8s.io", "v1", "Role", true => a::rbac::v1::Role;
    "rbac.authorization.k8s.io", "v1", "RoleBinding", true => a::rbac::v1::RoleBinding;
    "storage.k8s.io", "v1", "StorageClass", true => a::storage::v1::StorageClass;
    "storage.k8s.io", "v1", "CSIDriver", true => a::storage::v1::CSIDriver;
    "storage.k8s.io", "v1", "CSINode", true => a::storage::v1::CSINode;
    "storage.k8s.io", "v1", "CSIStorageCapacity", true => a::storage::v1::CSIStorageCapacity;
    "storage.k8s.io", "v1", "VolumeAttachment", true => a::storage::v1::VolumeAttachment;
    "node.k8s.io", "v1", "RuntimeClass", true => a::node::v1::RuntimeClass;
    "coordination.k8s.io", "v1", "Lease", true => a::coordination::v1::Lease;
    "policy", "v1", "PodDisruptionBudget", true => a::policy::v1::PodDisruptionBudget;
    "policy", "v1", "Eviction", false => a::policy::v1::Eviction;
    "scheduling.k8s.io", "v1", "PriorityClass", true => a::scheduling::v1::PriorityClass;
    "events.k8s.io", "v1", "Event", true => a::events::v1::Event;
    "certificates.k8s.io", "v1", "CertificateSigningRequest", true => a::certificates::v1::CertificateSigningRequest;
    "authentication.k8s.io", "v1", "TokenReview", false => a::authentication::v1::TokenReview;
    "authentication.k8s.io", "v1", "SelfSubjectReview", false => a::authentication::v1::SelfSubjectReview;
    "authentication.k8s.io", "v1", "TokenRequest", false => a::authentication::v1::TokenRequest;
    "authorization.k8s.io", "v1", "LocalSubjectAccessReview", false => a::authorization::v1::LocalSubjectAccessReview;
    "authorization.k8s.io", "v1", "SelfSubjectAccessReview", false => a::authorization::v1::SelfSubjectAccessReview;
    "authorization.k8s.io", "v1", "SelfSubjectRulesReview", false => a::authorization::v1::SelfSubjectRulesReview;
    "authorization.k8s.io", "v1", "SubjectAccessReview", false => a::authorization::v1::SubjectAccessReview;
    "admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration", true => a::admissionregistration::v1::MutatingWebhookConfiguration;
    "admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicy", true => a::admissionregistration::v1::ValidatingAdmissionPolicy;
    "admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicyBinding", true => a::admissionregistration::v1::ValidatingAdmissionPolicyBinding;
    "admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration", true => a::admissionregistration::v1::ValidatingWebhookConfiguration;
    "apiextensions.k8s.io", "v1", "CustomResourceDefinition", true => k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    "", "v1", "Status", false => meta::Status;
};

/// Kinds every group-version accepts or answers with (delete bodies,
/// watch events): upstream lists each served group-version on them.
const SHARED_KINDS: &[(&str, AddKind)] = &[
    ("DeleteOptions", add::<meta::DeleteOptions>),
    ("WatchEvent", add::<meta::WatchEvent<a::core::v1::Pod>>),
];

/// The definitions (keys sorted) and the kinds that name one.
pub(super) fn build() -> (Map<String, Value>, Vec<KindDefinition>) {
    // References read `#/definitions/<name>` as in upstream's v2 document.
    // No transforms: draft 7's would move a `$ref`'s sibling `description`
    // into an `allOf`, where upstream keeps them side by side. (k8s-openapi
    // writes every schema by hand, so no `Option` null types arise.)
    let mut generator = SchemaSettings::draft07()
        .with(|s| {
            s.definitions_path = "/definitions".into();
            s.transforms.clear();
        })
        .into_generator();
    let mut kinds = Vec::new();
    let mut lists = Vec::new();
    for (group, version, kind, has_list, add_kind) in KINDS {
        let definition = add_kind(&mut generator);
        if *has_list {
            lists.push((*group, *version, *kind, definition.clone()));
        }
        kinds.push(KindDefinition {
            group,
            version,
            kind,
            definition,
        });
    }
    // The body of every PATCH (any JSON): not a kind, but operations name it.
    add::<meta::Patch>(&mut generator);
    let mut shared = Vec::new();
    for (kind, add_kind) in SHARED_KINDS {
        shared.push((*kind, add_kind(&mut generator)));
    }
    let mut definitions: Map<String, Value> = generator.take_definitions(false);
    for (group, version, kind, item) in lists {
        let name = format!("{item}List");
        definitions.insert(name.clone(), list_schema(kind, &item));
        kinds.push(KindDefinition {
            group,
            version,
            kind: leak(format!("{kind}List")),
            definition: name,
        });
    }
    for k in &kinds {
        push_gvk(&mut definitions, &k.definition, k.group, k.version, k.kind);
    }
    for (kind, definition) in shared {
        for (group, version) in group_versions() {
            push_gvk(&mut definitions, &definition, group, version, kind);
            kinds.push(KindDefinition {
                group,
                version,
                kind,
                definition: definition.clone(),
            });
        }
    }
    for (definition, property, meta) in FIELDS {
        if let Some(prop) = definitions
            .get_mut(*definition)
            .and_then(|d| d.get_mut("properties"))
            .and_then(|p| p.get_mut(*property))
            .and_then(Value::as_object_mut)
        {
            add_extensions(prop, meta);
        }
    }
    for (definition, map_type) in DEFINITION_MAP_TYPES {
        if let Some(d) = definitions
            .get_mut(*definition)
            .and_then(Value::as_object_mut)
        {
            d.insert("x-kubernetes-map-type".into(), json!(map_type));
        }
    }
    for (definition, property) in NOT_REQUIRED {
        unrequire(&mut definitions, definition, property);
    }
    let names: Vec<String> = definitions.keys().cloned().collect();
    for name in names {
        unrequire(&mut definitions, &name, "metadata");
    }
    if let Some(d) = definitions
        .get_mut("io.k8s.apimachinery.pkg.util.intstr.IntOrString")
        .and_then(Value::as_object_mut)
    {
        // Upstream types it as a string with its own format (clients such as
        // kubectl explain print `<IntOrString>` from it).
        d.insert("type".into(), json!("string"));
        d.insert("format".into(), json!("int-or-string"));
    }
    // k8s-openapi (0.29) marks Quantity int-or-string without a type;
    // upstream's document types it as a plain string.
    if let Some(d) = definitions
        .get_mut("io.k8s.apimachinery.pkg.api.resource.Quantity")
        .and_then(Value::as_object_mut)
    {
        d.remove("x-kubernetes-int-or-string");
        d.insert("type".into(), json!("string"));
    }
    // A CRD schema's `default`, `enum` and `example` hold any JSON value;
    // k8s-openapi types the wrapper as an object, upstream gives no type.
    if let Some(d) = definitions
        .get_mut("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON")
        .and_then(Value::as_object_mut)
    {
        d.remove("type");
    }
    definitions.sort_keys();
    (definitions, kinds)
}

/// Properties k8s-openapi lists as required only because their Rust field
/// is not an `Option` (upstream gives them a default instead); `metadata`
/// of every kind is the same case and is handled for all definitions.
const NOT_REQUIRED: &[(&str, &str)] = &[
    ("io.k8s.api.core.v1.LocalObjectReference", "name"),
    ("io.k8s.api.core.v1.ConfigMapEnvSource", "name"),
    ("io.k8s.api.core.v1.ConfigMapKeySelector", "name"),
    ("io.k8s.api.core.v1.ConfigMapProjection", "name"),
    ("io.k8s.api.core.v1.ConfigMapVolumeSource", "name"),
    ("io.k8s.api.core.v1.SecretEnvSource", "name"),
    ("io.k8s.api.core.v1.SecretKeySelector", "name"),
    ("io.k8s.api.core.v1.SecretProjection", "name"),
];

fn unrequire(defs: &mut Map<String, Value>, definition: &str, property: &str) {
    let Some(d) = defs.get_mut(definition).and_then(Value::as_object_mut) else {
        return;
    };
    let empty = match d.get_mut("required").and_then(Value::as_array_mut) {
        Some(required) => {
            required.retain(|r| r != property);
            required.is_empty()
        }
        None => false,
    };
    if empty {
        d.remove("required");
    }
}

/// A kind name that lives as long as the process (the list kinds are
/// built once, in the lazily initialised table).
fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn group_versions() -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for r in RESOURCES {
        if !out.contains(&(r.group, r.version)) {
            out.push((r.group, r.version));
        }
    }
    out
}

fn push_gvk(
    defs: &mut Map<String, Value>,
    definition: &str,
    group: &str,
    version: &str,
    kind: &str,
) {
    let Some(d) = defs.get_mut(definition).and_then(Value::as_object_mut) else {
        return;
    };
    let entry = json!({ "group": group, "kind": kind, "version": version });
    let list = d
        .entry("x-kubernetes-group-version-kind")
        .or_insert_with(|| json!([]));
    if let Some(a) = list.as_array_mut()
        && !a.contains(&entry)
    {
        a.push(entry);
    }
}

fn add_extensions(prop: &mut Map<String, Value>, meta: &FieldMeta) {
    if let Some(s) = meta.patch_strategy {
        prop.insert("x-kubernetes-patch-strategy".into(), json!(s));
    }
    if let Some(k) = meta.patch_merge_key {
        prop.insert("x-kubernetes-patch-merge-key".into(), json!(k));
    }
    if let Some(t) = meta.list_type {
        prop.insert("x-kubernetes-list-type".into(), json!(t));
    }
    if !meta.list_map_keys.is_empty() {
        prop.insert(
            "x-kubernetes-list-map-keys".into(),
            json!(meta.list_map_keys),
        );
    }
    if let Some(t) = meta.map_type {
        prop.insert("x-kubernetes-map-type".into(), json!(t));
    }
}

/// The schema of `<Kind>List`: the kind's list envelope.
fn list_schema(kind: &str, item: &str) -> Value {
    json!({
        "description": format!("{kind}List is a list of {kind} objects."),
        "type": "object",
        "required": ["items"],
        "properties": {
            "apiVersion": {
                "description": "APIVersion defines the versioned schema of this representation of an object.",
                "type": "string"
            },
            "items": {
                "description": format!("The {kind} objects of the list."),
                "type": "array",
                "items": { "$ref": format!("#/definitions/{item}") }
            },
            "kind": {
                "description": "Kind is a string value representing the REST resource this object represents.",
                "type": "string"
            },
            "metadata": {
                "description": "Standard list metadata.",
                "$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"
            }
        }
    })
}
