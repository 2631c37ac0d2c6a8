//! The CRD controller: keeps the registry in step with the stored CRDs,
//! sets `NamesAccepted` and `Established` (with `acceptedNames`) soon after
//! a CRD is created, and carries out a CRD's deletion: its objects first,
//! then the `customresourcecleanup` finalizer (after which the store
//! removes the CRD).
//!
//! It lists and then watches the CRDs in etcd, so every apiserver of a
//! cluster serves the same custom resources; a full resync every few
//! seconds retries what failed (a deletion blocked by objects' finalizers).

use super::registry::{self, CustomResource};
use super::{CLEANUP_FINALIZER, GROUP};
use crate::registry::{DeleteOptions, ListOptions, Store, meta};
use crate::resources::{self, ResourceDef};
use crate::status::ApiError;
use crate::storage::etcd::WatchEventType;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

const RESYNC: Duration = Duration::from_secs(5);

/// Set once the stored CRDs have been loaded (`/readyz` waits for it, so a
/// restarted apiserver is not ready before it serves custom resources).
static SYNCED: AtomicBool = AtomicBool::new(false);

/// Have the stored CRDs been loaded into the registry?
pub fn synced() -> bool {
    SYNCED.load(Ordering::Relaxed)
}

/// CRDs whose deletion is being carried out (one cleanup task each).
static CLEANING: Mutex<Option<HashSet<String>>> = Mutex::new(None);

fn crd_def() -> Result<&'static ResourceDef, ApiError> {
    resources::lookup(GROUP, "v1", "customresourcedefinitions").ok_or_else(ApiError::not_found_path)
}

/// Starts the controller on the runtime.
pub fn spawn(store: Store) {
    tokio::spawn(async move {
        loop {
            if let Err(e) = sync(&store).await {
                tracing::warn!(error = %e.message, "CRD controller: resyncing");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    });
}

/// One list + watch round; returns at the next resync.
async fn sync(store: &Store) -> Result<(), ApiError> {
    let def = crd_def()?;
    let list = store.list(def, "", &ListOptions::default()).await?;
    let rev: i64 = list
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .and_then(|r| r.parse().ok())
        .unwrap_or(0);
    let items = list["items"].as_array().cloned().unwrap_or_default();
    let names: HashSet<String> = items.iter().map(|i| meta::name(i).to_string()).collect();
    for n in registry::installed() {
        if !names.contains(&n) {
            registry::remove(&n);
        }
    }
    for item in items {
        reconcile(store, def, item).await;
    }
    SYNCED.store(true, Ordering::Relaxed);
    let prefix = store.collection_prefix(def, "")?;
    let mut rx = store
        .etcd
        .watch(&prefix, rev)
        .await
        .map_err(|e| e.to_api())?;
    let resync = tokio::time::sleep(RESYNC);
    tokio::pin!(resync);
    loop {
        tokio::select! {
            ev = rx.recv() => match ev {
                Some(Ok(ev)) => match ev.kind {
                    WatchEventType::Deleted => registry::remove(meta::name(&ev.object)),
                    WatchEventType::Added | WatchEventType::Modified => {
                        reconcile(store, def, ev.object).await
                    }
                    WatchEventType::Progress => {}
                },
                Some(Err(e)) => return Err(e.to_api()),
                None => return Ok(()),
            },
            _ = &mut resync => return Ok(()),
        }
    }
}

fn condition<'a>(crd: &'a Value, kind: &str) -> Option<&'a Value> {
    crd.pointer("/status/conditions")
        .and_then(Value::as_array)?
        .iter()
        .find(|c| c["type"] == kind)
}

fn is_established(crd: &Value) -> bool {
    condition(crd, "Established").is_some_and(|c| c["status"] == "True")
}

/// Sets one condition, keeping lastTransitionTime when the status stays.
fn set_condition(status: &mut Value, kind: &str, state: &str, reason: &str, message: &str) {
    if !status.is_object() {
        *status = json!({});
    }
    if !status["conditions"].is_array() {
        status["conditions"] = json!([]);
    }
    let Some(conds) = status["conditions"].as_array_mut() else {
        return;
    };
    let now = meta::now_rfc3339();
    match conds.iter_mut().find(|c| c["type"] == kind) {
        Some(c) => {
            if c["status"] != state {
                c["lastTransitionTime"] = json!(now);
            }
            c["status"] = json!(state);
            c["reason"] = json!(reason);
            c["message"] = json!(message);
        }
        None => conds.push(json!({
            "type": kind, "status": state, "lastTransitionTime": now,
            "reason": reason, "message": message,
        })),
    }
}

