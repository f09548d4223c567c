"""The engine goes away and comes back: k2d reconnects, subscribes to the
engine's events again, resyncs, and pods come back per their restart policy.

The engine here is the real one behind a small unix-socket proxy of this test,
so that only this k2d loses it (the engine is shared with other users).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from conftest import KUBECTL_VERSIONS, LOG_DIR, K2DServer, Kubectl, engine_socket, k2d_binary, tool_path
from helpers import Api, uniq
from pods_common import (SLEEPER, apply, docker, engine_containers, phase_is, pod_manifest, sh,
                         status_of, wait_pod)

PROXY = r"""
import asyncio, os, sys

async def pipe(r, w):
    try:
        while True:
            data = await r.read(65536)
            if not data:
                break
            w.write(data)
            await w.drain()
    except Exception:
        pass
    finally:
        try:
            w.close()
        except Exception:
            pass

async def handle(cr, cw):
    try:
        ur, uw = await asyncio.open_unix_connection(sys.argv[2])
    except Exception:
        cw.close()
        return
    await asyncio.gather(pipe(cr, uw), pipe(ur, cw))

async def main():
    if os.path.exists(sys.argv[1]):
        os.unlink(sys.argv[1])
    server = await asyncio.start_unix_server(handle, path=sys.argv[1])
    async with server:
        await server.serve_forever()

asyncio.run(main())
"""


class Proxy:
    def __init__(self, path):
        self.path = path
        self.proc = None

    def start(self):
        if self.proc and self.proc.poll() is None:
            return  # already running (the fixture's teardown starts it in case a test stopped it)
        self.proc = subprocess.Popen([sys.executable, "-c", PROXY, str(self.path), engine_socket()])
        deadline = time.monotonic() + 10
        while not os.path.exists(self.path) and time.monotonic() < deadline:
            time.sleep(0.05)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def proxied_k2d(tmp_path_factory):
    data = tmp_path_factory.mktemp("k2d-pods-engine")
    proxy = Proxy(data / "engine.sock")
    proxy.start()
    server = K2DServer(k2d_binary(), data, LOG_DIR / f"k2d-{uniq('pods-engine')}.log",
                       extra_args=["--engine", f"unix://{proxy.path}"])
    server.start()
    yield server, proxy
    proxy.start()
    instance = (data / "instance-id").read_text().strip()
    server.stop()
    proxy.stop()
    leftovers = engine_containers(f"io.k2d.instance={instance}")
    if leftovers:
        docker("rm", "-f", *leftovers, check=False)


def test_pods_come_back_after_the_engine_returns(proxied_k2d, tmp_path):
    server, proxy = proxied_k2d
    v = KUBECTL_VERSIONS[-1]
    k = Kubectl(v, tool_path(f"kubectl-{v}"), server, tmp_path)
    Api(server).create_namespace("outage")
    apply(k, "outage", pod_manifest("survivor", [sh("main", SLEEPER)]))
    pod = wait_pod(k, "outage", "survivor", phase_is("Running"), "Running")
    first = status_of(pod, "main")["containerID"].removeprefix("docker://")

    proxy.stop()
    # While k2d cannot reach the engine, the container dies.
    docker("kill", first)
    time.sleep(2)
    proxy.start()

    pod = wait_pod(k, "outage", "survivor",
                   lambda p: status_of(p, "main").get("restartCount") == 1
                   and "running" in status_of(p, "main").get("state", {}),
                   "running again after the engine came back", timeout=40)
    assert status_of(pod, "main")["lastState"]["terminated"]["containerID"] == f"docker://{first}"
    k("delete", "pod", "-n", "outage", "survivor", "--grace-period=1", timeout=30)
