//! Deleting objects: preconditions, graceful termination of bound pods,
//! finalizers and `propagationPolicy`, namespaces going Terminating, and
//! deletecollection. An object that must wait is only marked
//! (`deletionTimestamp`); the last finalizer's removal deletes it (see
//! `Store::update`).

use super::meta::{self, metadata_mut};
use super::store::{CAS_RETRIES, ListOptions, Store, target};
use super::strategy::namespaces::has_spec_finalizers;
use crate::allocator::service;
use crate::resources::ResourceDef;
use crate::status::ApiError;
use crate::storage::StorageError;
use serde_json::{Value, json};

/// `DeleteOptions` as the body or query give them.
#[derive(Default, Debug)]
pub struct DeleteOptions {
    pub grace_period_seconds: Option<i64>,
    pub propagation_policy: Option<String>,
    pub precondition_uid: Option<String>,
    pub precondition_rv: Option<String>,
    pub dry_run: bool,
}

/// What a delete did: removed the object now, or only marked it.
pub enum DeleteOutcome {
    Deleted(Value),
    /// Waiting for finalizers or a graceful termination.
    Marked(Value),
}

impl DeleteOutcome {
    pub fn into_object(self) -> Value {
        match self {
            DeleteOutcome::Deleted(v) | DeleteOutcome::Marked(v) => v,
        }
    }
}

impl Store {
    /// DELETE of one object: preconditions, graceful deletion, finalizers.
    pub async fn delete(
        &self,
        def: &ResourceDef,
        ns: &str,
        name: &str,
        opts: &DeleteOptions,
    ) -> Result<DeleteOutcome, ApiError> {
        for _ in 0..CAS_RETRIES {
            let current = self.read(def, ns, name).await?;
            let obj = Self::served(def, current.value.clone());
            if let Some(uid) = &opts.precondition_uid {
                let have = meta::meta_str(&obj, "uid");
                if uid != have {
                    return Err(ApiError::conflict(
                        target(def, name),
                        &format!(
                            "Precondition failed: UID in precondition: {uid}, UID in object meta: {have}"
                        ),
                    ));
                }
            }
            if let Some(rv) = &opts.precondition_rv {
                let have = current.mod_revision.to_string();
                if *rv != have {
                    return Err(ApiError::conflict(
                        target(def, name),
                        &format!(
                            "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {have}"
                        ),
                    ));
                }
            }
            self.validate_admission(
                crate::admission::Operation::Delete,
                def,
                ns,
                name,
                "",
                Some(&obj),
                &obj,
                opts.dry_run,
            )
            .await?;
            let key = self.key(def, ns, name)?;
            let marked = mark_for_deletion(def, &obj, opts);
            let result = match marked {
                Some(new) => {
                    if opts.dry_run {
                        return Ok(DeleteOutcome::Marked(new));
                    }
                    if new == obj {
                        return Ok(DeleteOutcome::Marked(obj));
                    }
                    // Stored in the storage version, served in `def`'s.
                    let stored = super::convert::storage_def(def)
                        .map(|_| super::convert::to_storage(def, new.clone()));
                    self.etcd
                        .update(&key, stored.as_ref().unwrap_or(&new), current.mod_revision)
                        .await
                        .map(|rev| {
                            let mut new = new;
                            crate::storage::etcd::set_resource_version(&mut new, rev);
                            DeleteOutcome::Marked(new)
                        })
                }
                None => {
                    if opts.dry_run {
                        return Ok(DeleteOutcome::Deleted(obj));
                    }
                    let gone = self.etcd.delete(&key, current.mod_revision).await;
                    if gone.is_ok()
                        && let Some(a) = self.allocators(def)
                    {
                        service::release_all(a, &obj).await;
                    }
                    gone.map(|_| DeleteOutcome::Deleted(obj))
                }
            };
            match result {
                Err(StorageError::Conflict) => continue,
                Err(StorageError::NotFound) => return Err(ApiError::not_found(target(def, name))),
                Err(e) => return Err(e.to_api()),
                Ok(o) => return Ok(o),
            }
        }
        Err(ApiError::stale(target(def, name)))
    }

    /// DELETE of a collection: every matching object, one by one.
    pub async fn delete_collection(
        &self,
        def: &ResourceDef,
        ns: &str,
        list: &ListOptions,
        opts: &DeleteOptions,
    ) -> Result<Value, ApiError> {
        let mut listed = self.list(def, ns, list).await?;
        let mut deleted = Vec::new();
        if let Some(items) = listed.get_mut("items").and_then(Value::as_array_mut) {
            for item in items.drain(..) {
                let name = meta::name(&item).to_string();
                let item_ns = meta::namespace(&item).to_string();
                match self.delete(def, &item_ns, &name, opts).await {
                    Ok(o) => deleted.push(o.into_object()),
                    Err(e) if e.code == 404 => {}
                    Err(e) => return Err(e),
                }
            }
        }
        listed["items"] = Value::Array(deleted);
        Ok(listed)
    }
}

