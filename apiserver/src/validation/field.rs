//! Field errors as upstream's `k8s.io/apimachinery/pkg/util/validation/field`
//! reports them: a path (`spec.containers[0].name`), a type, the bad value
//! and a detail. `Display` gives upstream's message form, and
//! [`FieldError::cause`] the `StatusCause` that goes into a 422 response.

use serde_json::{Value, json};
use std::fmt;

/// Upstream's `field.ErrorType`: the reason shown in causes and the
/// prefix of the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    NotFound,
    Required,
    Duplicate,
    Invalid,
    NotSupported,
    Forbidden,
    TooLong,
    TooMany,
    Internal,
}

impl ErrorType {
    /// The `reason` of a `StatusCause`.
    pub fn reason(self) -> &'static str {
        match self {
            ErrorType::NotFound => "FieldValueNotFound",
            ErrorType::Required => "FieldValueRequired",
            ErrorType::Duplicate => "FieldValueDuplicate",
            ErrorType::Invalid => "FieldValueInvalid",
            ErrorType::NotSupported => "FieldValueNotSupported",
            ErrorType::Forbidden => "FieldValueForbidden",
            ErrorType::TooLong => "FieldValueTooLong",
            ErrorType::TooMany => "FieldValueTooMany",
            ErrorType::Internal => "InternalError",
        }
    }

    /// The human text that starts every message of this type.
    pub fn text(self) -> &'static str {
        match self {
            ErrorType::NotFound => "Not found",
            ErrorType::Required => "Required value",
            ErrorType::Duplicate => "Duplicate value",
            ErrorType::Invalid => "Invalid value",
            ErrorType::NotSupported => "Unsupported value",
            ErrorType::Forbidden => "Forbidden",
            ErrorType::TooLong => "Too long",
            ErrorType::TooMany => "Too many",
            ErrorType::Internal => "Internal error",
        }
    }
}

/// One problem with one field.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub kind: ErrorType,
    /// Upstream's path syntax: `metadata.labels[app]`, `spec.ports[0].port`.
    pub field: String,
    /// The offending value; `Value::Null` when the type shows no value.
    pub value: Value,
    pub detail: String,
}

impl FieldError {
    pub fn new(
        kind: ErrorType,
        field: impl Into<String>,
        value: Value,
        detail: impl Into<String>,
    ) -> Self {
        FieldError {
            kind,
            field: field.into(),
            value,
            detail: detail.into(),
        }
    }
    pub fn required(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(ErrorType::Required, field, Value::Null, detail)
    }
    pub fn invalid(field: impl Into<String>, value: Value, detail: impl Into<String>) -> Self {
        Self::new(ErrorType::Invalid, field, value, detail)
    }
    pub fn forbidden(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(ErrorType::Forbidden, field, Value::Null, detail)
    }
    pub fn not_supported(field: impl Into<String>, value: Value, supported: &[&str]) -> Self {
        let quoted: Vec<String> = supported.iter().map(|s| format!("\"{s}\"")).collect();
        Self::new(
            ErrorType::NotSupported,
            field,
            value,
            format!("supported values: {}", quoted.join(", ")),
        )
    }
    pub fn duplicate(field: impl Into<String>, value: Value) -> Self {
        Self::new(ErrorType::Duplicate, field, value, "")
    }
    pub fn not_found(field: impl Into<String>, value: Value) -> Self {
        Self::new(ErrorType::NotFound, field, value, "")
    }
    /// Upstream's `field.TooLong`: the value is never shown.
    pub fn too_long(field: impl Into<String>, max_bytes: usize) -> Self {
        Self::new(
            ErrorType::TooLong,
            field,
            Value::Null,
            format!("must have at most {max_bytes} bytes"),
        )
    }
    /// Upstream's `field.TooMany`.
    pub fn too_many(field: impl Into<String>, actual: usize, max: usize) -> Self {
        Self::new(
            ErrorType::TooMany,
            field,
            json!(actual),
            format!("must have at most {max} items"),
        )
    }
    /// An `Invalid` error whose value upstream prints as a Go literal that
    /// JSON cannot carry (`v1.LabelSelector{MatchLabels:...}`); `literal`
    /// is shown verbatim.
    pub fn invalid_literal(
        field: impl Into<String>,
        literal: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        Self::with_literal(ErrorType::Invalid, field, literal, detail)
    }
    /// Any error type with a verbatim Go literal as its value.
    pub fn with_literal(
        kind: ErrorType,
        field: impl Into<String>,
        literal: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        let mut carrier = serde_json::Map::new();
        carrier.insert(GO_LITERAL_KEY.to_string(), Value::String(literal.into()));
        Self::new(kind, field, Value::Object(carrier), detail)
    }

