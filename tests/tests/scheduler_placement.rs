//! kube-scheduler through the real binaries: etcd + kube-apiserver +
//! kube-scheduler with its own certificate, nodes played by the hollow-node
//! agent (registration, Leases, bound pods moved to Running as kubelets
//! do), placements read back with `kubectl get pod -o wide` and events.

use harness::hollow::HollowNode;
use harness::scheduler::SchedCluster;
use serde_json::json;

/// A hollow node with `cpu`/`memory` allocatable (110 pods).
fn node(name: &str, cpu: &str, memory: &str) -> HollowNode {
    let mut n = HollowNode::new(name);
    n.cpu = cpu.into();
    n.memory = memory.into();
    n
}

fn pod(name: &str, spec: serde_json::Value) -> String {
    let mut p = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": "nginx", "imagePullPolicy": "IfNotPresent"}]}});
    if let (Some(s), Some(extra)) = (p["spec"].as_object_mut(), spec.as_object()) {
        s.extend(extra.clone());
    }
    p.to_string()
}

fn labelled_pod(name: &str, labels: serde_json::Value, spec: serde_json::Value) -> String {
    let mut p: serde_json::Value = serde_json::from_str(&pod(name, spec)).unwrap();
    p["metadata"]["labels"] = labels;
    p.to_string()
}

#[test]
fn seed_placement_examples() {
    let c = SchedCluster::start(&[]);
    let _nodes = c.hollow_nodes(vec![
        node("worker0", "4", "8Gi")
            .label("disktype", "ssd")
            .label("kubernetes.io/e2e-az-name", "e2e-az1")
            .label("failure-domain.beta.kubernetes.io/zone", "z1"),
        node("worker1", "4", "8Gi")
            .label("kubernetes.io/e2e-az-name", "e2e-az2")
            .label("another-node-label-key", "another-node-label-value")
            .label("failure-domain.beta.kubernetes.io/zone", "z1"),
        node("worker2", "4", "8Gi").label("failure-domain.beta.kubernetes.io/zone", "z2"),
        node("foo-node", "4", "8Gi"),
    ]);

    // 000: nodeName pins the pod; the scheduler leaves it alone.
    c.apply(&pod("nginx", json!({"nodeName": "foo-node"})));
    assert_eq!(c.wait_bound("default", "nginx"), "foo-node");

    // 000: nodeSelector disktype=ssd → worker0.
    c.apply(&labelled_pod(
        "nginx-ssd",
        json!({"env": "test"}),
        json!({"nodeSelector": {"disktype": "ssd"}}),
    ));
    assert_eq!(c.wait_bound("default", "nginx-ssd"), "worker0");
    let scheduled = c.wait_event("default", "nginx-ssd", "Scheduled");
    assert_eq!(
        scheduled,
        vec!["Successfully assigned default/nginx-ssd to worker0"]
    );

    // 002: required zone In [e2e-az1, e2e-az2], preferring another-node-label-key.
    c.apply(&pod("with-node-affinity", json!({"affinity": {"nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [
            {"key": "kubernetes.io/e2e-az-name", "operator": "In", "values": ["e2e-az1", "e2e-az2"]}]}]},
        "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1, "preference": {"matchExpressions": [
            {"key": "another-node-label-key", "operator": "In", "values": ["another-node-label-value"]}]}}]}}})));
    assert_eq!(c.wait_bound("default", "with-node-affinity"), "worker1");

    // 002: pod affinity to security=S1 by zone, preferring hosts without S2.
    c.apply(&labelled_pod(
        "s1",
        json!({"security": "S1"}),
        json!({"nodeName": "worker0"}),
    ));
    c.apply(&labelled_pod(
        "s2",
        json!({"security": "S2"}),
        json!({"nodeName": "worker1"}),
    ));
    c.apply(&pod("with-pod-affinity", json!({"affinity": {
        "podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{"labelSelector": {"matchExpressions": [
            {"key": "security", "operator": "In", "values": ["S1"]}]}, "topologyKey": "failure-domain.beta.kubernetes.io/zone"}]},
        "podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100, "podAffinityTerm": {
            "labelSelector": {"matchExpressions": [{"key": "security", "operator": "In", "values": ["S2"]}]},
            "topologyKey": "kubernetes.io/hostname"}}]}}})));
    assert_eq!(c.wait_bound("default", "with-pod-affinity"), "worker0");

    // 000: a cordoned node is skipped; uncordoning lets the pod in.
    c.kubectl_ok(&["cordon", "worker0"]);
    c.apply(&pod(
        "after-cordon",
        json!({"nodeSelector": {"disktype": "ssd"}}),
    ));
    let failed = c.wait_event("default", "after-cordon", "FailedScheduling");
    assert_eq!(
        failed[0],
        "0/4 nodes are available: 1 node(s) were unschedulable, 3 node(s) didn't match Pod's node affinity/selector. \
         preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling."
    );
    assert_eq!(c.node_of("default", "after-cordon"), "<none>");
    let cond = c.pod("default", "after-cordon");
    let sched = cond["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["type"] == "PodScheduled")
        .cloned()
        .unwrap();
    assert_eq!(
        (sched["status"].as_str(), sched["reason"].as_str()),
        (Some("False"), Some("Unschedulable"))
    );
    c.kubectl_ok(&["uncordon", "worker0"]);
    assert_eq!(c.wait_bound("default", "after-cordon"), "worker0");
}

