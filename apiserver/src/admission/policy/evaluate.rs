//! One policy against one request with one param: match conditions, then
//! variables, then validations, giving the failures the binding's
//! validationActions act on. Errors (compile, runtime, non-bool results)
//! count as failures only under `failurePolicy: Fail`.

use super::cel::{Activation, CelError};
use super::compiled::CompiledPolicy;
use cel_interpreter::Value as Cel;

/// One failed (or errored) validation.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub message: String,
    /// The Status reason: `Invalid` unless the validation names another.
    pub reason: &'static str,
    /// The validation's index (`expressionIndex` of audit annotations).
    pub index: usize,
}

/// What evaluation found.
#[derive(Debug, Default, PartialEq)]
pub struct Outcome {
    pub failures: Vec<Failure>,
    /// `<policy>/<key>` → value, from auditAnnotations.
    pub audit_annotations: Vec<(String, String)>,
}

/// The supported `reason`s, as static strings for the Status.
fn reason(r: &str) -> &'static str {
    match r {
        "Forbidden" => "Forbidden",
        "Unauthorized" => "Unauthorized",
        "RequestEntityTooLarge" => "RequestEntityTooLarge",
        _ => "Invalid",
    }
}

/// The HTTP code of a reason (upstream's `reasonToCode`).
pub fn code(reason: &str) -> u16 {
    match reason {
        "Forbidden" => 403,
        "Unauthorized" => 401,
        "RequestEntityTooLarge" => 413,
        _ => 422,
    }
}

fn error_message(source: &str, e: &CelError) -> String {
    match e {
        CelError::Compile(_) => format!("compilation error: {e}"),
        CelError::Runtime(_) => format!("expression '{source}' resulted in error: {e}"),
    }
}

/// The message of a failed validation: messageExpression when it gives a
/// non-blank single-line string, else message, else `failed expression: <expr>`.
fn failure_message(v: &super::compiled::Validation, act: &Activation) -> String {
    if let Some(Ok(e)) = &v.message_expression
        && let Ok(Cel::String(s)) = act.eval(e)
        && !s.trim().is_empty()
        && !s.contains('\n')
    {
        return s.to_string();
    }
    if !v.message.is_empty() {
        return v.message.clone();
    }
    format!("failed expression: {}", v.source.trim())
}

