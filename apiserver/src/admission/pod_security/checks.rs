//! The Pod Security Standards' checks (latest version), one function per
//! upstream check ID, each returning upstream's `reason (detail)` text.
//! They read a pod, or a workload's pod template: anything with
//! `metadata` and `spec`.

use super::Level;
use serde_json::Value;

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

fn quote_all<S: AsRef<str>>(items: &[S]) -> String {
    items
        .iter()
        .map(|n| format!("{:?}", n.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn plural<'a>(one: &'a str, many: &'a str, n: usize) -> &'a str {
    if n == 1 { one } else { many }
}

/// `container "a"` or `containers "a", "b"`.
fn named(names: &[&str]) -> String {
    format!(
        "{} {}",
        plural("container", "containers", names.len()),
        quote_all(names)
    )
}

/// `pod or container "a"` / `pod or containers "a", "b"`.
fn pod_or_named(names: &[&str]) -> String {
    format!("pod or {}", named(names))
}

/// `pod`, `container "a"`, `pod and containers "a", "b"`.
fn setters(pod: bool, names: &[&str]) -> String {
    let mut parts = Vec::new();
    if pod {
        parts.push("pod".to_string());
    }
    if !names.is_empty() {
        parts.push(named(names));
    }
    parts.join(" and ")
}

fn sc<'a>(c: &'a Value, field: &str) -> Option<&'a Value> {
    c.get("securityContext")
        .and_then(|s| s.get(field))
        .filter(|v| !v.is_null())
}

fn pod_sc<'a>(pod: &'a Value, field: &str) -> Option<&'a Value> {
    pod.pointer("/spec/securityContext")
        .and_then(|s| s.get(field))
        .filter(|v| !v.is_null())
}

fn push_unique(list: &mut Vec<String>, v: &str) {
    if !list.iter().any(|x| x == v) {
        list.push(v.to_string());
    }
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

/// Sysctls baseline allows (namespaced and isolated from the node).
const SAFE_SYSCTLS: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_wmem",
];

/// Volume sources restricted allows.
const RESTRICTED_VOLUME_SOURCES: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/// Every violation of `level`, as `reason (detail)` strings in check-ID order.
pub fn violations(pod: &Value, level: Level) -> Vec<String> {
    if level == Level::Privileged {
        return Vec::new();
    }
    let restricted = level == Level::Restricted;
    let mut out: Vec<(&str, Option<String>)> = vec![
        ("appArmorProfile", app_armor(pod)),
        ("capabilities_baseline", capabilities_baseline(pod)),
        ("hostNamespaces", host_namespaces(pod)),
        ("hostPathVolumes", host_path_volumes(pod)),
        ("hostPorts", host_ports(pod)),
        ("privileged", privileged(pod)),
        ("procMount", proc_mount(pod)),
        ("seLinuxOptions", se_linux_options(pod)),
        ("sysctls", sysctls(pod)),
        ("windowsHostProcess", host_process(pod)),
    ];
    if restricted {
        out.extend([
            ("allowPrivilegeEscalation", allow_privilege_escalation(pod)),
            ("capabilities_restricted", capabilities_restricted(pod)),
            ("restrictedVolumes", restricted_volumes(pod)),
            ("runAsNonRoot", run_as_non_root(pod)),
            ("runAsUser", run_as_user(pod)),
            ("seccompProfile_restricted", seccomp_restricted(pod)),
        ]);
    } else {
        // Restricted's seccomp check supersedes baseline's.
        out.push(("seccompProfile_baseline", seccomp_baseline(pod)));
    }
    out.sort_by(|a, b| a.0.cmp(b.0));
    out.into_iter().filter_map(|(_, s)| s).collect()
}

fn app_armor(pod: &Value) -> Option<String> {
    fn bad_type(p: Option<&Value>) -> Option<&str> {
        p.and_then(|p| p.get("type"))
            .and_then(Value::as_str)
            .filter(|t| !matches!(*t, "RuntimeDefault" | "Localhost"))
    }
    let mut values: Vec<String> = Vec::new();
    let pod_bad = bad_type(pod_sc(pod, "appArmorProfile"));
    if let Some(t) = pod_bad {
        push_unique(&mut values, t);
    }
    let mut bad = Vec::new();
    for c in containers(pod) {
        if let Some(t) = bad_type(sc(c, "appArmorProfile")) {
            bad.push(cname(c));
            push_unique(&mut values, t);
        }
    }
    values.sort();
    let mut annotations: Vec<String> = pod
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(k, _)| k.starts_with("container.apparmor.security.beta.kubernetes.io/"))
        .filter_map(|(k, v)| {
            let v = v.as_str().unwrap_or("");
            let ok = v.is_empty() || v == "runtime/default" || v.starts_with("localhost/");
            (!ok).then(|| format!("{k}={v:?}"))
        })
        .collect();
    annotations.sort();
    let mut who = setters(pod_bad.is_some(), &bad);
    if !annotations.is_empty() {
        let a = plural("annotation", "annotations", annotations.len());
        who = if who.is_empty() {
            a.to_string()
        } else {
            format!("{who} and {a}")
        };
    }
    if who.is_empty() {
        return None;
    }
    values.extend(annotations);
    Some(format!(
        "{} ({who} must not set AppArmor profile type to {})",
        plural(
            "forbidden AppArmor profile",
            "forbidden AppArmor profiles",
            values.len()
        ),
        quote_all(&values)
    ))
}

