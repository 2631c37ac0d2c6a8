//! Which requests a policy or binding cares about: upstream's
//! `MatchResources` (resource rules with operations, groups, versions,
//! resources/subresources, scope and resourceNames; exclude rules;
//! namespace and object label selectors). The same rules shape is used by
//! webhook configurations.

use crate::validation::json::{arr_at, obj_at, str_at};
use crate::validation::selector::{is_empty_selector, selector_matches};
use serde_json::{Map, Value};

/// What a rule is matched against.
#[derive(Debug, Clone, Copy)]
pub struct Attributes<'a> {
    /// `CREATE`, `UPDATE`, `DELETE` or `CONNECT`.
    pub operation: &'a str,
    pub group: &'a str,
    pub version: &'a str,
    pub resource: &'a str,
    pub subresource: &'a str,
    pub name: &'a str,
    pub namespace: &'a str,
    pub namespaced: bool,
}

impl<'a> Attributes<'a> {
    /// The attributes of an admission request.
    pub fn of(req: &crate::admission::Request<'a>) -> Attributes<'a> {
        Attributes {
            operation: req.operation.as_str(),
            group: req.def.group,
            version: req.def.version,
            resource: req.def.plural,
            subresource: req.subresource,
            name: req.name,
            namespace: req.namespace,
            namespaced: req.def.namespaced,
        }
    }
}

fn strings<'a>(v: &'a Value, key: &str) -> Vec<&'a str> {
    arr_at(v, key).iter().filter_map(Value::as_str).collect()
}

fn has_or_star(list: &[&str], want: &str) -> bool {
    list.iter().any(|x| *x == "*" || *x == want)
}

/// One `RuleWithOperations` / `NamedRuleWithOperations`.
pub fn rule_matches(rule: &Value, a: &Attributes<'_>) -> bool {
    if !has_or_star(&strings(rule, "operations"), a.operation)
        || !has_or_star(&strings(rule, "apiGroups"), a.group)
        || !has_or_star(&strings(rule, "apiVersions"), a.version)
    {
        return false;
    }
    let resource_ok = strings(rule, "resources").iter().any(|r| {
        let (res, sub) = r.split_once('/').unwrap_or((r, ""));
        (res == "*" || res == a.resource) && (sub == "*" || sub == a.subresource)
    });
    if !resource_ok {
        return false;
    }
    let scope_ok = match str_at(rule, "scope") {
        "Cluster" => !a.namespaced,
        "Namespaced" => a.namespaced,
        _ => true,
    };
    let names = strings(rule, "resourceNames");
    scope_ok && (names.is_empty() || names.contains(&a.name))
}

/// Labels of an object, `None` for a missing object.
pub fn labels(obj: &Value) -> Option<&Map<String, Value>> {
    obj.get("metadata").and_then(|m| obj_at(m, "labels"))
}

/// The object selector matches the new or the old object (a null object
/// never matches a non-empty selector).
pub fn object_selector_matches(sel: Option<&Value>, object: &Value, old: &Value) -> bool {
    let Some(sel) = sel.filter(|s| !s.is_null() && !is_empty_selector(s)) else {
        return true;
    };
    [object, old]
        .iter()
        .filter(|o| o.is_object())
        .any(|o| selector_matches(sel, labels(o)))
}

/// Whether a namespace selector needs the namespace's labels at all.
pub fn needs_namespace(sel: Option<&Value>) -> bool {
    sel.is_some_and(|s| !s.is_null() && !is_empty_selector(s))
}

/// The namespace selector against the request's namespace labels; a
/// cluster-scoped object other than a Namespace always matches, and a
/// Namespace is matched on its own labels (the caller passes them).
pub fn namespace_selector_matches(
    sel: Option<&Value>,
    a: &Attributes<'_>,
    namespace_labels: Option<&Map<String, Value>>,
) -> bool {
    let Some(sel) = sel.filter(|s| needs_namespace(Some(s))) else {
        return true;
    };
    let is_namespace = a.group.is_empty() && a.resource == "namespaces";
    if !a.namespaced && !is_namespace {
        return true;
    }
    selector_matches(sel, namespace_labels)
}

