"""Issue 4, probes and devices on real pods: a failing liveness probe restarts the
container (restartCount, an Unhealthy event); a readiness probe decides the Ready
condition; /dev/null mounted as a CharDevice hostPath is usable without
privileged."""

from __future__ import annotations

import json
import time

import pytest

from conftest import TEST_IMAGE
from helpers import namespace  # noqa: F401


def pod_of(kubectl, ns, name):
    return json.loads(kubectl("get", "pod", "-n", ns, name, "-o", "json").stdout)


def wait_for(kubectl, ns, name, pred, what, timeout=90):
    deadline = time.monotonic() + timeout
    pod = {}
    while time.monotonic() < deadline:
        pod = pod_of(kubectl, ns, name)
        if pred(pod):
            return pod
        time.sleep(0.5)
    pytest.fail(f"{what}: not within {timeout}s; status {json.dumps(pod.get('status'))}")


def apply(kubectl, ns, name, spec):
    kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}))


def ready(pod) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod.get("status", {}).get("conditions", []))


def test_liveness_failure_restarts_and_readiness_gates(kubectl_newest, namespace):
    kubectl = kubectl_newest
    apply(kubectl, namespace, "live", {"terminationGracePeriodSeconds": 1, "containers": [{
        "name": "c", "image": TEST_IMAGE, "imagePullPolicy": "Never",
        "command": ["sh", "-c", "touch /tmp/healthy; sleep 4; rm /tmp/healthy; sleep 3600"],
        "livenessProbe": {"exec": {"command": ["cat", "/tmp/healthy"]}, "periodSeconds": 1, "failureThreshold": 2},
        "readinessProbe": {"exec": {"command": ["cat", "/tmp/healthy"]}, "periodSeconds": 1}}]})
    wait_for(kubectl, namespace, "live", ready, "Ready while the probe file exists")
    pod = wait_for(kubectl, namespace, "live",
                   lambda p: any(s.get("restartCount", 0) >= 1 for s in p["status"].get("containerStatuses", [])),
                   "a restart after the liveness probe failed")
    status = pod["status"]["containerStatuses"][0]
    assert "terminated" in status.get("lastState", {}), status
    events = kubectl("get", "events", "-n", namespace, "--field-selector", "involvedObject.name=live",
                     "-o", "json").stdout
    reasons = {e["reason"] for e in json.loads(events)["items"]}
    assert "Unhealthy" in reasons and "Killing" in reasons, reasons


def test_char_device_host_path_without_privileged(kubectl_newest, namespace):
    kubectl = kubectl_newest
    apply(kubectl, namespace, "dev", {"restartPolicy": "Never", "containers": [{
        "name": "c", "image": TEST_IMAGE, "imagePullPolicy": "Never",
        "command": ["sh", "-c", "echo data > /dev/sink && ls -l /dev/sink && echo wrote"],
        "volumeMounts": [{"name": "null", "mountPath": "/dev/sink"}]}],
        "volumes": [{"name": "null", "hostPath": {"path": "/dev/null", "type": "CharDevice"}}]})
    pod = wait_for(kubectl, namespace, "dev", lambda p: p["status"].get("phase") in ("Succeeded", "Failed"),
                   "the pod finishing")
    out = kubectl("logs", "-n", namespace, "dev").stdout
    assert pod["status"]["phase"] == "Succeeded", out
    assert "wrote" in out and out.startswith("c"), out
    assert not pod["spec"]["containers"][0].get("securityContext", {}).get("privileged")


def test_memory_empty_dir_goes_with_the_pod(kubectl_newest, namespace):
    import subprocess
    kubectl = kubectl_newest
    apply(kubectl, namespace, "ram", {"terminationGracePeriodSeconds": 1, "containers": [{
        "name": "c", "image": TEST_IMAGE, "imagePullPolicy": "Never",
        "command": ["sh", "-c", "echo hi > /cache/f; grep /cache /proc/mounts; sleep 3600"],
        "volumeMounts": [{"name": "cache", "mountPath": "/cache"}]}],
        "volumes": [{"name": "cache", "emptyDir": {"medium": "Memory", "sizeLimit": "8Mi"}}]})
    pod = wait_for(kubectl, namespace, "ram", lambda p: p["status"].get("phase") == "Running", "running")
    uid = pod["metadata"]["uid"]

    def volumes():
        # By name (k2d-emptydir-<pod uid>-<volume>): Podman drops the label a mount gives.
        return subprocess.run(["docker", "volume", "ls", "-q", "--filter", f"name=k2d-emptydir-{uid}-"],
                              capture_output=True, text=True, check=True).stdout.split()
    assert len(volumes()) == 1
    deadline = time.monotonic() + 20
    while "tmpfs" not in kubectl("logs", "-n", namespace, "ram").stdout:
        assert time.monotonic() < deadline, "the emptyDir is a tmpfs"
        time.sleep(0.3)
    kubectl("delete", "pod", "-n", namespace, "ram", "--timeout=60s")
    deadline = time.monotonic() + 20
    while volumes():
        assert time.monotonic() < deadline, f"volumes left after the pod: {volumes()}"
        time.sleep(0.3)
