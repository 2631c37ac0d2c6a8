//! batch/v1 Job and CronJob (upstream's `pkg/apis/batch/validation`).

use super::apps::nonnegative;
use super::cron::parse_standard;
use super::field::{ErrorList, FieldError};
use super::json::{child, int_at, present, str_at};
use super::meta::{
    FIELD_IMMUTABLE, Scope, immutable, labels_of, validate_object_meta, validate_object_meta_update,
};
use super::names::{is_dns1123_label, name_is_dns_subdomain};
use super::pod::validate_pod_template_spec;
use super::selector::{label_selector_literal, selector_matches, validate_label_selector};
use crate::defaults::CONTROLLER_UID_LABEL;
use serde_json::{Value, json};

const MAX_PARALLELISM_FOR_INDEXED_JOB: i64 = 100_000;

/// `ValidateJob` (create).
pub fn validate_job(job: &Value) -> ErrorList {
    let mut errs = validate_object_meta(job, Scope::Namespaced, name_is_dns_subdomain);
    errs.extend(validate_generated_selector(job));
    let spec = job.get("spec").unwrap_or(&Value::Null);
    errs.extend(validate_job_spec_with_selector(spec, "spec"));
    let name = job.get("metadata").map(|m| str_at(m, "name")).unwrap_or("");
    if str_at(spec, "completionMode") == "Indexed"
        && let Some(c) = int_at(spec, "completions").filter(|c| *c > 0)
    {
        let hostname = format!("{name}-{}", c - 1);
        if !is_dns1123_label(&hostname).is_empty() {
            errs.push(FieldError::invalid(
                "metadata.name",
                json!(name),
                format!("will not able to create pod with invalid DNS label: {hostname}"),
            ));
        }
    }
    errs
}

/// `validateGeneratedSelector`: when the server generated the selector, the
/// template must carry the generated labels and the selector must pick them.
fn validate_generated_selector(job: &Value) -> ErrorList {
    let mut errs = ErrorList::new();
    let spec = job.get("spec").unwrap_or(&Value::Null);
    if spec.get("manualSelector").and_then(Value::as_bool) == Some(true) {
        return errs;
    }
    let meta = job.get("metadata").unwrap_or(&Value::Null);
    let uid = str_at(meta, "uid");
    let name = str_at(meta, "name");
    let template_meta = spec.get("template").and_then(|t| t.get("metadata"));
    let Some(labels) = labels_of(template_meta) else {
        return errs;
    };
    if uid.is_empty() {
        // The apiserver assigns the uid before validating; without one the
        // selector could not have been generated.
        errs.push(FieldError::required("metadata.uid", ""));
        return errs;
    }
    for (key, want) in [
        ("controller-uid", uid),
        ("job-name", name),
        (CONTROLLER_UID_LABEL, uid),
        ("batch.kubernetes.io/job-name", name),
    ] {
        let p = format!("spec.template.metadata.labels[{key}]");
        match labels.get(key).and_then(Value::as_str) {
            None => errs.push(FieldError::required(p, want)),
            Some(v) if v != want => errs.push(FieldError::invalid(
                p,
                Value::Object(labels.clone()),
                format!("must be '{want}'"),
            )),
            Some(_) => {}
        }
    }
    let mut expected = serde_json::Map::new();
    expected.insert(CONTROLLER_UID_LABEL.into(), json!(uid));
    match present(spec, "selector") {
        None => errs.push(FieldError::required("spec.selector", "")),
        Some(sel) => {
            if !selector_matches(sel, Some(&expected)) {
                errs.push(FieldError::invalid_literal(
                    "spec.selector",
                    label_selector_literal(Some(sel)),
                    "`selector` not auto-generated",
                ));
            }
        }
    }
    errs
}

