"""Issue 5, deleting a namespace on a real engine: it stays Terminating until its
pods' containers are stopped and removed; its claims' Docker volumes go (reclaim
policy Delete); containers and volumes of other namespaces and plain `docker run`
containers stay."""

from __future__ import annotations

import json
import subprocess
import time

from conftest import TEST_IMAGE
from helpers import uniq


def docker_ids(*filters) -> list[str]:
    args = ["docker", "ps", "-aq"]
    for f in filters:
        args += ["--filter", f]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout.split()


def volumes(label: str) -> list[str]:
    return subprocess.run(["docker", "volume", "ls", "-q", "--filter", f"label={label}"],
                          capture_output=True, text=True, check=True).stdout.split()


def workload(kubectl, ns):
    objs = [
        {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
         "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "16Mi"}}}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "app"},
         "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "app"}},
                  "template": {"metadata": {"labels": {"app": "app"}}, "spec": {
                      "terminationGracePeriodSeconds": 2,
                      "containers": [{"name": "c", "image": TEST_IMAGE, "imagePullPolicy": "Never",
                                      "command": ["sleep", "3600"],
                                      "volumeMounts": [{"name": "d", "mountPath": "/data"}]}],
                      "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]}}}},
    ]
    kubectl("apply", "-n", ns, "-f", "-", input="\n---\n".join(json.dumps(o) for o in objs))
    kubectl("rollout", "status", "-n", ns, "deploy/app", "--timeout=120s", timeout=150)


def test_namespace_deletion_removes_what_it_owns_only(kubectl_newest):
    kubectl = kubectl_newest
    doomed, kept = uniq("doomed"), uniq("kept")
    plain = uniq("plain")
    for ns in (doomed, kept):
        kubectl("create", "namespace", ns)
    subprocess.run(["docker", "run", "-d", "--name", plain, TEST_IMAGE, "sleep", "3600"], check=True,
                   capture_output=True)
    try:
        workload(kubectl, doomed)
        workload(kubectl, kept)
        assert len(docker_ids(f"label=io.k2d.pod.namespace={doomed}")) == 4, "2 pods: sandbox + app each"
        pv = json.loads(kubectl("get", "pvc", "data", "-n", doomed, "-o", "json").stdout)
        claim_uid = pv["metadata"]["uid"]
        assert volumes(f"io.k2d.pvc.uid={claim_uid}"), "the claim's Docker volume"

        kubectl("delete", "namespace", doomed, "--wait=false")
        time.sleep(0.5)
        r = kubectl("get", "namespace", doomed, "-o", "json", check=False)
        if r.rc == 0:
            assert json.loads(r.stdout)["status"]["phase"] == "Terminating"
        deadline = time.monotonic() + 120
        while kubectl("get", "namespace", doomed, check=False).rc == 0:
            assert time.monotonic() < deadline, "the namespace went away"
            time.sleep(0.5)
        assert docker_ids(f"label=io.k2d.pod.namespace={doomed}") == [], "its containers are gone with it"
        deadline = time.monotonic() + 30
        while volumes(f"io.k2d.pvc.uid={claim_uid}"):
            assert time.monotonic() < deadline, "its claim's volume goes"
            time.sleep(0.5)
        assert len(docker_ids(f"label=io.k2d.pod.namespace={kept}")) == 4, "other namespaces keep theirs"
        assert docker_ids(f"name=^{plain}$", "status=running"), "plain containers stay"
    finally:
        subprocess.run(["docker", "rm", "-f", plain], capture_output=True)
        kubectl("delete", "namespace", kept, "--wait=false", check=False)
