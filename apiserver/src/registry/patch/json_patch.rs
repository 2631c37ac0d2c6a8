//! JSON patch (RFC 6902): add, remove, replace, move, copy, test.

use crate::status::ApiError;
use serde_json::Value;

/// RFC 6902 (add, remove, replace, move, copy, test).
pub fn apply(target: &Value, patch: &Value) -> Result<Value, ApiError> {
    let ops = patch
        .as_array()
        .ok_or_else(|| ApiError::bad_request("json patch must be a list of operations"))?;
    let mut doc = target.clone();
    for op in ops {
        let name = op.get("op").and_then(Value::as_str).unwrap_or("");
        let path = op
            .get("path")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::bad_request("json patch operation has no path"))?;
        match name {
            "add" => add(&mut doc, path, value_of(op)?)?,
            "remove" => {
                remove(&mut doc, path)?;
            }
            "replace" => {
                remove(&mut doc, path)?;
                add(&mut doc, path, value_of(op)?)?;
            }
            "move" | "copy" => {
                let from = op
                    .get("from")
                    .and_then(Value::as_str)
                    .ok_or_else(|| ApiError::bad_request("json patch move/copy needs from"))?;
                let v = if name == "move" {
                    remove(&mut doc, from)?
                } else {
                    doc.pointer(from).cloned().ok_or_else(|| missing(from))?
                };
                add(&mut doc, path, v)?;
            }
            "test" => {
                if doc.pointer(path) != Some(&value_of(op)?) {
                    return Err(ApiError::new(
                        422,
                        "Invalid",
                        format!(
                            "the server rejected our request due to an error in our request: testing value {path} failed"
                        ),
                    ));
                }
            }
            other => {
                return Err(ApiError::bad_request(format!("Unexpected kind: {other}")));
            }
        }
    }
    Ok(doc)
}

fn value_of(op: &Value) -> Result<Value, ApiError> {
    op.get("value")
        .cloned()
        .ok_or_else(|| ApiError::bad_request("json patch operation has no value"))
}

fn missing(path: &str) -> ApiError {
    ApiError::new(
        422,
        "Invalid",
        format!(
            "the server rejected our request due to an error in our request: doc is missing path: {path:?}"
        ),
    )
}

fn split(path: &str) -> Result<(String, String), ApiError> {
    let i = path.rfind('/').ok_or_else(|| missing(path))?;
    let last = path[i + 1..].replace("~1", "/").replace("~0", "~");
    Ok((path[..i].to_string(), last))
}

fn add(doc: &mut Value, path: &str, v: Value) -> Result<(), ApiError> {
    if path.is_empty() {
        *doc = v;
        return Ok(());
    }
    let (parent, last) = split(path)?;
    let p = doc.pointer_mut(&parent).ok_or_else(|| missing(path))?;
    match p {
        Value::Object(m) => {
            m.insert(last, v);
        }
        Value::Array(a) => {
            if last == "-" {
                a.push(v);
            } else {
                let i: usize = last.parse().map_err(|_| missing(path))?;
                if i > a.len() {
                    return Err(missing(path));
                }
                a.insert(i, v);
            }
        }
        _ => return Err(missing(path)),
    }
    Ok(())
}

fn remove(doc: &mut Value, path: &str) -> Result<Value, ApiError> {
    let (parent, last) = split(path)?;
    let p = doc.pointer_mut(&parent).ok_or_else(|| missing(path))?;
    match p {
        Value::Object(m) => m.remove(&last).ok_or_else(|| missing(path)),
        Value::Array(a) => {
            let i: usize = last.parse().map_err(|_| missing(path))?;
            if i >= a.len() {
                return Err(missing(path));
            }
            Ok(a.remove(i))
        }
        _ => Err(missing(path)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_patch_ops() {
        let t = json!({"metadata": {"labels": {"a": "1"}}, "list": [1, 2]});
        let p = json!([
            {"op": "add", "path": "/metadata/labels/b", "value": "2"},
            {"op": "remove", "path": "/metadata/labels/a"},
            {"op": "add", "path": "/list/-", "value": 3},
            {"op": "replace", "path": "/list/0", "value": 0}
        ]);
        let out = apply(&t, &p).expect("valid patch");
        assert_eq!(
            out,
            json!({"metadata": {"labels": {"b": "2"}}, "list": [0, 2, 3]})
        );
        let bad = json!([{"op": "remove", "path": "/nope"}]);
        assert_eq!(apply(&t, &bad).map_err(|e| e.code), Err(422));
        let test_fails = json!([{"op": "test", "path": "/list/0", "value": 9}]);
        assert_eq!(apply(&t, &test_fails).map_err(|e| e.code), Err(422));
        let moved =
            json!([{"op": "move", "from": "/metadata/labels/a", "path": "/metadata/labels/c"}]);
        assert_eq!(
            apply(&t, &moved).expect("move")["metadata"]["labels"],
            json!({"c": "1"})
        );
    }
}
