//! Job tracking with finalizers: every Job pod carries
//! [`TRACKING_FINALIZER`], so a finished pod cannot vanish before it is
//! counted. A finished pod's UID first goes to
//! `status.uncountedTerminatedPods`; once that is written the finalizer
//! is removed; a UID whose pod no longer holds the finalizer (or is gone)
//! then moves into the `succeeded`/`failed` counters. A pod deleted while
//! still running counts as failed.

use std::collections::BTreeSet;

pub const TRACKING_FINALIZER: &str = "batch.kubernetes.io/job-tracking";

/// How a pod ended, for counting.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ending {
    Succeeded,
    Failed,
    /// A podFailurePolicy `Ignore` rule matched: not counted.
    Ignored,
}

/// The facts about one pod of the Job.
#[derive(Debug, Clone, PartialEq)]
pub struct PodFacts {
    pub uid: String,
    pub has_finalizer: bool,
    /// None while the pod still runs.
    pub ending: Option<Ending>,
}

/// One accounting step's result.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Accounting {
    /// `uncountedTerminatedPods` to write (succeeded, failed).
    pub uncounted_succeeded: BTreeSet<String>,
    pub uncounted_failed: BTreeSet<String>,
    /// Pods whose finalizer may go now (their ending is on record).
    pub strip: Vec<String>,
    /// Counted into `succeeded` / `failed` in this step.
    pub moved_succeeded: i32,
    pub moved_failed: i32,
}

impl Accounting {
    /// Whether anything is still in flight (the Job's other decisions wait).
    pub fn pending(&self) -> bool {
        !self.uncounted_succeeded.is_empty()
            || !self.uncounted_failed.is_empty()
            || !self.strip.is_empty()
    }
}

/// Plans one step from the pods and the `uncountedTerminatedPods` already
/// written (`recorded_*`).
pub fn account(
    pods: &[PodFacts],
    recorded_succeeded: &BTreeSet<String>,
    recorded_failed: &BTreeSet<String>,
) -> Accounting {
    let mut a = Accounting::default();
    let holding = |uid: &str| pods.iter().any(|p| p.uid == uid && p.has_finalizer);
    for uid in recorded_succeeded {
        if holding(uid) {
            a.uncounted_succeeded.insert(uid.clone());
        } else {
            a.moved_succeeded += 1;
        }
    }
    for uid in recorded_failed {
        if holding(uid) {
            a.uncounted_failed.insert(uid.clone());
        } else {
            a.moved_failed += 1;
        }
    }
    for p in pods.iter().filter(|p| p.has_finalizer) {
        let recorded = recorded_succeeded.contains(&p.uid) || recorded_failed.contains(&p.uid);
        match p.ending {
            None => {}
            Some(_) if recorded => a.strip.push(p.uid.clone()),
            Some(Ending::Ignored) => a.strip.push(p.uid.clone()),
            Some(Ending::Succeeded) => {
                a.uncounted_succeeded.insert(p.uid.clone());
            }
            Some(Ending::Failed) => {
                a.uncounted_failed.insert(p.uid.clone());
            }
        }
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(uid: &str, fin: bool, ending: Option<Ending>) -> PodFacts {
        PodFacts {
            uid: uid.into(),
            has_finalizer: fin,
            ending,
        }
    }

    fn set(v: &[&str]) -> BTreeSet<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn accounting_steps() {
        use Ending::*;
        // (what, pods, recorded succeeded, recorded failed,
        //  uncounted succeeded, uncounted failed, strip, moved s, moved f)
        type Case<'a> = (
            &'a str,
            Vec<PodFacts>,
            Vec<&'a str>,
            Vec<&'a str>,
            Vec<&'a str>,
            Vec<&'a str>,
            Vec<&'a str>,
            i32,
            i32,
        );
        let cases: Vec<Case> = vec![
            (
                "running pod: nothing",
                vec![pod("a", true, None)],
                vec![],
                vec![],
                vec![],
                vec![],
                vec![],
                0,
                0,
            ),
            (
                "finished pods get recorded first",
                vec![
                    pod("a", true, Some(Succeeded)),
                    pod("b", true, Some(Failed)),
                ],
                vec![],
                vec![],
                vec!["a"],
                vec!["b"],
                vec![],
                0,
                0,
            ),
            (
                "recorded pods lose the finalizer",
                vec![pod("a", true, Some(Succeeded))],
                vec!["a"],
                vec![],
                vec!["a"],
                vec![],
                vec!["a"],
                0,
                0,
            ),
            (
                "without finalizer they are counted",
                vec![pod("a", false, Some(Succeeded))],
                vec!["a"],
                vec![],
                vec![],
                vec![],
                vec![],
                1,
                0,
            ),
            (
                "a deleted pod on record is counted",
                vec![],
                vec!["a"],
                vec!["b"],
                vec![],
                vec![],
                vec![],
                1,
                1,
            ),
            (
                "ignored failures are never counted",
                vec![pod("a", true, Some(Ignored))],
                vec![],
                vec![],
                vec![],
                vec![],
                vec!["a"],
                0,
                0,
            ),
            (
                "pods without finalizer are not recounted",
                vec![pod("a", false, Some(Succeeded))],
                vec![],
                vec![],
                vec![],
                vec![],
                vec![],
                0,
                0,
            ),
        ];
        for (what, pods, rs, rf, us, uf, strip, ms, mf) in cases {
            let a = account(&pods, &set(&rs), &set(&rf));
            assert_eq!(a.uncounted_succeeded, set(&us), "{what}");
            assert_eq!(a.uncounted_failed, set(&uf), "{what}");
            assert_eq!(a.strip, strip, "{what}");
            assert_eq!((a.moved_succeeded, a.moved_failed), (ms, mf), "{what}");
        }
    }
}
