//! Rows of the workload resources: Deployments, ReplicaSets, StatefulSets,
//! DaemonSets, ReplicationControllers, Jobs, CronJobs, ControllerRevisions,
//! HorizontalPodAutoscalers, PodDisruptionBudgets and PodTemplates.

use super::json::{
    at, container_cells, count, flag, format_label_selector, format_labels, int, int_or_string,
    is_deleting, list, name, text,
};
use super::time::{age, human_duration_nanos, parse_rfc3339_nanos, system_time_nanos};
use apimachinery::labels::Selector;
use serde_json::{Value, json};
use std::time::SystemTime;

fn created(obj: &Value, now: SystemTime) -> Value {
    json!(age(at(obj, &["metadata", "creationTimestamp"]), now))
}

fn template_containers(obj: &Value) -> (String, String) {
    container_cells(list(obj, &["spec", "template", "spec", "containers"]))
}

pub(super) fn deployment(obj: &Value, now: SystemTime) -> Vec<Value> {
    let (names, images) = template_containers(obj);
    let selector = at(obj, &["spec", "selector"])
        .cloned()
        .unwrap_or(Value::Null);
    let selector = match Selector::from_label_selector(&selector) {
        Ok(s) => s.to_string(),
        Err(_) => "<invalid>".to_string(),
    };
    vec![
        json!(name(obj)),
        json!(format!(
            "{}/{}",
            int(obj, &["status", "readyReplicas"]),
            int(obj, &["spec", "replicas"])
        )),
        json!(int(obj, &["status", "updatedReplicas"])),
        json!(int(obj, &["status", "availableReplicas"])),
        created(obj, now),
        json!(names),
        json!(images),
        json!(selector),
    ]
}

pub(super) fn replica_set(obj: &Value, now: SystemTime) -> Vec<Value> {
    let (names, images) = template_containers(obj);
    vec![
        json!(name(obj)),
        json!(int(obj, &["spec", "replicas"])),
        json!(int(obj, &["status", "replicas"])),
        json!(int(obj, &["status", "readyReplicas"])),
        created(obj, now),
        json!(names),
        json!(images),
        json!(format_label_selector(at(obj, &["spec", "selector"]))),
    ]
}

pub(super) fn replication_controller(obj: &Value, now: SystemTime) -> Vec<Value> {
    let (names, images) = template_containers(obj);
    vec![
        json!(name(obj)),
        json!(int(obj, &["spec", "replicas"])),
        json!(int(obj, &["status", "replicas"])),
        json!(int(obj, &["status", "readyReplicas"])),
        created(obj, now),
        json!(names),
        json!(images),
        json!(format_labels(at(obj, &["spec", "selector"]))),
    ]
}

pub(super) fn stateful_set(obj: &Value, now: SystemTime) -> Vec<Value> {
    let (names, images) = template_containers(obj);
    vec![
        json!(name(obj)),
        json!(format!(
            "{}/{}",
            int(obj, &["status", "readyReplicas"]),
            int(obj, &["spec", "replicas"])
        )),
        created(obj, now),
        json!(names),
        json!(images),
    ]
}

pub(super) fn daemon_set(obj: &Value, now: SystemTime) -> Vec<Value> {
    let (names, images) = template_containers(obj);
    let status = |f: &str| json!(int(obj, &["status", f]));
    vec![
        json!(name(obj)),
        status("desiredNumberScheduled"),
        status("currentNumberScheduled"),
        status("numberReady"),
        status("updatedNumberScheduled"),
        status("numberAvailable"),
        json!(format_labels(at(
            obj,
            &["spec", "template", "spec", "nodeSelector"]
        ))),
        created(obj, now),
        json!(names),
        json!(images),
        json!(format_label_selector(at(obj, &["spec", "selector"]))),
    ]
}

fn job_condition(obj: &Value, kind: &str) -> bool {
    list(obj, &["status", "conditions"])
        .iter()
        .find(|c| text(c, &["type"]) == kind)
        .is_some_and(|c| text(c, &["status"]) == "True")
}

fn timestamp(obj: &Value, path: &[&str]) -> Option<i128> {
    at(obj, path)
        .and_then(Value::as_str)
        .and_then(parse_rfc3339_nanos)
}

