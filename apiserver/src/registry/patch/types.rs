//! What strategic merge and server-side apply need to know about a field:
//! upstream's `x-kubernetes-*` tags (patch strategy and merge key, list and
//! map types) and the type of the field's value, so a walk can descend.
//!
//! [`TypeInfo`] hides where that knowledge comes from: the API schema
//! (`crate::schema`) for built-in kinds, or [`Guessed`], a name-based
//! table for objects without a schema.

/// The tags of one property and the definition of its value (of its
/// items for a list, of its values for a map).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldInfo {
    /// `x-kubernetes-patch-strategy` split on commas: `merge`, `retainKeys`, `replace`.
    pub patch_strategy: Vec<String>,
    /// `x-kubernetes-patch-merge-key`.
    pub patch_merge_key: Option<String>,
    /// `x-kubernetes-list-type`: `atomic`, `set` or `map`.
    pub list_type: Option<String>,
    /// `x-kubernetes-list-map-keys`.
    pub list_map_keys: Vec<String>,
    /// `x-kubernetes-map-type`: `atomic` or `granular`.
    pub map_type: Option<String>,
    /// Definition name of the value (items/values for lists/maps).
    pub elem: Option<String>,
}

impl FieldInfo {
    pub fn has_strategy(&self, s: &str) -> bool {
        self.patch_strategy.iter().any(|x| x == s)
    }

    /// The keys that identify an item of a list map (server-side apply):
    /// `list_map_keys`, else the patch merge key.
    pub fn item_keys(&self) -> Vec<String> {
        if !self.list_map_keys.is_empty() {
            return self.list_map_keys.clone();
        }
        self.patch_merge_key.iter().cloned().collect()
    }

    /// Server-side apply treats the list as a set of scalars.
    pub fn is_set(&self) -> bool {
        self.list_type.as_deref() == Some("set")
    }

    /// Server-side apply treats the list as a map keyed by `item_keys`.
    pub fn is_list_map(&self) -> bool {
        self.list_type.as_deref() == Some("map")
            || (self.list_type.is_none() && self.patch_merge_key.is_some())
    }

    /// Server-side apply owns the whole value as one field.
    pub fn is_atomic_map(&self) -> bool {
        self.map_type.as_deref() == Some("atomic")
    }
}

/// Answers "what is property `prop` of a value of definition `def`".
/// `def` is `None` where the type is unknown (maps of strings, objects
/// without a schema); an implementation then answers from `prop` alone.
pub trait TypeInfo: Sync {
    fn field(&self, def: Option<&str>, prop: &str) -> FieldInfo;
}

/// Upstream's tags for the well-known fields, chosen by field name alone.
/// Used for objects the schema doesn't describe; a name that means
/// different things in different kinds (`ports`) is resolved the way the
/// common kinds (Pod, Service) need.
pub struct Guessed;

impl TypeInfo for Guessed {
    fn field(&self, _def: Option<&str>, prop: &str) -> FieldInfo {
        let key = match prop {
            "containers"
            | "initContainers"
            | "ephemeralContainers"
            | "env"
            | "volumes"
            | "imagePullSecrets"
            | "secrets"
            | "resourceClaims"
            | "schedulingGates" => Some("name"),
            "volumeMounts" => Some("mountPath"),
            "volumeDevices" => Some("devicePath"),
            "hostAliases" => Some("ip"),
            "conditions" | "addresses" => Some("type"),
            "taints" => Some("key"),
            "readinessGates" => Some("conditionType"),
            "topologySpreadConstraints" => Some("topologyKey"),
            "ownerReferences" => Some("uid"),
            "ports" => Some("port"),
            _ => None,
        };
        if let Some(k) = key {
            return FieldInfo {
                patch_strategy: vec!["merge".into()],
                patch_merge_key: Some(k.into()),
                list_type: Some("map".into()),
                list_map_keys: vec![k.into()],
                ..Default::default()
            };
        }
        match prop {
            "finalizers" => FieldInfo {
                patch_strategy: vec!["merge".into()],
                list_type: Some("set".into()),
                ..Default::default()
            },
            "selector" | "nodeSelectorTerms" | "labelSelector" => FieldInfo {
                map_type: Some("atomic".into()),
                ..Default::default()
            },
            _ => FieldInfo::default(),
        }
    }
}

