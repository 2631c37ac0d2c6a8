//! What exists on every start: the system namespaces, the system priority
//! classes and the RBAC bootstrap policy (reconciled on every start).

use crate::registry::Store;
use crate::resources;
use crate::status::ApiError;
use serde_json::{Value, json};
use std::time::Duration;

/// The namespaces upstream creates at start.
pub const SYSTEM_NAMESPACES: &[&str] =
    &["default", "kube-system", "kube-public", "kube-node-lease"];

fn priority_classes() -> Vec<Value> {
    [("system-node-critical", 2000001000), ("system-cluster-critical", 2000000000)]
        .iter()
        .map(|(name, value)| {
            json!({
                "apiVersion": "scheduling.k8s.io/v1",
                "kind": "PriorityClass",
                "metadata": { "name": name },
                "value": value,
                "globalDefault": false,
                "preemptionPolicy": "PreemptLowerPriority",
                "description": if *name == "system-node-critical" {
                    "Used for system critical pods that must not be moved from their current node."
                } else {
                    "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary."
                },
            })
        })
        .collect()
}

/// Creates `obj` unless it exists.
async fn ensure(store: &Store, group: &str, kind: &str, obj: Value) -> Result<(), ApiError> {
    let def = resources::by_kind(group, kind).ok_or_else(ApiError::not_found_path)?;
    let ns = obj
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    // Look first: creating a Service that exists would fail on its
    // (already allocated) address before the name clash.
    match store.get(def, &ns, &name).await {
        Ok(_) => return Ok(()),
        Err(e) if e.code != 404 => return Err(e),
        Err(_) => {}
    }
    match store.create(def, &ns, obj, false).await {
        Ok(_) => Ok(()),
        Err(e) if e.code == 409 => Ok(()),
        Err(e) => Err(e),
    }
}

/// Creates or reconciles one bootstrap RBAC object: objects annotated
/// `rbac.authorization.kubernetes.io/autoupdate: "true"` get the default
/// rules/subjects back on every start; others are left as the admin set them.
async fn reconcile_rbac(store: &Store, kind: &str, obj: Value) -> Result<(), ApiError> {
    let def = resources::by_kind("rbac.authorization.k8s.io", kind)
        .ok_or_else(ApiError::not_found_path)?;
    let ns = obj
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    match store.create(def, &ns, obj.clone(), false).await {
        Ok(_) => return Ok(()),
        Err(e) if e.code != 409 => return Err(e),
        Err(_) => {}
    }
    let change = move |cur: &Value| -> Result<Value, ApiError> {
        let auto = cur
            .pointer("/metadata/annotations/rbac.authorization.kubernetes.io~1autoupdate")
            .and_then(Value::as_str)
            != Some("false");
        let mut new = cur.clone();
        if auto {
            // An aggregated role's rules belong to the aggregation controller.
            let aggregated = obj.get("aggregationRule").is_some();
            for field in ["rules", "aggregationRule", "subjects", "roleRef"] {
                if aggregated && field == "rules" {
                    continue;
                }
                match obj.get(field) {
                    Some(v) => new[field] = v.clone(),
                    None => {
                        if let Some(o) = new.as_object_mut() {
                            o.remove(field);
                        }
                    }
                }
            }
        }
        Ok(new)
    };
    match store.patch(def, &ns, &name, "", false, &change).await {
        Ok(_) => Ok(()),
        // roleRef is immutable upstream; a changed one is left for the admin.
        Err(e) if e.code == 422 => Ok(()),
        Err(e) => Err(e),
    }
}

/// Where clients reach this apiserver (for the `kubernetes` Service).
#[derive(Debug, Clone)]
pub struct Master {
    pub ip: String,
    pub port: u16,
}

/// The `kubernetes` Service in `default` (first IP of the service range),
/// and its Endpoints and EndpointSlice pointing at this apiserver.
async fn kubernetes_service(store: &Store, master: &Master) -> Result<(), ApiError> {
    let cluster_ip = store
        .services
        .as_ref()
        .map(|a| a.first_ip().to_string())
        .unwrap_or_default();
    let svc = json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "kubernetes", "namespace": "default",
            "labels": {"component": "apiserver", "provider": "kubernetes"}},
        "spec": {
            "type": "ClusterIP",
            "clusterIP": cluster_ip,
            "sessionAffinity": "None",
            "internalTrafficPolicy": "Cluster",
            "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": master.port}],
        },
    });
    ensure(store, "", "Service", svc).await?;
    let endpoints = json!({
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {"name": "kubernetes", "namespace": "default",
            "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
        "subsets": [{
            "addresses": [{"ip": master.ip}],
            "ports": [{"name": "https", "port": master.port, "protocol": "TCP"}],
        }],
    });
    put(store, "", "Endpoints", endpoints).await?;
    let slice = json!({
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": "kubernetes", "namespace": "default",
            "labels": {"kubernetes.io/service-name": "kubernetes"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": [master.ip], "conditions": {"ready": true}}],
        "ports": [{"name": "https", "port": master.port, "protocol": "TCP"}],
    });
    put(store, "discovery.k8s.io", "EndpointSlice", slice).await
}

/// Creates `obj`, or makes the stored one match it (the apiserver owns it).
async fn put(store: &Store, group: &str, kind: &str, obj: Value) -> Result<(), ApiError> {
    let def = resources::by_kind(group, kind).ok_or_else(ApiError::not_found_path)?;
    let ns = obj
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    match store.create(def, &ns, obj.clone(), false).await {
        Ok(_) => return Ok(()),
        Err(e) if e.code != 409 => return Err(e),
        Err(_) => {}
    }
    let change = move |cur: &Value| -> Result<Value, ApiError> {
        let mut new = obj.clone();
        new["metadata"] = cur.get("metadata").cloned().unwrap_or(json!({}));
        Ok(new)
    };
    store
        .patch(def, &ns, &name, "", false, &change)
        .await
        .map(|_| ())
}

/// Runs the bootstrap once; errors (etcd not up yet) are returned so the
/// caller can retry.
pub async fn run_once(store: &Store, master: &Master) -> Result<(), ApiError> {
    for ns in SYSTEM_NAMESPACES {
        ensure(
            store,
            "",
            "Namespace",
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
        )
        .await?;
    }
    kubernetes_service(store, master).await?;
    for pc in priority_classes() {
        ensure(store, "scheduling.k8s.io", "PriorityClass", pc).await?;
    }
    // The policy is ~150 independent objects: reconcile them concurrently
    // (etcd round trips dominate start-up otherwise).
    let policy: Vec<(&'static str, Value)> = crate::rbac::bootstrap::cluster_roles()
        .into_iter()
        .map(|o| ("ClusterRole", o))
        .chain(
            crate::rbac::bootstrap::cluster_role_bindings()
                .into_iter()
                .map(|o| ("ClusterRoleBinding", o)),
        )
        .chain(
            crate::rbac::bootstrap::roles()
                .into_iter()
                .map(|o| ("Role", o)),
        )
        .chain(
            crate::rbac::bootstrap::role_bindings()
                .into_iter()
                .map(|o| ("RoleBinding", o)),
        )
        .collect();
    for chunk in policy.chunks(16) {
        futures_util::future::try_join_all(
            chunk
                .iter()
                .map(|(kind, o)| reconcile_rbac(store, kind, o.clone())),
        )
        .await?;
    }
    Ok(())
}

/// Retries the bootstrap until it succeeds (etcd may start after us).
pub async fn run(store: Store, master: Master) {
    loop {
        match run_once(&store, &master).await {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!("bootstrap not done yet: {e}");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}
