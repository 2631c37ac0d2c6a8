//! ResourceQuota: a create that would take a namespace past a quota's hard
//! limits is refused (403 "exceeded quota: ..."); an admitted one is charged
//! to the quota's `status.used` by compare-and-swap before it is stored, so
//! two concurrent creates cannot both take the last unit. The
//! kube-controller-manager's resourcequota controller later recounts usage
//! (releasing what deletes freed).

use super::quantity::{milli_of, render};
use super::{Operation, Request, forbidden, lookup};
use crate::registry::Store;
use crate::status::ApiError;
use crate::storage::StorageError;
use apimachinery::quota_scopes;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// Usage per quota resource name, in milli-units.
pub type Usage = BTreeMap<String, i128>;

const CHARGE_RETRIES: usize = 8;

pub async fn validate(store: &Store, req: &Request<'_>, obj: &Value) -> Result<(), ApiError> {
    if !req.def.namespaced || !req.subresource.is_empty() {
        return Ok(());
    }
    let delta = match (req.operation, req.old) {
        (Operation::Create, _) => usage_of(req.def.group, req.def.plural, obj),
        // A claim that grows is charged the difference.
        (Operation::Update, Some(old)) if req.is("", "persistentvolumeclaims") => {
            let (new, old) = (
                usage_of("", "persistentvolumeclaims", obj),
                usage_of("", "persistentvolumeclaims", old),
            );
            new.into_iter()
                .filter_map(|(k, v)| {
                    let d = v - old.get(&k).copied().unwrap_or(0);
                    (d > 0).then_some((k, d))
                })
                .collect()
        }
        _ => return Ok(()),
    };
    if delta.is_empty() {
        return Ok(());
    }
    for attempt in 0..CHARGE_RETRIES {
        // The cache first; after a conflict it may lag etcd, so read live.
        let quotas = if attempt == 0 {
            lookup::list(store, lookup::RESOURCE_QUOTAS, req.namespace).await?
        } else {
            lookup::live_list(store, lookup::RESOURCE_QUOTAS, req.namespace).await?
        };
        let mut charges = Vec::new();
        for q in quotas
            .iter()
            .filter(|q| quota_scopes::applies(q, req.def.group, req.def.plural, obj))
        {
            let hard = hard_of(q);
            if let Some(missing) = unspecified(req, &hard, &delta, obj) {
                return Err(forbidden(
                    req,
                    format!(
                        "failed quota: {}: must specify {missing}",
                        crate::registry::meta::name(q)
                    ),
                ));
            }
            let used = parse_usage(q.pointer("/status/used"));
            match check(&hard, &used, &delta) {
                Ok(Some(new_used)) => charges.push((q, new_used, hard)),
                Ok(None) => {}
                Err(exceeded) => {
                    return Err(forbidden(
                        req,
                        exceeded.message(crate::registry::meta::name(q)),
                    ));
                }
            }
        }
        if req.dry_run {
            return Ok(());
        }
        match charge(store, &charges).await {
            Ok(()) => return Ok(()),
            Err(StorageError::Conflict) => continue,
            Err(e) => return Err(e.to_api()),
        }
    }
    Err(forbidden(
        req,
        "Operation cannot be fulfilled on resourcequotas: the object has been modified; please apply your changes to the latest version and try again",
    ))
}

/// `status.hard` once the controller has copied it; until then `spec.hard`,
/// so a quota binds from the moment it exists.
fn hard_of(q: &Value) -> Usage {
    let status = parse_usage(q.pointer("/status/hard"));
    if status.is_empty() {
        parse_usage(q.pointer("/spec/hard"))
    } else {
        status
    }
}

pub fn parse_usage(v: Option<&Value>) -> Usage {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), milli_of(v)?)))
                .collect()
        })
        .unwrap_or_default()
}

pub fn render_usage(u: &Usage) -> Map<String, Value> {
    u.iter()
        .map(|(k, v)| (k.clone(), json!(render(k, *v))))
        .collect()
}

