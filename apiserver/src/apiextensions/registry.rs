//! The served custom resources: one entry per established CRD, read by
//! `resources::lookup` and discovery after the static table.
//!
//! `ResourceDef` holds `&'static str`s, so each distinct definition is
//! leaked once and interned: re-installing an unchanged CRD (every resync)
//! reuses it, and the number of leaked definitions is capped.

use crate::resources::{CRUD, ResourceDef, Storage};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};

/// At most this many distinct definitions are ever leaked (each CRD edit
/// that changes names or subresources costs one per served version).
const MAX_INTERNED: usize = 4096;

/// One version of a CRD as the apiserver serves it.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionSpec {
    pub name: String,
    pub served: bool,
    pub storage: bool,
    /// `schema.openAPIV3Schema`.
    pub schema: Option<Value>,
    pub columns: Vec<PrinterColumn>,
    pub status: bool,
    pub scale: Option<ScalePaths>,
}

/// `subresources.scale`: where replicas live in the custom resource.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalePaths {
    pub spec_replicas: String,
    pub status_replicas: String,
    pub label_selector: Option<String>,
}

/// One `additionalPrinterColumns` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct PrinterColumn {
    pub name: String,
    pub type_: String,
    pub format: String,
    pub description: String,
    pub priority: i64,
    pub json_path: String,
}

/// What an established CRD defines.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomResource {
    /// `<plural>.<group>`, the CRD's name.
    pub name: String,
    pub group: String,
    pub plural: String,
    pub singular: String,
    pub kind: String,
    pub list_kind: String,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    pub namespaced: bool,
    pub versions: Vec<VersionSpec>,
    /// Set while the CRD is being deleted: objects may go, not come.
    pub terminating: bool,
}

impl CustomResource {
    pub fn version(&self, name: &str) -> Option<&VersionSpec> {
        self.versions.iter().find(|v| v.name == name)
    }

    /// The version objects are stored at.
    pub fn storage_version(&self) -> &str {
        self.versions
            .iter()
            .find(|v| v.storage)
            .map(|v| v.name.as_str())
            .unwrap_or("")
    }

    /// Reads the CRD object (`spec` already validated).
    pub fn from_crd(crd: &Value) -> Option<CustomResource> {
        let spec = crd.get("spec")?;
        let names = spec.get("names")?;
        let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let list = |v: &Value, k: &str| -> Vec<String> {
            v.get(k)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        };
        let kind = s(names, "kind");
        let mut versions: Vec<VersionSpec> = spec
            .get("versions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|v| VersionSpec {
                name: s(v, "name"),
                served: v.get("served").and_then(Value::as_bool).unwrap_or(false),
                storage: v.get("storage").and_then(Value::as_bool).unwrap_or(false),
                schema: v.pointer("/schema/openAPIV3Schema").cloned(),
                columns: v
                    .get("additionalPrinterColumns")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(|c| PrinterColumn {
                        name: s(c, "name"),
                        type_: s(c, "type"),
                        format: s(c, "format"),
                        description: s(c, "description"),
                        priority: c.get("priority").and_then(Value::as_i64).unwrap_or(0),
                        json_path: s(c, "jsonPath"),
                    })
                    .collect(),
                status: v.pointer("/subresources/status").is_some(),
                scale: v.pointer("/subresources/scale").map(|sc| ScalePaths {
                    spec_replicas: s(sc, "specReplicasPath"),
                    status_replicas: s(sc, "statusReplicasPath"),
                    label_selector: sc
                        .get("labelSelectorPath")
                        .and_then(Value::as_str)
                        .map(String::from),
                }),
            })
            .collect();
        versions.sort_by(|a, b| version_priority(&a.name, &b.name));
        Some(CustomResource {
            name: crd
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            group: s(spec, "group"),
            plural: s(names, "plural"),
            singular: match s(names, "singular") {
                x if x.is_empty() => kind.to_lowercase(),
                x => x,
            },
            list_kind: match s(names, "listKind") {
                x if x.is_empty() => format!("{kind}List"),
                x => x,
            },
            kind,
            short_names: list(names, "shortNames"),
            categories: list(names, "categories"),
            namespaced: spec.get("scope").and_then(Value::as_str) != Some("Cluster"),
            versions,
            terminating: crd.pointer("/metadata/deletionTimestamp").is_some(),
        })
    }
}

/// Upstream's version order: GA before beta before alpha, higher numbers
/// first; anything else after, alphabetically.
pub fn version_priority(a: &str, b: &str) -> std::cmp::Ordering {
    fn key(v: &str) -> (u8, i64, i64, String) {
        let parse = || -> Option<(u8, i64, i64)> {
            let rest = v.strip_prefix('v')?;
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            let major: i64 = digits.parse().ok()?;
            let tail = &rest[digits.len()..];
            if tail.is_empty() {
                return Some((0, -major, 0));
            }
            for (stage, rank) in [("beta", 1u8), ("alpha", 2u8)] {
                if let Some(n) = tail.strip_prefix(stage) {
                    let minor: i64 = n.parse().ok()?;
                    return Some((rank, -major, -minor));
                }
            }
            None
        };
        match parse() {
            Some((r, m, n)) => (r, m, n, String::new()),
            None => (3, 0, 0, v.to_string()),
        }
    }
    key(a).cmp(&key(b))
}

struct Installed {
    resource: Arc<CustomResource>,
    defs: Vec<&'static ResourceDef>,
}

static SERVED: RwLock<BTreeMap<String, Installed>> = RwLock::new(BTreeMap::new());
static INTERNED: Mutex<Option<HashMap<String, &'static ResourceDef>>> = Mutex::new(None);

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_string().into_boxed_str())
}