pub(super) fn job(obj: &Value, now: SystemTime) -> Vec<Value> {
    let succeeded = int(obj, &["status", "succeeded"]);
    let completions = match at(obj, &["spec", "completions"]).and_then(Value::as_i64) {
        Some(c) => format!("{succeeded}/{c}"),
        None => {
            let parallelism = int(obj, &["spec", "parallelism"]);
            if parallelism > 1 {
                format!("{succeeded}/1 of {parallelism}")
            } else {
                format!("{succeeded}/1")
            }
        }
    };
    let duration = match (
        timestamp(obj, &["status", "startTime"]),
        timestamp(obj, &["status", "completionTime"]),
    ) {
        (None, _) => String::new(),
        (Some(start), None) => human_duration_nanos(system_time_nanos(now) - start),
        (Some(start), Some(done)) => human_duration_nanos(done - start),
    };
    let status = if job_condition(obj, "Complete") {
        "Complete"
    } else if job_condition(obj, "Failed") {
        "Failed"
    } else if is_deleting(obj) {
        "Terminating"
    } else if job_condition(obj, "Suspended") {
        "Suspended"
    } else if job_condition(obj, "FailureTarget") {
        "FailureTarget"
    } else {
        "Running"
    };
    let (names, images) = template_containers(obj);
    vec![
        json!(name(obj)),
        json!(status),
        json!(completions),
        json!(duration),
        created(obj, now),
        json!(names),
        json!(images),
        json!(format_label_selector(at(obj, &["spec", "selector"]))),
    ]
}

pub(super) fn cron_job(obj: &Value, now: SystemTime) -> Vec<Value> {
    let last_schedule = match at(obj, &["status", "lastScheduleTime"]) {
        Some(t) if !t.is_null() => age(Some(t), now),
        _ => "<none>".to_string(),
    };
    let time_zone = at(obj, &["spec", "timeZone"])
        .and_then(Value::as_str)
        .unwrap_or("<none>");
    let suspend = match at(obj, &["spec", "suspend"]).and_then(Value::as_bool) {
        Some(true) => "True",
        Some(false) => "False",
        None => "<unset>",
    };
    let job_template = at(obj, &["spec", "jobTemplate"])
        .cloned()
        .unwrap_or(Value::Null);
    let (names, images) = template_containers(&job_template);
    vec![
        json!(name(obj)),
        json!(text(obj, &["spec", "schedule"])),
        json!(time_zone),
        json!(suspend),
        json!(count(obj, &["status", "active"])),
        json!(last_schedule),
        created(obj, now),
        json!(names),
        json!(images),
        json!(format_label_selector(at(
            &job_template,
            &["spec", "selector"]
        ))),
    ]
}

/// `statefulset.apps/web` for the owning controller, `<none>` without one.
pub(super) fn controller_revision(obj: &Value, now: SystemTime) -> Vec<Value> {
    let controller = list(obj, &["metadata", "ownerReferences"])
        .iter()
        .find(|r| flag(r, &["controller"]))
        .map(|r| {
            let kind = text(r, &["kind"]);
            let group = text(r, &["apiVersion"])
                .rsplit_once('/')
                .map(|(g, _)| g)
                .unwrap_or_default();
            let group_kind = if group.is_empty() {
                kind.to_string()
            } else {
                format!("{kind}.{group}")
            };
            if group_kind.is_empty() {
                text(r, &["name"]).to_string()
            } else {
                format!("{}/{}", group_kind.to_lowercase(), text(r, &["name"]))
            }
        })
        .unwrap_or_else(|| "<none>".to_string());
    vec![
        json!(name(obj)),
        json!(controller),
        json!(int(obj, &["revision"])),
        created(obj, now),
    ]
}

pub(super) fn pod_disruption_budget(obj: &Value, now: SystemTime) -> Vec<Value> {
    let or_na = |f: &str| int_or_string(at(obj, &["spec", f])).unwrap_or_else(|| "N/A".into());
    vec![
        json!(name(obj)),
        json!(or_na("minAvailable")),
        json!(or_na("maxUnavailable")),
        json!(int(obj, &["status", "disruptionsAllowed"])),
        created(obj, now),
    ]
}

