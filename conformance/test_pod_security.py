"""Issue 8 point 10: `k2d serve --pod-security baseline` refuses pods with hostPath volumes,
privileged containers, host namespaces, host ports and added capabilities with the 403 a
cluster's PodSecurity admission gives; a namespace label overrides the level; a Deployment
whose pods break it shows the ReplicaSet's FailedCreate event with the same message.

Runs on a k2d of its own with `--engine none` (admission needs no engine; the workload
controllers run without one); the last test, on plain `docker run` containers, needs an engine."""

from __future__ import annotations

import json
import re
import time

import pytest

from conftest import KUBECTL_VERSIONS, LOG_DIR, TEST_IMAGE, K2DServer, Kubectl, k2d_binary, tool_path
from helpers import uniq

NEWEST = KUBECTL_VERSIONS[-1]


@pytest.fixture(scope="module")
def baseline_k2d(tmp_path_factory):
    server = K2DServer(k2d_binary(), tmp_path_factory.mktemp("k2d-psa-data"), LOG_DIR / f"k2d-{uniq('psa')}.log",
                       extra_args=["--engine", "none", "--pod-security", "baseline"])
    server.start()
    yield server
    assert server.stop() == 0, server.log_tail()


@pytest.fixture
def kc(baseline_k2d, tmp_path):
    return Kubectl(NEWEST, tool_path(f"kubectl-{NEWEST}"), baseline_k2d, tmp_path)


def pod(name, **spec):
    base = {"containers": [{"name": "c", "image": TEST_IMAGE, "command": ["sleep", "3600"]}]}
    base.update(spec)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": base}


def test_baseline_refuses_what_the_issue_names(kc):
    bad = pod("x", hostNetwork=True, hostPID=True,
              volumes=[{"name": "data", "hostPath": {"path": "/"}}])
    bad["spec"]["containers"][0]["securityContext"] = {"privileged": True}
    r = kc("create", "-f", "-", input=json.dumps(bad), check=False)
    want = ('pods "x" is forbidden: violates PodSecurity "baseline:latest": host namespaces '
            '(hostNetwork=true, hostPID=true), hostPath volumes (volume "data"), privileged '
            '(container "c" must not set securityContext.privileged=true)')
    assert r.rc != 0 and f"Error from server (Forbidden): error when creating \"STDIN\": {want}" in r.stderr, \
        r.describe()
    assert kc("get", "pod", "x", check=False).rc != 0, "nothing was stored"

    ports = pod("p", hostIPC=True)
    ports["spec"]["containers"][0]["ports"] = [{"containerPort": 80, "hostPort": 8080}]
    ports["spec"]["containers"][0]["securityContext"] = {"capabilities": {"add": ["NET_ADMIN", "CHOWN"]}}
    r = kc("create", "-f", "-", input=json.dumps(ports), check=False)
    assert r.rc != 0 and ('violates PodSecurity "baseline:latest": non-default capabilities (container "c" must '
                          'not include "NET_ADMIN" in securityContext.capabilities.add), host namespaces '
                          '(hostIPC=true), hostPort (container "c" uses hostPort 8080)') in r.stderr, r.describe()

    # kubectl run --privileged, and server-side apply, go through the same admission.
    r = kc("run", "priv", f"--image={TEST_IMAGE}", "--privileged", check=False)
    assert r.rc != 0 and ('pods "priv" is forbidden: violates PodSecurity "baseline:latest": privileged '
                          '(container "priv" must not set securityContext.privileged=true)') in r.stderr, r.describe()
    r = kc("apply", "--server-side", "-f", "-", input=json.dumps(bad), check=False)
    assert r.rc != 0 and want in r.stderr, r.describe()

    ok = kc("create", "-f", "-", input=json.dumps(pod("fine")))
    assert "pod/fine created" in ok.stdout, ok.describe()
    kc("delete", "pod", "fine", "--wait=false")


