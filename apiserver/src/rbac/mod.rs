//! RBAC authorisation, evaluated the way upstream's RBAC authorizer does: every
//! ClusterRoleBinding, plus the RoleBindings of the request's namespace, whose
//! subjects include the user contribute their role's rules; the request is
//! allowed as soon as one rule covers it. RBAC never denies outright: without a
//! matching rule it has no opinion, and the apiserver answers 403 with
//! [`forbidden_message`].
//!
//! The objects come from a [`PolicySource`] (the apiserver's store), so this
//! module knows nothing about etcd. [`bootstrap`] holds the default policy the
//! apiserver writes at start-up.

pub mod bootstrap;
mod rules;

#[cfg(test)]
mod tests;

pub use rules::rule_allows;
use serde_json::Value;

/// What a request wants to do, as the authorizer sees it (upstream's authorizer.Attributes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attributes {
    /// Authenticated user name (`system:anonymous` when unauthenticated).
    pub user: String,
    /// The user's groups (`system:authenticated`, `system:masters`, ...).
    pub groups: Vec<String>,
    /// get, list, watch, create, update, patch, delete, deletecollection, or a special verb.
    pub verb: String,
    /// "" for the core group.
    pub api_group: String,
    /// Plural resource name ("pods").
    pub resource: String,
    /// "status", "log", "binding", ... or "".
    pub subresource: String,
    /// Object name, "" for list/create-without-name.
    pub name: String,
    /// "" for cluster-scoped requests.
    pub namespace: String,
    /// False for non-resource URLs such as `/healthz`.
    pub resource_request: bool,
    /// Request path, used for non-resource requests.
    pub path: String,
}

/// An authorizer's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// An explicit refusal with its reason (RBAC itself never gives one).
    Deny(String),
    NoOpinion,
}

/// Where the RBAC objects come from (the apiserver implements this over its store/cache).
pub trait PolicySource {
    fn cluster_role(&self, name: &str) -> Option<Value>;
    fn role(&self, namespace: &str, name: &str) -> Option<Value>;
    fn cluster_role_bindings(&self) -> Vec<Value>;
    fn role_bindings(&self, namespace: &str) -> Vec<Value>;
}

/// Upstream's RBAC rule evaluation: Allow when a bound rule covers the request,
/// NoOpinion otherwise.
pub fn authorize(attrs: &Attributes, policy: &dyn PolicySource) -> Decision {
    authorize_with_reason(attrs, policy).0
}

/// Like [`authorize`], plus upstream's reason text for a refusal: empty, or
/// `RBAC: clusterrole.rbac.authorization.k8s.io "x" not found` when a binding points at a
/// missing role. The apiserver appends it to the forbidden message after `": "`.
pub fn authorize_with_reason(attrs: &Attributes, policy: &dyn PolicySource) -> (Decision, String) {
    let mut errors: Vec<String> = Vec::new();
    let mut bindings: Vec<(Value, &str)> = policy
        .cluster_role_bindings()
        .into_iter()
        .map(|b| (b, ""))
        .collect();
    if !attrs.namespace.is_empty() {
        bindings.extend(
            policy
                .role_bindings(&attrs.namespace)
                .into_iter()
                .map(|b| (b, attrs.namespace.as_str())),
        );
    }
    for (binding, namespace) in &bindings {
        if !binding_applies(attrs, binding, namespace) {
            continue;
        }
        match role_rules(policy, binding.get("roleRef"), namespace) {
            Ok(rules) => {
                if rules.iter().any(|r| rule_allows(attrs, r)) {
                    return (Decision::Allow, String::new());
                }
            }
            Err(e) => errors.push(e),
        }
    }
    let reason = match errors.len() {
        0 => String::new(),
        1 => format!("RBAC: {}", errors[0]),
        _ => format!("RBAC: [{}]", errors.join(", ")),
    };
    (Decision::NoOpinion, reason)
}