/// The object as it should look after a delete request that does not
/// remove it right away, or `None` when it can go now.
fn mark_for_deletion(def: &ResourceDef, obj: &Value, opts: &DeleteOptions) -> Option<Value> {
    let mut new = obj.clone();
    let mut fins = meta::finalizers(obj);
    match opts.propagation_policy.as_deref() {
        Some("Foreground") if !fins.iter().any(|f| f == "foregroundDeletion") => {
            fins.push("foregroundDeletion".into())
        }
        Some("Orphan") if !fins.iter().any(|f| f == "orphan") => fins.push("orphan".into()),
        _ => {}
    }
    let ns_waits = def.plural == "namespaces" && def.group.is_empty() && has_spec_finalizers(obj);
    // Pods bound to a node terminate gracefully: the kubelet stops the
    // containers and then deletes with grace 0.
    let grace = if def.plural == "pods" && def.group.is_empty() {
        let bound = obj
            .pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .is_some_and(|n| !n.is_empty());
        let spec_grace = obj
            .pointer("/spec/terminationGracePeriodSeconds")
            .and_then(Value::as_i64)
            .unwrap_or(30);
        let g = opts.grace_period_seconds.unwrap_or(spec_grace);
        if bound && g > 0 { Some(g) } else { None }
    } else {
        None
    };
    if fins.is_empty() && !ns_waits && grace.is_none() {
        return None;
    }
    let already = meta::is_deleting(obj);
    let m = metadata_mut(&mut new);
    if !fins.is_empty() {
        m.insert("finalizers".into(), json!(fins));
    }
    if !already {
        let g = grace.unwrap_or(0);
        m.insert("deletionTimestamp".into(), json!(meta::rfc3339_after(g)));
        m.insert("deletionGracePeriodSeconds".into(), json!(g));
    } else if let Some(g) = grace {
        // A shorter grace period may shorten a running termination.
        let cur = m
            .get("deletionGracePeriodSeconds")
            .and_then(Value::as_i64)
            .unwrap_or(i64::MAX);
        if g < cur {
            m.insert("deletionTimestamp".into(), json!(meta::rfc3339_after(g)));
            m.insert("deletionGracePeriodSeconds".into(), json!(g));
        }
    }
    if ns_waits && let Some(o) = new.as_object_mut() {
        o.insert("status".into(), json!({"phase": "Terminating"}));
    }
    Some(new)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::lookup;

    #[test]
    fn deletion_marks_objects_with_finalizers() {
        let cm = lookup("", "v1", "configmaps").expect("served");
        let plain = json!({"metadata": {"name": "a"}});
        assert!(mark_for_deletion(cm, &plain, &DeleteOptions::default()).is_none());
        let held = json!({"metadata": {"name": "a", "finalizers": ["x/y"]}});
        let m = mark_for_deletion(cm, &held, &DeleteOptions::default()).expect("kept");
        assert!(meta::is_deleting(&m));
        let fg = DeleteOptions {
            propagation_policy: Some("Foreground".into()),
            ..Default::default()
        };
        let m = mark_for_deletion(cm, &plain, &fg).expect("kept");
        assert_eq!(m["metadata"]["finalizers"], json!(["foregroundDeletion"]));
    }

    #[test]
    fn bound_pods_terminate_gracefully() {
        let pods = lookup("", "v1", "pods").expect("served");
        let unbound = json!({"metadata": {"name": "p"}, "spec": {}});
        assert!(mark_for_deletion(pods, &unbound, &DeleteOptions::default()).is_none());
        let bound = json!({"metadata": {"name": "p"}, "spec": {"nodeName": "n1"}});
        let m = mark_for_deletion(pods, &bound, &DeleteOptions::default()).expect("graceful");
        assert_eq!(m["metadata"]["deletionGracePeriodSeconds"], 30);
        let now = DeleteOptions {
            grace_period_seconds: Some(0),
            ..Default::default()
        };
        assert!(mark_for_deletion(pods, &bound, &now).is_none());
    }

    #[test]
    fn namespaces_go_terminating() {
        let ns = lookup("", "v1", "namespaces").expect("served");
        let obj = json!({"metadata": {"name": "a"}, "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}});
        let m = mark_for_deletion(ns, &obj, &DeleteOptions::default()).expect("kept");
        assert_eq!(m["status"]["phase"], "Terminating");
    }
}
