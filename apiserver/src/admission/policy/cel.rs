//! CEL for admission policies on top of the `cel-interpreter` crate:
//! compiling an expression once, turning request JSON into CEL values, and
//! evaluating with the policy variables (`object`, `oldObject`, `request`,
//! `params`, `namespaceObject`, `variables`).
//!
//! The interpreter panics on a few constructs it does not support (message
//! literals such as `Foo{a: 1}`, comprehensions over scalars); expressions
//! are user input, so every parse and run is wrapped in `catch_unwind` and a
//! panic becomes an ordinary error (the failure policy then decides).

use cel_interpreter::objects::{Key, Map};
use cel_interpreter::{Context, Program, Value as Cel};
use serde_json::Value;
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

/// One compiled expression and its source (kept for messages).
#[derive(Debug)]
pub struct Expression {
    pub source: String,
    program: Program,
}

/// Why an expression could not be compiled or run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CelError {
    /// Upstream's wording: `compilation failed: ERROR: <input>:1:3: ...`.
    #[error("compilation failed: {0}")]
    Compile(String),
    #[error("{0}")]
    Runtime(String),
}

/// Parses `source`; an error carries the parser's `ERROR: <input>:l:c: ...`
/// lines, as upstream's CEL reports them.
pub fn compile(source: &str) -> Result<Expression, CelError> {
    let parsed = catch_unwind(AssertUnwindSafe(|| Program::compile(source)));
    match parsed {
        Ok(Ok(program)) => Ok(Expression {
            source: source.to_string(),
            program,
        }),
        Ok(Err(e)) => Err(CelError::Compile(e.to_string())),
        Err(_) => Err(CelError::Compile(format!(
            "ERROR: <input>:1:1: unsupported expression {source:?}"
        ))),
    }
}

/// A JSON value as a CEL value: objects become string-keyed maps, whole
/// numbers ints (so `object.spec.replicas <= 5` compares ints).
pub fn to_cel(v: &Value) -> Cel {
    match v {
        Value::Null => Cel::Null,
        Value::Bool(b) => Cel::Bool(*b),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Cel::Int(i),
            (None, Some(u)) => Cel::UInt(u),
            _ => Cel::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => Cel::String(Arc::new(s.clone())),
        Value::Array(a) => Cel::List(Arc::new(a.iter().map(to_cel).collect())),
        Value::Object(o) => {
            let map: HashMap<Key, Cel> = o
                .iter()
                .map(|(k, v)| (Key::String(Arc::new(k.clone())), to_cel(v)))
                .collect();
            Cel::Map(Map { map: Arc::new(map) })
        }
    }
}

/// The variables one evaluation sees.
pub struct Activation {
    vars: HashMap<&'static str, Cel>,
    /// `variables.<name>`, filled in order as the policy's variables are
    /// evaluated (each may use the ones before it).
    pub variables: HashMap<Key, Cel>,
}

impl Activation {
    pub fn new(
        object: &Value,
        old_object: &Value,
        request: &Value,
        params: &Value,
        namespace_object: &Value,
    ) -> Self {
        let vars = HashMap::from([
            ("object", to_cel(object)),
            ("oldObject", to_cel(old_object)),
            ("request", to_cel(request)),
            ("params", to_cel(params)),
            ("namespaceObject", to_cel(namespace_object)),
        ]);
        Activation {
            vars,
            variables: HashMap::new(),
        }
    }

    /// Runs `expr`; a panic inside the interpreter becomes an error.
    pub fn eval(&self, expr: &Expression) -> Result<Cel, CelError> {
        let mut ctx = Context::default();
        for (k, v) in &self.vars {
            ctx.add_variable_from_value(*k, v.clone());
        }
        ctx.add_variable_from_value(
            "variables",
            Cel::Map(Map {
                map: Arc::new(self.variables.clone()),
            }),
        );
        match catch_unwind(AssertUnwindSafe(|| expr.program.execute(&ctx))) {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(CelError::Runtime(e.to_string())),
            Err(_) => Err(CelError::Runtime(format!(
                "unsupported expression {:?}",
                expr.source
            ))),
        }
    }

