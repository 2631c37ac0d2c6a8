//! The REST operations of every served resource, in one neutral model that
//! the v2 (Swagger) and v3 renderers both read: each path with its
//! operations, parameters, body and answer definitions.

use crate::resources::{RESOURCES, ResourceDef};
use crate::schema;

/// Where a parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum In {
    Path,
    Query,
}

/// A non-body parameter.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    pub name: &'static str,
    pub location: In,
    pub ty: &'static str,
    pub description: &'static str,
}

const fn query(name: &'static str, ty: &'static str, description: &'static str) -> Param {
    Param {
        name,
        location: In::Query,
        ty,
        description,
    }
}

pub const NAME: Param = Param {
    name: "name",
    location: In::Path,
    ty: "string",
    description: "name of the object",
};
pub const NAMESPACE: Param = Param {
    name: "namespace",
    location: In::Path,
    ty: "string",
    description: "object name and auth scope, such as for teams and projects",
};
pub const PRETTY: Param = query(
    "pretty",
    "string",
    "If 'true', then the output is pretty printed.",
);

const DRY_RUN: Param = query(
    "dryRun",
    "string",
    "When present, the changes are checked but not persisted. The only valid value is All.",
);
const FIELD_MANAGER: Param = query(
    "fieldManager",
    "string",
    "A name for the actor making these changes, recorded in managedFields.",
);
const FIELD_VALIDATION: Param = query(
    "fieldValidation",
    "string",
    "How the server treats unknown and duplicate fields in the body: Ignore, Warn (the default) or Strict.",
);
const FORCE: Param = query(
    "force",
    "boolean",
    "Force an apply request to take fields owned by other managers. Only for apply patches.",
);
const LIST: &[Param] = &[
    query(
        "allowWatchBookmarks",
        "boolean",
        "Asks for BOOKMARK events in a watch.",
    ),
    query(
        "continue",
        "string",
        "The continue token of the previous page of a paged list.",
    ),
    query(
        "fieldSelector",
        "string",
        "Restricts the list to objects whose fields match.",
    ),
    query(
        "labelSelector",
        "string",
        "Restricts the list to objects whose labels match.",
    ),
    query(
        "limit",
        "integer",
        "The largest number of objects one page of the list returns.",
    ),
    query(
        "resourceVersion",
        "string",
        "The resource version the list or watch starts from.",
    ),
    query(
        "resourceVersionMatch",
        "string",
        "How resourceVersion applies to a list: Exact or NotOlderThan.",
    ),
    query(
        "timeoutSeconds",
        "integer",
        "How long a list or watch call may last.",
    ),
    query(
        "watch",
        "boolean",
        "Watch for changes and stream them as add, update and remove events.",
    ),
];
const DELETE: &[Param] = &[
    DRY_RUN,
    query(
        "gracePeriodSeconds",
        "integer",
        "Seconds before the object is deleted; zero deletes at once.",
    ),
    query(
        "propagationPolicy",
        "string",
        "Whether and how dependents are garbage collected: Orphan, Background or Foreground.",
    ),
];

/// One operation of a path.
#[derive(Debug, Clone)]
pub struct Operation {
    /// `get`, `put`, `post`, `patch`, `delete`.
    pub method: &'static str,
    /// `x-kubernetes-action`: get, list, post, put, patch, delete,
    /// deletecollection, connect.
    pub action: &'static str,
    pub operation_id: String,
    pub description: String,
    pub params: Vec<Param>,
    /// The definition of the request body, if there is one.
    pub body: Option<&'static str>,
    /// The definition of the answer.
    pub response: Option<&'static str>,
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub tag: String,
}

/// One path with its operations.
#[derive(Debug, Clone)]
pub struct PathItem {
    pub path: String,
    pub params: Vec<Param>,
    pub operations: Vec<Operation>,
}

