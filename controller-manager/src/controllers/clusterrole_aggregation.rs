//! The clusterrole-aggregation controller: a ClusterRole with an
//! `aggregationRule` gets as its rules the union of the rules of every other
//! ClusterRole its `clusterRoleSelectors` match (roles taken by name order,
//! duplicate rules dropped), rewritten whenever any ClusterRole changes.
//! This is how `admin`, `edit` and `view` get their rules from the
//! `system:aggregate-to-*` roles and from roles users label
//! `rbac.authorization.k8s.io/aggregate-to-<role>: "true"`.

use crate::Context;
use crate::controllers::run_controller;
use crate::error::Result;
use apimachinery::labels::Selector;
use futures::StreamExt;
use k8s_openapi::api::rbac::v1::{AggregationRule, ClusterRole, PolicyRule};
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::Controller;
use kube::runtime::controller::Action;
use kube::runtime::reflector::ObjectRef;
use kube::{Resource, ResourceExt};
use serde_json::json;
use std::sync::Arc;

struct State {
    client: kube::Client,
    roles: client::informer::Store<ClusterRole>,
}

pub async fn run(ctx: Context) -> anyhow::Result<()> {
    let client = ctx.client.clone();
    let informer = ctx.informers.get::<ClusterRole>();
    let events = informer.subscribe();
    let roles = informer.store().clone();
    let lookup = roles.clone();
    // Any ClusterRole change may change what an aggregated role collects:
    // wake every aggregated role (there are few). The cache holds the
    // change before the trigger arrives.
    let triggers = events.into_stream().flat_map(move |_changed| {
        futures::stream::iter(
            lookup
                .list()
                .iter()
                .filter(|r| r.aggregation_rule.is_some())
                .map(|r| ObjectRef::from_obj(r.as_ref()))
                .collect::<Vec<_>>(),
        )
    });
    let own = informer.subscribe().objects();
    let controller =
        Controller::for_shared_stream(own, informer.reader().await).reconcile_on(triggers);
    run_controller(
        "clusterrole-aggregation",
        ctx.metrics.clone(),
        controller,
        reconcile,
        Arc::new(State { client, roles }),
    )
    .await
}

/// The label selectors of an aggregation rule; a selector that does not
/// parse selects nothing.
fn selectors(rule: &AggregationRule) -> Vec<Selector> {
    rule.cluster_role_selectors
        .iter()
        .flatten()
        .map(|s| {
            serde_json::to_value(s)
                .ok()
                .and_then(|v| Selector::from_label_selector(&v).ok())
                .unwrap_or_else(Selector::nothing)
        })
        .collect()
}

/// The rules `name` aggregates from `roles` under `rule`: for each selector
/// in order, the matching roles other than itself by name, each rule once.
pub fn aggregated_rules(
    name: &str,
    rule: &AggregationRule,
    roles: &[ClusterRole],
) -> Vec<PolicyRule> {
    let mut sorted: Vec<&ClusterRole> = roles.iter().collect();
    sorted.sort_by_key(|r| r.name_any());
    let mut out: Vec<PolicyRule> = Vec::new();
    for selector in selectors(rule) {
        for role in &sorted {
            if role.name_any() == name || !selector.matches(role.labels()) {
                continue;
            }
            for r in role.rules.iter().flatten() {
                if !out.contains(r) {
                    out.push(r.clone());
                }
            }
        }
    }
    out
}

async fn reconcile(role: Arc<ClusterRole>, st: Arc<State>) -> Result<Action> {
    let Some(rule) = role.aggregation_rule.as_ref() else {
        return Ok(Action::await_change());
    };
    // The shared cache holds every change before the trigger it causes.
    let api: Api<ClusterRole> = Api::all(st.client.clone());
    let all: Vec<ClusterRole> = st.roles.list().iter().map(|r| r.as_ref().clone()).collect();
    let want = aggregated_rules(&role.name_any(), rule, &all);
    let current = role.rules.clone().unwrap_or_default();
    if want != current {
        tracing::info!(role = %role.name_any(), rules = want.len(), "aggregating cluster role rules");
        let patch = json!({
            "metadata": {"resourceVersion": role.meta().resource_version},
            "rules": want,
        });
        api.patch(
            &role.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await?;
    }
    Ok(Action::await_change())
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

    fn rule(verbs: &[&str], resources: &[&str]) -> PolicyRule {
        PolicyRule {
            api_groups: Some(vec![String::new()]),
            resources: Some(resources.iter().map(|s| s.to_string()).collect()),
            verbs: verbs.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    fn role(name: &str, labels: &[(&str, &str)], rules: Vec<PolicyRule>) -> ClusterRole {
        ClusterRole {
            metadata: ObjectMeta {
                name: Some(name.into()),
                labels: Some(
                    labels
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                ),
                ..Default::default()
            },
            rules: Some(rules),
            ..Default::default()
        }
    }

    fn selecting(label: &str) -> AggregationRule {
        AggregationRule {
            cluster_role_selectors: Some(vec![LabelSelector {
                match_labels: Some([(label.to_string(), "true".to_string())].into()),
                ..Default::default()
            }]),
        }
    }

    const VIEW: &str = "rbac.authorization.k8s.io/aggregate-to-view";
    const EDIT: &str = "rbac.authorization.k8s.io/aggregate-to-edit";

    #[test]
    fn union_is_ordered_by_role_name_and_deduplicated() {
        let read_pods = rule(&["get", "list"], &["pods"]);
        let read_cms = rule(&["get"], &["configmaps"]);
        let write = rule(&["create"], &["pods"]);
        let roles = vec![
            role(
                "zz-extra",
                &[(VIEW, "true")],
                vec![read_cms.clone(), read_pods.clone()],
            ),
            role(
                "system:aggregate-to-view",
                &[(VIEW, "true")],
                vec![read_pods.clone()],
            ),
            role("unlabelled", &[], vec![write.clone()]),
            role("false-label", &[(VIEW, "false")], vec![write.clone()]),
            // The aggregated role itself never feeds its own rules back.
            role(
                "view",
                &[(VIEW, "true"), (EDIT, "true")],
                vec![write.clone()],
            ),
        ];
        assert_eq!(
            aggregated_rules("view", &selecting(VIEW), &roles),
            vec![read_pods.clone(), read_cms.clone()]
        );
        // Several selectors: their matches in selector order.
        let both = AggregationRule {
            cluster_role_selectors: Some(
                [EDIT, VIEW]
                    .iter()
                    .flat_map(|l| selecting(l).cluster_role_selectors.unwrap_or_default())
                    .collect(),
            ),
        };
        assert_eq!(
            aggregated_rules("edit", &both, &roles),
            vec![write, read_pods, read_cms]
        );
        // No selectors or nothing matching: no rules.
        assert!(aggregated_rules("x", &AggregationRule::default(), &roles).is_empty());
        assert!(aggregated_rules("x", &selecting("nobody"), &roles).is_empty());
    }
}
