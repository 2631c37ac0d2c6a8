//! Label selectors: the `-l`/`labelSelector=` string syntax and metav1.LabelSelector
//! objects, matched against an object's labels the way upstream's
//! k8s.io/apimachinery/pkg/labels does (same grammar, same error texts, same
//! canonical string form), so list filters, Services and workload controllers agree
//! with the real kubectl about which objects a selector picks.

mod lexer;
mod names;
mod parser;

use std::collections::BTreeMap;
use std::fmt;

pub use names::{dns1123_subdomain_errors, label_value_errors, qualified_name_errors};
use parser::go_quote;

/// A bad selector; the text is what an upstream apiserver would say.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SelectorError(pub String);

/// How a requirement compares a label's value (upstream's selection.Operator).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Equals,
    DoubleEquals,
    NotEquals,
    In,
    NotIn,
    Exists,
    DoesNotExist,
    GreaterThan,
    LessThan,
}

/// One `key op values` term of a selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    key: String,
    operator: Operator,
    values: Vec<String>,
}

impl Requirement {
    /// Checks the key, operator arity and values as upstream's NewRequirement does.
    fn new(key: &str, operator: Operator, values: Vec<String>) -> Result<Requirement, String> {
        let mut errs: Vec<String> = Vec::new();
        let key_errs = qualified_name_errors(key);
        if !key_errs.is_empty() {
            errs.push(format!(
                "key: Invalid value: {}: {}",
                go_quote(key),
                key_errs.join("; ")
            ));
        }
        let values_go = go_string_slice(&values);
        match operator {
            Operator::In | Operator::NotIn if values.is_empty() => errs.push(format!(
                "values: Invalid value: {values_go}: for 'in', 'notin' operators, values set can't be empty"
            )),
            Operator::Equals | Operator::DoubleEquals | Operator::NotEquals
                if values.len() != 1 =>
            {
                errs.push(format!(
                    "values: Invalid value: {values_go}: exact-match compatibility requires one single value"
                ))
            }
            Operator::Exists | Operator::DoesNotExist if !values.is_empty() => errs.push(format!(
                "values: Invalid value: {values_go}: values set must be empty for exists and does not exist"
            )),
            Operator::GreaterThan | Operator::LessThan => {
                if values.len() != 1 {
                    errs.push(format!(
                        "values: Invalid value: {values_go}: for 'Gt', 'Lt' operators, exactly one value is required"
                    ));
                }
                for (i, v) in values.iter().enumerate() {
                    if v.parse::<i64>().is_err() {
                        errs.push(format!(
                            "values[{i}]: Invalid value: {}: for 'Gt', 'Lt' operators, the value must be an integer",
                            go_quote(v)
                        ));
                    }
                }
            }
            _ => {}
        }
        for (i, v) in values.iter().enumerate() {
            let v_errs = label_value_errors(v);
            if !v_errs.is_empty() {
                errs.push(format!(
                    "values[{i}][{key}]: Invalid value: {}: {}",
                    go_quote(v),
                    v_errs.join("; ")
                ));
            }
        }
        match errs.len() {
            0 => Ok(Requirement {
                key: key.to_string(),
                operator,
                values,
            }),
            1 => Err(errs.remove(0)),
            _ => Err(format!("[{}]", errs.join(", "))),
        }
    }

    /// The label key this requirement looks at.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The comparison.
    pub fn operator(&self) -> Operator {
        self.operator
    }

    /// The values compared against (empty for Exists/DoesNotExist).
    pub fn values(&self) -> &[String] {
        &self.values
    }

    fn matches(&self, get: &dyn Fn(&str) -> Option<String>) -> bool {
        let value = get(&self.key);
        match self.operator {
            Operator::In | Operator::Equals | Operator::DoubleEquals => {
                value.is_some_and(|v| self.values.contains(&v))
            }
            Operator::NotIn | Operator::NotEquals => {
                !value.is_some_and(|v| self.values.contains(&v))
            }
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
            Operator::GreaterThan | Operator::LessThan => {
                let (Some(have), [want]) = (value, self.values.as_slice()) else {
                    return false;
                };
                match (have.parse::<i64>(), want.parse::<i64>()) {
                    (Ok(h), Ok(w)) => {
                        if self.operator == Operator::GreaterThan {
                            h > w
                        } else {
                            h < w
                        }
                    }
                    _ => false,
                }
            }
        }
    }
}