pub(super) fn pod_template(obj: &Value, _now: SystemTime) -> Vec<Value> {
    let (names, images) = template_containers(obj);
    vec![
        json!(name(obj)),
        json!(names),
        json!(images),
        json!(format_labels(at(obj, &["template", "metadata", "labels"]))),
    ]
}

fn quantity(v: Option<&Value>) -> String {
    int_or_string(v).unwrap_or_else(|| "0".to_string())
}

/// One HPA metric as `current/target` (upstream's formatHPAMetrics for one entry).
fn hpa_metric(spec: &Value, status: Option<&Value>) -> String {
    let unknown = || "<unknown>".to_string();
    let kind = text(spec, &["type"]);
    let section = match kind {
        "External" => "external",
        "Pods" => "pods",
        "Object" => "object",
        "Resource" => "resource",
        "ContainerResource" => "containerResource",
        _ => return "<unknown type>".to_string(),
    };
    let target = at(spec, &[section, "target"])
        .cloned()
        .unwrap_or(Value::Null);
    let current = status
        .and_then(|s| s.get(section))
        .filter(|c| !c.is_null())
        .and_then(|c| c.get("current"));
    match kind {
        "Pods" => format!(
            "{}/{}",
            current.map_or_else(unknown, |c| quantity(c.get("averageValue"))),
            quantity(target.get("averageValue"))
        ),
        "External" | "Object" => {
            if target.get("averageValue").is_some() {
                let cur = current
                    .and_then(|c| c.get("averageValue"))
                    .map_or_else(unknown, |v| quantity(Some(v)));
                format!("{cur}/{} (avg)", quantity(target.get("averageValue")))
            } else {
                let cur = current.map_or_else(unknown, |c| quantity(c.get("value")));
                format!("{cur}/{}", quantity(target.get("value")))
            }
        }
        _ => {
            let resource = text(spec, &[section, "name"]);
            if target.get("averageValue").is_some() {
                let cur = current.map_or_else(unknown, |c| quantity(c.get("averageValue")));
                format!("{resource}: {cur}/{}", quantity(target.get("averageValue")))
            } else {
                let cur = current
                    .and_then(|c| c.get("averageUtilization"))
                    .and_then(Value::as_i64)
                    .map_or_else(unknown, |u| format!("{u}%"));
                let tgt = target
                    .get("averageUtilization")
                    .and_then(Value::as_i64)
                    .map_or_else(|| "<auto>".to_string(), |u| format!("{u}%"));
                format!("{resource}: {cur}/{tgt}")
            }
        }
    }
}

