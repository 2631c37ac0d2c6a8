//! Field selectors (`--field-selector`, `fieldSelector=`): a conjunction of
//! `field=value`, `field==value` and `field!=value` terms, with upstream's
//! k8s.io/apimachinery/pkg/fields escaping (`\,` `\=` `\\` in values) and error
//! texts. Which fields a resource supports is the apiserver's business; this
//! module only parses and matches.

use std::fmt;

/// A field selector that cannot be parsed; the text is upstream's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SelectorError(pub String);

/// How a term compares the field's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldOp {
    Equals,
    NotEquals,
}

/// One `field op value` term; `value` is unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub field: String,
    pub op: FieldOp,
    pub value: String,
}

/// A conjunction of terms; empty selects everything.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selector {
    requirements: Vec<Requirement>,
}

/// Operators in the order upstream tries them: `!=` and `==` before `=`, so `a==b`
/// does not leave `=b` as the value.
const OPERATORS: [(&str, FieldOp); 3] = [
    ("!=", FieldOp::NotEquals),
    ("==", FieldOp::Equals),
    ("=", FieldOp::Equals),
];

impl Selector {
    /// The selector that matches everything.
    pub fn everything() -> Selector {
        Selector::default()
    }

    /// Parses `a=b,c==d,e!=f` with `\,` `\=` `\\` escapes in values. Terms are kept
    /// sorted by their source text, as upstream does.
    pub fn parse(s: &str) -> Result<Selector, SelectorError> {
        let mut terms = split_terms(s);
        terms.sort();
        let mut requirements = Vec::new();
        for term in terms.into_iter().filter(|t| !t.is_empty()) {
            let (field, op, raw) = split_term(term).ok_or_else(|| {
                SelectorError(format!(
                    "invalid selector: '{s}'; can't understand '{term}'"
                ))
            })?;
            requirements.push(Requirement {
                field: field.to_string(),
                op,
                value: unescape_value(raw)?,
            });
        }
        Ok(Selector { requirements })
    }

    /// Selects objects whose `field` equals `value` (how controllers ask for e.g. `spec.nodeName=n1`).
    pub fn one_term_equal(field: &str, value: &str) -> Selector {
        Selector {
            requirements: vec![Requirement {
                field: field.to_string(),
                op: FieldOp::Equals,
                value: value.to_string(),
            }],
        }
    }

    /// True when the selector selects everything.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// The terms.
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// Whether every term holds; `get` returns a field's value, a missing field counts as "".
    pub fn matches(&self, get: &dyn Fn(&str) -> Option<String>) -> bool {
        self.requirements.iter().all(|r| {
            let have = get(&r.field).unwrap_or_default();
            match r.op {
                FieldOp::Equals => have == r.value,
                FieldOp::NotEquals => have != r.value,
            }
        })
    }

    /// The value an Equals term requires of `field`, if any (lets a store narrow a list,
    /// e.g. pods by `spec.nodeName`).
    pub fn required_value(&self, field: &str) -> Option<&str> {
        self.requirements
            .iter()
            .find(|r| r.field == field && r.op == FieldOp::Equals)
            .map(|r| r.value.as_str())
    }
}

/// Splits on commas that are not escaped; escapes stay in the terms.
fn split_terms(s: &str) -> Vec<&str> {
    if s.is_empty() {
        return Vec::new();
    }
    let mut terms = Vec::new();
    let mut start = 0;
    let mut in_slash = false;
    for (i, c) in s.char_indices() {
        if in_slash {
            in_slash = false;
        } else if c == '\\' {
            in_slash = true;
        } else if c == ',' {
            terms.push(&s[start..i]);
            start = i + 1;
        }
    }
    terms.push(&s[start..]);
    terms
}

/// Splits a term at the first operator; field names have no escaping.
fn split_term(term: &str) -> Option<(&str, FieldOp, &str)> {
    for (i, _) in term.char_indices() {
        let rest = &term[i..];
        for (text, op) in OPERATORS {
            if let Some(value) = rest.strip_prefix(text) {
                return Some((&term[..i], op, value));
            }
        }
    }
    None
}

