//! Does a JSON body fit its kind's Go types? Upstream decodes every body
//! into typed structs, so a value of the wrong JSON type (`"replicas":
//! "three"`, `"containers": {}`, a number as a label value) fails the
//! decode before anything else runs, with the Go decoder's wording. Our
//! objects stay `serde_json::Value`, so this walks the value beside its
//! definition once and reports the first misfit in that wording.
//!
//! Two decoders, two wordings: create, update, JSON patch and merge patch
//! results go through Go's `encoding/json` ([`Decoder::Json`]: `json:
//! cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas
//! of type int32`); a strategic merge patch's result goes through
//! apimachinery's unstructured converter ([`Decoder::Unstructured`]:
//! `unrecognized type: int32`, `cannot restore slice from map`).
//!
//! The happy path allocates nothing: field names are collected only while
//! an error unwinds.

use super::ref_name;
use serde_json::{Number, Value};

/// Which upstream decoder's rules and wording to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoder {
    /// Go's `encoding/json` (bodies of create and update, JSON and merge
    /// patch results).
    Json,
    /// apimachinery's `FromUnstructured` (strategic merge patch results).
    Unstructured,
}

/// The first value of an object that its Go type would not accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TypeError {
    /// The decoder's own message, e.g. `json: cannot unmarshal string into
    /// Go struct field DeploymentSpec.spec.replicas of type int32`.
    pub message: String,
}

/// Checks `obj` against the definition `definition`
/// (`io.k8s.api.apps.v1.Deployment`). Unknown definitions and unknown
/// fields pass: pruning and strict field validation deal with those.
pub fn check(definition: &str, obj: &Value, decoder: Decoder) -> Result<(), TypeError> {
    let defs = super::definitions();
    let Some((name, schema)) = defs.get_key_value(definition) else {
        return Ok(());
    };
    match walk_struct(name, schema, obj, decoder) {
        Ok(()) => Ok(()),
        Err(m) => Err(TypeError {
            message: m.render(decoder),
        }),
    }
}

/// What went wrong, filled in while the error unwinds to the root.
struct Misfit<'v> {
    /// The JSON value's description in Go's words (`string`, `number 1.5`).
    value: String,
    /// The Go type that refused it (`int32`, `[]v1.Container`).
    go_type: String,
    /// A message of its own (custom unmarshalers), used as is.
    custom: Option<String>,
    /// The value failed as a whole (not one of its elements), so a named
    /// Go type of the property (`v1.ResourceList`) names it.
    direct: bool,
    /// The Go struct holding the innermost field.
    holder: Option<&'static str>,
    /// Field names, innermost first.
    fields: Vec<&'v str>,
}

impl Misfit<'_> {
    fn new(value: String, go_type: String) -> Self {
        Misfit {
            value,
            go_type,
            custom: None,
            direct: true,
            holder: None,
            fields: Vec::new(),
        }
    }

    fn custom(message: String) -> Self {
        let mut m = Misfit::new(String::new(), String::new());
        m.custom = Some(message);
        m
    }

    fn render(&self, decoder: Decoder) -> String {
        if let Some(c) = &self.custom {
            return c.clone();
        }
        if decoder == Decoder::Unstructured {
            return self.value.clone();
        }
        let path: Vec<&str> = self.fields.iter().rev().copied().collect();
        match self.holder {
            Some(h) => format!(
                "json: cannot unmarshal {} into Go struct field {h}.{} of type {}",
                self.value,
                path.join("."),
                self.go_type
            ),
            None => format!(
                "json: cannot unmarshal {} into Go value of type {}",
                self.value, self.go_type
            ),
        }
    }
}

type Walk<'v> = Result<(), Box<Misfit<'v>>>;

/// `io.k8s.api.core.v1.Container` → `Container`.
fn short(definition: &str) -> &str {
    definition.rsplit('.').next().unwrap_or(definition)
}

/// `io.k8s.api.core.v1.Container` → `v1.Container`, as Go prints a type.
fn go_struct_type(definition: &str) -> String {
    let mut parts = definition.rsplit('.');
    let name = parts.next().unwrap_or(definition);
    match parts.next() {
        Some(pkg) => format!("{pkg}.{name}"),
        None => name.to_string(),
    }
}

/// The Go type a schema decodes into, for messages.
fn go_type(schema: &Value) -> String {
    if let Some(name) = ref_name(schema) {
        return go_struct_type(name);
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("integer") if schema.get("format").and_then(Value::as_str) == Some("int32") => {
            "int32".into()
        }
        Some("integer") => "int64".into(),
        Some("number") => "float64".into(),
        Some("boolean") => "bool".into(),
        Some("string") if schema.get("format").and_then(Value::as_str) == Some("byte") => {
            "[]uint8".into()
        }
        Some("string") => "string".into(),
        Some("array") => match schema.get("items") {
            Some(items) => format!("[]{}", go_type(items)),
            None => "[]interface {}".into(),
        },
        Some("object") => match schema.get("additionalProperties") {
            Some(values) if values.is_object() => format!("map[string]{}", go_type(values)),
            _ => "map[string]interface {}".into(),
        },
        _ => "interface {}".into(),
    }
}

