//! Resources served in two versions over one stored object: an HPA made
//! with `kubectl autoscale` reads back right through autoscaling/v1 and
//! autoscaling/v2, and an Event created through core/v1 or
//! events.k8s.io/v1 is listed through the other with upstream's field
//! mapping.

use harness::apiserver::ApiCluster;
use serde_json::{Value, json};

fn post(c: &ApiCluster, path: &str, body: &Value) -> Value {
    let bytes = body.to_string();
    let (code, out) = c.request(
        "POST",
        path,
        Some("application/json"),
        Some(bytes.as_bytes()),
    );
    assert_eq!(code, 201, "POST {path}: {out}");
    out
}

fn get(c: &ApiCluster, path: &str) -> Value {
    let (code, out) = c.request("GET", path, None, None);
    assert_eq!(code, 200, "GET {path}: {out}");
    out
}

const HPA_V1: &str = "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers";
const HPA_V2: &str = "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers";

#[test]
fn hpa_reads_back_through_v1_and_v2() {
    let c = ApiCluster::start();
    c.kubectl_ok(&["create", "deployment", "x", "--image=nginx:1.25"]);
    c.kubectl_ok(&[
        "autoscale",
        "deployment",
        "x",
        "--cpu-percent=50",
        "--min=1",
        "--max=3",
    ]);

    let v1 = get(&c, &format!("{HPA_V1}/x"));
    assert_eq!(v1["apiVersion"], "autoscaling/v1");
    assert_eq!(v1["spec"]["targetCPUUtilizationPercentage"], 50, "{v1}");
    assert_eq!(v1["spec"]["minReplicas"], 1);
    assert_eq!(v1["spec"]["maxReplicas"], 3);
    assert_eq!(v1["spec"]["scaleTargetRef"]["name"], "x");
    assert!(v1["spec"].get("metrics").is_none(), "{v1}");

    let v2 = get(&c, &format!("{HPA_V2}/x"));
    assert_eq!(v2["apiVersion"], "autoscaling/v2");
    assert_eq!(
        v2["spec"]["metrics"],
        json!([{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}]),
        "{v2}"
    );
    assert!(v2["spec"].get("targetCPUUtilizationPercentage").is_none());
    assert_eq!(
        v1["metadata"]["resourceVersion"],
        v2["metadata"]["resourceVersion"]
    );

    // kubectl's table shows the target through either version.
    let table = c.kubectl_ok(&["get", "hpa", "x"]);
    assert!(table.contains("50%"), "{table}");

    // A status written through v2 reads as the CPU fields in v1.
    let mut status = v2.clone();
    status["status"] = json!({
        "currentReplicas": 1, "desiredReplicas": 2,
        "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 42, "averageValue": "10m"}}}],
        "conditions": [{"type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale", "lastTransitionTime": "2026-11-22T10:00:00Z"}]
    });
    let bytes = status.to_string();
    let (code, out) = c.request(
        "PUT",
        &format!("{HPA_V2}/x/status"),
        Some("application/json"),
        Some(bytes.as_bytes()),
    );
    assert_eq!(code, 200, "{out}");
    let v1 = get(&c, &format!("{HPA_V1}/x"));
    assert_eq!(v1["status"]["currentCPUUtilizationPercentage"], 42, "{v1}");
    assert_eq!(v1["status"]["desiredReplicas"], 2);
    let ann = &v1["metadata"]["annotations"];
    assert!(
        ann["autoscaling.alpha.kubernetes.io/conditions"]
            .as_str()
            .unwrap_or("")
            .contains("AbleToScale"),
        "{v1}"
    );

    // A change through v1 keeps what only v2 holds (conditions come back
    // from the annotation) and changes the CPU target.
    let mut edit = v1.clone();
    edit["spec"]["targetCPUUtilizationPercentage"] = json!(65);
    let bytes = edit.to_string();
    let (code, out) = c.request(
        "PUT",
        &format!("{HPA_V1}/x"),
        Some("application/json"),
        Some(bytes.as_bytes()),
    );
    assert_eq!(code, 200, "{out}");
    assert_eq!(out["spec"]["targetCPUUtilizationPercentage"], 65, "{out}");
    let v2 = get(&c, &format!("{HPA_V2}/x"));
    assert_eq!(
        v2["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"], 65,
        "{v2}"
    );
    assert_eq!(v2["status"]["conditions"][0]["type"], "AbleToScale", "{v2}");
    assert!(
        v2["metadata"].get("annotations").is_none(),
        "round-trip annotations stored: {v2}"
    );
}

