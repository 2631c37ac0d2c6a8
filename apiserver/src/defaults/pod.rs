//! Pod and pod template defaults (upstream's `SetDefaults_Pod`,
//! `SetDefaults_PodSpec`, `SetDefaults_Container`, probes, volumes, ...).

use crate::validation::json::{
    each_mut, ensure_obj, present, set_default, set_default_int, set_default_str,
};
use crate::validation::pod::VOLUME_SOURCES;
use serde_json::{Value, json};

/// Defaults that apply only to a Pod object, not to a template:
/// requests copied from limits, `enableServiceLinks`, host-network ports.
pub fn default_pod(pod: &mut Value) {
    let Some(spec) = ensure_obj(pod, "spec") else {
        return;
    };
    for list in ["containers", "initContainers"] {
        for c in each_mut(spec, list) {
            default_requests_from_limits(c);
        }
    }
    set_default(spec, "enableServiceLinks", json!(true));
    if spec.get("hostNetwork").and_then(Value::as_bool) == Some(true) {
        for list in ["containers", "initContainers"] {
            for c in each_mut(spec, list) {
                for p in each_mut(c, "ports") {
                    let cp = p.get("containerPort").cloned().unwrap_or(Value::Null);
                    set_default_int(p, "hostPort", cp.as_i64().unwrap_or(0));
                }
            }
        }
    }
    default_pod_spec(spec);
    // v1's serviceAccount is the deprecated alias of serviceAccountName.
    mirror_service_account(spec);
}

/// A template's `spec` (Deployment, Job, ...) gets the PodSpec defaults only.
pub fn default_pod_template(template: &mut Value) {
    if let Some(spec) = ensure_obj(template, "spec") {
        default_pod_spec(spec);
        mirror_service_account(spec);
    }
}

fn mirror_service_account(spec: &mut Value) {
    let name = spec
        .get("serviceAccountName")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let alias = spec
        .get("serviceAccount")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if name.is_empty() && !alias.is_empty() {
        spec["serviceAccountName"] = json!(alias);
    } else if !name.is_empty() && alias.is_empty() {
        spec["serviceAccount"] = json!(name);
    }
}

fn default_requests_from_limits(c: &mut Value) {
    let Some(limits) = c
        .get("resources")
        .and_then(|r| r.get("limits"))
        .and_then(Value::as_object)
        .cloned()
    else {
        return;
    };
    if limits.is_empty() {
        return;
    }
    let Some(resources) = ensure_obj(c, "resources") else {
        return;
    };
    let Some(requests) = ensure_obj(resources, "requests").and_then(Value::as_object_mut) else {
        return;
    };
    for (k, v) in limits {
        requests.entry(k).or_insert(v);
    }
}

/// `SetDefaults_PodSpec` and everything nested in it.
pub fn default_pod_spec(spec: &mut Value) {
    set_default_str(spec, "dnsPolicy", "ClusterFirst");
    set_default_str(spec, "restartPolicy", "Always");
    set_default(spec, "securityContext", json!({}));
    set_default(spec, "terminationGracePeriodSeconds", json!(30));
    set_default_str(spec, "schedulerName", "default-scheduler");
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        for c in each_mut(spec, list) {
            default_container(c);
        }
    }
    for v in each_mut(spec, "volumes") {
        default_volume(v);
    }
}

/// `SetDefaults_Container` (+ ports, env field refs, probes, lifecycle).
fn default_container(c: &mut Value) {
    let image = c
        .get("image")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let policy = if image_tag(&image) == Some("latest") {
        "Always"
    } else {
        "IfNotPresent"
    };
    set_default_str(c, "imagePullPolicy", policy);
    set_default_str(c, "terminationMessagePath", "/dev/termination-log");
    set_default_str(c, "terminationMessagePolicy", "File");
    for p in each_mut(c, "ports") {
        set_default_str(p, "protocol", "TCP");
    }
    for e in each_mut(c, "env") {
        if let Some(fr) = e
            .get_mut("valueFrom")
            .and_then(|vf| vf.get_mut("fieldRef"))
            .filter(|f| !f.is_null())
        {
            set_default_str(fr, "apiVersion", "v1");
        }
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(p) = c.get_mut(probe).filter(|p| !p.is_null()) {
            set_default_int(p, "timeoutSeconds", 1);
            set_default_int(p, "periodSeconds", 10);
            set_default_int(p, "successThreshold", 1);
            set_default_int(p, "failureThreshold", 3);
            default_http_get(p);
        }
    }
    if let Some(lc) = c.get_mut("lifecycle").filter(|l| !l.is_null()) {
        for hook in ["postStart", "preStop"] {
            if let Some(h) = lc.get_mut(hook).filter(|h| !h.is_null()) {
                default_http_get(h);
            }
        }
    }
}

