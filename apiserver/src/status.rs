//! API errors and the `meta.k8s.io/v1` `Status` object every failure is
//! answered with. Handlers return [`ApiError`]; the server renders it with
//! the HTTP code upstream uses for the reason.

use crate::validation::ErrorList;
use serde_json::{Value, json};

/// One failed request, carrying what the `Status` needs.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub code: u16,
    /// Upstream's `StatusReason` ("NotFound", "Conflict", ...); empty for none.
    pub reason: &'static str,
    pub message: String,
    /// `details` (name, group, kind, causes, retryAfterSeconds); `Null` for none.
    pub details: Value,
}

/// Identifies the object a `Status` talks about: group, resource plural and name.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub group: &'a str,
    pub resource: &'a str,
    pub name: &'a str,
}

impl Target<'_> {
    /// `pods "x"` or `deployments.apps "x"`, as upstream's messages qualify resources.
    fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.resource.to_string()
        } else {
            format!("{}.{}", self.resource, self.group)
        }
    }

    fn details(&self) -> Value {
        let mut d = json!({ "name": self.name, "kind": self.resource });
        if !self.group.is_empty() {
            d["group"] = json!(self.group);
        }
        d
    }
}

impl ApiError {
    pub fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            reason,
            message: message.into(),
            details: Value::Null,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    pub fn unauthorized() -> Self {
        Self::new(401, "Unauthorized", "Unauthorized")
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(403, "Forbidden", message)
    }

    /// A path that names no resource at all: upstream answers a bare 404.
    pub fn not_found_path() -> Self {
        Self::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
    }

    pub fn not_found(t: Target<'_>) -> Self {
        let mut e = Self::new(
            404,
            "NotFound",
            format!("{} \"{}\" not found", t.qualified(), t.name),
        );
        e.details = t.details();
        e
    }

    pub fn already_exists(t: Target<'_>) -> Self {
        let mut e = Self::new(
            409,
            "AlreadyExists",
            format!("{} \"{}\" already exists", t.qualified(), t.name),
        );
        e.details = t.details();
        e
    }

    /// A stale resourceVersion or failed precondition.
    pub fn conflict(t: Target<'_>, why: &str) -> Self {
        let mut e = Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{}\": {}",
                t.qualified(),
                t.name,
                why
            ),
        );
        e.details = t.details();
        e
    }

    /// Upstream's text for a write against a resourceVersion that is no longer current.
    pub fn stale(t: Target<'_>) -> Self {
        Self::conflict(
            t,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    pub fn method_not_supported(t: Target<'_>, verb: &str) -> Self {
        let mut e = Self::new(
            405,
            "MethodNotAllowed",
            format!(
                "the server does not allow this method on the requested resource ({verb} {})",
                t.qualified()
            ),
        );
        e.details = t.details();
        e
    }

    pub fn gone(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message)
    }

    pub fn too_large() -> Self {
        Self::new(
            413,
            "RequestEntityTooLarge",
            "Request entity too large: limit is 3145728",
        )
    }

    pub fn unsupported_media_type(content_type: &str) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got {content_type:?})"
            ),
        )
    }

    pub fn not_acceptable() -> Self {
        Self::new(
            406,
            "NotAcceptable",
            "only the following media types are accepted: application/json, application/yaml",
        )
    }

    /// 422 with one cause per field error: `Pod "x" is invalid: [a, b]`.
    pub fn invalid(kind: &str, group: &str, name: &str, errs: &ErrorList) -> Self {
        let list = if errs.len() == 1 {
            errs[0].to_string()
        } else {
            let all: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
            format!("[{}]", all.join(", "))
        };
        let mut e = Self::new(
            422,
            "Invalid",
            format!("{kind} \"{name}\" is invalid: {list}"),
        );
        let causes: Vec<Value> = errs.iter().map(|e| e.cause()).collect();
        e.details = json!({ "name": name, "kind": kind, "causes": causes });
        if !group.is_empty() {
            e.details["group"] = json!(group);
        }
        e
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(
            500,
            "InternalError",
            format!("Internal error occurred: {}", message.into()),
        )
    }

    /// etcd unreachable: clients retry a 503 with Retry-After.
    pub fn unavailable(message: impl Into<String>) -> Self {
        let mut e = Self::new(503, "ServiceUnavailable", message);
        e.details = json!({ "retryAfterSeconds": 1 });
        e
    }

    pub fn timeout(message: impl Into<String>) -> Self {
        let mut e = Self::new(504, "Timeout", message);
        e.details = json!({ "retryAfterSeconds": 1 });
        e
    }

    /// The `Status` object sent as the response body.
    pub fn to_status(&self) -> Value {
        let mut s = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "code": self.code,
        });
        if !self.reason.is_empty() {
            s["reason"] = json!(self.reason);
        }
        if !self.details.is_null() {
            s["details"] = self.details.clone();
        }
        s
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.code, self.reason, self.message)
    }
}

impl std::error::Error for ApiError {}

/// The `Status` a successful delete of a virtual resource (or a
/// deletecollection without objects) answers with.
pub fn success(details: Value) -> Value {
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validation::FieldError;

    const POD: Target<'static> = Target {
        group: "",
        resource: "pods",
        name: "x",
    };

    #[test]
    fn conflict_message_matches_upstream() {
        let e = ApiError::stale(POD);
        assert_eq!(e.code, 409);
        assert_eq!(
            e.message,
            "Operation cannot be fulfilled on pods \"x\": the object has been modified; please apply your changes to the latest version and try again"
        );
        let s = e.to_status();
        assert_eq!(s["reason"], "Conflict");
        assert_eq!(s["details"]["kind"], "pods");
    }

    #[test]
    fn grouped_resources_are_qualified() {
        let t = Target {
            group: "apps",
            resource: "deployments",
            name: "web",
        };
        assert_eq!(
            ApiError::already_exists(t).message,
            "deployments.apps \"web\" already exists"
        );
        assert_eq!(
            ApiError::not_found(t).to_status()["details"]["group"],
            "apps"
        );
    }

    #[test]
    fn invalid_lists_every_cause() {
        let errs = vec![
            FieldError::required("spec.containers[0].image", ""),
            FieldError::required("spec.containers[0].name", ""),
        ];
        let e = ApiError::invalid("Pod", "", "x", &errs);
        assert_eq!(e.code, 422);
        assert_eq!(
            e.message,
            "Pod \"x\" is invalid: [spec.containers[0].image: Required value, spec.containers[0].name: Required value]"
        );
        assert_eq!(e.details["causes"].as_array().map(|a| a.len()), Some(2));
        let one = ApiError::invalid("Pod", "", "x", &errs[..1].to_vec());
        assert_eq!(
            one.message,
            "Pod \"x\" is invalid: spec.containers[0].image: Required value"
        );
    }
}
