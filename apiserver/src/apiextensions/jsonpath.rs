//! The simple JSONPaths CRDs use for printer columns and scale
//! (`.spec.replicas`, `.status.conditions[0].type`, `.spec.hosts[*]`).

use serde_json::Value;

#[derive(Debug, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
    All,
}

/// Parses `.a.b[0].c`, also in `{...}` braces; `None` when malformed.
fn parse(path: &str) -> Option<Vec<Step>> {
    let p = path.trim();
    let p = p
        .strip_prefix('{')
        .and_then(|x| x.strip_suffix('}'))
        .unwrap_or(p);
    let p = p.strip_prefix('$').unwrap_or(p);
    let mut steps = Vec::new();
    let mut rest = p;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            if end == 0 {
                return None;
            }
            steps.push(Step::Key(r[..end].to_string()));
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            let inner = r[..end].trim();
            if inner == "*" {
                steps.push(Step::All);
            } else if let Some(q) = inner.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')) {
                steps.push(Step::Key(q.to_string()));
            } else {
                steps.push(Step::Index(inner.parse().ok()?));
            }
            rest = &r[end + 1..];
        } else {
            return None;
        }
    }
    Some(steps)
}

/// Is `path` a JSONPath this module can evaluate?
pub fn is_valid(path: &str) -> bool {
    path.trim().starts_with('.') && parse(path).is_some()
}

/// Every value `path` selects in `obj` (none when absent).
pub fn select<'a>(obj: &'a Value, path: &str) -> Vec<&'a Value> {
    let Some(steps) = parse(path) else {
        return Vec::new();
    };
    let mut cur = vec![obj];
    for s in &steps {
        let mut next = Vec::new();
        for v in cur {
            match s {
                Step::Key(k) => next.extend(v.get(k.as_str())),
                Step::Index(i) => next.extend(v.get(*i)),
                Step::All => match v {
                    Value::Array(a) => next.extend(a.iter()),
                    Value::Object(o) => next.extend(o.values()),
                    _ => {}
                },
            }
        }
        cur = next;
    }
    cur
}

/// The single value at a path without wildcards.
pub fn get<'a>(obj: &'a Value, path: &str) -> Option<&'a Value> {
    select(obj, path).into_iter().next()
}

/// Sets the value at a plain `.a.b.c` path, creating objects on the way.
pub fn set(obj: &mut Value, path: &str, value: Value) -> bool {
    let Some(steps) = parse(path) else {
        return false;
    };
    let mut cur = obj;
    for (i, s) in steps.iter().enumerate() {
        let Step::Key(k) = s else { return false };
        if !cur.is_object() {
            *cur = Value::Object(Default::default());
        }
        let Some(o) = cur.as_object_mut() else {
            return false;
        };
        if i + 1 == steps.len() {
            o.insert(k.clone(), value);
            return true;
        }
        cur = o
            .entry(k.clone())
            .or_insert(Value::Object(Default::default()));
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_select_values() {
        let o = json!({"spec": {"hosts": ["a", "b"], "r": 2, "m": {"x.y": 1}}, "status": {"c": [{"type": "Ready"}]}});
        let cases: Vec<(&str, Vec<Value>)> = vec![
            (".spec.r", vec![json!(2)]),
            ("{.spec.r}", vec![json!(2)]),
            (".spec.hosts[1]", vec![json!("b")]),
            (".spec.hosts[*]", vec![json!("a"), json!("b")]),
            (".spec.hosts", vec![json!(["a", "b"])]),
            (".status.c[0].type", vec![json!("Ready")]),
            (".spec.m['x.y']", vec![json!(1)]),
            (".spec.missing", vec![]),
            ("spec", vec![]),
        ];
        for (p, want) in cases {
            let got: Vec<Value> = select(&o, p).into_iter().cloned().collect();
            assert_eq!(got, want, "{p}");
        }
        assert!(is_valid(".spec.a[0]"));
        assert!(!is_valid("spec.a"));
        assert!(!is_valid(".spec..a"));
    }

    #[test]
    fn set_creates_parents() {
        let mut o = json!({"spec": {}});
        assert!(set(&mut o, ".spec.scale.replicas", json!(3)));
        assert_eq!(o, json!({"spec": {"scale": {"replicas": 3}}}));
        assert!(!set(&mut o, ".spec.a[0]", json!(1)));
    }
}
