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

pub async fn validate(
    store: &Store,
    req: &Request<'_>,
    obj: &Value,
) -> Result<Vec<String>, ApiError> {
    if req.operation != Operation::Create || !req.is("", "pods") {
        return Ok(Vec::new());
    }
    let Some(ns) = lookup::namespace(store, req.namespace).await? else {
        return Ok(Vec::new());
    };
    evaluate(req, &ns, obj)
}

fn mode_level(ns: &Value, mode: &str) -> (Option<Level>, String) {
    let labels = ns.pointer("/metadata/labels");
    let get = |k: &str| {
        labels
            .and_then(|l| l.get(format!("{LABEL}{k}")))
            .and_then(Value::as_str)
    };
    let version = get(&format!("{mode}-version"))
        .unwrap_or("latest")
        .to_string();
    (get(mode).and_then(Level::parse), version)
}

/// The pure decision: Err when the enforce level is broken, else warnings.
fn evaluate(req: &Request<'_>, ns: &Value, pod: &Value) -> Result<Vec<String>, ApiError> {
    let (enforce, ev) = mode_level(ns, "enforce");
    if let Some(level) = enforce {
        let v = violations(pod, level);
        if !v.is_empty() {
            return Err(forbidden(
                req,
                format!(
                    "violates PodSecurity \"{}:{ev}\": {}",
                    level.name(),
                    v.join(", ")
                ),
            ));
        }
    }
    let (warn, wv) = mode_level(ns, "warn");
    Ok(match warn {
        Some(level) => {
            let v = violations(pod, level);
            if v.is_empty() {
                Vec::new()
            } else {
                vec![format!(
                    "would violate PodSecurity \"{}:{wv}\": {}",
                    level.name(),
                    v.join(", ")
                )]
            }
        }
        None => Vec::new(),
    })
}

fn containers(pod: &Value) -> Vec<&Value> {
    ["initContainers", "containers", "ephemeralContainers"]
        .iter()
        .filter_map(|k| pod.pointer(&format!("/spec/{k}")).and_then(Value::as_array))
        .flatten()
        .collect()
}

fn cname(c: &Value) -> &str {
    c.get("name").and_then(Value::as_str).unwrap_or("")
}

/// `container "a"` or `containers "a", "b"`.
fn named(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
    if names.len() == 1 {
        format!("container {}", quoted[0])
    } else {
        format!("containers {}", quoted.join(", "))
    }
}

fn pod_or_named(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
    if names.len() == 1 {
        format!("pod or container {}", quoted[0])
    } else {
        format!("pod or containers {}", quoted.join(", "))
    }
}

fn sc<'a>(c: &'a Value, field: &str) -> Option<&'a Value> {
    c.get("securityContext").and_then(|s| s.get(field))
}

