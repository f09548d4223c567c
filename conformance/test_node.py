"""Issue 4, the Node: one Node object describes the host from the engine's facts
(name, labels, addresses, capacity, conditions, nodeInfo with the engine's
version); `kubectl cordon` marks it unschedulable and taints it, `uncordon` undoes
both."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from conftest import ON_PODMAN, TEST_IMAGE
from helpers import namespace  # noqa: F401


def node_of(kubectl, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        items = json.loads(kubectl("get", "nodes", "-o", "json").stdout)["items"]
        ready = [n for n in items if any(c["type"] == "Ready" and c["status"] == "True"
                                         for c in n.get("status", {}).get("conditions", []))]
        if ready or time.monotonic() > deadline:
            assert len(items) == 1, f"expected exactly one Node, got {[n['metadata']['name'] for n in items]}"
            return items[0]
        time.sleep(0.5)


def docker_info() -> dict:
    out = subprocess.run(["docker", "info", "--format", "{{json .}}"], capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out)


def test_one_ready_node_from_the_engine(kubectl):
    node = node_of(kubectl)
    info = docker_info()
    labels = node["metadata"]["labels"]
    name = node["metadata"]["name"]
    assert labels["kubernetes.io/hostname"] == name
    assert labels["kubernetes.io/os"] == "linux"
    assert labels["kubernetes.io/arch"] in ("amd64", "arm64", "arm")
    status = node["status"]
    assert status["capacity"]["cpu"] == str(info["NCPU"])
    assert status["capacity"]["memory"] == f"{info['MemTotal'] // 1024}Ki"
    assert status["allocatable"]["pods"] == "110"
    ready = [c for c in status["conditions"] if c["type"] == "Ready"][0]
    assert ready["status"] == "True" and ready["reason"] == "KubeletReady"
    assert {a["type"] for a in status["addresses"]} == {"InternalIP", "Hostname"}
    ni = status["nodeInfo"]
    runtime = "podman" if ON_PODMAN else "docker"
    assert ni["containerRuntimeVersion"] == f"{runtime}://{info['ServerVersion']}"
    assert ni["kernelVersion"] == info["KernelVersion"]
    assert ni["operatingSystem"] == "linux"
    assert ni["kubeletVersion"].startswith("v1.35.0")
    out = kubectl("get", "nodes").stdout.splitlines()
    assert out[0].split()[:5] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"], out
    assert out[1].split()[0] == name and out[1].split()[1] == "Ready", out
    desc = kubectl("describe", "node", name).stdout
    assert f"Container Runtime Version:  {runtime}://" in desc, desc


def pod_json(kubectl, ns, name):
    return json.loads(kubectl("get", "pod", "-n", ns, name, "-o", "json").stdout)


def test_cordon_taints_and_uncordon_clears(kubectl_newest, namespace):
    kubectl = kubectl_newest
    name = node_of(kubectl)["metadata"]["name"]
    try:
        kubectl("cordon", name)
        deadline = time.monotonic() + 10
        while True:
            node = json.loads(kubectl("get", "node", name, "-o", "json").stdout)
            taints = [t["key"] for t in node["spec"].get("taints", [])]
            if "node.kubernetes.io/unschedulable" in taints or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert node["spec"].get("unschedulable") is True
        assert "node.kubernetes.io/unschedulable" in taints, node["spec"]
        row = kubectl("get", "node", name).stdout.splitlines()[1].split()
        assert row[1] == "Ready,SchedulingDisabled", row
        kubectl("run", "waiting", "-n", namespace, f"--image={TEST_IMAGE}", "--image-pull-policy=Never",
                "--command", "--", "sleep", "3600")
        time.sleep(2)
        pod = pod_json(kubectl, namespace, "waiting")
        assert not pod["spec"].get("nodeName"), "a cordoned node takes no new pod"
        assert pod["status"]["phase"] == "Pending"
        sched = [c for c in pod["status"]["conditions"] if c["type"] == "PodScheduled"][0]
        assert sched["status"] == "False" and sched["reason"] == "Unschedulable", sched
    finally:
        kubectl("uncordon", name)
    deadline = time.monotonic() + 60
    while pod_json(kubectl, namespace, "waiting")["status"].get("phase") != "Running":
        if time.monotonic() > deadline:
            pytest.fail(f"the waiting pod did not run after uncordon: {pod_json(kubectl, namespace, 'waiting')}")
        time.sleep(0.5)
    assert pod_json(kubectl, namespace, "waiting")["spec"]["nodeName"] == name
    deadline = time.monotonic() + 10
    while True:
        node = json.loads(kubectl("get", "node", name, "-o", "json").stdout)
        taints = [t["key"] for t in node["spec"].get("taints", [])]
        if "node.kubernetes.io/unschedulable" not in taints:
            break
        if time.monotonic() > deadline:
            pytest.fail(f"the unschedulable taint stayed after uncordon: {node['spec']}")
        time.sleep(0.2)
    assert not node["spec"].get("unschedulable")
