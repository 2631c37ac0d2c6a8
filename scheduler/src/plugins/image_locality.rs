//! ImageLocality: prefers nodes that already hold the pod's images, by
//! image size, discounted when the image is on only a few nodes (so pods do
//! not pile onto the one node that happens to have it).

use crate::framework::node_info::normalize_image;
use crate::framework::{CycleState, MAX_NODE_SCORE, NodeInfo, PodInfo, ScorePlugin, Snapshot};
use std::collections::HashMap;
use std::sync::Arc;

pub const NAME: &str = "ImageLocality";
const MB: i64 = 1024 * 1024;
/// Below this much locally-present image data a node gets no credit.
const MIN_THRESHOLD: i64 = 23 * MB;
/// Per container: this much image data or more earns the full score.
const MAX_CONTAINER_THRESHOLD: i64 = 1000 * MB;
const STATE_KEY: &str = "ImageLocality";

pub struct ImageLocality;

/// Per normalised image of the pod: on how many nodes it is present.
struct ImageSpread {
    images: Vec<String>,
    nodes_with: HashMap<String, usize>,
    total_nodes: usize,
}

impl ScorePlugin for ImageLocality {
    fn name(&self) -> &'static str {
        NAME
    }
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &PodInfo,
        _: &[Arc<NodeInfo>],
        snapshot: &Snapshot,
    ) {
        let spec = pod.pod.spec.as_ref();
        let images: Vec<String> = spec
            .into_iter()
            .flat_map(|s| {
                s.containers
                    .iter()
                    .chain(s.init_containers.iter().flatten())
            })
            .filter_map(|c| c.image.as_deref())
            .map(normalize_image)
            .collect();
        let mut nodes_with = HashMap::new();
        for n in &snapshot.nodes {
            if n.images.is_empty() {
                continue;
            }
            for i in &images {
                if n.images.contains_key(i) {
                    *nodes_with.entry(i.clone()).or_insert(0) += 1;
                }
            }
        }
        state.write(
            STATE_KEY,
            ImageSpread {
                images,
                nodes_with,
                total_nodes: snapshot.nodes.len(),
            },
        );
    }
    fn score(&self, state: &CycleState, _: &PodInfo, node: &NodeInfo) -> i64 {
        let Some(spread) = state.read::<ImageSpread>(STATE_KEY) else {
            return 0;
        };
        if spread.images.is_empty() || spread.total_nodes == 0 {
            return 0;
        }
        let sum: i64 = spread
            .images
            .iter()
            .filter_map(|i| {
                let size = *node.images.get(i)?;
                let on = *spread.nodes_with.get(i).unwrap_or(&0) as i64;
                Some(size * on / spread.total_nodes as i64)
            })
            .sum();
        let max = MAX_CONTAINER_THRESHOLD * spread.images.len() as i64;
        let clamped = sum.clamp(MIN_THRESHOLD, max);
        MAX_NODE_SCORE * (clamped - MIN_THRESHOLD) / (max - MIN_THRESHOLD)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testing::{node, pod, snapshot};
    use serde_json::json;

    #[test]
    fn nodes_holding_the_image_score_by_size_and_spread() {
        let with = |name: &str, size: i64| {
            node(json!({"metadata": {"name": name}, "status": {"images": [
                {"names": ["docker.io/library/nginx:1.25"], "sizeBytes": size}]}}))
        };
        let snap = snapshot(vec![
            with("a", 500 * MB),
            with("b", 500 * MB),
            node(json!({"metadata": {"name": "c"}})),
        ]);
        let p = pod(json!({"spec": {"containers": [{"name": "c", "image": "nginx:1.25"}]}}));
        let mut state = CycleState::new();
        ImageLocality.pre_score(&mut state, &p, &snap.nodes, &snap);
        // 500MB * 2/3 nodes = 333MB; (333-23)/(1000-23) → 31.
        let scores: Vec<i64> = snap
            .nodes
            .iter()
            .map(|n| ImageLocality.score(&state, &p, n))
            .collect();
        assert_eq!(scores, vec![31, 31, 0]);
        let small = snapshot(vec![with("a", 10 * MB)]);
        let mut state = CycleState::new();
        ImageLocality.pre_score(&mut state, &p, &small.nodes, &small);
        assert_eq!(ImageLocality.score(&state, &p, &small.nodes[0]), 0);
    }
}
