//! Scheduling rules several daemons evaluate (upstream's
//! component-helpers): taints and tolerations, node selectors and node
//! affinity, pod resource requests. The scheduler, the controller-manager
//! (DaemonSet placement, NoExecute eviction) and the hollow nodes of the
//! tests call these, so a pod is judged the same way wherever it is judged.

pub mod node_affinity;
pub mod resources;
pub mod taints;

pub use node_affinity::{
    RequiredNodeAffinity, matches_node_selector, preferred_score, term_matches, terms_match,
};
pub use resources::{Resource, pod_non_zero_requests, pod_requests};
pub use taints::{
    does_not_schedule, find_untolerated_taint, tolerates, tolerations_tolerate_taint,
};
