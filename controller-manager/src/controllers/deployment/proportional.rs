//! Proportional scaling: when a Deployment's `replicas` changes while
//! several ReplicaSets are active (mid-rollout), the change is spread over
//! them in proportion to their sizes, each ReplicaSet's size measured
//! against the `max-replicas` annotation it was last scaled under; what
//! rounding leaves over goes to the largest one.

use std::cmp::Reverse;

/// One active ReplicaSet's numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct ActiveRs {
    pub name: String,
    /// `spec.replicas`.
    pub replicas: i32,
    /// Its `deployment.kubernetes.io/max-replicas` annotation, if parseable.
    pub max_replicas: Option<i32>,
    /// Orders by age: larger is newer (creation time, then name).
    pub newness: (i64, String),
}

/// Whether the Deployment's `replicas` differ from what some active
/// ReplicaSet was last sized for (its `desired-replicas` annotation).
pub fn is_scaling_event(replicas: i32, desired_annotations: &[Option<i32>]) -> bool {
    desired_annotations.iter().any(|a| *a != Some(replicas))
}

/// Rounds half away from zero, as upstream's RoundToInt32.
fn round(v: f64) -> i32 {
    v.round() as i32
}

/// The new sizes of `active` (same order) for a Deployment now at
/// `replicas` with `max_surge`; `status_replicas` stands in for a missing
/// annotation.
pub fn proportional_sizes(
    active: &[ActiveRs],
    replicas: i32,
    max_surge: i32,
    status_replicas: i32,
) -> Vec<i32> {
    let allowed = if replicas > 0 {
        replicas + max_surge
    } else {
        0
    };
    let total: i32 = active.iter().map(|r| r.replicas).sum();
    let to_add = allowed - total;
    let mut order: Vec<usize> = (0..active.len()).collect();
    if to_add > 0 {
        // Largest first; newer first among equals.
        order.sort_by_key(|i| {
            (
                Reverse(active[*i].replicas),
                Reverse(active[*i].newness.clone()),
            )
        });
    } else {
        // Largest first; older first among equals.
        order.sort_by_key(|i| (Reverse(active[*i].replicas), active[*i].newness.clone()));
    }
    let mut sizes: Vec<i32> = active.iter().map(|r| r.replicas).collect();
    if to_add == 0 {
        return sizes;
    }
    let mut added = 0;
    for &i in &order {
        let rs = &active[i];
        if rs.replicas == 0 {
            continue;
        }
        let fraction = if replicas == 0 {
            -rs.replicas
        } else {
            let annotated = rs.max_replicas.unwrap_or(status_replicas);
            if annotated <= 0 {
                0
            } else {
                round(f64::from(rs.replicas) * f64::from(allowed) / f64::from(annotated))
                    - rs.replicas
            }
        };
        let left = to_add - added;
        let proportion = if to_add > 0 {
            fraction.min(left)
        } else {
            fraction.max(left)
        };
        sizes[i] += proportion;
        added += proportion;
    }
    if let Some(&first) = order.first() {
        sizes[first] = (sizes[first] + to_add - added).max(0);
    }
    sizes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rs(name: &str, replicas: i32, max: Option<i32>, age: i64) -> ActiveRs {
        ActiveRs {
            name: name.into(),
            replicas,
            max_replicas: max,
            newness: (age, name.into()),
        }
    }

    #[test]
    fn proportional_cases() {
        // (what, rss, replicas, surge, status replicas, want)
        type Case<'a> = (&'a str, Vec<ActiveRs>, i32, i32, i32, Vec<i32>);
        let cases: Vec<Case> = vec![
            (
                "10 -> 20 mid-rollout with surge 3: 8 old + 5 new of 13",
                vec![rs("old", 8, Some(13), 1), rs("new", 5, Some(13), 2)],
                20,
                3,
                13,
                vec![14, 9],
            ),
            (
                "scale down 10 -> 5, surge 0",
                vec![rs("old", 6, Some(10), 1), rs("new", 4, Some(10), 2)],
                5,
                0,
                10,
                vec![3, 2],
            ),
            (
                "leftover goes to the largest",
                vec![
                    rs("a", 1, Some(3), 1),
                    rs("b", 1, Some(3), 2),
                    rs("c", 1, Some(3), 3),
                ],
                4,
                0,
                3,
                vec![1, 1, 2],
            ),
            (
                "to zero",
                vec![rs("old", 2, Some(4), 1), rs("new", 2, Some(4), 2)],
                0,
                1,
                4,
                vec![0, 0],
            ),
            (
                "missing annotation uses status replicas",
                vec![rs("old", 3, None, 1), rs("new", 3, None, 2)],
                12,
                0,
                6,
                vec![6, 6],
            ),
            (
                "nothing to add",
                vec![rs("old", 3, Some(6), 1), rs("new", 3, Some(6), 2)],
                5,
                1,
                6,
                vec![3, 3],
            ),
        ];
        for (what, active, replicas, surge, status, want) in cases {
            let got = proportional_sizes(&active, replicas, surge, status);
            assert_eq!(got, want, "{what}");
            if replicas > 0 {
                assert_eq!(got.iter().sum::<i32>(), replicas + surge, "{what}");
            }
        }
    }

    #[test]
    fn scaling_event() {
        assert!(is_scaling_event(5, &[Some(5), Some(4)]));
        assert!(is_scaling_event(5, &[None]));
        assert!(!is_scaling_event(5, &[Some(5), Some(5)]));
    }
}
