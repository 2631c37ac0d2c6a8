//! Validation of CustomResourceDefinition objects, as upstream's
//! `ValidateCustomResourceDefinition`: name = `<plural>.<group>`, names,
//! scope, versions (exactly one storage version, unique DNS-1035 names),
//! structural schemas, subresources and printer columns.

use super::jsonpath;
use crate::validation::names::is_dns1035_label;
use crate::validation::{self, ErrorList, FieldError};
use serde_json::{Value, json};

const KIND: &str = "CustomResourceDefinition";

/// Create-time validation of a (defaulted) CRD.
pub fn validate_crd(crd: &Value) -> ErrorList {
    let mut errs = validation::validate_create(super::GROUP, KIND, crd);
    let empty = json!({});
    let spec = crd.get("spec").unwrap_or(&empty);
    let str_at = |v: &Value, p: &str| {
        v.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let group = str_at(spec, "/group");
    let plural = str_at(spec, "/names/plural");
    let name = str_at(crd, "/metadata/name");
    if name != format!("{plural}.{group}") {
        errs.push(FieldError::invalid(
            "metadata.name",
            json!(name),
            "must be spec.names.plural+\".\"+spec.group",
        ));
    }
    if group.is_empty() {
        errs.push(FieldError::required("spec.group", ""));
    } else {
        let bad = validation::names::is_dns1123_subdomain(&group);
        if !bad.is_empty() {
            errs.push(FieldError::invalid(
                "spec.group",
                json!(group),
                bad.join(","),
            ));
        } else if !group.contains('.') {
            errs.push(FieldError::invalid(
                "spec.group",
                json!(group),
                "should be a domain with at least one dot",
            ));
        }
    }
    match spec.get("scope").and_then(Value::as_str).unwrap_or("") {
        "" => errs.push(FieldError::required("spec.scope", "")),
        "Cluster" | "Namespaced" => {}
        other => errs.push(FieldError::not_supported(
            "spec.scope",
            json!(other),
            &["Cluster", "Namespaced"],
        )),
    }
    validate_names(spec.get("names").unwrap_or(&empty), &mut errs);
    validate_versions(spec, &mut errs);
    if let Some(s) = spec.pointer("/conversion/strategy").and_then(Value::as_str)
        && !matches!(s, "None" | "Webhook")
    {
        errs.push(FieldError::not_supported(
            "spec.conversion.strategy",
            json!(s),
            &["None", "Webhook"],
        ));
    }
    errs
}

/// Update validation: everything a create checks plus the immutable
/// group and scope, and metadata update rules.
pub fn validate_crd_update(new: &Value, old: &Value) -> ErrorList {
    let mut errs: ErrorList = validation::validate_update(super::GROUP, KIND, new, old)
        .into_iter()
        .filter(|e| e.field.starts_with("metadata."))
        .collect();
    errs.extend(
        validate_crd(new)
            .into_iter()
            .filter(|e| !e.field.starts_with("metadata.") || e.field == "metadata.name"),
    );
    for f in ["group", "scope"] {
        let (n, o) = (&new["spec"][f], &old["spec"][f]);
        if n != o {
            errs.push(FieldError::invalid(
                format!("spec.{f}"),
                n.clone(),
                "field is immutable",
            ));
        }
    }
    errs
}

fn validate_names(names: &Value, errs: &mut ErrorList) {
    let s = |k: &str| names.get(k).and_then(Value::as_str).unwrap_or("");
    for (k, lower) in [
        ("plural", false),
        ("singular", false),
        ("kind", true),
        ("listKind", true),
    ] {
        let v = s(k);
        let path = format!("spec.names.{k}");
        if v.is_empty() {
            errs.push(FieldError::required(path, ""));
            continue;
        }
        let bad = if lower {
            is_dns1035_label(&v.to_lowercase())
        } else {
            is_dns1035_label(v)
        };
        if !bad.is_empty() {
            let detail = if lower {
                format!(
                    "may have mixed case, but should otherwise match: {}",
                    bad.join(",")
                )
            } else {
                bad.join(",")
            };
            errs.push(FieldError::invalid(path, json!(v), detail));
        }
    }
    if !s("kind").is_empty() && s("kind") == s("listKind") {
        errs.push(FieldError::invalid(
            "spec.names.listKind",
            json!(s("listKind")),
            "kind and listKind may not be the same",
        ));
    }
    for list in ["shortNames", "categories"] {
        for (i, v) in names
            .get(list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let v = v.as_str().unwrap_or("");
            let bad = is_dns1035_label(v);
            if !bad.is_empty() {
                errs.push(FieldError::invalid(
                    format!("spec.names.{list}[{i}]"),
                    json!(v),
                    bad.join(","),
                ));
            }
        }
    }
}

fn validate_versions(spec: &Value, errs: &mut ErrorList) {
    let versions: &[Value] = spec
        .get("versions")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    if versions.is_empty() {
        errs.push(FieldError::required(
            "spec.versions",
            "must have exactly one version marked as storage version",
        ));
        return;
    }
    let mut seen: Vec<&str> = Vec::new();
    let mut unique = true;
    let mut storage = 0;
    let literal = "[]apiextensions.CustomResourceDefinitionVersion{...}";
    for (i, v) in versions.iter().enumerate() {
        let path = format!("spec.versions[{i}]");
        let name = v.get("name").and_then(Value::as_str).unwrap_or("");
        if seen.contains(&name) {
            unique = false;
        }
        seen.push(name);
        if v.get("storage").and_then(Value::as_bool) == Some(true) {
            storage += 1;
        }
        let bad = is_dns1035_label(name);
        if !bad.is_empty() {
            errs.push(FieldError::invalid(
                format!("{path}.name"),
                json!(name),
                bad.join(","),
            ));
        }
        match v.pointer("/schema/openAPIV3Schema") {
            None => errs.push(FieldError::required(
                format!("{path}.schema.openAPIV3Schema"),
                "schemas are required",
            )),
            Some(s) => {
                validate_structural(s, &format!("{path}.schema.openAPIV3Schema"), true, errs)
            }
        }
        validate_subresources(v, &path, errs);
        validate_columns(v, &path, errs);
    }
    if !unique {
        errs.push(FieldError::invalid_literal(
            "spec.versions",
            literal,
            "must contain unique version names",
        ));
    }
    if storage != 1 {
        errs.push(FieldError::invalid_literal(
            "spec.versions",
            literal,
            "must have exactly one version marked as storage version",
        ));
    }
}

/// The structural schema rules: every specified node has a type unless
/// it preserves unknown fields or is int-or-string; the root is an object;
/// properties and additionalProperties exclude each other.
fn validate_structural(s: &Value, path: &str, root: bool, errs: &mut ErrorList) {
    let flag = |k: &str| s.get(k).and_then(Value::as_bool).unwrap_or(false);
    let ty = s.get("type").and_then(Value::as_str).unwrap_or("");
    let free = flag("x-kubernetes-preserve-unknown-fields") || flag("x-kubernetes-int-or-string");
    if root {
        if ty.is_empty() && !free {
            errs.push(FieldError::required(
                format!("{path}.type"),
                "must not be empty at the root",
            ));
        } else if !ty.is_empty() && ty != "object" {
            errs.push(FieldError::invalid(
                format!("{path}.type"),
                json!(ty),
                "must be object at the root",
            ));
        }
    }
    if !ty.is_empty()
        && !matches!(
            ty,
            "object" | "array" | "string" | "integer" | "number" | "boolean"
        )
    {
        errs.push(FieldError::not_supported(
            format!("{path}.type"),
            json!(ty),
            &["array", "boolean", "integer", "number", "object", "string"],
        ));
    }
    if s.get("properties").is_some() && s.get("additionalProperties").is_some_and(Value::is_object)
    {
        errs.push(FieldError::forbidden(
            format!("{path}.additionalProperties"),
            "additionalProperties and properties are mutual exclusive",
        ));
    }
    if let Some(props) = s.get("properties").and_then(Value::as_object) {
        for (k, child) in props {
            let p = format!("{path}.properties[{k}]");
            check_typed(
                child,
                &p,
                "must not be empty for specified object fields",
                errs,
            );
            validate_structural(child, &p, false, errs);
        }
    }
    if let Some(items) = s.get("items") {
        let p = format!("{path}.items");
        check_typed(
            items,
            &p,
            "must not be empty for specified array items",
            errs,
        );
        validate_structural(items, &p, false, errs);
    } else if ty == "array" {
        errs.push(FieldError::required(
            format!("{path}.items"),
            "must be specified",
        ));
    }
    if let Some(ap) = s.get("additionalProperties").filter(|a| a.is_object()) {
        let p = format!("{path}.additionalProperties");
        check_typed(
            ap,
            &p,
            "must not be empty for specified object fields",
            errs,
        );
        validate_structural(ap, &p, false, errs);
    }
}

fn check_typed(s: &Value, path: &str, detail: &str, errs: &mut ErrorList) {
    let flag = |k: &str| s.get(k).and_then(Value::as_bool).unwrap_or(false);
    let typed = s
        .get("type")
        .and_then(Value::as_str)
        .is_some_and(|t| !t.is_empty());
    if !typed
        && !flag("x-kubernetes-preserve-unknown-fields")
        && !flag("x-kubernetes-int-or-string")
    {
        errs.push(FieldError::required(format!("{path}.type"), detail));
    }
}

fn validate_subresources(v: &Value, path: &str, errs: &mut ErrorList) {
    let Some(scale) = v.pointer("/subresources/scale") else {
        return;
    };
    let base = format!("{path}.subresources.scale");
    for (k, under) in [
        ("specReplicasPath", ".spec."),
        ("statusReplicasPath", ".status."),
    ] {
        let p = scale.get(k).and_then(Value::as_str).unwrap_or("");
        if p.is_empty() {
            errs.push(FieldError::required(format!("{base}.{k}"), ""));
        } else if !p.starts_with(under) || !jsonpath::is_valid(p) {
            errs.push(FieldError::invalid(
                format!("{base}.{k}"),
                json!(p),
                format!(
                    "should be a json path under {}",
                    under.trim_end_matches('.')
                ),
            ));
        }
    }
    if let Some(p) = scale.get("labelSelectorPath").and_then(Value::as_str)
        && (!(p.starts_with(".spec.") || p.starts_with(".status.")) || !jsonpath::is_valid(p))
    {
        errs.push(FieldError::invalid(
            format!("{base}.labelSelectorPath"),
            json!(p),
            "should be a json path under either .spec or .status",
        ));
    }
}

fn validate_columns(v: &Value, path: &str, errs: &mut ErrorList) {
    let cols = v.get("additionalPrinterColumns").and_then(Value::as_array);
    for (i, c) in cols.into_iter().flatten().enumerate() {
        let p = format!("{path}.additionalPrinterColumns[{i}]");
        let s = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("");
        if s("name").is_empty() {
            errs.push(FieldError::required(format!("{p}.name"), ""));
        }
        match s("type") {
            "" => errs.push(FieldError::required(format!("{p}.type"), "")),
            "integer" | "number" | "string" | "boolean" | "date" => {}
            other => errs.push(FieldError::not_supported(
                format!("{p}.type"),
                json!(other),
                &["boolean", "date", "integer", "number", "string"],
            )),
        }
        if s("jsonPath").is_empty() {
            errs.push(FieldError::required(format!("{p}.jsonPath"), ""));
        } else if !jsonpath::is_valid(s("jsonPath")) {
            errs.push(FieldError::invalid(
                format!("{p}.jsonPath"),
                json!(s("jsonPath")),
                "must be a simple json path starting with .",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crd() -> Value {
        json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com"},
            "spec": {"group": "example.com", "scope": "Namespaced",
                "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
                "versions": [{"name": "v1", "served": true, "storage": true,
                    "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {"type": "object", "properties": {"size": {"type": "integer"}}}}}}}]}
        })
    }

    #[test]
    fn crd_rules_as_upstream() {
        type Edit = fn(&mut Value);
        let cases: Vec<(Edit, Vec<&str>)> = vec![
            (|_| {}, vec![]),
            (
                |c| c["metadata"]["name"] = json!("w.example.com"),
                vec![
                    r#"metadata.name: Invalid value: "w.example.com": must be spec.names.plural+"."+spec.group"#,
                ],
            ),
            (
                |c| {
                    c["spec"]["group"] = json!("example");
                    c["metadata"]["name"] = json!("widgets.example");
                },
                vec![
                    r#"spec.group: Invalid value: "example": should be a domain with at least one dot"#,
                ],
            ),
            (
                |c| c["spec"]["scope"] = json!("Global"),
                vec![
                    r#"spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced""#,
                ],
            ),
            (
                |c| c["spec"]["names"]["listKind"] = json!("Widget"),
                vec![
                    r#"spec.names.listKind: Invalid value: "Widget": kind and listKind may not be the same"#,
                ],
            ),
            (
                |c| c["spec"]["versions"][0]["storage"] = json!(false),
                vec![
                    "spec.versions: Invalid value: []apiextensions.CustomResourceDefinitionVersion{...}: must have exactly one version marked as storage version",
                ],
            ),
            (
                |c| c["spec"]["versions"][0]["schema"] = json!({}),
                vec![
                    "spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required",
                ],
            ),
            (
                |c| {
                    c["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
                        ["size"] = json!({})
                },
                vec![
                    "spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[size].type: Required value: must not be empty for specified object fields",
                ],
            ),
            (
                |c| c["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["type"] = json!("string"),
                vec![
                    r#"spec.versions[0].schema.openAPIV3Schema.type: Invalid value: "string": must be object at the root"#,
                ],
            ),
            (
                |c| c["spec"]["versions"][0]["subresources"] = json!({"scale": {"specReplicasPath": ".status.x", "statusReplicasPath": ".status.r"}}),
                vec![
                    r#"spec.versions[0].subresources.scale.specReplicasPath: Invalid value: ".status.x": should be a json path under .spec"#,
                ],
            ),
            (
                |c| {
                    c["spec"]["versions"][0]["additionalPrinterColumns"] =
                        json!([{"name": "S", "type": "float", "jsonPath": ".spec.size"}])
                },
                vec![
                    r#"spec.versions[0].additionalPrinterColumns[0].type: Unsupported value: "float": supported values: "boolean", "date", "integer", "number", "string""#,
                ],
            ),
        ];
        for (i, (edit, want)) in cases.into_iter().enumerate() {
            let mut c = crd();
            edit(&mut c);
            let got: Vec<String> = validate_crd(&c).iter().map(|e| e.to_string()).collect();
            assert_eq!(got, want, "case {i}");
        }
    }

    #[test]
    fn group_and_scope_are_immutable() {
        let mut old = crd();
        old["metadata"]["resourceVersion"] = json!("5");
        let mut new = old.clone();
        new["spec"]["scope"] = json!("Cluster");
        let got: Vec<String> = validate_crd_update(&new, &old)
            .iter()
            .map(|e| e.to_string())
            .collect();
        assert_eq!(
            got,
            vec![r#"spec.scope: Invalid value: "Cluster": field is immutable"#]
        );
    }
}