#[test]
fn hpa_metrics_v1_cannot_hold_travel_in_annotations() {
    let c = ApiCluster::start();
    post(
        &c,
        HPA_V2,
        &json!({
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "mem"},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "mem"},
                "minReplicas": 2, "maxReplicas": 5,
                "metrics": [
                    {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "100Mi"}}},
                    {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}
                ],
                "behavior": {"scaleDown": {"stabilizationWindowSeconds": 60}}
            }
        }),
    );
    let v1 = get(&c, &format!("{HPA_V1}/mem"));
    assert_eq!(v1["spec"]["targetCPUUtilizationPercentage"], 70, "{v1}");
    let ann = &v1["metadata"]["annotations"];
    let metrics: Vec<Value> = serde_json::from_str(
        ann["autoscaling.alpha.kubernetes.io/metrics"]
            .as_str()
            .unwrap_or("[]"),
    )
    .unwrap_or_default();
    assert_eq!(
        metrics,
        vec![
            json!({"type": "Resource", "resource": {"name": "memory", "targetAverageValue": "100Mi"}})
        ],
        "{v1}"
    );
    assert!(
        ann["autoscaling.alpha.kubernetes.io/behavior"]
            .as_str()
            .unwrap_or("")
            .contains("stabilizationWindowSeconds"),
        "{v1}"
    );
    // Listing through v1 converts every item.
    let list = get(&c, HPA_V1);
    assert_eq!(
        list["items"][0]["spec"]["targetCPUUtilizationPercentage"],
        70
    );
}

#[test]
fn events_are_one_object_through_both_apis() {
    let c = ApiCluster::start();
    post(
        &c,
        "/api/v1/namespaces/default/events",
        &json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "core-made"},
            "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": "default"},
            "reason": "Started", "message": "Started container nginx", "type": "Normal",
            "source": {"component": "kubelet", "host": "hdss7-21"},
            "count": 3, "firstTimestamp": "2026-11-22T10:00:00Z", "lastTimestamp": "2026-11-22T10:05:00Z",
            "reportingComponent": "kubelet", "reportingInstance": "hdss7-21"
        }),
    );
    let e = get(
        &c,
        "/apis/events.k8s.io/v1/namespaces/default/events/core-made",
    );
    assert_eq!(e["apiVersion"], "events.k8s.io/v1");
    assert_eq!(e["note"], "Started container nginx", "{e}");
    assert_eq!(e["regarding"]["name"], "web-1");
    assert_eq!(e["reason"], "Started");
    assert_eq!(e["deprecatedCount"], 3);
    assert_eq!(e["deprecatedSource"]["component"], "kubelet");
    assert_eq!(e["deprecatedFirstTimestamp"], "2026-11-22T10:00:00Z");
    assert_eq!(e["reportingController"], "kubelet");
    assert!(
        e.get("message").is_none() && e.get("involvedObject").is_none(),
        "{e}"
    );

    post(
        &c,
        "/apis/events.k8s.io/v1/namespaces/default/events",
        &json!({
            "apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": {"name": "events-made"},
            "eventTime": "2026-11-22T10:00:00.000000Z",
            "reportingController": "example.com/ctl", "reportingInstance": "ctl-1",
            "action": "Scale", "reason": "Scaled", "type": "Normal",
            "regarding": {"kind": "Deployment", "name": "web", "namespace": "default"},
            "note": "scaled web to 3"
        }),
    );
    let list = get(&c, "/api/v1/namespaces/default/events");
    let made = list["items"]
        .as_array()
        .and_then(|items| {
            items
                .iter()
                .find(|i| i["metadata"]["name"] == "events-made")
        })
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(made["apiVersion"], "v1", "{list}");
    assert_eq!(made["message"], "scaled web to 3", "{made}");
    assert_eq!(made["involvedObject"]["name"], "web");
    assert_eq!(made["reportingComponent"], "example.com/ctl");
    assert_eq!(made["action"], "Scale");

    let listed = get(&c, "/apis/events.k8s.io/v1/namespaces/default/events");
    let notes: Vec<&str> = listed["items"]
        .as_array()
        .map(|items| items.iter().filter_map(|i| i["note"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(notes.len(), 2, "{listed}");
    assert!(notes.contains(&"Started container nginx"), "{listed}");

    // kubectl's core view shows both.
    let table = c.kubectl_ok(&["get", "events"]);
    assert!(
        table.contains("scaled web to 3") && table.contains("Started container nginx"),
        "{table}"
    );

    // A watch through events.k8s.io sees core-shaped objects converted.
    let (code, body) = c.request(
        "GET",
        "/apis/events.k8s.io/v1/namespaces/default/events?watch=1&timeoutSeconds=2",
        None,
        None,
    );
    assert_eq!(code, 200);
    let text = match &body {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    assert!(
        text.contains("\"note\":\"Started container nginx\""),
        "{text}"
    );
    assert!(!text.contains("\"message\":"), "{text}");
}
