//! Event between core `v1` (the storage version) and `events.k8s.io/v1`.
//!
//! The two are one object under `/registry/events` with renamed fields, as
//! upstream maps them: regarding ↔ involvedObject, note ↔ message,
//! reportingController ↔ reportingComponent, deprecatedSource ↔ source,
//! deprecatedFirstTimestamp ↔ firstTimestamp, deprecatedLastTimestamp ↔
//! lastTimestamp, deprecatedCount ↔ count. reason, type, action, related,
//! eventTime, series and reportingInstance carry the same names.

use super::fields::move_field;
use serde_json::{Map, Value};

/// (events.k8s.io/v1 name, core/v1 name) of the renamed fields.
const RENAMED: [(&str, &str); 7] = [
    ("regarding", "involvedObject"),
    ("note", "message"),
    ("reportingController", "reportingComponent"),
    ("deprecatedSource", "source"),
    ("deprecatedFirstTimestamp", "firstTimestamp"),
    ("deprecatedLastTimestamp", "lastTimestamp"),
    ("deprecatedCount", "count"),
];

fn rename(v: Value, to_core: bool) -> Value {
    let Value::Object(mut src) = v else { return v };
    let mut out = Map::new();
    for (events, core) in RENAMED {
        let (from, to) = if to_core {
            (events, core)
        } else {
            (core, events)
        };
        move_field(&mut src, from, &mut out, to);
    }
    // Every other field keeps its name.
    for (k, v) in src {
        out.entry(k).or_insert(v);
    }
    Value::Object(out)
}

/// An `events.k8s.io/v1` Event in the core `v1` shape.
pub fn events_to_core(v: Value) -> Value {
    rename(v, true)
}

/// A core `v1` Event in the `events.k8s.io/v1` shape.
pub fn core_to_events(v: Value) -> Value {
    rename(v, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn field_mapping_table() {
        let cases = [
            (
                "regarding",
                "involvedObject",
                json!({"kind": "Pod", "name": "p", "namespace": "default"}),
            ),
            ("note", "message", json!("Started container nginx")),
            (
                "reportingController",
                "reportingComponent",
                json!("kubelet"),
            ),
            (
                "deprecatedSource",
                "source",
                json!({"component": "kubelet", "host": "n1"}),
            ),
            (
                "deprecatedFirstTimestamp",
                "firstTimestamp",
                json!("2026-11-22T10:00:00Z"),
            ),
            (
                "deprecatedLastTimestamp",
                "lastTimestamp",
                json!("2026-11-22T10:01:00Z"),
            ),
            ("deprecatedCount", "count", json!(3)),
            ("reason", "reason", json!("Started")),
            ("type", "type", json!("Normal")),
            ("action", "action", json!("Start")),
            (
                "reportingInstance",
                "reportingInstance",
                json!("kubelet-n1"),
            ),
            (
                "eventTime",
                "eventTime",
                json!("2026-11-22T10:00:00.000000Z"),
            ),
            (
                "series",
                "series",
                json!({"count": 2, "lastObservedTime": "2026-11-22T10:00:00.000000Z"}),
            ),
            ("related", "related", json!({"kind": "Node", "name": "n1"})),
        ];
        for (events_name, core_name, value) in cases {
            let e = json!({"metadata": {"name": "e"}, events_name: value.clone()});
            let c = events_to_core(e.clone());
            assert_eq!(c[core_name], value, "{events_name} -> {core_name}");
            if events_name != core_name {
                assert!(c.get(events_name).is_none(), "{events_name} left in core");
            }
            assert_eq!(c["metadata"]["name"], "e");
            assert_eq!(core_to_events(c), e, "{core_name} -> {events_name}");
        }
    }

    #[test]
    fn nulls_are_dropped_not_renamed() {
        let c = json!({"metadata": {"name": "e"}, "message": "m", "count": null});
        let e = core_to_events(c);
        assert_eq!(e, json!({"metadata": {"name": "e"}, "note": "m"}));
    }
}