#[test]
fn taints_tolerations_and_resource_exhaustion() {
    let c = SchedCluster::start(&[]);
    let _nodes = c.hollow_nodes(vec![
        node("master", "8", "16Gi").taint("node-role.kubernetes.io/master", "", "NoSchedule"),
        node("n1", "2", "4Gi"),
        node("n2", "2", "4Gi"),
    ]);

    let cpu = |n: &str| json!([{"name": "c", "image": "busybox", "resources": {"requests": {"cpu": n, "memory": "64Mi"}}}]);
    // Four half-cpu pods spread two and two over the untainted nodes.
    for i in 0..4 {
        c.apply(&pod(
            &format!("web-{i}"),
            json!({"containers": cpu("500m")}),
        ));
    }
    let nodes: Vec<String> = (0..4)
        .map(|i| c.wait_bound("default", &format!("web-{i}")))
        .collect();
    assert_eq!(nodes.iter().filter(|n| *n == "n1").count(), 2, "{nodes:?}");
    assert_eq!(nodes.iter().filter(|n| *n == "n2").count(), 2, "{nodes:?}");

    // Too big for what is left, and the master is tainted.
    c.apply(&pod("big", json!({"containers": cpu("1500m")})));
    let msg = c.wait_event("default", "big", "FailedScheduling");
    assert_eq!(
        msg[0],
        "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/master: }, 2 Insufficient cpu. \
         preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod."
    );
    let describe = c.kubectl_ok(&["describe", "pod", "big"]);
    assert!(
        describe.contains("FailedScheduling") && describe.contains("2 Insufficient cpu"),
        "{describe}"
    );

    // A toleration opens the master.
    c.apply(&pod(
        "tolerant",
        json!({"containers": cpu("1500m"), "tolerations": [
        {"key": "node-role.kubernetes.io/master", "operator": "Exists", "effect": "NoSchedule"}]}),
    ));
    assert_eq!(c.wait_bound("default", "tolerant"), "master");

    // Freeing room (a pod deleted) moves the parked pod on.
    c.kubectl_ok(&[
        "delete",
        "pod",
        "web-0",
        "web-1",
        "web-2",
        "web-3",
        "--grace-period=0",
        "--force",
    ]);
    let node = c.wait_bound("default", "big");
    assert!(node == "n1" || node == "n2", "{node}");
}

#[test]
fn preemption_evicts_a_lower_priority_pod() {
    let c = SchedCluster::start(&[]);
    let _nodes = c.hollow_nodes(vec![node("n1", "1", "2Gi")]);
    let spec = |prio: i32| {
        json!({"priority": prio, "terminationGracePeriodSeconds": 0,
        "containers": [{"name": "c", "image": "busybox", "resources": {"requests": {"cpu": "800m"}}}]})
    };
    c.apply(&pod("low", spec(0)));
    assert_eq!(c.wait_bound("default", "low"), "n1");
    c.apply(&pod("high", spec(1000)));
    let preempted = c.wait_event("default", "low", "Preempted");
    assert!(
        preempted[0].starts_with("Preempted by pod ") && preempted[0].ends_with(" on node n1"),
        "{preempted:?}"
    );
    assert_eq!(c.wait_bound("default", "high"), "n1");
    let (ok, _, err) = c.api.kubectl(&["get", "pod", "low"]);
    assert!(!ok && err.contains("NotFound"), "{err}");
    let high = c.pod("default", "high");
    assert_eq!(high["status"]["nominatedNodeName"], "n1");
}

#[test]
fn other_schedulers_pods_are_left_alone_and_metrics_count_attempts() {
    let c = SchedCluster::start(&[]);
    let _nodes = c.hollow_nodes(vec![node("n1", "2", "4Gi")]);
    c.apply(&pod("mine", json!({})));
    c.apply(&pod("theirs", json!({"schedulerName": "other-scheduler"})));
    assert_eq!(c.wait_bound("default", "mine"), "n1");
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert_eq!(c.node_of("default", "theirs"), "<none>");
    assert!(c.events("default", "theirs", "FailedScheduling").is_empty());

    let (code, metrics) = c.health("/metrics");
    assert_eq!(code, 200);
    assert!(metrics.contains("scheduler_schedule_attempts_total{profile=\"default-scheduler\",result=\"scheduled\"} 1"), "{metrics}");
    assert!(
        metrics.contains("scheduler_pod_scheduling_sli_duration_seconds_count 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("scheduler_pending_pods{queue=\"active\"} 0"),
        "{metrics}"
    );
    assert_eq!(c.health("/healthz"), (200, "ok".to_string()));
}

/// With no nodes at all, the pod's PodScheduled condition and its
/// FailedScheduling event carry upstream's `ErrNoNodesAvailable` message.
#[test]
fn no_nodes_available() {
    let c = SchedCluster::start(&[]);
    c.apply(&pod("lonely", json!({})));
    let failed = c.wait_event("default", "lonely", "FailedScheduling");
    assert_eq!(failed[0], "no nodes available to schedule pods");
    let p = c.pod("default", "lonely");
    let sched = p["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "PodScheduled")
        .cloned()
        .unwrap();
    assert_eq!(sched["status"], "False");
    assert_eq!(sched["reason"], "Unschedulable");
    assert_eq!(sched["message"], "no nodes available to schedule pods");
}