    /// Runs `expr` and wants a bool (validations, match conditions).
    pub fn eval_bool(&self, expr: &Expression) -> Result<bool, CelError> {
        match self.eval(expr)? {
            Cel::Bool(b) => Ok(b),
            other => Err(CelError::Runtime(format!(
                "expected bool, got {}",
                other.type_of()
            ))),
        }
    }

    /// Evaluates a named variable and makes it visible as `variables.<name>`;
    /// an error leaves it out, so only expressions that use it fail (as
    /// upstream's lazy variables do).
    pub fn bind_variable(&mut self, name: &str, expr: &Expression) -> Option<CelError> {
        match self.eval(expr) {
            Ok(v) => {
                self.variables
                    .insert(Key::String(Arc::new(name.to_string())), v);
                None
            }
            Err(e) => Some(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(expr: &str, object: Value, params: Value) -> Result<bool, CelError> {
        let e = compile(expr)?;
        let a = Activation::new(
            &object,
            &Value::Null,
            &json!({"operation": "CREATE"}),
            &params,
            &Value::Null,
        );
        a.eval_bool(&e)
    }

    #[test]
    fn expressions_over_request_json() {
        let deploy = json!({"metadata": {"name": "web", "labels": {"env": "test"}}, "spec": {"replicas": 6}});
        let cases: &[(&str, Value, Result<bool, ()>)] = &[
            ("object.spec.replicas <= 5", json!(null), Ok(false)),
            ("object.spec.replicas > 5", json!(null), Ok(true)),
            (
                "object.spec.replicas <= int(params.data.maxReplicas)",
                json!({"data": {"maxReplicas": "6"}}),
                Ok(true),
            ),
            ("has(object.spec.paused)", json!(null), Ok(false)),
            (
                "has(object.metadata.labels) && object.metadata.labels.env == 'test'",
                json!(null),
                Ok(true),
            ),
            ("'env' in object.metadata.labels", json!(null), Ok(true)),
            (
                "object.metadata.name.startsWith('we') && size(object.metadata.name) == 3",
                json!(null),
                Ok(true),
            ),
            (
                "[1, 2, 3].all(x, x > 0) && [1, 2].exists(x, x == 2)",
                json!(null),
                Ok(true),
            ),
            (
                "object.metadata.name.matches('^w.b$')",
                json!(null),
                Ok(true),
            ),
            ("request.operation == 'CREATE'", json!(null), Ok(true)),
            ("object.spec.missing > 1", json!(null), Err(())),
            ("object.spec.replicas", json!(null), Err(())),
        ];
        for (expr, params, want) in cases {
            let got = run(expr, deploy.clone(), params.clone()).map_err(|_| ());
            assert_eq!(&got, want, "{expr}");
        }
    }

    #[test]
    fn compile_errors_name_the_position() {
        let e = compile("object.spec.replicas <=").expect_err("incomplete");
        assert!(
            e.to_string()
                .starts_with("compilation failed: ERROR: <input>:1:"),
            "{e}"
        );
    }

    #[test]
    fn variables_see_earlier_ones() {
        let mut a = Activation::new(
            &json!({"spec": {"replicas": 3}}),
            &Value::Null,
            &Value::Null,
            &Value::Null,
            &Value::Null,
        );
        assert!(
            a.bind_variable("r", &compile("object.spec.replicas").expect("ok"))
                .is_none()
        );
        assert!(
            a.bind_variable("twice", &compile("variables.r * 2").expect("ok"))
                .is_none()
        );
        assert!(
            a.bind_variable("bad", &compile("object.nope").expect("ok"))
                .is_some()
        );
        assert_eq!(
            a.eval_bool(&compile("variables.twice == 6").expect("ok")),
            Ok(true)
        );
        assert!(
            a.eval_bool(&compile("variables.bad == 1").expect("ok"))
                .is_err()
        );
    }
}
