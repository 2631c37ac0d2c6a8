//! RBAC escalation prevention: a user may only write a Role/ClusterRole
//! whose rules they already hold, and may only bind a role whose rules they
//! hold or that they may `bind`. `system:masters` is exempt, as upstream.

use super::request::RequestInfo;
use crate::authn::UserInfo;
use crate::rbac_cache::RbacCache;
use crate::resources::ResourceDef;
use crate::status::ApiError;
use serde_json::{Value, json};

fn strings(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(String::from))
        .collect()
}

fn has(list: &[String], v: &str) -> bool {
    list.iter().any(|x| x == v || x == "*")
}

/// Does some owned rule cover this one resource permission?
fn covered(owned: &[Value], verb: &str, group: &str, resource: &str, name: Option<&str>) -> bool {
    owned.iter().any(|r| {
        let names = strings(r, "resourceNames");
        has(&strings(r, "verbs"), verb)
            && has(&strings(r, "apiGroups"), group)
            && (has(&strings(r, "resources"), resource)
                || resource.split_once('/').is_some_and(|(_, sub)| {
                    strings(r, "resources")
                        .iter()
                        .any(|x| x == &format!("*/{sub}"))
                }))
            && (names.is_empty() || name.is_some_and(|n| names.iter().any(|x| x == n)))
    })
}

fn url_covered(owned: &[Value], verb: &str, url: &str) -> bool {
    owned.iter().any(|r| {
        has(&strings(r, "verbs"), verb)
            && strings(r, "nonResourceURLs").iter().any(|u| {
                u == url || u == "*" || u.strip_suffix('*').is_some_and(|p| url.starts_with(p))
            })
    })
}

/// The rules in `wanted` not covered by `owned`, in upstream's display form.
pub fn uncovered(owned_resource: &[Value], owned_urls: &[Value], wanted: &[Value]) -> Vec<String> {
    let mut missing = Vec::new();
    for rule in wanted {
        let urls = strings(rule, "nonResourceURLs");
        let verbs = strings(rule, "verbs");
        if !urls.is_empty() {
            for u in &urls {
                for v in &verbs {
                    if !url_covered(owned_urls, v, u) {
                        missing.push(format!("{{NonResourceURLs:[\"{u}\"], Verbs:[\"{v}\"]}}"));
                    }
                }
            }
            continue;
        }
        let names = strings(rule, "resourceNames");
        let name_list: Vec<Option<&str>> = if names.is_empty() {
            vec![None]
        } else {
            names.iter().map(|n| Some(n.as_str())).collect()
        };
        for g in strings(rule, "apiGroups") {
            for res in strings(rule, "resources") {
                for v in &verbs {
                    for n in &name_list {
                        if !covered(owned_resource, v, &g, &res, *n) {
                            let names = n
                                .map(|n| format!(", ResourceNames:[\"{n}\"]"))
                                .unwrap_or_default();
                            missing.push(format!("{{APIGroups:[\"{g}\"], Resources:[\"{res}\"]{names}, Verbs:[\"{v}\"]}}"));
                        }
                    }
                }
            }
        }
    }
    missing
}

fn forbidden(def: &ResourceDef, name: &str, user: &UserInfo, detail: String) -> ApiError {
    let groups: Vec<String> = user.groups.iter().map(|g| format!("\"{g}\"")).collect();
    let mut e = ApiError::forbidden(format!(
        "{}.{} \"{name}\" is forbidden: user \"{}\" (groups=[{}]) is attempting to grant RBAC permissions not currently held:\n{detail}",
        def.plural,
        def.group,
        user.name,
        groups.join(" ")
    ));
    e.details = json!({"name": name, "group": def.group, "kind": def.plural});
    e
}

/// Checks a Role/ClusterRole/RoleBinding/ClusterRoleBinding about to be
/// written in namespace `ns` by `user`.
pub fn check(
    rbac: &RbacCache,
    user: &UserInfo,
    def: &ResourceDef,
    ns: &str,
    obj: &Value,
) -> Result<(), ApiError> {
    if def.group != "rbac.authorization.k8s.io" || user.groups.iter().any(|g| g == "system:masters")
    {
        return Ok(());
    }
    let name = crate::registry::meta::name(obj);
    let (owned, owned_urls) = rbac.rules_for(user, ns);
    match def.plural {
        "roles" | "clusterroles" => {
            // The `escalate` verb on the role allows any rules in it.
            let escalate = RequestInfo {
                is_resource_request: true,
                verb: "escalate".into(),
                api_group: "rbac.authorization.k8s.io".into(),
                resource: def.plural.into(),
                name: name.into(),
                namespace: ns.into(),
                ..Default::default()
            };
            if rbac.authorize(user, &escalate).is_ok() {
                return Ok(());
            }
            let wanted: Vec<Value> = obj
                .get("rules")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let missing = uncovered(&owned, &owned_urls, &wanted);
            if missing.is_empty() {
                Ok(())
            } else {
                Err(forbidden(def, name, user, missing.join("\n")))
            }
        }
        "rolebindings" | "clusterrolebindings" => {
            let kind = obj
                .pointer("/roleRef/kind")
                .and_then(Value::as_str)
                .unwrap_or("");
            let role = obj
                .pointer("/roleRef/name")
                .and_then(Value::as_str)
                .unwrap_or("");
            let (role_resource, role_ns) = if kind == "ClusterRole" {
                ("clusterroles", "")
            } else {
                ("roles", ns)
            };
            // The `bind` verb on the referenced role allows binding it.
            let bind = RequestInfo {
                is_resource_request: true,
                verb: "bind".into(),
                api_group: "rbac.authorization.k8s.io".into(),
                resource: role_resource.into(),
                name: role.into(),
                namespace: role_ns.into(),
                ..Default::default()
            };
            if rbac.authorize(user, &bind).is_ok() {
                return Ok(());
            }
            let rules = rbac.role_rules(kind, role_ns, role);
            let missing = uncovered(&owned, &owned_urls, &rules);
            if missing.is_empty() {
                Ok(())
            } else {
                Err(forbidden(def, name, user, missing.join("\n")))
            }
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_follows_wildcards_and_names() {
        let owned = vec![
            json!({"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods", "configmaps"]}),
        ];
        let fine = vec![
            json!({"verbs": ["get"], "apiGroups": [""], "resources": ["pods"], "resourceNames": ["a"]}),
        ];
        assert!(uncovered(&owned, &[], &fine).is_empty());
        let more =
            vec![json!({"verbs": ["get", "delete"], "apiGroups": [""], "resources": ["secrets"]})];
        assert_eq!(uncovered(&owned, &[], &more).len(), 2);
        let star = vec![json!({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]})];
        assert!(uncovered(&star, &[], &more).is_empty());
        // A wildcard asked for needs a wildcard held.
        assert_eq!(
            uncovered(
                &owned,
                &[],
                &[json!({"verbs": ["*"], "apiGroups": [""], "resources": ["pods"]})]
            )
            .len(),
            1
        );
        let urls = vec![json!({"verbs": ["get"], "nonResourceURLs": ["/healthz/*"]})];
        assert!(
            uncovered(
                &[],
                &urls,
                &[json!({"verbs": ["get"], "nonResourceURLs": ["/healthz/etcd"]})]
            )
            .is_empty()
        );
    }
}
