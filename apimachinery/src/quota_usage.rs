//! What an object costs against a ResourceQuota, by quota resource name,
//! in milli-units so CPU (`500m`), bytes (`1Gi`) and counts share one
//! arithmetic. Upstream's evaluators: object counts (`count/<plural>[.<group>]`
//! and the legacy names such as `pods`), pod compute requests and limits,
//! claim storage (also per StorageClass), Service node ports and load
//! balancers. Shared by the apiserver's ResourceQuota admission (which
//! charges a create) and the controller-manager's recount (which sums what
//! exists), so both always agree on a price.

use crate::quantity::Quantity;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// Usage per quota resource name, in milli-units.
pub type Usage = BTreeMap<String, i128>;

/// The core kinds quota also counts under their bare plural (`pods`, ...).
const LEGACY_COUNTS: &[&str] = &[
    "pods",
    "services",
    "configmaps",
    "secrets",
    "persistentvolumeclaims",
    "replicationcontrollers",
    "resourcequotas",
];

/// Milli-units of a quantity string; `None` when it does not parse.
pub fn milli(s: &str) -> Option<i128> {
    let q = Quantity::parse(s).ok()?;
    Some(i128::from(q.milli_value()))
}

/// Milli-units of a JSON quantity (string or number).
pub fn milli_of(v: &Value) -> Option<i128> {
    match v {
        Value::String(s) => milli(s),
        Value::Number(n) => n.as_i64().map(|i| i128::from(i) * 1000),
        _ => None,
    }
}

/// Renders milli-units the way upstream prints such a quantity: CPU-like
/// resources in cores or `m`, byte-like ones with the largest exact binary
/// suffix, counts as integers.
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

/// A ResourceList (`spec.hard`, `status.used`) as usage; entries that do
/// not parse are left out.
pub fn parse_usage(list: Option<&Value>) -> Usage {
    list.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), milli_of(v)?)))
                .collect()
        })
        .unwrap_or_default()
}

/// Usage as a ResourceList of upstream-rendered quantities.
pub fn render_usage(u: &Usage) -> Map<String, Value> {
    u.iter()
        .map(|(k, v)| (k.clone(), json!(render(k, *v))))
        .collect()
}

/// Two ResourceLists equal as quantities ("1" and "1000m" are the same).
pub fn same(a: &Value, b: &Value) -> bool {
    parse_usage(Some(a)) == parse_usage(Some(b))
}

/// The (group, plural) collections whose objects these quota resource
/// names charge, i.e. what a recount has to list.
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

