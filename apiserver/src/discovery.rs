//! Discovery documents built from the resource table: `/api`, `/apis`,
//! per group and group-version lists, aggregated discovery (v2) and
//! `/version`.

use crate::resources::{self, ResourceDef};
use serde_json::{Value, json};

/// The content type of aggregated discovery responses.
pub const AGGREGATED_V2: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// Does the Accept header ask for aggregated discovery (v2)?
pub fn wants_aggregated(accept: Option<&str>) -> bool {
    accept.unwrap_or("").split(',').any(|entry| {
        let params: Vec<&str> = entry.split(';').skip(1).map(str::trim).collect();
        params.contains(&"as=APIGroupDiscoveryList")
            && params.contains(&"g=apidiscovery.k8s.io")
            && params.contains(&"v=v2")
    })
}

/// `/version`.
pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "32",
        "gitVersion": concat!("v1.32.0-rust+", env!("CARGO_PKG_VERSION")),
        "gitCommit": "",
        "gitTreeState": "clean",
        "buildDate": "1970-01-01T00:00:00Z",
        "goVersion": "rust",
        "compiler": "rustc",
        "platform": format!("{}/{}", std::env::consts::OS, arch()),
    })
}

fn arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// `/api`: the legacy core group's versions.
pub fn api_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    })
}

fn group_json(g: &resources::GroupInfo) -> Value {
    let versions: Vec<Value> = g
        .versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{}/{}", g.name, v), "version": v}))
        .collect();
    json!({
        "name": g.name,
        "versions": versions,
        "preferredVersion": versions.first().cloned().unwrap_or(Value::Null),
    })
}

/// `/apis`.
pub fn api_group_list() -> Value {
    let groups: Vec<Value> = resources::groups().iter().map(group_json).collect();
    json!({ "kind": "APIGroupList", "apiVersion": "v1", "groups": groups })
}

/// `/apis/<group>`.
pub fn api_group(name: &str) -> Option<Value> {
    let g = resources::groups().into_iter().find(|g| g.name == name)?;
    let mut v = group_json(&g);
    v["kind"] = json!("APIGroup");
    v["apiVersion"] = json!("v1");
    Some(v)
}

/// Verbs of a subresource, as upstream advertises them.
fn subresource_verbs(sub: &str) -> &'static [&'static str] {
    match sub {
        "status" | "scale" => &["get", "patch", "update"],
        "finalize" => &["update"],
        "approval" => &["get", "patch", "update"],
        "log" => &["get"],
        "exec" | "attach" | "portforward" => &["create", "get"],
        "proxy" => &["create", "delete", "get", "patch", "update"],
        _ => &["create"],
    }
}

/// The kind a subresource answers with.
fn subresource_kind(r: &ResourceDef, sub: &str) -> (&'static str, &'static str, &'static str) {
    match sub {
        "scale" => ("autoscaling", "v1", "Scale"),
        "binding" => ("", "v1", "Binding"),
        "eviction" => ("policy", "v1", "Eviction"),
        "token" => ("authentication.k8s.io", "v1", "TokenRequest"),
        "exec" => ("", "v1", "PodExecOptions"),
        "attach" => ("", "v1", "PodAttachOptions"),
        "portforward" => ("", "v1", "PodPortForwardOptions"),
        "proxy" => match r.plural {
            "pods" => ("", "v1", "PodProxyOptions"),
            "services" => ("", "v1", "ServiceProxyOptions"),
            _ => ("", "v1", "NodeProxyOptions"),
        },
        _ => (r.group, r.version, r.kind),
    }
}

/// `/api/v1` or `/apis/<group>/<version>`.
pub fn api_resource_list(group: &str, version: &str) -> Option<Value> {
    if !resources::group_version_exists(group, version) {
        return None;
    }
    let mut list = Vec::new();
    for r in resources::in_group_version(group, version) {
        let mut e = json!({
            "name": r.plural,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": r.verbs,
        });
        if !r.short_names.is_empty() {
            e["shortNames"] = json!(r.short_names);
        }
        if !r.categories.is_empty() {
            e["categories"] = json!(r.categories);
        }
        list.push(e);
        for sub in r.subresources {
            let (g, v, k) = subresource_kind(r, sub);
            let mut e = json!({
                "name": format!("{}/{}", r.plural, sub),
                "singularName": "",
                "namespaced": r.namespaced,
                "kind": k,
                "verbs": subresource_verbs(sub),
            });
            if g != r.group || v != r.version {
                e["group"] = json!(g);
                e["version"] = json!(v);
            }
            list.push(e);
        }
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": gv,
        "resources": list,
    }))
}

fn discovery_resource(r: &ResourceDef) -> Value {
    let subs: Vec<Value> = r
        .subresources
        .iter()
        .map(|sub| {
            let (g, v, k) = subresource_kind(r, sub);
            json!({
                "subresource": sub,
                "responseKind": {"group": g, "version": v, "kind": k},
                "verbs": subresource_verbs(sub),
            })
        })
        .collect();
    let mut e = json!({
        "resource": r.plural,
        "responseKind": {"group": r.group, "version": r.version, "kind": r.kind},
        "scope": if r.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": r.singular,
        "verbs": r.verbs,
    });
    if !r.short_names.is_empty() {
        e["shortNames"] = json!(r.short_names);
    }
    if !r.categories.is_empty() {
        e["categories"] = json!(r.categories);
    }
    if !subs.is_empty() {
        e["subresources"] = json!(subs);
    }
    e
}

fn discovery_group(name: &str, versions: &[&str]) -> Value {
    let versions: Vec<Value> = versions
        .iter()
        .map(|v| {
            let res: Vec<Value> = resources::in_group_version(name, v)
                .map(discovery_resource)
                .collect();
            json!({"version": v, "resources": res, "freshness": "Current"})
        })
        .collect();
    json!({ "metadata": { "name": name, "creationTimestamp": null }, "versions": versions })
}

/// Aggregated discovery for `/api` (core only) or `/apis` (named groups).
pub fn aggregated(core: bool) -> Value {
    let items: Vec<Value> = if core {
        vec![discovery_group("", &["v1"])]
    } else {
        resources::groups()
            .iter()
            .map(|g| discovery_group(g.name, &g.versions))
            .collect()
    };
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    })
}

/// Every resource's singular/plural/short name, for error messages.
pub fn known_plural(group: &str, plural: &str) -> bool {
    resources::all().any(|r| r.group == group && r.plural == plural)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_list_has_pods_and_subresources() {
        let l = api_resource_list("", "v1").expect("core served");
        let names: Vec<&str> = l["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["name"].as_str())
            .collect();
        assert!(names.contains(&"pods"));
        assert!(names.contains(&"pods/status"));
        assert!(names.contains(&"namespaces/finalize"));
        assert_eq!(l["groupVersion"], "v1");
        assert!(api_resource_list("apps", "v9").is_none());
    }

    #[test]
    fn aggregated_lists_all_groups() {
        let a = aggregated(false);
        let items = a["items"].as_array().expect("items");
        assert!(items.iter().any(|g| g["metadata"]["name"] == "apps"));
        let core = aggregated(true);
        assert_eq!(core["items"][0]["versions"][0]["version"], "v1");
    }

    #[test]
    fn accept_detection() {
        let kubectl = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        assert!(wants_aggregated(Some(kubectl)));
        assert!(!wants_aggregated(Some("application/json")));
        assert!(!wants_aggregated(None));
    }
}
