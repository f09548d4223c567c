"""Shared helpers of the pod runtime scenarios (conformance/test_pods_*.py): pods
applied with kubectl, waiting on their status, and the engine's view of them
(`docker ps` by the io.k2d.* labels).

Every container a scenario makes has a unique name or lives in a pod of a
unique namespace; the scenarios remove what they made.
"""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from conftest import Kubectl
from helpers import Api, uniq

BUSYBOX = "k2d-test/busybox:latest"
HTTPD = "k2d-test/httpd:latest"


@pytest.fixture
def pod_ns(k2d):
    """A fresh namespace for one scenario; deleting it removes its pods' containers."""
    api = Api(k2d)
    name = uniq("pods")
    api.create_namespace(name)
    yield name
    api.delete(f"/api/v1/namespaces/{name}")
    # The runtime removes the containers of the namespace's pods; wait for it, then make
    # sure (a test that failed half-way must not leave containers behind).
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and engine_containers(f"io.k2d.pod.namespace={name}"):
        time.sleep(0.3)
    leftovers = engine_containers(f"io.k2d.pod.namespace={name}")
    if leftovers:
        docker("rm", "-f", *leftovers, check=False)


def docker(*args, check=True) -> str:
    r = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=60)
    if check and r.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed ({r.returncode}): {r.stderr}")
    return r.stdout


def engine_containers(label: str) -> list[str]:
    """The ids of the engine containers with this label (`key=value`)."""
    return docker("ps", "-aq", "--no-trunc", "--filter", f"label={label}").split()


def containers_of(uid: str) -> list[dict]:
    """The engine containers of a pod (all states), as `docker ps` lists them."""
    out = docker("ps", "-a", "--no-trunc", "--filter", f"label=io.k2d.pod.uid={uid}",
                 "--format", "{{json .}}")
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def pod_manifest(name: str, containers: list[dict], *, init: list[dict] | None = None,
                 restart: str = "Always", grace: int | None = 2, **spec) -> dict:
    s = {"containers": containers, "restartPolicy": restart, **spec}
    if init:
        s["initContainers"] = init
    if grace is not None:
        s["terminationGracePeriodSeconds"] = grace
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": s}


def sh(name: str, script: str, image: str = BUSYBOX, **extra) -> dict:
    """A container running `sh -c script`."""
    return {"name": name, "image": image, "command": ["sh", "-c", script], **extra}


# A main process that ends at once on SIGTERM (PID 1 ignores signals it has no handler for).
SLEEPER = "trap 'exit 0' TERM; while true; do sleep 0.2; done"


def apply(kubectl: Kubectl, ns: str, manifest: dict):
    kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(manifest))


def get_pod(kubectl: Kubectl, ns: str, name: str) -> dict | None:
    r = kubectl("get", "pod", "-n", ns, name, "-o", "json", check=False)
    if r.rc != 0:
        if "NotFound" in r.stderr or "not found" in r.stderr:
            return None
        raise AssertionError(f"kubectl get pod {name} failed: {r.stderr}")
    return json.loads(r.stdout)


def wait_pod(kubectl: Kubectl, ns: str, name: str, cond, what: str, timeout: float = 30) -> dict:
    """Polls the pod until cond(pod) holds; fails with the last pod seen."""
    deadline = time.monotonic() + timeout
    pod = None
    while time.monotonic() < deadline:
        pod = get_pod(kubectl, ns, name)
        if pod is not None and cond(pod):
            return pod
        time.sleep(0.3)
    pytest.fail(f"pod {ns}/{name} did not become {what} in {timeout}s; last seen:\n"
                f"{json.dumps((pod or {}).get('status'), indent=1)}", pytrace=False)


def wait_until(cond, what: str, timeout: float = 30, interval: float = 0.3):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = cond()
        if last:
            return last
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {what}", pytrace=False)


def phase_is(phase: str):
    return lambda p: p.get("status", {}).get("phase") == phase


def status_of(pod: dict, name: str, init: bool = False) -> dict:
    key = "initContainerStatuses" if init else "containerStatuses"
    for s in pod.get("status", {}).get(key, []):
        if s["name"] == name:
            return s
    return {}


def condition(pod: dict, kind: str) -> dict:
    for c in pod.get("status", {}).get("conditions", []):
        if c["type"] == kind:
            return c
    return {}


def running_sleeper(server, kubectl: Kubectl, ns: str, name: str) -> tuple[dict, list[str]]:
    """Creates namespace `ns` and a one-container sleeper pod in it, waits until it runs;
    returns the pod and its engine container ids (sandbox and container), sorted."""
    Api(server).create_namespace(ns)
    apply(kubectl, ns, pod_manifest(name, [sh("main", SLEEPER)]))
    pod = wait_pod(kubectl, ns, name, phase_is("Running"), "Running")
    ids = sorted(c["ID"] for c in containers_of(pod["metadata"]["uid"]))
    assert len(ids) == 2, ids
    return pod, ids
