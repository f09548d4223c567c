"""README "Operations", upgrading: stopping k2d the way a service manager does (SIGTERM) and
starting another binary on the same data directory touches no running container: the same
engine containers keep running, with the same start time, and no restart is counted.
(test_pods_restart.py shows the same after kill -9.)"""

from __future__ import annotations

import json
import shutil
import time

from conftest import KUBECTL_VERSIONS, LOG_DIR, K2DServer, Kubectl, k2d_binary, tool_path
from helpers import uniq
from pods_common import (containers_of, docker, engine_containers, phase_is, running_sleeper, status_of,
                         wait_pod)


def started_at(ids):
    """Each container's id, start time and whether it runs."""
    out = docker("inspect", "--format", "{{.Id}} {{.State.StartedAt}} {{.State.Running}}", *ids)
    lines = sorted(ln for ln in out.splitlines() if ln.strip())
    assert all(ln.endswith(" true") for ln in lines), lines
    return lines


def test_a_new_binary_takes_over_running_pods(tmp_path_factory, tmp_path):
    data = tmp_path_factory.mktemp("k2d-upgrade-data")
    old = K2DServer(k2d_binary(), data, LOG_DIR / f"k2d-{uniq('upgrade')}.log")
    old.start()
    new = None
    try:
        v = KUBECTL_VERSIONS[-1]
        k = Kubectl(v, tool_path(f"kubectl-{v}"), old, tmp_path)
        pod, ids = running_sleeper(old, k, "upgrade", "keep")
        uid = pod["metadata"]["uid"]
        before = started_at(ids)
        assert old.stop() == 0, "the old k2d stops cleanly on SIGTERM"
        assert started_at(ids) == before, "stopping k2d leaves its containers running"

        # The "new version": another binary file, same data directory and port.
        binary = tmp_path / "k2d-new"
        shutil.copy2(k2d_binary(), binary)
        new = K2DServer(binary, data, old.log_path, port=old.port)
        new.start()
        k = Kubectl(v, tool_path(f"kubectl-{v}"), new, tmp_path)
        time.sleep(3)  # the runtime's resync: nothing may be created, stopped or restarted
        pod = wait_pod(k, "upgrade", "keep", phase_is("Running"), "Running")
        assert sorted(c["ID"] for c in containers_of(uid)) == ids
        assert started_at(ids) == before, "the containers were not restarted"
        assert status_of(pod, "main")["restartCount"] == 0, json.dumps(pod["status"])
        k("delete", "pod", "-n", "upgrade", "keep", timeout=30)
    finally:
        instance = (data / "instance-id").read_text().strip()
        for server in (old, new):
            if server is not None:
                server.stop()
        leftovers = engine_containers(f"io.k2d.instance={instance}")
        if leftovers:
            docker("rm", "-f", *leftovers, check=False)
