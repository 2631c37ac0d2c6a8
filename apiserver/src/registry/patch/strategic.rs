//! Strategic merge patch: a JSON merge patch in which lists merge as the
//! field's patch strategy says (items matched by the merge key, scalar
//! lists as sets), with the directives `$patch` (`replace`, `delete`,
//! `merge`), `$retainKeys`, `$deleteFromPrimitiveList/<field>` and
//! `$setElementOrder/<field>`. The strategy of every field comes from
//! [`TypeInfo`], walked down from the object's definition.

use super::types::{FieldInfo, TypeInfo};
use serde_json::{Map, Value};

const PATCH: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList/";
const SET_ELEMENT_ORDER: &str = "$setElementOrder/";

/// Why a strategic merge patch could not be applied; the texts are
/// upstream's (`mergepatch` errors).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StrategicError {
    #[error("invalid patch format of primitive list")]
    BadPrimitiveList,
    #[error("invalid patch format of retainKeys")]
    BadRetainKeys,
    #[error("invalid patch format of setElementOrder list")]
    BadSetElementOrder,
    #[error("patch content doesn't match retainKeys list")]
    NotMatchRetainKeys,
    #[error("lists of lists are not supported")]
    ListOfLists,
    #[error("map: {0} does not contain declared merge key: {1}")]
    NoMergeKey(String, String),
    #[error("Unknown patch type: {0} in map: {1}")]
    UnknownDirective(String, String),
}

impl StrategicError {
    /// Upstream answers the format errors with 400 and the content errors
    /// with 422.
    pub fn code(&self) -> u16 {
        match self {
            StrategicError::NotMatchRetainKeys | StrategicError::ListOfLists => 422,
            _ => 400,
        }
    }
}

type Result<T> = std::result::Result<T, StrategicError>;

/// Applies `patch` to `original`, an object of definition `def`.
pub fn apply(
    types: &dyn TypeInfo,
    def: Option<&str>,
    original: &Value,
    patch: &Map<String, Value>,
) -> Result<Value> {
    let empty = Map::new();
    let orig = original.as_object().unwrap_or(&empty);
    Ok(merge_map(types, def, orig, patch)?
        .map(Value::Object)
        .unwrap_or_else(|| Value::Object(Map::new())))
}

/// Merges a patch map into an original map; `None` means "delete the map"
/// (`$patch: delete`).
fn merge_map(
    types: &dyn TypeInfo,
    def: Option<&str>,
    original: &Map<String, Value>,
    patch: &Map<String, Value>,
) -> Result<Option<Map<String, Value>>> {
    match patch.get(PATCH) {
        None => {}
        Some(Value::String(s)) if s == "merge" => {}
        Some(Value::String(s)) if s == "replace" => {
            let mut clean = Map::new();
            return merge_plain(types, def, &mut clean, patch).map(|()| Some(clean));
        }
        Some(Value::String(s)) if s == "delete" => return Ok(None),
        Some(other) => {
            return Err(StrategicError::UnknownDirective(
                display(other),
                display(&Value::Object(patch.clone())),
            ));
        }
    }
    let mut out = original.clone();
    if let Some(retain) = patch.get(RETAIN_KEYS) {
        let keys: Vec<&str> = retain
            .as_array()
            .ok_or(StrategicError::BadRetainKeys)?
            .iter()
            .map(|k| k.as_str().ok_or(StrategicError::BadRetainKeys))
            .collect::<Result<_>>()?;
        for (k, v) in patch {
            if !k.starts_with('$') && !v.is_null() && !keys.contains(&k.as_str()) {
                return Err(StrategicError::NotMatchRetainKeys);
            }
        }
        out.retain(|k, _| keys.contains(&k.as_str()));
    }
    for (k, v) in patch {
        if let Some(field) = k.strip_prefix(DELETE_FROM_PRIMITIVE_LIST) {
            let gone = v.as_array().ok_or(StrategicError::BadPrimitiveList)?;
            if let Some(Value::Array(items)) = out.get_mut(field) {
                items.retain(|i| !gone.contains(i));
            }
        }
    }
    merge_plain(types, def, &mut out, patch)?;
    for (k, v) in patch {
        if let Some(field) = k.strip_prefix(SET_ELEMENT_ORDER) {
            let order = v.as_array().ok_or(StrategicError::BadSetElementOrder)?;
            let info = types.field(def, field);
            if let Some(Value::Array(items)) = out.get_mut(field) {
                reorder(items, order, info.patch_merge_key.as_deref())?;
            }
        }
    }
    Ok(Some(out))
}

