//! Label selector matching for the hot path. apimachinery's
//! `Selector::matches` copies each looked-up value; a scheduling attempt
//! matches selectors against every pod in the cluster, so the plugins use
//! this allocation-free equivalent instead.

use apimachinery::labels::{Operator, Selector};
use std::collections::BTreeMap;

/// Whether `labels` satisfy every requirement of `selector` (a null
/// selector, "nothing", matches no label set).
pub fn selects(selector: &Selector, labels: &BTreeMap<String, String>) -> bool {
    let reqs = selector.requirements();
    if reqs.is_empty() {
        // Empty requirements: either everything or nothing.
        return selector.is_empty();
    }
    reqs.iter().all(|r| {
        let value = labels.get(r.key());
        let values = r.values();
        match r.operator() {
            Operator::In | Operator::Equals | Operator::DoubleEquals => {
                value.is_some_and(|v| values.iter().any(|w| w == v))
            }
            Operator::NotIn | Operator::NotEquals => {
                !value.is_some_and(|v| values.iter().any(|w| w == v))
            }
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
            Operator::GreaterThan | Operator::LessThan => {
                let (Some(have), [want]) = (value, values) else {
                    return false;
                };
                match (have.parse::<i64>(), want.parse::<i64>()) {
                    (Ok(h), Ok(w)) if r.operator() == Operator::GreaterThan => h > w,
                    (Ok(h), Ok(w)) => h < w,
                    _ => false,
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(s: &[(&str, &str)]) -> BTreeMap<String, String> {
        s.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Agrees with apimachinery's matcher on every operator.
    #[test]
    fn agrees_with_apimachinery() {
        let sets = [
            labels(&[]),
            labels(&[("app", "web")]),
            labels(&[("app", "db"), ("tier", "3")]),
            labels(&[("tier", "10")]),
        ];
        let selectors = [
            "app=web",
            "app!=web",
            "app in (web,db)",
            "app notin (db)",
            "app",
            "!app",
            "tier>5",
            "tier<5",
            "app=db,tier",
            "",
        ];
        for s in selectors {
            let sel = Selector::parse(s).expect("selector");
            for l in &sets {
                assert_eq!(selects(&sel, l), sel.matches(l), "{s:?} on {l:?}");
            }
        }
        for l in &sets {
            assert!(!selects(&Selector::nothing(), l));
            assert!(selects(&Selector::everything(), l));
        }
    }
}
