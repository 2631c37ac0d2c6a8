//! Printer tests: columns per resource, and rows of realistic objects for the core,
//! networking, RBAC, storage and other printers (pods and workloads are also tested
//! beside their code).

mod columns;
mod rows;

use serde_json::{Value, json};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// 2024-01-02T00:00:00Z, one day after the objects below were created.
fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_704_153_600)
}

fn meta(name: &str) -> Value {
    json!({"name": name, "creationTimestamp": "2024-01-01T00:00:00Z"})
}
