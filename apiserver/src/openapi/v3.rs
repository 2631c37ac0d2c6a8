//! `/openapi/v3` and `/openapi/v3/<gv-path>`: one OpenAPI 3.0 document per
//! group-version, with the schemas its operations reach under
//! `components.schemas` (references rewritten to `#/components/schemas/`,
//! a described reference wrapped in `allOf` as upstream does).

use super::paths::{self, In, Operation, Param, PathItem};
use crate::schema;
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

const V2_PREFIX: &str = "#/definitions/";
const V3_PREFIX: &str = "#/components/schemas/";

fn param(p: &Param) -> Value {
    let mut v = json!({
        "name": p.name,
        "in": match p.location { In::Path => "path", In::Query => "query" },
        "description": p.description,
        "schema": { "type": p.ty, "uniqueItems": true },
    });
    if p.location == In::Path {
        v["required"] = json!(true);
    }
    v
}

fn schema_ref(definition: &str) -> Value {
    json!({ "$ref": format!("{V3_PREFIX}{definition}") })
}

fn content(definition: &str, types: &[&str]) -> Value {
    let mut c = Map::new();
    for t in types {
        c.insert((*t).into(), json!({ "schema": schema_ref(definition) }));
    }
    Value::Object(c)
}

const ANSWERS: &[&str] = &[
    "application/json",
    "application/yaml",
    "application/vnd.kubernetes.protobuf",
];

fn operation(op: &Operation) -> Value {
    let mut v = json!({
        "tags": [op.tag],
        "description": op.description,
        "operationId": op.operation_id,
        "parameters": op.params.iter().map(param).collect::<Vec<_>>(),
        "x-kubernetes-action": op.action,
        "x-kubernetes-group-version-kind": {
            "group": op.group, "kind": op.kind, "version": op.version,
        },
    });
    if let Some(body) = op.body {
        let types: &[&str] = if op.method == "patch" {
            &[
                "application/json-patch+json",
                "application/merge-patch+json",
                "application/strategic-merge-patch+json",
                "application/apply-patch+yaml",
            ]
        } else {
            &["*/*"]
        };
        v["requestBody"] = json!({
            "content": content(body, types),
            "required": op.method != "delete",
        });
    }
    let mut responses = Map::new();
    if let Some(resp) = op.response {
        responses.insert(
            "200".into(),
            json!({ "description": "OK", "content": content(resp, ANSWERS) }),
        );
        if op.method == "post" || op.method == "put" {
            responses.insert(
                "201".into(),
                json!({ "description": "Created", "content": content(resp, ANSWERS) }),
            );
        }
    }
    responses.insert("401".into(), json!({ "description": "Unauthorized" }));
    v["responses"] = Value::Object(responses);
    v
}

fn path_item(p: &PathItem) -> Value {
    let mut item = Map::new();
    for op in &p.operations {
        item.insert(op.method.into(), operation(op));
    }
    item.insert(
        "parameters".into(),
        Value::Array(p.params.iter().map(param).collect()),
    );
    Value::Object(item)
}

/// Rewrites one v2 schema into its v3 form.
fn to_v3(schema: &Value) -> Value {
    match schema {
        Value::Object(o) => {
            let mut out = Map::new();
            for (k, v) in o {
                if k == "$ref" {
                    let name = v.as_str().unwrap_or_default().trim_start_matches(V2_PREFIX);
                    out.insert(k.clone(), json!(format!("{V3_PREFIX}{name}")));
                } else {
                    out.insert(k.clone(), to_v3(v));
                }
            }
            // A reference with siblings (a property's description): OpenAPI 3.0
            // ignores siblings of `$ref`, so the reference moves into `allOf`.
            if out.len() > 1
                && let Some(r) = out.remove("$ref")
            {
                out.insert("allOf".into(), json!([{ "$ref": r }]));
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(to_v3).collect()),
        other => other.clone(),
    }
}

/// Every definition `roots` reach through references.
fn closure(roots: impl IntoIterator<Item = String>) -> BTreeSet<String> {
    let defs = schema::definitions();
    let mut seen = BTreeSet::new();
    let mut todo: Vec<String> = roots.into_iter().collect();
    while let Some(name) = todo.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        if let Some(d) = defs.get(&name) {
            collect_refs(d, &mut todo);
        }
    }
    seen
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            for (k, v) in o {
                if k == "$ref" {
                    if let Some(name) = v.as_str().and_then(|s| s.strip_prefix(V2_PREFIX)) {
                        out.push(name.to_string());
                    }
                } else {
                    collect_refs(v, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// The document of one group-version, `None` when it is not served.
pub fn group_version(group: &str, version: &str) -> Option<Value> {
    if !crate::resources::group_version_exists(group, version) {
        return None;
    }
    let items = paths::paths(Some((group, version)));
    let mut paths_out = Map::new();
    let mut roots = Vec::new();
    for p in &items {
        for op in &p.operations {
            roots.extend(
                op.body
                    .iter()
                    .chain(op.response.iter())
                    .map(|d| d.to_string()),
            );
        }
        paths_out.insert(p.path.clone(), path_item(p));
    }
    let defs = schema::definitions();
    let mut schemas = Map::new();
    for name in closure(roots) {
        if let Some(d) = defs.get(&name) {
            schemas.insert(name, to_v3(d));
        }
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": { "title": "Kubernetes", "version": super::VERSION },
        "paths": paths_out,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "BearerToken": {
                    "type": "apiKey",
                    "description": "Bearer Token authentication",
                    "name": "authorization",
                    "in": "header",
                }
            }
        },
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
    fn schemas_are_complete_and_in_v3_form() {
        let doc = group_version("", "v1").expect("core/v1 served");
        let schemas = &doc["components"]["schemas"];
        let pod = &schemas["io.k8s.api.core.v1.Pod"];
        assert_eq!(
            pod["x-kubernetes-group-version-kind"][0]["kind"], "Pod",
            "GVK on the kind"
        );
        assert_eq!(
            pod["properties"]["spec"]["allOf"][0]["$ref"],
            "#/components/schemas/io.k8s.api.core.v1.PodSpec"
        );
        let containers = &schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"];
        assert_eq!(
            containers["items"]["$ref"],
            "#/components/schemas/io.k8s.api.core.v1.Container"
        );
        assert_eq!(containers["x-kubernetes-patch-merge-key"], "name");
        let text = doc.to_string();
        assert!(!text.contains("#/definitions/"));
        for r in text.split("\"#/components/schemas/").skip(1) {
            let name = r.split('"').next().unwrap_or_default();
            assert!(schemas.get(name).is_some(), "dangling {name}");
        }
        // Another group's kinds stay out.
        assert!(schemas.get("io.k8s.api.apps.v1.Deployment").is_none());
    }
}
