"""Issue 5, endpoints: the `kubernetes` Service in `default` reaches k2d, with
Endpoints and an EndpointSlice; a Service's Endpoints and EndpointSlices list its
ready pods on their named target port, and follow a deleted replica (these need
the pod runtime)."""

from __future__ import annotations

import json


from conftest import TEST_HTTPD_IMAGE
from helpers import namespace, uniq, wait_for  # noqa: F401



def get_json(kubectl, *args):
    r = kubectl("get", *args, "-o", "json", check=False)
    return json.loads(r.stdout) if r.rc == 0 else None


def test_the_kubernetes_service(kubectl, k2d):
    svc = get_json(kubectl, "svc", "-n", "default", "kubernetes")
    assert svc["spec"]["clusterIP"] == "10.96.0.1"
    assert svc["spec"]["ports"][0]["port"] == 443 and svc["spec"]["ports"][0]["name"] == "https"
    assert svc["spec"]["ports"][0]["targetPort"] == k2d.port
    assert svc["metadata"]["labels"] == {"component": "apiserver", "provider": "kubernetes"}
    rows = kubectl("get", "endpoints", "-n", "default", "kubernetes").stdout.splitlines()
    assert rows[1].split()[0] == "kubernetes" and rows[1].split()[1].endswith(f":{k2d.port}"), rows
    slice_ = get_json(kubectl, "endpointslice", "-n", "default", "kubernetes")
    assert slice_["ports"][0]["port"] == k2d.port
    desc = kubectl("describe", "svc", "-n", "default", "kubernetes").stdout
    assert f":{k2d.port}" in desc and "10.96.0.1" in desc, desc


def test_service_without_pods_has_empty_endpoints(kubectl_newest, namespace):
    kubectl = kubectl_newest
    name = uniq("web")
    kubectl("create", "service", "clusterip", name, "-n", namespace, "--tcp=80:8080")
    ep = wait_for("Endpoints", lambda: get_json(kubectl, "endpoints", "-n", namespace, name))
    assert not ep.get("subsets")
    rows = kubectl("get", "endpoints", "-n", namespace, name).stdout.splitlines()
    assert rows[1].split()[:2] == [name, "<none>"], rows
    slices = wait_for("one slice", lambda: (l := get_json(
        kubectl, "endpointslices", "-n", namespace, "-l", f"kubernetes.io/service-name={name}")["items"]) and l)
    assert len(slices) == 1, slices
    s = slices[0]
    assert s["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"] == "endpointslice-controller.k8s.io"
    assert s["metadata"]["ownerReferences"][0]["kind"] == "Service"
    kubectl("delete", "svc", "-n", namespace, name)
    wait_for("Endpoints removed", lambda: get_json(kubectl, "endpoints", "-n", namespace, name) is None)
    wait_for("slices collected", lambda: not get_json(
        kubectl, "endpointslices", "-n", namespace, "-l", f"kubernetes.io/service-name={name}")["items"])


# ------------------------------------------------------------ with pods (needs the pod runtime)


def ready_ips(kubectl, ns: str, name: str) -> set[str]:
    ep = get_json(kubectl, "endpoints", "-n", ns, name) or {}
    return {a["ip"] for s in ep.get("subsets") or [] for a in s.get("addresses", [])}


def test_endpoints_follow_ready_replicas(kubectl_newest, namespace):
    kubectl = kubectl_newest
    name = uniq("web")
    labels = {"app": name}
    kubectl("apply", "-n", namespace, "-f", "-", input="\n---\n".join(json.dumps(d) for d in [
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
         "spec": {"replicas": 2, "selector": {"matchLabels": labels},
                  "template": {"metadata": {"labels": labels},
                               "spec": {"terminationGracePeriodSeconds": 1, "containers": [{
                                   "name": "httpd", "image": TEST_HTTPD_IMAGE, "imagePullPolicy": "Never",
                                   "ports": [{"name": "http", "containerPort": 80}],
                                   "readinessProbe": {"tcpSocket": {"port": "http"}, "periodSeconds": 1}}]}}}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
         "spec": {"selector": labels, "ports": [{"name": "web", "port": 8000, "targetPort": "http"}]}},
    ]))
    ips = wait_for("two ready endpoints", lambda: (i := ready_ips(kubectl, namespace, name)) and len(i) == 2 and i)
    pods = get_json(kubectl, "pods", "-n", namespace, "-l", f"app={name}")["items"]
    assert ips == {p["status"]["podIP"] for p in pods}
    desc = kubectl("describe", "svc", "-n", namespace, name).stdout
    for ip in ips:
        assert f"{ip}:80" in desc, desc
    ep = get_json(kubectl, "endpoints", "-n", namespace, name)
    assert ep["subsets"][0]["ports"] == [{"name": "web", "port": 80, "protocol": "TCP"}]

    victim = pods[0]
    kubectl("delete", "pod", "-n", namespace, victim["metadata"]["name"], "--wait=false")
    wait_for("the deleted replica's address gone",
             lambda: victim["status"]["podIP"] not in ready_ips(kubectl, namespace, name))
    wait_for("the replacement ready", lambda: len(ready_ips(kubectl, namespace, name)) == 2)
    slices = get_json(kubectl, "endpointslices", "-n", namespace, "-l", f"kubernetes.io/service-name={name}")
    ready = {e["addresses"][0] for s in slices["items"] for e in s.get("endpoints") or []
             if e["conditions"].get("ready")}
    assert ready == ready_ips(kubectl, namespace, name)
