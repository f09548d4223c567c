"""Shared helpers of the streaming scenarios (test_exec.py, test_cp.py,
test_port_forward.py): a namespace per module, pods made with JSON calls and
waited for, and raw HTTPS connections for malformed upgrade requests."""

from __future__ import annotations

import json
import socket
import ssl
import time

import pytest

from conftest import TEST_IMAGE, K2DServer
from helpers import Api, uniq
from pods_common import docker, engine_containers


def module_namespace(k2d: K2DServer):
    """Creates a namespace for a module; returns (api, name)."""
    api = Api(k2d)
    name = uniq("stream")
    api.create_namespace(name)
    return api, name


def delete_namespace(api: Api, ns: str):
    """Deletes a namespace of this module and waits for the runtime to remove its pods'
    containers (removing them itself if a failed test left them behind)."""
    api.delete(f"/api/v1/namespaces/{ns}")
    label = f"io.k2d.pod.namespace={ns}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and engine_containers(label):
        time.sleep(0.3)
    leftovers = engine_containers(label)
    if leftovers:
        docker("rm", "-f", *leftovers, check=False)


def create_pod(api: Api, ns: str, name: str, containers: list[dict], *, restart: str = "Always",
               labels: dict | None = None) -> dict:
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name, "labels": labels or {}},
           "spec": {"restartPolicy": restart, "terminationGracePeriodSeconds": 1,
                    "containers": containers}}
    api.must(api.post(f"/api/v1/namespaces/{ns}/pods", pod), 201)
    return wait_running(api, ns, name)


def wait_running(api: Api, ns: str, name: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    pod = {}
    while time.monotonic() < deadline:
        pod = api.get_obj(f"/api/v1/namespaces/{ns}/pods/{name}") or {}
        statuses = pod.get("status", {}).get("containerStatuses", [])
        if pod.get("status", {}).get("phase") == "Running" and statuses and all(
                s.get("ready") for s in statuses):
            return pod
        time.sleep(0.2)
    pytest.fail(f"pod {ns}/{name} is not running after {timeout}s: "
                f"{json.dumps(pod.get('status'), indent=1)}", pytrace=False)


def busybox(name: str, script: str, **extra) -> dict:
    return {"name": name, "image": TEST_IMAGE, "imagePullPolicy": "Never",
            "command": ["sh", "-c", script], **extra}


# PID 1 ends at once on SIGTERM.
SLEEPER = "trap 'exit 0' TERM; while true; do sleep 0.2; done"


def raw_request(k2d: K2DServer, head: str, then: bytes = b"", read_timeout: float = 5) -> bytes:
    """Sends a raw HTTP/1.1 request head (and bytes after it) over TLS; returns all that
    k2d answers until it closes the connection or stays silent for read_timeout."""
    ctx = ssl.create_default_context(cafile=str(k2d.ca))
    ctx.set_alpn_protocols(["http/1.1"])
    with socket.create_connection(("127.0.0.1", k2d.port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            s.sendall(head.replace("\n", "\r\n").encode() + b"\r\n")
            got = b""
            s.settimeout(read_timeout)
            sent_then = not then
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    got += chunk
                    if not sent_then and b"\r\n\r\n" in got:
                        s.sendall(then)
                        sent_then = True
                    if _complete_error(got):
                        break
            except (socket.timeout, ssl.SSLError, ConnectionResetError):
                pass
            return got


def _complete_error(got: bytes) -> bool:
    """A whole non-101 answer (the connection stays open after it)."""
    head, sep, body = got.partition(b"\r\n\r\n")
    if not sep or head.startswith(b"HTTP/1.1 101"):
        return False
    lower = head.lower()
    if b"transfer-encoding: chunked" in lower:
        return body.endswith(b"0\r\n\r\n")
    for line in lower.split(b"\r\n"):
        if line.startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False
