//! `apiextensions.k8s.io/v1`: CustomResourceDefinitions and the custom
//! resources they define.
//!
//! A CRD is an ordinary stored object (the `customresourcedefinitions` row
//! of the resource table, with [`strategy::CrdStrategy`] for its defaults and
//! [`crd_validation`]). The [`controller`] watches CRDs, sets their
//! `NamesAccepted`/`Established` conditions and installs each established
//! CRD into the [`registry`], which `resources::lookup` consults after the
//! static table; from then on the generic store serves the custom resources
//! with [`strategy::CustomResourceStrategy`] (pruning, defaulting, schema
//! validation) and the handlers ask this module for tables and scale.

pub mod controller;
pub mod crd_validation;
pub mod defaulting;
pub mod jsonpath;
pub mod printing;
pub mod pruning;
pub mod registry;
pub mod scale;
pub mod schema;
pub mod strategy;

use crate::resources::{RESOURCES, ResourceDef};
use registry::CustomResource;
use std::sync::Arc;

/// The finalizer that makes deleting a CRD delete its objects first.
pub const CLEANUP_FINALIZER: &str = "customresourcecleanup.apiextensions.k8s.io";

pub const GROUP: &str = "apiextensions.k8s.io";

/// The CRD behind a served custom resource, `None` for built-in kinds.
pub fn custom(def: &ResourceDef) -> Option<Arc<CustomResource>> {
    if RESOURCES.iter().any(|r| std::ptr::eq(r, def)) {
        return None;
    }
    registry::find(def.group, def.plural)
}

/// Upstream applies a CRD's defaults when it decodes a custom resource
/// from storage, not only when it is written: a default added to the
/// schema later shows on every read (get, list, watch).
pub fn default_on_read(def: &ResourceDef, obj: &mut serde_json::Value) {
    if let Some(cr) = custom(def) {
        let schema = cr.version(def.version).and_then(|v| v.schema.as_ref());
        defaulting::default_object(schema, obj);
    }
}

/// Is `def` a custom resource (served from the registry)?
pub fn is_custom(def: &ResourceDef) -> bool {
    custom(def).is_some()
}

/// Unknown fields of a custom resource body (what pruning would drop), in
/// `fieldValidation`'s path form; empty for built-in kinds.
pub fn unknown_fields(def: &ResourceDef, obj: &serde_json::Value) -> Vec<String> {
    let Some(cr) = custom(def) else {
        return Vec::new();
    };
    let Some(v) = cr.version(def.version) else {
        return Vec::new();
    };
    let mut probe = obj.clone();
    pruning::prune_object(v.schema.as_ref(), &mut probe)
}

/// Strategic merge patches need Go struct tags custom resources do not
/// have; upstream answers 415 with the patch types it does accept.
pub fn strategic_merge_refused() -> crate::status::ApiError {
    crate::status::ApiError::new(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
    )
}

/// Objects of a CRD being deleted may go but not come (upstream: 405).
pub fn check_create_allowed(def: &ResourceDef) -> Result<(), crate::status::ApiError> {
    match custom(def) {
        Some(cr) if cr.terminating => Err(crate::status::ApiError::new(
            405,
            "MethodNotAllowed",
            "create not allowed while custom resource definition is terminating",
        )),
        _ => Ok(()),
    }
}