/// Capabilities a baseline pod may add.
const BASELINE_CAPS: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// Every violation of `level`, as `check (detail)` strings in ID order.
pub fn violations(pod: &Value, level: Level) -> Vec<String> {
    if level == Level::Privileged {
        return Vec::new();
    }
    let cs = containers(pod);
    let spec = pod.get("spec").cloned().unwrap_or(Value::Null);
    let mut out: Vec<(&str, String)> = Vec::new();
    let with = |pred: &dyn Fn(&Value) -> bool| -> Vec<&str> {
        cs.iter().filter(|c| pred(c)).map(|c| cname(c)).collect()
    };
    let restricted = level == Level::Restricted;

    if restricted {
        let bad =
            with(&|c| sc(c, "allowPrivilegeEscalation").and_then(Value::as_bool) != Some(false));
        if !bad.is_empty() {
            out.push(("allowPrivilegeEscalation", format!("allowPrivilegeEscalation != false ({} must set securityContext.allowPrivilegeEscalation=false)", named(&bad))));
        }
    }
    // Baseline: added capabilities beyond the default set.
    let mut added: Vec<String> = Vec::new();
    let bad = with(&|c| {
        sc(c, "capabilities")
            .and_then(|k| k.get("add"))
            .and_then(Value::as_array)
            .is_some_and(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .any(|cap| !BASELINE_CAPS.contains(&cap))
            })
    });
    for c in &cs {
        for cap in sc(c, "capabilities")
            .and_then(|k| k.get("add"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !BASELINE_CAPS.contains(&cap) && !added.iter().any(|a| a == cap) {
                added.push(cap.to_string());
            }
        }
    }
    if !bad.is_empty() {
        let caps: Vec<String> = added.iter().map(|c| format!("{c:?}")).collect();
        out.push(("capabilities_baseline", format!("non-default capabilities ({} must not include {} in securityContext.capabilities.add)", named(&bad), caps.join(", "))));
    }
    if restricted {
        let bad = with(&|c| {
            let caps = sc(c, "capabilities");
            let drops_all = caps
                .and_then(|k| k.get("drop"))
                .and_then(Value::as_array)
                .is_some_and(|d| d.iter().any(|x| x.as_str() == Some("ALL")));
            let adds_only_bind = caps
                .and_then(|k| k.get("add"))
                .and_then(Value::as_array)
                .is_none_or(|a| a.iter().all(|x| x.as_str() == Some("NET_BIND_SERVICE")));
            !(drops_all && adds_only_bind)
        });
        if !bad.is_empty() {
            out.push(("capabilities_restricted", format!("unrestricted capabilities ({} must set securityContext.capabilities.drop=[\"ALL\"])", named(&bad))));
        }
    }
    let host: Vec<String> = ["hostNetwork", "hostPID", "hostIPC"]
        .iter()
        .filter(|k| spec.get(**k).and_then(Value::as_bool) == Some(true))
        .map(|k| format!("{k}=true"))
        .collect();
    if !host.is_empty() {
        out.push((
            "hostNamespaces",
            format!("host namespaces ({})", host.join(", ")),
        ));
    }
    let host_paths: Vec<String> = spec
        .get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|v| v.get("hostPath").is_some_and(|h| !h.is_null()))
        .map(|v| format!("{:?}", v.get("name").and_then(Value::as_str).unwrap_or("")))
        .collect();
    if !host_paths.is_empty() {
        let noun = if host_paths.len() == 1 {
            "volume"
        } else {
            "volumes"
        };
        out.push((
            "hostPathVolumes",
            format!("hostPath volumes ({noun} {})", host_paths.join(", ")),
        ));
    }
    let mut port_parts = Vec::new();
    for c in &cs {
        let ports: Vec<String> = c
            .get("ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|p| p.get("hostPort").and_then(Value::as_i64))
            .filter(|p| *p != 0)
            .map(|p| p.to_string())
            .collect();
        if !ports.is_empty() {
            let noun = if ports.len() == 1 {
                "hostPort"
            } else {
                "hostPorts"
            };
            port_parts.push(format!(
                "{} uses {noun} {}",
                named(&[cname(c)]),
                ports.join(", ")
            ));
        }
    }
    if !port_parts.is_empty() {
        out.push(("hostPorts", format!("hostPort ({})", port_parts.join("; "))));
    }
    let bad = with(&|c| sc(c, "privileged").and_then(Value::as_bool) == Some(true));
    if !bad.is_empty() {
        out.push((
            "privileged",
            format!(
                "privileged ({} must not set securityContext.privileged=true)",
                named(&bad)
            ),
        ));
    }
    if restricted {
        let pod_nonroot = spec
            .pointer("/securityContext/runAsNonRoot")
            .and_then(Value::as_bool);
        let bad = with(&|c| match sc(c, "runAsNonRoot").and_then(Value::as_bool) {
            Some(v) => !v,
            None => pod_nonroot != Some(true),
        });
        if !bad.is_empty() {
            out.push((
                "runAsNonRoot",
                format!(
                    "runAsNonRoot != true ({} must set securityContext.runAsNonRoot=true)",
                    pod_or_named(&bad)
                ),
            ));
        }
        let ok_type = |v: Option<&Value>| {
            matches!(
                v.and_then(|p| p.get("type")).and_then(Value::as_str),
                Some("RuntimeDefault" | "Localhost")
            )
        };
        let pod_profile = spec.pointer("/securityContext/seccompProfile");
        let bad = with(&|c| match sc(c, "seccompProfile") {
            Some(p) if !p.is_null() => !ok_type(Some(p)),
            _ => !ok_type(pod_profile),
        });
        if !bad.is_empty() {
            out.push(("seccompProfile_restricted", format!("seccompProfile ({} must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")", pod_or_named(&bad))));
        }
    }
    out.sort_by(|a, b| a.0.cmp(b.0));
    out.into_iter().map(|(_, s)| s).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admission::test_request;
    use serde_json::json;

    fn ns(labels: Value) -> Value {
        json!({"metadata": {"name": "secure", "labels": labels}})
    }

    #[test]
    fn restricted_refuses_a_default_pod_with_upstreams_message() {
        let r = test_request(Operation::Create, ("", "v1", "pods"), "secure", "nginx");
        let pod = json!({"spec": {"containers": [{"name": "nginx", "image": "nginx"}]}});
        let e = evaluate(
            &r,
            &ns(json!({"pod-security.kubernetes.io/enforce": "restricted"})),
            &pod,
        )
        .expect_err("refused");
        assert_eq!(e.code, 403);
        assert_eq!(
            e.message,
            "pods \"nginx\" is forbidden: violates PodSecurity \"restricted:latest\": allowPrivilegeEscalation != false (container \"nginx\" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container \"nginx\" must set securityContext.capabilities.drop=[\"ALL\"]), runAsNonRoot != true (pod or container \"nginx\" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container \"nginx\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")"
        );
        let good = json!({"spec": {"securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}}, "containers": [{"name": "nginx", "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}]}});
        assert_eq!(
            evaluate(
                &r,
                &ns(json!({"pod-security.kubernetes.io/enforce": "restricted"})),
                &good
            )
            .expect("admitted"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn baseline_checks_and_warnings() {
        let pod = json!({"spec": {"hostNetwork": true, "containers": [{"name": "a", "ports": [{"containerPort": 80, "hostPort": 80}], "securityContext": {"privileged": true}}]}});
        assert_eq!(
            violations(&pod, Level::Baseline),
            vec![
                "host namespaces (hostNetwork=true)".to_string(),
                "hostPort (container \"a\" uses hostPort 80)".to_string(),
                "privileged (container \"a\" must not set securityContext.privileged=true)"
                    .to_string(),
            ]
        );
        let r = test_request(Operation::Create, ("", "v1", "pods"), "secure", "p");
        let w = evaluate(
            &r,
            &ns(json!({"pod-security.kubernetes.io/warn": "baseline"})),
            &pod,
        )
        .expect("warn only");
        assert_eq!(w.len(), 1);
        assert!(
            w[0].starts_with("would violate PodSecurity \"baseline:latest\": host namespaces"),
            "{}",
            w[0]
        );
        assert!(violations(&pod, Level::Privileged).is_empty());
    }
}
