//! Sets of field paths, as server-side apply tracks ownership, and their
//! `FieldsV1` encoding: a trie whose keys are path elements (`f:<name>` a
//! field, `k:<json>` a list item by its keys, `v:<json>` a set item,
//! `i:<n>` an item by index) and where `.` marks a node that is itself in
//! the set while it also has members below it.

use crate::registry::patch::types::{FieldInfo, TypeInfo};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A set of paths: `member` says the path leading here is in the set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSet {
    pub member: bool,
    pub children: BTreeMap<String, FieldSet>,
}

impl FieldSet {
    pub fn is_empty(&self) -> bool {
        !self.member && self.children.values().all(FieldSet::is_empty)
    }

    pub fn child_mut(&mut self, element: &str) -> &mut FieldSet {
        self.children.entry(element.to_string()).or_default()
    }

    /// Adds `path` (a list of path elements) as a member.
    pub fn insert(&mut self, path: &[&str]) {
        let mut node = self;
        for el in path {
            node = node.child_mut(el);
        }
        node.member = true;
    }

    pub fn union(&mut self, other: &FieldSet) {
        self.member |= other.member;
        for (k, c) in &other.children {
            self.child_mut(k).union(c);
        }
    }

    /// The members of `self` that are not members of `other`.
    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet {
            member: self.member && !other.member,
            children: BTreeMap::new(),
        };
        for (k, c) in &self.children {
            let d = match other.children.get(k) {
                Some(o) => c.difference(o),
                None => c.clone(),
            };
            if !d.is_empty() {
                out.children.insert(k.clone(), d);
            }
        }
        out
    }

    /// The members in both sets.
    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet {
            member: self.member && other.member,
            children: BTreeMap::new(),
        };
        for (k, c) in &self.children {
            if let Some(o) = other.children.get(k) {
                let i = c.intersection(o);
                if !i.is_empty() {
                    out.children.insert(k.clone(), i);
                }
            }
        }
        out
    }

    /// Every member path, depth first in key order.
    pub fn paths(&self) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        self.collect(&mut Vec::new(), &mut out);
        out
    }

    fn collect(&self, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        if self.member && !prefix.is_empty() {
            out.push(prefix.clone());
        }
        for (k, c) in &self.children {
            prefix.push(k.clone());
            c.collect(prefix, out);
            prefix.pop();
        }
    }

    /// The `fieldsV1` JSON of this set.
    pub fn to_fields_v1(&self) -> Value {
        let mut m = Map::new();
        if self.member && !self.children.is_empty() {
            m.insert(".".into(), Value::Object(Map::new()));
        }
        for (k, c) in &self.children {
            if !c.is_empty() {
                m.insert(k.clone(), c.to_fields_v1());
            }
        }
        Value::Object(m)
    }

    /// Reads `fieldsV1`; `None` when it isn't a trie of objects.
    pub fn from_fields_v1(v: &Value) -> Option<FieldSet> {
        let mut out = FieldSet::default();
        for (k, c) in v.as_object()? {
            if k == "." {
                out.member = true;
                continue;
            }
            let mut child = FieldSet::from_fields_v1(c)?;
            if child.children.is_empty() {
                child.member = true;
            }
            out.children.insert(k.clone(), child);
        }
        Some(out)
    }
}

/// A path as upstream prints it in conflicts:
/// `.spec.template.spec.containers[name="app"].image`.
pub fn render_path(path: &[String]) -> String {
    let mut s = String::new();
    for el in path {
        if let Some(f) = el.strip_prefix("f:") {
            s.push('.');
            s.push_str(f);
        } else if let Some(k) = el.strip_prefix("k:") {
            let keys: Map<String, Value> = serde_json::from_str(k).unwrap_or_default();
            let parts: Vec<String> = keys.iter().map(|(k, v)| format!("{k}={v}")).collect();
            s.push_str(&format!("[{}]", parts.join(",")));
        } else if let Some(v) = el.strip_prefix("v:") {
            s.push_str(&format!("[={v}]"));
        } else if let Some(i) = el.strip_prefix("i:") {
            s.push_str(&format!("[{i}]"));
        }
    }
    s
}

/// The path element naming `item` in a list of field `info`.
pub fn item_element(info: &FieldInfo, item: &Value, index: usize) -> String {
    if info.is_list_map()
        && let Some(obj) = item.as_object()
    {
        let mut keys = Map::new();
        for k in info.item_keys() {
            if let Some(v) = obj.get(&k) {
                keys.insert(k, v.clone());
            }
        }
        if !keys.is_empty() {
            // serde_json's map is ordered by key: upstream's sorted key JSON.
            return format!("k:{}", Value::Object(keys));
        }
    }
    if info.is_set() {
        return format!("v:{item}");
    }
    format!("i:{index}")
}

/// Whether a list's items are tracked one by one (list maps and sets);
/// other lists are atomic values.
fn granular_list(info: &FieldInfo) -> bool {
    info.is_list_map() || info.is_set()
}

