//! HorizontalPodAutoscaler between `autoscaling/v1` and `autoscaling/v2`
//! (the storage version).
//!
//! v1 holds one CPU utilization target and the current CPU utilization;
//! everything else of v2 travels in v1 through upstream's round-trip
//! annotations: `autoscaling.alpha.kubernetes.io/metrics` (the other
//! metric targets, in v1's metric shape), `.../current-metrics` (every
//! current metric), `.../conditions` and `.../behavior`.

use super::fields::{set_annotation, take_annotation};
use serde_json::{Map, Value, json};

pub const METRICS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/metrics";
pub const CURRENT_METRICS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/current-metrics";
pub const CONDITIONS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/conditions";
pub const BEHAVIOR_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/behavior";

const ROUND_TRIP: [&str; 4] = [
    METRICS_ANNOTATION,
    CURRENT_METRICS_ANNOTATION,
    CONDITIONS_ANNOTATION,
    BEHAVIOR_ANNOTATION,
];

type Obj = Map<String, Value>;

fn obj(v: &Value) -> Obj {
    v.as_object().cloned().unwrap_or_default()
}

fn is_cpu_utilization(m: &Value) -> bool {
    m["type"] == "Resource"
        && m["resource"]["name"] == "cpu"
        && m["resource"]["target"]["averageUtilization"].is_i64()
}

/// A v2 `MetricTarget` from v1's flat target fields.
fn target(utilization: &Value, average: &Value, value: &Value) -> Value {
    if !utilization.is_null() {
        json!({"type": "Utilization", "averageUtilization": utilization})
    } else if !average.is_null() {
        json!({"type": "AverageValue", "averageValue": average})
    } else if !value.is_null() {
        json!({"type": "Value", "value": value})
    } else {
        json!({})
    }
}

/// A v2 `MetricValueStatus` from v1's flat current fields.
fn current(utilization: &Value, average: &Value, value: &Value) -> Value {
    let mut c = Obj::new();
    for (k, v) in [
        ("averageUtilization", utilization),
        ("averageValue", average),
        ("value", value),
    ] {
        if !v.is_null() {
            c.insert(k.into(), v.clone());
        }
    }
    Value::Object(c)
}

fn metric_id(name: &Value, selector: &Value) -> Value {
    let mut m = Obj::new();
    m.insert("name".into(), name.clone());
    if !selector.is_null() {
        m.insert("selector".into(), selector.clone());
    }
    Value::Object(m)
}

/// Drops null members (v1 → v2 builders fill absent fields with null).
fn compact(v: Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(
            o.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, compact(v)))
                .collect(),
        ),
        other => other,
    }
}

/// One v1 `MetricSpec` (annotation shape) as a v2 `MetricSpec`.
fn metric_spec_v1_to_v2(m: &Value) -> Value {
    let t = m["type"].as_str().unwrap_or("");
    compact(match t {
        "Resource" => {
            let r = &m["resource"];
            json!({"type": t, "resource": {"name": r["name"], "target": target(&r["targetAverageUtilization"], &r["targetAverageValue"], &Value::Null)}})
        }
        "ContainerResource" => {
            let r = &m["containerResource"];
            json!({"type": t, "containerResource": {"name": r["name"], "container": r["container"], "target": target(&r["targetAverageUtilization"], &r["targetAverageValue"], &Value::Null)}})
        }
        "Pods" => {
            let p = &m["pods"];
            json!({"type": t, "pods": {"metric": metric_id(&p["metricName"], &p["selector"]), "target": target(&Value::Null, &p["targetAverageValue"], &Value::Null)}})
        }
        "Object" => {
            let o = &m["object"];
            json!({"type": t, "object": {"describedObject": o["target"], "metric": metric_id(&o["metricName"], &o["selector"]), "target": target(&Value::Null, &o["averageValue"], &o["targetValue"])}})
        }
        "External" => {
            let e = &m["external"];
            json!({"type": t, "external": {"metric": metric_id(&e["metricName"], &e["metricSelector"]), "target": target(&Value::Null, &e["targetAverageValue"], &e["targetValue"])}})
        }
        _ => m.clone(),
    })
}

