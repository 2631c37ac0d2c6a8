//! Pod volumes (upstream's `ValidateVolumes`, `validateVolumeSource`):
//! unique DNS-label names and exactly one source, with the common sources'
//! required fields checked.

use super::super::field::{ErrorList, FieldError};
use super::super::json::{arr_at, child, index, int_at, present, str_at};
use super::super::names::{is_config_map_key, name_is_dns_subdomain};
use super::super::resources::quantity_at;
use super::container::{
    dns1123_label_errors, validate_local_descending_path, validate_object_field_selector,
};
use serde_json::{Value, json};
use std::collections::HashSet;

/// Every volume source a `Volume` may carry, in upstream's check order.
pub(crate) const VOLUME_SOURCES: [&str; 30] = [
    "hostPath",
    "emptyDir",
    "gitRepo",
    "awsElasticBlockStore",
    "secret",
    "nfs",
    "iscsi",
    "glusterfs",
    "persistentVolumeClaim",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "downwardAPI",
    "fc",
    "azureFile",
    "configMap",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "projected",
    "portworxVolume",
    "scaleIO",
    "storageos",
    "csi",
    "ephemeral",
    "image",
    "gcePersistentDisk",
];

const FILE_MODE_ERROR: &str = "must be a number between 0 and 0777 (octal), both inclusive";

/// Validates `spec.volumes` and returns the names that mounts may refer to
/// (only volumes without errors, as upstream).
pub fn validate_volumes(volumes: &[Value], path: &str) -> (HashSet<String>, ErrorList) {
    let mut errs = ErrorList::new();
    let mut names = HashSet::new();
    for (i, vol) in volumes.iter().enumerate() {
        let p = index(path, i);
        let name_path = child(&p, "name");
        let mut el = validate_volume_source(vol, &p);
        let name = str_at(vol, "name");
        if name.is_empty() {
            el.push(FieldError::required(&name_path, ""));
        } else {
            el.extend(dns1123_label_errors(name, &name_path));
        }
        if names.contains(name) {
            el.push(FieldError::duplicate(&name_path, json!(name)));
        }
        if el.is_empty() {
            names.insert(name.to_string());
        } else {
            errs.extend(el);
        }
    }
    (names, errs)
}

fn validate_volume_source(vol: &Value, p: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    let mut count = 0;
    for source in VOLUME_SOURCES {
        let Some(v) = present(vol, source) else {
            continue;
        };
        count += 1;
        if count > 1 {
            errs.push(FieldError::forbidden(
                child(p, source),
                "may not specify more than 1 volume type",
            ));
            continue;
        }
        let sp = child(p, source);
        match source {
            "hostPath" => errs.extend(validate_host_path(v, &sp)),
            "emptyDir" => {
                let medium = str_at(v, "medium");
                if !medium.is_empty() && medium != "Memory" && !medium.starts_with("HugePages") {
                    errs.push(FieldError::not_supported(
                        child(&sp, "medium"),
                        json!(medium),
                        &["", "Memory", "HugePages"],
                    ));
                }
                if let Some(limit) = present(v, "sizeLimit")
                    && let Some(q) = quantity_at(limit, &child(&sp, "sizeLimit"), &mut errs)
                    && q.is_negative()
                {
                    errs.push(FieldError::forbidden(
                        child(&sp, "sizeLimit"),
                        "SizeLimit field must be a valid resource quantity",
                    ));
                }
            }
            "secret" => {
                let name = str_at(v, "secretName");
                if name.is_empty() {
                    errs.push(FieldError::required(child(&sp, "secretName"), ""));
                }
                errs.extend(validate_mode_and_items(v, &sp));
            }
            "configMap" => {
                let name = str_at(v, "name");
                if name.is_empty() {
                    errs.push(FieldError::required(child(&sp, "name"), ""));
                } else {
                    for m in name_is_dns_subdomain(name, false) {
                        errs.push(FieldError::invalid(child(&sp, "name"), json!(name), m));
                    }
                }
                errs.extend(validate_mode_and_items(v, &sp));
            }
            "persistentVolumeClaim" if str_at(v, "claimName").is_empty() => {
                errs.push(FieldError::required(child(&sp, "claimName"), ""));
            }
            "nfs" => {
                if str_at(v, "server").is_empty() {
                    errs.push(FieldError::required(child(&sp, "server"), ""));
                }
                let path = str_at(v, "path");
                if path.is_empty() {
                    errs.push(FieldError::required(child(&sp, "path"), ""));
                } else if !path.starts_with('/') {
                    errs.push(FieldError::invalid(
                        child(&sp, "path"),
                        json!(path),
                        "must be an absolute path",
                    ));
                }
            }
            "downwardAPI" => {
                errs.extend(validate_mode(v, "defaultMode", &sp));
                for (i, item) in arr_at(v, "items").iter().enumerate() {
                    errs.extend(validate_downward_api_item(
                        item,
                        &index(&child(&sp, "items"), i),
                    ));
                }
            }
            "projected" => errs.extend(validate_projected(v, &sp)),
            "csi" if str_at(v, "driver").is_empty() => {
                errs.push(FieldError::required(child(&sp, "driver"), ""));
            }
            "image" if str_at(v, "reference").is_empty() => {
                errs.push(FieldError::required(child(&sp, "reference"), ""));
            }
            _ => {}
        }
    }
    if count == 0 {
        errs.push(FieldError::required(p, "must specify a volume type"));
    }
    errs
}

