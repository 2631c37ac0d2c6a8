//! The ownerReferences graph and what the garbage collector should do
//! about it: delete dependents whose owners are all gone, orphan the
//! dependents of owners deleted with `orphan`, delete the dependents of
//! owners deleted with `foregroundDeletion` and release those owners once
//! no blocking dependent is left. Pure: the caller applies the actions.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use std::collections::{BTreeMap, BTreeSet, HashMap};

pub const FOREGROUND: &str = "foregroundDeletion";
pub const ORPHAN: &str = "orphan";

/// Index of a watched resource (group/version/plural) in the collector's
/// resource table.
pub type ResourceIndex = usize;

/// What the graph keeps of one object.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectNode {
    pub resource: ResourceIndex,
    pub namespace: Option<String>,
    pub name: String,
    pub uid: String,
    pub owners: Vec<OwnerReference>,
    pub finalizers: Vec<String>,
    pub deleting: bool,
}

/// How to delete a dependent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    Background,
    Foreground,
}

impl Propagation {
    pub fn as_str(self) -> &'static str {
        match self {
            Propagation::Background => "Background",
            Propagation::Foreground => "Foreground",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Delete a dependent. `confirm_absent` lists owners the graph does not
    /// know, to be confirmed gone with the apiserver first.
    Delete {
        uid: String,
        propagation: Propagation,
        confirm_absent: Vec<OwnerReference>,
    },
    /// Drop ownerReferences to these owner uids from a dependent.
    RemoveOwners {
        uid: String,
        owners: Vec<String>,
        confirm_absent: Vec<OwnerReference>,
    },
    /// Set `blockOwnerDeletion` to false on every ownerReference of a
    /// dependent, so that no owner waits for it (breaks ownership cycles).
    Unblock { uid: String },
    /// Drop a finalizer (`orphan` / `foregroundDeletion`) from an owner.
    RemoveFinalizer {
        uid: String,
        finalizer: &'static str,
    },
}

/// Every object the collector sees, by uid.
#[derive(Debug, Default, Clone)]
pub struct Graph {
    pub objects: HashMap<String, ObjectNode>,
}

/// How one dependent's ownerReferences stand, as upstream's collector
/// classifies them before it decides anything about the dependent.
#[derive(Debug, Default)]
struct Owners {
    /// Owners that exist and are not waiting for their dependents (also
    /// owners of kinds the collector cannot confirm gone).
    solid: usize,
    /// Owners confirmed missing from the graph.
    dangling: Vec<OwnerReference>,
    /// Owners being deleted in the foreground (`foregroundDeletion`).
    waiting: Vec<OwnerReference>,
}

impl ObjectNode {
    /// Deleted in the foreground: gone once its blocking dependents are.
    fn deleting_dependents(&self) -> bool {
        self.deleting && self.finalizers.iter().any(|f| f == FOREGROUND)
    }

    fn blocks_an_owner(&self) -> bool {
        self.owners
            .iter()
            .any(|r| r.block_owner_deletion == Some(true))
    }
}

impl Graph {
    fn classify(&self, d: &ObjectNode, kind_known: &impl Fn(&OwnerReference) -> bool) -> Owners {
        let mut owners = Owners::default();
        for r in &d.owners {
            match self.objects.get(&r.uid) {
                Some(o) if o.deleting_dependents() => owners.waiting.push(r.clone()),
                Some(_) => owners.solid += 1,
                None if kind_known(r) => owners.dangling.push(r.clone()),
                None => owners.solid += 1,
            }
        }
        owners
    }

