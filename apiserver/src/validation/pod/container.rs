//! Container rules (upstream's `validateContainers`,
//! `validateInitContainers`, `validateContainerCommon`): names, images,
//! ports, env, volume mounts, probes, resources and policies.

use super::super::field::{ErrorList, FieldError};
use super::super::json::{arr_at, child, index, int_at, present, str_at};
use super::super::meta::IS_NEGATIVE_ERROR_MSG;
use super::super::names::{
    is_config_map_key, is_dns1123_label, is_relaxed_env_var_name, is_valid_port_name,
    is_valid_port_num, name_is_dns_subdomain,
};
use super::super::resources::validate_resource_requirements;
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashSet};

/// The port protocols a container or Service port may use (sorted, as
/// upstream lists them).
pub const PORT_PROTOCOLS: [&str; 3] = ["SCTP", "TCP", "UDP"];

/// `ValidateDNS1123Label` wrapped as field errors.
pub fn dns1123_label_errors(value: &str, path: &str) -> ErrorList {
    is_dns1123_label(value)
        .into_iter()
        .map(|m| FieldError::invalid(path, json!(value), m))
        .collect()
}

/// `validateContainers` for `spec.containers`.
pub fn validate_containers(
    containers: &[Value],
    volumes: &HashSet<String>,
    path: &str,
) -> ErrorList {
    let mut errs = ErrorList::new();
    if containers.is_empty() {
        errs.push(FieldError::required(path, ""));
    }
    let mut names = HashSet::new();
    for (i, c) in containers.iter().enumerate() {
        let p = index(path, i);
        errs.extend(validate_container_common(c, volumes, &p));
        let name = str_at(c, "name");
        if !names.insert(name.to_string()) {
            errs.push(FieldError::duplicate(child(&p, "name"), json!(name)));
        }
        errs.extend(validate_probe(
            c.get("livenessProbe"),
            &child(&p, "livenessProbe"),
            true,
        ));
        errs.extend(validate_probe(
            c.get("readinessProbe"),
            &child(&p, "readinessProbe"),
            false,
        ));
        errs.extend(validate_probe(
            c.get("startupProbe"),
            &child(&p, "startupProbe"),
            true,
        ));
        if present(c, "restartPolicy").is_some() {
            errs.push(FieldError::forbidden(
                child(&p, "restartPolicy"),
                "may not be set for non-init containers",
            ));
        }
    }
    errs.extend(check_host_port_conflicts(containers, path));
    errs
}

/// `validateInitContainers` for `spec.initContainers`: names unique across
/// both lists; only sidecars (`restartPolicy: Always`) may have probes.
pub fn validate_init_containers(
    init: &[Value],
    regular: &[Value],
    volumes: &HashSet<String>,
    path: &str,
) -> ErrorList {
    let mut errs = ErrorList::new();
    let mut names: HashSet<String> = regular
        .iter()
        .map(|c| str_at(c, "name").to_string())
        .collect();
    for (i, c) in init.iter().enumerate() {
        let p = index(path, i);
        errs.extend(validate_container_common(c, volumes, &p));
        let name = str_at(c, "name");
        if !names.insert(name.to_string()) {
            errs.push(FieldError::duplicate(child(&p, "name"), json!(name)));
        }
        let restart = str_at(c, "restartPolicy");
        match restart {
            "" => {
                for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
                    if present(c, probe).is_some() {
                        errs.push(FieldError::forbidden(
                            child(&p, probe),
                            "may not be set for init containers without restartPolicy=Always",
                        ));
                    }
                }
                if present(c, "lifecycle").is_some() {
                    errs.push(FieldError::forbidden(
                        child(&p, "lifecycle"),
                        "may not be set for init containers without restartPolicy=Always",
                    ));
                }
            }
            "Always" => {
                errs.extend(validate_lifecycle(c, &p));
                errs.extend(validate_probe(
                    c.get("livenessProbe"),
                    &child(&p, "livenessProbe"),
                    true,
                ));
                errs.extend(validate_probe(
                    c.get("readinessProbe"),
                    &child(&p, "readinessProbe"),
                    false,
                ));
                errs.extend(validate_probe(
                    c.get("startupProbe"),
                    &child(&p, "startupProbe"),
                    true,
                ));
            }
            other => errs.push(FieldError::not_supported(
                child(&p, "restartPolicy"),
                json!(other),
                &["Always"],
            )),
        }
    }
    errs.extend(check_host_port_conflicts(init, path));
    errs
}

