//! The admission chain: upstream's built-in admission plugins, run by the
//! store on create, update and delete after defaulting. Mutating plugins run
//! first (they may change the object), then the store validates, then the
//! validating plugins run on the final object; all in upstream's order.
//!
//! Plugins are plain functions dispatched by [`Plugin`], so the chain needs
//! no trait objects and each plugin stays a small file with its own tests.

pub mod cache;
mod default_storage_class;
mod default_toleration_seconds;
mod limit_ranger;
mod lookup;
mod namespace_lifecycle;
mod node_restriction;
mod pod_security;
pub mod policy;
mod priority;
mod pvc_resize;
mod resource_quota;
mod runtime_class;
mod service_account;
mod storage_protection;
mod taint_nodes;
pub mod webhook;

use crate::authn::UserInfo;
use crate::registry::Store;
use crate::resources::ResourceDef;
use crate::status::ApiError;
use serde_json::{Value, json};
use std::sync::Mutex;

/// What the request does to the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
}

impl Operation {
    /// The name an AdmissionRequest and admission rules use (`CREATE`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
        }
    }
}

/// Everything a plugin may look at besides the object itself.
pub struct Request<'a> {
    pub operation: Operation,
    pub def: &'a ResourceDef,
    pub namespace: &'a str,
    pub name: &'a str,
    pub subresource: &'a str,
    pub user: &'a UserInfo,
    /// The stored object on update and delete.
    pub old: Option<&'a Value>,
    pub dry_run: bool,
}

impl Request<'_> {
    /// True for `group`/`resource` with no subresource.
    pub fn is(&self, group: &str, resource: &str) -> bool {
        self.def.group == group && self.def.plural == resource && self.subresource.is_empty()
    }
}

/// Upstream's `admission.NewForbidden`: `<resource> "<name>" is forbidden: <why>`.
pub fn forbidden(req: &Request<'_>, why: impl std::fmt::Display) -> ApiError {
    let resource = if req.def.group.is_empty() {
        req.def.plural.to_string()
    } else {
        format!("{}.{}", req.def.plural, req.def.group)
    };
    let mut e = ApiError::forbidden(format!("{resource} \"{}\" is forbidden: {why}", req.name));
    e.details = json!({"name": req.name, "kind": req.def.plural});
    if !req.def.group.is_empty() {
        e.details["group"] = json!(req.def.group);
    }
    e
}

/// The built-in plugins, in upstream's order (`AllOrderedPlugins`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plugin {
    NamespaceLifecycle,
    LimitRanger,
    ServiceAccount,
    NodeRestriction,
    TaintNodesByCondition,
    PodSecurity,
    Priority,
    DefaultTolerationSeconds,
    DefaultStorageClass,
    StorageObjectInUseProtection,
    PersistentVolumeClaimResize,
    RuntimeClass,
    MutatingAdmissionWebhook,
    ValidatingAdmissionPolicy,
    ValidatingAdmissionWebhook,
    ResourceQuota,
}

const ORDERED: [Plugin; 16] = [
    Plugin::NamespaceLifecycle,
    Plugin::LimitRanger,
    Plugin::ServiceAccount,
    Plugin::NodeRestriction,
    Plugin::TaintNodesByCondition,
    Plugin::PodSecurity,
    Plugin::Priority,
    Plugin::DefaultTolerationSeconds,
    Plugin::DefaultStorageClass,
    Plugin::StorageObjectInUseProtection,
    Plugin::PersistentVolumeClaimResize,
    Plugin::RuntimeClass,
    Plugin::MutatingAdmissionWebhook,
    Plugin::ValidatingAdmissionPolicy,
    Plugin::ValidatingAdmissionWebhook,
    Plugin::ResourceQuota,
];

/// Upstream plugins this apiserver knows by name but does not implement
/// (certificate and class plugins, ...): naming them in a
/// flag is accepted, so upstream start lines keep working, and they do
/// nothing.
const KNOWN_NOT_IMPLEMENTED: &[&str] = &[
    "AlwaysAdmit",
    "AlwaysDeny",
    "AlwaysPullImages",
    "CertificateApproval",
    "CertificateSigning",
    "CertificateSubjectRestriction",
    "ClusterTrustBundleAttest",
    "DefaultIngressClass",
    "DenyServiceExternalIPs",
    "EventRateLimit",
    "ExtendedResourceToleration",
    "ImagePolicyWebhook",
    "LimitPodHardAntiAffinityTopology",
    "MutatingAdmissionPolicy",
    "NamespaceAutoProvision",
    "NamespaceExists",
    "OwnerReferencesPermissionEnforcement",
    "PersistentVolumeLabel",
    "PodNodeSelector",
    "PodTolerationRestriction",
    "PodTopologyLabels",
];

