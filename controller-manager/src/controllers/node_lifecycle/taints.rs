//! Which taints a Node's conditions call for, and when a pod on a node
//! with NoExecute taints must be evicted given its tolerations. Pure.

use ::client::scheduling::taints::{
    NO_EXECUTE, TAINT_NODE_NOT_READY, TAINT_NODE_UNREACHABLE, TAINT_NODE_UNSCHEDULABLE,
    TolerationTime, matching_tolerations, min_toleration_time,
};
use ::client::time::{time, to_chrono};
use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::{Node, Pod, Taint};

pub const NOT_READY: &str = TAINT_NODE_NOT_READY;
pub const UNREACHABLE: &str = TAINT_NODE_UNREACHABLE;
pub const UNSCHEDULABLE: &str = TAINT_NODE_UNSCHEDULABLE;

/// Taints this controller owns (it adds and removes them; others are the
/// user's and left alone).
const MANAGED: &[&str] = &[
    NOT_READY,
    UNREACHABLE,
    UNSCHEDULABLE,
    "node.kubernetes.io/memory-pressure",
    "node.kubernetes.io/disk-pressure",
    "node.kubernetes.io/pid-pressure",
    "node.kubernetes.io/network-unavailable",
];

fn condition_status<'a>(node: &'a Node, type_: &str) -> Option<&'a str> {
    node.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_)
        .map(|c| c.status.as_str())
}

fn taint(key: &str, effect: &str) -> Taint {
    Taint {
        key: key.into(),
        effect: effect.into(),
        value: None,
        time_added: None,
    }
}

/// The taints the node's conditions and `unschedulable` call for.
pub fn condition_taints(node: &Node) -> Vec<Taint> {
    let mut out = Vec::new();
    match condition_status(node, "Ready") {
        Some("True") => {}
        Some("False") => {
            out.push(taint(NOT_READY, "NoSchedule"));
            out.push(taint(NOT_READY, "NoExecute"));
        }
        // Unknown, or never reported.
        _ => {
            out.push(taint(UNREACHABLE, "NoSchedule"));
            out.push(taint(UNREACHABLE, "NoExecute"));
        }
    }
    for (cond, key) in [
        ("MemoryPressure", "node.kubernetes.io/memory-pressure"),
        ("DiskPressure", "node.kubernetes.io/disk-pressure"),
        ("PIDPressure", "node.kubernetes.io/pid-pressure"),
        (
            "NetworkUnavailable",
            "node.kubernetes.io/network-unavailable",
        ),
    ] {
        if condition_status(node, cond) == Some("True") {
            out.push(taint(key, "NoSchedule"));
        }
    }
    if node
        .spec
        .as_ref()
        .and_then(|s| s.unschedulable)
        .unwrap_or(false)
    {
        out.push(taint(UNSCHEDULABLE, "NoSchedule"));
    }
    out
}

/// The node's taint list after reconciling the managed ones: user taints
/// kept, managed ones added or dropped, `timeAdded` kept for taints that
/// stay and set to `now` on new NoExecute ones. `None` when unchanged.
pub fn reconcile_taints(node: &Node, now: DateTime<Utc>) -> Option<Vec<Taint>> {
    let current: Vec<Taint> = node
        .spec
        .as_ref()
        .and_then(|s| s.taints.clone())
        .unwrap_or_default();
    let wanted = condition_taints(node);
    let same = |a: &Taint, b: &Taint| a.key == b.key && a.effect == b.effect;
    let mut out: Vec<Taint> = current
        .iter()
        .filter(|t| !MANAGED.contains(&t.key.as_str()) || wanted.iter().any(|w| same(w, t)))
        .cloned()
        .collect();
    for w in wanted {
        if !out.iter().any(|t| same(t, &w)) {
            let mut t = w;
            if t.effect == "NoExecute" {
                t.time_added = Some(time(now));
            }
            out.push(t);
        }
    }
    (out != current).then_some(out)
}

/// What the NoExecute taints mean for a pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Eviction {
    /// Every NoExecute taint is tolerated forever (or there is none).
    Never,
    /// Evict now: some taint is not tolerated or its time is up.
    Now,
    /// Evict at this time (the shortest `tolerationSeconds` runs out).
    At(DateTime<Utc>),
}