/// `validateLifecycle`: each hook has exactly one handler.
fn validate_lifecycle(c: &Value, p: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    if let Some(lc) = present(c, "lifecycle") {
        for hook in ["postStart", "preStop"] {
            if let Some(h) = present(lc, hook) {
                errs.extend(validate_handler(
                    h,
                    &child(&child(p, "lifecycle"), hook),
                    true,
                ));
            }
        }
    }
    errs
}

/// `validateContainerOnlyForPod`: what a Pod (not a template) adds.
pub fn validate_containers_only_for_pod(containers: &[Value], path: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    for (i, c) in containers.iter().enumerate() {
        let image = str_at(c, "image");
        if image.trim() != image {
            errs.push(FieldError::invalid(
                child(&index(path, i), "image"),
                json!(image),
                "must not have leading or trailing whitespace",
            ));
        }
    }
    errs
}

/// `validateContainerCommon`: what every kind of container shares.
fn validate_container_common(c: &Value, volumes: &HashSet<String>, p: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    let name = str_at(c, "name");
    let name_path = child(p, "name");
    if name.is_empty() {
        errs.push(FieldError::required(&name_path, ""));
    } else {
        errs.extend(dns1123_label_errors(name, &name_path));
    }
    if str_at(c, "image").is_empty() {
        errs.push(FieldError::required(child(p, "image"), ""));
    }
    match str_at(c, "terminationMessagePolicy") {
        "File" | "FallbackToLogsOnError" => {}
        "" => errs.push(FieldError::required(
            child(p, "terminationMessagePolicy"),
            "",
        )),
        other => errs.push(FieldError::not_supported(
            child(p, "terminationMessagePolicy"),
            json!(other),
            &["File", "FallbackToLogsOnError"],
        )),
    }
    errs.extend(validate_container_ports(
        arr_at(c, "ports"),
        &child(p, "ports"),
    ));
    errs.extend(validate_env(arr_at(c, "env"), &child(p, "env")));
    errs.extend(validate_env_from(
        arr_at(c, "envFrom"),
        &child(p, "envFrom"),
    ));
    errs.extend(validate_volume_mounts(
        arr_at(c, "volumeMounts"),
        volumes,
        &child(p, "volumeMounts"),
    ));
    match str_at(c, "imagePullPolicy") {
        "Always" | "IfNotPresent" | "Never" => {}
        "" => errs.push(FieldError::required(child(p, "imagePullPolicy"), "")),
        other => errs.push(FieldError::not_supported(
            child(p, "imagePullPolicy"),
            json!(other),
            &["Always", "IfNotPresent", "Never"],
        )),
    }
    errs.extend(validate_resource_requirements(
        c.get("resources"),
        &child(p, "resources"),
    ));
    errs
}

/// `validateContainerPorts`.
fn validate_container_ports(ports: &[Value], path: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    let mut names = HashSet::new();
    for (i, port) in ports.iter().enumerate() {
        let p = index(path, i);
        let name = str_at(port, "name");
        if !name.is_empty() {
            let msgs = is_valid_port_name(name);
            if !msgs.is_empty() {
                for m in msgs {
                    errs.push(FieldError::invalid(child(&p, "name"), json!(name), m));
                }
            } else if !names.insert(name.to_string()) {
                errs.push(FieldError::duplicate(child(&p, "name"), json!(name)));
            }
        }
        match int_at(port, "containerPort").unwrap_or(0) {
            0 => errs.push(FieldError::required(child(&p, "containerPort"), "")),
            n => {
                for m in is_valid_port_num(n) {
                    errs.push(FieldError::invalid(child(&p, "containerPort"), json!(n), m));
                }
            }
        }
        if let Some(h) = int_at(port, "hostPort").filter(|h| *h != 0) {
            for m in is_valid_port_num(h) {
                errs.push(FieldError::invalid(child(&p, "hostPort"), json!(h), m));
            }
        }
        errs.extend(validate_protocol(
            str_at(port, "protocol"),
            &child(&p, "protocol"),
        ));
    }
    errs
}