/// Properties whose Go type is a named type the schema does not show
/// (`ResourceList` is `map[ResourceName]resource.Quantity`).
fn named_type(holder: &str, field: &str) -> Option<&'static str> {
    Some(match (holder, field) {
        ("ResourceRequirements" | "VolumeResourceRequirements", "limits" | "requests")
        | ("NodeStatus", "capacity" | "allocatable")
        | ("ResourceQuotaSpec" | "ResourceQuotaStatus", "hard" | "used")
        | ("LimitRangeItem", "max" | "min" | "default" | "defaultRequest")
        | ("LimitRangeItem", "maxLimitRequestRatio")
        | ("PersistentVolumeSpec", "capacity")
        | ("PersistentVolumeClaimStatus", "capacity" | "allocatedResources")
        | ("PodSpec", "overhead") => "v1.ResourceList",
        ("PodSpec", "restartPolicy") => "v1.RestartPolicy",
        ("PodSpec", "dnsPolicy") => "v1.DNSPolicy",
        ("Container" | "EphemeralContainer", "imagePullPolicy") => "v1.PullPolicy",
        ("Container" | "EphemeralContainer", "terminationMessagePolicy") => {
            "v1.TerminationMessagePolicy"
        }
        ("ContainerPort" | "ServicePort" | "EndpointPort", "protocol") => "v1.Protocol",
        ("ServiceSpec", "type") => "v1.ServiceType",
        ("ServiceSpec", "sessionAffinity") => "v1.ServiceAffinity",
        ("Secret", "type") => "v1.SecretType",
        ("PodStatus", "phase") => "v1.PodPhase",
        ("NamespaceStatus", "phase") => "v1.NamespacePhase",
        ("NamespaceSpec", "finalizers") => "[]v1.FinalizerName",
        ("DeploymentStrategy", "type") => "v1.DeploymentStrategyType",
        ("ObjectMeta" | "OwnerReference", "uid") => "types.UID",
        _ => return None,
    })
}

/// Go's name for a JSON value's kind (`encoding/json`).
fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The Go kind an unstructured value has (`reflect.Kind` names).
fn unstructured_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "invalid",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(_) => "int64",
        Value::String(_) => "string",
        Value::Array(_) => "slice",
        Value::Object(_) => "map",
    }
}

fn misfit<'v>(v: &Value, schema: &Value, decoder: Decoder) -> Box<Misfit<'v>> {
    Box::new(match decoder {
        Decoder::Json => Misfit::new(json_kind(v).into(), go_type(schema)),
        Decoder::Unstructured => {
            let want = go_type(schema);
            let message = if want.starts_with("map[") {
                format!("cannot restore map from {}", unstructured_kind(v))
            } else if want.starts_with("[]") {
                format!("cannot restore slice from {}", unstructured_kind(v))
            } else if ref_name(schema).is_some() {
                format!("cannot restore struct from: {}", unstructured_kind(v))
            } else if matches!(v, Value::Number(n) if !n.is_f64()) && want == "string" {
                "cannot convert int64 to string".to_string()
            } else {
                format!("unrecognized type: {want}")
            };
            Misfit::custom(message)
        }
    })
}

/// An integer of `bits` bits: Go refuses fractions and overflow with
/// `number <literal>`; the unstructured converter truncates integral
/// floats and wraps overflow, refusing only fractions.
fn check_integer<'v>(n: &Number, bits: u32, schema: &Value, decoder: Decoder) -> Walk<'v> {
    let fits = match n.as_i64() {
        Some(i) => bits == 64 || i32::try_from(i).is_ok(),
        None => n.is_u64() && decoder == Decoder::Unstructured,
    };
    if fits {
        return Ok(());
    }
    if decoder == Decoder::Unstructured {
        let f = n.as_f64().unwrap_or(0.0);
        if n.is_u64() || f == f.trunc() {
            return Ok(());
        }
        return Err(Box::new(Misfit::custom(format!(
            "cannot convert float64 to {}",
            go_type(schema)
        ))));
    }
    Err(Box::new(Misfit::new(
        format!("number {n}"),
        go_type(schema),
    )))
}

