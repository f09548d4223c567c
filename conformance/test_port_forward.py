"""Issue 6, kubectl port-forward: SPDY/3.1 tunnelled in a WebSocket (the default
of current kubectl) and raw SPDY/3.1, to a busybox httpd on ports that are not
published on the host; 100 sequential and 20 concurrent requests, two ports in
one port-forward, svc/ and deploy/ targets, and k2d's open files and memory
back to their baseline after the client is gone."""

from __future__ import annotations

import concurrent.futures
import os
import re
import time
import urllib.request

import pytest

from conftest import free_port
from helpers import Background, kubectl_cmd, kubectl_env
from streaming_common import busybox, delete_namespace, module_namespace, wait_running

# httpds serving different pages; nothing is published on the host, and 8082 listens on the
# pod's loopback only (reachable from inside the pod's network namespace alone).
WEB_SCRIPT = ("mkdir -p /www/a /www/b && echo page-a > /www/a/index.html && "
              "echo page-b > /www/b/index.html && head -c 1048576 /dev/zero > /www/a/big && "
              "httpd -p 8080 -h /www/a && httpd -p 8081 -h /www/b && httpd -p 127.0.0.1:8082 -h /www/b && "
              "trap 'exit 0' TERM; while true; do sleep 0.2; done")


@pytest.fixture(scope="module")
def web(k2d):
    """A Deployment `web` (one pod, httpd on 8080 and 8081) and a Service `web` (80 -> 8080)."""
    api, ns = module_namespace(k2d)
    labels = {"app": "web"}
    dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
           "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                    "template": {"metadata": {"labels": labels},
                                 "spec": {"terminationGracePeriodSeconds": 1,
                                          "containers": [busybox("web", WEB_SCRIPT, ports=[
                                              {"containerPort": 8080}, {"containerPort": 8081}])]}}}}
    api.must(api.post(f"/apis/apps/v1/namespaces/{ns}/deployments", dep), 201)
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
           "spec": {"selector": labels, "ports": [{"port": 80, "targetPort": 8080}]}}
    api.must(api.post(f"/api/v1/namespaces/{ns}/services", svc), 201)
    deadline = time.monotonic() + 60
    pod = None
    while time.monotonic() < deadline and pod is None:
        items = api.must(api.get(f"/api/v1/namespaces/{ns}/pods"), 200)["items"]
        pod = items[0]["metadata"]["name"] if items else None
        time.sleep(0.2)
    assert pod, "the deployment made no pod"
    wait_running(api, ns, pod)
    yield ns, pod
    delete_namespace(api, ns)


def get(port: int, path: str = "/") -> bytes:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=20) as r:
        return r.read()


def wait_get(port: int, path: str = "/", timeout: float = 20) -> bytes:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return get(port, path)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def forward(kubectl, tmp_path, ns: str, target: str, *ports: str, env=None) -> Background:
    bg = Background(kubectl_cmd(kubectl, "port-forward", "-n", ns, target, *ports),
                    env or kubectl.env(), tmp_path / f"pf-{time.monotonic_ns()}.log")
    if not bg.wait_for(r"Forwarding from 127\.0\.0\.1:\d+", timeout=30):
        bg.stop()
        pytest.fail("port-forward did not start\n" + bg.describe(), pytrace=False)
    return bg


def test_port_forward_sequential_concurrent_and_two_ports(kubectl, web, tmp_path):
    ns, pod = web
    p1, p2 = free_port(), free_port()
    bg = forward(kubectl, tmp_path, ns, f"pod/{pod}", f"{p1}:8080", f"{p2}:8081")
    try:
        assert wait_get(p1) == b"page-a\n"
        for _ in range(100):
            assert get(p1) == b"page-a\n"
        with concurrent.futures.ThreadPoolExecutor(20) as pool:
            got = list(pool.map(lambda i: get(p1 if i % 2 else p2, "/index.html"), range(20)))
        assert got == [b"page-a\n" if i % 2 else b"page-b\n" for i in range(20)]
        assert get(p1, "/big") == b"\0" * 1048576
        assert get(p2) == b"page-b\n"
        assert bg.running(), bg.describe()
    finally:
        _, output = bg.stop()
    assert "error" not in output.lower(), output


def test_port_forward_to_service_and_deployment(kubectl, web, tmp_path):
    ns, _ = web
    for target, remote in (("svc/web", "80"), ("deploy/web", "8080")):
        port = free_port()
        bg = forward(kubectl, tmp_path, ns, target, f"{port}:{remote}")
        try:
            assert wait_get(port) == b"page-a\n", bg.describe()
        finally:
            bg.stop()


def test_port_forward_over_raw_spdy_and_a_closed_port(kubectl_newest, web, tmp_path):
    """With WebSockets turned off kubectl sends POST + Upgrade: SPDY/3.1; a port nothing
    listens on gets k2d's message on the connection's error stream (which kubectl prints;
    current kubectl then ends the whole port-forward, as against a cluster)."""
    kubectl = kubectl_newest
    ns, pod = web
    good, bad, lo = free_port(), free_port(), free_port()
    env = kubectl_env(kubectl, KUBECTL_PORT_FORWARD_WEBSOCKETS="false")
    bg = forward(kubectl, tmp_path, ns, f"pod/{pod}", f"{good}:8080", f"{bad}:9", f"{lo}:8082", env=env)
    try:
        assert wait_get(good) == b"page-a\n"
        assert get(lo) == b"page-b\n", "a port on the pod's loopback"
        with pytest.raises(OSError):
            get(bad)
        assert bg.wait_for(r"failed to connect to .*:9", timeout=10), bg.describe()
    finally:
        bg.stop()


def fds_and_rss(pid: int) -> tuple[int, int]:
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    rss = int(re.search(r"VmRSS:\s+(\d+) kB", open(f"/proc/{pid}/status").read()).group(1))
    return fds, rss


def test_port_forward_leaves_nothing_behind(kubectl_newest, web, tmp_path, k2d):
    kubectl = kubectl_newest
    ns, pod = web
    pid = k2d.proc.pid
    # Warm up once so lazily made pools and buffers are part of the baseline.
    port = free_port()
    bg = forward(kubectl, tmp_path, ns, f"pod/{pod}", f"{port}:8080")
    wait_get(port)
    bg.stop()
    time.sleep(1)
    base_fds, base_rss = fds_and_rss(pid)
    port = free_port()
    bg = forward(kubectl, tmp_path, ns, f"pod/{pod}", f"{port}:8080")
    try:
        wait_get(port)
        with concurrent.futures.ThreadPoolExecutor(20) as pool:
            list(pool.map(lambda _: get(port, "/big"), range(60)))
        during = fds_and_rss(pid)
    finally:
        bg.stop()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and fds_and_rss(pid)[0] > base_fds:
        time.sleep(0.2)
    fds, rss = fds_and_rss(pid)
    report = (f"baseline fds={base_fds} rss={base_rss}kB; during fds={during[0]} rss={during[1]}kB; "
              f"after fds={fds} rss={rss}kB")
    print(report)
    assert fds <= base_fds, report
    # Memory the allocator keeps for reuse is not a leak: allow a few MB over the baseline.
    assert rss <= base_rss + 8 * 1024, report
