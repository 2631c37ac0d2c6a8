//! `/openapi/v2`: the Swagger 2.0 document of the whole API, with every
//! definition of the schema module and every served path.

use super::paths::{self, In, Operation, Param, PathItem};
use crate::schema;
use serde_json::{Map, Value, json};

const PRODUCES: &[&str] = &[
    "application/json",
    "application/yaml",
    "application/vnd.kubernetes.protobuf",
];

fn param(p: &Param) -> Value {
    let mut v = json!({
        "name": p.name,
        "in": match p.location { In::Path => "path", In::Query => "query" },
        "description": p.description,
        "type": p.ty,
        "uniqueItems": true,
    });
    if p.location == In::Path {
        v["required"] = json!(true);
    }
    v
}

fn schema_ref(definition: &str) -> Value {
    json!({ "$ref": format!("#/definitions/{definition}") })
}

fn consumes(op: &Operation) -> Vec<&'static str> {
    match op.method {
        "patch" => vec![
            "application/json-patch+json",
            "application/merge-patch+json",
            "application/strategic-merge-patch+json",
            "application/apply-patch+yaml",
        ],
        _ => vec!["*/*"],
    }
}

fn operation(op: &Operation) -> Value {
    let mut params: Vec<Value> = Vec::new();
    if let Some(body) = op.body {
        params.push(json!({
            "name": "body",
            "in": "body",
            "required": op.action != "delete" && op.action != "deletecollection",
            "schema": schema_ref(body),
        }));
    }
    params.extend(op.params.iter().map(param));
    let mut responses = Map::new();
    if let Some(resp) = op.response {
        responses.insert(
            "200".into(),
            json!({ "description": "OK", "schema": schema_ref(resp) }),
        );
        if op.method == "post" || op.method == "put" {
            responses.insert(
                "201".into(),
                json!({ "description": "Created", "schema": schema_ref(resp) }),
            );
        }
        if op.method == "post" || op.method == "delete" {
            responses.insert(
                "202".into(),
                json!({ "description": "Accepted", "schema": schema_ref(resp) }),
            );
        }
    }
    responses.insert("401".into(), json!({ "description": "Unauthorized" }));
    let mut v = json!({
        "description": op.description,
        "consumes": consumes(op),
        "produces": PRODUCES,
        "schemes": ["https"],
        "tags": [op.tag],
        "operationId": op.operation_id,
        "responses": responses,
        "x-kubernetes-action": op.action,
        "x-kubernetes-group-version-kind": {
            "group": op.group, "kind": op.kind, "version": op.version,
        },
    });
    if !params.is_empty() {
        v["parameters"] = Value::Array(params);
    }
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

/// The whole document.
pub fn document() -> Value {
    let mut paths_out = Map::new();
    for p in paths::paths(None) {
        paths_out.insert(p.path.clone(), path_item(&p));
    }
    json!({
        "swagger": "2.0",
        "info": { "title": "Kubernetes", "version": super::VERSION },
        "paths": paths_out,
        "definitions": schema::definitions(),
        "security": [{ "BearerToken": [] }],
        "securityDefinitions": {
            "BearerToken": {
                "description": "Bearer Token authentication",
                "in": "header",
                "name": "authorization",
                "type": "apiKey",
            }
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_served_kind_has_paths_and_a_definition() {
        let doc = document();
        assert_eq!(doc["swagger"], "2.0");
        for r in crate::resources::RESOURCES {
            let def = schema::definition_of(r.group, r.version, r.kind).expect("definition");
            assert!(doc["definitions"].get(def).is_some(), "{def}");
        }
        let op = &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
        assert_eq!(op["x-kubernetes-action"], "patch");
        assert_eq!(op["operationId"], "patchAppsV1NamespacedDeployment");
        assert_eq!(
            op["x-kubernetes-group-version-kind"],
            json!({ "group": "apps", "kind": "Deployment", "version": "v1" })
        );
        assert_eq!(
            op["responses"]["200"]["schema"]["$ref"],
            "#/definitions/io.k8s.api.apps.v1.Deployment"
        );
        let list = &doc["paths"]["/api/v1/namespaces/{namespace}/pods"]["get"];
        assert_eq!(list["x-kubernetes-action"], "list");
        assert_eq!(
            list["responses"]["200"]["schema"]["$ref"],
            "#/definitions/io.k8s.api.core.v1.PodList"
        );
        // Every reference resolves.
        let text = doc.to_string();
        for r in text.split("\"#/definitions/").skip(1) {
            let name = r.split('"').next().unwrap_or_default();
            assert!(doc["definitions"].get(name).is_some(), "dangling {name}");
        }
    }
}
