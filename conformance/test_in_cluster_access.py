"""Issue 5, in-cluster access: a pod gets KUBERNETES_SERVICE_HOST/PORT and its
service account token, CA and namespace at /var/run/secrets/kubernetes.io/
serviceaccount; with that token it lists pods through https://kubernetes.default.svc
and is refused (403) when it creates one. automountServiceAccountToken: false
mounts nothing."""

from __future__ import annotations

import json
import time

import pytest

from conftest import TEST_IMAGE
from helpers import namespace  # noqa: F401

SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"

SCRIPT = f"""
echo host=$KUBERNETES_SERVICE_HOST port=$KUBERNETES_SERVICE_PORT
ls {SA_DIR}
NS=$(cat {SA_DIR}/namespace); TOKEN=$(cat {SA_DIR}/token)
grep -q 'BEGIN CERTIFICATE' {SA_DIR}/ca.crt && echo ca-ok
wget -qO- --no-check-certificate --header "Authorization: Bearer $TOKEN" \
  https://kubernetes.default.svc/api/v1/namespaces/$NS/pods >/tmp/list && grep -q PodList /tmp/list && echo list-ok
wget -qO- --no-check-certificate --header "Authorization: Bearer $TOKEN" --header 'Content-Type: application/json' \
  --post-data '{{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"x"}},"spec":{{"containers":[{{"name":"c","image":"i"}}]}}}}' \
  https://kubernetes.default.svc/api/v1/namespaces/$NS/pods 2>&1; echo create-rc=$?
"""


def run_pod(kubectl, ns, name, automount=None):
    spec = {"restartPolicy": "Never", "terminationGracePeriodSeconds": 1,
            "containers": [{"name": "c", "image": TEST_IMAGE, "imagePullPolicy": "Never",
                            "command": ["sh", "-c", SCRIPT]}]}
    if automount is not None:
        spec["automountServiceAccountToken"] = automount
    kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}))
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        pod = json.loads(kubectl("get", "pod", "-n", ns, name, "-o", "json").stdout)
        if pod.get("status", {}).get("phase") in ("Succeeded", "Failed"):
            return pod, kubectl("logs", "-n", ns, name).stdout
        time.sleep(0.5)
    pytest.fail(f"pod {name} did not finish: {json.dumps(pod.get('status'))}")


def test_pod_uses_its_token_to_read_not_write(kubectl_newest, namespace):
    pod, out = run_pod(kubectl_newest, namespace, "api-client")
    assert "host=10.96.0.1 port=443" in out, out
    for f in ("ca.crt", "namespace", "token"):
        assert f in out.split(), out
    assert "ca-ok" in out and "list-ok" in out, out
    assert "403 Forbidden" in out and "create-rc=1" in out, out
    vols = [v["name"] for v in pod["spec"]["volumes"]]
    assert any(v.startswith("kube-api-access-") for v in vols), vols


def test_automount_off_mounts_nothing(kubectl_newest, namespace):
    pod, out = run_pod(kubectl_newest, namespace, "no-token", automount=False)
    assert "No such file or directory" in out or "can't" in out, out
    assert "list-ok" not in out
    assert not pod["spec"].get("volumes"), pod["spec"].get("volumes")
