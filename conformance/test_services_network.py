"""Issue 5, Services on real pods: a server Deployment behind a ClusterIP Service
(port 80, named targetPort 8080) is reached from a pod in another namespace by
all four DNS forms and by its cluster IP, keeps answering when one replica is
deleted, and a NodePort Service answers on the host. ConfigMaps and Secrets
mounted as files follow edits; env values are read at start; subPath mounts keep
what they had."""

from __future__ import annotations

import json
import subprocess
import urllib.request

from conftest import TEST_IMAGE
from helpers import namespace, uniq, wait_for  # noqa: F401


def apply(kubectl, ns, obj):
    kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(obj))


def wait(pred, what, timeout=90):
    """helpers.wait_for with this file's argument order and a 90 s default."""
    return wait_for(what, pred, timeout=timeout, interval=0.5)


def pod_json(kubectl, ns, name):
    r = kubectl("get", "pod", "-n", ns, name, "-o", "json", check=False)
    return json.loads(r.stdout) if r.rc == 0 else {}


def client_pod(kubectl, ns, name, script):
    apply(kubectl, ns, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                        "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 1,
                                 "containers": [{"name": "c", "image": TEST_IMAGE, "imagePullPolicy": "Never",
                                                 "command": ["sh", "-c", script]}]}})
    wait(lambda: pod_json(kubectl, ns, name).get("status", {}).get("phase") in ("Succeeded", "Failed"),
         f"client pod {name} finished")
    return pod_json(kubectl, ns, name)["status"]["phase"], kubectl("logs", "-n", ns, name).stdout


def server(kubectl, ns, replicas=2):
    apply(kubectl, ns, {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "server"},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "server"}},
                 "template": {"metadata": {"labels": {"app": "server"}}, "spec": {
                     "terminationGracePeriodSeconds": 1,
                     "containers": [{"name": "httpd", "image": TEST_IMAGE, "imagePullPolicy": "Never",
                                     "command": ["sh", "-c", "echo served by $HOSTNAME > /tmp/index.html; "
                                                 "exec httpd -f -p 8080 -h /tmp"],
                                     "ports": [{"name": "web", "containerPort": 8080}],
                                     "readinessProbe": {"httpGet": {"path": "/", "port": "web"},
                                                        "periodSeconds": 1}}]}}}})
    kubectl("rollout", "status", "-n", ns, "deployment/server", "--timeout=120s", timeout=150)


def test_service_reached_by_name_from_another_namespace(kubectl_newest, namespace):
    kubectl = kubectl_newest
    other = uniq("client")
    kubectl("create", "namespace", other)
    try:
        server(kubectl, namespace)
        apply(kubectl, namespace, {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                                   "spec": {"selector": {"app": "server"},
                                            "ports": [{"name": "http", "port": 80, "targetPort": "web"}]}})
        def ready_addresses():
            r = kubectl("get", "endpoints", "web", "-n", namespace, "-o", "json", check=False)
            subsets = json.loads(r.stdout).get("subsets") or [] if r.rc == 0 else []
            found = [a["ip"] for s in subsets for a in s.get("addresses", [])]
            return found if len(found) == 2 else None
        wait(ready_addresses, "two ready endpoints")
        forms = ["web." + namespace, f"web.{namespace}.svc", f"web.{namespace}.svc.cluster.local"]
        script = "; ".join(f"wget -qO- http://{f}/ || echo FAIL {f}" for f in forms)
        phase, out = client_pod(kubectl, other, "client", script)
        assert "FAIL" not in out and out.count("served by") == 3, out
        _, same = client_pod(kubectl, namespace, "local-client", "wget -qO- http://web/")
        assert "served by" in same, same

        victim = json.loads(kubectl("get", "pods", "-n", namespace, "-l", "app=server", "-o", "json").stdout)["items"][0]
        kubectl("delete", "pod", "-n", namespace, victim["metadata"]["name"], "--wait=false")
        phase, out = client_pod(kubectl, other, "client2",
                                f"for i in 1 2 3 4 5 6; do wget -qO- http://web.{namespace}/ || echo FAIL; done")
        assert "FAIL" not in out and out.count("served by") == 6, out
    finally:
        kubectl("delete", "namespace", other, "--wait=false")


def test_node_port_answers_on_the_host(kubectl_newest, namespace):
    kubectl = kubectl_newest
    server(kubectl, namespace, replicas=1)
    apply(kubectl, namespace, {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "np"},
                               "spec": {"type": "NodePort", "selector": {"app": "server"},
                                        "ports": [{"port": 80, "targetPort": 8080}]}})
    svc = json.loads(kubectl("get", "svc", "np", "-n", namespace, "-o", "json").stdout)
    node_port = svc["spec"]["ports"][0]["nodePort"]
    assert 30000 <= node_port <= 32767

    def get():
        try:
            return urllib.request.urlopen(f"http://127.0.0.1:{node_port}/", timeout=3).read().decode()
        except OSError:
            return None
    assert "served by" in wait(get, "the node port answering")
    cip = svc["spec"]["clusterIP"]
    assert "served by" in urllib.request.urlopen(f"http://{cip}/", timeout=3).read().decode()


def test_configmap_and_secret_follow_edits(kubectl_newest, namespace):
    kubectl = kubectl_newest
    kubectl("create", "configmap", "conf", "-n", namespace, "--from-literal=greeting=hello",
            "--from-literal=color=blue")
    kubectl("create", "secret", "generic", "cred", "-n", namespace, "--from-literal=password=one")
    apply(kubectl, namespace, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "reader"}, "spec": {
        "terminationGracePeriodSeconds": 1,
        "containers": [{"name": "c", "image": TEST_IMAGE, "imagePullPolicy": "Never",
                        "command": ["sh", "-c", "echo env=$GREETING; while true; do "
                                    "echo file=$(cat /conf/greeting) sub=$(cat /sub/color) "
                                    "secret=$(cat /cred/password); sleep 1; done"],
                        "env": [{"name": "GREETING", "valueFrom": {"configMapKeyRef": {"name": "conf", "key": "greeting"}}}],
                        "volumeMounts": [{"name": "conf", "mountPath": "/conf"},
                                         {"name": "conf", "mountPath": "/sub/color", "subPath": "color"},
                                         {"name": "cred", "mountPath": "/cred"}]}],
        "volumes": [{"name": "conf", "configMap": {"name": "conf"}},
                    {"name": "cred", "secret": {"secretName": "cred", "defaultMode": 0o400}}]}})
    logs = lambda: kubectl("logs", "-n", namespace, "reader", check=False).stdout  # noqa: E731
    wait(lambda: "file=hello sub=blue secret=one" in logs(), "the mounted values")
    assert "env=hello" in logs()
    kubectl("patch", "configmap", "conf", "-n", namespace, "--type=merge",
            "-p", json.dumps({"data": {"greeting": "bonjour", "color": "red"}}))
    kubectl("patch", "secret", "cred", "-n", namespace, "--type=merge",
            "-p", json.dumps({"stringData": {"password": "two"}}))
    wait(lambda: "file=bonjour sub=blue secret=two" in logs(), "the edits in the running container", timeout=60)
    uid = pod_json(kubectl, namespace, "reader")["metadata"]["uid"]
    ids = subprocess.run(["docker", "ps", "-q", "--filter", f"label=io.k2d.pod.uid={uid}"],
                         capture_output=True, text=True, check=True).stdout.split()
    assert len(ids) == 2, "sandbox and app container, none re-created"
