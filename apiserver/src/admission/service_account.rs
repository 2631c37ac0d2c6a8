//! ServiceAccount: every pod runs as a service account ("default" unless it
//! names one) that must exist, and gets its API credentials as the projected
//! `kube-api-access-<random>` volume (a bound token, the cluster CA from the
//! `kube-root-ca.crt` ConfigMap and the namespace) mounted in every container,
//! unless token automounting is turned off on the pod or the account.

use super::{Operation, Request, forbidden, lookup};
use crate::registry::{Store, meta};
use crate::status::ApiError;
use serde_json::{Value, json};
use std::time::Duration;

pub const DEFAULT_ACCOUNT: &str = "default";
pub const MOUNT_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
const VOLUME_PREFIX: &str = "kube-api-access-";
/// Upstream's bound-token lifetime for the projected volume (1 h + 7 s, so
/// kubelets can tell it from a user-chosen hour).
const TOKEN_SECONDS: i64 = 3607;
/// The "default" account is created by the controller-manager right after
/// its namespace, so upstream looks for it a few times before refusing.
const DEFAULT_ACCOUNT_ATTEMPTS: usize = 10;
const MIRROR_ANNOTATION: &str = "kubernetes.io/config.mirror";

pub async fn admit(store: &Store, req: &Request<'_>, obj: &mut Value) -> Result<(), ApiError> {
    if req.operation != Operation::Create || !req.is("", "pods") {
        return Ok(());
    }
    if is_mirror_pod(obj) {
        return Ok(());
    }
    let name = match obj
        .pointer("/spec/serviceAccountName")
        .and_then(Value::as_str)
    {
        Some(n) if !n.is_empty() => n.to_string(),
        _ => DEFAULT_ACCOUNT.to_string(),
    };
    let account = find_account(store, req.namespace, &name).await?.ok_or_else(|| {
        forbidden(
            req,
            format!(
                "error looking up service account {}/{name}: serviceaccount \"{name}\" not found",
                req.namespace
            ),
        )
    })?;
    mutate(obj, &name, &account);
    Ok(())
}

pub fn is_mirror_pod(pod: &Value) -> bool {
    pod.pointer("/metadata/annotations")
        .and_then(|a| a.get(MIRROR_ANNOTATION))
        .is_some()
}

/// The account, looked up a few times when it is "default" (retry window).
async fn find_account(store: &Store, ns: &str, name: &str) -> Result<Option<Value>, ApiError> {
    let attempts = if name == DEFAULT_ACCOUNT {
        DEFAULT_ACCOUNT_ATTEMPTS
    } else {
        1
    };
    for i in 0..attempts {
        if i > 0 {
            let jitter = u64::from(meta::new_uid().as_bytes()[0] % 100);
            tokio::time::sleep(Duration::from_millis(100 + jitter)).await;
        }
        if let Some(sa) = lookup::get(store, lookup::SERVICE_ACCOUNTS, ns, name).await? {
            return Ok(Some(sa));
        }
    }
    Ok(None)
}

/// The pure part: names the account and mounts its token volume.
fn mutate(pod: &mut Value, name: &str, account: &Value) {
    let Some(spec) = crate::validation::json::ensure_obj(pod, "spec") else {
        return;
    };
    spec["serviceAccountName"] = json!(name);
    spec["serviceAccount"] = json!(name);
    if !automount(spec, account) {
        return;
    }
    let volume_name = existing_volume(spec).unwrap_or_else(|| meta::generate_name(VOLUME_PREFIX));
    let mut mounted = false;
    for list in ["initContainers", "containers"] {
        for c in crate::validation::json::each_mut(spec, list) {
            let has = c
                .get("volumeMounts")
                .and_then(Value::as_array)
                .is_some_and(|m| {
                    m.iter()
                        .any(|m| m.get("mountPath").and_then(Value::as_str) == Some(MOUNT_PATH))
                });
            if has {
                continue;
            }
            if let Some(Value::Array(mounts)) = c
                .as_object_mut()
                .map(|o| o.entry("volumeMounts").or_insert_with(|| json!([])))
            {
                mounts
                    .push(json!({"name": volume_name, "readOnly": true, "mountPath": MOUNT_PATH}));
                mounted = true;
            }
        }
    }
    if mounted
        && existing_volume(spec).is_none()
        && let Some(Value::Array(vols)) = spec
            .as_object_mut()
            .map(|o| o.entry("volumes").or_insert_with(|| json!([])))
    {
        vols.push(token_volume(&volume_name));
    }
}