/// Undoes `\\`, `\,` and `\=`; a bare `,` or `=`, or any other escape, is an error.
pub fn unescape_value(s: &str) -> Result<String, SelectorError> {
    let mut out = String::with_capacity(s.len());
    let mut in_slash = false;
    for c in s.chars() {
        if in_slash {
            if !matches!(c, '\\' | ',' | '=') {
                return Err(SelectorError(format!(
                    "invalid field selector: invalid escape sequence: \\{c}"
                )));
            }
            out.push(c);
            in_slash = false;
            continue;
        }
        match c {
            '\\' => in_slash = true,
            // Upstream prints the rune with %v, i.e. as its code point number.
            ',' | '=' => {
                return Err(SelectorError(format!(
                    "invalid field selector: unescaped character in value: {}",
                    c as u32
                )));
            }
            c => out.push(c),
        }
    }
    if in_slash {
        return Err(SelectorError(
            "invalid field selector: invalid escape sequence: \\".to_string(),
        ));
    }
    Ok(out)
}

/// Escapes `\`, `,` and `=` so a value survives a round trip through `parse`.
pub fn escape_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | ',' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.op {
            FieldOp::Equals => "=",
            FieldOp::NotEquals => "!=",
        };
        write!(f, "{}{op}{}", self.field, escape_value(&self.value))
    }
}

impl fmt::Display for Selector {
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
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn parses_terms() {
        let cases = [
            ("", ""),
            ("a=b", "a=b"),
            ("a==b", "a=b"),
            ("a!=b", "a!=b"),
            ("b=c,a=b", "a=b,b=c"),
            ("metadata.name=web-0", "metadata.name=web-0"),
            ("spec.nodeName=", "spec.nodeName="),
            (
                "status.phase!=Running,spec.nodeName=n1",
                "spec.nodeName=n1,status.phase!=Running",
            ),
            ("a=b\\,c", "a=b\\,c"),
            ("a=b\\=c", "a=b\\=c"),
            ("a=b\\\\c", "a=b\\\\c"),
            ("a=b,", "a=b"),
            (",a=b", "a=b"),
            ("x=a b", "x=a b"),
        ];
        for (input, want) in cases {
            let s = Selector::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(s.to_string(), want, "{input:?}");
        }
        let s = Selector::parse("a=b\\,c,d!=e\\=f\\\\").unwrap();
        assert_eq!(
            s.requirements(),
            &[
                Requirement {
                    field: "a".into(),
                    op: FieldOp::Equals,
                    value: "b,c".into()
                },
                Requirement {
                    field: "d".into(),
                    op: FieldOp::NotEquals,
                    value: "e=f\\".into()
                },
            ]
        );
    }

    #[test]
    fn rejects_with_upstream_messages() {
        let cases = [
            ("a", "invalid selector: 'a'; can't understand 'a'"),
            ("a=b,c", "invalid selector: 'a=b,c'; can't understand 'c'"),
            (
                "a=b=c",
                "invalid field selector: unescaped character in value: 61",
            ),
            (
                "a==b,c=d,e",
                "invalid selector: 'a==b,c=d,e'; can't understand 'e'",
            ),
            (
                "a=b\\c",
                "invalid field selector: invalid escape sequence: \\c",
            ),
            (
                "a=b\\",
                "invalid field selector: invalid escape sequence: \\",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(
                Selector::parse(input).map(|s| s.to_string()),
                Err(SelectorError(want.to_string())),
                "{input:?}"
            );
        }
    }

    #[test]
    fn matches_fields() {
        let fields: BTreeMap<&str, &str> = [
            ("metadata.name", "web-0"),
            ("spec.nodeName", "n1"),
            ("status.phase", "Running"),
        ]
        .into_iter()
        .collect();
        let get = |k: &str| fields.get(k).map(|v| v.to_string());
        let cases = [
            ("", true),
            ("metadata.name=web-0", true),
            ("metadata.name==web-1", false),
            ("spec.nodeName=n1,status.phase=Running", true),
            ("spec.nodeName=n1,status.phase!=Running", false),
            ("spec.schedulerName=", true),
            ("spec.schedulerName!=", false),
            ("spec.schedulerName!=x", true),
        ];
        for (sel, want) in cases {
            let s = Selector::parse(sel).expect(sel);
            assert_eq!(s.matches(&get), want, "{sel}");
        }
        assert_eq!(
            Selector::parse("spec.nodeName=n1")
                .unwrap()
                .required_value("spec.nodeName"),
            Some("n1")
        );
        assert!(Selector::one_term_equal("spec.nodeName", "n1").matches(&get));
    }
}
