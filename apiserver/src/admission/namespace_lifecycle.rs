//! NamespaceLifecycle: nothing is created in a namespace that does not exist
//! or is being terminated, and the system namespaces cannot be deleted.

use super::{Operation, Request, forbidden};
use crate::registry::Store;
use crate::registry::namespaces_cache::NamespacePhase;
use crate::status::{ApiError, Target};
use serde_json::json;

/// Namespaces upstream never lets anyone delete.
const IMMORTAL: [&str; 3] = ["default", "kube-system", "kube-public"];

pub async fn validate(store: &Store, req: &Request<'_>) -> Result<(), ApiError> {
    if req.operation == Operation::Delete {
        return check_delete(req);
    }
    if req.operation != Operation::Create || !req.def.namespaced || req.def.plural == "namespaces" {
        return Ok(());
    }
    let phase = store
        .namespaces
        .phase(&store.etcd, req.namespace)
        .await
        .map_err(|e| e.to_api())?;
    check_namespace(req, phase)
}

fn check_delete(req: &Request<'_>) -> Result<(), ApiError> {
    if req.is("", "namespaces") && IMMORTAL.contains(&req.name) {
        return Err(forbidden(req, "this namespace may not be deleted"));
    }
    Ok(())
}

/// The pure decision for a create in a namespace of `phase` (None = missing).
fn check_namespace(req: &Request<'_>, phase: Option<NamespacePhase>) -> Result<(), ApiError> {
    match phase {
        None => Err(ApiError::not_found(Target {
            group: "",
            resource: "namespaces",
            name: req.namespace,
        })),
        // Events may still be written while a namespace goes away.
        Some(NamespacePhase::Terminating) if !req.is("", "events") => {
            let mut e = forbidden(
                req,
                format!(
                    "unable to create new content in namespace {} because it is being terminated",
                    req.namespace
                ),
            );
            e.details["causes"] = json!([{
                "reason": "NamespaceTerminating",
                "message": format!("namespace {} is being terminated", req.namespace),
                "field": "metadata.namespace"
            }]);
            Err(e)
        }
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admission::test_request;

    fn req(op: Operation, plural: &str, ns: &'static str, name: &'static str) -> Request<'static> {
        test_request(
            op,
            ("", "v1", Box::leak(plural.to_string().into_boxed_str())),
            ns,
            name,
        )
    }

    #[test]
    fn creates_need_a_live_namespace() {
        let r = req(Operation::Create, "pods", "x", "p");
        let e = check_namespace(&r, None).expect_err("missing");
        assert_eq!(
            (e.code, e.message.as_str()),
            (404, "namespaces \"x\" not found")
        );
        let dying = NamespacePhase::of(
            &json!({"metadata": {"name": "x", "deletionTimestamp": "2026-01-01T00:00:00Z"}}),
        );
        let e = check_namespace(&r, Some(dying)).expect_err("terminating");
        assert_eq!(e.code, 403);
        assert_eq!(
            e.message,
            "pods \"p\" is forbidden: unable to create new content in namespace x because it is being terminated"
        );
        assert!(check_namespace(&r, Some(NamespacePhase::Active)).is_ok());
    }

    #[test]
    fn system_namespaces_are_undeletable() {
        let r = req(Operation::Delete, "namespaces", "", "kube-system");
        let e = check_delete(&r).expect_err("immortal");
        assert_eq!(
            e.message,
            "namespaces \"kube-system\" is forbidden: this namespace may not be deleted"
        );
        let r = req(Operation::Delete, "namespaces", "", "team-a");
        assert!(check_delete(&r).is_ok());
    }
}
