//! PodSecurity: namespaces choose a Pod Security Standard level with the
//! `pod-security.kubernetes.io/enforce|warn|audit` labels; pods that break
//! the enforced level are refused, the warn level comes back as `Warning`
//! headers. The baseline and restricted checks are upstream's, with their
//! messages; violations are listed in the order of upstream's check IDs.

use super::{Operation, Request, forbidden, lookup};
use crate::registry::Store;
use crate::status::ApiError;
use serde_json::Value;

const LABEL: &str = "pod-security.kubernetes.io/";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Privileged,
    Baseline,
    Restricted,
}

impl Level {
    fn parse(s: &str) -> Option<Level> {
        match s {
            "privileged" => Some(Level::Privileged),
            "baseline" => Some(Level::Baseline),
            "restricted" => Some(Level::Restricted),
            _ => None,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Level::Privileged => "privileged",
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        }
    }
}

mod checks;

pub use checks::violations;

/// Where workload kinds keep their pod template: PodSecurity warns and
/// audits templates but never refuses a workload (its pods are refused).
const TEMPLATES: &[(&str, &str, &str)] = &[
    ("", "podtemplates", "/template"),
    ("", "replicationcontrollers", "/spec/template"),
    ("apps", "deployments", "/spec/template"),
    ("apps", "daemonsets", "/spec/template"),
    ("apps", "statefulsets", "/spec/template"),
    ("apps", "replicasets", "/spec/template"),
    ("batch", "jobs", "/spec/template"),
    ("batch", "cronjobs", "/spec/jobTemplate/spec/template"),
];

/// The audit annotation carrying what the audit level found.
const AUDIT_ANNOTATION: &str = "pod-security.kubernetes.io/audit-violations";
/// The audit annotation naming the enforced policy.
const ENFORCE_ANNOTATION: &str = "pod-security.kubernetes.io/enforce-policy";

pub async fn validate(
    store: &Store,
    req: &Request<'_>,
    obj: &Value,
) -> Result<Vec<String>, ApiError> {
    if !matches!(req.operation, Operation::Create | Operation::Update)
        || !req.subresource.is_empty()
    {
        return Ok(Vec::new());
    }
    let target = if req.is("", "pods") {
        // Updates of a pod only change images and the like; upstream
        // re-checks them, but a create is where a spec is decided.
        if req.operation != Operation::Create {
            return Ok(Vec::new());
        }
        Target::Pod(obj)
    } else if let Some((_, _, path)) = TEMPLATES.iter().find(|(g, p, _)| req.is(g, p)) {
        match obj.pointer(path) {
            Some(t) if !t.is_null() => Target::Template(t),
            _ => return Ok(Vec::new()),
        }
    } else {
        return Ok(Vec::new());
    };
    let Some(ns) = lookup::namespace(store, req.namespace).await? else {
        return Ok(Vec::new());
    };
    let decision = evaluate(&ns, target);
    for (k, v) in &decision.audit_annotations {
        crate::audit::note_annotation(k, v);
    }
    match decision.refusal {
        Some(msg) => Err(forbidden(req, msg)),
        None => Ok(decision.warnings),
    }
}

