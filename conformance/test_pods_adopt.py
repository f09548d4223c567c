"""Containers made with plain `docker run` appear as pods in the foreign
namespace (`default`), with their status; they go when the container goes, and
deleting such a pod by name removes its container. Containers labelled with
another k2d's instance id are not shown.
"""

from __future__ import annotations

from helpers import api, uniq
from pods_common import BUSYBOX, docker, get_pod, status_of, wait_pod, wait_until

__all__ = ["api"]


def _run(name: str, *labels: str) -> str:
    args = ["run", "-d", "--name", name]
    for label in labels:
        args += ["--label", label]
    return docker(*args, BUSYBOX, "sleep", "300").strip()


def test_docker_run_container_appears_and_goes(kubectl_newest):
    k = kubectl_newest
    name = uniq("plain")
    cid = _run(name)
    try:
        pod = wait_pod(k, "default", name, lambda p: p.get("status", {}).get("phase") == "Running",
                       "Running")
        assert pod["metadata"]["annotations"]["k2d.io/container-id"] == cid
        cs = status_of(pod, name)
        assert "running" in cs["state"] and cs["containerID"] == f"docker://{cid}"
        # The image as the engine reports it: Podman gives the qualified name.
        assert pod["spec"]["containers"][0]["image"] in (BUSYBOX, f"docker.io/{BUSYBOX}")
        assert pod["status"]["podIP"]
        # k2d did not touch it.
        labels = docker("inspect", "-f", "{{json .Config.Labels}}", cid)
        assert "io.k2d.instance" not in labels and "io.k2d.pod" not in labels
    finally:
        docker("rm", "-f", cid, check=False)
    wait_until(lambda: get_pod(k, "default", name) is None,
               "the pod of a removed container to go", timeout=15)


def test_deleting_the_pod_of_a_plain_container_removes_it(kubectl_newest):
    k = kubectl_newest
    name = uniq("plain")
    cid = _run(name)
    try:
        wait_pod(k, "default", name, lambda p: p.get("status", {}).get("phase") == "Running",
                 "Running")
        k("delete", "pod", "-n", "default", name, timeout=30)
        assert docker("ps", "-aq", "--no-trunc", "--filter", f"id={cid}").strip() == ""
        assert get_pod(k, "default", name) is None
    finally:
        docker("rm", "-f", cid, check=False)


def test_containers_of_another_k2d_are_not_shown(kubectl_newest):
    k = kubectl_newest
    name = uniq("other")
    mine = uniq("plain")
    other_id = _run(name, "io.k2d.instance=some-other-k2d")
    mine_id = _run(mine)
    try:
        # Once the plain container shows, the other one would have shown too.
        wait_pod(k, "default", mine, lambda p: True, "shown")
        assert get_pod(k, "default", name) is None
        assert docker("ps", "-q", "--filter", f"id={other_id}").strip(), "k2d touched it"
    finally:
        docker("rm", "-f", other_id, mine_id, check=False)



def test_a_collection_delete_leaves_plain_containers(kubectl_newest, api):
    k = kubectl_newest
    name = uniq("plain")
    cid = _run(name)
    try:
        wait_pod(k, "default", name, lambda p: True, "shown")
        # DELETE on the collection, narrowed to this test's pod (never touch the others' plain
        # containers on a shared engine): not a delete by name, so the container stays.
        r = api.delete("/api/v1/namespaces/default/pods",
                       query={"fieldSelector": f"metadata.name={name}"})
        assert r.status == 200, r.describe()
        assert docker("ps", "-q", "--no-trunc", "--filter", f"id={cid}").strip() == cid
        assert get_pod(k, "default", name) is not None
    finally:
        docker("rm", "-f", cid, check=False)