impl Plugin {
    pub fn name(self) -> &'static str {
        match self {
            Plugin::NamespaceLifecycle => "NamespaceLifecycle",
            Plugin::LimitRanger => "LimitRanger",
            Plugin::ServiceAccount => "ServiceAccount",
            Plugin::NodeRestriction => "NodeRestriction",
            Plugin::TaintNodesByCondition => "TaintNodesByCondition",
            Plugin::PodSecurity => "PodSecurity",
            Plugin::Priority => "Priority",
            Plugin::DefaultTolerationSeconds => "DefaultTolerationSeconds",
            Plugin::DefaultStorageClass => "DefaultStorageClass",
            Plugin::StorageObjectInUseProtection => "StorageObjectInUseProtection",
            Plugin::PersistentVolumeClaimResize => "PersistentVolumeClaimResize",
            Plugin::RuntimeClass => "RuntimeClass",
            Plugin::MutatingAdmissionWebhook => "MutatingAdmissionWebhook",
            Plugin::ValidatingAdmissionPolicy => "ValidatingAdmissionPolicy",
            Plugin::ValidatingAdmissionWebhook => "ValidatingAdmissionWebhook",
            Plugin::ResourceQuota => "ResourceQuota",
        }
    }

    /// Off unless `--enable-admission-plugins` names it (upstream's
    /// `DefaultOffAdmissionPlugins` among the ones implemented here).
    fn default_on(self) -> bool {
        self != Plugin::NodeRestriction
    }
}

/// A flag named a plugin upstream does not have.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ChainError {
    #[error("{flag} plugin {name:?} is unknown")]
    Unknown { flag: &'static str, name: String },
}

/// The enabled plugins, in order.
#[derive(Debug, Clone)]
pub struct Chain {
    plugins: Vec<Plugin>,
    /// What the plugins read, fed by watches ([`AdmissionCaches::spawn_sync`]).
    pub caches: cache::AdmissionCaches,
}

impl Default for Chain {
    /// Upstream's default-enabled set.
    fn default() -> Self {
        Chain {
            plugins: ORDERED.iter().copied().filter(|p| p.default_on()).collect(),
            caches: cache::AdmissionCaches::default(),
        }
    }
}

fn check_names(flag: &'static str, names: &[String]) -> Result<(), ChainError> {
    for n in names.iter().filter(|n| !n.is_empty()) {
        if !ORDERED.iter().any(|p| p.name() == n) && !KNOWN_NOT_IMPLEMENTED.contains(&n.as_str()) {
            return Err(ChainError::Unknown {
                flag,
                name: n.clone(),
            });
        }
    }
    Ok(())
}

impl Chain {
    /// The default set plus `enable` minus `disable`; the order is always
    /// upstream's, whatever the order in the flags.
    pub fn from_flags(enable: &[String], disable: &[String]) -> Result<Chain, ChainError> {
        check_names("enable-admission-plugins", enable)?;
        check_names("disable-admission-plugins", disable)?;
        let plugins = ORDERED
            .iter()
            .copied()
            .filter(|p| p.default_on() || enable.iter().any(|n| n == p.name()))
            .filter(|p| !disable.iter().any(|n| n == p.name()))
            .collect();
        Ok(Chain {
            plugins,
            caches: cache::AdmissionCaches::default(),
        })
    }

    /// No plugin at all (unit tests of the store).
    pub fn none() -> Chain {
        Chain {
            plugins: Vec::new(),
            caches: cache::AdmissionCaches::default(),
        }
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.plugins.iter().map(|p| p.name()).collect()
    }

    pub fn enabled(&self, p: Plugin) -> bool {
        self.plugins.contains(&p)
    }

    /// The mutating phase: each enabled mutating plugin in order.
    pub async fn admit(
        &self,
        store: &Store,
        req: &Request<'_>,
        obj: &mut Value,
    ) -> Result<(), ApiError> {
        for p in &self.plugins {
            match p {
                // Checked first so a missing namespace is reported as such
                // rather than as a missing service account.
                Plugin::NamespaceLifecycle => namespace_lifecycle::validate(store, req).await?,
                Plugin::LimitRanger => limit_ranger::admit(store, req, obj).await?,
                Plugin::ServiceAccount => service_account::admit(store, req, obj).await?,
                Plugin::TaintNodesByCondition => taint_nodes::admit(req, obj),
                Plugin::Priority => priority::admit(store, req, obj).await?,
                Plugin::DefaultTolerationSeconds => default_toleration_seconds::admit(req, obj),
                Plugin::DefaultStorageClass => {
                    default_storage_class::admit(store, req, obj).await?
                }
                Plugin::StorageObjectInUseProtection => storage_protection::admit(req, obj),
                Plugin::RuntimeClass => runtime_class::admit(store, req, obj).await?,
                Plugin::MutatingAdmissionWebhook => webhook::admit(store, req, obj).await?,
                _ => {}
            }
        }
        Ok(())
    }

