//! The arithmetic of a DaemonSet rolling update, as pure functions over
//! per-node facts: with `maxSurge` > 0 a node gets its updated pod before
//! the old one goes (the old one is deleted once the new one is
//! available), at most `maxSurge` nodes surging at a time; otherwise old
//! pods are deleted first within `maxUnavailable`.

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// A count, or a percentage of `total` rounded up (a DaemonSet rounds both
/// `maxSurge` and `maxUnavailable` up, unlike a Deployment).
pub fn scaled_up(v: Option<&IntOrString>, default: i32, total: i32) -> i32 {
    match v {
        Some(IntOrString::Int(n)) => (*n).max(0),
        Some(IntOrString::String(s)) => match s.trim_end_matches('%').parse::<i64>() {
            Ok(pct) => ((pct.max(0) * i64::from(total.max(0)) + 99) / 100) as i32,
            Err(_) => default,
        },
        None => default,
    }
}

/// (maxSurge, maxUnavailable) of a DaemonSet scheduling `desired` pods;
/// defaults 0 and 1, and never both zero.
pub fn budgets(
    max_surge: Option<&IntOrString>,
    max_unavailable: Option<&IntOrString>,
    desired: i32,
) -> (i32, i32) {
    let surge = scaled_up(max_surge, 0, desired);
    let unavailable = scaled_up(max_unavailable, 1, desired);
    if surge == 0 && unavailable == 0 {
        (0, 1)
    } else {
        (surge, unavailable)
    }
}

/// What one node holds during a surge update: its oldest old-revision pod
/// and its oldest updated pod (name, available).
#[derive(Debug, Clone, PartialEq)]
pub struct NodePods {
    pub node: String,
    pub old: Option<(String, bool)>,
    pub new: Option<(String, bool)>,
}

/// The surge step's decisions.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct SurgePlan {
    /// Nodes that get an updated pod now.
    pub create_on: Vec<String>,
    /// Old pods whose replacement is available.
    pub delete: Vec<String>,
}

/// Plans one surge step: an available new pod retires the old one; a node
/// whose new pod is not yet available holds one surge slot; an unavailable
/// old pod is replaced at once (it serves nobody, so it costs no slot);
/// the remaining slots go to nodes in order.
pub fn plan_surge(nodes: &[NodePods], max_surge: i32) -> SurgePlan {
    let mut plan = SurgePlan::default();
    let mut surging = 0;
    let mut candidates = Vec::new();
    for n in nodes {
        let Some((old, old_available)) = &n.old else {
            continue;
        };
        match &n.new {
            None if !old_available => plan.create_on.push(n.node.clone()),
            None => candidates.push(n.node.clone()),
            Some((_, false)) => surging += 1,
            Some((_, true)) => plan.delete.push(old.clone()),
        }
    }
    let room = (max_surge - surging).max(0) as usize;
    plan.create_on.extend(candidates.into_iter().take(room));
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, old: Option<bool>, new: Option<bool>) -> NodePods {
        NodePods {
            node: name.into(),
            old: old.map(|a| (format!("{name}-old"), a)),
            new: new.map(|a| (format!("{name}-new"), a)),
        }
    }

    #[test]
    fn budgets_round_up_and_default() {
        let pct = |s: &str| IntOrString::String(s.into());
        type Case = (Option<IntOrString>, Option<IntOrString>, i32, (i32, i32));
        let cases: Vec<Case> = vec![
            (None, None, 5, (0, 1)),
            (
                Some(IntOrString::Int(1)),
                Some(IntOrString::Int(0)),
                5,
                (1, 0),
            ),
            (Some(pct("10%")), Some(IntOrString::Int(0)), 5, (1, 0)),
            (Some(pct("50%")), Some(IntOrString::Int(0)), 3, (2, 0)),
            (Some(IntOrString::Int(0)), Some(pct("30%")), 10, (0, 3)),
            (Some(IntOrString::Int(0)), Some(pct("1%")), 10, (0, 1)),
            (
                Some(IntOrString::Int(0)),
                Some(IntOrString::Int(0)),
                4,
                (0, 1),
            ),
        ];
        for (surge, unavailable, desired, want) in cases {
            assert_eq!(
                budgets(surge.as_ref(), unavailable.as_ref(), desired),
                want,
                "{surge:?} {unavailable:?} {desired}"
            );
        }
    }

    #[test]
    fn surge_plan_cases() {
        type Case<'a> = (&'a str, Vec<NodePods>, i32, Vec<&'a str>, Vec<&'a str>);
        let cases: Vec<Case> = vec![
            (
                "one slot: first node surges",
                vec![node("a", Some(true), None), node("b", Some(true), None)],
                1,
                vec!["a"],
                vec![],
            ),
            (
                "slot held while the new pod is unavailable",
                vec![
                    node("a", Some(true), Some(false)),
                    node("b", Some(true), None),
                ],
                1,
                vec![],
                vec![],
            ),
            (
                "available new pod retires the old; slot freed next round",
                vec![
                    node("a", Some(true), Some(true)),
                    node("b", Some(true), None),
                ],
                1,
                vec!["b"],
                vec!["a-old"],
            ),
            (
                "unavailable old pod is replaced without a slot",
                vec![node("a", Some(false), None), node("b", Some(true), None)],
                0,
                vec!["a"],
                vec![],
            ),
            (
                "two slots",
                vec![
                    node("a", Some(true), None),
                    node("b", Some(true), None),
                    node("c", Some(true), None),
                ],
                2,
                vec!["a", "b"],
                vec![],
            ),
            (
                "up to date nodes are left alone",
                vec![node("a", None, Some(true)), node("b", None, None)],
                1,
                vec![],
                vec![],
            ),
        ];
        for (what, nodes, surge, create, delete) in cases {
            let plan = plan_surge(&nodes, surge);
            assert_eq!(plan.create_on, create, "{what}");
            assert_eq!(plan.delete, delete, "{what}");
        }
    }
}