/// When a pod must leave a node with `taints`, as upstream's NoExecute
/// taint manager decides: at once if some NoExecute taint is not
/// tolerated; never if none of the tolerations in use (the first matching
/// one per taint) sets `tolerationSeconds`; otherwise the shortest
/// `tolerationSeconds` after the node was first tainted NoExecute (the
/// earliest `timeAdded`; a taint without one counts from `now`).
pub fn eviction(pod: &Pod, taints: &[Taint], now: DateTime<Utc>) -> Eviction {
    let no_execute = || taints.iter().filter(|t| t.effect == NO_EXECUTE);
    let tolerations = pod
        .spec
        .as_ref()
        .and_then(|s| s.tolerations.as_deref())
        .unwrap_or_default();
    let Some(used) = matching_tolerations(no_execute(), tolerations) else {
        return Eviction::Now;
    };
    if used.is_empty() {
        return Eviction::Never;
    }
    let TolerationTime::Seconds(secs) = min_toleration_time(&used) else {
        return Eviction::Never;
    };
    let tainted_since = no_execute()
        .map(|t| t.time_added.as_ref().map_or(now, |x| to_chrono(x.0)))
        .min()
        .unwrap_or(now);
    let at = tainted_since + chrono::Duration::seconds(secs);
    if at <= now {
        Eviction::Now
    } else {
        Eviction::At(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(ready: &str, taints: serde_json::Value, unschedulable: bool) -> Node {
        serde_json::from_value(json!({
            "metadata": {"name": "n"},
            "spec": {"taints": taints, "unschedulable": unschedulable},
            "status": {"conditions": [{"type": "Ready", "status": ready}, {"type": "MemoryPressure", "status": "False"}]}
        }))
        .expect("node")
    }

    fn keys(t: &[Taint]) -> Vec<String> {
        t.iter()
            .map(|t| format!("{}:{}", t.key, t.effect))
            .collect()
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2024-01-01T00:00:00Z")
            .expect("t")
            .with_timezone(&Utc)
    }

    #[test]
    fn taints_follow_readiness_and_keep_user_taints() {
        let n = node(
            "Unknown",
            json!([{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]),
            false,
        );
        let t = reconcile_taints(&n, now()).expect("changed");
        assert_eq!(
            keys(&t),
            [
                "dedicated:NoSchedule",
                "node.kubernetes.io/unreachable:NoSchedule",
                "node.kubernetes.io/unreachable:NoExecute"
            ]
        );
        assert_eq!(
            t[2].time_added.as_ref().map(|x| to_chrono(x.0)),
            Some(now())
        );
        let n = node("False", serde_json::to_value(&t).expect("json"), true);
        let t = reconcile_taints(&n, now()).expect("changed");
        assert_eq!(
            keys(&t),
            [
                "dedicated:NoSchedule",
                "node.kubernetes.io/not-ready:NoSchedule",
                "node.kubernetes.io/not-ready:NoExecute",
                "node.kubernetes.io/unschedulable:NoSchedule"
            ]
        );
        let n = node(
            "True",
            json!([{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]),
            false,
        );
        assert_eq!(reconcile_taints(&n, now()), None);
    }

    fn pod(tolerations: serde_json::Value) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": "p"}, "spec": {"containers": [], "tolerations": tolerations}})).expect("pod")
    }

    #[test]
    fn eviction_follows_tolerations() {
        let taints = vec![Taint {
            key: UNREACHABLE.into(),
            effect: "NoExecute".into(),
            value: None,
            time_added: Some(time(now())),
        }];
        let later = now() + chrono::Duration::seconds(10);
        assert_eq!(eviction(&pod(json!([])), &taints, now()), Eviction::Now);
        assert_eq!(
            eviction(&pod(json!([{"operator": "Exists"}])), &taints, now()),
            Eviction::Never
        );
        let timed = pod(
            json!([{"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 30}]),
        );
        assert_eq!(
            eviction(&timed, &taints, later),
            Eviction::At(now() + chrono::Duration::seconds(30))
        );
        assert_eq!(
            eviction(&timed, &taints, now() + chrono::Duration::seconds(31)),
            Eviction::Now
        );
        let wrong_effect =
            pod(json!([{"key": UNREACHABLE, "operator": "Exists", "effect": "NoSchedule"}]));
        assert_eq!(eviction(&wrong_effect, &taints, now()), Eviction::Now);
        assert_eq!(eviction(&pod(json!([])), &[], now()), Eviction::Never);
        let soft = [Taint {
            effect: "NoSchedule".into(),
            ..taints[0].clone()
        }];
        assert_eq!(eviction(&pod(json!([])), &soft, now()), Eviction::Never);
    }

    #[test]
    fn eviction_with_several_taints_counts_from_the_first() {
        let at = |secs: i64| Some(time(now() + chrono::Duration::seconds(secs)));
        let taints = vec![
            Taint {
                key: NOT_READY.into(),
                effect: "NoExecute".into(),
                value: None,
                time_added: at(20),
            },
            Taint {
                key: "dedicated".into(),
                effect: "NoExecute".into(),
                value: None,
                time_added: at(0),
            },
        ];
        let cases = [
            (
                "one taint untolerated",
                json!([{"key": NOT_READY, "operator": "Exists"}]),
                Eviction::Now,
            ),
            (
                "both tolerated forever",
                json!([{"operator": "Exists"}]),
                Eviction::Never,
            ),
            (
                "a limit on one taint counts from the first taint",
                json!([{"key": NOT_READY, "operator": "Exists", "tolerationSeconds": 60}, {"key": "dedicated", "operator": "Exists"}]),
                Eviction::At(now() + chrono::Duration::seconds(60)),
            ),
            (
                "the shortest limit wins",
                json!([{"key": NOT_READY, "operator": "Exists", "tolerationSeconds": 60}, {"key": "dedicated", "operator": "Exists", "tolerationSeconds": 40}]),
                Eviction::At(now() + chrono::Duration::seconds(40)),
            ),
            (
                "the first matching toleration is the one used",
                json!([{"key": "dedicated", "operator": "Exists", "tolerationSeconds": 40}, {"operator": "Exists"}]),
                Eviction::At(now() + chrono::Duration::seconds(40)),
            ),
        ];
        for (name, tolerations, want) in cases {
            assert_eq!(
                eviction(
                    &pod(tolerations),
                    &taints,
                    now() + chrono::Duration::seconds(30)
                ),
                want,
                "{name}"
            );
        }
    }
}
