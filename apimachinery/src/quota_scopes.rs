//! ResourceQuota scopes: a quota with `spec.scopes` or `spec.scopeSelector`
//! tracks only the pods every scope matches (Terminating, NotTerminating,
//! BestEffort, NotBestEffort, PriorityClass with In/NotIn/Exists/
//! DoesNotExist). Scoped quotas never apply to objects other than pods, as
//! upstream's evaluators report no scope for them. Shared by the apiserver's
//! ResourceQuota admission and the controller-manager's usage recount.

use serde_json::Value;

/// One scope requirement: scope name, operator, values.
struct Requirement<'a> {
    scope: &'a str,
    operator: &'a str,
    values: Vec<&'a str>,
}

fn requirements(quota: &Value) -> Vec<Requirement<'_>> {
    let mut out: Vec<Requirement<'_>> = quota
        .pointer("/spec/scopes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|scope| Requirement {
            scope,
            operator: "Exists",
            values: Vec::new(),
        })
        .collect();
    out.extend(
        quota
            .pointer("/spec/scopeSelector/matchExpressions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|e| Requirement {
                scope: e.get("scopeName").and_then(Value::as_str).unwrap_or(""),
                operator: e.get("operator").and_then(Value::as_str).unwrap_or(""),
                values: e
                    .get("values")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect(),
            }),
    );
    out
}

/// Whether `quota` applies to an object of `group/plural`.
pub fn applies(quota: &Value, group: &str, plural: &str, obj: &Value) -> bool {
    let reqs = requirements(quota);
    if reqs.is_empty() {
        return true;
    }
    group.is_empty() && plural == "pods" && reqs.iter().all(|r| matches(r, obj))
}

/// QoS BestEffort: no container or init container requests or limits CPU
/// or memory.
pub fn best_effort(pod: &Value) -> bool {
    ["containers", "initContainers"]
        .iter()
        .filter_map(|k| pod.pointer(&format!("/spec/{k}")).and_then(Value::as_array))
        .flatten()
        .all(|c| {
            ["requests", "limits"].iter().all(|w| {
                c.pointer(&format!("/resources/{w}"))
                    .and_then(Value::as_object)
                    .is_none_or(|m| !m.contains_key("cpu") && !m.contains_key("memory"))
            })
        })
}

fn terminating(pod: &Value) -> bool {
    pod.pointer("/spec/activeDeadlineSeconds")
        .and_then(Value::as_i64)
        .is_some_and(|s| s >= 0)
}

fn matches(r: &Requirement<'_>, pod: &Value) -> bool {
    let flag = match r.scope {
        "Terminating" => terminating(pod),
        "NotTerminating" => !terminating(pod),
        "BestEffort" => best_effort(pod),
        "NotBestEffort" => !best_effort(pod),
        "PriorityClass" => {
            let class = pod
                .pointer("/spec/priorityClassName")
                .and_then(Value::as_str)
                .unwrap_or("");
            // The class is compared like a label that is always present.
            return match r.operator {
                "Exists" => !class.is_empty(),
                "DoesNotExist" => false,
                "In" => r.values.contains(&class),
                "NotIn" => !r.values.contains(&class),
                _ => false,
            };
        }
        // CrossNamespacePodAffinity and unknown scopes: pods with
        // cross-namespace affinity terms are not tracked here.
        _ => return false,
    };
    match r.operator {
        "Exists" => flag,
        "DoesNotExist" => !flag,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scopes_select_pods() {
        let best = json!({"spec": {"containers": [{"name": "a"}]}});
        let burst = json!({"spec": {"containers": [{"name": "a", "resources": {"requests": {"cpu": "100m"}}}]}});
        let job = json!({"spec": {"activeDeadlineSeconds": 60, "containers": [{"name": "a"}]}});
        let high = json!({"spec": {"priorityClassName": "high", "containers": [{"name": "a", "resources": {"limits": {"memory": "1Gi"}}}]}});
        let q = |spec: Value| json!({"spec": spec});
        let cases = [
            (
                q(json!({"scopes": ["BestEffort"]})),
                [true, false, true, false],
            ),
            (
                q(json!({"scopes": ["NotBestEffort"]})),
                [false, true, false, true],
            ),
            (
                q(json!({"scopes": ["Terminating"]})),
                [false, false, true, false],
            ),
            (
                q(json!({"scopes": ["NotTerminating", "BestEffort"]})),
                [true, false, false, false],
            ),
            (
                q(
                    json!({"scopeSelector": {"matchExpressions": [{"scopeName": "PriorityClass", "operator": "In", "values": ["high"]}]}}),
                ),
                [false, false, false, true],
            ),
            (
                q(
                    json!({"scopeSelector": {"matchExpressions": [{"scopeName": "PriorityClass", "operator": "NotIn", "values": ["high"]}]}}),
                ),
                [true, true, true, false],
            ),
            (
                q(
                    json!({"scopeSelector": {"matchExpressions": [{"scopeName": "PriorityClass", "operator": "Exists"}]}}),
                ),
                [false, false, false, true],
            ),
            (
                q(
                    json!({"scopeSelector": {"matchExpressions": [{"scopeName": "BestEffort", "operator": "Exists"}]}}),
                ),
                [true, false, true, false],
            ),
            (q(json!({"hard": {"pods": "1"}})), [true, true, true, true]),
        ];
        for (quota, want) in cases {
            let got: Vec<bool> = [&best, &burst, &job, &high]
                .iter()
                .map(|p| applies(&quota, "", "pods", p))
                .collect();
            assert_eq!(got, want, "{quota}");
        }
    }

    #[test]
    fn scoped_quotas_ignore_other_kinds() {
        let scoped = json!({"spec": {"scopes": ["BestEffort"]}});
        assert!(!applies(&scoped, "", "configmaps", &json!({})));
        let plain = json!({"spec": {"hard": {"configmaps": "1"}}});
        assert!(applies(&plain, "", "configmaps", &json!({})));
    }
}
