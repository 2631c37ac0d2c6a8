//! nodeipam hands each Node a podCIDR from --cluster-cidr and reuses the
//! range of a Node that left.

use harness::controller_manager::CmCluster;
use harness::hollow::HollowNode;
use harness::process::wait_until;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

#[test]
fn nodes_get_pod_cidrs_and_released_ranges_are_reused() {
    let c = CmCluster::start_with(
        "node-ipam",
        vec![HollowNode::new("hollow-0"), HollowNode::new("hollow-1")],
        &["--allocate-node-cidrs=true", "--node-cidr-mask-size=24"],
    );
    // Both nodes get one of the two lowest ranges, in whichever order.
    let mut cidrs = Vec::new();
    let both = wait_until(WAIT, || {
        let out = c.jsonpath(&["get", "nodes"], "{.items[*].spec.podCIDR}");
        cidrs = out.split_whitespace().map(String::from).collect::<Vec<_>>();
        cidrs.sort();
        cidrs == ["172.7.0.0/24", "172.7.1.0/24"]
    });
    assert!(both, "pod CIDRs: {cidrs:?}\n{}", c.cm.log_tail(30));
    let first = c.jsonpath(&["get", "node", "hollow-0"], "{.spec.podCIDR}");
    assert_eq!(
        c.jsonpath(&["get", "node", "hollow-0"], "{.spec.podCIDRs[0]}"),
        first
    );
    let hollow = c.hollow.as_ref().expect("hollow nodes");
    hollow.remove_node("hollow-0");
    hollow.add_node(HollowNode::new("hollow-2"));
    // The range hollow-0 left is handed out again.
    c.wait_for(
        &["get", "node", "hollow-2"],
        "{.spec.podCIDR}",
        &first,
        WAIT,
    );
    hollow.add_node(HollowNode::new("hollow-3"));
    c.wait_for(
        &["get", "node", "hollow-3"],
        "{.spec.podCIDR}",
        "172.7.2.0/24",
        WAIT,
    );
    // kubectl shows the range too.
    let out = c.kubectl_ok(&["get", "node", "hollow-3", "-o", "wide"]);
    assert!(out.contains("hollow-3"), "{out}");
}

#[test]
fn without_allocate_node_cidrs_nothing_is_assigned() {
    let c = CmCluster::start("node-ipam", 1);
    c.wait_for(
        &["get", "nodes"],
        "{.items[*].metadata.name}",
        "hollow-0",
        WAIT,
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        c.jsonpath(&["get", "node", "hollow-0"], "{.spec.podCIDR}"),
        ""
    );
}
