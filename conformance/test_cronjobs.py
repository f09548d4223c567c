"""Issue 10, CronJobs on the real engine with real kubectl: a CronJob scheduled every minute
creates a Job within the minute, `kubectl create job --from=cronjob/...` runs its template at
once, and the successful-jobs history limit prunes the older Job. The only `*/1` CronJob of the
suite: it waits for one scheduled run, at most a minute."""

from __future__ import annotations

import json
import time

import yaml

from conftest import TEST_IMAGE
from helpers import namespace, uniq, wait_for  # noqa: F401  (fixtures)


def get(kubectl, ns: str, *what: str) -> dict:
    return json.loads(kubectl("get", *what, "-n", ns, "-o", "json").stdout)



def test_every_minute_create_from_and_history(kubectl_newest, namespace):
    kubectl = kubectl_newest
    name = uniq("tick")
    cronjob = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name},
               "spec": {"schedule": "*/1 * * * *", "successfulJobsHistoryLimit": 1,
                        "jobTemplate": {"spec": {"template": {"spec": {
                            "restartPolicy": "Never", "containers": [
                                {"name": "main", "image": TEST_IMAGE, "imagePullPolicy": "Never",
                                 "command": ["sh", "-c", "echo tick"]}]}}}}}}
    kubectl("apply", "-n", namespace, "-f", "-", input=yaml.safe_dump(cronjob))
    row = kubectl("get", "cronjob", name, "-n", namespace, "--no-headers").stdout.split()
    assert row[:2] == [name, "*/1"], row

    manual = f"{name}-manual"
    kubectl("create", "job", manual, f"--from=cronjob/{name}", "-n", namespace)
    kubectl("wait", "-n", namespace, "--for=condition=complete", f"job/{manual}", "--timeout=60s", timeout=90)
    j = get(kubectl, namespace, "job", manual)
    assert j["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"] == "manual"
    owner = j["metadata"]["ownerReferences"][0]
    assert owner["kind"] == "CronJob" and owner["name"] == name, owner

    def scheduled():
        jobs = get(kubectl, namespace, "jobs")["items"]
        return [j for j in jobs if j["metadata"]["name"] != manual
                and "batch.kubernetes.io/cronjob-scheduled-timestamp" in j["metadata"].get("annotations", {})]

    started = time.monotonic()
    run = wait_for("a scheduled Job", timeout=75, fn=scheduled)[0]
    waited = time.monotonic() - started
    assert waited <= 62, f"the scheduled Job came {waited:.0f} s after the CronJob"
    run_name = run["metadata"]["name"]
    kubectl("wait", "-n", namespace, "--for=condition=complete", f"job/{run_name}", "--timeout=60s", timeout=90)
    # successfulJobsHistoryLimit 1: the older (manual) Job and its pod go.
    wait_for("the older Job pruned", timeout=30, fn=lambda: [j["metadata"]["name"] for j in get(kubectl, namespace, "jobs")["items"]] == [run_name])
    cj = wait_for("lastSuccessfulTime", timeout=30, fn=lambda: (c := get(kubectl, namespace, "cronjob", name))["status"].get("lastSuccessfulTime") and c)
    assert cj["status"]["lastScheduleTime"], cj["status"]
    assert not cj["status"].get("active"), cj["status"]
    pods = get(kubectl, namespace, "pods", "-l", f"batch.kubernetes.io/job-name={run_name}")["items"]
    logs = kubectl("logs", "-n", namespace, pods[0]["metadata"]["name"]).stdout.strip()
    assert logs == "tick"
    kubectl("delete", "cronjob", name, "-n", namespace, "--timeout=60s", timeout=90)
    wait_for("the CronJob's Jobs deleted with it", timeout=60, fn=lambda: not get(kubectl, namespace, "jobs")["items"])
