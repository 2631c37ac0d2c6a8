//! The admission plugins through the real kube-apiserver and the real
//! kubectl: for each plugin one request it lets through (with its effect on
//! the stored object) and one it refuses with upstream's message, and
//! `--disable-admission-plugins` turning a plugin's effect off.

use harness::apiserver::ApiCluster;
use serde_json::Value;

/// The default plugin set plus NodeRestriction (what the seed's start line
/// gives a production apiserver).
fn cluster() -> ApiCluster {
    ApiCluster::start_with(&["--enable-admission-plugins=NodeRestriction"])
}

fn create(c: &ApiCluster, manifest: &str) -> (bool, String) {
    let (ok, out, err) = c.kubectl_stdin(&["create", "-f", "-"], manifest);
    (ok, format!("{out}{err}"))
}

fn create_ok(c: &ApiCluster, manifest: &str) -> String {
    let (ok, text) = create(c, manifest);
    assert!(ok, "create failed:\n{text}\n{}", c.apiserver.log_tail(20));
    text
}

fn refused(c: &ApiCluster, manifest: &str) -> String {
    let (ok, text) = create(c, manifest);
    assert!(!ok, "create was admitted:\n{text}\n{manifest}");
    text
}

fn get_json(c: &ApiCluster, args: &[&str]) -> Value {
    let mut a = vec!["get"];
    a.extend_from_slice(args);
    a.extend_from_slice(&["-o", "json"]);
    serde_json::from_str(&c.kubectl_ok(&a)).expect("json")
}

fn pod(name: &str, ns: &str, spec_extra: &str, container_extra: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n{spec_extra}  containers:\n  - name: c\n    image: nginx:1.25\n{container_extra}"
    )
}

#[test]
fn namespace_lifecycle_refuses_missing_terminating_and_system_namespaces() {
    let c = cluster();
    let text = refused(
        &c,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: nowhere}\n",
    );
    assert!(text.contains("namespaces \"nowhere\" not found"), "{text}");
    let (ok, _, err) = c.kubectl(&["delete", "namespace", "kube-system"]);
    assert!(!ok);
    assert!(
        err.contains("namespaces \"kube-system\" is forbidden: this namespace may not be deleted"),
        "{err}"
    );
    // No namespace controller runs: a deleted namespace stays Terminating.
    c.kubectl_ok(&["create", "namespace", "leaving"]);
    c.kubectl_ok(&["delete", "namespace", "leaving", "--wait=false"]);
    let (ok, _, err) = c.kubectl(&["create", "configmap", "late", "-n", "leaving"]);
    assert!(!ok);
    assert!(
        err.contains("configmaps \"late\" is forbidden: unable to create new content in namespace leaving because it is being terminated"),
        "{err}"
    );
    c.kubectl_ok(&["create", "namespace", "staying"]);
    c.kubectl_ok(&["create", "configmap", "fine", "-n", "staying"]);
    c.kubectl_ok(&["delete", "namespace", "staying", "--wait=false"]);
}

#[test]
fn service_account_requires_the_account_and_mounts_its_token() {
    let c = cluster();
    c.kubectl_ok(&["create", "namespace", "app"]);
    let text = refused(&c, &pod("early", "app", "", ""));
    assert!(
        text.contains("pods \"early\" is forbidden: error looking up service account app/default: serviceaccount \"default\" not found"),
        "{text}"
    );
    c.kubectl_ok(&["create", "serviceaccount", "default", "-n", "app"]);
    create_ok(&c, &pod("web", "app", "", ""));
    let p = get_json(&c, &["pod", "web", "-n", "app"]);
    assert_eq!(p["spec"]["serviceAccountName"], "default");
    let vol = &p["spec"]["volumes"][0];
    let vname = vol["name"].as_str().unwrap_or("");
    assert!(
        vname.starts_with("kube-api-access-") && vname.len() == 21,
        "{vol}"
    );
    assert_eq!(
        vol["projected"]["sources"][0]["serviceAccountToken"]["expirationSeconds"],
        3607
    );
    assert_eq!(
        vol["projected"]["sources"][1]["configMap"]["name"],
        "kube-root-ca.crt"
    );
    let mount = &p["spec"]["containers"][0]["volumeMounts"][0];
    assert_eq!(
        mount["mountPath"],
        "/var/run/secrets/kubernetes.io/serviceaccount"
    );
    assert_eq!(mount["name"], vname);
    assert_eq!(mount["readOnly"], true);
    // Automount off on the pod: no token volume.
    create_ok(
        &c,
        &pod(
            "quiet",
            "app",
            "  automountServiceAccountToken: false\n",
            "",
        ),
    );
    let p = get_json(&c, &["pod", "quiet", "-n", "app"]);
    assert!(p["spec"].get("volumes").is_none(), "{}", p["spec"]);
    let text = refused(
        &c,
        &pod("ghost", "app", "  serviceAccountName: ghost\n", ""),
    );
    assert!(
        text.contains(
            "error looking up service account app/ghost: serviceaccount \"ghost\" not found"
        ),
        "{text}"
    );
}

