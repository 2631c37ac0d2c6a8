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

impl Graph {
    /// The actions that move the cluster towards a consistent graph.
    /// `kind_known(ref)` tells whether the owner's kind is watched and
    /// synced, so that an owner missing from the graph is really missing.
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
            if owner.finalizers.iter().any(|f| f == FOREGROUND) {
                for d in deps.iter().filter(|d| !d.deleting) {
                    if acted.insert(&d.uid) {
                        // Dependents with dependents of their own wait for them too.
                        let has_own = dependents.contains_key(d.uid.as_str());
                        let propagation = if has_own {
                            Propagation::Foreground
                        } else {
                            Propagation::Background
                        };
                        actions.push(Action::Delete {
                            uid: d.uid.clone(),
                            propagation,
                            confirm_absent: vec![],
                        });
                    }
                }
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
        // Dependents whose owners are gone.
        for d in self
            .objects
            .values()
            .filter(|o| !o.owners.is_empty() && !o.deleting)
        {
            if acted.contains(d.uid.as_str()) {
                continue;
            }
            let absent: Vec<OwnerReference> = d
                .owners
                .iter()
                .filter(|r| !self.objects.contains_key(&r.uid) && kind_known(r))
                .cloned()
                .collect();
            if absent.is_empty() {
                continue;
            }
            if absent.len() == d.owners.len() {
                actions.push(Action::Delete {
                    uid: d.uid.clone(),
                    propagation: Propagation::Background,
                    confirm_absent: absent,
                });
            } else {
                actions.push(Action::RemoveOwners {
                    uid: d.uid.clone(),
                    owners: absent.iter().map(|r| r.uid.clone()).collect(),
                    confirm_absent: absent,
                });
            }
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
}