/// A name of `cr` another CRD of the same group already uses, with the
/// condition reason upstream gives it.
fn name_conflict(cr: &CustomResource) -> Option<(&'static str, String)> {
    for other in registry::all() {
        if other.name == cr.name || other.group != cr.group {
            continue;
        }
        let theirs: Vec<&str> = [other.plural.as_str(), other.singular.as_str()]
            .into_iter()
            .chain(other.short_names.iter().map(String::as_str))
            .collect();
        if theirs.contains(&cr.plural.as_str()) {
            return Some((
                "PluralConflict",
                format!("{:?} is already in use", cr.plural),
            ));
        }
        if theirs.contains(&cr.singular.as_str()) {
            return Some((
                "SingularConflict",
                format!("{:?} is already in use", cr.singular),
            ));
        }
        if let Some(s) = cr.short_names.iter().find(|s| theirs.contains(&s.as_str())) {
            return Some(("ShortNamesConflict", format!("{s:?} is already in use")));
        }
        if other.kind == cr.kind || other.list_kind == cr.kind {
            return Some(("KindConflict", format!("{:?} is already in use", cr.kind)));
        }
        if other.kind == cr.list_kind || other.list_kind == cr.list_kind {
            return Some((
                "ListKindConflict",
                format!("{:?} is already in use", cr.list_kind),
            ));
        }
    }
    None
}

/// The status the CRD should have, and whether it is served.
fn desired_status(crd: &Value, cr: &CustomResource) -> (Value, bool) {
    let mut status = crd.get("status").cloned().unwrap_or(json!({}));
    let served = match name_conflict(cr) {
        Some((reason, message)) => {
            set_condition(&mut status, "NamesAccepted", "False", reason, &message);
            if !is_established(crd) {
                set_condition(
                    &mut status,
                    "Established",
                    "False",
                    "NotAccepted",
                    "not all names are accepted",
                );
            }
            is_established(crd)
        }
        None => {
            set_condition(
                &mut status,
                "NamesAccepted",
                "True",
                "NoConflicts",
                "no conflicts found",
            );
            let mut accepted = json!({
                "plural": cr.plural, "singular": cr.singular, "kind": cr.kind, "listKind": cr.list_kind,
            });
            if !cr.short_names.is_empty() {
                accepted["shortNames"] = json!(cr.short_names);
            }
            if !cr.categories.is_empty() {
                accepted["categories"] = json!(cr.categories);
            }
            status["acceptedNames"] = accepted;
            if !is_established(crd) {
                set_condition(
                    &mut status,
                    "Established",
                    "True",
                    "InitialNamesAccepted",
                    "the initial names have been accepted",
                );
            }
            true
        }
    };
    (status, served)
}

async fn reconcile(store: &Store, def: &'static ResourceDef, crd: Value) {
    let Some(cr) = CustomResource::from_crd(&crd) else {
        return;
    };
    let name = cr.name.clone();
    if meta::is_deleting(&crd) {
        if is_established(&crd) {
            registry::install(cr);
        }
        start_cleanup(store.clone(), def, crd);
        return;
    }
    let (status, served) = desired_status(&crd, &cr);
    if served {
        registry::install(cr);
    }
    if crd.get("status") == Some(&status) {
        return;
    }
    let change = move |cur: &Value| -> Result<Value, ApiError> {
        let mut n = cur.clone();
        n["status"] = status.clone();
        Ok(n)
    };
    if let Err(e) = store.patch(def, "", &name, "status", false, &change).await
        && e.code != 404
    {
        tracing::warn!(crd = %name, error = %e.message, "setting CRD conditions");
    }
}

fn start_cleanup(store: Store, def: &'static ResourceDef, crd: Value) {
    let name = meta::name(&crd).to_string();
    if let Ok(mut g) = CLEANING.lock() {
        let set = g.get_or_insert_with(HashSet::new);
        if !set.insert(name.clone()) {
            return;
        }
    }
    tokio::spawn(async move {
        let result = cleanup(&store, def, &crd).await;
        if let Err(e) = &result {
            tracing::warn!(crd = %name, error = %e.message, "deleting the CRD's objects; retrying");
        }
        if let Ok(mut g) = CLEANING.lock()
            && let Some(set) = g.as_mut()
        {
            set.remove(&name);
        }
    });
}

