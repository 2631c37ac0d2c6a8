//! Rows of the networking, discovery, RBAC, storage, coordination, scheduling,
//! certificates, node and admission resources.

use super::core::load_balancer_addresses;
use super::json::{at, count, flag, format_label_selector, int, list, name, text};
use super::time::{age, human_duration};
use serde_json::{Value, json};
use std::time::{Duration, SystemTime};

fn created(obj: &Value, now: SystemTime) -> Value {
    json!(age(at(obj, &["metadata", "creationTimestamp"]), now))
}

/// Up to three hosts, `*` when no rule names one.
fn ingress_hosts(rules: &[Value]) -> String {
    const MAX: usize = 3;
    let mut shown = Vec::new();
    let mut more = false;
    for rule in rules {
        if shown.len() == MAX {
            more = true;
        }
        let host = text(rule, &["host"]);
        if !more && !host.is_empty() {
            shown.push(host);
        }
    }
    if shown.is_empty() {
        return "*".to_string();
    }
    let joined = shown.join(",");
    if more {
        format!("{joined} + {} more...", rules.len() - MAX)
    } else {
        joined
    }
}

pub(super) fn ingress(obj: &Value, now: SystemTime) -> Vec<Value> {
    let class = at(obj, &["spec", "ingressClassName"])
        .and_then(Value::as_str)
        .unwrap_or("<none>");
    let ports = if list(obj, &["spec", "tls"]).is_empty() {
        "80"
    } else {
        "80, 443"
    };
    vec![
        json!(name(obj)),
        json!(class),
        json!(ingress_hosts(list(obj, &["spec", "rules"]))),
        json!(load_balancer_addresses(at(obj, &["status", "loadBalancer"])).join(",")),
        json!(ports),
        created(obj, now),
    ]
}

pub(super) fn ingress_class(obj: &Value, now: SystemTime) -> Vec<Value> {
    let parameters = match at(obj, &["spec", "parameters"]) {
        Some(p) if p.is_object() => {
            let mut s = text(p, &["kind"]).to_string();
            if let Some(group) = p.get("apiGroup").and_then(Value::as_str) {
                s = format!("{s}.{group}");
            }
            format!("{s}/{}", text(p, &["name"]))
        }
        _ => "<none>".to_string(),
    };
    vec![
        json!(name(obj)),
        json!(text(obj, &["spec", "controller"])),
        json!(parameters),
        created(obj, now),
    ]
}

pub(super) fn network_policy(obj: &Value, now: SystemTime) -> Vec<Value> {
    // An absent podSelector is the empty selector (all pods), printed as <none>.
    let selector = at(obj, &["spec", "podSelector"])
        .cloned()
        .unwrap_or_else(|| json!({}));
    vec![
        json!(name(obj)),
        json!(format_label_selector(Some(&selector))),
        created(obj, now),
    ]
}

/// Up to three entries, then `+ N more...`; `<unset>` for none.
fn list_with_more(items: Vec<String>) -> String {
    const MAX: usize = 3;
    let total = items.len();
    let joined = items.into_iter().take(MAX).collect::<Vec<_>>().join(",");
    if total > MAX {
        format!("{joined} + {} more...", total - MAX)
    } else if joined.is_empty() {
        "<unset>".to_string()
    } else {
        joined
    }
}

pub(super) fn endpoint_slice(obj: &Value, now: SystemTime) -> Vec<Value> {
    let ports: Vec<String> = list(obj, &["ports"])
        .iter()
        .map(|p| {
            match (
                p.get("port").and_then(Value::as_i64),
                p.get("name").and_then(Value::as_str),
            ) {
                (Some(n), _) => n.to_string(),
                (None, Some(name)) => name.to_string(),
                (None, None) => "*".to_string(),
            }
        })
        .collect();
    let addresses: Vec<String> = list(obj, &["endpoints"])
        .iter()
        .flat_map(|e| list(e, &["addresses"]).iter())
        .map(|a| a.as_str().unwrap_or_default().to_string())
        .collect();
    vec![
        json!(name(obj)),
        json!(text(obj, &["addressType"])),
        json!(list_with_more(ports)),
        json!(list_with_more(addresses)),
        created(obj, now),
    ]
}

