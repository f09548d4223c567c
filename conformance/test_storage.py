"""Issue 5, storage: PersistentVolumeClaims bind to Docker volumes. The default
StorageClass `local` exists; a claim becomes Bound with a PersistentVolume listed
and a Docker volume `k2d-pvc-<namespace>-<claim>` on the engine; deleting the
claim honours the reclaim policy (Delete removes the PersistentVolume and the
volume, Retain keeps both, the PersistentVolume Released); a claim of a class
k2d does not provision stays Pending with an event. With pods (needs the pod
runtime): data written through a claim survives the pod's deletion and a restart
of k2d."""

from __future__ import annotations

import functools
import json
import subprocess
import time

import pytest

from conftest import LOG_DIR, TEST_IMAGE, K2DServer, Kubectl, k2d_binary, tool_path, KUBECTL_VERSIONS
import helpers
from helpers import namespace, uniq  # noqa: F401


def claim_manifest(name: str, *, storage: str = "1Gi", cls: str | None = None) -> str:
    spec = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": storage}}}
    if cls is not None:
        spec["storageClassName"] = cls
    return json.dumps({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                       "metadata": {"name": name}, "spec": spec})


# Claims and volumes settle within 30 s.
wait_for = functools.partial(helpers.wait_for, timeout=30)


def get_json(kubectl, *args):
    r = kubectl("get", *args, "-o", "json", check=False)
    return json.loads(r.stdout) if r.rc == 0 else None


def docker_volume(name: str) -> dict | None:
    r = subprocess.run(["docker", "volume", "inspect", name], capture_output=True, text=True)
    return json.loads(r.stdout)[0] if r.returncode == 0 else None


def remove_docker_volume(name: str):
    subprocess.run(["docker", "volume", "rm", name], capture_output=True, text=True)


def bound_claim(kubectl, ns: str, name: str) -> dict:
    return wait_for(f"claim {ns}/{name} Bound", lambda: (
        (c := get_json(kubectl, "pvc", "-n", ns, name)) and c.get("status", {}).get("phase") == "Bound" and c))


