//! Column names, priorities and definitions per resource.

use super::super::*;
use serde_json::json;

/// (name, priority) of each column.
fn headers(group: &str, resource: &str) -> Vec<(String, i64)> {
    column_definitions(group, resource)
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap_or_default().to_uppercase(),
                c["priority"].as_i64().unwrap_or(-1),
            )
        })
        .collect()
}

fn names(cols: &[(String, i64)], priority: i64) -> Vec<&str> {
    cols.iter()
        .filter(|(_, p)| *p == priority)
        .map(|(n, _)| n.as_str())
        .collect()
}

#[test]
fn column_headers_match_kubectl() {
    let cases: &[(&str, &str, &[&str], &[&str])] = &[
        (
            "",
            "pods",
            &["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
            &["IP", "NODE", "NOMINATED NODE", "READINESS GATES"],
        ),
        ("", "namespaces", &["NAME", "STATUS", "AGE"], &[]),
        (
            "",
            "services",
            &[
                "NAME",
                "TYPE",
                "CLUSTER-IP",
                "EXTERNAL-IP",
                "PORT(S)",
                "AGE",
            ],
            &["SELECTOR"],
        ),
        ("", "endpoints", &["NAME", "ENDPOINTS", "AGE"], &[]),
        (
            "",
            "nodes",
            &["NAME", "STATUS", "ROLES", "AGE", "VERSION"],
            &[
                "INTERNAL-IP",
                "EXTERNAL-IP",
                "OS-IMAGE",
                "KERNEL-VERSION",
                "CONTAINER-RUNTIME",
            ],
        ),
        (
            "apps",
            "deployments",
            &["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
            &["CONTAINERS", "IMAGES", "SELECTOR"],
        ),
        (
            "apps",
            "replicasets",
            &["NAME", "DESIRED", "CURRENT", "READY", "AGE"],
            &["CONTAINERS", "IMAGES", "SELECTOR"],
        ),
        (
            "apps",
            "statefulsets",
            &["NAME", "READY", "AGE"],
            &["CONTAINERS", "IMAGES"],
        ),
        (
            "apps",
            "daemonsets",
            &[
                "NAME",
                "DESIRED",
                "CURRENT",
                "READY",
                "UP-TO-DATE",
                "AVAILABLE",
                "NODE SELECTOR",
                "AGE",
            ],
            &["CONTAINERS", "IMAGES", "SELECTOR"],
        ),
        (
            "",
            "replicationcontrollers",
            &["NAME", "DESIRED", "CURRENT", "READY", "AGE"],
            &["CONTAINERS", "IMAGES", "SELECTOR"],
        ),
        (
            "batch",
            "jobs",
            &["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"],
            &["CONTAINERS", "IMAGES", "SELECTOR"],
        ),
        (
            "batch",
            "cronjobs",
            &[
                "NAME",
                "SCHEDULE",
                "TIMEZONE",
                "SUSPEND",
                "ACTIVE",
                "LAST SCHEDULE",
                "AGE",
            ],
            &["CONTAINERS", "IMAGES", "SELECTOR"],
        ),
        ("", "configmaps", &["NAME", "DATA", "AGE"], &[]),
        ("", "secrets", &["NAME", "TYPE", "DATA", "AGE"], &[]),
        ("", "serviceaccounts", &["NAME", "SECRETS", "AGE"], &[]),
        (
            "",
            "events",
            &["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"],
            &["SUBOBJECT", "SOURCE", "FIRST SEEN", "COUNT", "NAME"],
        ),
        (
            "",
            "persistentvolumes",
            &[
                "NAME",
                "CAPACITY",
                "ACCESS MODES",
                "RECLAIM POLICY",
                "STATUS",
                "CLAIM",
                "STORAGECLASS",
                "VOLUMEATTRIBUTESCLASS",
                "REASON",
                "AGE",
            ],
            &["VOLUMEMODE"],
        ),
        (
            "",
            "persistentvolumeclaims",
            &[
                "NAME",
                "STATUS",
                "VOLUME",
                "CAPACITY",
                "ACCESS MODES",
                "STORAGECLASS",
                "VOLUMEATTRIBUTESCLASS",
                "AGE",
            ],
            &["VOLUMEMODE"],
        ),
        (
            "autoscaling",
            "horizontalpodautoscalers",
            &[
                "NAME",
                "REFERENCE",
                "TARGETS",
                "MINPODS",
                "MAXPODS",
                "REPLICAS",
                "AGE",
            ],
            &[],
        ),
        (
            "networking.k8s.io",
            "ingresses",
            &["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"],
            &[],
        ),
        (
            "networking.k8s.io",
            "ingressclasses",
            &["NAME", "CONTROLLER", "PARAMETERS", "AGE"],
            &[],
        ),
        (
            "networking.k8s.io",
            "networkpolicies",
            &["NAME", "POD-SELECTOR", "AGE"],
            &[],
        ),
        (
            "discovery.k8s.io",
            "endpointslices",
            &["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"],
            &[],
        ),
        (
            "rbac.authorization.k8s.io",
            "rolebindings",
            &["NAME", "ROLE", "AGE"],
            &["USERS", "GROUPS", "SERVICEACCOUNTS"],
        ),
        (
            "rbac.authorization.k8s.io",
            "clusterrolebindings",
            &["NAME", "ROLE", "AGE"],
            &["USERS", "GROUPS", "SERVICEACCOUNTS"],
        ),
        (
            "rbac.authorization.k8s.io",
            "roles",
            &["NAME", "CREATED AT"],
            &[],
        ),
        (
            "rbac.authorization.k8s.io",
            "clusterroles",
            &["NAME", "CREATED AT"],
            &[],
        ),
        (
            "storage.k8s.io",
            "storageclasses",
            &[
                "NAME",
                "PROVISIONER",
                "RECLAIMPOLICY",
                "VOLUMEBINDINGMODE",
                "ALLOWVOLUMEEXPANSION",
                "AGE",
            ],
            &[],
        ),
        (
            "coordination.k8s.io",
            "leases",
            &["NAME", "HOLDER", "AGE"],
            &[],
        ),
        (
            "policy",
            "poddisruptionbudgets",
            &[
                "NAME",
                "MIN AVAILABLE",
                "MAX UNAVAILABLE",
                "ALLOWED DISRUPTIONS",
                "AGE",
            ],
            &[],
        ),
        (
            "scheduling.k8s.io",
            "priorityclasses",
            &["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"],
            &[],
        ),
        (
            "certificates.k8s.io",
            "certificatesigningrequests",
            &[
                "NAME",
                "AGE",
                "SIGNERNAME",
                "REQUESTOR",
                "REQUESTEDDURATION",
                "CONDITION",
            ],
            &[],
        ),
        ("", "limitranges", &["NAME", "CREATED AT"], &[]),
        (
            "",
            "resourcequotas",
            &["NAME", "AGE", "REQUEST", "LIMIT"],
            &[],
        ),
        (
            "apps",
            "controllerrevisions",
            &["NAME", "CONTROLLER", "REVISION", "AGE"],
            &[],
        ),
        (
            "",
            "componentstatuses",
            &["NAME", "STATUS", "MESSAGE", "ERROR"],
            &[],
        ),
        ("example.com", "widgets", &["NAME", "CREATED AT"], &[]),
    ];
    for (group, resource, normal, wide) in cases {
        let cols = headers(group, resource);
        assert_eq!(names(&cols, 0), *normal, "{group}/{resource}");
        assert_eq!(names(&cols, 1), *wide, "{group}/{resource} wide");
        assert_eq!(cols.len(), normal.len() + wide.len(), "{group}/{resource}");
    }
}

#[test]
fn column_definition_shape() {
    let cols = column_definitions("", "pods");
    assert_eq!(
        cols[0],
        json!({"name": "Name", "type": "string", "format": "name", "priority": 0,
            "description": "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"})
    );
    assert_eq!(cols[3]["type"], "string");
    assert_eq!(
        cols[5]["description"],
        "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated."
    );
    let defaults = column_definitions("rbac.authorization.k8s.io", "clusterroles");
    assert_eq!(defaults[1]["type"], "date");
    assert_eq!(
        column_definitions("apps", "replicasets")[1]["type"],
        "integer"
    );
    assert!(has_printer("", "pods"));
    assert!(!has_printer("rbac.authorization.k8s.io", "roles"));
    // Every column has a description except RuntimeClass's Handler (empty upstream too).
    for (g, r) in [
        ("", "pods"),
        ("", "nodes"),
        ("apps", "deployments"),
        ("", "persistentvolumes"),
        ("batch", "cronjobs"),
    ] {
        for c in column_definitions(g, r) {
            assert!(
                !c["description"].as_str().unwrap_or_default().is_empty(),
                "{g}/{r} {c}"
            );
        }
    }
}
