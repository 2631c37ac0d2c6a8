//! Where a connect request goes: the pure part of `pods/log`, `pods/exec`,
//! `pods/attach`, `pods/portforward`, `pods/proxy`, `services/proxy` and
//! `nodes/proxy` (which node, which kubelet path), with upstream's answers
//! for requests that cannot go anywhere.

use crate::handlers::request::Query;
use crate::status::ApiError;
use serde_json::Value;

/// The kubelet's port when the Node does not report one.
pub const DEFAULT_KUBELET_PORT: u16 = 10250;

/// What a connect request asks the node for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub node: String,
    /// Path and query on the kubelet (`/containerLogs/ns/pod/c?follow=true`).
    pub path: String,
}

/// Which container a pod request means: the named one (it must exist) or
/// the only one.
pub fn container_name(pod: &Value, requested: Option<&str>) -> Result<String, ApiError> {
    let name = pod
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let names = |field: &str| -> Vec<String> {
        pod.pointer(&format!("/spec/{field}"))
            .and_then(Value::as_array)
            .map(|cs| {
                cs.iter()
                    .filter_map(|c| c.get("name").and_then(Value::as_str))
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default()
    };
    let containers = names("containers");
    match requested.filter(|c| !c.is_empty()) {
        Some(c) => {
            let known = containers.iter().any(|n| n == c)
                || names("initContainers").iter().any(|n| n == c)
                || names("ephemeralContainers").iter().any(|n| n == c);
            if known {
                Ok(c.to_string())
            } else {
                Err(ApiError::bad_request(format!(
                    "container {c} is not valid for pod {name}"
                )))
            }
        }
        None if containers.len() == 1 => Ok(containers[0].clone()),
        None => Err(ApiError::bad_request(format!(
            "a container name must be specified for pod {name}, choose one of: [{}]",
            containers.join(" ")
        ))),
    }
}

/// The node a pod runs on; upstream's 400 when it has none yet.
pub fn pod_node(pod: &Value) -> Result<String, ApiError> {
    let node = pod
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .unwrap_or("");
    if node.is_empty() {
        let name = pod
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        return Err(ApiError::bad_request(format!(
            "pod {name} does not have a host assigned"
        )));
    }
    Ok(node.to_string())
}

fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The query parameters passed on to the kubelet, in a stable order
/// (`command` may repeat, so it comes from the raw query).
fn forward_query(raw_query: Option<&str>, keep: &[&str]) -> String {
    let mut out = Vec::new();
    for pair in raw_query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let key = pair.split_once('=').map(|(k, _)| k).unwrap_or(pair);
        if keep.contains(&key) {
            out.push(pair.to_string());
        }
    }
    if out.is_empty() {
        String::new()
    } else {
        format!("?{}", out.join("&"))
    }
}

/// The kubelet location of a pod subresource (`log`, `exec`, `attach`,
/// `portforward`), after checking the container and the node.
pub fn pod_location(
    pod: &Value,
    subresource: &str,
    query: &Query,
    raw_query: Option<&str>,
) -> Result<Location, ApiError> {
    let ns = pod
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("");
    let name = pod
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let container = if subresource == "portforward" {
        String::new()
    } else {
        container_name(pod, query.get("container").map(String::as_str))?
    };
    let node = pod_node(pod)?;
    let path = match subresource {
        "log" => format!(
            "/containerLogs/{}/{}/{}{}",
            encode(ns),
            encode(name),
            encode(&container),
            forward_query(
                raw_query,
                &[
                    "follow",
                    "previous",
                    "sinceSeconds",
                    "sinceTime",
                    "timestamps",
                    "tailLines",
                    "limitBytes",
                ]
            )
        ),
        "exec" | "attach" => format!(
            "/{subresource}/{}/{}/{}{}",
            encode(ns),
            encode(name),
            encode(&container),
            forward_query(raw_query, &["command", "stdin", "stdout", "stderr", "tty"])
        ),
        "portforward" => format!(
            "/portForward/{}/{}{}",
            encode(ns),
            encode(name),
            forward_query(raw_query, &["ports"])
        ),
        other => {
            return Err(ApiError::bad_request(format!(
                "unsupported subresource {other}"
            )));
        }
    };
    Ok(Location { node, path })
}

/// The kubelet's address of a Node: its InternalIP (else the first
/// address) and the port it reports.
pub fn kubelet_address(node: &Value) -> Option<(String, u16)> {
    let addrs = node
        .pointer("/status/addresses")
        .and_then(Value::as_array)?;
    let pick = |t: &str| {
        addrs
            .iter()
            .find(|a| a.get("type").and_then(Value::as_str) == Some(t))
            .and_then(|a| a.get("address").and_then(Value::as_str))
    };
    let host = pick("InternalIP")
        .or_else(|| pick("Hostname"))
        .or_else(|| addrs.first()?.get("address")?.as_str())?;
    let port = node
        .pointer("/status/daemonEndpoints/kubeletEndpoint/Port")
        .and_then(Value::as_u64)
        .and_then(|p| u16::try_from(p).ok())
        .filter(|p| *p > 0)
        .unwrap_or(DEFAULT_KUBELET_PORT);
    Some((host.to_string(), port))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handlers::request::parse_query;
    use serde_json::json;

    fn pod(node: &str, containers: &[&str]) -> Value {
        let cs: Vec<Value> = containers.iter().map(|c| json!({"name": c})).collect();
        json!({"metadata": {"name": "web", "namespace": "default"},
               "spec": {"nodeName": node, "containers": cs}})
    }

    #[test]
    fn locations_of_pod_subresources() {
        // (subresource, query, expected path)
        let cases = [
            (
                "log",
                "container=nginx&follow=true&tailLines=10&pretty=1",
                "/containerLogs/default/web/nginx?follow=true&tailLines=10",
            ),
            (
                "exec",
                "command=sh&command=-c&command=echo%20hi&stdout=true&container=nginx",
                "/exec/default/web/nginx?command=sh&command=-c&command=echo%20hi&stdout=true",
            ),
            (
                "attach",
                "stdin=true",
                "/attach/default/web/nginx?stdin=true",
            ),
            (
                "portforward",
                "ports=8080",
                "/portForward/default/web?ports=8080",
            ),
        ];
        let p = pod("hdss7-21", &["nginx"]);
        for (sub, q, want) in cases {
            let loc = pod_location(&p, sub, &parse_query(Some(q)), Some(q)).expect(sub);
            assert_eq!(
                loc,
                Location {
                    node: "hdss7-21".into(),
                    path: want.into()
                },
                "{sub}"
            );
        }
    }

    #[test]
    fn upstream_refusals() {
        let q = parse_query(None);
        let e = pod_location(&pod("", &["nginx"]), "exec", &q, None).expect_err("no node");
        assert_eq!(
            (e.code, e.message.as_str()),
            (400, "pod web does not have a host assigned")
        );
        let e = pod_location(&pod("n", &["a", "b"]), "log", &q, None).expect_err("ambiguous");
        assert_eq!(
            e.message,
            "a container name must be specified for pod web, choose one of: [a b]"
        );
        let q = parse_query(Some("container=zz"));
        let e = pod_location(&pod("n", &["a"]), "exec", &q, None).expect_err("unknown");
        assert_eq!(e.message, "container zz is not valid for pod web");
        // Port-forward needs no container.
        assert!(
            pod_location(
                &pod("n", &["a", "b"]),
                "portforward",
                &parse_query(None),
                None
            )
            .is_ok()
        );
    }

    #[test]
    fn kubelet_addresses() {
        let n = json!({"status": {
            "addresses": [{"type": "Hostname", "address": "hdss7-21"},
                          {"type": "InternalIP", "address": "10.4.7.21"}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10251}}}});
        assert_eq!(kubelet_address(&n), Some(("10.4.7.21".into(), 10251)));
        let n = json!({"status": {"addresses": [{"type": "Hostname", "address": "h"}]}});
        assert_eq!(kubelet_address(&n), Some(("h".into(), 10250)));
        assert_eq!(kubelet_address(&json!({})), None);
    }
}
