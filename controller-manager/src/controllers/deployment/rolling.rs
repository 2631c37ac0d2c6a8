//! The arithmetic of a rolling update, as pure functions over the
//! ReplicaSets' numbers: how far the new ReplicaSet may grow (bounded by
//! `replicas + maxSurge`) and how far old ones may shrink (keeping
//! `replicas - maxUnavailable` available).

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// One ReplicaSet's numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct RsCounts {
    pub name: String,
    /// `spec.replicas`.
    pub desired: i32,
    /// `status.availableReplicas`.
    pub available: i32,
}

/// A percentage or a count of `total`; percentages round up for surge and
/// down for unavailability, as upstream.
fn scaled(v: Option<&IntOrString>, default_pct: i32, total: i32, round_up: bool) -> i32 {
    match v {
        Some(IntOrString::Int(n)) => *n,
        Some(IntOrString::String(s)) => {
            let pct: i32 = s.trim_end_matches('%').parse().unwrap_or(default_pct);
            percent(pct, total, round_up)
        }
        None => percent(default_pct, total, round_up),
    }
}

fn percent(pct: i32, total: i32, round_up: bool) -> i32 {
    let prod = i64::from(pct) * i64::from(total);
    let v = if round_up {
        (prod + 99) / 100
    } else {
        prod / 100
    };
    v as i32
}

/// (maxSurge, maxUnavailable) for `replicas`; never both zero.
pub fn fenceposts(
    max_surge: Option<&IntOrString>,
    max_unavailable: Option<&IntOrString>,
    replicas: i32,
) -> (i32, i32) {
    let surge = scaled(max_surge, 25, replicas, true).max(0);
    let unavailable = scaled(max_unavailable, 25, replicas, false).max(0);
    if surge == 0 && unavailable == 0 {
        (0, 1)
    } else {
        (surge, unavailable.min(replicas))
    }
}

/// The new ReplicaSet's next `spec.replicas` in a rolling update.
pub fn new_rs_replicas(replicas: i32, surge: i32, new_desired: i32, all_desired: i32) -> i32 {
    if new_desired >= replicas {
        return replicas;
    }
    let max_total = replicas + surge;
    if all_desired >= max_total {
        return new_desired;
    }
    let room = (max_total - all_desired).min(replicas - new_desired);
    new_desired + room.max(0)
}

/// The old ReplicaSets' next sizes in a rolling update, oldest first in
/// `old`: first shrink the ones with unavailable pods (they serve nobody),
/// then shrink by availability while `replicas - maxUnavailable` stay
/// available.
pub fn old_rs_replicas(
    replicas: i32,
    unavailable: i32,
    new: Option<&RsCounts>,
    old: &[RsCounts],
) -> Vec<i32> {
    let mut sizes: Vec<i32> = old.iter().map(|r| r.desired).collect();
    let old_total: i32 = sizes.iter().sum();
    if old_total == 0 {
        return sizes;
    }
    let all_total = old_total + new.map_or(0, |n| n.desired);
    let min_available = replicas - unavailable;
    let new_unavailable = new.map_or(0, |n| (n.desired - n.available).max(0));
    let mut budget = all_total - min_available - new_unavailable;
    if budget <= 0 {
        return sizes;
    }
    for (i, rs) in old.iter().enumerate() {
        if budget <= 0 {
            break;
        }
        let unhealthy = (sizes[i] - rs.available).max(0);
        let cut = unhealthy.min(budget);
        sizes[i] -= cut;
        budget -= cut;
    }
    let available: i32 =
        old.iter().map(|r| r.available).sum::<i32>() + new.map_or(0, |n| n.available);
    let mut left = available - min_available;
    for size in sizes.iter_mut() {
        if left <= 0 {
            break;
        }
        let cut = (*size).min(left).max(0);
        *size -= cut;
        left -= cut;
    }
    sizes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> IntOrString {
        IntOrString::String(v.into())
    }

    fn rs(desired: i32, available: i32) -> RsCounts {
        RsCounts {
            name: String::new(),
            desired,
            available,
        }
    }

    #[test]
    fn fencepost_rounding() {
        assert_eq!(fenceposts(None, None, 4), (1, 1));
        assert_eq!(fenceposts(None, None, 10), (3, 2));
        assert_eq!(fenceposts(Some(&s("0%")), Some(&s("0%")), 10), (0, 1));
        assert_eq!(
            fenceposts(Some(&IntOrString::Int(2)), Some(&IntOrString::Int(0)), 3),
            (2, 0)
        );
        assert_eq!(fenceposts(None, Some(&s("100%")), 3), (1, 3));
    }

    #[test]
    fn new_rs_growth() {
        // 4 replicas, surge 1: 4 old + 0 new -> 1 new.
        assert_eq!(new_rs_replicas(4, 1, 0, 4), 1);
        // Total already at the surge ceiling: no growth.
        assert_eq!(new_rs_replicas(4, 1, 1, 5), 1);
        // Old shrank: grow into the room.
        assert_eq!(new_rs_replicas(4, 1, 1, 4), 2);
        // Never past replicas; scale down if above.
        assert_eq!(new_rs_replicas(4, 10, 0, 0), 4);
        assert_eq!(new_rs_replicas(2, 1, 4, 4), 2);
    }

    #[test]
    fn old_rs_shrinking() {
        // 4 replicas, maxUnavailable 1; old 4 available, new 1 not yet available.
        assert_eq!(old_rs_replicas(4, 1, Some(&rs(1, 0)), &[rs(4, 4)]), vec![3]);
        // New pod available: another old may go.
        assert_eq!(old_rs_replicas(4, 1, Some(&rs(2, 1)), &[rs(3, 3)]), vec![2]);
        // Unhealthy old pods go first, even beyond availability.
        assert_eq!(old_rs_replicas(4, 1, Some(&rs(1, 0)), &[rs(4, 2)]), vec![3]);
        // At the availability floor nothing goes.
        assert_eq!(old_rs_replicas(4, 0, Some(&rs(1, 0)), &[rs(4, 4)]), vec![4]);
        // Oldest first across several old sets.
        assert_eq!(
            old_rs_replicas(4, 2, Some(&rs(0, 0)), &[rs(2, 2), rs(2, 2)]),
            vec![0, 2]
        );
        assert_eq!(old_rs_replicas(4, 1, None, &[rs(0, 0)]), vec![0]);
    }
}