/// A port protocol: required, one of SCTP/TCP/UDP.
pub fn validate_protocol(protocol: &str, path: &str) -> ErrorList {
    if protocol.is_empty() {
        vec![FieldError::required(path, "")]
    } else if !PORT_PROTOCOLS.contains(&protocol) {
        vec![FieldError::not_supported(
            path,
            json!(protocol),
            &PORT_PROTOCOLS,
        )]
    } else {
        Vec::new()
    }
}

/// `checkHostPortConflicts`: one protocol/hostIP/hostPort per pod.
fn check_host_port_conflicts(containers: &[Value], path: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    let mut seen = HashSet::new();
    for (ci, c) in containers.iter().enumerate() {
        for (pi, port) in arr_at(c, "ports").iter().enumerate() {
            let host_port = int_at(port, "hostPort").unwrap_or(0);
            if host_port == 0 {
                continue;
            }
            let key = format!(
                "{}/{}/{}",
                str_at(port, "protocol"),
                str_at(port, "hostIP"),
                host_port
            );
            if !seen.insert(key.clone()) {
                errs.push(FieldError::duplicate(
                    format!("{path}[{ci}].ports[{pi}].hostPort"),
                    json!(key),
                ));
            }
        }
    }
    errs
}

/// Field paths a container's env may read through `fieldRef`.
const ENV_FIELD_PATHS: [&str; 9] = [
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];

/// `validateEnv`.
fn validate_env(env: &[Value], path: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    for (i, ev) in env.iter().enumerate() {
        let p = index(path, i);
        let name = str_at(ev, "name");
        if name.is_empty() {
            errs.push(FieldError::required(child(&p, "name"), ""));
        }
        for m in is_relaxed_env_var_name(name) {
            errs.push(FieldError::invalid(child(&p, "name"), json!(name), m));
        }
        if let Some(vf) = present(ev, "valueFrom") {
            errs.extend(validate_env_value_from(ev, vf, &child(&p, "valueFrom")));
        }
    }
    errs
}

fn validate_env_value_from(ev: &Value, vf: &Value, path: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    let mut sources = 0;
    if let Some(f) = present(vf, "fieldRef") {
        sources += 1;
        errs.extend(validate_object_field_selector(
            f,
            &ENV_FIELD_PATHS,
            &child(path, "fieldRef"),
        ));
    }
    if let Some(r) = present(vf, "resourceFieldRef") {
        sources += 1;
        let p = child(path, "resourceFieldRef");
        let resource = str_at(r, "resource");
        if resource.is_empty() {
            errs.push(FieldError::required(child(&p, "resource"), ""));
        } else {
            const OK: [&str; 6] = [
                "limits.cpu",
                "limits.ephemeral-storage",
                "limits.memory",
                "requests.cpu",
                "requests.ephemeral-storage",
                "requests.memory",
            ];
            if !OK.contains(&resource)
                && !resource.starts_with("limits.hugepages-")
                && !resource.starts_with("requests.hugepages-")
            {
                errs.push(FieldError::not_supported(
                    child(&p, "resource"),
                    json!(resource),
                    &OK,
                ));
            }
        }
    }
    for (kind, name_field) in [("configMapKeyRef", "name"), ("secretKeyRef", "name")] {
        if let Some(s) = present(vf, kind) {
            sources += 1;
            let p = child(path, kind);
            let name = str_at(s, name_field);
            if name.is_empty() {
                errs.push(FieldError::required(child(&p, "name"), ""));
            } else {
                for m in name_is_dns_subdomain(name, false) {
                    errs.push(FieldError::invalid(child(&p, "name"), json!(name), m));
                }
            }
            let k = str_at(s, "key");
            if k.is_empty() {
                errs.push(FieldError::required(child(&p, "key"), ""));
            } else {
                for m in is_config_map_key(k) {
                    errs.push(FieldError::invalid(child(&p, "key"), json!(k), m));
                }
            }
        }
    }
    if sources == 0 {
        errs.push(FieldError::invalid(
            path,
            json!(""),
            "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
        ));
    } else if !str_at(ev, "value").is_empty() {
        errs.push(FieldError::invalid(
            path,
            json!(""),
            "may not be specified when `value` is not empty",
        ));
    } else if sources > 1 {
        errs.push(FieldError::invalid(
            path,
            json!(""),
            "may not have more than one field specified at a time",
        ));
    }
    errs
}

