//! The pod row: READY, the STATUS kubectl users read (computed from phase, reason,
//! init containers and container states exactly as upstream does), RESTARTS with
//! the time of the last restart, and the wide columns.

use super::json::{at, flag, int, is_deleting, list, name, text};
use super::time::{age, human_duration_nanos, parse_rfc3339_nanos, system_time_nanos};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::time::SystemTime;

/// A sidecar: an init container with `restartPolicy: Always`.
fn is_restartable_init(spec_init: &[Value], container_name: &str) -> bool {
    spec_init
        .iter()
        .any(|c| text(c, &["name"]) == container_name && text(c, &["restartPolicy"]) == "Always")
}

fn condition_true(pod: &Value, kind: &str) -> bool {
    list(pod, &["status", "conditions"])
        .iter()
        .any(|c| text(c, &["type"]) == kind && text(c, &["status"]) == "True")
}

/// finishedAt of the container's last termination, in nanoseconds.
fn last_termination(status: &Value) -> Option<i128> {
    at(status, &["lastState", "terminated", "finishedAt"])
        .and_then(Value::as_str)
        .and_then(parse_rfc3339_nanos)
}

/// `Init:ExitCode:1`-style text for a terminated container without a reason.
fn exit_text(terminated: &Value, prefix: &str) -> String {
    let signal = int(terminated, &["signal"]);
    if signal != 0 {
        format!("{prefix}Signal:{signal}")
    } else {
        format!("{prefix}ExitCode:{}", int(terminated, &["exitCode"]))
    }
}

struct Tally {
    restarts: i64,
    last_restart: Option<i128>,
}

impl Tally {
    fn add(&mut self, status: &Value) {
        self.restarts += int(status, &["restartCount"]);
        if let Some(t) = last_termination(status) {
            self.last_restart = Some(self.last_restart.map_or(t, |l| l.max(t)));
        }
    }
}