pub(super) fn horizontal_pod_autoscaler(obj: &Value, now: SystemTime) -> Vec<Value> {
    let specs = list(obj, &["spec", "metrics"]);
    let statuses = list(obj, &["status", "currentMetrics"]);
    let targets = if specs.is_empty() {
        "<none>".to_string()
    } else {
        let all: Vec<String> = specs
            .iter()
            .enumerate()
            .map(|(i, s)| hpa_metric(s, statuses.get(i)))
            .collect();
        if all.len() > 2 {
            format!("{} + {} more...", all[..2].join(", "), all.len() - 2)
        } else {
            all.join(", ")
        }
    };
    let min_pods = at(obj, &["spec", "minReplicas"])
        .and_then(Value::as_i64)
        .map_or_else(|| "<unset>".to_string(), |n| n.to_string());
    vec![
        json!(name(obj)),
        json!(format!(
            "{}/{}",
            text(obj, &["spec", "scaleTargetRef", "kind"]),
            text(obj, &["spec", "scaleTargetRef", "name"])
        )),
        json!(targets),
        json!(min_pods),
        json!(int(obj, &["spec", "maxReplicas"])),
        json!(int(obj, &["status", "currentReplicas"])),
        created(obj, now),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    /// 2024-01-01T01:00:00Z
    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_704_070_800)
    }

    fn meta(name: &str) -> Value {
        json!({"name": name, "namespace": "default", "creationTimestamp": "2024-01-01T00:00:00Z"})
    }

    fn template() -> Value {
        json!({"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
            {"name": "nginx", "image": "nginx:1.10"}, {"name": "sidecar", "image": "busybox"}]}})
    }

    #[test]
    fn deployment_rows() {
        let d = json!({"metadata": meta("test-web-deployment"),
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": template()},
            "status": {"readyReplicas": 1, "updatedReplicas": 2, "availableReplicas": 1}});
        assert_eq!(
            deployment(&d, now()),
            vec![
                json!("test-web-deployment"),
                json!("1/2"),
                json!(2),
                json!(1),
                json!("60m"),
                json!("nginx,sidecar"),
                json!("nginx:1.10,busybox"),
                json!("app=web")
            ]
        );
        let fresh = json!({"metadata": meta("d"), "spec": {"replicas": 3}});
        assert_eq!(
            deployment(&fresh, now())[1..4],
            [json!("0/3"), json!(0), json!(0)]
        );
        assert_eq!(deployment(&fresh, now())[7], json!(""));
    }

    #[test]
    fn replica_sets_and_controllers() {
        let rs = json!({"metadata": meta("web-5d8f"), "spec": {"replicas": 3,
            "selector": {"matchLabels": {"app": "web", "pod-template-hash": "5d8f"}}, "template": template()},
            "status": {"replicas": 3, "readyReplicas": 2}});
        assert_eq!(
            replica_set(&rs, now()),
            vec![
                json!("web-5d8f"),
                json!(3),
                json!(3),
                json!(2),
                json!("60m"),
                json!("nginx,sidecar"),
                json!("nginx:1.10,busybox"),
                json!("app=web,pod-template-hash=5d8f")
            ]
        );
        let rc = json!({"metadata": meta("rc"), "spec": {"replicas": 1, "selector": {"app": "web"}, "template": template()}});
        assert_eq!(
            replication_controller(&rc, now())[1..4],
            [json!(1), json!(0), json!(0)]
        );
        assert_eq!(replication_controller(&rc, now())[7], json!("app=web"));
        let no_selector = json!({"metadata": meta("rs")});
        assert_eq!(replica_set(&no_selector, now())[7], json!("<none>"));
    }

    #[test]
    fn stateful_and_daemon_sets() {
        let ss = json!({"metadata": meta("db"), "spec": {"replicas": 3, "template": template()}, "status": {"readyReplicas": 3}});
        assert_eq!(
            stateful_set(&ss, now()),
            vec![
                json!("db"),
                json!("3/3"),
                json!("60m"),
                json!("nginx,sidecar"),
                json!("nginx:1.10,busybox")
            ]
        );
        let ds = json!({"metadata": meta("kube-proxy"),
            "spec": {"selector": {"matchLabels": {"k8s-app": "kube-proxy"}},
                "template": {"spec": {"nodeSelector": {"kubernetes.io/os": "linux"}, "containers": [{"name": "kube-proxy", "image": "kp:1"}]}}},
            "status": {"desiredNumberScheduled": 2, "currentNumberScheduled": 2, "numberReady": 1,
                "updatedNumberScheduled": 2, "numberAvailable": 1}});
        assert_eq!(
            daemon_set(&ds, now()),
            vec![
                json!("kube-proxy"),
                json!(2),
                json!(2),
                json!(1),
                json!(2),
                json!(1),
                json!("kubernetes.io/os=linux"),
                json!("60m"),
                json!("kube-proxy"),
                json!("kp:1"),
                json!("k8s-app=kube-proxy")
            ]
        );
    }

    #[test]
    fn jobs() {
        let running = json!({"metadata": meta("pi"), "spec": {"completions": 3, "parallelism": 1,
            "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "abc"}}, "template": template()},
            "status": {"succeeded": 1, "startTime": "2024-01-01T00:58:00Z"}});
        assert_eq!(
            job(&running, now())[..5],
            [
                json!("pi"),
                json!("Running"),
                json!("1/3"),
                json!("2m"),
                json!("60m")
            ]
        );
        let done = json!({"metadata": meta("pi"), "spec": {"parallelism": 1},
            "status": {"succeeded": 1, "startTime": "2024-01-01T00:00:00Z", "completionTime": "2024-01-01T00:00:42Z",
                "conditions": [{"type": "Complete", "status": "True"}]}});
        assert_eq!(
            job(&done, now())[1..4],
            [json!("Complete"), json!("1/1"), json!("42s")]
        );
        let parallel = json!({"metadata": meta("p"), "spec": {"parallelism": 4},
            "status": {"conditions": [{"type": "Failed", "status": "True"}]}});
        assert_eq!(
            job(&parallel, now())[1..4],
            [json!("Failed"), json!("0/1 of 4"), json!("")]
        );
        let suspended = json!({"metadata": meta("s"), "spec": {"completions": 1},
            "status": {"conditions": [{"type": "Suspended", "status": "True"}]}});
        assert_eq!(job(&suspended, now())[1], json!("Suspended"));
    }

    #[test]
    fn cron_jobs() {
        let cj = json!({"metadata": meta("hello"), "spec": {"schedule": "*/1 * * * *", "suspend": false,
            "jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "hello", "image": "busybox"}]}}}}},
            "status": {"active": [{"name": "hello-1"}], "lastScheduleTime": "2024-01-01T00:59:00Z"}});
        assert_eq!(
            cron_job(&cj, now()),
            vec![
                json!("hello"),
                json!("*/1 * * * *"),
                json!("<none>"),
                json!("False"),
                json!(1),
                json!("60s"),
                json!("60m"),
                json!("hello"),
                json!("busybox"),
                json!("<none>")
            ]
        );
        let never =
            json!({"metadata": meta("c"), "spec": {"schedule": "@daily", "timeZone": "Etc/UTC"}});
        assert_eq!(
            cron_job(&never, now())[2..6],
            [
                json!("Etc/UTC"),
                json!("<unset>"),
                json!(0),
                json!("<none>")
            ]
        );
    }

    #[test]
    fn controller_revisions_pdbs_templates() {
        let cr = json!({"metadata": {"name": "web-7d9", "creationTimestamp": "2024-01-01T00:00:00Z",
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "controller": true}]},
            "revision": 2});
        assert_eq!(
            controller_revision(&cr, now()),
            vec![
                json!("web-7d9"),
                json!("statefulset.apps/web"),
                json!(2),
                json!("60m")
            ]
        );
        let orphan = json!({"metadata": {"name": "x"}, "revision": 1});
        assert_eq!(controller_revision(&orphan, now())[1], json!("<none>"));
        let pdb = json!({"metadata": meta("zk"), "spec": {"minAvailable": 2}, "status": {"disruptionsAllowed": 1}});
        assert_eq!(
            pod_disruption_budget(&pdb, now()),
            vec![
                json!("zk"),
                json!("2"),
                json!("N/A"),
                json!(1),
                json!("60m")
            ]
        );
        let pct = json!({"metadata": meta("p"), "spec": {"maxUnavailable": "50%"}});
        assert_eq!(
            pod_disruption_budget(&pct, now())[1..4],
            [json!("N/A"), json!("50%"), json!(0)]
        );
        let pt = json!({"metadata": meta("t"), "template": template()});
        assert_eq!(
            pod_template(&json!({"metadata": meta("t"), "template": {}}), now())[3],
            json!("<none>")
        );
        assert_eq!(pod_template(&pt, now())[3], json!("app=web"));
    }

    #[test]
    fn hpas() {
        let hpa = json!({"metadata": meta("web"), "spec": {
            "scaleTargetRef": {"kind": "Deployment", "name": "web"}, "minReplicas": 1, "maxReplicas": 10,
            "metrics": [
                {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}},
                {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "100Mi"}}},
                {"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {"averageValue": "1k"}}}]},
            "status": {"currentReplicas": 2, "currentMetrics": [
                {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 20, "averageValue": "10m"}}}]}});
        assert_eq!(
            horizontal_pod_autoscaler(&hpa, now()),
            vec![
                json!("web"),
                json!("Deployment/web"),
                json!("cpu: 20%/50%, memory: <unknown>/100Mi + 1 more..."),
                json!("1"),
                json!(10),
                json!(2),
                json!("60m")
            ]
        );
        let bare = json!({"metadata": meta("h"), "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "d"}, "maxReplicas": 3}});
        assert_eq!(
            horizontal_pod_autoscaler(&bare, now())[2..4],
            [json!("<none>"), json!("<unset>")]
        );
    }
}