pub fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// `CoreV1`, `AppsV1`, `RbacAuthorizationV1`: the group-version part of
/// operation ids.
fn id_prefix(group: &str, version: &str) -> String {
    let group = if group.is_empty() {
        "core"
    } else {
        group.trim_end_matches(".k8s.io")
    };
    let mut out = String::new();
    for part in group.split('.').chain(std::iter::once(version)) {
        let mut chars = part.chars();
        if let Some(c) = chars.next() {
            out.extend(c.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    out
}

/// `core_v1`, `apps_v1`, `rbacAuthorization_v1`: the tag of a group-version.
fn tag(group: &str, version: &str) -> String {
    let prefix = id_prefix(group, "");
    let mut chars = prefix.chars();
    let first: String = chars
        .next()
        .map(|c| c.to_lowercase().collect())
        .unwrap_or_default();
    format!("{first}{}_{version}", chars.as_str())
}

struct Builder<'a> {
    r: &'a ResourceDef,
    tag: String,
}

impl Builder<'_> {
    #[allow(clippy::too_many_arguments)]
    fn op(
        &self,
        method: &'static str,
        action: &'static str,
        id: &str,
        description: String,
        params: Vec<Param>,
        body: Option<&'static str>,
        response: Option<&'static str>,
    ) -> Operation {
        Operation {
            method,
            action,
            operation_id: id.to_string(),
            description,
            params,
            body,
            response,
            group: self.r.group,
            version: self.r.version,
            kind: self.r.kind,
            tag: self.tag.clone(),
        }
    }
}

fn def(group: &str, version: &str, kind: &str) -> Option<&'static str> {
    schema::definition_of(group, version, kind)
}

const STATUS_DEF: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Status";
const DELETE_OPTIONS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions";
const PATCH_DEF: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch";