fn walk<'v>(schema: &'static Value, v: &'v Value, decoder: Decoder) -> Walk<'v> {
    if v.is_null() {
        return Ok(());
    }
    if let Some(name) = ref_name(schema) {
        return walk_ref(name, schema, v, decoder);
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("integer") => match v {
            Value::Number(n) => {
                let bits = if schema.get("format").and_then(Value::as_str) == Some("int32") {
                    32
                } else {
                    64
                };
                check_integer(n, bits, schema, decoder)
            }
            _ => Err(misfit(v, schema, decoder)),
        },
        Some("number") if !v.is_number() => Err(misfit(v, schema, decoder)),
        Some("boolean") if !v.is_boolean() => Err(misfit(v, schema, decoder)),
        Some("string") if !v.is_string() => Err(misfit(v, schema, decoder)),
        Some("array") => {
            let Some(items) = v.as_array() else {
                return Err(misfit(v, schema, decoder));
            };
            let Some(item_schema) = schema.get("items") else {
                return Ok(());
            };
            for x in items {
                walk(item_schema, x, decoder).map_err(|mut m| {
                    m.direct = false;
                    m
                })?;
            }
            Ok(())
        }
        Some("object") => match schema.get("additionalProperties") {
            Some(values) if values.is_object() => {
                let Some(map) = v.as_object() else {
                    return Err(misfit(v, schema, decoder));
                };
                for x in map.values() {
                    walk(values, x, decoder).map_err(|mut m| {
                        m.direct = false;
                        m
                    })?;
                }
                Ok(())
            }
            // A free-form object (RawExtension-like) takes anything.
            _ => Ok(()),
        },
        _ => Ok(()),
    }
}

/// A value whose schema names a definition: a struct, or one of the few
/// types with their own JSON decoding.
fn walk_ref<'v>(name: &str, schema: &Value, v: &'v Value, decoder: Decoder) -> Walk<'v> {
    match short(name) {
        // Decoded by IntOrString's own unmarshaler: strings as they are,
        // everything else as an int32.
        "IntOrString" => match v {
            Value::String(_) => Ok(()),
            Value::Number(n) => {
                let int32 = serde_json::json!({"type": "integer", "format": "int32"});
                check_integer(n, 32, &int32, decoder)
            }
            _ if decoder == Decoder::Unstructured => Err(Box::new(Misfit::custom(format!(
                "json: cannot unmarshal {} into Go value of type int32",
                json_kind(v)
            )))),
            _ => Err(Box::new(Misfit::new(json_kind(v).into(), "int32".into()))),
        },
        // Quantity parses numbers and strings; any other JSON is text it
        // cannot parse. Bad strings are left to validation.
        "Quantity" => match v {
            Value::String(_) | Value::Number(_) => Ok(()),
            _ => Err(Box::new(Misfit::custom(
                "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
                    .into(),
            ))),
        },
        // Times unmarshal from a JSON string first.
        "Time" | "MicroTime" => match v {
            Value::String(_) => Ok(()),
            _ if decoder == Decoder::Unstructured => Err(Box::new(Misfit::custom(format!(
                "json: cannot unmarshal {} into Go value of type string",
                json_kind(v)
            )))),
            _ => Err(Box::new(Misfit::new(json_kind(v).into(), "string".into()))),
        },
        // Raw JSON holders take anything.
        "RawExtension" | "FieldsV1" | "JSON" => Ok(()),
        _ => {
            let defs = super::definitions();
            let Some((def_name, def)) = defs.get_key_value(name) else {
                return Ok(());
            };
            if def.get("properties").is_none() {
                // Not a struct (an alias of a scalar or a free-form map).
                return walk(def, v, decoder);
            }
            if !v.is_object() {
                return Err(misfit(v, schema, decoder));
            }
            walk_struct(def_name, def, v, decoder)
        }
    }
}

/// The fields of a Go struct: each known property against its schema,
/// naming the struct and field as an error passes through.
fn walk_struct<'v>(
    def_name: &'static str,
    def: &'static Value,
    v: &'v Value,
    decoder: Decoder,
) -> Walk<'v> {
    let (Some(obj), Some(props)) = (v.as_object(), def.get("properties")) else {
        return Ok(());
    };
    for (key, x) in obj {
        let Some(p) = props.get(key) else { continue };
        walk(p, x, decoder).map_err(|mut m| {
            if m.holder.is_none() {
                let holder = short(def_name);
                if m.direct
                    && m.custom.is_none()
                    && let Some(t) = named_type(holder, key)
                {
                    m.go_type = t.to_string();
                }
                m.holder = Some(holder);
            }
            m.fields.push(key.as_str());
            m
        })?;
    }
    Ok(())
}

/// Go's `%+v` of a decoded JSON value (maps print with sorted keys), the
/// way upstream shows a strategic merge patch in its error.
pub fn go_format(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() && f == f.trunc() && f.abs() < 1e15 => format!("{}", f as i64),
            _ => n.to_string(),
        },
        Value::String(s) => s.clone(),
        Value::Array(a) => {
            let items: Vec<String> = a.iter().map(go_format).collect();
            format!("[{}]", items.join(" "))
        }
        Value::Object(o) => {
            let items: Vec<String> = o
                .iter()
                .map(|(k, x)| format!("{k}:{}", go_format(x)))
                .collect();
            format!("map[{}]", items.join(" "))
        }
    }
}

#[cfg(test)]
#[path = "typecheck_tests.rs"]
mod tests;
