//! StorageObjectInUseProtection: new PVCs and PVs carry the protection
//! finalizer, so they outlive the pods (and claims) that still use them.

use super::{Operation, Request};
use serde_json::{Value, json};

pub fn admit(req: &Request<'_>, obj: &mut Value) {
    if req.operation != Operation::Create {
        return;
    }
    let finalizer = if req.is("", "persistentvolumeclaims") {
        "kubernetes.io/pvc-protection"
    } else if req.is("", "persistentvolumes") {
        "kubernetes.io/pv-protection"
    } else {
        return;
    };
    let m = crate::registry::meta::metadata_mut(obj);
    let Some(Value::Array(list)) = Some(m.entry("finalizers").or_insert_with(|| json!([]))) else {
        return;
    };
    if !list.iter().any(|f| f.as_str() == Some(finalizer)) {
        list.push(json!(finalizer));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admission::test_request;

    #[test]
    fn claims_and_volumes_get_their_finalizer() {
        let r = test_request(
            Operation::Create,
            ("", "v1", "persistentvolumeclaims"),
            "default",
            "c",
        );
        let mut pvc = json!({"metadata": {"name": "c", "finalizers": ["x"]}});
        admit(&r, &mut pvc);
        admit(&r, &mut pvc);
        assert_eq!(
            pvc["metadata"]["finalizers"],
            json!(["x", "kubernetes.io/pvc-protection"])
        );
        let r = test_request(Operation::Create, ("", "v1", "persistentvolumes"), "", "v");
        let mut pv = json!({"metadata": {"name": "v"}});
        admit(&r, &mut pv);
        assert_eq!(
            pv["metadata"]["finalizers"],
            json!(["kubernetes.io/pv-protection"])
        );
        let r = test_request(Operation::Create, ("", "v1", "configmaps"), "default", "c");
        let mut cm = json!({"metadata": {"name": "c"}});
        admit(&r, &mut cm);
        assert!(cm["metadata"].get("finalizers").is_none());
    }
}