#[test]
fn disabled_plugins_have_no_effect() {
    let c = ApiCluster::start_with(&[
        "--disable-admission-plugins=ServiceAccount,LimitRanger,DefaultTolerationSeconds,Priority",
    ]);
    c.kubectl_ok(&["create", "namespace", "app"]);
    create_ok(
        &c,
        "apiVersion: v1\nkind: LimitRange\nmetadata: {name: lr, namespace: app}\nspec:\n  limits:\n  - type: Container\n    default: {cpu: 300m}\n",
    );
    // No default service account needed, no token volume, no defaults.
    create_ok(&c, &pod("web", "app", "", ""));
    let p = get_json(&c, &["pod", "web", "-n", "app"]);
    assert!(p["spec"].get("volumes").is_none(), "{}", p["spec"]);
    assert!(
        p["spec"].get("serviceAccountName").is_none(),
        "{}",
        p["spec"]
    );
    assert!(
        p["spec"]["containers"][0]
            .get("resources")
            .is_none_or(|r| r.get("limits").is_none()),
        "{}",
        p["spec"]
    );
    assert!(p["spec"].get("tolerations").is_none(), "{}", p["spec"]);
    assert!(p["spec"].get("priority").is_none(), "{}", p["spec"]);
    // Unknown plugin names stop the apiserver at start.
    let out = std::process::Command::new(harness::bins::binary("kube-apiserver"))
        .args([
            "--enable-admission-plugins=Bogus",
            "--etcd-servers=https://127.0.0.1:1",
            "--etcd-cafile=/x",
            "--etcd-certfile=/x",
            "--etcd-keyfile=/x",
            "--tls-cert-file=/x",
            "--tls-private-key-file=/x",
        ])
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("enable-admission-plugins plugin \"Bogus\" is unknown"),
        "{err}"
    );
}

#[test]
fn limit_ranger_defaults_and_bounds() {
    let c = cluster();
    c.kubectl_ok(&["create", "serviceaccount", "default"]);
    create_ok(
        &c,
        "apiVersion: v1\nkind: LimitRange\nmetadata: {name: lr}\nspec:\n  limits:\n  - type: Container\n    default: {cpu: 300m, memory: 128Mi}\n    defaultRequest: {cpu: 100m}\n    max: {memory: 1Gi}\n",
    );
    create_ok(&c, &pod("small", "default", "", ""));
    let p = get_json(&c, &["pod", "small"]);
    let r = &p["spec"]["containers"][0]["resources"];
    assert_eq!(r["limits"]["cpu"], "300m");
    assert_eq!(r["limits"]["memory"], "128Mi");
    assert_eq!(r["requests"]["cpu"], "100m");
    assert!(
        p["metadata"]["annotations"]["kubernetes.io/limit-ranger"]
            .as_str()
            .unwrap_or("")
            .starts_with("LimitRanger plugin set:")
    );
    let text = refused(
        &c,
        &pod(
            "big",
            "default",
            "",
            "    resources:\n      limits: {memory: 2Gi}\n",
        ),
    );
    assert!(
        text.contains(
            "pods \"big\" is forbidden: maximum memory usage per Container is 1Gi, but limit is 2Gi"
        ),
        "{text}"
    );
}

