//! `cfssljson`: turns cfssl's JSON output into PEM files (`NAME.pem`,
//! `NAME-key.pem`, `NAME.csr`).

use serde_json::Value;

use crate::files::{PUBLIC_MODE, SECRET_MODE};

#[derive(Debug, thiserror::Error)]
pub enum CfssljsonError {
    #[error("failed to parse input: {0}")]
    Json(#[from] serde_json::Error),
    #[error("request failed: {0}")]
    RequestFailed(String),
    #[error("input is not a JSON object")]
    NotAnObject,
    #[error("field {0:?} is not a string")]
    NotAString(&'static str),
    #[error("input holds no certificate, key or CSR")]
    Empty,
}

/// One output derived from the input: the file name suffix, the contents
/// and the mode the file gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub suffix: &'static str,
    pub contents: String,
    pub mode: u32,
}

/// Which JSON fields become which files, in cfssljson's order.
const FIELDS: &[(&str, &str, u32)] = &[
    ("cert", ".pem", PUBLIC_MODE),
    ("certificate", ".pem", PUBLIC_MODE),
    ("key", "-key.pem", SECRET_MODE),
    ("csr", ".csr", PUBLIC_MODE),
    ("certificate_request", ".csr", PUBLIC_MODE),
    ("bundle", "-bundle.pem", PUBLIC_MODE),
];

/// Extracts the outputs. Without `bare`, the input is cfssl's API envelope
/// (`{"success": ..., "result": {...}, "errors": [...]}`), as cfssljson
/// expects when not given `-bare`.
pub fn extract(input: &[u8], bare: bool) -> Result<Vec<Output>, CfssljsonError> {
    let value: Value = serde_json::from_slice(input)?;
    let result = if bare {
        value
    } else {
        let success = value
            .get("success")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if !success {
            let messages: Vec<String> = value
                .get("errors")
                .and_then(Value::as_array)
                .map(|errs| {
                    errs.iter()
                        .filter_map(|e| e.get("message").and_then(Value::as_str))
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            let text = if messages.is_empty() {
                "input is not a successful cfssl API response (use -bare for gencert output)"
                    .to_string()
            } else {
                messages.join("; ")
            };
            return Err(CfssljsonError::RequestFailed(text));
        }
        value.get("result").cloned().unwrap_or(Value::Null)
    };
    let object = result.as_object().ok_or(CfssljsonError::NotAnObject)?;
    let mut outputs: Vec<Output> = vec![];
    for (field, suffix, mode) in FIELDS {
        let Some(v) = object.get(*field) else {
            continue;
        };
        let text = v.as_str().ok_or(CfssljsonError::NotAString(field))?;
        if text.is_empty() || outputs.iter().any(|o| o.suffix == *suffix) {
            continue;
        }
        outputs.push(Output {
            suffix,
            contents: text.to_string(),
            mode: *mode,
        });
    }
    if outputs.is_empty() {
        return Err(CfssljsonError::Empty);
    }
    Ok(outputs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_gencert_output() {
        let out = extract(br#"{"cert":"C","csr":"R","key":"K"}"#, true).unwrap();
        let got: Vec<(&str, &str, u32)> = out
            .iter()
            .map(|o| (o.suffix, o.contents.as_str(), o.mode))
            .collect();
        assert_eq!(
            got,
            vec![
                (".pem", "C", 0o644),
                ("-key.pem", "K", 0o600),
                (".csr", "R", 0o644)
            ]
        );
    }

    #[test]
    fn api_envelope() {
        let ok = br#"{"success":true,"result":{"certificate":"C"},"errors":[],"messages":[]}"#;
        assert_eq!(extract(ok, false).unwrap()[0].contents, "C");
        let failed = br#"{"success":false,"result":null,"errors":[{"code":1,"message":"boom"}]}"#;
        assert_eq!(
            extract(failed, false).unwrap_err().to_string(),
            "request failed: boom"
        );
        // gencert output without -bare is refused, as cfssljson does.
        assert!(extract(br#"{"cert":"C"}"#, false).is_err());
    }

    #[test]
    fn refusals() {
        let cases: [(&[u8], &str); 5] = [
            (b"", "failed to parse input"),
            (b"nojson", "failed to parse input"),
            (b"[]", "not a JSON object"),
            (b"{}", "no certificate, key or CSR"),
            (br#"{"cert":5}"#, "\"cert\" is not a string"),
        ];
        for (input, want) in cases {
            let err = extract(input, true).unwrap_err().to_string();
            assert!(err.contains(want), "{err}");
        }
    }
}
