//! Taints and tolerations (upstream's `ToleratesTaint`,
//! `TolerationsTolerateTaint`, `FindMatchingUntoleratedTaint` and the
//! NoExecute taint manager's toleration time). The scheduler's
//! TaintToleration and NodeUnschedulable plugins, the DaemonSet
//! controller, the node-lifecycle controller and the hollow nodes all ask
//! the same question, so they must get the same answer.

use k8s_openapi::api::core::v1::{Taint, Toleration};

/// The effect that keeps new pods off a node.
pub const NO_SCHEDULE: &str = "NoSchedule";
/// The effect that only makes a node less attractive to the scheduler.
pub const PREFER_NO_SCHEDULE: &str = "PreferNoSchedule";
/// The effect that also evicts running pods that do not tolerate it.
pub const NO_EXECUTE: &str = "NoExecute";

/// The taint a cordoned node (`spec.unschedulable`) stands for: the
/// scheduler and the kubelet treat `unschedulable` as this NoSchedule taint
/// even before the node-lifecycle controller writes it.
pub const TAINT_NODE_UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";
/// The taint of a node whose Ready condition is False.
pub const TAINT_NODE_NOT_READY: &str = "node.kubernetes.io/not-ready";
/// The taint of a node whose Ready condition is Unknown (kubelet silent).
pub const TAINT_NODE_UNREACHABLE: &str = "node.kubernetes.io/unreachable";

/// The NoSchedule taint a cordoned node carries in effect.
pub fn unschedulable_taint() -> Taint {
    Taint {
        key: TAINT_NODE_UNSCHEDULABLE.into(),
        effect: NO_SCHEDULE.into(),
        ..Default::default()
    }
}

/// Whether one toleration tolerates one taint. An empty effect matches
/// every effect and an empty key every key; the operator defaults to
/// `Equal`, which compares values (so an empty key with `Exists` tolerates
/// everything). An unknown operator tolerates nothing.
pub fn tolerates(toleration: &Toleration, taint: &Taint) -> bool {
    let effect = toleration.effect.as_deref().unwrap_or_default();
    if !effect.is_empty() && effect != taint.effect {
        return false;
    }
    let key = toleration.key.as_deref().unwrap_or_default();
    if !key.is_empty() && key != taint.key {
        return false;
    }
    match toleration.operator.as_deref().unwrap_or_default() {
        "" | "Equal" => {
            toleration.value.as_deref().unwrap_or_default()
                == taint.value.as_deref().unwrap_or_default()
        }
        "Exists" => true,
        _ => false,
    }
}

/// Whether any of `tolerations` tolerates `taint`.
pub fn tolerations_tolerate_taint(tolerations: &[Toleration], taint: &Taint) -> bool {
    tolerations.iter().any(|t| tolerates(t, taint))
}

/// Whether a taint keeps pods that do not tolerate it off the node
/// (NoSchedule or NoExecute): the taints the scheduler's filter and
/// DaemonSet placement check.
pub fn does_not_schedule(taint: &Taint) -> bool {
    taint.effect == NO_SCHEDULE || taint.effect == NO_EXECUTE
}

/// The first of `taints` that `inclusion` selects and no toleration
/// tolerates; `None` when the pod tolerates them all. Callers name the
/// taint in their message (the scheduler's "untolerated taint {key: value}").
pub fn find_untolerated_taint<'a>(
    taints: &'a [Taint],
    tolerations: &[Toleration],
    inclusion: impl Fn(&Taint) -> bool,
) -> Option<&'a Taint> {
    taints
        .iter()
        .find(|t| inclusion(t) && !tolerations_tolerate_taint(tolerations, t))
}

/// For each taint, the first toleration that tolerates it; `None` when some
/// taint is not tolerated at all. The NoExecute taint manager reads the
/// eviction deadline off the tolerations this returns.
pub fn matching_tolerations<'t, 'a>(
    taints: impl IntoIterator<Item = &'t Taint>,
    tolerations: &'a [Toleration],
) -> Option<Vec<&'a Toleration>> {
    taints
        .into_iter()
        .map(|taint| tolerations.iter().find(|t| tolerates(t, taint)))
        .collect()
}

