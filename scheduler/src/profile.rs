//! A scheduling profile: the plugins (in order, with score weights) that
//! place pods naming one `schedulerName`.

use crate::framework::{FilterPlugin, ScorePlugin};
use crate::plugins::volume_binding::VolumeBinding;
use std::sync::Arc;

pub struct Profile {
    pub scheduler_name: String,
    pub filters: Vec<Arc<dyn FilterPlugin>>,
    pub scores: Vec<(Arc<dyn ScorePlugin>, i64)>,
    /// Whether DefaultPreemption runs after a failed cycle.
    pub preemption: bool,
    /// Set when VolumeBinding is enabled: its decisions are written before
    /// the pod is bound.
    pub volumes: Option<Arc<VolumeBinding>>,
    /// 0 means adaptive (upstream's default).
    pub percentage_of_nodes_to_score: u32,
}

impl Profile {
    pub fn filter_names(&self) -> Vec<&'static str> {
        self.filters.iter().map(|f| f.name()).collect()
    }
}
