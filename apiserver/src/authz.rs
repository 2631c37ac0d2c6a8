//! Authorization: `--authorization-mode` (Node, RBAC, AlwaysAllow,
//! AlwaysDeny), asked in order; the first Allow or Deny decides.

use crate::authn::UserInfo;
use crate::handlers::request::RequestInfo;
use crate::rbac_cache::RbacCache;

/// One configured authorizer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    AlwaysAllow,
    AlwaysDeny,
    Rbac,
    Node,
}

impl Mode {
    pub fn parse_list(s: &str) -> anyhow::Result<Vec<Mode>> {
        s.split(',')
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(|m| match m {
                "AlwaysAllow" => Ok(Mode::AlwaysAllow),
                "AlwaysDeny" => Ok(Mode::AlwaysDeny),
                "RBAC" => Ok(Mode::Rbac),
                "Node" => Ok(Mode::Node),
                other => anyhow::bail!("unknown authorization mode {other:?} (supported: AlwaysAllow, AlwaysDeny, Node, RBAC)"),
            })
            .collect()
    }
}

/// The decision for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny(String),
}

/// Paths anyone (also anonymous) may read, as upstream's
/// `system:public-info-viewer` grants.
pub fn is_public_path(path: &str) -> bool {
    matches!(path, "/healthz" | "/livez" | "/readyz" | "/version" | "/version/")
        || path.starts_with("/healthz/")
        || path.starts_with("/livez/")
        || path.starts_with("/readyz/")
}

pub struct Authorizer {
    pub modes: Vec<Mode>,
    pub rbac: RbacCache,
}

impl Authorizer {
    pub fn authorize(&self, user: &UserInfo, info: &RequestInfo) -> Decision {
        // system:masters is the superuser group (upstream allows it before
        // any authorizer runs).
        if user.groups.iter().any(|g| g == "system:masters") {
            return Decision::Allow;
        }
        for m in &self.modes {
            match m {
                Mode::AlwaysAllow => return Decision::Allow,
                Mode::AlwaysDeny => return Decision::Deny(String::new()),
                Mode::Rbac => {
                    if let Some(d) = self.rbac.authorize(user, info) {
                        return d;
                    }
                }
                Mode::Node => {}
            }
        }
        Decision::Deny(String::new())
    }
}

/// Upstream's forbidden message for a request.
pub fn forbidden_message(user: &UserInfo, info: &RequestInfo) -> String {
    if !info.is_resource_request {
        return format!(
            "forbidden: User \"{}\" cannot {} path \"{}\"",
            user.name, info.verb, info.path
        );
    }
    let resource = if info.subresource.is_empty() {
        info.resource.clone()
    } else {
        format!("{}/{}", info.resource, info.subresource)
    };
    let what = if info.name.is_empty() {
        format!("{} is forbidden", resource_qualified(info))
    } else {
        format!("{} \"{}\" is forbidden", resource_qualified(info), info.name)
    };
    let scope = if info.namespace.is_empty() {
        "at the cluster scope".to_string()
    } else {
        format!("in the namespace \"{}\"", info.namespace)
    };
    format!(
        "{what}: User \"{}\" cannot {} resource \"{resource}\" in API group \"{}\" {scope}",
        user.name, info.verb, info.api_group
    )
}

fn resource_qualified(info: &RequestInfo) -> String {
    if info.api_group.is_empty() {
        info.resource.clone()
    } else {
        format!("{}.{}", info.resource, info.api_group)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse() {
        assert_eq!(Mode::parse_list("Node,RBAC").ok(), Some(vec![Mode::Node, Mode::Rbac]));
        assert!(Mode::parse_list("ABAC").is_err());
    }

    #[test]
    fn forbidden_text_matches_upstream() {
        let u = UserInfo::authenticated("bob", "", vec![]);
        let info = RequestInfo {
            is_resource_request: true,
            verb: "list".into(),
            resource: "pods".into(),
            namespace: "default".into(),
            ..Default::default()
        };
        assert_eq!(
            forbidden_message(&u, &info),
            "pods is forbidden: User \"bob\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\""
        );
    }

    #[test]
    fn health_is_public() {
        assert!(is_public_path("/readyz"));
        assert!(is_public_path("/livez/etcd"));
        assert!(!is_public_path("/api"));
    }
}