/// Go's `%#v` of a `[]string`, as upstream prints a bad values list.
/// Selectors only ever build empty lists as nil slices, hence `[]string(nil)`.
fn go_string_slice(values: &[String]) -> String {
    if values.is_empty() {
        return "[]string(nil)".to_string();
    }
    let inner: Vec<String> = values.iter().map(|v| go_quote(v)).collect();
    format!("[]string{{{}}}", inner.join(", "))
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.operator == Operator::DoesNotExist {
            f.write_str("!")?;
        }
        f.write_str(&self.key)?;
        let op = match self.operator {
            Operator::Equals => "=",
            Operator::DoubleEquals => "==",
            Operator::NotEquals => "!=",
            Operator::In => " in ",
            Operator::NotIn => " notin ",
            Operator::GreaterThan => ">",
            Operator::LessThan => "<",
            Operator::Exists | Operator::DoesNotExist => return Ok(()),
        };
        f.write_str(op)?;
        let set = matches!(self.operator, Operator::In | Operator::NotIn);
        if set {
            f.write_str("(")?;
        }
        let mut values = self.values.clone();
        values.sort();
        f.write_str(&values.join(","))?;
        if set {
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// A conjunction of requirements; empty selects everything. A null metav1.LabelSelector
/// selects nothing (upstream's labels.Nothing()).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selector {
    requirements: Vec<Requirement>,
    nothing: bool,
}

impl Selector {
    /// The selector that matches every object.
    pub fn everything() -> Selector {
        Selector::default()
    }

    /// The selector that matches no object (what a null LabelSelector means).
    pub fn nothing() -> Selector {
        Selector {
            requirements: Vec::new(),
            nothing: true,
        }
    }

    /// Parses upstream's selector string syntax: `a=b,c==d,e!=f,g in (x,y),h notin (z),i,!j`
    /// (also `k>1`, `k<1`). Requirements are kept sorted by key, as upstream does.
    pub fn parse(s: &str) -> Result<Selector, SelectorError> {
        let mut requirements = parser::parse(s).map_err(SelectorError)?;
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(Selector {
            requirements,
            nothing: false,
        })
    }

    /// Builds a selector from a metav1.LabelSelector JSON (`matchLabels`,
    /// `matchExpressions` with In/NotIn/Exists/DoesNotExist). `null` selects nothing;
    /// `{}` selects everything.
    pub fn from_label_selector(v: &serde_json::Value) -> Result<Selector, SelectorError> {
        if v.is_null() {
            return Ok(Selector::nothing());
        }
        let obj = v
            .as_object()
            .ok_or_else(|| SelectorError("label selector must be an object".to_string()))?;
        let mut requirements = Vec::new();
        match obj.get("matchLabels") {
            None | Some(serde_json::Value::Null) => {}
            Some(serde_json::Value::Object(m)) => {
                for (k, val) in m {
                    let val = val.as_str().ok_or_else(|| {
                        SelectorError(format!("matchLabels[{k}] must be a string"))
                    })?;
                    requirements.push(
                        Requirement::new(k, Operator::Equals, vec![val.to_string()])
                            .map_err(SelectorError)?,
                    );
                }
            }
            Some(_) => return Err(SelectorError("matchLabels must be an object".to_string())),
        }
        match obj.get("matchExpressions") {
            None | Some(serde_json::Value::Null) => {}
            Some(serde_json::Value::Array(exprs)) => {
                for e in exprs {
                    requirements.push(expression_requirement(e)?);
                }
            }
            Some(_) => {
                return Err(SelectorError(
                    "matchExpressions must be an array".to_string(),
                ));
            }
        }
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(Selector {
            requirements,
            nothing: false,
        })
    }

    /// Builds the equality selector of a map (a Service's or ReplicationController's `selector`).
    pub fn from_map(map: &BTreeMap<String, String>) -> Result<Selector, SelectorError> {
        let mut requirements = Vec::new();
        for (k, v) in map {
            requirements.push(
                Requirement::new(k, Operator::Equals, vec![v.clone()]).map_err(SelectorError)?,
            );
        }
        Ok(Selector {
            requirements,
            nothing: false,
        })
    }

    /// True for the select-everything selector.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty() && !self.nothing
    }

    /// The requirements, sorted by key.
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// Whether a label set satisfies every requirement.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.matches_with(&|k| labels.get(k).cloned())
    }

    /// Matches against an object's `metadata.labels` JSON (None/absent = no labels).
    pub fn matches_value(&self, labels: Option<&serde_json::Value>) -> bool {
        let map = labels.and_then(|l| l.as_object());
        self.matches_with(&|k| {
            map.and_then(|m| m.get(k))
                .map(|v| v.as_str().map(str::to_string).unwrap_or_default())
        })
    }

    fn matches_with(&self, get: &dyn Fn(&str) -> Option<String>) -> bool {
        !self.nothing && self.requirements.iter().all(|r| r.matches(get))
    }
}

fn expression_requirement(e: &serde_json::Value) -> Result<Requirement, SelectorError> {
    let key = e.get("key").and_then(|k| k.as_str()).unwrap_or_default();
    let operator = e
        .get("operator")
        .and_then(|o| o.as_str())
        .unwrap_or_default();
    let op = match operator {
        "In" => Operator::In,
        "NotIn" => Operator::NotIn,
        "Exists" => Operator::Exists,
        "DoesNotExist" => Operator::DoesNotExist,
        other => {
            return Err(SelectorError(format!(
                "{} is not a valid label selector operator",
                go_quote(other)
            )));
        }
    };
    let values = match e.get("values") {
        None | Some(serde_json::Value::Null) => Vec::new(),
        Some(serde_json::Value::Array(vs)) => vs
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| SelectorError("values must be strings".to_string()))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(SelectorError("values must be an array".to_string())),
    };
    Requirement::new(key, op, values).map_err(SelectorError)
}

impl fmt::Display for Selector {
    /// Canonical form: requirements sorted by key, joined with `,` (empty for everything).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
