"""Issue 10, Jobs on the real engine with real kubectl: completions with parallelism, a failing
Job stopping at its backoffLimit, an Indexed Job whose pods see their index, the active deadline,
suspend and resume, ttlSecondsAfterFinished, and `kubectl delete job` with each cascade."""

from __future__ import annotations

import json
import subprocess
import time

import pytest
import yaml

from conftest import TEST_IMAGE
from helpers import namespace, uniq, wait_for  # noqa: F401  (fixtures)


def job(name: str, command: str, **spec) -> dict:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {**spec, "template": {"spec": {
                # `sh` as PID 1 ignores SIGTERM: stopping pods should not take the default 30 s.
                "restartPolicy": "Never", "terminationGracePeriodSeconds": 1, "containers": [
                {"name": "main", "image": TEST_IMAGE, "imagePullPolicy": "Never",
                 "command": ["sh", "-c", command]}]}}}}


def apply(kubectl, ns: str, obj: dict):
    kubectl("apply", "-n", ns, "-f", "-", input=yaml.safe_dump(obj))


def get(kubectl, ns: str, what: str) -> dict:
    return json.loads(kubectl("get", *what.split(), "-n", ns, "-o", "json").stdout)


def job_pods(kubectl, ns: str, name: str) -> list[dict]:
    return get(kubectl, ns, f"pods -l batch.kubernetes.io/job-name={name}")["items"]


def containers_of(ns: str) -> list[str]:
    out = subprocess.run(["docker", "ps", "-a", "--format", "{{.Names}}",
                          "--filter", f"label=io.k2d.pod.namespace={ns}"],
                         capture_output=True, text=True, check=True).stdout
    return [ln for ln in out.splitlines() if ln.strip()]



def test_completions_with_parallelism_and_kubectl_wait(kubectl, namespace):
    name = uniq("three")
    apply(kubectl, namespace, job(name, "sleep 1", completions=3, parallelism=2))
    seen_active = 0
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        running = [p for p in job_pods(kubectl, namespace, name)
                   if p["status"].get("phase") not in ("Succeeded", "Failed")]
        seen_active = max(seen_active, len(running))
        assert len(running) <= 2, [p["metadata"]["name"] for p in running]
        if seen_active == 2:
            break
        time.sleep(0.3)
    kubectl("wait", "-n", namespace, "--for=condition=complete", f"job/{name}", "--timeout=90s", timeout=120)
    j = get(kubectl, namespace, f"job/{name}")
    assert j["status"]["succeeded"] == 3, j["status"]
    assert j["status"]["completionTime"] and j["status"]["startTime"]
    pods = job_pods(kubectl, namespace, name)
    assert len(pods) == 3 and all(p["status"]["phase"] == "Succeeded" for p in pods), \
        [(p["metadata"]["name"], p["status"].get("phase")) for p in pods]
    row = kubectl("get", "job", name, "-n", namespace, "--no-headers").stdout.split()
    assert row[1:3] == ["Complete", "3/3"], row


def test_failing_job_stops_at_backoff_limit(kubectl_newest, namespace):
    kubectl = kubectl_newest
    name = uniq("fails")
    apply(kubectl, namespace, job(name, "exit 3", backoffLimit=1))
    kubectl("wait", "-n", namespace, "--for=condition=failed", f"job/{name}", "--timeout=90s", timeout=120)
    j = get(kubectl, namespace, f"job/{name}")
    assert j["status"]["failed"] == 2, j["status"]
    failed = [c for c in j["status"]["conditions"] if c["type"] == "Failed"][0]
    assert failed["reason"] == "BackoffLimitExceeded", failed
    pods = job_pods(kubectl, namespace, name)
    assert [p["status"]["phase"] for p in pods] == ["Failed", "Failed"]
    # The replacement waited the 10 s back-off after the first failure.
    started = sorted(p["status"]["containerStatuses"][0]["state"]["terminated"]["startedAt"] for p in pods)
    first_end = min(p["status"]["containerStatuses"][0]["state"]["terminated"]["finishedAt"] for p in pods)
    gap = time.mktime(time.strptime(started[1], "%Y-%m-%dT%H:%M:%SZ")) - \
        time.mktime(time.strptime(first_end, "%Y-%m-%dT%H:%M:%SZ"))
    assert gap >= 9, (started, first_end)
    row = kubectl("get", "job", name, "-n", namespace, "--no-headers").stdout.split()
    assert row[1] == "Failed", row


