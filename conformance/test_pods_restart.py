"""k2d restarts, even after kill -9, adopt what runs: the same containers keep
running, nothing is created twice, and the pod's status carries on.
"""

from __future__ import annotations

import time

import pytest

from conftest import LOG_DIR, K2DServer, Kubectl, k2d_binary, tool_path, KUBECTL_VERSIONS
from helpers import Api, uniq
from pods_common import (SLEEPER, apply, containers_of, docker, engine_containers, phase_is,
                         pod_manifest, running_sleeper, sh, status_of, wait_pod)


@pytest.fixture
def own_k2d(tmp_path_factory):
    data = tmp_path_factory.mktemp("k2d-pods-restart")
    server = K2DServer(k2d_binary(), data, LOG_DIR / f"k2d-{uniq('pods-restart')}.log")
    server.start()
    yield server
    instance = (data / "instance-id").read_text().strip()
    server.stop()
    leftovers = engine_containers(f"io.k2d.instance={instance}")
    if leftovers:
        docker("rm", "-f", *leftovers, check=False)


def test_kill_9_then_restart_adopts_the_running_pod(own_k2d, tmp_path):
    v = KUBECTL_VERSIONS[-1]
    k = Kubectl(v, tool_path(f"kubectl-{v}"), own_k2d, tmp_path)
    pod, before = running_sleeper(own_k2d, k, "adopt", "keep")
    uid = pod["metadata"]["uid"]

    own_k2d.proc.kill()
    own_k2d.proc.wait()
    own_k2d.stop()
    own_k2d.start()

    # Give the runtime time to resync; nothing may be created or restarted.
    time.sleep(3)
    after = sorted(c["ID"] for c in containers_of(uid))
    assert after == before, f"containers changed across the restart: {before} -> {after}"
    pod = wait_pod(k, "adopt", "keep", phase_is("Running"), "Running")
    assert status_of(pod, "main")["restartCount"] == 0
    assert status_of(pod, "main")["containerID"].removeprefix("docker://") in before

    # The adopted pod is still run: deleting it removes its containers.
    k("delete", "pod", "-n", "adopt", "keep", timeout=30)
    assert containers_of(uid) == []


@pytest.fixture
def own_k2d_plain_ns(tmp_path_factory):
    data = tmp_path_factory.mktemp("k2d-pods-foreign-ns")
    server = K2DServer(k2d_binary(), data, LOG_DIR / f"k2d-{uniq('pods-foreign')}.log",
                       extra_args=["--foreign-namespace", "docker-run"])
    server.start()
    yield server
    instance = (data / "instance-id").read_text().strip()
    server.stop()
    leftovers = engine_containers(f"io.k2d.instance={instance}")
    if leftovers:
        docker("rm", "-f", *leftovers, check=False)


def test_a_container_that_ended_while_k2d_was_down_is_restarted(own_k2d, tmp_path):
    v = KUBECTL_VERSIONS[-1]
    k = Kubectl(v, tool_path(f"kubectl-{v}"), own_k2d, tmp_path)
    Api(own_k2d).create_namespace("down")
    apply(k, "down", pod_manifest("back", [sh("main", SLEEPER)]))
    pod = wait_pod(k, "down", "back", phase_is("Running"), "Running")
    first = status_of(pod, "main")["containerID"].removeprefix("docker://")

    own_k2d.proc.kill()
    own_k2d.proc.wait()
    own_k2d.stop()
    docker("kill", first)
    own_k2d.start()

    pod = wait_pod(k, "down", "back",
                   lambda p: status_of(p, "main").get("restartCount") == 1
                   and "running" in status_of(p, "main").get("state", {}),
                   "running again after one restart", timeout=30)
    assert status_of(pod, "main")["lastState"]["terminated"]["containerID"] == f"docker://{first}"
    k("delete", "pod", "-n", "down", "back", "--grace-period=1", timeout=30)


def test_plain_containers_go_to_the_configured_namespace(own_k2d_plain_ns, tmp_path):
    v = KUBECTL_VERSIONS[-1]
    k = Kubectl(v, tool_path(f"kubectl-{v}"), own_k2d_plain_ns, tmp_path)
    name = uniq("plain")
    cid = docker("run", "-d", "--name", name, "k2d-test/busybox:latest", "sleep", "300").strip()
    try:
        pod = wait_pod(k, "docker-run", name, lambda p: True, "shown in namespace docker-run")
        assert pod["metadata"]["annotations"]["k2d.io/container-id"] == cid
    finally:
        docker("rm", "-f", cid, check=False)


def test_containers_of_a_pod_deleted_while_k2d_was_away_are_removed(own_k2d, tmp_path):
    v = KUBECTL_VERSIONS[-1]
    k = Kubectl(v, tool_path(f"kubectl-{v}"), own_k2d, tmp_path)
    Api(own_k2d).create_namespace("gone")
    apply(k, "gone", pod_manifest("orphan", [sh("main", SLEEPER)]))
    pod = wait_pod(k, "gone", "orphan", phase_is("Running"), "Running")
    uid = pod["metadata"]["uid"]
    assert len(containers_of(uid)) == 2

    # The pod is deleted while no runtime watches: a k2d without engine on the same data.
    own_k2d.stop()
    own_k2d.extra_args = ["--engine", "none"]
    own_k2d.start()
    k("delete", "pod", "-n", "gone", "orphan", timeout=30)
    own_k2d.stop()
    assert len(containers_of(uid)) == 2, "a k2d without engine touched containers"

    own_k2d.extra_args = []
    own_k2d.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and containers_of(uid):
        time.sleep(0.3)
    assert containers_of(uid) == [], "the containers of a pod that no longer exists remained"