fn default_http_get(handler: &mut Value) {
    if let Some(h) = handler.get_mut("httpGet").filter(|h| !h.is_null()) {
        set_default_str(h, "path", "/");
        set_default_str(h, "scheme", "HTTP");
    }
}

/// The tag of an image reference: `nginx` → `latest`, `nginx:1.25` → `1.25`,
/// `nginx@sha256:...` → none, `""` → none (upstream's `ParseImageName`).
pub fn image_tag(image: &str) -> Option<&str> {
    if image.is_empty() {
        return None;
    }
    let (name, digest) = match image.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (image, None),
    };
    let last = name.rsplit('/').next().unwrap_or(name);
    match last.split_once(':') {
        Some((_, tag)) => Some(tag),
        None if digest.is_none() => Some("latest"),
        None => None,
    }
}

/// `SetDefaults_Volume` and the per-source defaults.
fn default_volume(v: &mut Value) {
    if !VOLUME_SOURCES.iter().any(|s| present(v, s).is_some()) {
        if let Some(obj) = v.as_object_mut() {
            obj.insert("emptyDir".into(), json!({}));
        }
        return;
    }
    for source in ["configMap", "secret", "downwardAPI", "projected"] {
        if let Some(s) = v.get_mut(source).filter(|s| !s.is_null()) {
            set_default(s, "defaultMode", json!(420));
        }
    }
    if let Some(hp) = v.get_mut("hostPath").filter(|s| !s.is_null()) {
        set_default(hp, "type", json!(""));
    }
    for item_source in ["downwardAPI"] {
        if let Some(s) = v.get_mut(item_source).filter(|s| !s.is_null()) {
            default_downward_items(s);
        }
    }
    if let Some(p) = v.get_mut("projected").filter(|s| !s.is_null()) {
        for src in each_mut(p, "sources") {
            if let Some(d) = src.get_mut("downwardAPI").filter(|s| !s.is_null()) {
                default_downward_items(d);
            }
            if let Some(t) = src.get_mut("serviceAccountToken").filter(|s| !s.is_null()) {
                set_default(t, "expirationSeconds", json!(3600));
            }
        }
    }
    if let Some(i) = v.get_mut("iscsi").filter(|s| !s.is_null()) {
        set_default_str(i, "iscsiInterface", "default");
    }
    if let Some(r) = v.get_mut("rbd").filter(|s| !s.is_null()) {
        set_default_str(r, "pool", "rbd");
        set_default_str(r, "user", "admin");
        set_default_str(r, "keyring", "/etc/ceph/keyring");
    }
    if let Some(a) = v.get_mut("azureDisk").filter(|s| !s.is_null()) {
        set_default(a, "cachingMode", json!("ReadWrite"));
        set_default(a, "fsType", json!("ext4"));
        set_default(a, "readOnly", json!(false));
        set_default(a, "kind", json!("Shared"));
    }
    if let Some(e) = v.get_mut("ephemeral").filter(|s| !s.is_null())
        && let Some(t) = e.get_mut("volumeClaimTemplate").filter(|s| !s.is_null())
        && let Some(spec) = t.get_mut("spec").filter(|s| !s.is_null())
    {
        set_default_str(spec, "volumeMode", "Filesystem");
    }
}

fn default_downward_items(s: &mut Value) {
    for item in each_mut(s, "items") {
        if let Some(fr) = item.get_mut("fieldRef").filter(|f| !f.is_null()) {
            set_default_str(fr, "apiVersion", "v1");
        }
    }
}