/// The type information for objects of a served resource and the name of
/// their definition (`None` for kinds the schema doesn't know).
pub fn for_resource(
    def: &crate::resources::ResourceDef,
) -> (&'static dyn TypeInfo, Option<String>) {
    match crate::schema::definition_of(def.group, def.version, def.kind) {
        Some(name) => (&FromSchema, Some(name.to_string())),
        None => (&Guessed, None),
    }
}

/// The tags and types of the API schema (`crate::schema`), upstream's own.
pub struct FromSchema;

impl TypeInfo for FromSchema {
    fn field(&self, def: Option<&str>, prop: &str) -> FieldInfo {
        let Some(def) = def else {
            return FieldInfo::default();
        };
        let elem = crate::schema::property_definition(def, prop);
        let mut info = match crate::schema::field_meta(def, prop) {
            Some(m) => FieldInfo {
                patch_strategy: m
                    .patch_strategy
                    .map(|s| s.split(',').map(String::from).collect())
                    .unwrap_or_default(),
                patch_merge_key: m.patch_merge_key.map(String::from),
                list_type: m.list_type.map(String::from),
                list_map_keys: m.list_map_keys.iter().map(|k| k.to_string()).collect(),
                map_type: m.map_type.map(String::from),
                elem: None,
            },
            None => FieldInfo::default(),
        };
        if info.map_type.is_none() {
            info.map_type = elem
                .and_then(crate::schema::definition_map_type)
                .map(String::from);
        }
        info.elem = elem.map(String::from);
        info
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_tags_follow_the_definitions() {
        let pod = crate::schema::definition_of("", "v1", "Pod").expect("Pod");
        let spec = FromSchema.field(Some(pod), "spec");
        assert_eq!(spec.elem.as_deref(), Some("io.k8s.api.core.v1.PodSpec"));
        let containers = FromSchema.field(spec.elem.as_deref(), "containers");
        assert_eq!(containers.patch_merge_key.as_deref(), Some("name"));
        assert_eq!(
            containers.elem.as_deref(),
            Some("io.k8s.api.core.v1.Container")
        );
        let ports = FromSchema.field(containers.elem.as_deref(), "ports");
        assert_eq!(ports.patch_merge_key.as_deref(), Some("containerPort"));
        assert_eq!(
            ports.list_map_keys,
            vec!["containerPort".to_string(), "protocol".to_string()]
        );
        let volumes = FromSchema.field(spec.elem.as_deref(), "volumes");
        assert!(volumes.has_strategy("retainKeys") && volumes.has_strategy("merge"));
        let tolerations = FromSchema.field(spec.elem.as_deref(), "tolerations");
        assert!(!tolerations.has_strategy("merge"));
        let deploy = crate::schema::definition_of("apps", "v1", "Deployment").expect("Deployment");
        let dspec = FromSchema.field(Some(deploy), "spec");
        assert!(
            FromSchema
                .field(dspec.elem.as_deref(), "selector")
                .is_atomic_map()
        );
        let meta = FromSchema.field(Some(deploy), "metadata");
        assert!(
            FromSchema
                .field(meta.elem.as_deref(), "finalizers")
                .is_set()
        );
    }

    #[test]
    fn guessed_tags() {
        let c = Guessed.field(None, "containers");
        assert!(c.has_strategy("merge"));
        assert_eq!(c.item_keys(), vec!["name".to_string()]);
        assert!(c.is_list_map());
        assert!(Guessed.field(None, "finalizers").is_set());
        assert!(!Guessed.field(None, "args").is_list_map());
        assert!(Guessed.field(None, "selector").is_atomic_map());
    }
}