def test_indexed_job_pods_see_their_index(kubectl_newest, namespace):
    kubectl = kubectl_newest
    name = uniq("idx")
    apply(kubectl, namespace, job(name, 'echo "index=$JOB_COMPLETION_INDEX host=$(hostname)"',
                                  completions=3, parallelism=3, completionMode="Indexed"))
    kubectl("wait", "-n", namespace, "--for=condition=complete", f"job/{name}", "--timeout=90s", timeout=120)
    j = get(kubectl, namespace, f"job/{name}")
    assert j["status"]["completedIndexes"] == "0-2", j["status"]
    seen = set()
    for p in job_pods(kubectl, namespace, name):
        index = p["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"]
        log = kubectl("logs", "-n", namespace, p["metadata"]["name"]).stdout.strip()
        assert log == f"index={index} host={name}-{index}", (p["metadata"]["name"], log)
        seen.add(index)
    assert seen == {"0", "1", "2"}


def test_deadline_suspend_and_ttl(kubectl_newest, namespace):
    kubectl = kubectl_newest
    slow = uniq("slow")
    apply(kubectl, namespace, job(slow, "sleep 300", activeDeadlineSeconds=3))
    kubectl("wait", "-n", namespace, "--for=condition=failed", f"job/{slow}", "--timeout=60s", timeout=90)
    j = get(kubectl, namespace, f"job/{slow}")
    assert [c["reason"] for c in j["status"]["conditions"] if c["type"] == "Failed"] == ["DeadlineExceeded"]
    wait_for("the pod of the expired Job gone", timeout=60, fn=lambda: not job_pods(kubectl, namespace, slow))

    later = uniq("later")
    apply(kubectl, namespace, job(later, "true", suspend=True, ttlSecondsAfterFinished=2))
    kubectl("wait", "-n", namespace, "--for=condition=suspended", f"job/{later}", "--timeout=30s", timeout=60)
    assert job_pods(kubectl, namespace, later) == []
    row = kubectl("get", "job", later, "-n", namespace, "--no-headers").stdout.split()
    assert row[1] == "Suspended", row
    kubectl("patch", "job", later, "-n", namespace, "--type=merge", "-p", '{"spec":{"suspend":false}}')
    kubectl("wait", "-n", namespace, "--for=condition=complete", f"job/{later}", "--timeout=60s", timeout=90)
    # ttlSecondsAfterFinished: the Job and its pod go away.
    kubectl("wait", "-n", namespace, "--for=delete", f"job/{later}", "--timeout=30s", timeout=60)
    wait_for("the finished Job's pod gone", timeout=30, fn=lambda: not job_pods(kubectl, namespace, later))
    wait_for("no container left", timeout=60, fn=lambda: not containers_of(namespace))


@pytest.mark.parametrize("cascade", ["background", "foreground", "orphan"])
def test_delete_job_cascades(kubectl_newest, namespace, cascade):
    kubectl = kubectl_newest
    name = uniq("del")
    apply(kubectl, namespace, job(name, "sleep 300", parallelism=2, completions=2))
    wait_for("two running pods", timeout=60, fn=lambda: len([p for p in job_pods(kubectl, namespace, name)
                                               if p["status"].get("phase") == "Running"]) == 2)
    kubectl("delete", "job", name, "-n", namespace, f"--cascade={cascade}", "--timeout=60s", timeout=90)
    assert kubectl("get", "job", name, "-n", namespace, check=False).rc != 0
    if cascade == "orphan":
        time.sleep(1)
        pods = job_pods(kubectl, namespace, name)
        assert len(pods) == 2 and all(not p["metadata"].get("ownerReferences") for p in pods), pods
        assert all(p["status"].get("phase") == "Running" for p in pods)
        kubectl("delete", "pods", "-n", namespace, "-l", f"batch.kubernetes.io/job-name={name}",
                "--grace-period=1", timeout=90)
    wait_for("the Job's pods gone", timeout=60, fn=lambda: not job_pods(kubectl, namespace, name))
