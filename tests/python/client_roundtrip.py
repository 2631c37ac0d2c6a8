"""The official Kubernetes Python client against our apiserver.

Usage: python3 client_roundtrip.py KUBECONFIG
Exits non-zero on the first check that fails.
"""
import sys

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

config.load_kube_config(config_file=sys.argv[1])
core = client.CoreV1Api()
apps = client.AppsV1Api()
checks = 0


def check(cond, what):
    global checks
    if not cond:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)
    checks += 1


def status_of(call):
    try:
        call()
    except ApiException as e:
        return e.status, e.reason
    return 200, "OK"


ns = "py-client"
core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
names = [n.metadata.name for n in core.list_namespace().items]
check("default" in names and ns in names, f"namespaces listed: {names}")

meta = client.V1ObjectMeta(name="cfg", labels={"app": "py"})
cm = core.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=meta, data={"k": "v"}))
check(cm.metadata.resource_version and cm.metadata.uid, "create returns resourceVersion and uid")
check(core.read_namespaced_config_map("cfg", ns).data == {"k": "v"}, "read back the data")

code, _ = status_of(lambda: core.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=meta)))
check(code == 409, f"duplicate create answers 409, got {code}")

stale = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="cfg", resource_version="1"), data={"k": "x"})
code, _ = status_of(lambda: core.replace_namespaced_config_map("cfg", ns, stale))
check(code == 409, f"stale replace answers 409, got {code}")

pod = core.create_namespaced_pod(ns, client.V1Pod(
    metadata=client.V1ObjectMeta(name="web", labels={"app": "web"}),
    spec=client.V1PodSpec(containers=[client.V1Container(name="nginx", image="nginx:1.25")])))
check(pod.spec.restart_policy == "Always", "pod restartPolicy defaulted")
check(pod.spec.containers[0].image_pull_policy == "IfNotPresent", "imagePullPolicy defaulted by tag")
check(pod.status.phase == "Pending", f"new pod is Pending, got {pod.status.phase}")

bad = client.V1Pod(metadata=client.V1ObjectMeta(name="Bad_Name"),
                   spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="x")]))
code, _ = status_of(lambda: core.create_namespaced_pod(ns, bad))
check(code == 422, f"invalid name answers 422, got {code}")

listed = core.list_namespaced_config_map(ns, label_selector="app=py")
check([c.metadata.name for c in listed.items] == ["cfg"], "label selector list")
rv = listed.metadata.resource_version

core.patch_namespaced_config_map("cfg", ns, {"data": {"k": "v2"}})
core.delete_namespaced_config_map("cfg", ns)
code, _ = status_of(lambda: core.read_namespaced_config_map("cfg", ns))
check(code == 404, f"read after delete answers 404, got {code}")

seen = []
for ev in watch.Watch().stream(core.list_namespaced_config_map, ns, resource_version=rv, timeout_seconds=3):
    seen.append((ev["type"], ev["object"].metadata.name))
check(("MODIFIED", "cfg") in seen and ("DELETED", "cfg") in seen, f"watch from the list's resourceVersion: {seen}")

dep = apps.create_namespaced_deployment(ns, client.V1Deployment(
    metadata=client.V1ObjectMeta(name="nginx-deploy"),
    spec=client.V1DeploymentSpec(
        replicas=2,
        selector=client.V1LabelSelector(match_labels={"app": "nginx"}),
        template=client.V1PodTemplateSpec(
            metadata=client.V1ObjectMeta(labels={"app": "nginx"}),
            spec=client.V1PodSpec(containers=[client.V1Container(name="nginx", image="nginx:1.25")])))))
check(dep.spec.strategy.rolling_update.max_surge == "25%", "deployment strategy defaulted")
apps.patch_namespaced_deployment_scale("nginx-deploy", ns, {"spec": {"replicas": 4}})
check(apps.read_namespaced_deployment("nginx-deploy", ns).spec.replicas == 4, "scale subresource")

# The client's own e2e Service test: a created Service has a status, and
# the AlreadyExists body is compared as a string.
svc = client.V1Service(metadata=client.V1ObjectMeta(name="mock-2"),
                       spec=client.V1ServiceSpec(ports=[client.V1ServicePort(port=80)]))
created = core.create_namespaced_service(ns, svc)
check(created.status is not None and created.status.load_balancer is not None,
      f"a created Service has status.loadBalancer, got {created.status}")
try:
    core.create_namespaced_service(ns, svc)
    check(False, "duplicate Service create is refused")
except ApiException as e:
    want = ('{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
            '"message":"services \\"mock-2\\" already exists","reason":"AlreadyExists",'
            '"details":{"name":"mock-2","kind":"services"},"code":409}\n')
    body = e.body.decode() if isinstance(e.body, bytes) else e.body
    check(e.status == 409 and body == want, f"AlreadyExists body as upstream: {body!r}")

print(f"python client: {checks} checks passed")
