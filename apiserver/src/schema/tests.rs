use super::*;
use serde_json::json;
use std::path::PathBuf;

/// Upstream's OpenAPI v2 document, the oracle of the patch metadata; the
/// tests that need it print a notice and pass when it is absent.
fn oracle() -> Option<Map<String, Value>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/reference/kubernetes-openapi-v2.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        println!("notice: {} absent, oracle test skipped", path.display());
        return None;
    };
    let doc: Value = serde_json::from_str(&text).expect("oracle parses");
    doc.get("definitions")?.as_object().cloned()
}

const EXTENSIONS: &[&str] = &[
    "x-kubernetes-patch-merge-key",
    "x-kubernetes-patch-strategy",
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-map-type",
];

#[test]
fn patch_metadata_and_property_names_match_upstream() {
    let Some(upstream) = oracle() else { return };
    let mut checked = 0;
    let mut newer = 0;
    let mut mismatches = Vec::new();
    for (name, ours) in definitions() {
        let theirs = upstream
            .get(name)
            .unwrap_or_else(|| panic!("{name} is not an upstream definition"));
        let props = |d: &Value| -> Vec<String> {
            d.get("properties")
                .and_then(Value::as_object)
                .map(|p| p.keys().cloned().collect())
                .unwrap_or_default()
        };
        // The oracle is a newer release than the v1.33 types we serve: it
        // may have fields we lack, never the other way round.
        let (mine, upstream_props) = (props(ours), props(theirs));
        for p in &mine {
            if !upstream_props.contains(p) {
                mismatches.push(format!("{name}.{p} is not an upstream property"));
            }
        }
        newer += upstream_props.iter().filter(|p| !mine.contains(p)).count();
        if ours.get("x-kubernetes-map-type") != theirs.get("x-kubernetes-map-type") {
            mismatches.push(format!("{name}: definition map type differs"));
        }
        for p in mine {
            for ext in EXTENSIONS {
                let mine = ours["properties"][&p].get(*ext);
                let up = theirs["properties"][&p].get(*ext);
                if mine != up {
                    mismatches.push(format!("{name}.{p} {ext}: {mine:?} != upstream {up:?}"));
                }
                checked += 1;
            }
        }
    }
    println!("{checked} extension checks; {newer} upstream properties newer than v1.33");
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    assert!(checked > 5000, "only {checked} extension checks ran");
}

#[test]
fn served_kinds_resolve_to_upstream_names() {
    let table = [
        ("", "v1", "Pod", "io.k8s.api.core.v1.Pod"),
        ("", "v1", "PodList", "io.k8s.api.core.v1.PodList"),
        ("apps", "v1", "Deployment", "io.k8s.api.apps.v1.Deployment"),
        (
            "autoscaling",
            "v2",
            "HorizontalPodAutoscaler",
            "io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler",
        ),
        ("events.k8s.io", "v1", "Event", "io.k8s.api.events.v1.Event"),
        (
            "apps",
            "v1",
            "DeleteOptions",
            "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
        ),
    ];
    for (g, v, k, want) in table {
        assert_eq!(definition_of(g, v, k), Some(want), "{g}/{v} {k}");
        assert!(definitions().contains_key(want), "{want} defined");
    }
    assert_eq!(definition_of("apps", "v1", "Pod"), None);
    for r in crate::resources::RESOURCES {
        assert!(
            definition_of(r.group, r.version, r.kind).is_some(),
            "{} {} has no definition",
            r.api_version(),
            r.kind
        );
    }
}

#[test]
fn property_definitions_walk_objects() {
    let table = [
        (
            "io.k8s.api.core.v1.Pod",
            "spec",
            Some("io.k8s.api.core.v1.PodSpec"),
        ),
        (
            "io.k8s.api.core.v1.PodSpec",
            "containers",
            Some("io.k8s.api.core.v1.Container"),
        ),
        (
            "io.k8s.api.core.v1.Container",
            "env",
            Some("io.k8s.api.core.v1.EnvVar"),
        ),
        (
            "io.k8s.api.core.v1.ResourceRequirements",
            "limits",
            Some("io.k8s.apimachinery.pkg.api.resource.Quantity"),
        ),
        (
            "io.k8s.api.core.v1.PodList",
            "items",
            Some("io.k8s.api.core.v1.Pod"),
        ),
        ("io.k8s.api.core.v1.Container", "name", None),
        ("io.k8s.api.core.v1.PodSpec", "nonexistent", None),
        ("io.k8s.api.core.v1.Nope", "spec", None),
    ];
    for (d, p, want) in table {
        assert_eq!(property_definition(d, p), want, "{d}.{p}");
    }
}

