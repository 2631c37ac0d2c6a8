//! Who may do what under the bootstrap policy, plus user-made bindings.

mod bindings;
mod bootstrap_policy;

use super::*;

/// A policy store in memory: the bootstrap objects plus whatever a test adds.
#[derive(Default)]
struct MemoryPolicy {
    cluster_roles: Vec<Value>,
    roles: Vec<Value>,
    cluster_role_bindings: Vec<Value>,
    role_bindings: Vec<Value>,
}

fn name_of(v: &Value) -> &str {
    v["metadata"]["name"].as_str().unwrap_or_default()
}

fn namespace_of(v: &Value) -> &str {
    v["metadata"]["namespace"].as_str().unwrap_or_default()
}

impl MemoryPolicy {
    fn bootstrap() -> MemoryPolicy {
        MemoryPolicy {
            cluster_roles: bootstrap::cluster_roles(),
            roles: bootstrap::roles(),
            cluster_role_bindings: bootstrap::cluster_role_bindings(),
            role_bindings: bootstrap::role_bindings(),
        }
    }
}

impl MemoryPolicy {
    /// The bootstrap policy after kube-controller-manager's aggregation ran:
    /// each aggregated role gets the rules of the roles whose labels match
    /// its selectors' matchLabels (repeated until nothing changes, since edit
    /// collects view and admin collects edit).
    fn bootstrap_aggregated() -> MemoryPolicy {
        let mut p = Self::bootstrap();
        loop {
            let before = p.cluster_roles.clone();
            for i in 0..p.cluster_roles.len() {
                let selectors = p.cluster_roles[i]["aggregationRule"]["clusterRoleSelectors"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                if selectors.is_empty() {
                    continue;
                }
                let mut rules: Vec<Value> = Vec::new();
                for sel in &selectors {
                    let want = sel["matchLabels"].as_object().cloned().unwrap_or_default();
                    for r in &before {
                        let labels = &r["metadata"]["labels"];
                        if name_of(r) != name_of(&before[i])
                            && want.iter().all(|(k, v)| &labels[k] == v)
                        {
                            for rule in r["rules"].as_array().into_iter().flatten() {
                                if !rules.contains(rule) {
                                    rules.push(rule.clone());
                                }
                            }
                        }
                    }
                }
                p.cluster_roles[i]["rules"] = Value::Array(rules);
            }
            if p.cluster_roles == before {
                return p;
            }
        }
    }
}

impl PolicySource for MemoryPolicy {
    fn cluster_role(&self, name: &str) -> Option<Value> {
        self.cluster_roles
            .iter()
            .find(|r| name_of(r) == name)
            .cloned()
    }
    fn role(&self, namespace: &str, name: &str) -> Option<Value> {
        self.roles
            .iter()
            .find(|r| name_of(r) == name && namespace_of(r) == namespace)
            .cloned()
    }
    fn cluster_role_bindings(&self) -> Vec<Value> {
        self.cluster_role_bindings.clone()
    }
    fn role_bindings(&self, namespace: &str) -> Vec<Value> {
        self.role_bindings
            .iter()
            .filter(|b| namespace_of(b) == namespace)
            .cloned()
            .collect()
    }
}

/// A resource request: `res("alice", &["g"], "list", "apps/deployments", "ns", "name")`;
/// the resource is `[group/]resource[/subresource]` with `core/` for the core group.
fn res(
    user: &str,
    groups: &[&str],
    verb: &str,
    resource: &str,
    ns: &str,
    name: &str,
) -> Attributes {
    let (group, rest) = resource.split_once('/').unwrap_or(("core", resource));
    let (resource, sub) = rest.split_once('/').unwrap_or((rest, ""));
    let mut groups: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
    if user != "system:anonymous" {
        groups.push("system:authenticated".into());
    } else {
        groups.push("system:unauthenticated".into());
    }
    Attributes {
        user: user.into(),
        groups,
        verb: verb.into(),
        api_group: if group == "core" {
            String::new()
        } else {
            group.into()
        },
        resource: resource.into(),
        subresource: sub.into(),
        name: name.into(),
        namespace: ns.into(),
        resource_request: true,
        path: String::new(),
    }
}

fn url(user: &str, verb: &str, path: &str) -> Attributes {
    let group = if user == "system:anonymous" {
        "system:unauthenticated"
    } else {
        "system:authenticated"
    };
    Attributes {
        user: user.into(),
        groups: vec![group.into()],
        verb: verb.into(),
        path: path.into(),
        ..Default::default()
    }
}

const KCM: &str = "system:kube-controller-manager";
const SCHED: &str = "system:kube-scheduler";
const PROXY: &str = "system:kube-proxy";
const ANON: &str = "system:anonymous";
