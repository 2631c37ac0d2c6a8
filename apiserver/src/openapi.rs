//! A minimal OpenAPI v3 document per group-version, generated from the
//! resource table. It carries what kubectl reads before `create`/`apply`:
//! each kind's paths with `x-kubernetes-group-version-kind` and the
//! `fieldValidation` query parameter, which tells kubectl to let the server
//! validate fields. Full schemas are not served yet.

use crate::resources::{self, RESOURCES, ResourceDef};
use serde_json::{Map, Value, json};

fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// A stable hash of the table so clients can cache documents.
fn table_hash() -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for r in RESOURCES {
        for b in r
            .group
            .bytes()
            .chain(r.version.bytes())
            .chain(r.plural.bytes())
        {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x100000001b3);
        }
    }
    format!("{h:016X}")
}

/// `/openapi/v3`: where each group-version's document lives.
pub fn root() -> Value {
    let mut paths = Map::new();
    let mut gvs: Vec<(&str, &str)> = Vec::new();
    for r in RESOURCES {
        if !gvs.contains(&(r.group, r.version)) {
            gvs.push((r.group, r.version));
        }
    }
    let hash = table_hash();
    for (g, v) in gvs {
        let p = gv_path(g, v);
        paths.insert(
            p.clone(),
            json!({ "serverRelativeURL": format!("/openapi/v3/{p}?hash={hash}") }),
        );
    }
    json!({ "paths": paths })
}

fn param(name: &str) -> Value {
    json!({ "name": name, "in": "query", "schema": { "type": "string", "uniqueItems": true } })
}

fn operation(r: &ResourceDef, action: &str, verb_params: &[&str]) -> Value {
    let params: Vec<Value> = verb_params.iter().map(|p| param(p)).collect();
    json!({
        "operationId": format!("{action}{}", r.kind),
        "parameters": params,
        "responses": { "200": { "description": "OK" } },
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": { "group": r.group, "version": r.version, "kind": r.kind },
    })
}

/// `/openapi/v3/api/v1`, `/openapi/v3/apis/<group>/<version>`.
pub fn group_version(group: &str, version: &str) -> Option<Value> {
    if !resources::group_version_exists(group, version) {
        return None;
    }
    let base = format!("/{}", gv_path(group, version));
    let mut paths = Map::new();
    for r in resources::in_group_version(group, version) {
        let collection = if r.namespaced {
            format!("{base}/namespaces/{{namespace}}/{}", r.plural)
        } else {
            format!("{base}/{}", r.plural)
        };
        let write = ["dryRun", "fieldManager", "fieldValidation"];
        let mut coll = Map::new();
        if r.supports("list") {
            coll.insert(
                "get".into(),
                operation(
                    r,
                    "list",
                    &[
                        "labelSelector",
                        "fieldSelector",
                        "limit",
                        "continue",
                        "watch",
                    ],
                ),
            );
        }
        if r.supports("create") {
            coll.insert("post".into(), operation(r, "post", &write));
        }
        paths.insert(collection.clone(), Value::Object(coll));
        if r.supports("get") {
            let mut item = Map::new();
            item.insert("get".into(), operation(r, "get", &[]));
            if r.supports("update") {
                item.insert("put".into(), operation(r, "put", &write));
            }
            if r.supports("patch") {
                item.insert(
                    "patch".into(),
                    operation(
                        r,
                        "patch",
                        &["dryRun", "fieldManager", "fieldValidation", "force"],
                    ),
                );
            }
            if r.supports("delete") {
                item.insert(
                    "delete".into(),
                    operation(
                        r,
                        "delete",
                        &["dryRun", "gracePeriodSeconds", "propagationPolicy"],
                    ),
                );
            }
            paths.insert(format!("{collection}/{{name}}"), Value::Object(item));
        }
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": { "title": "Kubernetes", "version": "v1.32.0" },
        "paths": paths,
        "components": { "schemas": {} },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_operations_advertise_field_validation() {
        let doc = group_version("apps", "v1").expect("apps/v1 served");
        let op = &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
        assert_eq!(op["x-kubernetes-group-version-kind"]["kind"], "Deployment");
        assert!(
            op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|p| p["name"] == "fieldValidation")
        );
        assert!(group_version("apps", "v7").is_none());
    }

    #[test]
    fn root_lists_every_group_version() {
        let r = root();
        assert!(
            r["paths"]["api/v1"]["serverRelativeURL"]
                .as_str()
                .is_some_and(|u| u.starts_with("/openapi/v3/api/v1?hash="))
        );
        assert!(r["paths"].get("apis/autoscaling/v2").is_some());
    }
}