fn leak_list(v: &[String]) -> &'static [&'static str] {
    let items: Vec<&'static str> = v.iter().map(|s| leak(s)).collect();
    Box::leak(items.into_boxed_slice())
}

/// The (interned) definition of one served version.
fn resource_def(cr: &CustomResource, v: &VersionSpec) -> Option<&'static ResourceDef> {
    let mut subs: Vec<String> = Vec::new();
    if v.status {
        subs.push("status".into());
    }
    if v.scale.is_some() {
        subs.push("scale".into());
    }
    let key = format!(
        "{}|{}|{}|{}|{}|{}|{:?}|{:?}|{:?}",
        cr.group,
        v.name,
        cr.plural,
        cr.singular,
        cr.kind,
        cr.namespaced,
        cr.short_names,
        cr.categories,
        subs
    );
    let mut guard = INTERNED.lock().ok()?;
    let map = guard.get_or_insert_with(HashMap::new);
    if let Some(d) = map.get(&key) {
        return Some(d);
    }
    if map.len() >= MAX_INTERNED {
        tracing::warn!(crd = %cr.name, "too many custom resource definitions served; not serving this one");
        return None;
    }
    let def: &'static ResourceDef = Box::leak(Box::new(ResourceDef {
        group: leak(&cr.group),
        version: leak(&v.name),
        plural: leak(&cr.plural),
        singular: leak(&cr.singular),
        kind: leak(&cr.kind),
        namespaced: cr.namespaced,
        short_names: leak_list(&cr.short_names),
        categories: leak_list(&cr.categories),
        verbs: CRUD,
        subresources: leak_list(&subs),
        storage: Storage::Etcd {
            path: leak(&format!("{}/{}", cr.group, cr.plural)),
        },
    }));
    map.insert(key, def);
    Some(def)
}

/// Serves (or re-serves) the custom resource of an established CRD.
pub fn install(cr: CustomResource) {
    let defs: Vec<&'static ResourceDef> = cr
        .versions
        .iter()
        .filter(|v| v.served)
        .filter_map(|v| resource_def(&cr, v))
        .collect();
    if let Ok(mut m) = SERVED.write() {
        m.insert(
            cr.name.clone(),
            Installed {
                resource: Arc::new(cr),
                defs,
            },
        );
    }
}

/// Stops serving the custom resource of CRD `name`.
pub fn remove(name: &str) {
    if let Ok(mut m) = SERVED.write() {
        m.remove(name);
    }
}

/// The names of every installed CRD.
pub fn installed() -> Vec<String> {
    SERVED
        .read()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// Every served custom resource version, by CRD name, preferred version
/// first.
pub fn defs() -> Vec<&'static ResourceDef> {
    SERVED
        .read()
        .map(|m| m.values().flat_map(|i| i.defs.iter().copied()).collect())
        .unwrap_or_default()
}

/// The served definition of one custom resource version.
pub fn lookup(group: &str, version: &str, plural: &str) -> Option<&'static ResourceDef> {
    let m = SERVED.read().ok()?;
    m.values()
        .flat_map(|i| i.defs.iter().copied())
        .find(|d| d.group == group && d.version == version && d.plural == plural)
}

/// The installed CRD serving `group`/`plural`.
pub fn find(group: &str, plural: &str) -> Option<Arc<CustomResource>> {
    let m = SERVED.read().ok()?;
    m.values()
        .find(|i| i.resource.group == group && i.resource.plural == plural)
        .map(|i| i.resource.clone())
}

/// Every installed CRD (for name-conflict checks).
pub fn all() -> Vec<Arc<CustomResource>> {
    SERVED
        .read()
        .map(|m| m.values().map(|i| i.resource.clone()).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn versions_sort_as_upstream() {
        let mut v = vec![
            "v1alpha1", "v1", "v2beta1", "foo", "v1beta2", "v2", "v1beta1",
        ];
        v.sort_by(|a, b| version_priority(a, b));
        assert_eq!(
            v,
            vec![
                "v2", "v1", "v2beta1", "v1beta2", "v1beta1", "v1alpha1", "foo"
            ]
        );
    }

    #[test]
    fn install_serves_and_remove_forgets() {
        let crd = json!({
            "metadata": {"name": "widgets.regtest.example.com"},
            "spec": {"group": "regtest.example.com", "scope": "Namespaced",
                "names": {"plural": "widgets", "kind": "Widget", "shortNames": ["wd"]},
                "versions": [
                    {"name": "v1alpha1", "served": true, "storage": false},
                    {"name": "v1", "served": true, "storage": true,
                     "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas"}}}
                ]}
        });
        let cr = CustomResource::from_crd(&crd).expect("parses");
        assert_eq!(cr.singular, "widget");
        assert_eq!(cr.list_kind, "WidgetList");
        assert_eq!(cr.storage_version(), "v1");
        install(cr.clone());
        install(cr);
        let d = crate::resources::lookup("regtest.example.com", "v1", "widgets").expect("served");
        assert_eq!(d.subresources, &["status", "scale"]);
        assert_eq!(d.etcd_path(), Some("regtest.example.com/widgets"));
        assert_eq!(d.short_names, &["wd"]);
        let again =
            crate::resources::lookup("regtest.example.com", "v1", "widgets").expect("served");
        assert!(std::ptr::eq(d, again));
        let order: Vec<&str> =
            crate::resources::in_group_version("regtest.example.com", "v1alpha1")
                .map(|r| r.version)
                .collect();
        assert_eq!(order, vec!["v1alpha1"]);
        assert!(crate::apiextensions::is_custom(d));
        remove("widgets.regtest.example.com");
        assert!(crate::resources::lookup("regtest.example.com", "v1", "widgets").is_none());
    }
}