#[test]
fn priority_and_default_tolerations() {
    let c = cluster();
    c.kubectl_ok(&["create", "serviceaccount", "default"]);
    c.kubectl_ok(&[
        "create",
        "priorityclass",
        "high",
        "--value=1000",
        "--preemption-policy=Never",
    ]);
    create_ok(
        &c,
        &pod("vip", "default", "  priorityClassName: high\n", ""),
    );
    let p = get_json(&c, &["pod", "vip"]);
    assert_eq!(p["spec"]["priority"], 1000);
    assert_eq!(p["spec"]["preemptionPolicy"], "Never");
    let tolerations = p["spec"]["tolerations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(tolerations.len(), 2, "{tolerations:?}");
    assert_eq!(tolerations[0]["key"], "node.kubernetes.io/not-ready");
    assert_eq!(tolerations[1]["key"], "node.kubernetes.io/unreachable");
    assert_eq!(tolerations[1]["tolerationSeconds"], 300);
    create_ok(&c, &pod("plain", "default", "", ""));
    assert_eq!(get_json(&c, &["pod", "plain"])["spec"]["priority"], 0);
    let text = refused(
        &c,
        &pod("lost", "default", "  priorityClassName: nope\n", ""),
    );
    assert!(
        text.contains("pods \"lost\" is forbidden: no PriorityClass with name nope was found"),
        "{text}"
    );
}

#[test]
fn nodes_are_tainted_and_restricted_to_themselves() {
    let c = cluster();
    for n in ["hdss7-21", "hdss7-22"] {
        create_ok(
            &c,
            &format!("apiVersion: v1\nkind: Node\nmetadata: {{name: {n}}}\n"),
        );
    }
    let n = get_json(&c, &["node", "hdss7-21"]);
    assert_eq!(
        n["spec"]["taints"][0]["key"],
        "node.kubernetes.io/not-ready"
    );
    assert_eq!(n["spec"]["taints"][0]["effect"], "NoSchedule");
    let kubelet = "kubelet-hdss7-21";
    let (ok, out, err) = c.kubectl_as(kubelet, &["label", "node", "hdss7-21", "rack=r1"]);
    assert!(ok, "{out}{err}");
    // kubectl would read the other Node first, which the Node authorizer
    // refuses; a kubelet's raw PATCH reaches NodeRestriction.
    let (code, status) = c.request_as(
        Some(kubelet),
        "PATCH",
        "/api/v1/nodes/hdss7-22",
        Some("application/merge-patch+json"),
        Some(br#"{"metadata":{"labels":{"rack":"r1"}}}"#),
    );
    assert_eq!(code, 403, "{status}");
    assert!(
        status["message"].as_str().is_some_and(|m| m.contains(
            "nodes \"hdss7-22\" is forbidden: node \"hdss7-21\" is not allowed to modify node \"hdss7-22\""
        )),
        "{status}"
    );
    let (ok, _, err) = c.kubectl_as(
        kubelet,
        &[
            "label",
            "node",
            "hdss7-21",
            "node-restriction.kubernetes.io/pool=a",
        ],
    );
    assert!(!ok);
    assert!(
        err.contains("is not allowed to modify labels: node-restriction.kubernetes.io/pool"),
        "{err}"
    );
    // The admin is not restricted.
    c.kubectl_ok(&[
        "label",
        "node",
        "hdss7-22",
        "node-restriction.kubernetes.io/pool=a",
    ]);
}

#[test]
fn claims_get_class_finalizer_and_resize_rules() {
    let c = cluster();
    create_ok(
        &c,
        "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n  name: standard\n  annotations: {storageclass.kubernetes.io/is-default-class: \"true\"}\nprovisioner: example.com/none\n",
    );
    let claim = |name: &str, size: &str| {
        format!(
            "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {{name: {name}}}\nspec:\n  accessModes: [ReadWriteOnce]\n  resources:\n    requests: {{storage: {size}}}\n"
        )
    };
    create_ok(&c, &claim("data", "1Gi"));
    let pvc = get_json(&c, &["pvc", "data"]);
    assert_eq!(pvc["spec"]["storageClassName"], "standard");
    assert_eq!(
        pvc["metadata"]["finalizers"],
        serde_json::json!(["kubernetes.io/pvc-protection"])
    );
    // Not bound yet: growing is refused.
    let grow = r#"{"spec":{"resources":{"requests":{"storage":"2Gi"}}}}"#;
    let (ok, _, err) = c.kubectl(&["patch", "pvc", "data", "-p", grow]);
    assert!(!ok);
    assert!(
        err.contains("Only bound persistent volume claims can be expanded"),
        "{err}"
    );
    c.kubectl_ok(&[
        "patch",
        "pvc",
        "data",
        "--subresource=status",
        "-p",
        r#"{"status":{"phase":"Bound"}}"#,
    ]);
    let (ok, _, err) = c.kubectl(&["patch", "pvc", "data", "-p", grow]);
    assert!(!ok);
    assert!(err.contains("only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize"), "{err}");
    c.kubectl_ok(&[
        "patch",
        "storageclass",
        "standard",
        "-p",
        r#"{"allowVolumeExpansion":true}"#,
    ]);
    c.kubectl_ok(&["patch", "pvc", "data", "-p", grow]);
    assert_eq!(
        get_json(&c, &["pvc", "data"])["spec"]["resources"]["requests"]["storage"],
        "2Gi"
    );
}

#[test]
fn resource_quota_refuses_past_hard_limits_even_concurrently() {
    let c = cluster();
    c.kubectl_ok(&["create", "namespace", "team"]);
    c.kubectl_ok(&["create", "serviceaccount", "default", "-n", "team"]);
    c.kubectl_ok(&[
        "create",
        "quota",
        "pods",
        "-n",
        "team",
        "--hard=pods=1,count/configmaps=4",
    ]);
    create_ok(&c, &pod("one", "team", "", ""));
    let text = refused(&c, &pod("two", "team", "", ""));
    assert!(
        text.contains("pods \"two\" is forbidden: exceeded quota: pods, requested: pods=1, used: pods=1, limited: pods=1"),
        "{text}"
    );
    // Ten concurrent creates against four slots: exactly four pass.
    let admitted: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..10)
            .map(|i| {
                let c = &c;
                s.spawn(move || {
                    c.kubectl(&["create", "configmap", &format!("cm{i}"), "-n", "team"])
                        .0
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(false) as usize)
            .sum()
    });
    assert_eq!(admitted, 4);
    let q = get_json(&c, &["quota", "pods", "-n", "team"]);
    assert_eq!(q["status"]["used"]["count/configmaps"], "4");
    assert_eq!(q["status"]["used"]["pods"], "1");
}

#[test]
fn pod_security_enforces_restricted_and_warns_baseline() {
    let c = cluster();
    for (ns, label) in [
        ("locked", "pod-security.kubernetes.io/enforce=restricted"),
        ("watched", "pod-security.kubernetes.io/warn=baseline"),
    ] {
        c.kubectl_ok(&["create", "namespace", ns]);
        c.kubectl_ok(&["label", "namespace", ns, label]);
        c.kubectl_ok(&["create", "serviceaccount", "default", "-n", ns]);
    }
    let privileged = "    securityContext: {privileged: true}\n";
    let text = refused(&c, &pod("root", "locked", "", privileged));
    assert!(
        text.contains("pods \"root\" is forbidden: violates PodSecurity \"restricted:latest\": allowPrivilegeEscalation != false (container \"c\" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container \"c\" must set securityContext.capabilities.drop=[\"ALL\"]), privileged (container \"c\" must not set securityContext.privileged=true), runAsNonRoot != true (pod or container \"c\" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container \"c\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")"),
        "{text}"
    );
    create_ok(
        &c,
        &pod(
            "tidy",
            "locked",
            "  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}\n",
            "    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}\n",
        ),
    );
    let text = create_ok(&c, &pod("loud", "watched", "", privileged));
    assert!(
        text.contains("Warning: would violate PodSecurity \"baseline:latest\": privileged (container \"c\" must not set securityContext.privileged=true)"),
        "{text}"
    );
}

#[test]
fn resourcequota_controller_keeps_status_current() {
    let c = harness::controller_manager::CmCluster::start("resourcequota", 0);
    let api = &c.api;
    api.kubectl_ok(&["create", "namespace", "team"]);
    api.kubectl_ok(&["create", "configmap", "before", "-n", "team"]);
    api.kubectl_ok(&[
        "create",
        "quota",
        "objects",
        "-n",
        "team",
        "--hard=count/configmaps=3,secrets=5",
    ]);
    let t = std::time::Duration::from_secs(20);
    // The recount includes what existed before the quota.
    c.wait_for(
        &["get", "quota", "objects", "-n", "team"],
        "{.status.used.count/configmaps}",
        "1",
        t,
    );
    c.wait_for(
        &["get", "quota", "objects", "-n", "team"],
        "{.status.hard.secrets}",
        "5",
        t,
    );
    api.kubectl_ok(&["create", "configmap", "a", "-n", "team"]);
    api.kubectl_ok(&["create", "configmap", "b", "-n", "team"]);
    let (ok, _, err) = api.kubectl(&["create", "configmap", "c", "-n", "team"]);
    assert!(!ok && err.contains("exceeded quota: objects, requested: count/configmaps=1, used: count/configmaps=3, limited: count/configmaps=3"), "{err}");
    // A delete frees its slot once the controller recounts.
    api.kubectl_ok(&["delete", "configmap", "a", "-n", "team"]);
    c.wait_for(
        &["get", "quota", "objects", "-n", "team"],
        "{.status.used.count/configmaps}",
        "2",
        t,
    );
    api.kubectl_ok(&["create", "configmap", "c", "-n", "team"]);
}

#[test]
fn pod_security_lists_every_failing_check_and_warns_on_workload_templates() {
    let c = cluster();
    c.kubectl_ok(&["create", "namespace", "strict"]);
    c.kubectl_ok(&[
        "label",
        "namespace",
        "strict",
        "pod-security.kubernetes.io/enforce=restricted",
        "pod-security.kubernetes.io/warn=restricted",
        "pod-security.kubernetes.io/warn-version=v1.32",
    ]);
    c.kubectl_ok(&["create", "serviceaccount", "default", "-n", "strict"]);
    let spec = "  hostNetwork: true\n  securityContext:\n    runAsUser: 0\n    sysctls: [{name: kernel.msgmax, value: \"65536\"}]\n  volumes: [{name: h, hostPath: {path: /tmp}}]\n";
    let container = "    ports: [{containerPort: 80, hostPort: 80}]\n    securityContext:\n      privileged: true\n      capabilities: {add: [SYS_ADMIN]}\n      seccompProfile: {type: Unconfined}\n      seLinuxOptions: {type: spc_t}\n";
    let text = refused(&c, &pod("bad", "strict", spec, container));
    let want = [
        "allowPrivilegeEscalation != false (container \"c\" must set securityContext.allowPrivilegeEscalation=false)",
        "non-default capabilities (container \"c\" must not include \"SYS_ADMIN\" in securityContext.capabilities.add)",
        "unrestricted capabilities (container \"c\" must set securityContext.capabilities.drop=[\"ALL\"]; container \"c\" must not include \"SYS_ADMIN\" in securityContext.capabilities.add)",
        "host namespaces (hostNetwork=true)",
        "hostPath volumes (volume \"h\")",
        "hostPort (container \"c\" uses hostPort 80)",
        "privileged (container \"c\" must not set securityContext.privileged=true)",
        "restricted volume types (volume \"h\" uses restricted volume type \"hostPath\")",
        "runAsNonRoot != true (pod or container \"c\" must set securityContext.runAsNonRoot=true)",
        "runAsUser=0 (pod must not set runAsUser=0)",
        "seLinuxOptions (container \"c\" set forbidden securityContext.seLinuxOptions: type \"spc_t\")",
        "seccompProfile (container \"c\" must not set securityContext.seccompProfile.type to \"Unconfined\")",
        "forbidden sysctl (kernel.msgmax)",
    ]
    .join(", ");
    assert!(
        text.contains(&format!(
            "pods \"bad\" is forbidden: violates PodSecurity \"restricted:latest\": {want}"
        )),
        "{text}"
    );
    // A Deployment is never refused, but its template is warned about.
    let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: strict\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n      - name: c\n        image: nginx:1.25\n        securityContext: {privileged: true}\n";
    let text = create_ok(&c, deployment);
    assert!(
        text.contains("Warning: would violate PodSecurity \"restricted:v1.32\": allowPrivilegeEscalation != false (container \"c\" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container \"c\" must set securityContext.capabilities.drop=[\"ALL\"]), privileged (container \"c\" must not set securityContext.privileged=true), runAsNonRoot != true (pod or container \"c\" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container \"c\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")"),
        "{text}"
    );
    assert!(text.contains("deployment.apps/web created"), "{text}");
}

#[test]
fn best_effort_scoped_quota_counts_only_best_effort_pods() {
    let c = cluster();
    c.kubectl_ok(&["create", "namespace", "scoped"]);
    c.kubectl_ok(&["create", "serviceaccount", "default", "-n", "scoped"]);
    c.kubectl_ok(&[
        "create",
        "quota",
        "besteffort",
        "-n",
        "scoped",
        "--hard=pods=1",
        "--scopes=BestEffort",
    ]);
    let requests = "    resources: {requests: {cpu: 100m}}\n";
    create_ok(&c, &pod("burst1", "scoped", "", requests));
    create_ok(&c, &pod("burst2", "scoped", "", requests));
    create_ok(&c, &pod("free1", "scoped", "", ""));
    let text = refused(&c, &pod("free2", "scoped", "", ""));
    assert!(
        text.contains("pods \"free2\" is forbidden: exceeded quota: besteffort, requested: pods=1, used: pods=1, limited: pods=1"),
        "{text}"
    );
    let q = get_json(&c, &["quota", "besteffort", "-n", "scoped"]);
    assert_eq!(q["status"]["used"]["pods"], "1");
}
