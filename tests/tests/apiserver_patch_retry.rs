//! Concurrent writers on one object: a PATCH without a resourceVersion
//! re-reads and re-applies after losing a compare-and-swap race (as
//! upstream's GuaranteedUpdate), so none of them answers 409; a PATCH that
//! names a stale resourceVersion still answers 409.

use harness::apiserver::ApiCluster;
use serde_json::Value;

#[test]
fn concurrent_patches_without_resource_version_all_succeed() {
    let c = ApiCluster::start();
    c.kubectl_ok(&["create", "configmap", "shared", "--from-literal=seed=0"]);
    let c = &c;
    let failures: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..20)
            .map(|i| {
                s.spawn(move || {
                    // Half merge-patch data keys, half add labels.
                    let (ok, out, err) = if i % 2 == 0 {
                        let patch = format!(r#"{{"data":{{"k{i}":"v{i}"}}}}"#);
                        c.kubectl(&["patch", "configmap", "shared", "--type=merge", "-p", &patch])
                    } else {
                        let label = format!("l{i}=v{i}");
                        c.kubectl(&["label", "configmap", "shared", &label])
                    };
                    (!ok).then(|| format!("writer {i}: {out}{err}"))
                })
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().expect("writer thread"))
            .collect()
    });
    assert!(failures.is_empty(), "failed writers: {failures:#?}");
    let out = c.kubectl_ok(&["get", "configmap", "shared", "-o", "json"]);
    let cm: Value = serde_json::from_str(&out).expect("configmap JSON");
    for i in 0..20 {
        if i % 2 == 0 {
            assert_eq!(cm["data"][format!("k{i}")], format!("v{i}"), "{cm}");
        } else {
            assert_eq!(
                cm["metadata"]["labels"][format!("l{i}")],
                format!("v{i}"),
                "{cm}"
            );
        }
    }
    assert_eq!(cm["data"]["seed"], "0");
}

#[test]
fn patch_with_a_stale_resource_version_is_a_conflict() {
    let c = ApiCluster::start();
    c.kubectl_ok(&["create", "configmap", "cas", "--from-literal=a=1"]);
    let rv = c.kubectl_ok(&[
        "get",
        "configmap",
        "cas",
        "-o",
        "jsonpath={.metadata.resourceVersion}",
    ]);
    c.kubectl_ok(&[
        "patch",
        "configmap",
        "cas",
        "--type=merge",
        "-p",
        r#"{"data":{"a":"2"}}"#,
    ]);
    let stale = format!(r#"{{"metadata":{{"resourceVersion":"{rv}"}},"data":{{"a":"3"}}}}"#);
    let (ok, _, err) = c.kubectl(&["patch", "configmap", "cas", "--type=merge", "-p", &stale]);
    assert!(!ok, "a patch with a stale resourceVersion succeeded");
    assert!(
        err.contains("Conflict") || err.contains("modified"),
        "{err}"
    );
    let a = c.kubectl_ok(&["get", "configmap", "cas", "-o", "jsonpath={.data.a}"]);
    assert_eq!(a, "2");

    // The current resourceVersion in the patch is accepted.
    let rv = c.kubectl_ok(&[
        "get",
        "configmap",
        "cas",
        "-o",
        "jsonpath={.metadata.resourceVersion}",
    ]);
    let fresh = format!(r#"{{"metadata":{{"resourceVersion":"{rv}"}},"data":{{"a":"4"}}}}"#);
    c.kubectl_ok(&["patch", "configmap", "cas", "--type=merge", "-p", &fresh]);

    // Scale through the subresource with concurrent writers also succeeds.
    c.kubectl_ok(&["create", "deployment", "web", "--image=nginx:1.25"]);
    std::thread::scope(|s| {
        let hs: Vec<_> = (1..=6)
            .map(|n| {
                let c = &c;
                s.spawn(move || {
                    if n % 2 == 0 {
                        c.kubectl(&["scale", "deployment", "web", &format!("--replicas={n}")])
                    } else {
                        c.kubectl(&["label", "deployment", "web", &format!("w{n}=x")])
                    }
                })
            })
            .collect();
        for h in hs {
            let (ok, out, err) = h.join().expect("writer");
            assert!(ok, "{out}{err}");
        }
    });
}