/// One v2 `MetricSpec` in v1's annotation shape.
fn metric_spec_v2_to_v1(m: &Value) -> Value {
    let t = m["type"].as_str().unwrap_or("");
    compact(match t {
        "Resource" => {
            let r = &m["resource"];
            json!({"type": t, "resource": {"name": r["name"], "targetAverageUtilization": r["target"]["averageUtilization"], "targetAverageValue": r["target"]["averageValue"]}})
        }
        "ContainerResource" => {
            let r = &m["containerResource"];
            json!({"type": t, "containerResource": {"name": r["name"], "container": r["container"], "targetAverageUtilization": r["target"]["averageUtilization"], "targetAverageValue": r["target"]["averageValue"]}})
        }
        "Pods" => {
            let p = &m["pods"];
            json!({"type": t, "pods": {"metricName": p["metric"]["name"], "selector": p["metric"]["selector"], "targetAverageValue": p["target"]["averageValue"]}})
        }
        "Object" => {
            let o = &m["object"];
            json!({"type": t, "object": {"target": o["describedObject"], "metricName": o["metric"]["name"], "selector": o["metric"]["selector"], "targetValue": o["target"]["value"], "averageValue": o["target"]["averageValue"]}})
        }
        "External" => {
            let e = &m["external"];
            json!({"type": t, "external": {"metricName": e["metric"]["name"], "metricSelector": e["metric"]["selector"], "targetValue": e["target"]["value"], "targetAverageValue": e["target"]["averageValue"]}})
        }
        _ => m.clone(),
    })
}

/// One v1 `MetricStatus` (annotation shape) as a v2 `MetricStatus`.
fn metric_status_v1_to_v2(m: &Value) -> Value {
    let t = m["type"].as_str().unwrap_or("");
    compact(match t {
        "Resource" => {
            let r = &m["resource"];
            json!({"type": t, "resource": {"name": r["name"], "current": current(&r["currentAverageUtilization"], &r["currentAverageValue"], &Value::Null)}})
        }
        "ContainerResource" => {
            let r = &m["containerResource"];
            json!({"type": t, "containerResource": {"name": r["name"], "container": r["container"], "current": current(&r["currentAverageUtilization"], &r["currentAverageValue"], &Value::Null)}})
        }
        "Pods" => {
            let p = &m["pods"];
            json!({"type": t, "pods": {"metric": metric_id(&p["metricName"], &p["selector"]), "current": current(&Value::Null, &p["currentAverageValue"], &Value::Null)}})
        }
        "Object" => {
            let o = &m["object"];
            json!({"type": t, "object": {"describedObject": o["target"], "metric": metric_id(&o["metricName"], &o["selector"]), "current": current(&Value::Null, &o["averageValue"], &o["currentValue"])}})
        }
        "External" => {
            let e = &m["external"];
            json!({"type": t, "external": {"metric": metric_id(&e["metricName"], &e["metricSelector"]), "current": current(&Value::Null, &e["currentAverageValue"], &e["currentValue"])}})
        }
        _ => m.clone(),
    })
}

/// One v2 `MetricStatus` in v1's annotation shape.
fn metric_status_v2_to_v1(m: &Value) -> Value {
    let t = m["type"].as_str().unwrap_or("");
    compact(match t {
        "Resource" => {
            let r = &m["resource"];
            json!({"type": t, "resource": {"name": r["name"], "currentAverageUtilization": r["current"]["averageUtilization"], "currentAverageValue": r["current"]["averageValue"]}})
        }
        "ContainerResource" => {
            let r = &m["containerResource"];
            json!({"type": t, "containerResource": {"name": r["name"], "container": r["container"], "currentAverageUtilization": r["current"]["averageUtilization"], "currentAverageValue": r["current"]["averageValue"]}})
        }
        "Pods" => {
            let p = &m["pods"];
            json!({"type": t, "pods": {"metricName": p["metric"]["name"], "selector": p["metric"]["selector"], "currentAverageValue": p["current"]["averageValue"]}})
        }
        "Object" => {
            let o = &m["object"];
            json!({"type": t, "object": {"target": o["describedObject"], "metricName": o["metric"]["name"], "selector": o["metric"]["selector"], "currentValue": o["current"]["value"], "averageValue": o["current"]["averageValue"]}})
        }
        "External" => {
            let e = &m["external"];
            json!({"type": t, "external": {"metricName": e["metric"]["name"], "metricSelector": e["metric"]["selector"], "currentValue": e["current"]["value"], "currentAverageValue": e["current"]["averageValue"]}})
        }
        _ => m.clone(),
    })
}