/// Marks the CRD Terminating, deletes its objects until none are left,
/// then drops the finalizer.
async fn cleanup(store: &Store, def: &'static ResourceDef, crd: &Value) -> Result<(), ApiError> {
    let name = meta::name(crd).to_string();
    let terminating = |cur: &Value| -> Result<Value, ApiError> {
        let mut n = cur.clone();
        set_condition(
            &mut n["status"],
            "Terminating",
            "True",
            "InstanceDeletionInProgress",
            "CustomResource deletion is in progress",
        );
        Ok(n)
    };
    store
        .patch(def, "", &name, "status", false, &terminating)
        .await?;
    let cr = CustomResource::from_crd(crd).ok_or_else(ApiError::not_found_path)?;
    if let Some(objects) = resources::lookup(&cr.group, cr.storage_version(), &cr.plural) {
        for _ in 0..60 {
            store
                .delete_collection(
                    objects,
                    "",
                    &ListOptions::default(),
                    &DeleteOptions::default(),
                )
                .await?;
            let left = store.list(objects, "", &ListOptions::default()).await?;
            if left["items"].as_array().is_none_or(Vec::is_empty) {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        let left = store.list(objects, "", &ListOptions::default()).await?;
        if !left["items"].as_array().is_none_or(Vec::is_empty) {
            return Err(ApiError::internal(
                "custom resources are still being deleted",
            ));
        }
    }
    let finish = |cur: &Value| -> Result<Value, ApiError> {
        let mut n = cur.clone();
        let fins: Vec<String> = meta::finalizers(cur)
            .into_iter()
            .filter(|f| f != CLEANUP_FINALIZER)
            .collect();
        meta::metadata_mut(&mut n).insert("finalizers".into(), json!(fins));
        Ok(n)
    };
    store.patch(def, "", &name, "", false, &finish).await?;
    registry::remove(&name);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_crd_gets_accepted_and_established() {
        let crd = json!({"metadata": {"name": "things.ctl.example.com"},
            "spec": {"group": "ctl.example.com", "scope": "Namespaced",
                "names": {"plural": "things", "kind": "Thing", "shortNames": ["th"]},
                "versions": [{"name": "v1", "served": true, "storage": true}]}});
        let cr = CustomResource::from_crd(&crd).expect("parses");
        let (status, served) = desired_status(&crd, &cr);
        assert!(served);
        let types: Vec<(&str, &str, &str)> = status["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                (
                    c["type"].as_str().unwrap_or(""),
                    c["status"].as_str().unwrap_or(""),
                    c["reason"].as_str().unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(
            types,
            vec![
                ("NamesAccepted", "True", "NoConflicts"),
                ("Established", "True", "InitialNamesAccepted")
            ]
        );
        assert_eq!(status["acceptedNames"]["shortNames"], json!(["th"]));
        assert_eq!(status["acceptedNames"]["listKind"], "ThingList");
        // Applying the same status again changes nothing.
        let mut again = crd.clone();
        again["status"] = status.clone();
        assert_eq!(desired_status(&again, &cr).0, status);
    }

    #[test]
    fn conflicting_short_name_is_not_accepted() {
        let a = json!({"metadata": {"name": "alphas.conf.example.com"},
            "spec": {"group": "conf.example.com", "scope": "Namespaced",
                "names": {"plural": "alphas", "kind": "Alpha", "shortNames": ["al"]},
                "versions": [{"name": "v1", "served": true, "storage": true}]}});
        registry::install(CustomResource::from_crd(&a).expect("parses"));
        let b = json!({"metadata": {"name": "alleys.conf.example.com"},
            "spec": {"group": "conf.example.com", "scope": "Namespaced",
                "names": {"plural": "alleys", "kind": "Alley", "shortNames": ["al"]},
                "versions": [{"name": "v1", "served": true, "storage": true}]}});
        let cr = CustomResource::from_crd(&b).expect("parses");
        let (status, served) = desired_status(&b, &cr);
        registry::remove("alphas.conf.example.com");
        assert!(!served);
        assert_eq!(
            condition(&json!({"status": status.clone()}), "NamesAccepted")
                .map(|c| c["reason"].clone()),
            Some(json!("ShortNamesConflict"))
        );
        assert_eq!(
            condition(&json!({"status": status}), "Established").map(|c| c["status"].clone()),
            Some(json!("False"))
        );
    }
}