fn existing_volume(spec: &Value) -> Option<String> {
    spec.get("volumes")?
        .as_array()?
        .iter()
        .filter_map(|v| v.get("name").and_then(Value::as_str))
        .find(|n| n.starts_with(VOLUME_PREFIX))
        .map(String::from)
}

/// The pod's own setting wins over the account's; both unset means mount.
fn automount(spec: &Value, account: &Value) -> bool {
    spec.get("automountServiceAccountToken")
        .and_then(Value::as_bool)
        .or_else(|| {
            account
                .get("automountServiceAccountToken")
                .and_then(Value::as_bool)
        })
        .unwrap_or(true)
}

fn token_volume(name: &str) -> Value {
    json!({
        "name": name,
        "projected": {
            "defaultMode": 420,
            "sources": [
                {"serviceAccountToken": {"expirationSeconds": TOKEN_SECONDS, "path": "token"}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}
            ]
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod() -> Value {
        json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a"}, {"name": "b", "volumeMounts": [{"name": "own", "mountPath": MOUNT_PATH}]}], "initContainers": [{"name": "i"}]}})
    }

    #[test]
    fn default_account_and_token_volume_in_every_container() {
        let mut p = pod();
        mutate(&mut p, "default", &json!({}));
        assert_eq!(p["spec"]["serviceAccountName"], "default");
        assert_eq!(p["spec"]["serviceAccount"], "default");
        let vols = p["spec"]["volumes"].as_array().cloned().unwrap_or_default();
        assert_eq!(vols.len(), 1);
        let vname = vols[0]["name"].as_str().unwrap_or("").to_string();
        assert!(
            vname.starts_with("kube-api-access-") && vname.len() == 21,
            "{vname}"
        );
        let sources = &vols[0]["projected"]["sources"];
        assert_eq!(sources[0]["serviceAccountToken"]["expirationSeconds"], 3607);
        assert_eq!(sources[1]["configMap"]["name"], "kube-root-ca.crt");
        assert_eq!(
            sources[2]["downwardAPI"]["items"][0]["fieldRef"]["fieldPath"],
            "metadata.namespace"
        );
        assert_eq!(
            p["spec"]["containers"][0]["volumeMounts"][0]["name"],
            json!(vname)
        );
        assert_eq!(
            p["spec"]["initContainers"][0]["volumeMounts"][0]["readOnly"],
            true
        );
        // A container that mounts something there already is left alone.
        assert_eq!(
            p["spec"]["containers"][1]["volumeMounts"]
                .as_array()
                .map(Vec::len),
            Some(1)
        );
    }

    #[test]
    fn automount_off_on_pod_or_account() {
        let mut p = pod();
        mutate(
            &mut p,
            "builder",
            &json!({"automountServiceAccountToken": false}),
        );
        assert_eq!(p["spec"]["serviceAccountName"], "builder");
        assert!(p["spec"].get("volumes").is_none());
        let mut p = pod();
        p["spec"]["automountServiceAccountToken"] = json!(true);
        mutate(
            &mut p,
            "builder",
            &json!({"automountServiceAccountToken": false}),
        );
        assert!(p["spec"].get("volumes").is_some());
    }

    #[test]
    fn mirror_pods_are_recognised() {
        assert!(is_mirror_pod(
            &json!({"metadata": {"annotations": {MIRROR_ANNOTATION: "x"}}})
        ));
        assert!(!is_mirror_pod(&pod()));
    }
}