fn capabilities_baseline(pod: &Value) -> Option<String> {
    let mut bad = Vec::new();
    let mut added: Vec<String> = Vec::new();
    for c in containers(pod) {
        let extra: Vec<&str> = sc(c, "capabilities")
            .and_then(|k| k.get("add"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter(|cap| !BASELINE_CAPS.contains(cap))
            .collect();
        if !extra.is_empty() {
            bad.push(cname(c));
            for cap in extra {
                push_unique(&mut added, cap);
            }
        }
    }
    (!bad.is_empty()).then(|| {
        format!(
            "non-default capabilities ({} must not include {} in securityContext.capabilities.add)",
            named(&bad),
            quote_all(&added)
        )
    })
}

fn capabilities_restricted(pod: &Value) -> Option<String> {
    let mut no_drop = Vec::new();
    let mut bad_add = Vec::new();
    let mut added: Vec<String> = Vec::new();
    for c in containers(pod) {
        let caps = sc(c, "capabilities");
        let drops_all = caps
            .and_then(|k| k.get("drop"))
            .and_then(Value::as_array)
            .is_some_and(|d| d.iter().any(|x| x.as_str() == Some("ALL")));
        if !drops_all {
            no_drop.push(cname(c));
        }
        let extra: Vec<&str> = caps
            .and_then(|k| k.get("add"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter(|cap| *cap != "NET_BIND_SERVICE")
            .collect();
        if !extra.is_empty() {
            bad_add.push(cname(c));
            for cap in extra {
                push_unique(&mut added, cap);
            }
        }
    }
    let mut details = Vec::new();
    if !no_drop.is_empty() {
        details.push(format!(
            "{} must set securityContext.capabilities.drop=[\"ALL\"]",
            named(&no_drop)
        ));
    }
    if !bad_add.is_empty() {
        details.push(format!(
            "{} must not include {} in securityContext.capabilities.add",
            named(&bad_add),
            quote_all(&added)
        ));
    }
    (!details.is_empty()).then(|| format!("unrestricted capabilities ({})", details.join("; ")))
}

fn host_namespaces(pod: &Value) -> Option<String> {
    let host: Vec<String> = ["hostNetwork", "hostPID", "hostIPC"]
        .iter()
        .filter(|k| pod.pointer(&format!("/spec/{k}")).and_then(Value::as_bool) == Some(true))
        .map(|k| format!("{k}=true"))
        .collect();
    (!host.is_empty()).then(|| format!("host namespaces ({})", host.join(", ")))
}

fn volumes(pod: &Value) -> impl Iterator<Item = &Value> {
    pod.pointer("/spec/volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

fn host_path_volumes(pod: &Value) -> Option<String> {
    let names: Vec<&str> = volumes(pod)
        .filter(|v| v.get("hostPath").is_some_and(|h| !h.is_null()))
        .map(|v| v.get("name").and_then(Value::as_str).unwrap_or(""))
        .collect();
    (!names.is_empty()).then(|| {
        format!(
            "hostPath volumes ({} {})",
            plural("volume", "volumes", names.len()),
            quote_all(&names)
        )
    })
}

fn host_ports(pod: &Value) -> Option<String> {
    let mut parts = Vec::new();
    for c in containers(pod) {
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
            parts.push(format!(
                "{} uses {} {}",
                named(&[cname(c)]),
                plural("hostPort", "hostPorts", ports.len()),
                ports.join(", ")
            ));
        }
    }
    (!parts.is_empty()).then(|| format!("hostPort ({})", parts.join("; ")))
}

fn privileged(pod: &Value) -> Option<String> {
    let bad: Vec<&str> = containers(pod)
        .into_iter()
        .filter(|c| sc(c, "privileged").and_then(Value::as_bool) == Some(true))
        .map(cname)
        .collect();
    (!bad.is_empty()).then(|| {
        format!(
            "privileged ({} must not set securityContext.privileged=true)",
            named(&bad)
        )
    })
}

fn proc_mount(pod: &Value) -> Option<String> {
    let mut bad = Vec::new();
    let mut values: Vec<String> = Vec::new();
    for c in containers(pod) {
        if let Some(m) = sc(c, "procMount").and_then(Value::as_str)
            && m != "Default"
        {
            bad.push(cname(c));
            push_unique(&mut values, m);
        }
    }
    (!bad.is_empty()).then(|| {
        format!(
            "procMount ({} must not set securityContext.procMount to {})",
            named(&bad),
            quote_all(&values)
        )
    })
}

fn se_linux_options(pod: &Value) -> Option<String> {
    let mut types: Vec<String> = Vec::new();
    let mut users: Vec<String> = Vec::new();
    let mut roles: Vec<String> = Vec::new();
    let mut check = |o: Option<&Value>| -> bool {
        let Some(o) = o else { return false };
        let mut bad = false;
        if let Some(t) = o.get("type").and_then(Value::as_str)
            && !matches!(
                t,
                "" | "container_t" | "container_init_t" | "container_kvm_t" | "container_engine_t"
            )
        {
            push_unique(&mut types, t);
            bad = true;
        }
        if let Some(u) = o
            .get("user")
            .and_then(Value::as_str)
            .filter(|u| !u.is_empty())
        {
            push_unique(&mut users, u);
            bad = true;
        }
        if let Some(r) = o
            .get("role")
            .and_then(Value::as_str)
            .filter(|r| !r.is_empty())
        {
            push_unique(&mut roles, r);
            bad = true;
        }
        bad
    };
    let pod_bad = check(pod_sc(pod, "seLinuxOptions"));
    let bad: Vec<&str> = containers(pod)
        .into_iter()
        .filter(|c| check(sc(c, "seLinuxOptions")))
        .map(cname)
        .collect();
    if !pod_bad && bad.is_empty() {
        return None;
    }
    let mut data = Vec::new();
    for (one, many, list) in [
        ("type", "types", &types),
        ("user", "users", &users),
        ("role", "roles", &roles),
    ] {
        if !list.is_empty() {
            data.push(format!(
                "{} {}",
                plural(one, many, list.len()),
                quote_all(list)
            ));
        }
    }
    Some(format!(
        "seLinuxOptions ({} set forbidden securityContext.seLinuxOptions: {})",
        setters(pod_bad, &bad),
        data.join("; ")
    ))
}

fn sysctls(pod: &Value) -> Option<String> {
    let bad: Vec<&str> = pod
        .pointer("/spec/securityContext/sysctls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.get("name").and_then(Value::as_str))
        .filter(|n| !SAFE_SYSCTLS.contains(n))
        .collect();
    (!bad.is_empty()).then(|| {
        format!(
            "{} ({})",
            plural("forbidden sysctl", "forbidden sysctls", bad.len()),
            bad.join(", ")
        )
    })
}

fn host_process(pod: &Value) -> Option<String> {
    let on = |v: Option<&Value>| {
        v.and_then(|w| w.get("hostProcess"))
            .and_then(Value::as_bool)
            == Some(true)
    };
    let pod_bad = on(pod_sc(pod, "windowsOptions"));
    let bad: Vec<&str> = containers(pod)
        .into_iter()
        .filter(|c| on(sc(c, "windowsOptions")))
        .map(cname)
        .collect();
    (pod_bad || !bad.is_empty()).then(|| {
        format!(
            "hostProcess ({} must not set securityContext.windowsOptions.hostProcess=true)",
            setters(pod_bad, &bad)
        )
    })
}

fn seccomp_type(p: Option<&Value>) -> Option<&str> {
    p.and_then(|p| p.get("type")).and_then(Value::as_str)
}

fn seccomp_baseline(pod: &Value) -> Option<String> {
    let pod_bad = seccomp_type(pod_sc(pod, "seccompProfile")) == Some("Unconfined");
    let bad: Vec<&str> = containers(pod)
        .into_iter()
        .filter(|c| seccomp_type(sc(c, "seccompProfile")) == Some("Unconfined"))
        .map(cname)
        .collect();
    (pod_bad || !bad.is_empty()).then(|| {
        format!(
            "seccompProfile ({} must not set securityContext.seccompProfile.type to \"Unconfined\")",
            setters(pod_bad, &bad)
        )
    })
}

fn seccomp_restricted(pod: &Value) -> Option<String> {
    let ok = |t: &str| matches!(t, "RuntimeDefault" | "Localhost");
    let pod_type = seccomp_type(pod_sc(pod, "seccompProfile"));
    let mut values: Vec<String> = Vec::new();
    let pod_bad = pod_type.is_some_and(|t| !ok(t));
    if let Some(t) = pod_type.filter(|t| !ok(t)) {
        push_unique(&mut values, t);
    }
    let mut explicit = Vec::new();
    let mut implicit = Vec::new();
    for c in containers(pod) {
        match seccomp_type(sc(c, "seccompProfile")) {
            Some(t) if !ok(t) => {
                explicit.push(cname(c));
                push_unique(&mut values, t);
            }
            Some(_) => {}
            None if pod_type.is_none() => implicit.push(cname(c)),
            None => {}
        }
    }
    let mut details = Vec::new();
    if pod_bad || !explicit.is_empty() {
        details.push(format!(
            "{} must not set securityContext.seccompProfile.type to {}",
            setters(pod_bad, &explicit),
            quote_all(&values)
        ));
    }
    if !implicit.is_empty() {
        details.push(format!(
            "{} must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"",
            pod_or_named(&implicit)
        ));
    }
    (!details.is_empty()).then(|| format!("seccompProfile ({})", details.join("; ")))
}

fn allow_privilege_escalation(pod: &Value) -> Option<String> {
    let bad: Vec<&str> = containers(pod)
        .into_iter()
        .filter(|c| sc(c, "allowPrivilegeEscalation").and_then(Value::as_bool) != Some(false))
        .map(cname)
        .collect();
    (!bad.is_empty()).then(|| {
        format!(
            "allowPrivilegeEscalation != false ({} must set securityContext.allowPrivilegeEscalation=false)",
            named(&bad)
        )
    })
}

fn restricted_volumes(pod: &Value) -> Option<String> {
    let mut names = Vec::new();
    let mut kinds: Vec<String> = Vec::new();
    for v in volumes(pod) {
        let Some(o) = v.as_object() else { continue };
        let bad: Vec<&String> = o
            .iter()
            .filter(|(k, val)| {
                k.as_str() != "name"
                    && !val.is_null()
                    && !RESTRICTED_VOLUME_SOURCES.contains(&k.as_str())
            })
            .map(|(k, _)| k)
            .collect();
        if !bad.is_empty() {
            names.push(v.get("name").and_then(Value::as_str).unwrap_or(""));
            for k in bad {
                push_unique(&mut kinds, k);
            }
        }
    }
    (!names.is_empty()).then(|| {
        format!(
            "restricted volume types ({} {} {} {})",
            plural("volume", "volumes", names.len()),
            quote_all(&names),
            plural(
                "uses restricted volume type",
                "use restricted volume types",
                kinds.len()
            ),
            quote_all(&kinds)
        )
    })
}

fn run_as_non_root(pod: &Value) -> Option<String> {
    let pod_value = pod_sc(pod, "runAsNonRoot").and_then(Value::as_bool);
    let mut explicit = Vec::new();
    let mut implicit = Vec::new();
    for c in containers(pod) {
        match sc(c, "runAsNonRoot").and_then(Value::as_bool) {
            Some(false) => explicit.push(cname(c)),
            Some(true) => {}
            None if pod_value.is_none() => implicit.push(cname(c)),
            None => {}
        }
    }
    let pod_false = pod_value == Some(false);
    let mut details = Vec::new();
    if pod_false || !explicit.is_empty() {
        details.push(format!(
            "{} must not set securityContext.runAsNonRoot=false",
            setters(pod_false, &explicit)
        ));
    }
    if !implicit.is_empty() {
        details.push(format!(
            "{} must set securityContext.runAsNonRoot=true",
            pod_or_named(&implicit)
        ));
    }
    (!details.is_empty()).then(|| format!("runAsNonRoot != true ({})", details.join("; ")))
}

fn run_as_user(pod: &Value) -> Option<String> {
    let zero = |v: Option<&Value>| v.and_then(Value::as_i64) == Some(0);
    let pod_bad = zero(pod_sc(pod, "runAsUser"));
    let bad: Vec<&str> = containers(pod)
        .into_iter()
        .filter(|c| zero(sc(c, "runAsUser")))
        .map(cname)
        .collect();
    (pod_bad || !bad.is_empty()).then(|| {
        format!(
            "runAsUser=0 ({} must not set runAsUser=0)",
            setters(pod_bad, &bad)
        )
    })
}

#[cfg(test)]
#[path = "checks_tests.rs"]
mod tests;