#[test]
fn field_meta_carries_merge_keys() {
    let c = field_meta("io.k8s.api.core.v1.PodSpec", "containers").expect("containers");
    assert_eq!(c.patch_strategy, Some("merge"));
    assert_eq!(c.patch_merge_key, Some("name"));
    assert_eq!(c.list_type, Some("map"));
    assert_eq!(c.list_map_keys, &["name"]);
    let ports = field_meta("io.k8s.api.core.v1.Container", "ports").expect("ports");
    assert_eq!(ports.patch_merge_key, Some("containerPort"));
    assert_eq!(ports.list_map_keys, &["containerPort", "protocol"]);
    let finalizers = field_meta(
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        "finalizers",
    );
    assert_eq!(finalizers.and_then(|m| m.list_type), Some("set"));
    assert_eq!(field_meta("io.k8s.api.core.v1.Container", "image"), None);
    assert_eq!(
        definition_map_type("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector"),
        Some("atomic")
    );
}

#[test]
fn kinds_carry_group_version_kind() {
    let pod = &definitions()["io.k8s.api.core.v1.Pod"];
    assert_eq!(
        pod["x-kubernetes-group-version-kind"],
        serde_json::json!([{ "group": "", "kind": "Pod", "version": "v1" }])
    );
    assert!(
        pod["description"]
            .as_str()
            .is_some_and(|d| d.starts_with("Pod is a collection of containers"))
    );
    let spec = &definitions()["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"];
    assert_eq!(
        spec["items"]["$ref"],
        "#/definitions/io.k8s.api.core.v1.Container"
    );
    assert_eq!(spec["x-kubernetes-patch-merge-key"], "name");
}

#[test]
fn field_meta_rows_name_served_properties() {
    for (d, p, _) in field_meta::FIELDS {
        assert!(
            definitions()
                .get(*d)
                .and_then(|def| def.get("properties"))
                .and_then(|props| props.get(*p))
                .is_some(),
            "{d}.{p} is not served"
        );
    }
    for (d, _) in field_meta::DEFINITION_MAP_TYPES {
        assert!(definitions().contains_key(*d), "{d} is not served");
    }
}

#[test]
fn required_lists_follow_upstream_not_rust_optionality() {
    let pod = &definitions()["io.k8s.api.core.v1.Pod"];
    assert!(pod.get("required").is_none(), "{pod}");
    let key_ref = &definitions()["io.k8s.api.core.v1.ConfigMapKeySelector"];
    assert_eq!(key_ref["required"], serde_json::json!(["key"]));
    let container = &definitions()["io.k8s.api.core.v1.Container"];
    assert_eq!(container["required"], serde_json::json!(["name"]));
    let ios = &definitions()["io.k8s.apimachinery.pkg.util.intstr.IntOrString"];
    assert_eq!(ios["format"], "int-or-string");
}

#[test]
fn references_keep_upstream_shape() {
    let defs = definitions();
    // A described reference stays `$ref` + `description` side by side, as
    // upstream writes it (no `allOf` wrapper).
    let meta = &defs["io.k8s.api.core.v1.Pod"]["properties"]["metadata"];
    assert_eq!(
        meta["$ref"],
        json!("#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")
    );
    assert!(meta.get("description").is_some());
    assert!(meta.get("allOf").is_none());
    // Upstream's scalar wrappers: Quantity a string, IntOrString a string
    // with its own format.
    let quantity = &defs["io.k8s.apimachinery.pkg.api.resource.Quantity"];
    assert_eq!(quantity["type"], json!("string"));
    assert!(quantity.get("x-kubernetes-int-or-string").is_none());
    let ios = &defs["io.k8s.apimachinery.pkg.util.intstr.IntOrString"];
    assert_eq!(ios["format"], json!("int-or-string"));
}
