//! nodeipam hands each Node a podCIDR from --cluster-cidr and reuses the
//! range of a Node that left.

use harness::controller_manager::CmCluster;
use harness::hollow::HollowNode;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

#[test]
fn nodes_get_pod_cidrs_and_released_ranges_are_reused() {
    let c = CmCluster::start_with(
        "node-ipam",
        vec![HollowNode::new("hollow-0"), HollowNode::new("hollow-1")],
        &["--allocate-node-cidrs=true", "--node-cidr-mask-size=24"],
    );
    c.wait_for(&["get", "nodes"], "{.items[*].spec.podCIDR}", "172.7.0.0/24 172.7.1.0/24", WAIT);
    c.wait_for(&["get", "node", "hollow-0"], "{.spec.podCIDRs[0]}", "172.7.0.0/24", WAIT);
    let hollow = c.hollow.as_ref().expect("hollow nodes");
    hollow.remove_node("hollow-0");
    hollow.add_node(HollowNode::new("hollow-2"));
    c.wait_for(&["get", "node", "hollow-2"], "{.spec.podCIDR}", "172.7.0.0/24", WAIT);
    hollow.add_node(HollowNode::new("hollow-3"));
    c.wait_for(&["get", "node", "hollow-3"], "{.spec.podCIDR}", "172.7.2.0/24", WAIT);
    // kubectl shows the range too.
    let out = c.kubectl_ok(&["get", "node", "hollow-3", "-o", "wide"]);
    assert!(out.contains("hollow-3"), "{out}");
}

#[test]
fn without_allocate_node_cidrs_nothing_is_assigned() {
    let c = CmCluster::start("node-ipam", 1);
    c.wait_for(&["get", "nodes"], "{.items[*].metadata.name}", "hollow-0", WAIT);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(c.jsonpath(&["get", "node", "hollow-0"], "{.spec.podCIDR}"), "");
}
