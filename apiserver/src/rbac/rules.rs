//! Whether one PolicyRule covers a request (upstream's RuleAllows and its helpers).

use super::Attributes;
use serde_json::Value;

fn strings(rule: &Value, field: &str) -> Vec<String> {
    rule.get(field)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn has_or_all(list: &[String], want: &str) -> bool {
    list.iter().any(|v| v == "*" || v == want)
}

/// `*` covers all; `pods/log` must be named exactly; `*/scale` covers any resource's scale.
fn resource_matches(rule_resources: &[String], combined: &str, subresource: &str) -> bool {
    rule_resources.iter().any(|r| {
        r == "*"
            || r == combined
            || (!subresource.is_empty()
                && r.len() == subresource.len() + 2
                && r.starts_with("*/")
                && r.ends_with(subresource))
    })
}

/// An empty resourceNames list means every name.
fn resource_name_matches(names: &[String], name: &str) -> bool {
    names.is_empty() || names.iter().any(|n| n == name)
}

/// `*` covers every path; `/api/*` covers every path starting with `/api/`.
fn non_resource_url_matches(urls: &[String], path: &str) -> bool {
    urls.iter().any(|u| {
        u == "*" || u == path || (u.ends_with('*') && path.starts_with(u.trim_end_matches('*')))
    })
}

/// Whether `rule` (a PolicyRule JSON) allows the request.
pub fn rule_allows(attrs: &Attributes, rule: &Value) -> bool {
    if !has_or_all(&strings(rule, "verbs"), &attrs.verb) {
        return false;
    }
    if !attrs.resource_request {
        return non_resource_url_matches(&strings(rule, "nonResourceURLs"), &attrs.path);
    }
    let combined = if attrs.subresource.is_empty() {
        attrs.resource.clone()
    } else {
        format!("{}/{}", attrs.resource, attrs.subresource)
    };
    has_or_all(&strings(rule, "apiGroups"), &attrs.api_group)
        && resource_matches(&strings(rule, "resources"), &combined, &attrs.subresource)
        && resource_name_matches(&strings(rule, "resourceNames"), &attrs.name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn req(verb: &str, group: &str, resource: &str, sub: &str, name: &str) -> Attributes {
        Attributes {
            user: "u".into(),
            verb: verb.into(),
            api_group: group.into(),
            resource: resource.into(),
            subresource: sub.into(),
            name: name.into(),
            namespace: "default".into(),
            resource_request: true,
            ..Default::default()
        }
    }

    fn path(verb: &str, p: &str) -> Attributes {
        Attributes {
            user: "u".into(),
            verb: verb.into(),
            path: p.into(),
            ..Default::default()
        }
    }

    #[test]
    fn resource_rules() {
        let pods_read = json!({"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]});
        let all = json!({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]});
        let logs = json!({"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]});
        let scale = json!({"apiGroups": ["*"], "resources": ["*/scale"], "verbs": ["get"]});
        let named = json!({"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
            "resourceNames": ["kube-scheduler"], "verbs": ["get", "update"]});
        let cases = [
            (&pods_read, req("get", "", "pods", "", "p"), true),
            (&pods_read, req("list", "", "pods", "", ""), true),
            (&pods_read, req("delete", "", "pods", "", "p"), false),
            (&pods_read, req("get", "apps", "pods", "", "p"), false),
            (&pods_read, req("get", "", "pods", "log", "p"), false),
            (&pods_read, req("get", "", "services", "", "s"), false),
            (
                &all,
                req("deletecollection", "apps", "deployments", "scale", ""),
                true,
            ),
            (&logs, req("get", "", "pods", "log", "p"), true),
            (&logs, req("get", "", "pods", "", "p"), false),
            (
                &scale,
                req("get", "apps", "deployments", "scale", "d"),
                true,
            ),
            (
                &scale,
                req("get", "", "replicationcontrollers", "scale", "r"),
                true,
            ),
            (
                &scale,
                req("get", "apps", "deployments", "status", "d"),
                false,
            ),
            (&scale, req("get", "apps", "deployments", "", "d"), false),
            (
                &named,
                req("get", "coordination.k8s.io", "leases", "", "kube-scheduler"),
                true,
            ),
            (
                &named,
                req("get", "coordination.k8s.io", "leases", "", "other"),
                false,
            ),
            (
                &named,
                req("get", "coordination.k8s.io", "leases", "", ""),
                false,
            ),
            // Non-resource rules never grant resource requests.
            (
                &json!({"nonResourceURLs": ["*"], "verbs": ["*"]}),
                req("get", "", "pods", "", ""),
                false,
            ),
        ];
        for (i, (rule, attrs, want)) in cases.iter().enumerate() {
            assert_eq!(rule_allows(attrs, rule), *want, "case {i}: {attrs:?}");
        }
    }

    #[test]
    fn non_resource_rules() {
        let discovery = json!({"nonResourceURLs": ["/api", "/api/*", "/healthz", "/version"], "verbs": ["get"]});
        let cases = [
            (path("get", "/healthz"), true),
            (path("get", "/api"), true),
            (path("get", "/api/v1"), true),
            (path("get", "/apis"), false),
            (path("post", "/healthz"), false),
            (path("get", "/healthz/etcd"), false),
            (path("get", "/version"), true),
        ];
        for (attrs, want) in cases {
            assert_eq!(rule_allows(&attrs, &discovery), want, "{}", attrs.path);
        }
        let star = json!({"nonResourceURLs": ["*"], "verbs": ["*"]});
        assert!(rule_allows(&path("get", "/metrics"), &star));
        let resource_rule = json!({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]});
        assert!(!rule_allows(&path("get", "/metrics"), &resource_rule));
    }
}