    /// The message without the field path, as a `StatusCause` carries it.
    pub fn body(&self) -> String {
        let mut s = self.kind.text().to_string();
        let shows_value = !matches!(
            self.kind,
            ErrorType::Required | ErrorType::Forbidden | ErrorType::TooLong | ErrorType::Internal
        );
        if shows_value && !self.value.is_null() {
            s.push_str(": ");
            s.push_str(&render_value(&self.value));
        }
        if !self.detail.is_empty() {
            s.push_str(": ");
            s.push_str(&self.detail);
        }
        s
    }

    /// `{"reason": ..., "message": ..., "field": ...}` for `Status.details.causes`.
    pub fn cause(&self) -> Value {
        json!({ "reason": self.kind.reason(), "message": self.body(), "field": self.field })
    }
}

/// The key of the one-entry object that carries a verbatim Go literal
/// (see [`FieldError::invalid_literal`]).
const GO_LITERAL_KEY: &str = "$goLiteral";

/// Values print the way Go's `%v`/`%q`/`%#v` shows them in upstream
/// messages: strings quoted, numbers and booleans bare, string maps as
/// `map[string]string{"k":"v"}`, string lists as `[]string{"a", "b"}`,
/// other JSON compact.
fn render_value(v: &Value) -> String {
    match v {
        Value::String(s) => go_quote(s),
        Value::Object(m) if m.len() == 1 && m.contains_key(GO_LITERAL_KEY) => {
            match &m[GO_LITERAL_KEY] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            }
        }
        Value::Object(m) if m.values().all(Value::is_string) => {
            // Go's fmt prints maps with sorted keys; serde_json's map is sorted too.
            let items: Vec<String> = m
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{}:{}",
                        go_quote(k),
                        go_quote(v.as_str().unwrap_or_default())
                    )
                })
                .collect();
            format!("map[string]string{{{}}}", items.join(", "))
        }
        Value::Array(a) if !a.is_empty() && a.iter().all(Value::is_string) => {
            let items: Vec<String> = a
                .iter()
                .map(|v| go_quote(v.as_str().unwrap_or_default()))
                .collect();
            format!("[]string{{{}}}", items.join(", "))
        }
        other => other.to_string(),
    }
}

/// Go's `%q`: double quotes with Go escapes (close to Rust's `{:?}` for
/// the printable ASCII that names and labels use).
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.body())
    }
}

/// All the problems found in one object.
pub type ErrorList = Vec<FieldError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_like_upstream() {
        let e = FieldError::required("spec.containers[0].name", "");
        assert_eq!(e.to_string(), "spec.containers[0].name: Required value");
        let e = FieldError::invalid("metadata.name", json!("Foo"), "must be lowercase");
        assert_eq!(
            e.to_string(),
            "metadata.name: Invalid value: \"Foo\": must be lowercase"
        );
        let e = FieldError::not_supported(
            "spec.restartPolicy",
            json!("Sometimes"),
            &["Always", "Never"],
        );
        assert_eq!(
            e.to_string(),
            "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"Never\""
        );
        assert_eq!(e.cause()["reason"], "FieldValueNotSupported");
    }
}