    /// The validating phase, on the object as it will be stored (on delete:
    /// the stored object). Returns the warnings to send back.
    pub async fn validate(
        &self,
        store: &Store,
        req: &Request<'_>,
        obj: &Value,
    ) -> Result<Vec<String>, ApiError> {
        let mut warnings = Vec::new();
        for p in &self.plugins {
            match p {
                Plugin::NamespaceLifecycle if req.operation == Operation::Delete => {
                    namespace_lifecycle::validate(store, req).await?
                }
                Plugin::LimitRanger => limit_ranger::validate(store, req, obj).await?,
                Plugin::NodeRestriction => node_restriction::validate(req, obj)?,
                Plugin::PodSecurity => {
                    warnings.extend(pod_security::validate(store, req, obj).await?)
                }
                Plugin::PersistentVolumeClaimResize => {
                    pvc_resize::validate(store, req, obj).await?
                }
                Plugin::RuntimeClass => runtime_class::validate(store, req, obj).await?,
                Plugin::ValidatingAdmissionPolicy => {
                    warnings.extend(policy::validate(store, req, obj).await?)
                }
                Plugin::ValidatingAdmissionWebhook => {
                    warnings.extend(webhook::validate(store, req, obj).await?)
                }
                Plugin::ResourceQuota => resource_quota::validate(store, req, obj).await?,
                _ => {}
            }
        }
        Ok(warnings)
    }
}

/// The requester of one API call and what admission says back to it
/// (`Warning` headers), carried by a per-request view of the store.
#[derive(Debug)]
pub struct RequestScope {
    pub user: UserInfo,
    warnings: Mutex<Vec<String>>,
}

impl RequestScope {
    pub fn new(user: UserInfo) -> Self {
        RequestScope {
            user,
            warnings: Mutex::new(Vec::new()),
        }
    }

    pub fn warn(&self, w: Vec<String>) {
        if let Ok(mut list) = self.warnings.lock() {
            list.extend(w);
        }
    }

    pub fn take_warnings(&self) -> Vec<String> {
        self.warnings
            .lock()
            .map(|mut w| std::mem::take(&mut *w))
            .unwrap_or_default()
    }
}

/// Who the apiserver's own writes (bootstrap) come from.
pub fn loopback_user() -> UserInfo {
    UserInfo {
        name: "system:apiserver".into(),
        uid: String::new(),
        groups: vec!["system:masters".into()],
    }
}

/// A request for unit tests (user: the loopback user unless replaced).
#[cfg(test)]
pub(crate) fn test_request(
    operation: Operation,
    gvr: (&str, &str, &str),
    namespace: &'static str,
    name: &'static str,
) -> Request<'static> {
    let user: &'static UserInfo = Box::leak(Box::new(loopback_user()));
    Request {
        operation,
        def: lookup::def(gvr.0, gvr.1, gvr.2).expect("known resource"),
        namespace,
        name,
        subresource: "",
        user,
        old: None,
        dry_run: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn default_set_is_upstreams_without_node_restriction() {
        let c = Chain::from_flags(&[], &[]).expect("valid");
        assert_eq!(c.names().len(), 15);
        assert!(!c.enabled(Plugin::NodeRestriction));
        assert_eq!(c.names()[0], "NamespaceLifecycle");
        assert_eq!(
            c.names()[10..],
            [
                "RuntimeClass",
                "MutatingAdmissionWebhook",
                "ValidatingAdmissionPolicy",
                "ValidatingAdmissionWebhook",
                "ResourceQuota"
            ]
        );
    }

    #[test]
    fn flags_enable_and_disable_keeping_upstream_order() {
        let c = Chain::from_flags(
            &names(&[
                "ResourceQuota",
                "NodeRestriction",
                "MutatingAdmissionWebhook",
            ]),
            &names(&["LimitRanger", "PodSecurity"]),
        )
        .expect("valid");
        assert!(c.enabled(Plugin::NodeRestriction));
        assert!(!c.enabled(Plugin::LimitRanger));
        assert!(!c.enabled(Plugin::PodSecurity));
        let n = c.names();
        let pos = |x: &str| n.iter().position(|p| *p == x);
        assert!(pos("ServiceAccount") < pos("NodeRestriction"));
        assert!(pos("NodeRestriction") < pos("ResourceQuota"));
    }

    #[test]
    fn unknown_names_are_errors() {
        let e = Chain::from_flags(&names(&["Bogus"]), &[]).expect_err("unknown");
        assert_eq!(
            e.to_string(),
            "enable-admission-plugins plugin \"Bogus\" is unknown"
        );
        assert!(Chain::from_flags(&[], &names(&["Nope"])).is_err());
    }
}
