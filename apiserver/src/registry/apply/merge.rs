//! The object side of server-side apply: merging an applied configuration
//! into the live object (maps field by field, list maps item by item by
//! their keys, sets as unions, everything else replaced), and removing the
//! fields an applier gave up.

use super::fieldset::{FieldSet, item_element};
use crate::registry::patch::types::{FieldInfo, TypeInfo};
use serde_json::{Map, Value};

/// `applied` merged into `live` (both objects of definition `def`).
pub fn merge(
    types: &dyn TypeInfo,
    def: Option<&str>,
    live: &Map<String, Value>,
    applied: &Map<String, Value>,
) -> Map<String, Value> {
    let mut out = live.clone();
    for (k, av) in applied {
        let info = types.field(def, k);
        if av.is_null() {
            out.remove(k);
            continue;
        }
        let merged = match (live.get(k), av) {
            (Some(Value::Object(l)), Value::Object(a)) if !info.is_atomic_map() => {
                Value::Object(merge(types, info.elem.as_deref(), l, a))
            }
            (Some(Value::Array(l)), Value::Array(a)) if info.is_list_map() => {
                Value::Array(merge_list_map(types, &info, l, a))
            }
            (Some(Value::Array(l)), Value::Array(a)) if info.is_set() => {
                let mut out = l.clone();
                for x in a {
                    if !out.contains(x) {
                        out.push(x.clone());
                    }
                }
                Value::Array(out)
            }
            _ => av.clone(),
        };
        out.insert(k.clone(), merged);
    }
    out
}

fn merge_list_map(
    types: &dyn TypeInfo,
    info: &FieldInfo,
    live: &[Value],
    applied: &[Value],
) -> Vec<Value> {
    let mut out = live.to_vec();
    for (i, item) in applied.iter().enumerate() {
        let el = item_element(info, item, i);
        let pos = out
            .iter()
            .enumerate()
            .position(|(j, x)| item_element(info, x, j) == el);
        match (pos, item.as_object()) {
            (Some(p), Some(a)) => {
                let l = out[p].as_object().cloned().unwrap_or_default();
                out[p] = Value::Object(merge(types, info.elem.as_deref(), &l, a));
            }
            (Some(p), None) => out[p] = item.clone(),
            (None, _) => out.push(item.clone()),
        }
    }
    out
}

/// Removes from `obj` every member of `gone` (a member with members below
/// it goes as a whole: the applier owned the node itself).
pub fn remove(
    types: &dyn TypeInfo,
    def: Option<&str>,
    obj: &mut Map<String, Value>,
    gone: &FieldSet,
) {
    for (el, child) in &gone.children {
        let Some(name) = el.strip_prefix("f:") else {
            continue;
        };
        if child.member {
            obj.remove(name);
            continue;
        }
        let info = types.field(def, name);
        let now_empty = match obj.get_mut(name) {
            Some(Value::Object(m)) => {
                remove(types, info.elem.as_deref(), m, child);
                m.is_empty()
            }
            Some(Value::Array(items)) => {
                remove_items(types, &info, items, child);
                items.is_empty()
            }
            _ => false,
        };
        // A map or list the applier emptied is gone with its last field.
        if now_empty {
            obj.remove(name);
        }
    }
}

fn remove_items(types: &dyn TypeInfo, info: &FieldInfo, items: &mut Vec<Value>, gone: &FieldSet) {
    let mut keep = Vec::with_capacity(items.len());
    for (i, mut item) in items.drain(..).enumerate() {
        let el = item_element(info, &item, i);
        match gone.children.get(&el) {
            Some(c) if c.member => continue,
            Some(c) => {
                if let Some(m) = item.as_object_mut() {
                    remove(types, info.elem.as_deref(), m, c);
                }
                keep.push(item);
            }
            None => keep.push(item),
        }
    }
    *items = keep;
}
