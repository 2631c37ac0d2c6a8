//! The audit.k8s.io/v1 `Policy` (`--audit-policy-file`): which requests are
//! recorded and how much of them. Rules are tried in order; the first rule
//! that matches decides the level, and a request no rule matches is not
//! recorded (level None), as upstream's policy checker does.

use serde::Deserialize;
use std::path::Path;

/// How much of a request an audit event carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Default)]
pub enum Level {
    /// Not recorded.
    #[default]
    None,
    /// Who, what, when, the answer's code: no bodies.
    Metadata,
    /// Metadata plus the request body.
    Request,
    /// Metadata plus request and response bodies.
    RequestResponse,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::None => "None",
            Level::Metadata => "Metadata",
            Level::Request => "Request",
            Level::RequestResponse => "RequestResponse",
        }
    }
}

/// The points in a request's life an event can be written at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Stage {
    RequestReceived,
    ResponseStarted,
    ResponseComplete,
    Panic,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::RequestReceived => "RequestReceived",
            Stage::ResponseStarted => "ResponseStarted",
            Stage::ResponseComplete => "ResponseComplete",
            Stage::Panic => "Panic",
        }
    }
}

/// One `resources` entry of a rule.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupResources {
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub resources: Vec<String>,
    #[serde(default)]
    pub resource_names: Vec<String>,
}

/// One rule; every non-empty list must match.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyRule {
    pub level: Level,
    #[serde(default)]
    pub users: Vec<String>,
    #[serde(default)]
    pub user_groups: Vec<String>,
    #[serde(default)]
    pub verbs: Vec<String>,
    #[serde(default)]
    pub resources: Vec<GroupResources>,
    #[serde(default)]
    pub namespaces: Vec<String>,
    #[serde(default, rename = "nonResourceURLs")]
    pub non_resource_urls: Vec<String>,
    #[serde(default)]
    pub omit_stages: Vec<Stage>,
    #[serde(default)]
    pub omit_managed_fields: Option<bool>,
}

/// The whole policy file.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    #[serde(default)]
    pub api_version: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub rules: Vec<PolicyRule>,
    #[serde(default)]
    pub omit_stages: Vec<Stage>,
    #[serde(default)]
    pub omit_managed_fields: bool,
}

/// What a request looks like to the policy (upstream's authorizer
/// attributes).
#[derive(Debug, Clone, Default)]
pub struct Attributes<'a> {
    pub user: &'a str,
    pub groups: &'a [String],
    pub verb: &'a str,
    pub resource_request: bool,
    pub path: &'a str,
    pub api_group: &'a str,
    pub namespace: &'a str,
    pub resource: &'a str,
    pub subresource: &'a str,
    pub name: &'a str,
}

/// The policy's verdict for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub level: Level,
    /// Stages not to write (policy-wide plus the rule's).
    pub omit_stages: Vec<Stage>,
    pub omit_managed_fields: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("reading audit policy {path}: {err}")]
    Read { path: String, err: std::io::Error },
    #[error("decoding audit policy {path}: {err}")]
    Decode { path: String, err: String },
    #[error("audit policy {path}: {msg}")]
    Invalid { path: String, msg: String },
}

impl Policy {
    /// Reads and checks a policy file (YAML or JSON).
    pub fn load(path: &Path) -> Result<Policy, PolicyError> {
        let p = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|err| PolicyError::Read {
            path: p.clone(),
            err,
        })?;
        Policy::parse(&text).map_err(|e| match e {
            PolicyError::Decode { err, .. } => PolicyError::Decode { path: p, err },
            PolicyError::Invalid { msg, .. } => PolicyError::Invalid { path: p, msg },
            other => other,
        })
    }

    /// Parses policy text; an empty rule list is refused as upstream does
    /// (a policy that records nothing is almost certainly a mistake).
    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        let policy: Policy = serde_yaml::from_str(text).map_err(|e| PolicyError::Decode {
            path: String::new(),
            err: e.to_string(),
        })?;
        let invalid = |msg: String| PolicyError::Invalid {
            path: String::new(),
            msg,
        };
        if policy.kind != "Policy" {
            return Err(invalid(format!("kind {:?} is not Policy", policy.kind)));
        }
        if !matches!(
            policy.api_version.as_str(),
            "audit.k8s.io/v1" | "audit.k8s.io/v1beta1"
        ) {
            return Err(invalid(format!(
                "apiVersion {:?} is not audit.k8s.io/v1",
                policy.api_version
            )));
        }
        if policy.rules.is_empty() {
            return Err(invalid("loaded illegal policy with 0 rules".into()));
        }
        for (i, r) in policy.rules.iter().enumerate() {
            if !r.non_resource_urls.is_empty()
                && (!r.resources.is_empty() || !r.namespaces.is_empty())
            {
                return Err(invalid(format!(
                    "rules[{i}]: rules cannot apply to both regular resources and non-resource URLs"
                )));
            }
        }
        Ok(policy)
    }

    /// The level and omitted stages for a request.
    pub fn evaluate(&self, a: &Attributes) -> Decision {
        for rule in &self.rules {
            if rule.matches(a) {
                let mut omit = self.omit_stages.clone();
                for s in &rule.omit_stages {
                    if !omit.contains(s) {
                        omit.push(*s);
                    }
                }
                return Decision {
                    level: rule.level,
                    omit_stages: omit,
                    omit_managed_fields: rule
                        .omit_managed_fields
                        .unwrap_or(self.omit_managed_fields),
                };
            }
        }
        Decision {
            level: Level::None,
            omit_stages: self.omit_stages.clone(),
            omit_managed_fields: self.omit_managed_fields,
        }
    }
}