def test_the_status_is_a_403_with_details(baseline_k2d):
    bad = pod("y", hostNetwork=True)
    r = baseline_k2d.request("POST", "/api/v1/namespaces/default/pods", body=json.dumps(bad).encode(),
                             headers={"Content-Type": "application/json"})
    s = r.json()
    assert r.status == 403 and s["reason"] == "Forbidden" and s["code"] == 403, r.describe()
    assert s["details"] == {"name": "y", "kind": "pods"}, r.describe()
    assert s["message"] == ('pods "y" is forbidden: violates PodSecurity "baseline:latest": host namespaces '
                            '(hostNetwork=true)'), r.describe()


def test_namespace_label_overrides_the_cluster_level(kc):
    relaxed, strict = uniq("psa-priv"), uniq("psa-restricted")
    for ns, level in ((relaxed, "privileged"), (strict, "restricted")):
        kc("create", "namespace", ns)
        kc("label", "namespace", ns, f"pod-security.kubernetes.io/enforce={level}")
    try:
        host = pod("h", hostNetwork=True)
        r = kc("create", "-n", relaxed, "-f", "-", input=json.dumps(host))
        assert "pod/h created" in r.stdout, r.describe()
        r = kc("create", "-n", strict, "-f", "-", input=json.dumps(pod("r")), check=False)
        assert r.rc != 0 and 'violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false' \
            in r.stderr, r.describe()
    finally:
        for ns in (relaxed, strict):
            kc("delete", "namespace", ns, "--wait=false")


def test_deployment_pods_fail_with_the_same_message(kc):
    name = uniq("psa-dep")
    dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
           "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                    "template": {"metadata": {"labels": {"app": name}},
                                 "spec": pod("ignored", hostPID=True)["spec"]}}}
    kc("apply", "-f", "-", input=json.dumps(dep))
    try:
        deadline = time.monotonic() + 30
        events = []
        while time.monotonic() < deadline:
            r = kc("get", "events", "--field-selector", "reason=FailedCreate", "-o", "json")
            events = [e for e in json.loads(r.stdout)["items"]
                      if e["involvedObject"]["kind"] == "ReplicaSet" and e["involvedObject"]["name"].startswith(name)]
            if events:
                break
            time.sleep(0.5)
        assert events, f"no FailedCreate event for the ReplicaSet of {name}"
        msg = events[0]["message"]
        want = (rf'Error creating: pods "{name}-[a-z0-9]+-[a-z0-9]+" is forbidden: violates PodSecurity '
                r'"baseline:latest": host namespaces \(hostPID=true\)')
        assert re.fullmatch(want, msg), msg
        assert events[0]["type"] == "Warning", events[0]
        assert json.loads(kc("get", "pods", "-l", f"app={name}", "-o", "json").stdout)["items"] == []
    finally:
        kc("delete", "deployment", name, "--wait=false")


def test_plain_docker_containers_are_still_shown_under_restricted(tmp_path_factory, tmp_path):
    """The pods that show plain `docker run` containers describe what already runs (k2d runs
    nothing for them): they are not refused, or `kubectl get pods` would hide containers."""
    from pods_common import BUSYBOX, docker

    ns = uniq("plain")
    server = K2DServer(k2d_binary(), tmp_path_factory.mktemp("k2d-psa-plain"), LOG_DIR / f"k2d-{uniq('psa')}.log",
                       extra_args=["--pod-security", "restricted", "--foreign-namespace", ns])
    server.start()
    name = uniq("psa-plain")
    docker("run", "-d", "--name", name, BUSYBOX, "sleep", "300")
    try:
        kc = Kubectl(NEWEST, tool_path(f"kubectl-{NEWEST}"), server, tmp_path)
        deadline = time.monotonic() + 30
        names = []
        while time.monotonic() < deadline:
            names = kc("get", "pods", "-n", ns, "-o", "name", check=False).stdout.split()
            if f"pod/{name}" in names:
                break
            time.sleep(0.5)
        assert f"pod/{name}" in names, names
        # The same spec from anyone else is checked.
        r = kc("run", "root", "-n", ns, f"--image={TEST_IMAGE}", check=False)
        assert r.rc != 0 and 'violates PodSecurity "restricted:latest"' in r.stderr, r.describe()
    finally:
        docker("rm", "-f", name, check=False)
        server.stop()