/// `resourceRules` (any; a binding without them matches every resource the
/// policy matched) minus `excludeResourceRules`. `require_rules`: a
/// policy's matchConstraints match nothing without rules.
pub fn rules_match(m: &Value, a: &Attributes<'_>, require_rules: bool) -> bool {
    let rules = arr_at(m, "resourceRules");
    let included = if rules.is_empty() {
        !require_rules
    } else {
        rules.iter().any(|r| rule_matches(r, a))
    };
    included
        && !arr_at(m, "excludeResourceRules")
            .iter()
            .any(|r| rule_matches(r, a))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attrs(
        op: &'static str,
        group: &'static str,
        resource: &'static str,
        sub: &'static str,
    ) -> Attributes<'static> {
        Attributes {
            operation: op,
            group,
            version: "v1",
            resource,
            subresource: sub,
            name: "web",
            namespace: "default",
            namespaced: true,
        }
    }

    #[test]
    fn resource_rules_table() {
        let deploy_rule = json!({"apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"], "resources": ["deployments"]});
        let cases: &[(Value, Attributes<'_>, bool)] = &[
            (
                deploy_rule.clone(),
                attrs("CREATE", "apps", "deployments", ""),
                true,
            ),
            (
                deploy_rule.clone(),
                attrs("DELETE", "apps", "deployments", ""),
                false,
            ),
            (deploy_rule.clone(), attrs("CREATE", "", "pods", ""), false),
            (
                deploy_rule.clone(),
                attrs("UPDATE", "apps", "deployments", "scale"),
                false,
            ),
            (
                json!({"apiGroups": ["*"], "apiVersions": ["*"], "operations": ["*"], "resources": ["*/*"]}),
                attrs("UPDATE", "apps", "deployments", "scale"),
                true,
            ),
            (
                json!({"apiGroups": ["apps"], "apiVersions": ["*"], "operations": ["*"], "resources": ["*/scale"]}),
                attrs("UPDATE", "apps", "deployments", "scale"),
                true,
            ),
            (
                json!({"apiGroups": ["apps"], "apiVersions": ["*"], "operations": ["*"], "resources": ["*"]}),
                attrs("UPDATE", "apps", "deployments", "scale"),
                false,
            ),
            (
                json!({"apiGroups": [""], "apiVersions": ["v1"], "operations": ["*"], "resources": ["pods"], "scope": "Cluster"}),
                attrs("CREATE", "", "pods", ""),
                false,
            ),
            (
                json!({"apiGroups": [""], "apiVersions": ["v1"], "operations": ["*"], "resources": ["pods"], "scope": "Namespaced", "resourceNames": ["web"]}),
                attrs("CREATE", "", "pods", ""),
                true,
            ),
            (
                json!({"apiGroups": [""], "apiVersions": ["v1"], "operations": ["*"], "resources": ["pods"], "resourceNames": ["db"]}),
                attrs("CREATE", "", "pods", ""),
                false,
            ),
        ];
        for (i, (rule, a, want)) in cases.iter().enumerate() {
            assert_eq!(rule_matches(rule, a), *want, "case {i}: {rule}");
        }
    }

    #[test]
    fn exclude_rules_win_and_bindings_need_no_rules() {
        let a = attrs("CREATE", "apps", "deployments", "");
        let m = json!({"resourceRules": [{"apiGroups": ["*"], "apiVersions": ["*"], "operations": ["*"], "resources": ["*"]}],
                       "excludeResourceRules": [{"apiGroups": ["apps"], "apiVersions": ["*"], "operations": ["*"], "resources": ["deployments"]}]});
        assert!(!rules_match(&m, &a, true));
        assert!(rules_match(&json!({}), &a, false));
        assert!(!rules_match(&json!({}), &a, true));
    }

    #[test]
    fn selectors() {
        let sel = json!({"matchLabels": {"environment": "test"}});
        let a = attrs("CREATE", "apps", "deployments", "");
        let test_ns = json!({"environment": "test"});
        assert!(namespace_selector_matches(
            Some(&sel),
            &a,
            test_ns.as_object()
        ));
        assert!(!namespace_selector_matches(Some(&sel), &a, None));
        assert!(namespace_selector_matches(Some(&json!({})), &a, None));
        let cluster = Attributes {
            namespaced: false,
            resource: "nodes",
            group: "",
            ..a
        };
        assert!(namespace_selector_matches(Some(&sel), &cluster, None));
        let obj = json!({"metadata": {"labels": {"environment": "test"}}});
        assert!(object_selector_matches(Some(&sel), &obj, &Value::Null));
        assert!(object_selector_matches(Some(&sel), &Value::Null, &obj));
        assert!(!object_selector_matches(
            Some(&sel),
            &json!({"metadata": {}}),
            &Value::Null
        ));
        assert!(object_selector_matches(
            Some(&json!({})),
            &Value::Null,
            &Value::Null
        ));
    }
}
