//! Authorization: `--authorization-mode` (Node, RBAC, AlwaysAllow,
//! AlwaysDeny), asked in order; the first Allow or Deny decides. When none
//! decides, the reasons of those that had no opinion are joined by newlines,
//! as upstream's union authorizer does.

pub mod graph;
pub mod node;

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
    matches!(
        path,
        "/healthz" | "/livez" | "/readyz" | "/version" | "/version/"
    ) || path.starts_with("/healthz/")
        || path.starts_with("/livez/")
        || path.starts_with("/readyz/")
}

pub struct Authorizer {
    pub modes: Vec<Mode>,
    pub rbac: RbacCache,
    /// Judges kubelet identities when `Node` is a configured mode.
    pub node: node::NodeAuthorizer,
}

impl Authorizer {
    pub fn authorize(&self, user: &UserInfo, info: &RequestInfo) -> Decision {
        // system:masters is the superuser group (upstream allows it before
        // any authorizer runs).
        if user.groups.iter().any(|g| g == "system:masters") {
            return Decision::Allow;
        }
        let mut reasons: Vec<String> = Vec::new();
        for m in &self.modes {
            let reason = match m {
                Mode::AlwaysAllow => return Decision::Allow,
                Mode::AlwaysDeny => return Decision::Deny(String::new()),
                Mode::Rbac => match self.rbac.authorize(user, info) {
                    Ok(()) => return Decision::Allow,
                    Err(r) => r,
                },
                Mode::Node => match self.node.authorize(user, info) {
                    Some(node::NodeDecision::Allow) => return Decision::Allow,
                    Some(node::NodeDecision::NoOpinion(r)) => r,
                    None => String::new(),
                },
            };
            if !reason.is_empty() {
                reasons.push(reason);
            }
        }
        Decision::Deny(reasons.join("\n"))
    }
}

impl Authorizer {
    /// Why a rules review cannot list everything `user` may do: the Node
    /// authorizer decides kubelets' requests object by object, so (as
    /// upstream) their rules are reported incomplete.
    pub fn rules_incomplete(&self, user: &UserInfo) -> Option<&'static str> {
        (self.modes.contains(&Mode::Node) && node::node_identity(user).is_some())
            .then_some("node authorizer does not support user rule resolution")
    }
}

/// Upstream's forbidden message for a request (`reason` from RBAC follows).
pub fn forbidden_message(user: &UserInfo, info: &RequestInfo, reason: &str) -> String {
    crate::rbac::forbidden_status_message(&crate::rbac_cache::attributes(user, info), reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse() {
        assert_eq!(
            Mode::parse_list("Node,RBAC").ok(),
            Some(vec![Mode::Node, Mode::Rbac])
        );
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
            forbidden_message(&u, &info, ""),
            "pods is forbidden: User \"bob\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\""
        );
    }

    #[test]
    fn node_users_get_incomplete_rules_and_joined_reasons() {
        let a = Authorizer {
            modes: vec![Mode::Node, Mode::Rbac],
            rbac: RbacCache::default(),
            node: node::NodeAuthorizer::default(),
        };
        let kubelet = UserInfo::authenticated("system:node:n1", "", vec!["system:nodes".into()]);
        assert_eq!(
            a.rules_incomplete(&kubelet),
            Some("node authorizer does not support user rule resolution")
        );
        assert_eq!(
            a.rules_incomplete(&UserInfo::authenticated("bob", "", vec![])),
            None
        );
        let get_secret = RequestInfo {
            is_resource_request: true,
            verb: "get".into(),
            resource: "secrets".into(),
            namespace: "default".into(),
            name: "s".into(),
            ..Default::default()
        };
        // Nothing is bound: the Node reason, RBAC has none to add.
        assert_eq!(
            a.authorize(&kubelet, &get_secret),
            Decision::Deny("no relationship found between node 'n1' and this object".into())
        );
        // Without the Node mode a kubelet is just another RBAC user.
        let rbac_only = Authorizer {
            modes: vec![Mode::Rbac],
            ..a
        };
        assert_eq!(
            rbac_only.authorize(&kubelet, &get_secret),
            Decision::Deny(String::new())
        );
        assert_eq!(rbac_only.rules_incomplete(&kubelet), None);
    }

    #[test]
    fn health_is_public() {
        assert!(is_public_path("/readyz"));
        assert!(is_public_path("/livez/etcd"));
        assert!(!is_public_path("/api"));
    }
}
