"""Issue 4, pods/log: `kubectl logs` with the options it sends (container,
--tail, --timestamps, --limit-bytes, --since, -f, --previous) reads the engine's
output of the pod's containers."""

from __future__ import annotations

import json
import re
import time

import pytest

from conftest import TEST_IMAGE
from helpers import Api, Background, kubectl_cmd, namespace, uniq  # noqa: F401


def wait_pod(kubectl, ns: str, name: str, pred, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    pod = {}
    while time.monotonic() < deadline:
        r = kubectl("get", "pod", "-n", ns, name, "-o", "json", check=False)
        if r.rc == 0:
            pod = json.loads(r.stdout)
            if pred(pod):
                return pod
        time.sleep(0.3)
    pytest.fail(f"pod {ns}/{name} did not reach the expected state in {timeout}s: "
                f"{json.dumps(pod.get('status'), indent=1)}")


def running(pod: dict) -> bool:
    return pod.get("status", {}).get("phase") == "Running"


def pod_manifest(name: str, script: str, *, containers: int = 1, restart: str = "Always") -> str:
    cs = [{"name": f"c{i}", "image": TEST_IMAGE, "imagePullPolicy": "Never",
           "command": ["sh", "-c", script.replace("NAME", f"c{i}")]} for i in range(containers)]
    return json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                       "spec": {"restartPolicy": restart, "terminationGracePeriodSeconds": 1,
                                "containers": cs}})


def test_logs_with_options(kubectl, namespace):
    name = uniq("logs")
    kubectl("apply", "-n", namespace, "-f", "-",
            input=pod_manifest(name, "echo line 1; echo line 2; echo line 3; sleep 3600"))
    wait_pod(kubectl, namespace, name, running)
    deadline = time.monotonic() + 20
    while "line 3" not in (out := kubectl("logs", "-n", namespace, name).stdout):
        assert time.monotonic() < deadline, out
        time.sleep(0.3)
    assert out == "line 1\nline 2\nline 3\n", repr(out)
    assert kubectl("logs", "-n", namespace, name, "--tail=1").stdout == "line 3\n"
    stamped = kubectl("logs", "-n", namespace, name, "--timestamps").stdout.splitlines()
    assert len(stamped) == 3
    assert all(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z line \d$", ln) for ln in stamped), stamped
    assert kubectl("logs", "-n", namespace, name, "--limit-bytes=6").stdout == "line 1"
    assert kubectl("logs", "-n", namespace, name, "--since=1h").stdout == out
    assert kubectl("logs", "-n", namespace, name, "-c", "c0").stdout == out
    r = kubectl("logs", "-n", namespace, name, "-c", "nope", check=False)
    assert r.rc != 0 and "container nope is not valid for pod" in r.stderr, r.describe()


def test_logs_follow_streams(kubectl, namespace, tmp_path):
    name = uniq("follow")
    kubectl("apply", "-n", namespace, "-f", "-",
            input=pod_manifest(name, "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.5; done"))
    wait_pod(kubectl, namespace, name, running)
    bg = Background(kubectl_cmd(kubectl, "logs", "-f", "-n", namespace, name), kubectl.env(),
                    tmp_path / "follow.log")
    try:
        assert bg.wait_for(r"^tick 6$", timeout=30), bg.describe()
        assert bg.running(), bg.describe()
    finally:
        bg.stop()


def test_logs_of_many_containers_and_previous(kubectl, namespace, k2d):
    name = uniq("multi")
    kubectl("apply", "-n", namespace, "-f", "-",
            input=pod_manifest(name, "echo I am NAME; sleep 3600", containers=2))
    wait_pod(kubectl, namespace, name, running)
    api = Api(k2d)
    r = api.get(f"/api/v1/namespaces/{namespace}/pods/{name}/log")
    assert r.status == 400, r.describe()
    assert json.loads(r.body)["message"] == \
        f"a container name must be specified for pod {name}, choose one of: [c0 c1]"
    deadline = time.monotonic() + 20
    while kubectl("logs", "-n", namespace, name, "-c", "c1").stdout != "I am c1\n":
        assert time.monotonic() < deadline
        time.sleep(0.3)

    crash = uniq("again")
    kubectl("apply", "-n", namespace, "-f", "-",
            input=pod_manifest(crash, "echo run at $(date +%s%N); sleep 1; exit 1"))
    wait_pod(kubectl, namespace, crash,
             lambda p: any(s.get("restartCount", 0) >= 1 for s in p.get("status", {}).get("containerStatuses", [])))
    prev = kubectl("logs", "-n", namespace, crash, "--previous")
    assert prev.stdout.startswith("run at "), prev.describe()