/// How long a pod may stay on a node whose NoExecute taints it tolerates
/// with `used` (from [`matching_tolerations`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TolerationTime {
    /// No used toleration sets `tolerationSeconds`: the pod stays.
    Forever,
    /// The shortest `tolerationSeconds` among the used tolerations (zero
    /// or negative counts as zero; no toleration at all is zero too).
    Seconds(i64),
}

/// The shortest `tolerationSeconds` of `used`: tolerations without a limit
/// do not shorten it, and it is forever only when none has one.
pub fn min_toleration_time(used: &[&Toleration]) -> TolerationTime {
    if used.is_empty() {
        return TolerationTime::Seconds(0);
    }
    match used.iter().filter_map(|t| t.toleration_seconds).min() {
        None => TolerationTime::Forever,
        Some(s) => TolerationTime::Seconds(s.max(0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn taint(v: Value) -> Taint {
        serde_json::from_value(v).expect("taint")
    }

    fn toleration(v: &Value) -> Toleration {
        serde_json::from_value(v.clone()).expect("toleration")
    }

    fn tolerations(v: Value) -> Vec<Toleration> {
        serde_json::from_value(v).expect("tolerations")
    }

    #[test]
    fn one_toleration_against_one_taint() {
        let t = taint(json!({"key": "k", "value": "v", "effect": "NoSchedule"}));
        let cases = [
            (
                "all fields equal",
                json!({"key": "k", "operator": "Equal", "value": "v", "effect": "NoSchedule"}),
                true,
            ),
            (
                "operator defaults to Equal",
                json!({"key": "k", "value": "v", "effect": "NoSchedule"}),
                true,
            ),
            (
                "empty operator is Equal",
                json!({"key": "k", "operator": "", "value": "v"}),
                true,
            ),
            (
                "Equal compares values",
                json!({"key": "k", "value": "w"}),
                false,
            ),
            (
                "Equal with no value against a value",
                json!({"key": "k"}),
                false,
            ),
            (
                "Exists ignores the value",
                json!({"key": "k", "operator": "Exists", "value": "w"}),
                true,
            ),
            (
                "empty key with Exists tolerates everything",
                json!({"operator": "Exists"}),
                true,
            ),
            (
                "empty effect matches every effect",
                json!({"key": "k", "operator": "Exists", "effect": ""}),
                true,
            ),
            (
                "another effect",
                json!({"key": "k", "operator": "Exists", "effect": "NoExecute"}),
                false,
            ),
            (
                "PreferNoSchedule is another effect",
                json!({"key": "k", "operator": "Exists", "effect": "PreferNoSchedule"}),
                false,
            ),
            (
                "another key",
                json!({"key": "other", "operator": "Exists"}),
                false,
            ),
            (
                "empty key with Equal compares values only",
                json!({"value": "v"}),
                true,
            ),
            (
                "empty key with Equal and another value",
                json!({"value": "w"}),
                false,
            ),
            (
                "unknown operator",
                json!({"key": "k", "operator": "Gt", "value": "v"}),
                false,
            ),
        ];
        for (name, tol, want) in cases {
            assert_eq!(tolerates(&toleration(&tol), &t), want, "{name}: {tol}");
        }
        let valueless = taint(json!({"key": "k", "effect": "NoExecute"}));
        assert!(tolerates(&toleration(&json!({"key": "k"})), &valueless));
        assert!(tolerates(
            &toleration(&json!({"key": "k", "value": ""})),
            &valueless
        ));
        assert!(!tolerates(
            &toleration(&json!({"key": "k", "value": "v"})),
            &valueless
        ));
    }

    #[test]
    fn a_list_tolerates_when_any_member_does() {
        let t = taint(json!({"key": "gpu", "value": "true", "effect": "NoSchedule"}));
        let cases = [
            (json!([]), false),
            (json!([{"key": "other", "operator": "Exists"}]), false),
            (
                json!([{"key": "other", "operator": "Exists"}, {"key": "gpu", "value": "true"}]),
                true,
            ),
        ];
        for (tols, want) in cases {
            assert_eq!(
                tolerations_tolerate_taint(&tolerations(tols.clone()), &t),
                want,
                "{tols}"
            );
        }
    }

    #[test]
    fn first_untolerated_taint_among_the_filtered() {
        let taints: Vec<Taint> = serde_json::from_value(json!([
            {"key": "soft", "effect": "PreferNoSchedule"},
            {"key": "a", "effect": "NoSchedule"},
            {"key": "b", "value": "x", "effect": "NoExecute"}
        ]))
        .expect("taints");
        let key = |t: Option<&Taint>| t.map(|t| t.key.clone());
        let cases = [
            ("nothing tolerated", json!([]), Some("a")),
            (
                "first one tolerated",
                json!([{"key": "a", "operator": "Exists"}]),
                Some("b"),
            ),
            (
                "all hard taints tolerated",
                json!([{"key": "a", "operator": "Exists"}, {"key": "b", "value": "x"}]),
                None,
            ),
            (
                "everything tolerated",
                json!([{"operator": "Exists"}]),
                None,
            ),
        ];
        for (name, tols, want) in cases {
            let found = find_untolerated_taint(&taints, &tolerations(tols), does_not_schedule);
            assert_eq!(key(found), want.map(String::from), "{name}");
        }
        // The filter decides which taints count at all.
        let soft = find_untolerated_taint(&taints, &[], |t| t.effect == PREFER_NO_SCHEDULE);
        assert_eq!(key(soft).as_deref(), Some("soft"));
        assert_eq!(find_untolerated_taint(&taints, &[], |_| false), None);
    }

    #[test]
    fn hard_effects() {
        for (effect, want) in [
            (NO_SCHEDULE, true),
            (NO_EXECUTE, true),
            (PREFER_NO_SCHEDULE, false),
        ] {
            assert_eq!(
                does_not_schedule(&taint(json!({"key": "k", "effect": effect}))),
                want,
                "{effect}"
            );
        }
        assert!(!tolerations_tolerate_taint(&[], &unschedulable_taint()));
        assert!(tolerations_tolerate_taint(
            &tolerations(
                json!([{"key": TAINT_NODE_UNSCHEDULABLE, "operator": "Exists", "effect": "NoSchedule"}])
            ),
            &unschedulable_taint()
        ));
    }

    #[test]
    fn matching_tolerations_takes_the_first_per_taint() {
        let taints: Vec<Taint> = serde_json::from_value(json!([
            {"key": "a", "effect": "NoExecute"},
            {"key": "b", "effect": "NoExecute"}
        ]))
        .expect("taints");
        let tols = tolerations(json!([
            {"key": "a", "operator": "Exists", "tolerationSeconds": 30},
            {"operator": "Exists", "tolerationSeconds": 60},
            {"key": "b", "operator": "Exists"}
        ]));
        let used = matching_tolerations(&taints, &tols).expect("all tolerated");
        let seconds: Vec<Option<i64>> = used.iter().map(|t| t.toleration_seconds).collect();
        assert_eq!(seconds, [Some(30), Some(60)]);
        assert_eq!(matching_tolerations(&taints, &tols[..1]), None);
        assert_eq!(matching_tolerations(&[], &tols), Some(vec![]));
        assert_eq!(matching_tolerations(&taints, &[]), None);
    }

    #[test]
    fn toleration_time_is_the_shortest_limit() {
        let with = |s: Option<i64>| Toleration {
            operator: Some("Exists".into()),
            toleration_seconds: s,
            ..Default::default()
        };
        let (forever, thirty, ten, negative) =
            (with(None), with(Some(30)), with(Some(10)), with(Some(-5)));
        let cases = [
            ("none in use", vec![], TolerationTime::Seconds(0)),
            ("no limit", vec![&forever], TolerationTime::Forever),
            ("one limit", vec![&thirty], TolerationTime::Seconds(30)),
            (
                "a limit beside no limit",
                vec![&forever, &thirty],
                TolerationTime::Seconds(30),
            ),
            (
                "the shortest",
                vec![&thirty, &ten],
                TolerationTime::Seconds(10),
            ),
            (
                "negative is zero",
                vec![&thirty, &negative],
                TolerationTime::Seconds(0),
            ),
        ];
        for (name, used, want) in cases {
            assert_eq!(min_toleration_time(&used), want, "{name}");
        }
    }
}