/// `validateJobSpec`: counts, completion mode, the pod template and its
/// restart policy (OnFailure or Never).
fn validate_job_spec(spec: &Value, path: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    for f in [
        "parallelism",
        "completions",
        "activeDeadlineSeconds",
        "backoffLimit",
        "ttlSecondsAfterFinished",
        "backoffLimitPerIndex",
        "maxFailedIndexes",
    ] {
        errs.extend(nonnegative(spec, f, path));
    }
    if let Some(mode) = present(spec, "completionMode") {
        let mode = mode.as_str().unwrap_or("");
        if mode != "NonIndexed" && mode != "Indexed" {
            errs.push(FieldError::not_supported(
                child(path, "completionMode"),
                json!(mode),
                &["NonIndexed", "Indexed"],
            ));
        }
        if mode == "Indexed" {
            if present(spec, "completions").is_none() {
                errs.push(FieldError::required(
                    child(path, "completions"),
                    "when completion mode is Indexed",
                ));
            }
            if let Some(p) =
                int_at(spec, "parallelism").filter(|p| *p > MAX_PARALLELISM_FOR_INDEXED_JOB)
            {
                errs.push(FieldError::invalid(
                    child(path, "parallelism"),
                    json!(p),
                    format!(
                        "must be less than or equal to {MAX_PARALLELISM_FOR_INDEXED_JOB} when completion mode is Indexed"
                    ),
                ));
            }
        }
    }
    if let Some(prp) = present(spec, "podReplacementPolicy") {
        let prp = prp.as_str().unwrap_or("");
        if !["TerminatingOrFailed", "Failed"].contains(&prp) {
            errs.push(FieldError::not_supported(
                child(path, "podReplacementPolicy"),
                json!(prp),
                &["Failed", "TerminatingOrFailed"],
            ));
        }
    }
    let template = spec.get("template").unwrap_or(&Value::Null);
    let template_path = child(path, "template");
    errs.extend(validate_pod_template_spec(template, &template_path));
    let restart = template
        .get("spec")
        .map(|s| str_at(s, "restartPolicy"))
        .unwrap_or("");
    let rp = format!("{template_path}.spec.restartPolicy");
    match restart {
        "Always" | "" => errs.push(FieldError::required(
            rp,
            "valid values: \"OnFailure\", \"Never\"",
        )),
        "OnFailure" | "Never" => {}
        other => errs.push(FieldError::not_supported(
            rp,
            json!(other),
            &["OnFailure", "Never"],
        )),
    }
    errs
}

/// `ValidateJobSpec`: the above plus a selector that matches the template.
fn validate_job_spec_with_selector(spec: &Value, path: &str) -> ErrorList {
    let mut errs = validate_job_spec(spec, path);
    let sel = present(spec, "selector");
    match sel {
        None => errs.push(FieldError::required(child(path, "selector"), "")),
        Some(s) => errs.extend(validate_label_selector(s, &child(path, "selector"))),
    }
    let template_meta = spec.get("template").and_then(|t| t.get("metadata"));
    let labels = labels_of(template_meta);
    let matches = sel.is_some_and(|s| selector_matches(s, labels));
    if !matches {
        let p = format!("{path}.template.metadata.labels");
        match labels {
            Some(l) => errs.push(FieldError::invalid(
                p,
                Value::Object(l.clone()),
                "`selector` does not match template `labels`",
            )),
            None => errs.push(FieldError::invalid_literal(
                p,
                "map[string]string(nil)",
                "`selector` does not match template `labels`",
            )),
        }
    }
    errs
}

/// `ValidateJobUpdate`: the spec again, and what is fixed once the Job exists.
pub fn validate_job_update(new: &Value, old: &Value) -> ErrorList {
    let mut errs = validate_object_meta_update(new, old);
    let null = Value::Null;
    let ns = new.get("spec").unwrap_or(&null);
    let os = old.get("spec").unwrap_or(&null);
    errs.extend(validate_job_spec_with_selector(ns, "spec"));
    errs.extend(immutable(
        ns.get("completions"),
        os.get("completions"),
        "spec.completions",
    ));
    if !immutable(ns.get("selector"), os.get("selector"), "spec.selector").is_empty() {
        errs.push(FieldError::invalid_literal(
            "spec.selector",
            label_selector_literal(ns.get("selector")),
            FIELD_IMMUTABLE,
        ));
    }
    if !immutable(ns.get("template"), os.get("template"), "spec.template").is_empty() {
        // Upstream allows scheduling directives to change while a Job is
        // suspended; everything else in the template is fixed.
        let suspended = ns.get("suspend").and_then(Value::as_bool) == Some(true);
        if !suspended {
            errs.push(FieldError::invalid_literal(
                "spec.template",
                "core.PodTemplateSpec{...}",
                FIELD_IMMUTABLE,
            ));
        }
    }
    for f in ["completionMode", "podFailurePolicy", "backoffLimitPerIndex"] {
        errs.extend(immutable(ns.get(f), os.get(f), &format!("spec.{f}")));
    }
    errs
}

