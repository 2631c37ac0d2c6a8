//! What may change on a running pod (`ValidatePodUpdate`): container
//! images, a lower activeDeadlineSeconds, added tolerations, removed
//! scheduling gates, and terminationGracePeriodSeconds from negative to 1.
//! Everything else in `spec` is fixed once the pod exists.

use super::super::field::{ErrorList, FieldError};
use super::super::json::{arr_at, int_at, present};
use super::super::meta::{same, validate_object_meta_update};
use super::validate_pod_spec;
use serde_json::{Value, json};

/// Upstream's list of what a pod update may touch, joined as it prints it.
const UPDATABLE_FIELDS: &str = "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

/// `ValidatePodUpdate`.
pub fn validate_pod_update(new: &Value, old: &Value) -> ErrorList {
    let mut errs = validate_object_meta_update(new, old);
    let null = Value::Null;
    let ns = new.get("spec").unwrap_or(&null);
    let os = old.get("spec").unwrap_or(&null);
    errs.extend(validate_pod_spec(ns, "spec"));

    for list in ["containers", "initContainers"] {
        let (n, o) = (arr_at(ns, list), arr_at(os, list));
        if n.len() != o.len() {
            errs.push(FieldError::forbidden(
                format!("spec.{list}"),
                "pod updates may not add or remove containers",
            ));
            return errs;
        }
    }

    if let Some(new_ads) = int_at(ns, "activeDeadlineSeconds") {
        if !(0..=i64::from(i32::MAX)).contains(&new_ads) {
            errs.push(FieldError::invalid(
                "spec.activeDeadlineSeconds",
                json!(new_ads),
                super::super::names::inclusive_range_error(0, i64::from(i32::MAX)),
            ));
            return errs;
        }
        if let Some(old_ads) = int_at(os, "activeDeadlineSeconds")
            && old_ads < new_ads
        {
            errs.push(FieldError::invalid(
                "spec.activeDeadlineSeconds",
                json!(new_ads),
                "must be less than or equal to previous value",
            ));
            return errs;
        }
    } else if present(os, "activeDeadlineSeconds").is_some() {
        errs.push(FieldError::invalid(
            "spec.activeDeadlineSeconds",
            Value::Null,
            "must not update from a positive integer to nil value",
        ));
    }

    errs.extend(validate_only_added_tolerations(
        arr_at(ns, "tolerations"),
        arr_at(os, "tolerations"),
    ));

    if !same(Some(ns), Some(os)) && !same(Some(&munge(ns, os)), Some(os)) {
        errs.push(FieldError::forbidden(
            "spec",
            format!("pod updates may not change fields other than {UPDATABLE_FIELDS}"),
        ));
    }
    errs
}

/// The new spec with every updatable field set back to the old value, so
/// what remains different is forbidden.
fn munge(new: &Value, old: &Value) -> Value {
    let mut m = new.clone();
    for list in ["containers", "initContainers"] {
        let old_list = arr_at(old, list);
        if let Some(items) = m.get_mut(list).and_then(Value::as_array_mut) {
            for (c, oc) in items.iter_mut().zip(old_list) {
                if let Some(obj) = c.as_object_mut() {
                    match oc.get("image") {
                        Some(img) => obj.insert("image".into(), img.clone()),
                        None => obj.remove("image"),
                    };
                }
            }
        }
    }
    if let Some(obj) = m.as_object_mut() {
        for f in ["activeDeadlineSeconds", "tolerations", "schedulingGates"] {
            match old.get(f) {
                Some(v) => obj.insert(f.into(), v.clone()),
                None => obj.remove(f),
            };
        }
        let old_grace = int_at(old, "terminationGracePeriodSeconds");
        let new_grace = int_at(new, "terminationGracePeriodSeconds");
        if old_grace.is_some_and(|g| g < 0) && new_grace == Some(1) {
            obj.insert("terminationGracePeriodSeconds".into(), json!(old_grace));
        }
    }
    m
}

/// `validateOnlyAddedTolerations`: every old toleration must still be
/// there (a NoExecute one may only lower its tolerationSeconds).
fn validate_only_added_tolerations(new: &[Value], old: &[Value]) -> ErrorList {
    let mut errs = ErrorList::new();
    for o in old {
        let found = new.iter().any(|n| {
            let key_fields = ["key", "operator", "value", "effect"];
            if !key_fields.iter().all(|f| same(n.get(*f), o.get(*f))) {
                return false;
            }
            match (
                int_at(o, "tolerationSeconds"),
                int_at(n, "tolerationSeconds"),
            ) {
                (None, None) => true,
                (Some(os), Some(ns)) => ns <= os,
                (None, Some(_)) => false,
                (Some(_), None) => false,
            }
        });
        if !found {
            errs.push(FieldError::forbidden(
                "spec.tolerations",
                "existing toleration can not be modified except its tolerationSeconds",
            ));
            return errs;
        }
    }
    errs
}

/// `ValidatePodStatusUpdate`: metadata rules and container restart counts;
/// the spec is not looked at (the status strategy keeps the old one).
pub fn validate_pod_status_update(new: &Value, old: &Value) -> ErrorList {
    let mut errs = validate_object_meta_update(new, old);
    let null = Value::Null;
    let status = new.get("status").unwrap_or(&null);
    for list in [
        "containerStatuses",
        "initContainerStatuses",
        "ephemeralContainerStatuses",
    ] {
        for (i, cs) in arr_at(status, list).iter().enumerate() {
            let restart = int_at(cs, "restartCount").unwrap_or(0);
            if restart < 0 {
                errs.push(FieldError::invalid(
                    format!("status.{list}[{i}].restartCount"),
                    json!(restart),
                    super::super::meta::IS_NEGATIVE_ERROR_MSG,
                ));
            }
        }
    }
    errs
}
