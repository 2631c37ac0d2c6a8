//! The two kinds that keep N copies of a pod template: ReplicaSet and the
//! older ReplicationController. The controller sees both through
//! [`ReplicaKind`], so the logic exists once.

use crate::error::{Error, Result};
use crate::options::Options;
use apimachinery::labels::Selector;
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::{PodTemplateSpec, ReplicationController};
use kube::Resource;
use serde::de::DeserializeOwned;
use std::fmt::Debug;

/// What the controller reads from the spec.
pub struct SpecView {
    pub selector: Selector,
    pub replicas: i32,
    pub min_ready_seconds: i32,
    pub template: PodTemplateSpec,
}

pub trait ReplicaKind:
    Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
    + Clone
    + Debug
    + DeserializeOwned
    + Send
    + Sync
    + 'static
{
    /// Upstream's controller name (`--controllers`, metrics).
    const CONTROLLER: &'static str;
    /// `source.component` of the Events it records.
    const COMPONENT: &'static str;
    fn spec_view(&self) -> Result<SpecView>;
    /// The status as JSON (same field names for both kinds).
    fn status_json(&self) -> serde_json::Value;
    fn concurrency(options: &Options) -> u16;
}

fn selector_error(e: apimachinery::labels::SelectorError) -> Error {
    Error::invalid("selector", e.0)
}

impl ReplicaKind for ReplicaSet {
    const CONTROLLER: &'static str = "replicaset";
    const COMPONENT: &'static str = "replicaset-controller";

    fn spec_view(&self) -> Result<SpecView> {
        let spec = self.spec.as_ref().ok_or(Error::Missing("spec"))?;
        let selector = Selector::from_label_selector(&serde_json::to_value(&spec.selector)?)
            .map_err(selector_error)?;
        Ok(SpecView {
            selector,
            replicas: spec.replicas.unwrap_or(1),
            min_ready_seconds: spec.min_ready_seconds.unwrap_or(0),
            template: spec.template.clone().unwrap_or_default(),
        })
    }

    fn status_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.status).unwrap_or_default()
    }

    fn concurrency(options: &Options) -> u16 {
        options.concurrent_replicaset_syncs
    }
}

impl ReplicaKind for ReplicationController {
    const CONTROLLER: &'static str = "replicationcontroller";
    const COMPONENT: &'static str = "replication-controller";

    fn spec_view(&self) -> Result<SpecView> {
        let spec = self.spec.as_ref().ok_or(Error::Missing("spec"))?;
        let template = spec.template.clone().unwrap_or_default();
        // An RC without a selector selects its template's labels.
        let labels = match &spec.selector {
            Some(s) if !s.is_empty() => s.clone(),
            _ => template
                .metadata
                .as_ref()
                .and_then(|m| m.labels.clone())
                .unwrap_or_default(),
        };
        if labels.is_empty() {
            return Err(Error::invalid("selector", "empty selector"));
        }
        let selector = Selector::from_map(&labels).map_err(selector_error)?;
        Ok(SpecView {
            selector,
            replicas: spec.replicas.unwrap_or(1),
            min_ready_seconds: spec.min_ready_seconds.unwrap_or(0),
            template,
        })
    }

    fn status_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.status).unwrap_or_default()
    }

    fn concurrency(options: &Options) -> u16 {
        options.concurrent_rc_syncs
    }
}