/// The paths of every value set in `obj` (an object of definition `def`):
/// leaves, atomic values, and list items (which are members themselves
/// and hold their fields).
pub fn of_object(types: &dyn TypeInfo, def: Option<&str>, obj: &Map<String, Value>) -> FieldSet {
    let mut out = FieldSet::default();
    walk_object(types, def, obj, &mut out);
    out
}

fn walk_object(
    types: &dyn TypeInfo,
    def: Option<&str>,
    obj: &Map<String, Value>,
    out: &mut FieldSet,
) {
    for (k, v) in obj {
        let info = types.field(def, k);
        walk_value(types, &info, v, out.child_mut(&format!("f:{k}")));
    }
}

fn walk_value(types: &dyn TypeInfo, info: &FieldInfo, v: &Value, node: &mut FieldSet) {
    match v {
        Value::Object(m) if !info.is_atomic_map() && !m.is_empty() => {
            walk_object(types, info.elem.as_deref(), m, node)
        }
        Value::Array(items) if granular_list(info) && !items.is_empty() => {
            for (i, item) in items.iter().enumerate() {
                let c = node.child_mut(&item_element(info, item, i));
                c.member = true;
                if let (true, Some(m)) = (info.is_list_map(), item.as_object()) {
                    walk_object(types, info.elem.as_deref(), m, c);
                }
            }
        }
        _ => node.member = true,
    }
}

/// Objects that exist (empty) in every object of their kind, so adding
/// content under them does not make the object itself a new member
/// (upstream compares against a zero-valued object, where these are
/// present).
fn always_present(field: &str) -> bool {
    matches!(field, "metadata" | "spec" | "status" | "template")
}

/// The paths an update from `old` to `new` set or changed (added nodes are
/// members with their whole content).
pub fn changed(
    types: &dyn TypeInfo,
    def: Option<&str>,
    old: &Map<String, Value>,
    new: &Map<String, Value>,
) -> FieldSet {
    let mut out = FieldSet::default();
    diff_object(types, def, old, new, false, &mut out);
    out
}

/// The paths present in `old` and gone in `new` (with their content).
pub fn removed(
    types: &dyn TypeInfo,
    def: Option<&str>,
    old: &Map<String, Value>,
    new: &Map<String, Value>,
) -> FieldSet {
    let mut out = FieldSet::default();
    diff_object(types, def, new, old, true, &mut out);
    out
}

/// Walks `new` against `old`: members for what `new` adds and, unless
/// `only_missing`, for leaves whose value differs.
fn diff_object(
    types: &dyn TypeInfo,
    def: Option<&str>,
    old: &Map<String, Value>,
    new: &Map<String, Value>,
    only_missing: bool,
    out: &mut FieldSet,
) {
    for (k, nv) in new {
        let info = types.field(def, k);
        let key = format!("f:{k}");
        let mut c = FieldSet::default();
        match old.get(k) {
            None if always_present(k) && nv.is_object() => {
                let empty = Value::Object(Map::new());
                diff_value(types, &info, &empty, nv, only_missing, &mut c)
            }
            None => {
                walk_value(types, &info, nv, &mut c);
                c.member = true;
            }
            Some(ov) => diff_value(types, &info, ov, nv, only_missing, &mut c),
        }
        if !c.is_empty() {
            out.children.insert(key, c);
        }
    }
}

fn diff_value(
    types: &dyn TypeInfo,
    info: &FieldInfo,
    ov: &Value,
    nv: &Value,
    only_missing: bool,
    out: &mut FieldSet,
) {
    match (ov, nv) {
        (Value::Object(o), Value::Object(n)) if !info.is_atomic_map() && !n.is_empty() => {
            diff_object(types, info.elem.as_deref(), o, n, only_missing, out)
        }
        (Value::Array(o), Value::Array(n)) if granular_list(info) && !n.is_empty() => {
            for (i, item) in n.iter().enumerate() {
                let el = item_element(info, item, i);
                let old_item = o
                    .iter()
                    .enumerate()
                    .find(|(j, x)| item_element(info, x, *j) == el)
                    .map(|(_, x)| x);
                let mut c = FieldSet::default();
                match (old_item, item.as_object()) {
                    (None, _) => {
                        c.member = true;
                        if let (true, Some(m)) = (info.is_list_map(), item.as_object()) {
                            walk_object(types, info.elem.as_deref(), m, &mut c);
                        }
                    }
                    (Some(Value::Object(om)), Some(nm)) if info.is_list_map() => {
                        diff_object(types, info.elem.as_deref(), om, nm, only_missing, &mut c)
                    }
                    (Some(x), _) if !only_missing && x != item => c.member = true,
                    _ => {}
                }
                if !c.is_empty() {
                    out.children.insert(el, c);
                }
            }
        }
        _ if !only_missing && ov != nv => out.member = true,
        _ => {}
    }
}

#[cfg(test)]
#[path = "fieldset_tests.rs"]
mod tests;
