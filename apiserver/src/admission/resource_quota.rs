//! ResourceQuota: a create that would take a namespace past a quota's hard
//! limits is refused (403 "exceeded quota: ..."); an admitted one is charged
//! to the quota's `status.used` by compare-and-swap before it is stored, so
//! two concurrent creates cannot both take the last unit. The
//! kube-controller-manager's resourcequota controller later recounts usage
//! (releasing what deletes freed).

use super::{Operation, Request, forbidden, lookup};
use crate::registry::Store;
use crate::status::ApiError;
use crate::storage::StorageError;
use apimachinery::quota_scopes;
use apimachinery::quota_usage::render;
pub use apimachinery::quota_usage::{Usage, parse_usage, render_usage, usage_of};
use serde_json::{Map, Value};

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

#[cfg(test)]
mod tests {
    use super::*;
    use apimachinery::quota_usage::milli;

    fn u(pairs: &[(&str, &str)]) -> Usage {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), milli(v).unwrap_or(0)))
            .collect()
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
}