/// RoleBinding and ClusterRoleBinding: `Kind/name` of the role, then subjects by kind.
pub(super) fn role_binding(obj: &Value, now: SystemTime) -> Vec<Value> {
    let mut users = Vec::new();
    let mut groups = Vec::new();
    let mut service_accounts = Vec::new();
    for s in list(obj, &["subjects"]) {
        let n = text(s, &["name"]);
        match text(s, &["kind"]) {
            "User" => users.push(n.to_string()),
            "Group" => groups.push(n.to_string()),
            "ServiceAccount" => service_accounts.push(format!("{}/{n}", text(s, &["namespace"]))),
            _ => {}
        }
    }
    vec![
        json!(name(obj)),
        json!(format!(
            "{}/{}",
            text(obj, &["roleRef", "kind"]),
            text(obj, &["roleRef", "name"])
        )),
        created(obj, now),
        json!(users.join(", ")),
        json!(groups.join(", ")),
        json!(service_accounts.join(", ")),
    ]
}

pub(super) fn storage_class(obj: &Value, now: SystemTime) -> Vec<Value> {
    let is_default = [
        "storageclass.kubernetes.io/is-default-class",
        "storageclass.beta.kubernetes.io/is-default-class",
    ]
    .iter()
    .any(|a| text(obj, &["metadata", "annotations", a]) == "true");
    let mut shown = name(obj).to_string();
    if is_default {
        shown.push_str(" (default)");
    }
    let or = |f: &str, d: &'static str| match text(obj, &[f]) {
        "" => d.to_string(),
        v => v.to_string(),
    };
    vec![
        json!(shown),
        json!(text(obj, &["provisioner"])),
        json!(or("reclaimPolicy", "Delete")),
        json!(or("volumeBindingMode", "Immediate")),
        json!(flag(obj, &["allowVolumeExpansion"])),
        created(obj, now),
    ]
}

pub(super) fn lease(obj: &Value, now: SystemTime) -> Vec<Value> {
    vec![
        json!(name(obj)),
        json!(text(obj, &["spec", "holderIdentity"])),
        created(obj, now),
    ]
}

pub(super) fn priority_class(obj: &Value, now: SystemTime) -> Vec<Value> {
    vec![
        json!(name(obj)),
        json!(int(obj, &["value"])),
        json!(flag(obj, &["globalDefault"])),
        created(obj, now),
        json!(text(obj, &["preemptionPolicy"])),
    ]
}

/// Denied/Approved/Pending, then `,Failed` and `,Issued` as they apply.
fn csr_condition(obj: &Value) -> String {
    let has = |t: &str| {
        list(obj, &["status", "conditions"])
            .iter()
            .any(|c| text(c, &["type"]) == t)
    };
    let mut status = if has("Denied") {
        "Denied".to_string()
    } else if has("Approved") {
        "Approved".to_string()
    } else {
        "Pending".to_string()
    };
    if has("Failed") {
        status.push_str(",Failed");
    }
    if !text(obj, &["status", "certificate"]).is_empty() {
        status.push_str(",Issued");
    }
    status
}

pub(super) fn certificate_signing_request(obj: &Value, now: SystemTime) -> Vec<Value> {
    let signer = match text(obj, &["spec", "signerName"]) {
        "" => "<none>",
        s => s,
    };
    let requested = at(obj, &["spec", "expirationSeconds"])
        .and_then(Value::as_i64)
        .map_or_else(
            || "<none>".to_string(),
            |s| human_duration(Duration::from_secs(s.max(0) as u64)),
        );
    vec![
        json!(name(obj)),
        created(obj, now),
        json!(signer),
        json!(text(obj, &["spec", "username"])),
        json!(requested),
        json!(csr_condition(obj)),
    ]
}

pub(super) fn runtime_class(obj: &Value, now: SystemTime) -> Vec<Value> {
    vec![
        json!(name(obj)),
        json!(text(obj, &["handler"])),
        created(obj, now),
    ]
}

