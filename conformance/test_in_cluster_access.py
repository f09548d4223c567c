"""Issue 5, in-cluster access: a pod gets KUBERNETES_SERVICE_HOST/PORT and its
service account token, CA and namespace at /var/run/secrets/kubernetes.io/
serviceaccount; `kubernetes.default.svc` resolves (search path) to the kubernetes Service
and answers on 443. With the mounted token and the mounted CA (checked against the
name kubernetes.default.svc), kubectl lists pods through the Service's cluster
IP once a RoleBinding grants `view` (before, it is refused: a pod's token has no rights of its
own), and is refused (403) when it creates one. automountServiceAccountToken: false
mounts nothing.

The TLS client runs on the host with the pod's files: the test image's busybox
wget speaks no TLS that k2d's ECDSA certificate allows (it offers RSA signatures
only), which is a limit of that client, not of the path."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from conftest import TEST_IMAGE, run
from helpers import namespace  # noqa: F401

SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"

SCRIPT = f"""
echo host=$KUBERNETES_SERVICE_HOST port=$KUBERNETES_SERVICE_PORT
ls {SA_DIR}
nslookup kubernetes.default.svc.cluster.local | grep -q 10.96.0.1 && echo dns-ok
echo | nc -w 3 kubernetes.default.svc 443 && echo tcp-ok
echo ready; sleep 3600
"""


def start_pod(kubectl, ns, name, automount=None):
    spec = {"terminationGracePeriodSeconds": 1,
            "containers": [{"name": "c", "image": TEST_IMAGE, "imagePullPolicy": "Never",
                            "command": ["sh", "-c", SCRIPT]}]}
    if automount is not None:
        spec["automountServiceAccountToken"] = automount
    kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}))
    deadline = time.monotonic() + 90
    out = ""
    while time.monotonic() < deadline:
        out = kubectl("logs", "-n", ns, name, check=False).stdout
        if "ready" in out.split():
            pod = json.loads(kubectl("get", "pod", "-n", ns, name, "-o", "json").stdout)
            return pod, out
        time.sleep(0.5)
    pytest.fail(f"pod {name} did not get ready; its output: {out}")


def container_file(pod: dict, path: str) -> str:
    uid = pod["metadata"]["uid"]
    ids = subprocess.run(["docker", "ps", "-q", "--filter", f"label=io.k2d.pod.uid={uid}",
                          "--filter", "label=io.k2d.container.name=c"],
                         capture_output=True, text=True, check=True).stdout.split()
    assert len(ids) == 1, ids
    return subprocess.run(["docker", "exec", ids[0], "cat", path], capture_output=True, text=True,
                          check=True).stdout


def test_pod_token_reads_through_the_kubernetes_service(kubectl_newest, namespace, tmp_path):
    kubectl = kubectl_newest
    pod, out = start_pod(kubectl, namespace, "api-client")
    assert "host=10.96.0.1 port=443" in out, out
    for f in ("ca.crt", "namespace", "token"):
        assert f in out.split(), out
    assert "dns-ok" in out and "tcp-ok" in out, out
    vols = [v["name"] for v in pod["spec"]["volumes"]]
    assert any(v.startswith("kube-api-access-") for v in vols), vols

    token = container_file(pod, f"{SA_DIR}/token")
    (tmp_path / "ca.crt").write_text(container_file(pod, f"{SA_DIR}/ca.crt"))
    assert container_file(pod, f"{SA_DIR}/namespace") == namespace
    cfg = tmp_path / "in-cluster.kubeconfig"
    cfg.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "pod",
        "clusters": [{"name": "in", "cluster": {"server": "https://10.96.0.1:443",
                                                "certificate-authority": str(tmp_path / "ca.crt"),
                                                "tls-server-name": "kubernetes.default.svc"}}],
        "users": [{"name": "pod", "user": {"token": token}}],
        "contexts": [{"name": "pod", "context": {"cluster": "in", "user": "pod", "namespace": namespace}}],
    }))

    def k(*args):
        return run([kubectl.path, "--kubeconfig", cfg, "--cache-dir", kubectl.fresh_cache(), *args],
                   env=kubectl.env(), check=False)
    r = k("get", "pods", "-o", "name")
    assert r.rc != 0 and f'User "system:serviceaccount:{namespace}:default" cannot list resource "pods"' \
        in r.stderr, r.describe()
    kubectl("create", "rolebinding", "default-view", "--clusterrole=view",
            f"--serviceaccount={namespace}:default", "-n", namespace)
    r = k("get", "pods", "-o", "name")
    assert r.rc == 0 and "pod/api-client" in r.stdout, r.describe()
    r = k("run", "other", f"--image={TEST_IMAGE}")
    assert r.rc != 0 and "forbidden" in r.stderr and \
        f'User "system:serviceaccount:{namespace}:default" cannot create resource "pods"' in r.stderr, r.describe()


def test_automount_off_mounts_nothing(kubectl_newest, namespace):
    pod, out = start_pod(kubectl_newest, namespace, "no-token", automount=False)
    assert "token" not in out.split(), out
    assert not pod["spec"].get("volumes"), pod["spec"].get("volumes")