/// Every path of one resource.
fn resource_paths(r: &ResourceDef) -> Vec<PathItem> {
    let b = Builder {
        r,
        tag: tag(r.group, r.version),
    };
    let gv = id_prefix(r.group, r.version);
    let (ns_word, ns_params) = if r.namespaced {
        ("Namespaced", vec![NAMESPACE, PRETTY])
    } else {
        ("", vec![PRETTY])
    };
    let base = format!("/{}", gv_path(r.group, r.version));
    let collection = if r.namespaced {
        format!("{base}/namespaces/{{namespace}}/{}", r.plural)
    } else {
        format!("{base}/{}", r.plural)
    };
    let kind = r.kind;
    let obj = def(r.group, r.version, kind);
    let list = def(r.group, r.version, &format!("{kind}List"));
    let write = vec![DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION];
    let patch = vec![DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION, FORCE];
    let mut out = Vec::new();

    let mut coll = Vec::new();
    if r.supports("list") {
        coll.push(b.op(
            "get",
            "list",
            &format!("list{gv}{ns_word}{kind}"),
            format!("list or watch objects of kind {kind}"),
            LIST.to_vec(),
            None,
            list,
        ));
    }
    if r.supports("create") {
        coll.push(b.op(
            "post",
            "post",
            &format!("create{gv}{ns_word}{kind}"),
            format!("create a {kind}"),
            write.clone(),
            obj,
            obj,
        ));
    }
    if r.supports("deletecollection") {
        let mut params = DELETE.to_vec();
        params.extend_from_slice(LIST);
        coll.push(b.op(
            "delete",
            "deletecollection",
            &format!("deleteCollection{gv}{ns_word}{kind}"),
            format!("delete collection of {kind}"),
            params,
            Some(DELETE_OPTIONS),
            Some(STATUS_DEF),
        ));
    }
    out.push(PathItem {
        path: collection.clone(),
        params: ns_params.clone(),
        operations: coll,
    });

    if r.namespaced && r.supports("list") {
        out.push(PathItem {
            path: format!("{base}/{}", r.plural),
            params: vec![PRETTY],
            operations: vec![b.op(
                "get",
                "list",
                &format!("list{gv}{kind}ForAllNamespaces"),
                format!("list or watch objects of kind {kind}"),
                LIST.to_vec(),
                None,
                list,
            )],
        });
    }

    let mut item_params = vec![NAME];
    item_params.extend(ns_params.iter().copied());
    if r.supports("get") {
        let mut ops = vec![b.op(
            "get",
            "get",
            &format!("read{gv}{ns_word}{kind}"),
            format!("read the specified {kind}"),
            Vec::new(),
            None,
            obj,
        )];
        if r.supports("update") {
            ops.push(b.op(
                "put",
                "put",
                &format!("replace{gv}{ns_word}{kind}"),
                format!("replace the specified {kind}"),
                write.clone(),
                obj,
                obj,
            ));
        }
        if r.supports("patch") {
            ops.push(b.op(
                "patch",
                "patch",
                &format!("patch{gv}{ns_word}{kind}"),
                format!("partially update the specified {kind}"),
                patch.clone(),
                Some(PATCH_DEF),
                obj,
            ));
        }
        if r.supports("delete") {
            ops.push(b.op(
                "delete",
                "delete",
                &format!("delete{gv}{ns_word}{kind}"),
                format!("delete a {kind}"),
                DELETE.to_vec(),
                Some(DELETE_OPTIONS),
                Some(STATUS_DEF),
            ));
        }
        out.push(PathItem {
            path: format!("{collection}/{{name}}"),
            params: item_params.clone(),
            operations: ops,
        });
    }

    for sub in r.subresources {
        let item = format!("{collection}/{{name}}/{sub}");
        let cap = capitalise(sub);
        let ops = match *sub {
            "status" | "scale" | "approval" => {
                let target = if *sub == "scale" {
                    def("autoscaling", "v1", "Scale")
                } else {
                    obj
                };
                vec![
                    b.op(
                        "get",
                        "get",
                        &format!("read{gv}{ns_word}{kind}{cap}"),
                        format!("read {sub} of the specified {kind}"),
                        Vec::new(),
                        None,
                        target,
                    ),
                    b.op(
                        "put",
                        "put",
                        &format!("replace{gv}{ns_word}{kind}{cap}"),
                        format!("replace {sub} of the specified {kind}"),
                        write.clone(),
                        target,
                        target,
                    ),
                    b.op(
                        "patch",
                        "patch",
                        &format!("patch{gv}{ns_word}{kind}{cap}"),
                        format!("partially update {sub} of the specified {kind}"),
                        patch.clone(),
                        Some(PATCH_DEF),
                        target,
                    ),
                ]
            }
            "finalize" => vec![b.op(
                "put",
                "put",
                &format!("replace{gv}{ns_word}{kind}{cap}"),
                format!("replace finalize of the specified {kind}"),
                write.clone(),
                obj,
                obj,
            )],
            "binding" | "eviction" | "token" => {
                let body = match *sub {
                    "binding" => def("", "v1", "Binding"),
                    "eviction" => def("policy", "v1", "Eviction"),
                    _ => def("authentication.k8s.io", "v1", "TokenRequest"),
                };
                let id_kind = match *sub {
                    "binding" => "Binding",
                    "eviction" => "Eviction",
                    _ => "Token",
                };
                vec![b.op(
                    "post",
                    "post",
                    &format!("create{gv}{ns_word}{kind}{id_kind}"),
                    format!("create {sub} of a {kind}"),
                    write.clone(),
                    body,
                    body,
                )]
            }
            _ => Vec::new(),
        };
        if !ops.is_empty() {
            out.push(PathItem {
                path: item,
                params: item_params.clone(),
                operations: ops,
            });
        }
    }
    out
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Every path of the served resources of one group-version (all of them
/// when `gv` is `None`), in table order.
pub fn paths(gv: Option<(&str, &str)>) -> Vec<PathItem> {
    RESOURCES
        .iter()
        .filter(|r| gv.is_none_or(|(g, v)| r.group == g && r.version == v))
        .flat_map(resource_paths)
        .filter(|p| !p.operations.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_ids_follow_upstream_names() {
        assert_eq!(id_prefix("", "v1"), "CoreV1");
        assert_eq!(
            id_prefix("rbac.authorization.k8s.io", "v1"),
            "RbacAuthorizationV1"
        );
        assert_eq!(
            tag("rbac.authorization.k8s.io", "v1"),
            "rbacAuthorization_v1"
        );
        assert_eq!(tag("", "v1"), "core_v1");
        let all = paths(Some(("", "v1")));
        let pod = all
            .iter()
            .find(|p| p.path == "/api/v1/namespaces/{namespace}/pods/{name}")
            .expect("pod item path");
        let ids: Vec<&str> = pod
            .operations
            .iter()
            .map(|o| o.operation_id.as_str())
            .collect();
        assert_eq!(
            ids,
            [
                "readCoreV1NamespacedPod",
                "replaceCoreV1NamespacedPod",
                "patchCoreV1NamespacedPod",
                "deleteCoreV1NamespacedPod"
            ]
        );
        assert!(all.iter().any(|p| p.path == "/api/v1/pods"
            && p.operations[0].operation_id == "listCoreV1PodForAllNamespaces"));
        assert!(
            all.iter()
                .any(|p| p.path == "/api/v1/namespaces/{namespace}/pods/{name}/eviction")
        );
    }
}