/// Runs the policy; `None` when a match condition is false (the policy
/// does not apply to this request).
pub fn evaluate(policy: &CompiledPolicy, mut act: Activation) -> Option<Outcome> {
    let mut out = Outcome::default();
    let fail = |out: &mut Outcome, message: String, index: usize| {
        if !policy.ignore_failures {
            out.failures.push(Failure {
                message,
                reason: "Invalid",
                index,
            });
        }
    };
    // Any false condition skips the policy; otherwise an error is a failure.
    let mut condition_error = None;
    for c in &policy.match_conditions {
        match c
            .expression
            .as_ref()
            .map_err(Clone::clone)
            .and_then(|e| act.eval_bool(e))
        {
            Ok(true) => {}
            Ok(false) => return None,
            Err(e) => {
                condition_error.get_or_insert(format!(
                    "failed to evaluate matchCondition '{}': {}",
                    c.name,
                    error_message(&c.source, &e)
                ));
            }
        }
    }
    if let Some(m) = condition_error {
        fail(&mut out, m, 0);
        return Some(out);
    }
    for v in &policy.variables {
        if let Ok(e) = &v.expression {
            act.bind_variable(&v.name, e);
        }
    }
    for (i, v) in policy.validations.iter().enumerate() {
        let result = v
            .expression
            .as_ref()
            .map_err(Clone::clone)
            .and_then(|e| act.eval_bool(e));
        match result {
            Ok(true) => {}
            Ok(false) => out.failures.push(Failure {
                message: failure_message(v, &act),
                reason: reason(&v.reason),
                index: i,
            }),
            Err(e) => fail(&mut out, error_message(&v.source, &e), i),
        }
    }
    for a in &policy.audit_annotations {
        if let Ok(e) = &a.expression
            && let Ok(Cel::String(s)) = act.eval(e)
        {
            out.audit_annotations
                .push((format!("{}/{}", policy.name, a.name), s.to_string()));
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn policy(spec: Value) -> CompiledPolicy {
        CompiledPolicy::new(&json!({"metadata": {"name": "p"}, "spec": spec}))
    }

    fn run(spec: Value, object: Value) -> Option<Outcome> {
        let act = Activation::new(
            &object,
            &Value::Null,
            &json!({"operation": "CREATE"}),
            &Value::Null,
            &Value::Null,
        );
        evaluate(&policy(spec), act)
    }

    fn messages(o: &Option<Outcome>) -> Vec<(String, &'static str)> {
        o.iter()
            .flat_map(|o| o.failures.iter().map(|f| (f.message.clone(), f.reason)))
            .collect()
    }

    #[test]
    fn validations_table() {
        let six = json!({"metadata": {"name": "web"}, "spec": {"replicas": 6}});
        let cases: Vec<(Value, Vec<(&str, &str)>)> = vec![
            (
                json!({"validations": [{"expression": "object.spec.replicas <= 5"}]}),
                vec![("failed expression: object.spec.replicas <= 5", "Invalid")],
            ),
            (
                json!({"validations": [{"expression": "object.spec.replicas <= 10"}]}),
                vec![],
            ),
            (
                json!({"validations": [{"expression": "object.spec.replicas <= 5", "message": "too many", "reason": "Forbidden"}]}),
                vec![("too many", "Forbidden")],
            ),
            (
                json!({"validations": [{"expression": "object.spec.replicas <= 5",
                    "messageExpression": "'object.spec.replicas must be no greater than 5, got ' + string(object.spec.replicas)"}]}),
                vec![(
                    "object.spec.replicas must be no greater than 5, got 6",
                    "Invalid",
                )],
            ),
            (
                json!({"variables": [{"name": "max", "expression": "3"}],
                    "validations": [{"expression": "object.spec.replicas <= variables.max"}]}),
                vec![(
                    "failed expression: object.spec.replicas <= variables.max",
                    "Invalid",
                )],
            ),
            (
                json!({"validations": [{"expression": "object.spec.nope > 1"}]}),
                vec![(
                    "expression 'object.spec.nope > 1' resulted in error: No such key: nope",
                    "Invalid",
                )],
            ),
            (
                json!({"failurePolicy": "Ignore", "validations": [{"expression": "object.spec.nope > 1"}]}),
                vec![],
            ),
            (
                json!({"validations": [{"expression": "object.spec.replicas <"}]}),
                vec![(
                    "compilation error: compilation failed: ERROR: <input>:1:23: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}\n | object.spec.replicas <\n | ......................^",
                    "Invalid",
                )],
            ),
        ];
        for (spec, want) in cases {
            let got = messages(&run(spec.clone(), six.clone()));
            let want: Vec<(String, &str)> =
                want.into_iter().map(|(m, r)| (m.to_string(), r)).collect();
            assert_eq!(got.len(), want.len(), "{spec}: {got:?}");
            for ((gm, gr), (wm, wr)) in got.iter().zip(&want) {
                assert_eq!(*gr, *wr, "{spec}");
                if wm.starts_with("compilation error") {
                    assert!(
                        gm.starts_with("compilation error: compilation failed: ERROR: <input>:1:"),
                        "{gm}"
                    );
                } else {
                    assert_eq!(gm, wm, "{spec}");
                }
            }
        }
    }

    #[test]
    fn match_conditions_skip_or_fail() {
        let obj = json!({"metadata": {"name": "web"}, "spec": {"replicas": 6}});
        let skip = json!({"matchConditions": [{"name": "only-db", "expression": "object.metadata.name == 'db'"}],
                          "validations": [{"expression": "false"}]});
        assert_eq!(run(skip, obj.clone()), None);
        let apply = json!({"matchConditions": [{"name": "web", "expression": "object.metadata.name == 'web'"}],
                           "validations": [{"expression": "false"}]});
        assert_eq!(messages(&run(apply, obj.clone())).len(), 1);
        let broken = json!({"matchConditions": [{"name": "bad", "expression": "object.nope"}],
                            "validations": [{"expression": "true"}]});
        let m = messages(&run(broken, obj));
        assert!(
            m[0].0
                .starts_with("failed to evaluate matchCondition 'bad': "),
            "{m:?}"
        );
    }

    #[test]
    fn audit_annotations_are_keyed_by_policy() {
        let spec = json!({"auditAnnotations": [{"key": "high-replica-count", "valueExpression": "'Deployment spec.replicas set to ' + string(object.spec.replicas)"}]});
        let o = run(spec, json!({"spec": {"replicas": 7}})).expect("applies");
        assert_eq!(
            o.audit_annotations,
            vec![(
                "p/high-replica-count".to_string(),
                "Deployment spec.replicas set to 7".to_string()
            )]
        );
        assert_eq!(code("Forbidden"), 403);
        assert_eq!(code("Invalid"), 422);
    }
}
