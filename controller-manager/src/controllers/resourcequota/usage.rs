//! What objects cost against a quota, by quota resource name, in
//! milli-units. The same rules as the apiserver's ResourceQuota admission
//! (object counts, pod compute requests and limits, claim storage).

use apimachinery::quantity::Quantity;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};

pub type Usage = BTreeMap<String, i128>;

fn milli_of(v: &Value) -> Option<i128> {
    match v {
        Value::String(s) => Quantity::parse(s).ok().map(|q| i128::from(q.milli_value())),
        Value::Number(n) => n.as_i64().map(|i| i128::from(i) * 1000),
        _ => None,
    }
}

pub fn parse_usage(m: &Map<String, Value>) -> Usage {
    m.iter()
        .filter_map(|(k, v)| Some((k.clone(), milli_of(v)?)))
        .collect()
}

/// Renders milli-units as upstream prints them (cores or `m`, binary
/// suffixes for bytes, plain counts).
pub fn render(resource: &str, m: i128) -> String {
    if m % 1000 != 0 {
        return format!("{m}m");
    }
    let v = m / 1000;
    if (resource.contains("memory") || resource.contains("storage")) && v != 0 {
        for (suffix, size) in [
            ("Ti", 1i128 << 40),
            ("Gi", 1 << 30),
            ("Mi", 1 << 20),
            ("Ki", 1 << 10),
        ] {
            if v % size == 0 {
                return format!("{}{suffix}", v / size);
            }
        }
    }
    v.to_string()
}

pub fn render_usage(u: &Usage) -> Map<String, Value> {
    u.iter()
        .map(|(k, v)| (k.clone(), json!(render(k, *v))))
        .collect()
}

/// Two ResourceLists equal as quantities ("1" and "1000m" are the same).
pub fn same(a: &Value, b: &Value) -> bool {
    let parse = |v: &Value| v.as_object().map(parse_usage).unwrap_or_default();
    parse(a) == parse(b)
}

const LEGACY_COUNTS: &[&str] = &[
    "pods",
    "services",
    "configmaps",
    "secrets",
    "persistentvolumeclaims",
    "replicationcontrollers",
    "resourcequotas",
];

/// The (group, plural) collections to list for these quota resource names.
pub fn resources_for<'a>(names: impl Iterator<Item = &'a String>) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    let core = |p: &str| (String::new(), p.to_string());
    for n in names {
        if let Some(r) = n.strip_prefix("count/") {
            match r.split_once('.') {
                Some((plural, group)) => out.insert((group.to_string(), plural.to_string())),
                None => out.insert(core(r)),
            };
        } else if LEGACY_COUNTS.contains(&n.as_str()) {
            out.insert(core(n));
        } else if n.starts_with("services.") {
            out.insert(core("services"));
        } else if n == "requests.storage" || n.contains(".storageclass.storage.k8s.io/") {
            out.insert(core("persistentvolumeclaims"));
        } else if n.starts_with("requests.")
            || n.starts_with("limits.")
            || matches!(n.as_str(), "cpu" | "memory" | "ephemeral-storage")
        {
            out.insert(core("pods"));
        }
    }
    out
}

fn count_name(group: &str, plural: &str) -> String {
    if group.is_empty() {
        format!("count/{plural}")
    } else {
        format!("count/{plural}.{group}")
    }
}