    /// The actions that move the cluster towards a consistent graph.
    /// `kind_known(ref)` tells whether the owner's kind is watched and
    /// synced, so that an owner missing from the graph is really missing.
    ///
    /// As upstream's collector: a dependent with a live owner is never
    /// deleted, only rid of its references to missing owners and to owners
    /// waiting for their dependents (else those owners would wait for it
    /// forever); one whose only owners are gone or waiting is deleted, in
    /// the foreground when it has dependents of its own. A dependent that
    /// would be deleted in the foreground while one of its own dependents
    /// is already deleting in the foreground may sit in an ownership cycle
    /// (each waiting for the next): it first stops blocking its owners.
    pub fn decide(&self, kind_known: impl Fn(&OwnerReference) -> bool) -> Vec<Action> {
        let mut actions = Vec::new();
        let mut dependents: BTreeMap<&str, Vec<&ObjectNode>> = BTreeMap::new();
        for o in self.objects.values() {
            for r in &o.owners {
                dependents.entry(r.uid.as_str()).or_default().push(o);
            }
        }
        let mut acted: BTreeSet<&str> = BTreeSet::new();
        // Owners being deleted with orphan or foreground propagation.
        for owner in self.objects.values().filter(|o| o.deleting) {
            let deps = dependents
                .get(owner.uid.as_str())
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            if owner.finalizers.iter().any(|f| f == ORPHAN) {
                for d in deps {
                    if acted.insert(&d.uid) {
                        actions.push(Action::RemoveOwners {
                            uid: d.uid.clone(),
                            owners: vec![owner.uid.clone()],
                            confirm_absent: vec![],
                        });
                    }
                }
                if deps.is_empty() {
                    actions.push(Action::RemoveFinalizer {
                        uid: owner.uid.clone(),
                        finalizer: ORPHAN,
                    });
                }
                continue;
            }
            if owner.deleting_dependents() {
                let blocking = deps.iter().any(|d| {
                    d.owners
                        .iter()
                        .any(|r| r.uid == owner.uid && r.block_owner_deletion == Some(true))
                });
                if !blocking {
                    actions.push(Action::RemoveFinalizer {
                        uid: owner.uid.clone(),
                        finalizer: FOREGROUND,
                    });
                }
            }
        }
        // Each live dependent, by how its owners stand.
        for d in self
            .objects
            .values()
            .filter(|o| !o.owners.is_empty() && !o.deleting)
        {
            if acted.contains(d.uid.as_str()) {
                continue;
            }
            let owners = self.classify(d, &kind_known);
            if owners.dangling.is_empty() && owners.waiting.is_empty() {
                continue;
            }
            if owners.solid > 0 {
                actions.push(Action::RemoveOwners {
                    uid: d.uid.clone(),
                    owners: owners
                        .dangling
                        .iter()
                        .chain(&owners.waiting)
                        .map(|r| r.uid.clone())
                        .collect(),
                    confirm_absent: owners.dangling,
                });
                continue;
            }
            let own = dependents
                .get(d.uid.as_str())
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let propagation = if !owners.waiting.is_empty() && !own.is_empty() {
                if d.blocks_an_owner() && own.iter().any(|o| o.deleting_dependents()) {
                    actions.push(Action::Unblock { uid: d.uid.clone() });
                    continue;
                }
                Propagation::Foreground
            } else {
                Propagation::Background
            };
            actions.push(Action::Delete {
                uid: d.uid.clone(),
                propagation,
                confirm_absent: owners.dangling,
            });
        }
        actions
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner_ref(uid: &str, block: bool) -> OwnerReference {
        OwnerReference {
            api_version: "apps/v1".into(),
            kind: "ReplicaSet".into(),
            name: format!("n-{uid}"),
            uid: uid.into(),
            controller: Some(true),
            block_owner_deletion: Some(block),
        }
    }

    fn node(
        uid: &str,
        owners: Vec<OwnerReference>,
        finalizers: &[&str],
        deleting: bool,
    ) -> ObjectNode {
        ObjectNode {
            resource: 0,
            namespace: Some("default".into()),
            name: format!("n-{uid}"),
            uid: uid.into(),
            owners,
            finalizers: finalizers.iter().map(|s| s.to_string()).collect(),
            deleting,
        }
    }

    fn graph(nodes: Vec<ObjectNode>) -> Graph {
        Graph {
            objects: nodes.into_iter().map(|n| (n.uid.clone(), n)).collect(),
        }
    }

    fn sorted(mut a: Vec<Action>) -> Vec<Action> {
        a.sort_by_key(|x| format!("{x:?}"));
        a
    }

    #[test]
    fn dependents_of_missing_owners_are_deleted_after_confirmation() {
        let g = graph(vec![node("pod", vec![owner_ref("rs", true)], &[], false)]);
        assert_eq!(
            g.decide(|_| true),
            [Action::Delete {
                uid: "pod".into(),
                propagation: Propagation::Background,
                confirm_absent: vec![owner_ref("rs", true)]
            }]
        );
        // An owner of a kind the collector does not know is never presumed gone.
        assert_eq!(g.decide(|_| false), []);
    }

    #[test]
    fn a_live_owner_keeps_its_dependents_and_dangling_refs_are_dropped() {
        let g = graph(vec![
            node("rs", vec![], &[], false),
            node(
                "pod",
                vec![owner_ref("rs", true), owner_ref("gone", false)],
                &[],
                false,
            ),
        ]);
        assert_eq!(
            g.decide(|_| true),
            [Action::RemoveOwners {
                uid: "pod".into(),
                owners: vec!["gone".into()],
                confirm_absent: vec![owner_ref("gone", false)]
            }]
        );
    }

    #[test]
    fn orphan_deletion_unlinks_dependents_then_releases_the_owner() {
        let g = graph(vec![
            node("rs", vec![], &[ORPHAN], true),
            node("pod", vec![owner_ref("rs", true)], &[], false),
        ]);
        assert_eq!(
            g.decide(|_| true),
            [Action::RemoveOwners {
                uid: "pod".into(),
                owners: vec!["rs".into()],
                confirm_absent: vec![]
            }]
        );
        let g = graph(vec![
            node("rs", vec![], &[ORPHAN], true),
            node("pod", vec![], &[], false),
        ]);
        assert_eq!(
            g.decide(|_| true),
            [Action::RemoveFinalizer {
                uid: "rs".into(),
                finalizer: ORPHAN
            }]
        );
    }

    #[test]
    fn foreground_deletion_waits_for_blocking_dependents() {
        let g = graph(vec![
            node("deploy", vec![], &[FOREGROUND], true),
            node("rs", vec![owner_ref("deploy", true)], &[], false),
            node("pod", vec![owner_ref("rs", true)], &[], false),
        ]);
        assert_eq!(
            g.decide(|_| true),
            [Action::Delete {
                uid: "rs".into(),
                propagation: Propagation::Foreground,
                confirm_absent: vec![]
            }]
        );
        // The ReplicaSet is going (itself in the foreground): nothing more yet.
        let g = graph(vec![
            node("deploy", vec![], &[FOREGROUND], true),
            node("rs", vec![owner_ref("deploy", true)], &[FOREGROUND], true),
            node("pod", vec![owner_ref("rs", true)], &[], false),
        ]);
        assert_eq!(
            sorted(g.decide(|_| true)),
            [Action::Delete {
                uid: "pod".into(),
                propagation: Propagation::Background,
                confirm_absent: vec![]
            }]
        );
        // Only non-blocking dependents left: the owner may go.
        let g = graph(vec![
            node("deploy", vec![], &[FOREGROUND], true),
            node("cm", vec![owner_ref("deploy", false)], &[], true),
        ]);
        assert_eq!(
            g.decide(|_| true),
            [Action::RemoveFinalizer {
                uid: "deploy".into(),
                finalizer: FOREGROUND
            }]
        );
    }
    #[test]
    fn a_dependent_with_a_live_owner_only_loses_the_waiting_owner() {
        let g = graph(vec![
            node("rc1", vec![], &[FOREGROUND], true),
            node("rc2", vec![], &[], false),
            node(
                "shared",
                vec![owner_ref("rc1", true), owner_ref("rc2", false)],
                &[],
                false,
            ),
            node("own", vec![owner_ref("rc1", true)], &[], false),
        ]);
        assert_eq!(
            sorted(g.decide(|_| true)),
            [
                Action::Delete {
                    uid: "own".into(),
                    propagation: Propagation::Background,
                    confirm_absent: vec![]
                },
                Action::RemoveOwners {
                    uid: "shared".into(),
                    owners: vec!["rc1".into()],
                    confirm_absent: vec![]
                },
            ]
        );
        // Once the reference is gone and the own pod deleted, the owner goes.
        let g = graph(vec![
            node("rc1", vec![], &[FOREGROUND], true),
            node("rc2", vec![], &[], false),
            node("shared", vec![owner_ref("rc2", false)], &[], false),
        ]);
        assert_eq!(
            g.decide(|_| true),
            [Action::RemoveFinalizer {
                uid: "rc1".into(),
                finalizer: FOREGROUND
            }]
        );
    }

    #[test]
    fn a_foreground_delete_of_an_ownership_cycle_finishes() {
        // pod1 <- pod2 <- pod3 <- pod1 (each owned by the previous).
        let cycle = |p1: (&[&str], bool), p2: (&[&str], bool), p3: (&[&str], bool), b3: bool| {
            graph(vec![
                node("pod1", vec![owner_ref("pod3", true)], p1.0, p1.1),
                node("pod2", vec![owner_ref("pod1", true)], p2.0, p2.1),
                node("pod3", vec![owner_ref("pod2", b3)], p3.0, p3.1),
            ])
        };
        let fg: (&[&str], bool) = (&[FOREGROUND], true);
        let live: (&[&str], bool) = (&[], false);
        // pod1 deleted in the foreground: pod2 (with a dependent) follows.
        assert_eq!(
            cycle(fg, live, live, true).decide(|_| true),
            [Action::Delete {
                uid: "pod2".into(),
                propagation: Propagation::Foreground,
                confirm_absent: vec![]
            }]
        );
        // pod3's dependent pod1 is already waiting: pod3 stops blocking first.
        assert_eq!(
            cycle(fg, fg, live, true).decide(|_| true),
            [Action::Unblock { uid: "pod3".into() }]
        );
        // Unblocked, pod3 is deleted and pod2 no longer waits for it.
        assert_eq!(
            sorted(cycle(fg, fg, live, false).decide(|_| true)),
            [
                Action::Delete {
                    uid: "pod3".into(),
                    propagation: Propagation::Foreground,
                    confirm_absent: vec![]
                },
                Action::RemoveFinalizer {
                    uid: "pod2".into(),
                    finalizer: FOREGROUND
                },
            ]
        );
        // pod2 gone: pod1 goes, then pod3.
        let g = graph(vec![
            node("pod1", vec![owner_ref("pod3", true)], &[FOREGROUND], true),
            node("pod3", vec![owner_ref("pod2", false)], &[FOREGROUND], true),
        ]);
        assert_eq!(
            g.decide(|_| true),
            [Action::RemoveFinalizer {
                uid: "pod1".into(),
                finalizer: FOREGROUND
            }]
        );
        let g = graph(vec![node(
            "pod3",
            vec![owner_ref("pod2", false)],
            &[FOREGROUND],
            true,
        )]);
        assert_eq!(
            g.decide(|_| true),
            [Action::RemoveFinalizer {
                uid: "pod3".into(),
                finalizer: FOREGROUND
            }]
        );
    }
}
