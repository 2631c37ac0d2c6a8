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
    let _ = def;
    (&Guessed, None)
}

#[cfg(test)]
mod tests {
    use super::*;

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