/// What one object costs.
pub fn usage_of(group: &str, plural: &str, obj: &Value) -> Usage {
    let mut u = Usage::new();
    if group.is_empty() && plural == "pods" && terminal(obj) {
        return u;
    }
    u.insert(count_name(group, plural), 1000);
    if group.is_empty() && LEGACY_COUNTS.contains(&plural) {
        u.insert(plural.to_string(), 1000);
    }
    match (group, plural) {
        ("", "pods") => pod_usage(obj, &mut u),
        ("", "services") => {
            let ports = obj
                .pointer("/spec/ports")
                .and_then(Value::as_array)
                .map_or(0, |p| p.len() as i128);
            match obj.pointer("/spec/type").and_then(Value::as_str) {
                Some("NodePort") => {
                    u.insert("services.nodeports".into(), 1000 * ports);
                }
                Some("LoadBalancer") => {
                    u.insert("services.loadbalancers".into(), 1000);
                    u.insert("services.nodeports".into(), 1000 * ports);
                }
                _ => {}
            }
        }
        ("", "persistentvolumeclaims") => {
            let storage = obj
                .pointer("/spec/resources/requests/storage")
                .and_then(milli_of)
                .unwrap_or(0);
            u.insert("requests.storage".into(), storage);
            if let Some(class) = obj
                .pointer("/spec/storageClassName")
                .and_then(Value::as_str)
                .filter(|c| !c.is_empty())
            {
                u.insert(
                    format!("{class}.storageclass.storage.k8s.io/requests.storage"),
                    storage,
                );
                u.insert(
                    format!("{class}.storageclass.storage.k8s.io/persistentvolumeclaims"),
                    1000,
                );
            }
        }
        _ => {}
    }
    u
}

fn terminal(pod: &Value) -> bool {
    matches!(
        pod.pointer("/status/phase").and_then(Value::as_str),
        Some("Succeeded" | "Failed")
    )
}

/// The larger of the containers' sum and any single init container.
fn pod_usage(pod: &Value, u: &mut Usage) {
    let list = |k: &str| {
        pod.pointer(&format!("/spec/{k}"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let (main, init) = (list("containers"), list("initContainers"));
    for which in ["requests", "limits"] {
        for res in ["cpu", "memory", "ephemeral-storage"] {
            let get = |c: &Value| {
                c.get("resources")
                    .and_then(|r| r.get(which))
                    .and_then(|m| m.get(res))
                    .and_then(milli_of)
            };
            let m: Vec<i128> = main.iter().filter_map(get).collect();
            let i: Vec<i128> = init.iter().filter_map(get).collect();
            if m.is_empty() && i.is_empty() {
                continue;
            }
            let total = i.iter().fold(m.iter().sum::<i128>(), |acc, x| acc.max(*x));
            u.insert(format!("{which}.{res}"), total);
            if which == "requests" {
                u.insert(res.to_string(), total);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_names_map_to_collections() {
        let names: Vec<String> = [
            "pods",
            "requests.cpu",
            "count/deployments.apps",
            "requests.storage",
            "services.nodeports",
            "count/configmaps",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let got: Vec<(String, String)> = resources_for(names.iter()).into_iter().collect();
        assert_eq!(
            got,
            vec![
                ("".into(), "configmaps".into()),
                ("".into(), "persistentvolumeclaims".into()),
                ("".into(), "pods".into()),
                ("".into(), "services".into()),
                ("apps".into(), "deployments".into()),
            ]
        );
    }

    #[test]
    fn pods_count_unless_finished() {
        let pod = json!({"spec": {"containers": [{"resources": {"requests": {"cpu": "250m", "memory": "1Gi"}}}, {"resources": {"requests": {"cpu": "250m"}}}]}});
        let u = usage_of("", "pods", &pod);
        assert_eq!(u["pods"], 1000);
        assert_eq!(u["requests.cpu"], 500);
        assert_eq!(render("requests.memory", u["requests.memory"]), "1Gi");
        let done = json!({"status": {"phase": "Succeeded"}});
        assert!(usage_of("", "pods", &done).is_empty());
    }

    #[test]
    fn lists_compare_as_quantities() {
        assert!(same(
            &json!({"cpu": "1", "pods": "2"}),
            &json!({"cpu": "1000m", "pods": "2"})
        ));
        assert!(!same(&json!({"pods": "2"}), &json!({"pods": "3"})));
        assert_eq!(render("requests.cpu", 1500), "1500m");
    }
}