def test_default_storage_class(kubectl):
    out = kubectl("get", "sc").stdout.splitlines()
    assert out[0].split() == ["NAME", "PROVISIONER", "RECLAIMPOLICY", "VOLUMEBINDINGMODE",
                              "ALLOWVOLUMEEXPANSION", "AGE"], out
    row = [ln for ln in out[1:] if ln.startswith("local ")]
    assert row and row[0].split()[:6] == ["local", "(default)", "k2d.io/docker-volume", "Delete",
                                          "Immediate", "false"], out
    sc = get_json(kubectl, "sc", "local")
    assert sc["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"


def test_claim_binds_to_a_docker_volume_and_delete_removes_it(kubectl_newest, namespace):
    kubectl = kubectl_newest
    name = uniq("data")
    volume = f"k2d-pvc-{namespace}-{name}"
    r = kubectl("apply", "-n", namespace, "-f", "-", input=claim_manifest(name, storage="2Gi"))
    assert "Warning" not in r.stderr, r.stderr
    claim = bound_claim(kubectl, namespace, name)
    assert claim["spec"]["storageClassName"] == "local"
    assert claim["status"]["capacity"]["storage"] == "2Gi"
    assert claim["status"]["accessModes"] == ["ReadWriteOnce"]
    assert claim["metadata"]["annotations"]["pv.kubernetes.io/bind-completed"] == "yes"
    assert "kubernetes.io/pvc-protection" in claim["metadata"]["finalizers"]
    pv_name = claim["spec"]["volumeName"]
    assert pv_name == f"pvc-{claim['metadata']['uid']}"
    pv = get_json(kubectl, "pv", pv_name)
    assert pv["status"]["phase"] == "Bound"
    assert pv["spec"]["claimRef"]["name"] == name and pv["spec"]["claimRef"]["namespace"] == namespace
    assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Delete"
    assert pv["spec"]["capacity"]["storage"] == "2Gi"

    v = docker_volume(volume)
    assert v is not None, f"docker volume {volume} missing"
    assert v["Labels"]["io.k2d.pvc.uid"] == claim["metadata"]["uid"]
    assert v["Labels"]["io.k2d.pvc.namespace"] == namespace
    assert pv["spec"]["hostPath"]["path"] == v["Mountpoint"]

    # What kubectl shows, as on a cluster.
    rows = kubectl("get", "pvc", "-n", namespace, name).stdout.splitlines()
    assert rows[0].split()[:6] == ["NAME", "STATUS", "VOLUME", "CAPACITY", "ACCESS", "MODES"], rows
    assert rows[1].split()[:6] == [name, "Bound", pv_name, "2Gi", "RWO", "local"], rows
    rows = kubectl("get", "pv", pv_name).stdout.splitlines()
    assert rows[1].split()[:7] == [pv_name, "2Gi", "RWO", "Delete", "Bound", f"{namespace}/{name}", "local"], rows
    desc = kubectl("describe", "pvc", "-n", namespace, name).stdout
    assert "ProvisioningSucceeded" in desc, desc

    kubectl("delete", "pvc", "-n", namespace, name, "--timeout=30s")
    wait_for("the PersistentVolume removed", lambda: get_json(kubectl, "pv", pv_name) is None)
    wait_for("the Docker volume removed", lambda: docker_volume(volume) is None)


def test_a_server_side_applied_claim_is_completed_and_bound(kubectl_newest, namespace):
    kubectl = kubectl_newest
    name = uniq("ssa")
    kubectl("apply", "--server-side", "-n", namespace, "-f", "-", input=claim_manifest(name))
    claim = bound_claim(kubectl, namespace, name)
    assert claim["spec"]["storageClassName"] == "local"
    assert claim["metadata"]["finalizers"] == ["kubernetes.io/pvc-protection"]
    kubectl("delete", "pvc", "-n", namespace, name, "--timeout=30s")
    wait_for("the Docker volume removed", lambda: docker_volume(f"k2d-pvc-{namespace}-{name}") is None)


def test_retain_keeps_the_volume_released(kubectl_newest, namespace):
    kubectl = kubectl_newest
    cls = uniq("keep")
    name = uniq("kept")
    volume = f"k2d-pvc-{namespace}-{name}"
    kubectl("apply", "-f", "-", input=json.dumps({
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": cls},
        "provisioner": "k2d.io/docker-volume", "reclaimPolicy": "Retain"}))
    pv_name = None
    try:
        kubectl("apply", "-n", namespace, "-f", "-", input=claim_manifest(name, cls=cls))
        claim = bound_claim(kubectl, namespace, name)
        pv_name = claim["spec"]["volumeName"]
        kubectl("delete", "pvc", "-n", namespace, name, "--timeout=30s")
        pv = wait_for("the PersistentVolume Released", lambda: (
            (p := get_json(kubectl, "pv", pv_name)) and p.get("status", {}).get("phase") == "Released" and p))
        assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
        time.sleep(1)
        assert docker_volume(volume) is not None, "Retain must keep the Docker volume"
    finally:
        if pv_name:
            kubectl("delete", "pv", pv_name, "--ignore-not-found")
        kubectl("delete", "sc", cls, "--ignore-not-found")
        remove_docker_volume(volume)


def test_claim_of_another_class_stays_pending(kubectl_newest, namespace):
    kubectl = kubectl_newest
    name = uniq("other")
    kubectl("apply", "-n", namespace, "-f", "-", input=claim_manifest(name, cls="no-such-class"))
    wait_for("a ProvisioningFailed event", lambda: "ProvisioningFailed" in kubectl(
        "describe", "pvc", "-n", namespace, name).stdout)
    claim = get_json(kubectl, "pvc", "-n", namespace, name)
    assert claim["status"]["phase"] == "Pending"
    assert not claim["spec"].get("volumeName")
    assert docker_volume(f"k2d-pvc-{namespace}-{name}") is None
    kubectl("delete", "pvc", "-n", namespace, name, "--timeout=30s")


def test_a_bound_volume_outlives_its_deletion_until_the_claim_goes(kubectl_newest, namespace):
    kubectl = kubectl_newest
    name = uniq("prot")
    kubectl("apply", "-n", namespace, "-f", "-", input=claim_manifest(name))
    pv_name = bound_claim(kubectl, namespace, name)["spec"]["volumeName"]
    assert get_json(kubectl, "pv", pv_name)["metadata"]["finalizers"] == ["kubernetes.io/pv-protection"]
    kubectl("delete", "pv", pv_name, "--wait=false")
    time.sleep(1)
    rows = kubectl("get", "pv", pv_name).stdout.splitlines()
    assert rows[1].split()[4] == "Terminating", rows
    assert get_json(kubectl, "pvc", "-n", namespace, name)["status"]["phase"] == "Bound"
    assert docker_volume(f"k2d-pvc-{namespace}-{name}") is not None
    kubectl("delete", "pvc", "-n", namespace, name, "--timeout=30s")
    wait_for("the PersistentVolume gone", lambda: get_json(kubectl, "pv", pv_name) is None)
    wait_for("the Docker volume removed", lambda: docker_volume(f"k2d-pvc-{namespace}-{name}") is None)


def test_a_volume_name_taken_by_another_claim_is_not_shared(kubectl_newest, namespace):
    """`k2d-pvc-<ns>-c-d` is claim `c-d` in `<ns>` and claim `d` in `<ns>-c`: the second
    claim must not get the first one's data."""
    kubectl = kubectl_newest
    other_ns = f"{namespace}-c"
    volume = f"k2d-pvc-{namespace}-c-d"
    kubectl("create", "namespace", other_ns)
    try:
        kubectl("apply", "-n", namespace, "-f", "-", input=claim_manifest("c-d"))
        bound_claim(kubectl, namespace, "c-d")
        kubectl("apply", "-n", other_ns, "-f", "-", input=claim_manifest("d"))
        wait_for("a ProvisioningFailed event", lambda: "ProvisioningFailed" in kubectl(
            "describe", "pvc", "-n", other_ns, "d").stdout)
        assert get_json(kubectl, "pvc", "-n", other_ns, "d")["status"]["phase"] == "Pending"
        assert docker_volume(volume)["Labels"]["io.k2d.pvc.namespace"] == namespace
        kubectl("delete", "pvc", "-n", other_ns, "d", "--timeout=30s")
        kubectl("delete", "pvc", "-n", namespace, "c-d", "--timeout=30s")
        wait_for("the Docker volume removed", lambda: docker_volume(volume) is None)
    finally:
        kubectl("delete", "namespace", other_ns, "--wait=false", check=False)
        remove_docker_volume(volume)


# ------------------------------------------------------------ with pods (needs the pod runtime)


def pod_manifest(name: str, claim: str, script: str) -> str:
    return json.dumps({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 1,
                 "containers": [{"name": "c", "image": TEST_IMAGE, "imagePullPolicy": "Never",
                                 "command": ["sh", "-c", script],
                                 "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
                 "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}]}})


def run_to_completion(kubectl, ns: str, name: str, claim: str, script: str) -> str:
    kubectl("apply", "-n", ns, "-f", "-", input=pod_manifest(name, claim, script))
    wait_for(f"pod {name} Succeeded", lambda: (
        (p := get_json(kubectl, "pod", "-n", ns, name)) and p.get("status", {}).get("phase") == "Succeeded"),
        timeout=60)
    out = kubectl("logs", "-n", ns, name).stdout
    kubectl("delete", "pod", "-n", ns, name, "--timeout=60s")
    return out


@pytest.fixture
def own_k2d(tmp_path_factory):
    data = tmp_path_factory.mktemp("k2d-storage-data")
    server = K2DServer(k2d_binary(), data, LOG_DIR / f"k2d-{uniq('storage')}.log")
    server.start()
    yield server
    server.stop()


def test_data_survives_pod_deletion_and_k2d_restart(own_k2d, tmp_path):
    v = KUBECTL_VERSIONS[-1]
    kubectl = Kubectl(v, tool_path(f"kubectl-{v}"), own_k2d, tmp_path)
    ns = uniq("st")
    kubectl("create", "namespace", ns)
    name = uniq("data")
    try:
        kubectl("apply", "-n", ns, "-f", "-", input=claim_manifest(name))
        bound_claim(kubectl, ns, name)
        run_to_completion(kubectl, ns, "writer", name, "echo kept-across-pods > /data/file")
        assert run_to_completion(kubectl, ns, "reader", name, "cat /data/file").strip() == "kept-across-pods"
        own_k2d.stop()
        own_k2d.start()
        assert get_json(kubectl, "pvc", "-n", ns, name)["status"]["phase"] == "Bound"
        assert run_to_completion(kubectl, ns, "reader2", name, "cat /data/file").strip() == "kept-across-pods"
        kubectl("delete", "pvc", "-n", ns, name, "--timeout=60s")
        wait_for("the Docker volume removed", lambda: docker_volume(f"k2d-pvc-{ns}-{name}") is None)
    finally:
        kubectl("delete", "namespace", ns, "--wait=false", check=False)
        remove_docker_volume(f"k2d-pvc-{ns}-{name}")