fn has(list: &[String], s: &str) -> bool {
    list.iter().any(|x| x == s)
}

impl PolicyRule {
    fn matches(&self, a: &Attributes) -> bool {
        if !self.users.is_empty() && !has(&self.users, a.user) {
            return false;
        }
        if !self.user_groups.is_empty() && !a.groups.iter().any(|g| has(&self.user_groups, g)) {
            return false;
        }
        if !self.verbs.is_empty() && !has(&self.verbs, a.verb) {
            return false;
        }
        if !self.namespaces.is_empty() || !self.resources.is_empty() {
            return self.matches_resource(a);
        }
        if !self.non_resource_urls.is_empty() {
            return !a.resource_request
                && self
                    .non_resource_urls
                    .iter()
                    .any(|spec| path_matches(a.path, spec));
        }
        true
    }

    fn matches_resource(&self, a: &Attributes) -> bool {
        if !a.resource_request {
            return false;
        }
        // `""` in namespaces selects cluster-scoped requests.
        if !self.namespaces.is_empty() && !has(&self.namespaces, a.namespace) {
            return false;
        }
        if self.resources.is_empty() {
            return true;
        }
        let combined = if a.subresource.is_empty() {
            a.resource.to_string()
        } else {
            format!("{}/{}", a.resource, a.subresource)
        };
        self.resources.iter().any(|gr| {
            if gr.group != a.api_group {
                return false;
            }
            if gr.resources.is_empty() {
                return true;
            }
            if !gr.resource_names.is_empty() && !has(&gr.resource_names, a.name) {
                return false;
            }
            gr.resources.iter().any(|res| {
                res == "*"
                    || *res == combined
                    || (!a.subresource.is_empty() && res.strip_prefix("*/") == Some(a.subresource))
                    || res.strip_suffix("/*") == Some(a.resource)
            })
        })
    }
}