/// Cells: Name, Ready, Status, Restarts, Age | IP, Node, Nominated Node, Readiness Gates.
pub(super) fn row(pod: &Value, now: SystemTime) -> Vec<Value> {
    let spec_init = list(pod, &["spec", "initContainers"]);
    let phase = text(pod, &["status", "phase"]);
    let mut reason = match text(pod, &["status", "reason"]) {
        "" => phase.to_string(),
        r => r.to_string(),
    };
    if list(pod, &["status", "conditions"])
        .iter()
        .any(|c| text(c, &["type"]) == "PodScheduled" && text(c, &["reason"]) == "SchedulingGated")
    {
        reason = "SchedulingGated".to_string();
    }

    let mut total = list(pod, &["spec", "containers"]).len();
    total += spec_init
        .iter()
        .filter(|c| text(c, &["restartPolicy"]) == "Always")
        .count();
    let mut ready = 0usize;
    let mut all = Tally {
        restarts: 0,
        last_restart: None,
    };
    let mut sidecars = Tally {
        restarts: 0,
        last_restart: None,
    };

    let mut initializing = false;
    let init_statuses = list(pod, &["status", "initContainerStatuses"]);
    for (i, status) in init_statuses.iter().enumerate() {
        all.add(status);
        let sidecar = is_restartable_init(spec_init, text(status, &["name"]));
        if sidecar {
            sidecars.add(status);
        }
        let terminated = at(status, &["state", "terminated"]).filter(|t| t.is_object());
        let waiting_reason = text(status, &["state", "waiting", "reason"]);
        if terminated.is_some_and(|t| int(t, &["exitCode"]) == 0) {
            continue;
        }
        if sidecar && flag(status, &["started"]) {
            if flag(status, &["ready"]) {
                ready += 1;
            }
            continue;
        }
        if let Some(t) = terminated {
            reason = match text(t, &["reason"]) {
                "" => exit_text(t, "Init:"),
                r => format!("Init:{r}"),
            };
        } else if !waiting_reason.is_empty() && waiting_reason != "PodInitializing" {
            reason = format!("Init:{waiting_reason}");
        } else {
            reason = format!("Init:{i}/{}", spec_init.len());
        }
        initializing = true;
        break;
    }

    let mut restarts = all.restarts;
    let mut last_restart = all.last_restart;
    if !initializing || condition_true(pod, "Initialized") {
        restarts = sidecars.restarts;
        last_restart = sidecars.last_restart;
        let mut tally = Tally {
            restarts,
            last_restart,
        };
        let mut has_running = false;
        for status in list(pod, &["status", "containerStatuses"]).iter().rev() {
            tally.add(status);
            let waiting = text(status, &["state", "waiting", "reason"]);
            let terminated = at(status, &["state", "terminated"]).filter(|t| t.is_object());
            let running = at(status, &["state", "running"]).is_some_and(Value::is_object);
            if !waiting.is_empty() {
                reason = waiting.to_string();
            } else if let Some(t) = terminated {
                reason = match text(t, &["reason"]) {
                    "" => exit_text(t, ""),
                    r => r.to_string(),
                };
            } else if flag(status, &["ready"]) && running {
                has_running = true;
                ready += 1;
            }
        }
        restarts = tally.restarts;
        last_restart = tally.last_restart;
        if reason == "Completed" && has_running {
            reason = if condition_true(pod, "Ready") {
                "Running".to_string()
            } else {
                "NotReady".to_string()
            };
        }
    }

    if is_deleting(pod) && text(pod, &["status", "reason"]) == "NodeLost" {
        reason = "Unknown".to_string();
    } else if is_deleting(pod) && phase != "Succeeded" && phase != "Failed" {
        reason = "Terminating".to_string();
    }

    let restarts_text = match last_restart {
        Some(t) if restarts != 0 => format!(
            "{restarts} ({} ago)",
            human_duration_nanos(system_time_nanos(now) - t)
        ),
        _ => restarts.to_string(),
    };

    let pod_ip = list(pod, &["status", "podIPs"])
        .first()
        .map(|p| text(p, &["ip"]))
        .filter(|ip| !ip.is_empty())
        .unwrap_or("<none>");
    let or_none = |s: &str| {
        if s.is_empty() {
            "<none>".to_string()
        } else {
            s.to_string()
        }
    };
    let gates = list(pod, &["spec", "readinessGates"]);
    let readiness_gates = if gates.is_empty() {
        "<none>".to_string()
    } else {
        let wanted: HashSet<&str> = gates.iter().map(|g| text(g, &["conditionType"])).collect();
        let mut seen = HashSet::new();
        let true_count = list(pod, &["status", "conditions"])
            .iter()
            .filter(|c| {
                let t = text(c, &["type"]);
                wanted.contains(t) && seen.insert(t) && text(c, &["status"]) == "True"
            })
            .count();
        format!("{true_count}/{}", gates.len())
    };

    vec![
        json!(name(pod)),
        json!(format!("{ready}/{total}")),
        json!(reason),
        json!(restarts_text),
        json!(age(at(pod, &["metadata", "creationTimestamp"]), now)),
        json!(pod_ip),
        json!(or_none(text(pod, &["spec", "nodeName"]))),
        json!(or_none(text(pod, &["status", "nominatedNodeName"]))),
        json!(readiness_gates),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    /// 2024-01-01T00:10:00Z
    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_704_067_800)
    }

    fn pod(spec: Value, status: Value) -> Value {
        json!({
            "metadata": {"name": "web-0", "creationTimestamp": "2024-01-01T00:00:00Z"},
            "spec": spec,
            "status": status,
        })
    }

    fn cells(p: &Value) -> Vec<String> {
        row(p, now())
            .into_iter()
            .map(|c| c.as_str().unwrap_or_default().to_string())
            .collect()
    }

    fn one_container() -> Value {
        json!({"containers": [{"name": "app", "image": "busybox"}], "nodeName": "node1"})
    }

    #[test]
    fn running_pod() {
        let p = pod(
            one_container(),
            json!({
                "phase": "Running",
                "podIPs": [{"ip": "172.7.21.5"}],
                "conditions": [{"type": "Ready", "status": "True"}],
                "containerStatuses": [{"name": "app", "ready": true, "restartCount": 0,
                    "state": {"running": {"startedAt": "2024-01-01T00:00:05Z"}}}]
            }),
        );
        assert_eq!(
            cells(&p),
            [
                "web-0",
                "1/1",
                "Running",
                "0",
                "10m",
                "172.7.21.5",
                "node1",
                "<none>",
                "<none>"
            ]
        );
    }

    #[test]
    fn status_column() {
        let waiting = |reason: &str| json!({"waiting": {"reason": reason}});
        let cases: Vec<(Value, Value, &str, &str, &str)> = vec![
            // (spec, status, READY, STATUS, RESTARTS)
            (
                json!({"containers": [{"name": "app"}]}),
                json!({"phase": "Pending"}),
                "0/1",
                "Pending",
                "0",
            ),
            (
                json!({"containers": [{"name": "app"}]}),
                json!({"phase": "Pending", "containerStatuses": [{"name": "app", "state": waiting("ContainerCreating")}]}),
                "0/1",
                "ContainerCreating",
                "0",
            ),
            (
                json!({"containers": [{"name": "app"}]}),
                json!({"phase": "Running", "containerStatuses": [{"name": "app", "restartCount": 5,
                    "state": waiting("CrashLoopBackOff"),
                    "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2024-01-01T00:05:00Z"}}}]}),
                "0/1",
                "CrashLoopBackOff",
                "5 (5m ago)",
            ),
            (
                json!({"containers": [{"name": "app"}]}),
                json!({"phase": "Succeeded", "containerStatuses": [{"name": "app",
                    "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]}),
                "0/1",
                "Completed",
                "0",
            ),
            (
                json!({"containers": [{"name": "app"}]}),
                json!({"phase": "Failed", "containerStatuses": [{"name": "app",
                    "state": {"terminated": {"exitCode": 137}}}]}),
                "0/1",
                "ExitCode:137",
                "0",
            ),
            (
                json!({"containers": [{"name": "app"}]}),
                json!({"phase": "Failed", "containerStatuses": [{"name": "app",
                    "state": {"terminated": {"exitCode": 0, "signal": 9}}}]}),
                "0/1",
                "Signal:9",
                "0",
            ),
            (
                json!({"containers": [{"name": "app"}]}),
                json!({"phase": "Failed", "reason": "Evicted"}),
                "0/1",
                "Evicted",
                "0",
            ),
            // One container done, one still running: back to Running / NotReady.
            (
                json!({"containers": [{"name": "a"}, {"name": "b"}]}),
                json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}],
                    "containerStatuses": [
                        {"name": "a", "ready": true, "state": {"running": {}}},
                        {"name": "b", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]}),
                "1/2",
                "NotReady",
                "0",
            ),
            // Init containers.
            (
                json!({"initContainers": [{"name": "i1"}, {"name": "i2"}], "containers": [{"name": "app"}]}),
                json!({"phase": "Pending", "initContainerStatuses": [
                    {"name": "i1", "state": {"terminated": {"exitCode": 0}}},
                    {"name": "i2", "state": {"running": {}}}]}),
                "0/1",
                "Init:1/2",
                "0",
            ),
            (
                json!({"initContainers": [{"name": "i1"}], "containers": [{"name": "app"}]}),
                json!({"phase": "Pending", "initContainerStatuses": [
                    {"name": "i1", "restartCount": 3, "state": waiting("CrashLoopBackOff")}]}),
                "0/1",
                "Init:CrashLoopBackOff",
                "3",
            ),
            (
                json!({"initContainers": [{"name": "i1"}], "containers": [{"name": "app"}]}),
                json!({"phase": "Pending", "initContainerStatuses": [
                    {"name": "i1", "state": {"terminated": {"exitCode": 2}}}]}),
                "0/1",
                "Init:ExitCode:2",
                "0",
            ),
            (
                json!({"initContainers": [{"name": "i1"}], "containers": [{"name": "app"}]}),
                json!({"phase": "Pending", "initContainerStatuses": [
                    {"name": "i1", "state": {"terminated": {"exitCode": 1, "reason": "Error"}}}]}),
                "0/1",
                "Init:Error",
                "0",
            ),
            (
                json!({"initContainers": [{"name": "i1"}], "containers": [{"name": "app"}]}),
                json!({"phase": "Pending", "initContainerStatuses": [
                    {"name": "i1", "state": waiting("PodInitializing")}]}),
                "0/1",
                "Init:0/1",
                "0",
            ),
            // A started sidecar counts as a container and does not block.
            (
                json!({"initContainers": [{"name": "proxy", "restartPolicy": "Always"}], "containers": [{"name": "app"}]}),
                json!({"phase": "Running", "conditions": [{"type": "Initialized", "status": "True"}],
                    "initContainerStatuses": [{"name": "proxy", "started": true, "ready": true, "restartCount": 1,
                        "state": {"running": {}}}],
                    "containerStatuses": [{"name": "app", "ready": true, "state": {"running": {}}}]}),
                "2/2",
                "Running",
                "1",
            ),
            (
                json!({"containers": [{"name": "app"}]}),
                json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]}),
                "0/1",
                "SchedulingGated",
                "0",
            ),
        ];
        for (i, (spec, status, ready, want, restarts)) in cases.into_iter().enumerate() {
            let c = cells(&pod(spec, status));
            assert_eq!(
                (c[1].as_str(), c[2].as_str(), c[3].as_str()),
                (ready, want, restarts),
                "case {i}"
            );
        }
    }

    #[test]
    fn terminating_and_unknown() {
        let mut p = pod(one_container(), json!({"phase": "Running"}));
        p["metadata"]["deletionTimestamp"] = json!("2024-01-01T00:09:00Z");
        assert_eq!(cells(&p)[2], "Terminating");
        p["status"]["phase"] = json!("Succeeded");
        assert_eq!(cells(&p)[2], "Succeeded");
        p["status"] = json!({"phase": "Running", "reason": "NodeLost"});
        assert_eq!(cells(&p)[2], "Unknown");
    }

    #[test]
    fn wide_columns() {
        let p = pod(
            json!({"containers": [{"name": "app"}], "readinessGates": [{"conditionType": "a"}, {"conditionType": "b"}]}),
            json!({"phase": "Running", "nominatedNodeName": "node2",
                "conditions": [{"type": "a", "status": "True"}, {"type": "b", "status": "False"}]}),
        );
        let c = cells(&p);
        assert_eq!(&c[5..], ["<none>", "<none>", "node2", "1/2"]);
        assert_eq!(row(&p, now())[3], json!("0"));
    }

    #[test]
    fn age_unknown_without_timestamp() {
        let p = json!({"metadata": {"name": "x"}, "spec": {"containers": []}});
        assert_eq!(cells(&p)[..5], ["x", "0/0", "", "0", "<unknown>"]);
    }
}