/// Compute resources a pod must state when a quota limits them.
fn unspecified(req: &Request<'_>, hard: &Usage, delta: &Usage, _obj: &Value) -> Option<String> {
    if !req.is("", "pods") {
        return None;
    }
    let mut missing: Vec<&str> = [
        "requests.cpu",
        "requests.memory",
        "limits.cpu",
        "limits.memory",
        "cpu",
        "memory",
    ]
    .into_iter()
    .filter(|r| hard.contains_key(*r) && !delta.contains_key(*r))
    .collect();
    missing.sort_unstable();
    (!missing.is_empty()).then(|| missing.join(","))
}

/// Resources over their limit, for the message.
#[derive(Debug, PartialEq)]
struct Exceeded {
    requested: String,
    used: String,
    limited: String,
}

impl Exceeded {
    fn message(&self, quota: &str) -> String {
        format!(
            "exceeded quota: {quota}, requested: {}, used: {}, limited: {}",
            self.requested, self.used, self.limited
        )
    }
}

fn pretty(keys: &[&String], u: &Usage) -> String {
    keys.iter()
        .map(|k| format!("{k}={}", render(k, u.get(*k).copied().unwrap_or(0))))
        .collect::<Vec<_>>()
        .join(",")
}

/// The new `used` of one quota (None: the quota limits none of `delta`).
fn check(hard: &Usage, used: &Usage, delta: &Usage) -> Result<Option<Usage>, Exceeded> {
    let relevant: Vec<&String> = delta.keys().filter(|k| hard.contains_key(*k)).collect();
    if relevant.is_empty() {
        return Ok(None);
    }
    let over: Vec<&String> = relevant
        .iter()
        .copied()
        .filter(|k| used.get(*k).copied().unwrap_or(0) + delta[*k] > hard[*k])
        .collect();
    if !over.is_empty() {
        return Err(Exceeded {
            requested: pretty(&over, delta),
            used: pretty(&over, used),
            limited: pretty(&over, hard),
        });
    }
    let mut new = used.clone();
    for k in hard.keys() {
        *new.entry(k.clone()).or_insert(0) += delta.get(k).copied().unwrap_or(0);
    }
    Ok(Some(new))
}

/// Writes each quota's new `status.used` with a CAS on the revision it was
/// read at; any conflict makes the caller re-read and re-check.
async fn charge(store: &Store, charges: &[(&Value, Usage, Usage)]) -> Result<(), StorageError> {
    let def = lookup::def("", "v1", "resourcequotas").map_err(|_| StorageError::NotFound)?;
    let Some(path) = def.etcd_path() else {
        return Err(StorageError::NotFound);
    };
    for (q, used, hard) in charges {
        let rev: i64 = crate::registry::meta::meta_str(q, "resourceVersion")
            .parse()
            .unwrap_or(0);
        let key = store.etcd.keys.object(
            path,
            crate::registry::meta::namespace(q),
            crate::registry::meta::name(q),
        );
        let mut new = (*q).clone();
        let status = crate::validation::json::ensure_obj(&mut new, "status");
        if let Some(s) = status {
            if s.get("hard")
                .and_then(Value::as_object)
                .is_none_or(Map::is_empty)
            {
                s["hard"] = Value::Object(render_usage(hard));
            }
            s["used"] = Value::Object(render_usage(used));
        }
        store.etcd.update(&key, &new, rev).await?;
    }
    Ok(())
}

fn count_name(group: &str, plural: &str) -> String {
    if group.is_empty() {
        format!("count/{plural}")
    } else {
        format!("count/{plural}.{group}")
    }
}