/// `ValidateCronJobCreate`.
pub fn validate_cron_job(cj: &Value) -> ErrorList {
    let mut errs = validate_object_meta(cj, Scope::Namespaced, name_is_dns_subdomain);
    let spec = cj.get("spec").unwrap_or(&Value::Null);
    errs.extend(validate_cron_job_spec(spec, None));
    let name = cj.get("metadata").map(|m| str_at(m, "name")).unwrap_or("");
    if name.len() > 52 {
        errs.push(FieldError::invalid(
            "metadata.name",
            json!(name),
            "must be no more than 52 characters",
        ));
    }
    errs
}

fn validate_cron_job_spec(spec: &Value, old: Option<&Value>) -> ErrorList {
    let mut errs = ErrorList::new();
    let schedule = str_at(spec, "schedule");
    if schedule.is_empty() {
        errs.push(FieldError::required("spec.schedule", ""));
    } else {
        let allow_tz = old.is_some_and(|o| str_at(o, "schedule").contains("TZ"));
        if schedule.contains("TZ") && !allow_tz {
            errs.push(FieldError::invalid(
                "spec.schedule",
                json!(schedule),
                "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
            ));
        }
        if let Err(msg) = parse_standard(schedule) {
            errs.push(FieldError::invalid("spec.schedule", json!(schedule), msg));
        }
    }
    errs.extend(nonnegative(spec, "startingDeadlineSeconds", "spec"));
    if let Some(tz) = present(spec, "timeZone") {
        let tz = tz.as_str().unwrap_or("");
        let valid = !tz.is_empty()
            && !tz.starts_with('/')
            && !tz.contains("..")
            && tz
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "/_-+".contains(c));
        if !valid {
            errs.push(FieldError::invalid(
                "spec.timeZone",
                json!(tz),
                "unknown time zone ".to_string() + tz,
            ));
        }
    }
    match str_at(spec, "concurrencyPolicy") {
        "Allow" | "Forbid" | "Replace" => {}
        "" => errs.push(FieldError::required("spec.concurrencyPolicy", "")),
        other => errs.push(FieldError::not_supported(
            "spec.concurrencyPolicy",
            json!(other),
            &["Allow", "Forbid", "Replace"],
        )),
    }
    let jt = spec.get("jobTemplate").unwrap_or(&Value::Null);
    let jt_meta = jt.get("metadata").unwrap_or(&Value::Null);
    errs.extend(super::meta::validate_labels(
        jt_meta.get("labels"),
        "spec.jobTemplate.metadata.labels",
    ));
    let js = jt.get("spec").unwrap_or(&Value::Null);
    errs.extend(validate_job_spec(js, "spec.jobTemplate.spec"));
    if let Some(sel) = present(js, "selector") {
        errs.push(FieldError::invalid_literal(
            "spec.jobTemplate.spec.selector",
            label_selector_literal(Some(sel)),
            "`selector` will be auto-generated",
        ));
    }
    if js.get("manualSelector").and_then(Value::as_bool) == Some(true) {
        errs.push(FieldError::not_supported(
            "spec.jobTemplate.spec.manualSelector",
            json!(true),
            &["nil", "false"],
        ));
    }
    errs.extend(nonnegative(spec, "successfulJobsHistoryLimit", "spec"));
    errs.extend(nonnegative(spec, "failedJobsHistoryLimit", "spec"));
    errs
}

/// `ValidateCronJobUpdate`: metadata rules and the spec (TZ kept if it was there).
pub fn validate_cron_job_update(new: &Value, old: &Value) -> ErrorList {
    let mut errs = validate_object_meta_update(new, old);
    let null = Value::Null;
    errs.extend(validate_cron_job_spec(
        new.get("spec").unwrap_or(&null),
        old.get("spec"),
    ));
    errs
}

/// Status updates of Jobs: metadata rules and non-negative counters.
pub fn validate_job_status_update(new: &Value, old: &Value) -> ErrorList {
    let mut errs = validate_object_meta_update(new, old);
    let status = new.get("status").unwrap_or(&Value::Null);
    for f in ["active", "succeeded", "failed", "ready", "terminating"] {
        errs.extend(nonnegative(status, f, "status"));
    }
    errs
}