/// What is checked: a pod (all three modes) or a workload's pod template
/// (warn and audit only).
#[derive(Clone, Copy)]
enum Target<'a> {
    Pod(&'a Value),
    Template(&'a Value),
}

/// The outcome of the three modes for one object.
#[derive(Debug, Default, PartialEq)]
struct Decision {
    refusal: Option<String>,
    warnings: Vec<String>,
    audit_annotations: Vec<(String, String)>,
}

/// A mode's level and version; None when the namespace does not set it.
/// A `-version` label is echoed in messages (`latest` by default); checks
/// are always the latest ones, which only ever tighten.
fn mode_level(ns: &Value, mode: &str) -> Option<(Level, String)> {
    let labels = ns.pointer("/metadata/labels");
    let get = |k: &str| {
        labels
            .and_then(|l| l.get(format!("{LABEL}{k}")))
            .and_then(Value::as_str)
    };
    let version = get(&format!("{mode}-version"))
        .filter(|v| !v.is_empty())
        .unwrap_or("latest")
        .to_string();
    get(mode).and_then(Level::parse).map(|l| (l, version))
}

/// `"<reason (detail)>, ..."` for `level`, None when the object passes.
fn failures(obj: &Value, level: Level) -> Option<String> {
    let v = violations(obj, level);
    (!v.is_empty()).then(|| v.join(", "))
}

/// The pure decision for one object in a namespace.
fn evaluate(ns: &Value, target: Target<'_>) -> Decision {
    let mut d = Decision::default();
    let (obj, is_pod) = match target {
        Target::Pod(p) => (p, true),
        Target::Template(t) => (t, false),
    };
    if is_pod && let Some((level, version)) = mode_level(ns, "enforce") {
        let policy = format!("{}:{version}", level.name());
        d.audit_annotations
            .push((ENFORCE_ANNOTATION.to_string(), policy.clone()));
        if let Some(f) = failures(obj, level) {
            d.refusal = Some(format!("violates PodSecurity \"{policy}\": {f}"));
            return d;
        }
    }
    if let Some((level, version)) = mode_level(ns, "warn")
        && let Some(f) = failures(obj, level)
    {
        d.warnings.push(format!(
            "would violate PodSecurity \"{}:{version}\": {f}",
            level.name()
        ));
    }
    if let Some((level, version)) = mode_level(ns, "audit")
        && let Some(f) = failures(obj, level)
    {
        d.audit_annotations.push((
            AUDIT_ANNOTATION.to_string(),
            format!(
                "would violate PodSecurity \"{}:{version}\": {f}",
                level.name()
            ),
        ));
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ns(labels: Value) -> Value {
        json!({"metadata": {"name": "secure", "labels": labels}})
    }

    fn default_pod() -> Value {
        json!({"spec": {"containers": [{"name": "nginx", "image": "nginx"}]}})
    }

    const RESTRICTED_NGINX: &str = "allowPrivilegeEscalation != false (container \"nginx\" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container \"nginx\" must set securityContext.capabilities.drop=[\"ALL\"]), runAsNonRoot != true (pod or container \"nginx\" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container \"nginx\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")";

    #[test]
    fn restricted_refuses_a_default_pod_with_upstreams_message() {
        let d = evaluate(
            &ns(json!({"pod-security.kubernetes.io/enforce": "restricted"})),
            Target::Pod(&default_pod()),
        );
        assert_eq!(
            d.refusal.as_deref(),
            Some(
                format!("violates PodSecurity \"restricted:latest\": {RESTRICTED_NGINX}").as_str()
            )
        );
        let good = json!({"spec": {"securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}}, "containers": [{"name": "nginx", "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}]}});
        let d = evaluate(
            &ns(json!({"pod-security.kubernetes.io/enforce": "restricted"})),
            Target::Pod(&good),
        );
        assert_eq!(d.refusal, None);
        assert!(d.warnings.is_empty());
    }

    #[test]
    fn modes_versions_and_templates() {
        let labels = json!({
            "pod-security.kubernetes.io/enforce": "baseline",
            "pod-security.kubernetes.io/enforce-version": "v1.32",
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/audit": "restricted",
            "pod-security.kubernetes.io/audit-version": "v1.30",
        });
        let want_warn =
            format!("would violate PodSecurity \"restricted:latest\": {RESTRICTED_NGINX}");
        let d = evaluate(&ns(labels.clone()), Target::Pod(&default_pod()));
        assert_eq!(d.refusal, None, "baseline admits the pod");
        assert_eq!(d.warnings, vec![want_warn.clone()]);
        assert_eq!(
            d.audit_annotations,
            vec![
                (ENFORCE_ANNOTATION.to_string(), "baseline:v1.32".to_string()),
                (
                    AUDIT_ANNOTATION.to_string(),
                    format!("would violate PodSecurity \"restricted:v1.30\": {RESTRICTED_NGINX}")
                ),
            ]
        );
        // A template is never refused, even when enforce would refuse it.
        let privileged = json!({"spec": {"containers": [{"name": "nginx", "securityContext": {"privileged": true}}]}});
        let d = evaluate(
            &ns(json!({"pod-security.kubernetes.io/enforce": "baseline"})),
            Target::Template(&privileged),
        );
        assert_eq!(d, Decision::default());
        let d = evaluate(
            &ns(json!({"pod-security.kubernetes.io/warn": "baseline"})),
            Target::Template(&privileged),
        );
        assert_eq!(
            d.warnings,
            vec!["would violate PodSecurity \"baseline:latest\": privileged (container \"nginx\" must not set securityContext.privileged=true)".to_string()]
        );
        // Unknown levels are ignored; privileged admits anything.
        let d = evaluate(
            &ns(
                json!({"pod-security.kubernetes.io/enforce": "strict", "pod-security.kubernetes.io/warn": "privileged"}),
            ),
            Target::Pod(&privileged),
        );
        assert_eq!(d, Decision::default());
    }
}
