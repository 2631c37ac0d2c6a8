//! Turns a method and path into what authorization and routing need: the
//! verb, group, version, resource, subresource, namespace and name, as
//! upstream's RequestInfo does.

use crate::status::ApiError;
use std::collections::HashMap;
use std::time::Duration;

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequestInfo {
    /// False for `/healthz`, `/version`, discovery roots, ...
    pub is_resource_request: bool,
    pub path: String,
    /// Kubernetes verb: get, list, watch, create, update, patch, delete,
    /// deletecollection (or the lowercased HTTP method for non-resource paths).
    pub verb: String,
    /// `/api` (core) or `/apis`.
    pub prefix: String,
    pub api_group: String,
    pub api_version: String,
    pub namespace: String,
    pub resource: String,
    pub subresource: String,
    pub name: String,
    /// Path segments after the resource prefix (discovery uses them).
    pub parts: Vec<String>,
    /// The `fieldSelector` query parameter (the Node authorizer allows a
    /// kubelet's pod list/watch scoped to `spec.nodeName=<its node>`).
    pub field_selector: String,
}

/// Query parameters, decoded (the first value of a repeated key wins, as
/// upstream's parameter codec reads `values[0]`).
pub type Query = HashMap<String, String>;

/// Decodes `a=b&c=d%20e` into a map.
pub fn parse_query(q: Option<&str>) -> Query {
    let mut out = HashMap::new();
    for pair in q.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        out.entry(decode_component(k))
            .or_insert_with(|| decode_component(v));
    }
    out
}

fn decode_component(s: &str) -> String {
    let s = s.replace('+', " ");
    percent_encoding::percent_decode_str(&s)
        .decode_utf8_lossy()
        .into_owned()
}

/// A boolean query parameter as upstream's parameter codec reads it
/// (`Convert_Slice_string_To_bool`): `0` and `false` in any case are
/// false, every other value (even an empty one, or `garbage`) is true.
/// Always `Some`: a present boolean never fails to decode.
pub fn parse_bool(s: &str) -> Option<bool> {
    Some(!(s == "0" || s.eq_ignore_ascii_case("false")))
}

/// Whether the boolean query parameter `name` is present and true.
pub fn query_flag(q: &Query, name: &str) -> bool {
    q.get(name).and_then(|v| parse_bool(v)) == Some(true)
}

/// `watch=<anything but false or 0>` turns a list into a watch.
pub fn is_watch_param(q: &Query) -> bool {
    query_flag(q, "watch")
}

/// An int64 query parameter as upstream's codec reads it (Go's
/// `strconv.ParseInt(s, 10, 64)`): a 400 with Go's error text when it is
/// not a base-10 integer in range.
pub fn query_int64(q: &Query, name: &str) -> Result<Option<i64>, ApiError> {
    let Some(v) = q.get(name) else {
        return Ok(None);
    };
    parse_int64(v).map(Some).map_err(ApiError::bad_request)
}

/// Go's `strconv.ParseInt(s, 10, 64)`: an optional sign and ASCII digits.
fn parse_int64(s: &str) -> Result<i64, String> {
    let quoted = serde_json::to_string(s).unwrap_or_default();
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "strconv.ParseInt: parsing {quoted}: invalid syntax"
        ));
    }
    s.parse::<i64>()
        .map_err(|_| format!("strconv.ParseInt: parsing {quoted}: value out of range"))
}

/// Decodes the query of a list or watch as upstream's parameter codec
/// decodes `ListOptions`: the integers (`limit`, `timeoutSeconds`) must
/// parse, or the request is a 400 before anything is read.
pub fn check_list_options(q: &Query) -> Result<(), ApiError> {
    query_int64(q, "limit")?;
    query_int64(q, "timeoutSeconds")?;
    Ok(())
}

/// The longest a watch stays open, and how long one without
/// `timeoutSeconds` (or with `0`) lasts.
pub const MAX_WATCH: Duration = Duration::from_secs(1800);

/// How long a watch runs: `timeoutSeconds` capped at [`MAX_WATCH`];
/// absent or `0` is [`MAX_WATCH`], and a negative value ends the watch at
/// once (upstream's timer of a negative duration fires immediately), so a
/// watch always ends. Call after [`check_list_options`].
pub fn watch_timeout(q: &Query) -> Duration {
    match q.get("timeoutSeconds").and_then(|t| parse_int64(t).ok()) {
        None | Some(0) => MAX_WATCH,
        Some(t) if t < 0 => Duration::ZERO,
        Some(t) => Duration::from_secs(t as u64).min(MAX_WATCH),
    }
}

