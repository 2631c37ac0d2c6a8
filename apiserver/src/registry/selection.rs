//! Which objects a list or watch returns: label and field selectors from
//! the query, checked against the kind's selectable fields.

use super::strategy::Strategy;
use crate::status::ApiError;
use apimachinery::{fields, labels};
use serde_json::Value;

/// A parsed `labelSelector` + `fieldSelector`.
#[derive(Clone)]
pub struct Filter {
    labels: labels::Selector,
    fields: fields::Selector,
    strategy: &'static dyn Strategy,
}

impl Filter {
    /// Parses both selectors; an unknown field label or bad syntax is a 400.
    pub fn new(
        label_selector: Option<&str>,
        field_selector: Option<&str>,
        strategy: &'static dyn Strategy,
    ) -> Result<Filter, ApiError> {
        let labels = match label_selector.filter(|s| !s.trim().is_empty()) {
            Some(s) => labels::Selector::parse(s)
                .map_err(|e| ApiError::bad_request(format!("unable to parse requirement: {e}")))?,
            None => labels::Selector::everything(),
        };
        let fields = match field_selector.filter(|s| !s.trim().is_empty()) {
            Some(s) => {
                fields::Selector::parse(s).map_err(|e| ApiError::bad_request(e.to_string()))?
            }
            None => fields::Selector::everything(),
        };
        for r in fields.requirements() {
            let known = r.field == "metadata.name"
                || r.field == "metadata.namespace"
                || strategy.selectable_fields().contains(&r.field.as_str());
            if !known {
                return Err(ApiError::bad_request(format!(
                    "field label not supported: {}",
                    r.field
                )));
            }
        }
        Ok(Filter {
            labels,
            fields,
            strategy,
        })
    }

    pub fn matches(&self, obj: &Value) -> bool {
        if !self.labels.matches_value(obj.pointer("/metadata/labels")) {
            return false;
        }
        if self.fields.requirements().is_empty() {
            return true;
        }
        let get = |f: &str| -> Option<String> {
            match f {
                "metadata.name" => Some(super::meta::name(obj).to_string()),
                "metadata.namespace" => Some(super::meta::namespace(obj).to_string()),
                other => self.strategy.field_value(obj, other),
            }
        };
        self.fields.matches(&get)
    }

    /// The only name a `metadata.name=x` selector allows (lets a watch of
    /// one object, as `kubectl get pod x -w` does, stay cheap).
    pub fn single_name(&self) -> Option<&str> {
        self.fields
            .requirements()
            .iter()
            .find(|r| r.field == "metadata.name" && r.op == fields::FieldOp::Equals)
            .map(|r| r.value.as_str())
    }

    /// The value an `<field>=<value>` requirement pins `field` to (what a
    /// watch is indexed by: a kubelet's `spec.nodeName=<node>`).
    pub fn exact_field(&self, field: &str) -> Option<&str> {
        self.fields
            .requirements()
            .iter()
            .find(|r| r.field == field && r.op == fields::FieldOp::Equals)
            .map(|r| r.value.as_str())
    }
}
