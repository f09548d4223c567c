"""Issue 10, DaemonSets on real pods: a DaemonSet runs exactly one pod on the node, placed
there with the tolerations a DaemonSet's pods carry; `kubectl rollout status ds` follows a
rolling update that replaces it; cordoning the node neither evicts nor blocks it; a
nodeSelector the node does not match leaves it with no pod. Every kubectl."""

from __future__ import annotations

import json
import time

import pytest

from conftest import TEST_IMAGE
from helpers import namespace  # noqa: F401


def get_json(kubectl, *args):
    r = kubectl("get", *args, "-o", "json", check=False)
    return json.loads(r.stdout) if r.rc == 0 else {}


def live_pods(kubectl, ns):
    return [p for p in get_json(kubectl, "pods", "-n", ns, "-l", "app=agent").get("items", [])
            if not p["metadata"].get("deletionTimestamp")]


def wait(pred, what, timeout=60):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(0.3)
    pytest.fail(f"{what} did not happen in {timeout}s (last: {last!r})")


def test_one_pod_rolling_update_and_node_selector(kubectl, namespace):
    ns = namespace
    ds = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
          "spec": {"selector": {"matchLabels": {"app": "agent"}},
                   "template": {"metadata": {"labels": {"app": "agent"}}, "spec": {
                       "terminationGracePeriodSeconds": 1,
                       "containers": [{"name": "c", "image": TEST_IMAGE, "imagePullPolicy": "Never",
                                       "command": ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]}]}}}}
    # With no node yet a DaemonSet wants no pod and counts as rolled out: wait for the node.
    node = wait(lambda: (items := get_json(kubectl, "nodes").get("items")) and items[0]["metadata"]["name"],
                "the node published")
    kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(ds))
    out = kubectl("rollout", "status", "-n", ns, "daemonset/agent", "--timeout=90s", timeout=120).stdout
    assert 'daemon set "agent" successfully rolled out' in out, out
    ps = live_pods(kubectl, ns)
    assert len(ps) == 1, ps
    assert ps[0]["spec"]["nodeName"] == node
    st = get_json(kubectl, "daemonset", "-n", ns, "agent")["status"]
    assert (st["desiredNumberScheduled"], st["currentNumberScheduled"], st["numberReady"],
            st["updatedNumberScheduled"], st["numberAvailable"], st["numberMisscheduled"]) == (1, 1, 1, 1, 1, 0), st

    kubectl("cordon", node)
    try:
        kubectl("set", "env", "-n", ns, "daemonset/agent", "ROUND=2")
        out = kubectl("rollout", "status", "-n", ns, "daemonset/agent", "--timeout=90s", timeout=120).stdout
        assert "successfully rolled out" in out, out
        now = wait(lambda: (p := live_pods(kubectl, ns)) and len(p) == 1 and p[0]["metadata"]["name"] != ps[0]["metadata"]["name"] and p,
                   "the replaced pod alone")
        env = now[0]["spec"]["containers"][0].get("env") or []
        assert {"name": "ROUND", "value": "2"} in env, env
        assert now[0]["status"]["phase"] == "Running", now[0]["status"]
    finally:
        kubectl("uncordon", node)
    hist = kubectl("rollout", "history", "-n", ns, "daemonset/agent").stdout
    assert "1" in hist and "2" in hist, hist

    kubectl("patch", "-n", ns, "daemonset/agent", "--type=merge", "-p",
            json.dumps({"spec": {"template": {"spec": {"nodeSelector": {"k2d.test/absent": "yes"}}}}}))
    wait(lambda: not live_pods(kubectl, ns), "no pod where the selector does not match")
    wait(lambda: get_json(kubectl, "daemonset", "-n", ns, "agent").get("status", {}).get("desiredNumberScheduled") == 0,
         "desiredNumberScheduled 0")
