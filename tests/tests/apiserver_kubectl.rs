//! kube-apiserver driven by the real kubectl: the everyday commands of the
//! seeds against a real etcd over mutual TLS.

use harness::apiserver::ApiCluster;
use serde_json::Value;

const POD: &str = r#"
apiVersion: v1
kind: Pod
metadata:
  name: nginx
  labels: {app: web, tier: fe}
spec:
  containers:
  - name: nginx
    image: nginx:1.25
    ports:
    - containerPort: 80
"#;

fn deployment(replicas: u32) -> String {
    format!(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
"#
    )
}

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

#[test]
fn kubectl_drives_namespaces_pods_deployments_and_configmaps() {
    let c = ApiCluster::start();

    // Bootstrap namespaces exist.
    let ns = c.kubectl_ok(&["get", "ns", "-o", "name"]);
    for n in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        assert!(
            ns.contains(&format!("namespace/{n}")),
            "missing {n} in:\n{ns}"
        );
    }

    // Discovery-driven commands.
    let res = c.kubectl_ok(&["api-resources"]);
    assert!(
        res.contains("deployments") && res.contains("deploy") && res.contains("apps/v1"),
        "{res}"
    );
    let versions = c.kubectl_ok(&["api-versions"]);
    for gv in [
        "v1",
        "apps/v1",
        "batch/v1",
        "rbac.authorization.k8s.io/v1",
        "autoscaling/v2",
    ] {
        assert!(
            versions.lines().any(|l| l == gv),
            "api-versions lacks {gv}:\n{versions}"
        );
    }
    assert!(c.kubectl_ok(&["version"]).contains("Server Version: v1.32"));

    // Pods: create, get in several forms, label, delete.
    let (ok, out, err) = c.kubectl_stdin(&["create", "-f", "-"], POD);
    assert!(ok, "{out}{err}");
    assert_eq!(out.trim(), "pod/nginx created");
    let pod = json(&c.kubectl_ok(&["get", "pod", "nginx", "-o", "json"]));
    assert_eq!(pod["status"]["phase"], "Pending");
    assert_eq!(pod["metadata"]["uid"].as_str().map(str::len), Some(36));
    assert!(
        pod["metadata"]["creationTimestamp"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    assert!(
        pod["metadata"]["resourceVersion"]
            .as_str()
            .is_some_and(|r| r.parse::<i64>().is_ok())
    );
    let yaml = c.kubectl_ok(&["get", "pod", "nginx", "-o", "yaml"]);
    assert!(yaml.contains("image: nginx:1.25"), "{yaml}");
    assert_eq!(
        c.kubectl_ok(&["get", "pods", "-o", "name"]).trim(),
        "pod/nginx"
    );
    assert_eq!(
        c.kubectl_ok(&["get", "pods", "-l", "tier=fe", "-o", "name"])
            .trim(),
        "pod/nginx"
    );
    assert_eq!(
        c.kubectl_ok(&["get", "pods", "-l", "tier!=fe", "-o", "name"])
            .trim(),
        ""
    );
    assert_eq!(
        c.kubectl_ok(&[
            "get",
            "pods",
            "--field-selector",
            "metadata.name=nginx",
            "-o",
            "name"
        ])
        .trim(),
        "pod/nginx"
    );
    assert!(
        c.kubectl_ok(&["get", "pods", "--show-labels"])
            .contains("app=web")
    );
    c.kubectl_ok(&["label", "pod", "nginx", "stage=prod"]);
    c.kubectl_ok(&["annotate", "pod", "nginx", "owner=ops"]);
    let pod = json(&c.kubectl_ok(&["get", "pod", "nginx", "-o", "json"]));
    assert_eq!(pod["metadata"]["labels"]["stage"], "prod");
    assert_eq!(pod["metadata"]["annotations"]["owner"], "ops");
    let described = c.kubectl_ok(&["describe", "pod", "nginx"]);
    assert!(described.contains("nginx:1.25"), "{described}");
    assert!(
        c.kubectl_ok(&["delete", "pod", "nginx"])
            .contains("pod \"nginx\" deleted")
    );
    let (ok, _, err) = c.kubectl(&["get", "pod", "nginx"]);
    assert!(!ok);
    assert!(err.contains("pods \"nginx\" not found"), "{err}");

    // Deployments: client-side apply twice; generation follows the spec.
    let (ok, out, err) = c.kubectl_stdin(&["apply", "-f", "-"], &deployment(2));
    assert!(ok, "{out}{err}");
    assert!(out.contains("deployment.apps/web created"), "{out}");
    let (ok, out, _) = c.kubectl_stdin(&["apply", "-f", "-"], &deployment(2));
    assert!(ok && out.contains("unchanged"), "{out}");
    let (ok, out, err) = c.kubectl_stdin(&["apply", "-f", "-"], &deployment(3));
    assert!(ok && out.contains("configured"), "{out}{err}");
    let d = json(&c.kubectl_ok(&["get", "deploy", "web", "-o", "json"]));
    assert_eq!(d["spec"]["replicas"], 3);
    assert_eq!(d["metadata"]["generation"], 2);
    c.kubectl_ok(&["scale", "deployment", "web", "--replicas=5"]);
    let d = json(&c.kubectl_ok(&["get", "deploy", "web", "-o", "json"]));
    assert_eq!(d["spec"]["replicas"], 5);
    assert!(
        c.kubectl_ok(&["get", "all"])
            .contains("deployment.apps/web")
    );

    // ConfigMaps and a namespace of our own.
    c.kubectl_ok(&["create", "namespace", "team-a"]);
    c.kubectl_ok(&[
        "create",
        "configmap",
        "cfg",
        "-n",
        "team-a",
        "--from-literal=k=v",
    ]);
    let cm = json(&c.kubectl_ok(&["get", "cm", "cfg", "-n", "team-a", "-o", "json"]));
    assert_eq!(cm["data"]["k"], "v");
    assert_eq!(cm["metadata"]["namespace"], "team-a");
    assert!(
        c.kubectl_ok(&["get", "cm", "-A", "-o", "name"])
            .contains("configmap/cfg")
    );
    c.kubectl_ok(&["delete", "cm", "cfg", "-n", "team-a"]);
    assert_eq!(
        c.kubectl_ok(&["get", "cm", "-n", "team-a", "-o", "name"])
            .trim(),
        ""
    );
}

#[test]
fn objects_survive_an_apiserver_restart() {
    let mut c = ApiCluster::start();
    c.kubectl_ok(&["create", "configmap", "keep", "--from-literal=a=b"]);
    let before = json(&c.kubectl_ok(&["get", "cm", "keep", "-o", "json"]));
    c.restart_apiserver();
    let after = json(&c.kubectl_ok(&["get", "cm", "keep", "-o", "json"]));
    assert_eq!(before["metadata"]["uid"], after["metadata"]["uid"]);
    assert_eq!(
        before["metadata"]["resourceVersion"],
        after["metadata"]["resourceVersion"]
    );
}
