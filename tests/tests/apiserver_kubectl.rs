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

#[test]
fn kubectl_auth_cluster_info_component_statuses_and_watch() {
    let c = ApiCluster::start();
    let who = c.kubectl_ok(&["auth", "whoami"]);
    assert!(
        who.contains("admin") && who.contains("system:masters"),
        "{who}"
    );
    assert_eq!(
        c.kubectl_ok(&["auth", "can-i", "create", "pods"]).trim(),
        "yes"
    );
    let (ok, out, _) = c.kubectl_as("kube-proxy", &["auth", "can-i", "create", "secrets"]);
    assert!(!ok);
    assert_eq!(out.trim(), "no");
    let (ok, out, _) = c.kubectl_as("kube-proxy", &["auth", "can-i", "list", "endpoints"]);
    assert!(ok && out.trim() == "yes", "{out}");
    let (ok, _, err) = c.kubectl_as("kube-proxy", &["get", "secrets"]);
    assert!(!ok);
    assert!(
        err.contains("Forbidden") && err.contains("system:kube-proxy"),
        "{err}"
    );
    let list = c.kubectl_ok(&["auth", "can-i", "--list"]);
    assert!(list.contains("*.*"), "{list}");

    let info = c.kubectl_ok(&["cluster-info"]);
    assert!(
        info.contains(&format!("Kubernetes control plane is running at {}", c.url)),
        "{info}"
    );
    let cs = c.kubectl_ok(&["get", "cs"]);
    assert!(
        cs.lines()
            .any(|l| l.starts_with("etcd-0") && l.contains("Healthy")),
        "{cs}"
    );

    // Server-side tables: upstream's columns, -o wide adds the priority-1 ones.
    let (ok, out, err) = c.kubectl_stdin(&["create", "-f", "-"], POD);
    assert!(ok, "{out}{err}");
    let wide = c.kubectl_ok(&["get", "pods", "-o", "wide"]);
    let header = wide.lines().next().unwrap_or_default();
    for col in [
        "NAME",
        "READY",
        "STATUS",
        "RESTARTS",
        "AGE",
        "IP",
        "NODE",
        "NOMINATED NODE",
        "READINESS GATES",
    ] {
        assert!(header.contains(col), "{header}");
    }
    assert!(wide.contains("nginx") && wide.contains("Pending"), "{wide}");
    let svc = c.kubectl_ok(&["get", "svc", "kubernetes"]);
    assert!(
        svc.contains("192.168.0.1") && svc.contains("443/TCP"),
        "{svc}"
    );

    // kubectl get -w sees a new object.
    let watcher = std::process::Command::new(harness::bins::system("kubectl"))
        .arg(format!("--kubeconfig={}", c.kubeconfig("admin").display()))
        .args([
            "get",
            "configmaps",
            "-w",
            "--output-watch-events",
            "-o",
            "json",
            "--request-timeout=6s",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("kubectl -w");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    c.kubectl_ok(&["create", "configmap", "watched", "--from-literal=a=b"]);
    c.kubectl_ok(&["delete", "configmap", "watched"]);
    let out = watcher
        .wait_with_output()
        .expect("watch ends at the request timeout");
    let text = String::from_utf8_lossy(&out.stdout);
    let events: Vec<Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let seen: Vec<(&str, &str)> = events
        .iter()
        .filter_map(|e| {
            Some((
                e["type"].as_str()?,
                e["object"]["metadata"]["name"].as_str()?,
            ))
        })
        .collect();
    assert_eq!(
        seen,
        vec![("ADDED", "watched"), ("DELETED", "watched")],
        "{text}"
    );
}

#[test]
fn service_account_tokens_are_issued_and_accepted() {
    let keys = tempfile::tempdir().expect("temp dir");
    let key = keys.path().join("sa-key.pem");
    let public = keys.path().join("sa.pem");
    let (ok, _, err) = harness::process::run(
        std::process::Command::new("openssl")
            .args(["genrsa", "-out"])
            .arg(&key)
            .arg("2048"),
    );
    assert!(ok, "{err}");
    let (ok, _, err) = harness::process::run(
        std::process::Command::new("openssl")
            .args(["rsa", "-pubout", "-in"])
            .arg(&key)
            .arg("-out")
            .arg(&public),
    );
    assert!(ok, "{err}");
    let c = ApiCluster::start_with(&[
        &format!("--service-account-signing-key-file={}", key.display()),
        &format!("--service-account-key-file={}", public.display()),
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
    ]);
    c.kubectl_ok(&["create", "serviceaccount", "builder"]);
    let token = c
        .kubectl_ok(&["create", "token", "builder"])
        .trim()
        .to_string();
    assert_eq!(token.split('.').count(), 3, "{token}");
    let as_token = |args: &[&str]| {
        harness::process::run(
            std::process::Command::new(harness::bins::system("kubectl"))
                .arg("--kubeconfig=/dev/null")
                .arg(format!("--server={}", c.url))
                .arg(format!("--certificate-authority={}", c.pki.ca().display()))
                .args(args),
        )
    };
    let (ok, out, err) = as_token(&["--token", &token, "auth", "whoami"]);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("system:serviceaccount:default:builder"),
        "{out}"
    );
    assert!(out.contains("system:serviceaccounts:default"), "{out}");
    // Without RBAC rules the ServiceAccount may not list pods; a forged token is 401.
    let (ok, _, err) = as_token(&["--token", &token, "get", "pods"]);
    assert!(!ok && err.contains("Forbidden"), "{err}");
    let (ok, _, err) = as_token(&["--token", &format!("{token}x"), "get", "pods"]);
    assert!(!ok && err.contains("Unauthorized"), "{err}");
    // Too short a lifetime is refused as upstream does.
    let (ok, _, err) = c.kubectl(&["create", "token", "builder", "--duration=1m"]);
    assert!(
        !ok && err.contains("may not specify a duration less than 10 minutes"),
        "{err}"
    );
}