/// Upstream's request-info parsing.
pub fn request_info(method: &str, path: &str, query: &Query) -> RequestInfo {
    let mut info = RequestInfo {
        path: path.to_string(),
        verb: method.to_ascii_lowercase(),
        field_selector: query.get("fieldSelector").cloned().unwrap_or_default(),
        ..Default::default()
    };
    let segs: Vec<String> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(decode_component)
        .collect();
    let Some(first) = segs.first() else {
        return info;
    };
    let mut rest: &[String] = match first.as_str() {
        "api" if segs.len() >= 2 => {
            info.prefix = "api".into();
            info.api_version = segs[1].clone();
            &segs[2..]
        }
        "apis" if segs.len() >= 3 => {
            info.prefix = "apis".into();
            info.api_group = segs[1].clone();
            info.api_version = segs[2].clone();
            &segs[3..]
        }
        _ => return info,
    };
    info.parts = rest.to_vec();
    if rest.is_empty() {
        return info;
    }
    info.is_resource_request = true;
    let mut watch_path = false;
    if rest[0] == "watch" {
        watch_path = true;
        rest = &rest[1..];
    }
    if rest.first().map(String::as_str) == Some("namespaces") && rest.len() > 1 {
        info.namespace = rest[1].clone();
        if rest.len() > 2 && rest[2] != "status" && rest[2] != "finalize" {
            rest = &rest[2..];
        }
    }
    if let Some(r) = rest.first() {
        info.resource = r.clone();
    }
    if let Some(n) = rest.get(1) {
        info.name = n.clone();
    }
    if let Some(s) = rest.get(2) {
        info.subresource = s.clone();
    }
    if info.resource == "namespaces" && info.subresource.is_empty() && info.name.is_empty() {
        info.namespace.clear();
    }
    info.verb = match method {
        "GET" | "HEAD" => {
            if watch_path || is_watch_param(query) {
                "watch"
            } else if info.name.is_empty() {
                "list"
            } else {
                "get"
            }
        }
        "POST" => "create",
        "PUT" => "update",
        "PATCH" => "patch",
        "DELETE" => {
            if info.name.is_empty() {
                "deletecollection"
            } else {
                "delete"
            }
        }
        other => {
            return RequestInfo {
                verb: other.to_ascii_lowercase(),
                ..info
            };
        }
    }
    .to_string();
    info
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ri(method: &str, path: &str) -> RequestInfo {
        let (p, q) = path.split_once('?').unwrap_or((path, ""));
        request_info(method, p, &parse_query(Some(q)))
    }

    #[test]
    fn table() {
        // (method, path, verb, group, version, ns, resource, name, sub)
        let cases = [
            (
                "GET",
                "/api/v1/namespaces/default/pods",
                "list",
                "",
                "v1",
                "default",
                "pods",
                "",
                "",
            ),
            (
                "GET",
                "/api/v1/namespaces/default/pods/web",
                "get",
                "",
                "v1",
                "default",
                "pods",
                "web",
                "",
            ),
            (
                "PUT",
                "/api/v1/namespaces/default/pods/web/status",
                "update",
                "",
                "v1",
                "default",
                "pods",
                "web",
                "status",
            ),
            (
                "GET",
                "/api/v1/pods?watch=true",
                "watch",
                "",
                "v1",
                "",
                "pods",
                "",
                "",
            ),
            (
                "GET",
                "/api/v1/watch/namespaces/kube-system/pods",
                "watch",
                "",
                "v1",
                "kube-system",
                "pods",
                "",
                "",
            ),
            (
                "GET",
                "/api/v1/namespaces",
                "list",
                "",
                "v1",
                "",
                "namespaces",
                "",
                "",
            ),
            (
                "GET",
                "/api/v1/namespaces/default",
                "get",
                "",
                "v1",
                "default",
                "namespaces",
                "default",
                "",
            ),
            (
                "PUT",
                "/api/v1/namespaces/ns1/finalize",
                "update",
                "",
                "v1",
                "ns1",
                "namespaces",
                "ns1",
                "finalize",
            ),
            (
                "DELETE",
                "/apis/apps/v1/namespaces/a/deployments",
                "deletecollection",
                "apps",
                "v1",
                "a",
                "deployments",
                "",
                "",
            ),
            (
                "POST",
                "/apis/apps/v1/namespaces/a/deployments",
                "create",
                "apps",
                "v1",
                "a",
                "deployments",
                "",
                "",
            ),
            (
                "PATCH",
                "/api/v1/nodes/n1/status",
                "patch",
                "",
                "v1",
                "",
                "nodes",
                "n1",
                "status",
            ),
        ];
        for (m, p, verb, g, v, ns, res, name, sub) in cases {
            let i = ri(m, p);
            assert!(i.is_resource_request, "{p}");
            assert_eq!(
                (
                    i.verb.as_str(),
                    i.api_group.as_str(),
                    i.api_version.as_str(),
                    i.namespace.as_str(),
                    i.resource.as_str(),
                    i.name.as_str(),
                    i.subresource.as_str()
                ),
                (verb, g, v, ns, res, name, sub),
                "{m} {p}"
            );
        }
    }

    #[test]
    fn non_resource_paths() {
        for p in [
            "/healthz",
            "/version",
            "/api",
            "/apis",
            "/apis/apps",
            "/api/v1",
            "/apis/apps/v1",
        ] {
            let i = ri("GET", p);
            assert!(!i.is_resource_request, "{p}");
            assert_eq!(i.verb, "get");
        }
    }

    #[test]
    fn query_decoding() {
        let q = parse_query(Some("labelSelector=app%3Dweb%2Ctier+in+(a)&limit=5"));
        assert_eq!(
            q.get("labelSelector").map(String::as_str),
            Some("app=web,tier in (a)")
        );
        assert_eq!(q.get("limit").map(String::as_str), Some("5"));
        // The first of a repeated key wins, as upstream reads `values[0]`.
        let q = parse_query(Some("watch=false&watch=true"));
        assert!(!is_watch_param(&q));
    }

    /// Upstream's codec: only absent, `0` and `false` (any case) are false.
    #[test]
    fn booleans_as_upstreams_parameter_codec() {
        for (v, want) in [
            ("true", true),
            ("garbage", true),
            ("", true),
            ("1", true),
            ("True", true),
            ("0", false),
            ("false", false),
            ("FALSE", false),
            ("False", false),
        ] {
            assert_eq!(parse_bool(v), Some(want), "{v:?}");
        }
        assert_eq!(ri("GET", "/api/v1/pods?watch=garbage").verb, "watch");
        assert_eq!(ri("GET", "/api/v1/pods?watch=0").verb, "list");
        assert_eq!(ri("GET", "/api/v1/pods?watch").verb, "watch");
    }

    #[test]
    fn integers_as_go_parse_int() {
        let q = |s: &str| parse_query(Some(s));
        assert_eq!(query_int64(&q("limit=5"), "limit"), Ok(Some(5)));
        assert_eq!(query_int64(&q("limit=-5"), "limit"), Ok(Some(-5)));
        assert_eq!(query_int64(&q("limit=%2B5"), "limit"), Ok(Some(5)));
        assert_eq!(query_int64(&q(""), "limit"), Ok(None));
        for (v, msg) in [
            ("abc", "strconv.ParseInt: parsing \"abc\": invalid syntax"),
            (
                "-4.7e16",
                "strconv.ParseInt: parsing \"-4.7e16\": invalid syntax",
            ),
            ("", "strconv.ParseInt: parsing \"\": invalid syntax"),
            (
                "99999999999999999999",
                "strconv.ParseInt: parsing \"99999999999999999999\": value out of range",
            ),
        ] {
            let e = query_int64(&q(&format!("limit={v}")), "limit").expect_err(v);
            assert_eq!((e.code, e.message.as_str()), (400, msg));
        }
        assert!(check_list_options(&q("limit=abc")).is_err());
        assert!(check_list_options(&q("timeoutSeconds=1.5")).is_err());
        assert!(check_list_options(&q("limit=10&timeoutSeconds=-6932")).is_ok());
    }

    #[test]
    fn every_watch_ends() {
        let t = |s: &str| watch_timeout(&parse_query(Some(s)));
        assert_eq!(t("timeoutSeconds=-6932"), Duration::ZERO);
        assert_eq!(t("timeoutSeconds=-5"), Duration::ZERO);
        assert_eq!(t("timeoutSeconds=5"), Duration::from_secs(5));
        assert_eq!(t("timeoutSeconds=0"), MAX_WATCH);
        assert_eq!(t(""), MAX_WATCH);
        assert_eq!(t("timeoutSeconds=99999999"), MAX_WATCH);
    }
}