/// CSIDriver: the attach/mount flags (attach required when unset), the
/// token audiences (`<unset>` without any) and the lifecycle modes.
pub(super) fn csi_driver(obj: &Value, now: SystemTime) -> Vec<Value> {
    let spec = at(obj, &["spec"]).cloned().unwrap_or(Value::Null);
    let attach = spec
        .get("attachRequired")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let audiences: Vec<&str> = list(&spec, &["tokenRequests"])
        .iter()
        .map(|t| text(t, &["audience"]))
        .collect();
    let tokens = if audiences.is_empty() {
        "<unset>".to_string()
    } else {
        audiences.join(",")
    };
    let modes: Vec<&str> = list(&spec, &["volumeLifecycleModes"])
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let modes = if modes.is_empty() {
        "<none>".to_string()
    } else {
        modes.join(",")
    };
    vec![
        json!(name(obj)),
        json!(attach),
        json!(flag(&spec, &["podInfoOnMount"])),
        json!(flag(&spec, &["storageCapacity"])),
        json!(tokens),
        json!(flag(&spec, &["requiresRepublish"])),
        json!(modes),
        created(obj, now),
    ]
}

pub(super) fn csi_node(obj: &Value, now: SystemTime) -> Vec<Value> {
    vec![
        json!(name(obj)),
        json!(count(obj, &["spec", "drivers"])),
        created(obj, now),
    ]
}

pub(super) fn csi_storage_capacity(obj: &Value, _now: SystemTime) -> Vec<Value> {
    let capacity = match at(obj, &["capacity"]) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => "<unset>".to_string(),
    };
    vec![
        json!(name(obj)),
        json!(text(obj, &["storageClassName"])),
        json!(capacity),
    ]
}

pub(super) fn volume_attachment(obj: &Value, now: SystemTime) -> Vec<Value> {
    vec![
        json!(name(obj)),
        json!(text(obj, &["spec", "attacher"])),
        json!(text(obj, &["spec", "source", "persistentVolumeName"])),
        json!(text(obj, &["spec", "nodeName"])),
        json!(flag(obj, &["status", "attached"])),
        created(obj, now),
    ]
}

pub(super) fn webhook_configuration(obj: &Value, now: SystemTime) -> Vec<Value> {
    vec![
        json!(name(obj)),
        json!(count(obj, &["webhooks"])),
        created(obj, now),
    ]
}

/// `<unset>` without a paramKind, else `<apiVersion>/<kind>`, as upstream.
pub(super) fn validating_admission_policy(obj: &Value, now: SystemTime) -> Vec<Value> {
    let param_kind = match at(obj, &["spec", "paramKind"]) {
        Some(pk) if pk.is_object() => {
            format!("{}/{}", text(pk, &["apiVersion"]), text(pk, &["kind"]))
        }
        _ => "<unset>".to_string(),
    };
    vec![
        json!(name(obj)),
        json!(count(obj, &["spec", "validations"])),
        json!(param_kind),
        created(obj, now),
    ]
}

/// ParamRef: `<unset>`, `[<namespace>/]<name>`, or the selector.
pub(super) fn validating_admission_policy_binding(obj: &Value, now: SystemTime) -> Vec<Value> {
    let param_ref = match at(obj, &["spec", "paramRef"]) {
        Some(pr) if pr.is_object() => {
            let (ns, n) = (text(pr, &["namespace"]), text(pr, &["name"]));
            match (n.is_empty(), at(pr, &["selector"])) {
                (false, _) if ns.is_empty() => n.to_string(),
                (false, _) => format!("{ns}/{n}"),
                (true, Some(sel)) if sel.is_object() => {
                    let s = format_label_selector(Some(sel));
                    if s == "<none>" {
                        "<all>".to_string()
                    } else {
                        s
                    }
                }
                _ => "<invalid>".to_string(),
            }
        }
        _ => "<unset>".to_string(),
    };
    vec![
        json!(name(obj)),
        json!(text(obj, &["spec", "policyName"])),
        json!(param_ref),
        created(obj, now),
    ]
}