/// What one object costs. `count/<plural>` always counts (it tracks what is
/// in storage); a pod that has finished costs nothing else, as upstream
/// does not quota compute (nor `pods`) past the end of a pod's life.
pub fn usage_of(group: &str, plural: &str, obj: &Value) -> Usage {
    let mut u = Usage::new();
    u.insert(count_name(group, plural), 1000);
    if group.is_empty() && plural == "pods" && terminal(obj) {
        return u;
    }
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
        ("", "persistentvolumeclaims") => claim_usage(obj, &mut u),
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

/// Requests and limits of a pod: the larger of its containers' sum and any
/// single init container, as upstream's PodRequests computes. Bare `cpu`,
/// `memory`, `ephemeral-storage` mean requests.
fn pod_usage(pod: &Value, u: &mut Usage) {
    let empty = Vec::new();
    let list = |k: &str| {
        pod.get("spec")
            .and_then(|s| s.get(k))
            .and_then(Value::as_array)
            .unwrap_or(&empty)
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

fn claim_usage(claim: &Value, u: &mut Usage) {
    let storage = claim
        .pointer("/spec/resources/requests/storage")
        .and_then(milli_of)
        .unwrap_or(0);
    u.insert("requests.storage".into(), storage);
    if let Some(class) = claim
        .pointer("/spec/storageClassName")
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
    {
        let per_class = format!("{class}.storageclass.storage.k8s.io");
        u.insert(format!("{per_class}/requests.storage"), storage);
        u.insert(format!("{per_class}/persistentvolumeclaims"), 1000);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_render_as_upstream_prints_them() {
        assert_eq!(milli("500m"), Some(500));
        assert_eq!(milli("2"), Some(2000));
        assert_eq!(milli("x"), None);
        assert_eq!(render("requests.cpu", 1500), "1500m");
        assert_eq!(render("cpu", 2000), "2");
        assert_eq!(
            render("requests.memory", milli("1Gi").unwrap_or(0) * 2),
            "2Gi"
        );
        assert_eq!(render("memory", milli("100M").unwrap_or(0)), "100000000");
        assert_eq!(render("pods", 3000), "3");
    }

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
    fn pods_cost_count_and_compute() {
        let pod = json!({"spec": {"containers": [
            {"name": "a", "resources": {"requests": {"cpu": "250m", "memory": "64Mi"}, "limits": {"cpu": "500m"}}},
            {"name": "b", "resources": {"requests": {"cpu": "250m"}}}
        ], "initContainers": [{"name": "i", "resources": {"requests": {"cpu": "1"}}}]}});
        let got = usage_of("", "pods", &pod);
        assert_eq!(got["pods"], 1000);
        assert_eq!(got["count/pods"], 1000);
        assert_eq!(got["requests.cpu"], 1000, "the init container is larger");
        assert_eq!(got["cpu"], 1000);
        assert_eq!(got["requests.memory"], milli("64Mi").unwrap_or(0));
        assert_eq!(got["limits.cpu"], 500);
        assert!(!got.contains_key("limits.memory"));
        assert_eq!(
            usage_of("apps", "deployments", &json!({}))["count/deployments.apps"],
            1000
        );
    }

    #[test]
    fn finished_pods_keep_only_their_object_count() {
        let done = json!({"spec": {"containers": [{"resources": {"requests": {"cpu": "1"}}}]},
            "status": {"phase": "Succeeded"}});
        let got = usage_of("", "pods", &done);
        assert_eq!(got, Usage::from([("count/pods".to_string(), 1000)]));
    }

    #[test]
    fn services_cost_node_ports_and_load_balancers() {
        let lb = json!({"spec": {"type": "LoadBalancer", "ports": [{"port": 80}, {"port": 443}]}});
        let got = usage_of("", "services", &lb);
        assert_eq!(got["services"], 1000);
        assert_eq!(got["services.loadbalancers"], 1000);
        assert_eq!(got["services.nodeports"], 2000);
        let cluster_ip = usage_of("", "services", &json!({"spec": {"ports": [{"port": 80}]}}));
        assert!(!cluster_ip.contains_key("services.nodeports"));
    }

    #[test]
    fn claims_cost_storage_per_class() {
        let pvc = json!({"spec": {"storageClassName": "fast", "resources": {"requests": {"storage": "1Gi"}}}});
        let got = usage_of("", "persistentvolumeclaims", &pvc);
        assert_eq!(got["requests.storage"], milli("1Gi").unwrap_or(0));
        assert_eq!(
            got["fast.storageclass.storage.k8s.io/requests.storage"],
            milli("1Gi").unwrap_or(0)
        );
        assert_eq!(
            got["fast.storageclass.storage.k8s.io/persistentvolumeclaims"],
            1000
        );
    }

    #[test]
    fn lists_compare_as_quantities() {
        assert!(same(
            &json!({"cpu": "1", "pods": "2"}),
            &json!({"cpu": "1000m", "pods": "2"})
        ));
        assert!(!same(&json!({"pods": "2"}), &json!({"pods": "3"})));
        let u = parse_usage(Some(&json!({"requests.memory": "2Gi", "bad": "x"})));
        assert_eq!(u.len(), 1);
        assert_eq!(render_usage(&u)["requests.memory"], "2Gi");
    }
}