fn parse_list(text: Option<String>) -> Option<Vec<Value>> {
    text.and_then(|t| serde_json::from_str::<Vec<Value>>(&t).ok())
}

/// An `autoscaling/v1` object in the `autoscaling/v2` shape.
pub fn v1_to_v2(v: Value) -> Value {
    let Value::Object(mut out) = v else { return v };
    // Only annotations this conversion produced may come back as fields.
    let other_metrics = parse_list(take_annotation(&mut out, METRICS_ANNOTATION));
    let current_metrics = parse_list(take_annotation(&mut out, CURRENT_METRICS_ANNOTATION));
    let conditions = parse_list(take_annotation(&mut out, CONDITIONS_ANNOTATION));
    let behavior = take_annotation(&mut out, BEHAVIOR_ANNOTATION)
        .and_then(|t| serde_json::from_str::<Value>(&t).ok());

    if let Some(mut spec) = out.get("spec").map(obj) {
        let mut metrics: Vec<Value> = other_metrics
            .unwrap_or_default()
            .iter()
            .map(metric_spec_v1_to_v2)
            .collect();
        if let Some(cpu) = spec.remove("targetCPUUtilizationPercentage")
            && !cpu.is_null()
        {
            metrics.push(json!({"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": cpu}}}));
        }
        if !metrics.is_empty() {
            spec.insert("metrics".into(), Value::Array(metrics));
        }
        if let Some(b) = behavior {
            spec.insert("behavior".into(), b);
        }
        out.insert("spec".into(), Value::Object(spec));
    }
    if let Some(mut status) = out.get("status").map(obj) {
        let cpu = status.remove("currentCPUUtilizationPercentage");
        let metrics: Vec<Value> = match current_metrics {
            // The annotation holds every current metric, CPU included.
            Some(all) => all.iter().map(metric_status_v1_to_v2).collect(),
            None => cpu
                .filter(|c| !c.is_null())
                .map(|c| vec![json!({"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": c}}})])
                .unwrap_or_default(),
        };
        if !metrics.is_empty() {
            status.insert("currentMetrics".into(), Value::Array(metrics));
        }
        if let Some(c) = conditions {
            status.insert("conditions".into(), Value::Array(c));
        }
        out.insert("status".into(), Value::Object(status));
    }
    Value::Object(out)
}