/// `nonResourceURLs` entry: exact, `*`, or a prefix ending in `*`.
fn path_matches(path: &str, spec: &str) -> bool {
    spec == "*"
        || spec == path
        || spec
            .strip_suffix('*')
            .is_some_and(|prefix| path.starts_with(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = r#"
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: None
  users: ["system:kube-proxy"]
  verbs: ["watch"]
- level: None
  nonResourceURLs: ["/healthz*", "/version"]
- level: Metadata
  resources:
  - group: ""
    resources: ["secrets", "configmaps"]
  - group: authentication.k8s.io
    resources: ["tokenreviews"]
- level: Request
  resources:
  - group: ""
    resources: ["pods/log", "*/status"]
  omitStages: [ResponseStarted]
- level: RequestResponse
  namespaces: ["audited"]
- level: Request
  userGroups: ["system:serviceaccounts"]
  resources:
  - group: apps
    resources: ["deployments/*"]
    resourceNames: ["web"]
- level: Metadata
  omitManagedFields: true
"#;

    /// (user, groups, verb, (group, ns, resource, sub, name), level)
    type Case<'a> = (
        &'a str,
        &'a Vec<String>,
        &'a str,
        (&'a str, &'a str, &'a str, &'a str, &'a str),
        Level,
    );

    fn attrs<'a>(
        user: &'a str,
        groups: &'a [String],
        verb: &'a str,
        target: (&'a str, &'a str, &'a str, &'a str, &'a str),
    ) -> Attributes<'a> {
        let (group, ns, res, sub, name) = target;
        Attributes {
            user,
            groups,
            verb,
            resource_request: true,
            path: "",
            api_group: group,
            namespace: ns,
            resource: res,
            subresource: sub,
            name,
        }
    }

    #[test]
    fn rules_match_in_order() {
        let p = Policy::parse(POLICY).expect("valid policy");
        let sa = vec!["system:serviceaccounts".to_string()];
        let none: Vec<String> = vec![];
        // (user, groups, verb, (group, ns, resource, sub, name), level)
        let cases: &[Case] = &[
            (
                "system:kube-proxy",
                &none,
                "watch",
                ("", "", "endpoints", "", ""),
                Level::None,
            ),
            (
                "system:kube-proxy",
                &none,
                "list",
                ("", "", "endpoints", "", ""),
                Level::Metadata,
            ),
            (
                "admin",
                &none,
                "get",
                ("", "audited", "secrets", "", "s"),
                Level::Metadata,
            ),
            (
                "admin",
                &none,
                "create",
                ("", "audited", "configmaps", "", ""),
                Level::Metadata,
            ),
            (
                "admin",
                &none,
                "create",
                ("authentication.k8s.io", "", "tokenreviews", "", ""),
                Level::Metadata,
            ),
            (
                "admin",
                &none,
                "get",
                ("", "default", "pods", "log", "p"),
                Level::Request,
            ),
            (
                "admin",
                &none,
                "update",
                ("", "", "nodes", "status", "n"),
                Level::Request,
            ),
            (
                "admin",
                &none,
                "get",
                ("", "audited", "pods", "", "p"),
                Level::RequestResponse,
            ),
            (
                "sa",
                &sa,
                "patch",
                ("apps", "default", "deployments", "scale", "web"),
                Level::Request,
            ),
            (
                "sa",
                &sa,
                "patch",
                ("apps", "default", "deployments", "scale", "other"),
                Level::Metadata,
            ),
            (
                "admin",
                &none,
                "patch",
                ("apps", "default", "deployments", "scale", "web"),
                Level::Metadata,
            ),
        ];
        for (user, groups, verb, target, want) in cases {
            let a = attrs(user, groups, verb, *target);
            assert_eq!(p.evaluate(&a).level, *want, "{user} {verb} {target:?}");
        }
    }

    #[test]
    fn non_resource_urls_and_stages() {
        let p = Policy::parse(POLICY).expect("valid policy");
        let groups: Vec<String> = vec![];
        let mut a = Attributes {
            user: "admin",
            groups: &groups,
            verb: "get",
            path: "/healthz/etcd",
            ..Default::default()
        };
        assert_eq!(p.evaluate(&a).level, Level::None);
        a.path = "/version";
        assert_eq!(p.evaluate(&a).level, Level::None);
        a.path = "/version/x";
        let d = p.evaluate(&a);
        assert_eq!(d.level, Level::Metadata);
        assert!(d.omit_managed_fields);
        assert_eq!(d.omit_stages, vec![Stage::RequestReceived]);
        let pods_log = attrs("admin", &groups, "get", ("", "d", "pods", "log", "p"));
        assert_eq!(
            p.evaluate(&pods_log).omit_stages,
            vec![Stage::RequestReceived, Stage::ResponseStarted]
        );
    }

    #[test]
    fn no_match_is_level_none() {
        let p = Policy::parse(
            "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n  verbs: [delete]\n",
        )
        .expect("valid");
        let g: Vec<String> = vec![];
        let a = attrs("u", &g, "get", ("", "d", "pods", "", "p"));
        assert_eq!(p.evaluate(&a).level, Level::None);
    }

    #[test]
    fn bad_policies_are_refused() {
        for text in [
            "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: []\n",
            "apiVersion: v1\nkind: Policy\nrules:\n- level: None\n",
            "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Loud\n",
            "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: None\n  nonResourceURLs: [/x]\n  namespaces: [a]\n",
            "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: None\n  user: [a]\n",
        ] {
            assert!(Policy::parse(text).is_err(), "accepted: {text}");
        }
    }

    /// The example policy shipped in supervisord/: credentials never above
    /// Metadata, whoever asks and however.
    #[test]
    fn shipped_policy_keeps_credentials_at_metadata() {
        let p = Policy::parse(include_str!("../../../supervisord/audit-policy.yaml"))
            .expect("shipped policy parses");
        let groups = vec!["system:masters".to_string()];
        for verb in [
            "get", "list", "watch", "create", "update", "patch", "delete",
        ] {
            for (group, res) in [
                ("", "secrets"),
                ("", "configmaps"),
                ("authentication.k8s.io", "tokenreviews"),
            ] {
                let a = attrs("admin", &groups, verb, (group, "default", res, "", "x"));
                assert!(p.evaluate(&a).level <= Level::Metadata, "{verb} {res}");
            }
        }
        let create = attrs(
            "admin",
            &groups,
            "create",
            ("apps", "d", "deployments", "", ""),
        );
        assert_eq!(p.evaluate(&create).level, Level::Request);
    }

    #[test]
    fn path_specs() {
        assert!(path_matches("/anything", "*"));
        assert!(path_matches("/healthz", "/healthz*"));
        assert!(path_matches("/healthz/etcd", "/healthz/*"));
        assert!(!path_matches("/healthz", "/healthz/*"));
        assert!(!path_matches("/version/x", "/version"));
    }
}