/// What one object costs, by quota resource name (upstream's evaluators:
/// object counts, pod compute resources, claim storage).
pub fn usage_of(group: &str, plural: &str, obj: &Value) -> Usage {
    let mut u = Usage::new();
    u.insert(count_name(group, plural), 1000);
    if group.is_empty()
        && matches!(
            plural,
            "pods"
                | "services"
                | "configmaps"
                | "secrets"
                | "persistentvolumeclaims"
                | "replicationcontrollers"
                | "resourcequotas"
        )
    {
        u.insert(plural.to_string(), 1000);
    }
    match (group, plural) {
        ("", "pods") => pod_usage(obj, &mut u),
        ("", "services") => match obj.pointer("/spec/type").and_then(Value::as_str) {
            Some("NodePort") => {
                u.insert("services.nodeports".into(), 1000 * node_ports(obj));
            }
            Some("LoadBalancer") => {
                u.insert("services.loadbalancers".into(), 1000);
                u.insert("services.nodeports".into(), 1000 * node_ports(obj));
            }
            _ => {}
        },
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

fn node_ports(svc: &Value) -> i128 {
    svc.pointer("/spec/ports")
        .and_then(Value::as_array)
        .map_or(0, |p| p.len() as i128)
}

/// Requests and limits of a pod: the larger of its containers' sum and any
/// single init container, as upstream's PodRequests computes.
fn pod_usage(pod: &Value, u: &mut Usage) {
    if matches!(
        pod.pointer("/status/phase").and_then(Value::as_str),
        Some("Succeeded" | "Failed")
    ) {
        u.remove("pods");
        for k in [
            "requests.cpu",
            "requests.memory",
            "limits.cpu",
            "limits.memory",
        ] {
            u.remove(k);
        }
        return;
    }
    for which in ["requests", "limits"] {
        for res in ["cpu", "memory", "ephemeral-storage"] {
            let get = |c: &Value| {
                c.get("resources")
                    .and_then(|r| r.get(which))
                    .and_then(|m| m.get(res))
                    .and_then(milli_of)
            };
            let list = |k: &str| {
                pod.pointer(&format!("/spec/{k}"))
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
            };
            let main: Vec<Option<i128>> = list("containers").iter().map(get).collect();
            let init: Vec<Option<i128>> = list("initContainers").iter().map(get).collect();
            if main.iter().chain(init.iter()).all(Option::is_none) {
                continue;
            }
            let sum: i128 = main.iter().flatten().sum();
            let total = init.iter().flatten().fold(sum, |acc, i| acc.max(*i));
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
    use crate::admission::quantity::milli;

    fn u(pairs: &[(&str, &str)]) -> Usage {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), milli(v).unwrap_or(0)))
            .collect()
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
        assert_eq!(got["requests.cpu"], 1000);
        assert_eq!(got["cpu"], 1000);
        assert_eq!(got["requests.memory"], milli("64Mi").unwrap_or(0));
        assert_eq!(got["limits.cpu"], 500);
        assert_eq!(
            usage_of("apps", "deployments", &json!({}))["count/deployments.apps"],
            1000
        );
    }

    #[test]
    fn exceeding_reports_upstreams_fields() {
        let hard = u(&[("pods", "1"), ("requests.cpu", "1")]);
        let used = u(&[("pods", "1")]);
        let delta = u(&[("pods", "1"), ("count/pods", "1"), ("requests.cpu", "500m")]);
        let e = check(&hard, &used, &delta).expect_err("exceeded");
        assert_eq!(
            e.message("pods"),
            "exceeded quota: pods, requested: pods=1, used: pods=1, limited: pods=1"
        );
        let new = check(&hard, &u(&[]), &delta)
            .expect("fits")
            .expect("relevant");
        assert_eq!(new["pods"], 1000);
        assert_eq!(new["requests.cpu"], 500);
        assert_eq!(check(&u(&[("secrets", "3")]), &used, &delta), Ok(None));
    }

    #[test]
    fn claims_cost_storage_per_class() {
        let pvc = json!({"spec": {"storageClassName": "fast", "resources": {"requests": {"storage": "1Gi"}}}});
        let got = usage_of("", "persistentvolumeclaims", &pvc);
        assert_eq!(got["requests.storage"], milli("1Gi").unwrap_or(0));
        assert_eq!(
            got["fast.storageclass.storage.k8s.io/persistentvolumeclaims"],
            1000
        );
    }
}