/// `validateObjectFieldSelector`: apiVersion and a supported fieldPath
/// (labels/annotations by key are always allowed).
pub fn validate_object_field_selector(f: &Value, allowed: &[&str], path: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    let api_version = str_at(f, "apiVersion");
    let field_path = str_at(f, "fieldPath");
    if api_version.is_empty() {
        errs.push(FieldError::required(child(path, "apiVersion"), ""));
        return errs;
    }
    if field_path.is_empty() {
        errs.push(FieldError::required(child(path, "fieldPath"), ""));
        return errs;
    }
    let subscripted = ["metadata.labels[", "metadata.annotations["]
        .iter()
        .any(|p| field_path.starts_with(p) && field_path.ends_with(']'));
    if !subscripted && !allowed.contains(&field_path) {
        let mut sorted: Vec<&str> = allowed.to_vec();
        sorted.sort_unstable();
        errs.push(FieldError::not_supported(
            child(path, "fieldPath"),
            json!(field_path),
            &sorted,
        ));
    }
    errs
}

fn validate_env_from(env_from: &[Value], path: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    for (i, ef) in env_from.iter().enumerate() {
        let p = index(path, i);
        let prefix = str_at(ef, "prefix");
        if !prefix.is_empty() {
            for m in is_relaxed_env_var_name(prefix) {
                errs.push(FieldError::invalid(child(&p, "prefix"), json!(prefix), m));
            }
        }
        let mut sources = 0;
        for kind in ["configMapRef", "secretRef"] {
            if let Some(r) = present(ef, kind) {
                sources += 1;
                let name = str_at(r, "name");
                let np = child(&child(&p, kind), "name");
                if name.is_empty() {
                    errs.push(FieldError::required(np, ""));
                } else {
                    for m in name_is_dns_subdomain(name, false) {
                        errs.push(FieldError::invalid(&np, json!(name), m));
                    }
                }
            }
        }
        if sources == 0 {
            errs.push(FieldError::invalid(
                &p,
                json!(""),
                "must specify one of: `configMapRef` or `secretRef`",
            ));
        } else if sources > 1 {
            errs.push(FieldError::invalid(
                &p,
                json!(""),
                "may not have more than one field specified at a time",
            ));
        }
    }
    errs
}

/// `validateVolumeMounts`: each mount names a declared volume and a unique path.
fn validate_volume_mounts(mounts: &[Value], volumes: &HashSet<String>, path: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    let mut mount_points = BTreeSet::new();
    for (i, m) in mounts.iter().enumerate() {
        let p = index(path, i);
        let name = str_at(m, "name");
        if name.is_empty() {
            errs.push(FieldError::required(child(&p, "name"), ""));
        }
        if !volumes.contains(name) {
            errs.push(FieldError::not_found(child(&p, "name"), json!(name)));
        }
        let mount_path = str_at(m, "mountPath");
        if mount_path.is_empty() {
            errs.push(FieldError::required(child(&p, "mountPath"), ""));
        }
        if !mount_points.insert(mount_path.to_string()) {
            errs.push(FieldError::invalid(
                child(&p, "mountPath"),
                json!(mount_path),
                "must be unique",
            ));
        }
        let sub_path = str_at(m, "subPath");
        if !sub_path.is_empty() {
            errs.extend(validate_local_descending_path(
                sub_path,
                &child(&p, "subPath"),
            ));
        }
        let expr = str_at(m, "subPathExpr");
        if !expr.is_empty() && !sub_path.is_empty() {
            errs.push(FieldError::invalid(
                child(&p, "subPathExpr"),
                json!(expr),
                "subPathExpr and subPath are mutually exclusive",
            ));
        }
        let propagation = str_at(m, "mountPropagation");
        if !propagation.is_empty()
            && !["None", "HostToContainer", "Bidirectional"].contains(&propagation)
        {
            errs.push(FieldError::not_supported(
                child(&p, "mountPropagation"),
                json!(propagation),
                &["Bidirectional", "HostToContainer", "None"],
            ));
        }
    }
    errs
}

