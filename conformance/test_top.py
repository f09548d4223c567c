"""Issue 10, `kubectl top`: k2d serves metrics.k8s.io/v1beta1 (PodMetrics, NodeMetrics),
measured from the engine's stats and the host when asked. `kubectl top pods -A` and
`kubectl top node` print figures; a pod burning CPU shows it."""

from __future__ import annotations

import json
import re
import time

import pytest

from conftest import TEST_IMAGE
from helpers import namespace  # noqa: F401


def test_top_pods_and_node(kubectl, namespace):
    ns = namespace
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "busy", "labels": {"app": "busy"}},
           "spec": {"terminationGracePeriodSeconds": 1,
                    "containers": [{"name": "spin", "image": TEST_IMAGE, "imagePullPolicy": "Never",
                                    "command": ["sh", "-c", "trap 'exit 0' TERM; while :; do :; done"]}]}}
    kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(pod))
    try:
        check_top(kubectl, ns)
    finally:
        # A spinning pod left behind would burn a core of the shared host.
        kubectl("delete", "pod", "-n", ns, "busy", "--wait=true", "--timeout=60s", check=False, timeout=90)


def check_top(kubectl, ns):
    kubectl("wait", "-n", ns, "--for=condition=Ready", "pod/busy", "--timeout=60s", timeout=90)
    out = kubectl("api-resources", "--api-group=metrics.k8s.io").stdout
    assert re.search(r"^pods\s+metrics.k8s.io/v1beta1\s+true\s+PodMetrics", out, re.M), out
    assert re.search(r"^nodes\s+metrics.k8s.io/v1beta1\s+false\s+NodeMetrics", out, re.M), out

    out = kubectl("top", "pods", "-A").stdout
    m = re.search(rf"^{ns}\s+busy\s+(\d+)m\s+(\d+)Mi\s*$", out, re.M)
    assert m, out
    # A shell spinning in a loop uses a good part of a core.
    assert int(m.group(1)) >= 100, out
    out = kubectl("top", "pod", "-n", ns, "--containers").stdout
    assert re.search(r"^busy\s+spin\s+\d+m\s+\d+Mi\s*$", out, re.M), out
    out = kubectl("top", "pod", "-n", ns, "-l", "app=nothing", check=False)
    assert "No resources found" in out.output or out.rc != 0, out.output

    node = kubectl("get", "nodes", "-o", "jsonpath={.items[0].metadata.name}").stdout.strip()
    out = kubectl("top", "node").stdout
    m = re.search(rf"^{re.escape(node)}\s+(\d+)m\s+(\d+)%\s+(\d+)Mi\s+(\d+)%\s*$", out, re.M)
    assert m, out
    assert int(m.group(1)) >= 100 and int(m.group(3)) > 0, out