/// An `autoscaling/v2` object in the `autoscaling/v1` shape.
pub fn v2_to_v1(v: Value) -> Value {
    let Value::Object(mut out) = v else { return v };
    // Round-trip annotations already on the object are stale copies.
    for key in ROUND_TRIP {
        take_annotation(&mut out, key);
    }
    if let Some(mut spec) = out.get("spec").map(obj) {
        let metrics = spec
            .remove("metrics")
            .and_then(|m| m.as_array().cloned())
            .unwrap_or_default();
        if let Some(cpu) = metrics.iter().find(|m| is_cpu_utilization(m)) {
            spec.insert(
                "targetCPUUtilizationPercentage".into(),
                cpu["resource"]["target"]["averageUtilization"].clone(),
            );
        }
        let others: Vec<Value> = metrics
            .iter()
            .filter(|m| !is_cpu_utilization(m))
            .map(metric_spec_v2_to_v1)
            .collect();
        if !others.is_empty() {
            set_annotation(
                &mut out,
                METRICS_ANNOTATION,
                Value::Array(others).to_string(),
            );
        }
        if let Some(b) = spec.remove("behavior").filter(|b| !b.is_null()) {
            set_annotation(&mut out, BEHAVIOR_ANNOTATION, b.to_string());
        }
        out.insert("spec".into(), Value::Object(spec));
    }
    if let Some(mut status) = out.get("status").map(obj) {
        let metrics = status
            .remove("currentMetrics")
            .and_then(|m| m.as_array().cloned())
            .unwrap_or_default();
        if let Some(cpu) = metrics.iter().find(|m| {
            m["type"] == "Resource"
                && m["resource"]["name"] == "cpu"
                && m["resource"]["current"]["averageUtilization"].is_i64()
        }) {
            status.insert(
                "currentCPUUtilizationPercentage".into(),
                cpu["resource"]["current"]["averageUtilization"].clone(),
            );
        }
        if !metrics.is_empty() {
            let all: Vec<Value> = metrics.iter().map(metric_status_v2_to_v1).collect();
            set_annotation(
                &mut out,
                CURRENT_METRICS_ANNOTATION,
                Value::Array(all).to_string(),
            );
        }
        if let Some(c) = status
            .remove("conditions")
            .filter(|c| c.as_array().is_some_and(|a| !a.is_empty()))
        {
            set_annotation(&mut out, CONDITIONS_ANNOTATION, c.to_string());
        }
        out.insert("status".into(), Value::Object(status));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v1(spec: Value, status: Value) -> Value {
        json!({"metadata": {"name": "web"}, "spec": spec, "status": status})
    }

    #[test]
    fn cpu_target_maps_to_a_resource_metric_and_back() {
        let cases = [
            // (v1 spec, v2 metrics)
            (
                json!({"maxReplicas": 3, "minReplicas": 1, "targetCPUUtilizationPercentage": 50}),
                json!([{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}]),
            ),
            (json!({"maxReplicas": 3}), Value::Null),
        ];
        for (spec, metrics) in cases {
            let old = v1(spec.clone(), json!({}));
            let new = v1_to_v2(old.clone());
            assert_eq!(new["spec"]["metrics"], metrics, "{spec}");
            assert!(new["spec"].get("targetCPUUtilizationPercentage").is_none());
            assert_eq!(v2_to_v1(new), old, "{spec}");
        }
    }

    #[test]
    fn status_cpu_and_conditions() {
        let v2 = json!({"metadata": {"name": "web"}, "spec": {"maxReplicas": 3},
            "status": {"currentReplicas": 2, "desiredReplicas": 2,
              "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 42, "averageValue": "10m"}}}],
              "conditions": [{"type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale"}]}});
        let old = v2_to_v1(v2.clone());
        assert_eq!(old["status"]["currentCPUUtilizationPercentage"], 42);
        assert!(old["status"].get("conditions").is_none());
        let ann = &old["metadata"]["annotations"];
        assert!(
            ann[CONDITIONS_ANNOTATION]
                .as_str()
                .unwrap_or("")
                .contains("AbleToScale")
        );
        assert!(
            ann[CURRENT_METRICS_ANNOTATION]
                .as_str()
                .unwrap_or("")
                .contains("currentAverageUtilization")
        );
        assert_eq!(v1_to_v2(old), v2);
    }

    #[test]
    fn metrics_v1_cannot_hold_round_trip_through_annotations() {
        let v2 = json!({"metadata": {"name": "web", "annotations": {"team": "a"}}, "spec": {"maxReplicas": 5,
            "metrics": [
              {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "100Mi"}}},
              {"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "1k"}}},
              {"type": "External", "external": {"metric": {"name": "queue", "selector": {"matchLabels": {"q": "a"}}}, "target": {"type": "Value", "value": "30"}}},
              {"type": "Object", "object": {"describedObject": {"kind": "Service", "name": "s", "apiVersion": "v1"}, "metric": {"name": "rps"}, "target": {"type": "Value", "value": "10"}}},
              {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}
            ],
            "behavior": {"scaleDown": {"stabilizationWindowSeconds": 60}}}});
        let old = v2_to_v1(v2.clone());
        assert_eq!(old["spec"]["targetCPUUtilizationPercentage"], 70);
        assert!(old["spec"].get("behavior").is_none());
        let ann = &old["metadata"]["annotations"];
        assert_eq!(ann["team"], "a");
        let metrics: Vec<Value> =
            serde_json::from_str(ann[METRICS_ANNOTATION].as_str().unwrap_or("[]"))
                .unwrap_or_default();
        assert_eq!(metrics.len(), 4);
        assert_eq!(
            metrics[1],
            json!({"type": "Pods", "pods": {"metricName": "qps", "targetAverageValue": "1k"}})
        );
        assert_eq!(v1_to_v2(old), v2);
    }

    #[test]
    fn stale_round_trip_annotations_are_not_served() {
        let v2 = json!({"metadata": {"name": "web", "annotations": {CONDITIONS_ANNOTATION: "[]"}}, "spec": {"maxReplicas": 2}});
        let old = v2_to_v1(v2);
        assert!(old["metadata"].get("annotations").is_none(), "{old}");
    }
}