/// Merges every ordinary (non-directive) key of `patch` into `out`.
fn merge_plain(
    types: &dyn TypeInfo,
    def: Option<&str>,
    out: &mut Map<String, Value>,
    patch: &Map<String, Value>,
) -> Result<()> {
    for (k, v) in patch {
        if k.starts_with('$') {
            continue;
        }
        let info = types.field(def, k);
        let merged = match v {
            Value::Null => None,
            Value::Object(p) => {
                let empty = Map::new();
                let cur = out.get(k).and_then(Value::as_object).unwrap_or(&empty);
                merge_map(types, info.elem.as_deref(), cur, p)?.map(Value::Object)
            }
            Value::Array(p) => {
                let cur = out.get(k).and_then(Value::as_array).cloned();
                Some(Value::Array(merge_list(
                    types,
                    &info,
                    cur.as_deref().unwrap_or(&[]),
                    p,
                )?))
            }
            scalar => Some(scalar.clone()),
        };
        match merged {
            Some(m) => out.insert(k.clone(), m),
            None => out.remove(k),
        };
    }
    Ok(())
}

/// Merges a patch list into the original list of a field.
fn merge_list(
    types: &dyn TypeInfo,
    info: &FieldInfo,
    original: &[Value],
    patch: &[Value],
) -> Result<Vec<Value>> {
    if patch.iter().any(Value::is_array) {
        return Err(StrategicError::ListOfLists);
    }
    // `{"$patch": "replace"}` as an item replaces the whole list.
    let replace = patch
        .iter()
        .any(|i| i.get(PATCH).and_then(Value::as_str) == Some("replace"));
    let merging = info.has_strategy("merge") && !info.has_strategy("replace");
    if replace || !merging {
        return patch
            .iter()
            .filter(|i| i.get(PATCH).is_none() || !replace)
            .map(|i| clean(types, info, i))
            .collect::<Result<Vec<_>>>()
            .map(|v| v.into_iter().flatten().collect());
    }
    let Some(key) = info.patch_merge_key.as_deref() else {
        // A scalar list with the merge strategy is a set: union.
        let mut out = original.to_vec();
        for p in patch {
            if !out.contains(p) {
                out.push(p.clone());
            }
        }
        return Ok(out);
    };
    let mut out = original.to_vec();
    for item in patch {
        let Some(obj) = item.as_object() else {
            if !out.contains(item) {
                out.push(item.clone());
            }
            continue;
        };
        let id = obj
            .get(key)
            .ok_or_else(|| StrategicError::NoMergeKey(display(item), key.to_string()))?;
        let pos = out.iter().position(|c| c.get(key) == Some(id));
        let delete = obj.get(PATCH).and_then(Value::as_str) == Some("delete");
        match (pos, delete) {
            (Some(_), true) => out.retain(|c| c.get(key) != Some(id)),
            (None, true) => {}
            (Some(i), false) => {
                let empty = Map::new();
                let cur = out[i].as_object().unwrap_or(&empty);
                match merge_map(types, info.elem.as_deref(), cur, obj)? {
                    Some(m) => out[i] = Value::Object(m),
                    None => {
                        out.remove(i);
                    }
                }
            }
            (None, false) => {
                if let Some(m) = merge_map(types, info.elem.as_deref(), &Map::new(), obj)? {
                    out.push(Value::Object(m));
                }
            }
        }
    }
    Ok(out)
}

/// A patch value written where there is nothing to merge with: its
/// directives are applied to an empty original.
fn clean(types: &dyn TypeInfo, info: &FieldInfo, v: &Value) -> Result<Option<Value>> {
    match v {
        Value::Object(m) => {
            Ok(merge_map(types, info.elem.as_deref(), &Map::new(), m)?.map(Value::Object))
        }
        other => Ok(Some(other.clone())),
    }
}

/// `$setElementOrder`: the listed items first, in the given order, then the
/// items the patch doesn't mention (added by other writers) in their order.
fn reorder(items: &mut Vec<Value>, order: &[Value], key: Option<&str>) -> Result<()> {
    let id_of = |v: &Value| -> Option<Value> {
        match key {
            Some(k) => v.get(k).cloned(),
            None => Some(v.clone()),
        }
    };
    let mut wanted = Vec::with_capacity(order.len());
    for o in order {
        let id = match key {
            Some(k) => o
                .get(k)
                .cloned()
                .ok_or(StrategicError::BadSetElementOrder)?,
            None => o.clone(),
        };
        wanted.push(id);
    }
    let mut listed: Vec<(usize, Value)> = Vec::new();
    let mut rest = Vec::new();
    for item in items.drain(..) {
        match id_of(&item).and_then(|id| wanted.iter().position(|w| *w == id)) {
            Some(i) => listed.push((i, item)),
            None => rest.push(item),
        }
    }
    listed.sort_by_key(|(i, _)| *i);
    items.extend(listed.into_iter().map(|(_, v)| v));
    items.extend(rest);
    Ok(())
}

/// A value as upstream's messages print it (Go's `%v` of a map is close to
/// compact JSON for our purposes).
fn display(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
#[path = "strategic_tests.rs"]
mod tests;
