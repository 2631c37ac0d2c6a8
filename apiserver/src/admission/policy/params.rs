//! A binding's parameters: the objects of the policy's `paramKind` that
//! the binding's `paramRef` names or selects (any kind this apiserver
//! serves; a ConfigMap is the usual one).

use crate::admission::lookup;
use crate::registry::Store;
use crate::resources::{self, ResourceDef};
use crate::validation::json::str_at;
use crate::validation::selector::selector_matches;
use serde_json::Value;

/// What the binding's params resolve to.
#[derive(Debug, PartialEq)]
pub enum Params {
    /// Evaluate once per object (`params` is null when the policy has a
    /// paramKind and the binding no paramRef).
    Each(Vec<Value>),
    /// Nothing matched and `parameterNotFoundAction: Allow`: nothing to check.
    AllowMissing,
}

/// A misconfigured policy or binding; subject to the failure policy.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum ParamError {
    #[error("failed to configure policy: failed to find resource referenced by paramKind: '{0}'")]
    UnknownKind(String),
    #[error(
        "failed to configure binding: cannot use namespaced paramRef in policy binding that matches cluster-scoped resources"
    )]
    NoNamespace,
    #[error(
        "failed to configure binding: no params found for policy binding with `Deny` parameterNotFoundAction"
    )]
    NotFound,
    #[error("failed to configure binding: {0}")]
    Read(String),
}

/// The served resource of a paramKind (apiVersion, kind).
pub fn param_def(api_version: &str, kind: &str) -> Option<&'static ResourceDef> {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    resources::all().find(|d| d.group == group && d.version == version && d.kind == kind)
}

/// Resolves `paramRef` of `binding` for a request in `namespace`.
pub async fn resolve(
    store: &Store,
    param_kind: Option<&(String, String)>,
    binding: &Value,
    namespace: &str,
) -> Result<Params, ParamError> {
    let Some((api_version, kind)) = param_kind else {
        return Ok(Params::Each(vec![Value::Null]));
    };
    let def = param_def(api_version, kind)
        .ok_or_else(|| ParamError::UnknownKind(format!("{api_version}, Kind={kind}")))?;
    let Some(pref) = binding
        .get("spec")
        .and_then(|s| s.get("paramRef"))
        .filter(|p| p.is_object())
    else {
        return Ok(Params::Each(vec![Value::Null]));
    };
    let ns = match (def.namespaced, str_at(pref, "namespace")) {
        (false, _) => "",
        (true, "") if namespace.is_empty() => return Err(ParamError::NoNamespace),
        (true, "") => namespace,
        (true, ns) => ns,
    };
    let kind_key = (def.group, def.version, def.plural);
    let found = match str_at(pref, "name") {
        "" => {
            let sel = pref.get("selector").cloned().unwrap_or(Value::Null);
            lookup::live_list(store, kind_key, ns)
                .await
                .map_err(|e| ParamError::Read(e.message))?
                .into_iter()
                .filter(|o| {
                    let labels = o
                        .get("metadata")
                        .and_then(|m| m.get("labels"))
                        .and_then(Value::as_object);
                    sel.is_object() && selector_matches(&sel, labels)
                })
                .collect()
        }
        name => lookup::live_get(store, kind_key, ns, name)
            .await
            .map_err(|e| ParamError::Read(e.message))?
            .into_iter()
            .collect::<Vec<_>>(),
    };
    if !found.is_empty() {
        return Ok(Params::Each(found));
    }
    match str_at(pref, "parameterNotFoundAction") {
        "Allow" => Ok(Params::AllowMissing),
        _ => Err(ParamError::NotFound),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn param_kinds_resolve_to_served_resources() {
        assert_eq!(
            param_def("v1", "ConfigMap").map(|d| d.plural),
            Some("configmaps")
        );
        assert_eq!(
            param_def("apps/v1", "Deployment").map(|d| d.plural),
            Some("deployments")
        );
        assert!(param_def("example.com/v1", "Nope").is_none());
    }
}
