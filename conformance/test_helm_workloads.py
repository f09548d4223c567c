"""Issue 4, Helm on real workloads: the chart `helm create` generates, with its
image switched to a local test image, installs with `--wait` (Helm 3's readiness
checks, Helm 4's kstatus), upgrades and rolls back by rolling its pods, and
uninstalls leaving no container behind."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from conftest import TEST_HTTPD_IMAGE
from helpers import namespace, quick_stop_chart, uniq  # noqa: F401

REPO, TAG = TEST_HTTPD_IMAGE.split(":")


def containers_in(ns: str) -> list[str]:
    out = subprocess.run(["docker", "ps", "-a", "--format", "{{.Names}}",
                          "--filter", f"label=io.k2d.pod.namespace={ns}"],
                         capture_output=True, text=True, check=True).stdout
    return [ln for ln in out.splitlines() if ln.strip()]


def pods(kubectl, ns: str) -> list[dict]:
    return json.loads(kubectl("get", "pods", "-n", ns, "-o", "json").stdout)["items"]


def test_helm_create_chart_lifecycle(helm, kubectl_newest, namespace, tmp_path):
    kubectl = kubectl_newest
    helm("create", tmp_path / "web")
    chart = tmp_path / "web"
    quick_stop_chart(chart)
    rel = uniq("web")
    common = ["-n", namespace, "--set", f"image.repository={REPO}", "--set", f"image.tag={TAG}",
              "--set", "image.pullPolicy=Never", "--wait", "--timeout", "120s"]
    helm("install", rel, chart, *common, timeout=180)
    dep = json.loads(kubectl("get", "deploy", "-n", namespace, "-o", "json").stdout)["items"]
    assert len(dep) == 1
    st = dep[0]["status"]
    assert st.get("availableReplicas") == 1 and st.get("readyReplicas") == 1, st
    first = {p["metadata"]["name"] for p in pods(kubectl, namespace)}
    assert len(first) == 1
    assert len([c for c in containers_in(namespace) if not c.startswith("k8s_POD_")]) == 1

    helm("upgrade", rel, chart, *common, "--set", "replicaCount=2", "--set", "podAnnotations.rev=two",
         timeout=180)
    running = [p for p in pods(kubectl, namespace) if p["status"].get("phase") == "Running"
               and not p["metadata"].get("deletionTimestamp")]
    second = {p["metadata"]["name"] for p in running}
    assert len(second) == 2 and not (second & first), (first, second)
    assert all(p["metadata"]["annotations"].get("rev") == "two" for p in running)

    helm("rollback", rel, "1", "-n", namespace, "--wait", "--timeout", "120s", timeout=180)
    deadline = time.monotonic() + 60
    while True:
        live = [p for p in pods(kubectl, namespace) if not p["metadata"].get("deletionTimestamp")]
        if len(live) == 1 and "rev" not in (live[0]["metadata"].get("annotations") or {}):
            break
        if time.monotonic() > deadline:
            pytest.fail(f"rollback did not return to one pod without the annotation: "
                        f"{[(p['metadata']['name'], p['status'].get('phase')) for p in live]}")
        time.sleep(0.5)
    rs = json.loads(kubectl("get", "rs", "-n", namespace, "-o", "json").stdout)["items"]
    revisions = sorted(int(r["metadata"]["annotations"]["deployment.kubernetes.io/revision"]) for r in rs)
    assert revisions == [2, 3], revisions

    helm("uninstall", rel, "-n", namespace, "--wait", "--timeout", "120s", timeout=180)
    deadline = time.monotonic() + 60
    while containers_in(namespace):
        if time.monotonic() > deadline:
            pytest.fail(f"containers left after uninstall: {containers_in(namespace)}")
        time.sleep(0.5)
    assert pods(kubectl, namespace) == []