/// Whether one of the binding's subjects is this user. A ServiceAccount subject without a
/// namespace means the binding's own namespace (never matches in a ClusterRoleBinding).
fn binding_applies(attrs: &Attributes, binding: &Value, namespace: &str) -> bool {
    let Some(subjects) = binding.get("subjects").and_then(Value::as_array) else {
        return false;
    };
    subjects.iter().any(|s| {
        let name = s.get("name").and_then(Value::as_str).unwrap_or_default();
        match s.get("kind").and_then(Value::as_str).unwrap_or_default() {
            "User" => attrs.user == name,
            "Group" => attrs.groups.iter().any(|g| g == name),
            "ServiceAccount" => {
                let sa_ns = s
                    .get("namespace")
                    .and_then(Value::as_str)
                    .filter(|n| !n.is_empty())
                    .unwrap_or(namespace);
                !sa_ns.is_empty() && attrs.user == service_account_username(sa_ns, name)
            }
            _ => false,
        }
    })
}

/// The user name a service account authenticates as.
pub fn service_account_username(namespace: &str, name: &str) -> String {
    format!("system:serviceaccount:{namespace}:{name}")
}

/// The rules of the role a binding references; upstream's NotFound text when missing.
fn role_rules(
    policy: &dyn PolicySource,
    role_ref: Option<&Value>,
    namespace: &str,
) -> Result<Vec<Value>, String> {
    let kind = role_ref
        .and_then(|r| r.get("kind"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let name = role_ref
        .and_then(|r| r.get("name"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let role = match kind {
        "ClusterRole" => policy
            .cluster_role(name)
            .ok_or_else(|| format!("clusterrole.rbac.authorization.k8s.io \"{name}\" not found"))?,
        "Role" => policy
            .role(namespace, name)
            .ok_or_else(|| format!("role.rbac.authorization.k8s.io \"{name}\" not found"))?,
        other => return Err(format!("unsupported role reference kind: \"{other}\"")),
    };
    Ok(role
        .get("rules")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default())
}

/// Upstream's forbidden text: `User "x" cannot list resource "pods" in API group "" in the
/// namespace "default"`, `... at the cluster scope`, or `User "x" cannot get path "/foo"`.
pub fn forbidden_message(attrs: &Attributes) -> String {
    let user = &attrs.user;
    let verb = &attrs.verb;
    if !attrs.resource_request {
        return format!("User \"{user}\" cannot {verb} path \"{}\"", attrs.path);
    }
    let mut resource = attrs.resource.clone();
    if !attrs.subresource.is_empty() {
        resource = format!("{resource}/{}", attrs.subresource);
    }
    let group = &attrs.api_group;
    if attrs.namespace.is_empty() {
        format!(
            "User \"{user}\" cannot {verb} resource \"{resource}\" in API group \"{group}\" at the cluster scope"
        )
    } else {
        format!(
            "User \"{user}\" cannot {verb} resource \"{resource}\" in API group \"{group}\" in the namespace \"{}\"",
            attrs.namespace
        )
    }
}

/// The whole message of the 403 Status, as upstream's NewForbidden builds it:
/// `pods "web" is forbidden: User ...`, `deployments.apps is forbidden: ...`, or
/// `forbidden: User "x" cannot get path "/foo"`; `reason` (if any) follows after `": "`.
pub fn forbidden_status_message(attrs: &Attributes, reason: &str) -> String {
    let mut detail = forbidden_message(attrs);
    if !reason.is_empty() {
        detail = format!("{detail}: {reason}");
    }
    if !attrs.resource_request || attrs.resource.is_empty() {
        return format!("forbidden: {detail}");
    }
    let qualified = if attrs.api_group.is_empty() {
        attrs.resource.clone()
    } else {
        format!("{}.{}", attrs.resource, attrs.api_group)
    };
    if attrs.name.is_empty() {
        format!("{qualified} is forbidden: {detail}")
    } else {
        format!("{qualified} \"{}\" is forbidden: {detail}", attrs.name)
    }
}