/// `validateLocalDescendingPath`: relative, no `..` element.
pub fn validate_local_descending_path(target: &str, path: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    if target.starts_with('/') {
        errs.push(FieldError::invalid(
            path,
            json!(target),
            "must be a relative path",
        ));
    }
    if target.split(['/', '\\']).any(|part| part == "..") {
        errs.push(FieldError::invalid(
            path,
            json!(target),
            "must not contain '..'",
        ));
    }
    errs
}

/// `validateProbe` (+ the liveness/startup rule that successThreshold is 1).
fn validate_probe(probe: Option<&Value>, path: &str, success_must_be_one: bool) -> ErrorList {
    let mut errs = ErrorList::new();
    let Some(probe) = probe.filter(|p| !p.is_null()) else {
        return errs;
    };
    errs.extend(validate_handler(probe, path, false));
    for f in [
        "initialDelaySeconds",
        "timeoutSeconds",
        "periodSeconds",
        "successThreshold",
        "failureThreshold",
    ] {
        if let Some(v) = int_at(probe, f).filter(|v| *v < 0) {
            errs.push(FieldError::invalid(
                child(path, f),
                json!(v),
                IS_NEGATIVE_ERROR_MSG,
            ));
        }
    }
    if let Some(t) = int_at(probe, "terminationGracePeriodSeconds").filter(|t| *t <= 0) {
        errs.push(FieldError::invalid(
            child(path, "terminationGracePeriodSeconds"),
            json!(t),
            "must be greater than 0",
        ));
    }
    if success_must_be_one && let Some(s) = int_at(probe, "successThreshold").filter(|s| *s != 1) {
        errs.push(FieldError::invalid(
            child(path, "successThreshold"),
            json!(s),
            "must be 1",
        ));
    }
    errs
}

/// `validateHandler`: exactly one of exec/httpGet/tcpSocket/grpc (sleep for hooks).
fn validate_handler(h: &Value, path: &str, lifecycle: bool) -> ErrorList {
    let mut errs = ErrorList::new();
    let kinds: &[&str] = if lifecycle {
        &["exec", "httpGet", "tcpSocket", "sleep"]
    } else {
        &["exec", "httpGet", "tcpSocket", "grpc"]
    };
    let mut count = 0;
    for kind in kinds {
        let Some(v) = present(h, kind) else { continue };
        count += 1;
        if count > 1 {
            errs.push(FieldError::forbidden(
                child(path, kind),
                "may not specify more than 1 handler type",
            ));
            continue;
        }
        let p = child(path, kind);
        match *kind {
            "exec" if arr_at(v, "command").is_empty() => {
                errs.push(FieldError::required(child(&p, "command"), ""));
            }
            "httpGet" => {
                if str_at(v, "path").is_empty() {
                    errs.push(FieldError::required(child(&p, "path"), ""));
                }
                errs.extend(validate_port_num_or_name(v.get("port"), &child(&p, "port")));
                let scheme = str_at(v, "scheme");
                if !["HTTP", "HTTPS"].contains(&scheme) {
                    errs.push(FieldError::not_supported(
                        child(&p, "scheme"),
                        json!(scheme),
                        &["HTTP", "HTTPS"],
                    ));
                }
            }
            "tcpSocket" => {
                errs.extend(validate_port_num_or_name(v.get("port"), &child(&p, "port")))
            }
            "grpc" => {
                let port = int_at(v, "port").unwrap_or(0);
                for m in is_valid_port_num(port) {
                    errs.push(FieldError::invalid(child(&p, "port"), json!(port), m));
                }
            }
            _ => {}
        }
    }
    if count == 0 {
        errs.push(FieldError::required(path, "must specify a handler type"));
    }
    errs
}

/// `validatePortNumOrName` for an IntOrString port.
pub fn validate_port_num_or_name(port: Option<&Value>, path: &str) -> ErrorList {
    match port {
        Some(Value::String(s)) => is_valid_port_name(s)
            .into_iter()
            .map(|m| FieldError::invalid(path, json!(s), m))
            .collect(),
        Some(v) => {
            let n = v.as_i64().unwrap_or(0);
            is_valid_port_num(n)
                .into_iter()
                .map(|m| FieldError::invalid(path, json!(n), m))
                .collect()
        }
        None => is_valid_port_num(0)
            .into_iter()
            .map(|m| FieldError::invalid(path, json!(0), m))
            .collect(),
    }
}
