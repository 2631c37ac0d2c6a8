//! batch/v1 defaults: Job (`SetDefaults_Job` and the selector the Job
//! strategy generates) and CronJob (`SetDefaults_CronJob`).

use super::pod::default_pod_template;
use crate::validation::json::{ensure_obj, set_default, set_default_str};
use serde_json::{Map, Value, json};

/// The label upstream selects a Job's pods by.
pub const CONTROLLER_UID_LABEL: &str = "batch.kubernetes.io/controller-uid";
const LEGACY_CONTROLLER_UID_LABEL: &str = "controller-uid";
const JOB_NAME_LABEL: &str = "batch.kubernetes.io/job-name";
const LEGACY_JOB_NAME_LABEL: &str = "job-name";

/// `SetDefaults_Job`; when the object already has its `metadata.uid` and
/// `manualSelector` is not true, also the generated selector and template
/// labels (upstream does that in the Job strategy, after the uid is set).
pub fn default_job(obj: &mut Value) {
    if obj
        .get("spec")
        .and_then(|s| s.get("manualSelector"))
        .and_then(Value::as_bool)
        != Some(true)
    {
        generate_selector(obj);
    }
    let template_labels = obj
        .get("spec")
        .and_then(|s| s.get("template"))
        .and_then(|t| t.get("metadata"))
        .and_then(|m| m.get("labels"))
        .filter(|l| l.as_object().is_some_and(|m| !m.is_empty()))
        .cloned();
    if let Some(labels) = template_labels
        && let Some(meta) = ensure_obj(obj, "metadata")
    {
        let empty = meta
            .get("labels")
            .and_then(Value::as_object)
            .is_none_or(Map::is_empty);
        if empty {
            meta["labels"] = labels;
        }
    }
    let Some(spec) = ensure_obj(obj, "spec") else {
        return;
    };
    default_job_spec(spec);
}

fn default_job_spec(spec: &mut Value) {
    let unset = |k: &str, s: &Value| s.get(k).is_none_or(Value::is_null);
    if unset("completions", spec) && unset("parallelism", spec) {
        spec["completions"] = json!(1);
        spec["parallelism"] = json!(1);
    }
    set_default(spec, "parallelism", json!(1));
    let backoff = if unset("backoffLimitPerIndex", spec) {
        json!(6)
    } else {
        json!(i32::MAX)
    };
    set_default(spec, "backoffLimit", backoff);
    set_default(spec, "completionMode", json!("NonIndexed"));
    set_default(spec, "suspend", json!(false));
    let replacement = if unset("podFailurePolicy", spec) {
        "TerminatingOrFailed"
    } else {
        "Failed"
    };
    set_default(spec, "podReplacementPolicy", json!(replacement));
    if let Some(t) = ensure_obj(spec, "template") {
        default_pod_template(t);
    }
}

fn generate_selector(obj: &mut Value) {
    let meta = obj.get("metadata");
    let uid = meta
        .and_then(|m| m.get("uid"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let name = meta
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if uid.is_empty() {
        return;
    }
    let Some(spec) = ensure_obj(obj, "spec") else {
        return;
    };
    if let Some(t) = ensure_obj(spec, "template")
        && let Some(m) = ensure_obj(t, "metadata")
        && let Some(labels) = ensure_obj(m, "labels").and_then(Value::as_object_mut)
    {
        for k in [LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL] {
            labels.entry(k).or_insert_with(|| json!(name));
        }
        for k in [LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL] {
            labels.entry(k).or_insert_with(|| json!(uid));
        }
    }
    if let Some(sel) = ensure_obj(spec, "selector")
        && let Some(ml) = ensure_obj(sel, "matchLabels").and_then(Value::as_object_mut)
    {
        ml.entry(CONTROLLER_UID_LABEL).or_insert_with(|| json!(uid));
    }
}

/// `SetDefaults_CronJob`.
pub fn default_cron_job(obj: &mut Value) {
    let Some(spec) = ensure_obj(obj, "spec") else {
        return;
    };
    set_default_str(spec, "concurrencyPolicy", "Allow");
    set_default(spec, "suspend", json!(false));
    set_default(spec, "successfulJobsHistoryLimit", json!(3));
    set_default(spec, "failedJobsHistoryLimit", json!(1));
    if let Some(jt) = ensure_obj(spec, "jobTemplate")
        && let Some(js) = ensure_obj(jt, "spec")
        && let Some(t) = ensure_obj(js, "template")
    {
        default_pod_template(t);
    }
}