const HOST_PATH_TYPES: [&str; 7] = [
    "",
    "BlockDevice",
    "CharDevice",
    "Directory",
    "DirectoryOrCreate",
    "File",
    "FileOrCreate",
];

fn validate_host_path(v: &Value, sp: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    let path = str_at(v, "path");
    if path.is_empty() {
        errs.push(FieldError::required(child(sp, "path"), ""));
        return errs;
    }
    if path.split('/').any(|part| part == "..") {
        errs.push(FieldError::invalid(
            child(sp, "path"),
            json!(path),
            "must not contain '..'",
        ));
    }
    let ty = str_at(v, "type");
    if !HOST_PATH_TYPES.contains(&ty) && ty != "Socket" {
        let mut supported = HOST_PATH_TYPES.to_vec();
        supported.push("Socket");
        supported.sort_unstable();
        errs.push(FieldError::not_supported(
            child(sp, "type"),
            json!(ty),
            &supported,
        ));
    }
    errs
}

fn validate_mode(v: &Value, field: &str, sp: &str) -> ErrorList {
    match int_at(v, field) {
        Some(m) if !(0..=0o777).contains(&m) => {
            vec![FieldError::invalid(
                child(sp, field),
                json!(m),
                FILE_MODE_ERROR,
            )]
        }
        _ => Vec::new(),
    }
}

/// `defaultMode` and `items[*]` (key, relative path, mode) of configMap/secret.
fn validate_mode_and_items(v: &Value, sp: &str) -> ErrorList {
    let mut errs = validate_mode(v, "defaultMode", sp);
    for (i, item) in arr_at(v, "items").iter().enumerate() {
        let ip = index(&child(sp, "items"), i);
        let k = str_at(item, "key");
        if k.is_empty() {
            errs.push(FieldError::required(child(&ip, "key"), ""));
        } else {
            for m in is_config_map_key(k) {
                errs.push(FieldError::invalid(child(&ip, "key"), json!(k), m));
            }
        }
        errs.extend(validate_item_path(
            str_at(item, "path"),
            &child(&ip, "path"),
        ));
        errs.extend(validate_mode(item, "mode", &ip));
    }
    errs
}

/// `validateLocalNonReservedPath`: required, relative, no `..`, not `..`-prefixed.
fn validate_item_path(path: &str, p: &str) -> ErrorList {
    if path.is_empty() {
        return vec![FieldError::required(p, "")];
    }
    let mut errs = validate_local_descending_path(path, p);
    if path.starts_with("..") {
        errs.push(FieldError::invalid(
            p,
            json!(path),
            "must not start with '..'",
        ));
    }
    errs
}

const DOWNWARD_VOLUME_FIELDS: [&str; 5] = [
    "metadata.annotations",
    "metadata.labels",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
];

fn validate_downward_api_item(item: &Value, ip: &str) -> ErrorList {
    let mut errs = validate_item_path(str_at(item, "path"), &child(ip, "path"));
    errs.extend(validate_mode(item, "mode", ip));
    let field_ref = present(item, "fieldRef");
    let resource_ref = present(item, "resourceFieldRef");
    if let Some(f) = field_ref {
        errs.extend(validate_object_field_selector(
            f,
            &DOWNWARD_VOLUME_FIELDS,
            &child(ip, "fieldRef"),
        ));
    }
    if field_ref.is_some() && resource_ref.is_some() {
        errs.push(FieldError::invalid(
            ip,
            json!("resource"),
            "fieldRef and resourceFieldRef can not be specified simultaneously",
        ));
    }
    errs
}

fn validate_projected(v: &Value, sp: &str) -> ErrorList {
    let mut errs = validate_mode(v, "defaultMode", sp);
    for (i, source) in arr_at(v, "sources").iter().enumerate() {
        let p = index(&child(sp, "sources"), i);
        let kinds = [
            "secret",
            "configMap",
            "downwardAPI",
            "serviceAccountToken",
            "clusterTrustBundle",
        ];
        let present_kinds: Vec<&str> = kinds
            .iter()
            .copied()
            .filter(|k| present(source, k).is_some())
            .collect();
        if present_kinds.len() > 1 {
            for k in &present_kinds[1..] {
                errs.push(FieldError::forbidden(
                    child(&p, k),
                    "may not specify more than 1 volume type per source",
                ));
            }
        }
        for k in present_kinds {
            let kp = child(&p, k);
            let s = &source[k];
            match k {
                "secret" | "configMap" => errs.extend(validate_mode_and_items(s, &kp)),
                "downwardAPI" => {
                    for (j, item) in arr_at(s, "items").iter().enumerate() {
                        errs.extend(validate_downward_api_item(
                            item,
                            &index(&child(&kp, "items"), j),
                        ));
                    }
                }
                "serviceAccountToken" => {
                    if let Some(e) = int_at(s, "expirationSeconds") {
                        if e < 600 {
                            errs.push(FieldError::invalid(
                                child(&kp, "expirationSeconds"),
                                json!(e),
                                "may not specify a duration less than 10 minutes",
                            ));
                        } else if e > 1 << 32 {
                            errs.push(FieldError::invalid(
                                child(&kp, "expirationSeconds"),
                                json!(e),
                                "may not specify a duration larger than 2^32 seconds",
                            ));
                        }
                    }
                    if str_at(s, "path").is_empty() {
                        errs.push(FieldError::required(child(&kp, "path"), ""));
                    }
                }
                _ => {}
            }
        }
    }
    errs
}
