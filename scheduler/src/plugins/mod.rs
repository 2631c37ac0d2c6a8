//! Placement rules, one per module, under upstream's plugin names. The
//! registry builds a profile's filter and score lists from plugin names.

pub mod balanced_allocation;
pub mod image_locality;
pub mod inter_pod_affinity;
pub mod node_affinity;
pub mod node_name;
pub mod node_ports;
pub mod node_resources_fit;
pub mod node_unschedulable;
pub mod pod_topology_spread;
pub mod taint_toleration;
pub mod volume_binding;

#[cfg(test)]
pub mod testing;

use crate::framework::{FilterPlugin, ScorePlugin};
use std::sync::Arc;

/// Filters in the order upstream's default profile runs them.
pub const DEFAULT_FILTERS: &[&str] = &[
    node_unschedulable::NAME,
    node_name::NAME,
    taint_toleration::NAME,
    node_affinity::NAME,
    node_ports::NAME,
    node_resources_fit::NAME,
    volume_binding::NAME,
    pod_topology_spread::NAME,
    inter_pod_affinity::NAME,
];

/// Scores with upstream's default weights.
pub const DEFAULT_SCORES: &[(&str, i64)] = &[
    (taint_toleration::NAME, 3),
    (node_affinity::NAME, 2),
    (node_resources_fit::NAME, 1),
    (volume_binding::NAME, 1),
    (pod_topology_spread::NAME, 2),
    (inter_pod_affinity::NAME, 2),
    (balanced_allocation::NAME, 1),
    (image_locality::NAME, 1),
];

/// Per-plugin settings from the configuration's `pluginConfig`.
#[derive(Default, Clone)]
pub struct PluginArgs {
    pub resources_fit: Option<Arc<node_resources_fit::NodeResourcesFit>>,
    pub topology_spread: Option<Arc<pod_topology_spread::PodTopologySpread>>,
    pub inter_pod_affinity: Option<Arc<inter_pod_affinity::InterPodAffinity>>,
    pub volumes: Option<Arc<volume_binding::VolumeBinding>>,
}

/// The filter plugin called `name`, if there is one.
pub fn filter_plugin(name: &str, args: &PluginArgs) -> Option<Arc<dyn FilterPlugin>> {
    Some(match name {
        node_unschedulable::NAME => Arc::new(node_unschedulable::NodeUnschedulable),
        node_name::NAME => Arc::new(node_name::NodeName),
        taint_toleration::NAME => Arc::new(taint_toleration::TaintToleration),
        node_affinity::NAME => Arc::new(node_affinity::NodeAffinity),
        node_ports::NAME => Arc::new(node_ports::NodePorts),
        node_resources_fit::NAME => args.resources_fit.clone().unwrap_or_default(),
        pod_topology_spread::NAME => args.topology_spread.clone().unwrap_or_default(),
        inter_pod_affinity::NAME => args.inter_pod_affinity.clone().unwrap_or_default(),
        volume_binding::NAME => args.volumes.clone()?,
        _ => return None,
    })
}

/// The score plugin called `name`, if there is one.
pub fn score_plugin(name: &str, args: &PluginArgs) -> Option<Arc<dyn ScorePlugin>> {
    Some(match name {
        taint_toleration::NAME => Arc::new(taint_toleration::TaintToleration),
        node_affinity::NAME => Arc::new(node_affinity::NodeAffinity),
        node_resources_fit::NAME => args.resources_fit.clone().unwrap_or_default(),
        balanced_allocation::NAME => Arc::new(balanced_allocation::BalancedAllocation::default()),
        image_locality::NAME => Arc::new(image_locality::ImageLocality),
        pod_topology_spread::NAME => args.topology_spread.clone().unwrap_or_default(),
        inter_pod_affinity::NAME => args.inter_pod_affinity.clone().unwrap_or_default(),
        volume_binding::NAME => args.volumes.clone()?,
        _ => return None,
    })
}

/// Every plugin name this scheduler knows (for validating configuration).
pub fn known(name: &str) -> bool {
    DEFAULT_FILTERS.contains(&name)
        || DEFAULT_SCORES.iter().any(|(n, _)| *n == name)
        || matches!(
            name,
            "DefaultPreemption" | "PrioritySort" | "DefaultBinder" | "SchedulingGates"
        )
}
