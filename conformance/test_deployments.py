"""Deployments and ReplicaSets, driven by real clients: kubectl create/scale/set image/rollout
status/history/undo/restart/pause/resume and wait --for=condition=Available, Recreate, a kill -9
of k2d in the middle of a rollout, and Helm install --wait / upgrade / rollback / uninstall of
the `helm create` chart with its image switched to a local test image.

The pods must really run and become ready: these scenarios need the pod runtime. To check the
controllers alone (k2d with `--engine none`, or before the runtime exists), set
K2D_FAKE_KUBELET=1: a thread then plays the kubelet by marking every pod of the test's
namespace Running and Ready through the status subresource. Without it nothing is faked.
"""

from __future__ import annotations

import os
import re
import threading
import time

import pytest
import yaml

from conftest import KUBECTL_VERSIONS, LOG_DIR, K2DServer, Kubectl, k2d_binary, tool_path
from helpers import Api, api, namespace, quick_stop_chart, uniq  # noqa: F401  (fixtures)

IMAGE = "k2d-test/httpd:latest"
# The same local image under another name: a new pod template that needs no registry.
OTHER_IMAGE = "k2d-test/httpd"
ROLLOUT_TIMEOUT = "120s"


# --------------------------------------------------------------------- helpers


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def is_ready(pod: dict) -> bool:
    if pod["metadata"].get("deletionTimestamp"):
        return False
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


class FakeKubelet:
    """Marks the namespace's pods Running and Ready (only with K2D_FAKE_KUBELET=1)."""

    def __init__(self, api: Api, ns: str):
        self.api, self.ns = api, ns
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def loop(self):
        while not self.stop.is_set():
            try:
                r = self.api.get(f"/api/v1/namespaces/{self.ns}/pods")
                for p in r.json().get("items", []) if r.status == 200 else []:
                    if (p.get("status") or {}).get("phase") != "Running" and not p["metadata"].get("deletionTimestamp"):
                        self.api.patch(f"/api/v1/namespaces/{self.ns}/pods/{p['metadata']['name']}/status",
                                       {"status": {"phase": "Running", "conditions": [
                                           {"type": "Ready", "status": "True", "lastTransitionTime": now()}]}})
            except OSError:
                pass
            self.stop.wait(0.3)


def fake_kubelet(api: Api, ns: str):
    if os.environ.get("K2D_FAKE_KUBELET") != "1":
        return None
    k = FakeKubelet(api, ns)
    k.thread.start()
    return k


@pytest.fixture
def kubelet(api, namespace):
    k = fake_kubelet(api, namespace)
    yield
    if k:
        k.stop.set()
        k.thread.join(5)


def pods(api: Api, ns: str, selector: str) -> list[dict]:
    return api.must(api.get(f"/api/v1/namespaces/{ns}/pods", query={"labelSelector": selector}), 200)["items"]


def replicasets(api: Api, ns: str, selector: str) -> list[dict]:
    items = api.must(api.get(f"/apis/apps/v1/namespaces/{ns}/replicasets", query={"labelSelector": selector}),
                     200)["items"]
    return sorted(items, key=revision)


def revision(obj: dict) -> int:
    return int((obj["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision", "0"))


def deployment(api: Api, ns: str, name: str) -> dict:
    return api.must(api.get(f"/apis/apps/v1/namespaces/{ns}/deployments/{name}"), 200)


def eventually(what: str, check, timeout: float = 60):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what} (last: {last!r})", pytrace=False)


def manifest(name: str, replicas: int, strategy: dict, image: str = IMAGE) -> str:
    return yaml.safe_dump({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "strategy": strategy,
            "template": {
                "metadata": {"labels": {"app": name}},
                # The test httpd ignores SIGTERM: without this every replaced pod takes 30 s.
                "spec": {"terminationGracePeriodSeconds": 1,
                         "containers": [{"name": "httpd", "image": image, "imagePullPolicy": "IfNotPresent"}]},
            },
        },
    })


class ReadyWatcher:
    """Counts the ready pods of a selector in a background thread; `low` is the fewest seen."""

    def __init__(self, api: Api, ns: str, selector: str):
        self.api, self.ns, self.selector = api, ns, selector
        self.low: int | None = None
        self.seen: list[int] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while not self.stop.is_set():
            n = sum(1 for p in pods(self.api, self.ns, self.selector) if is_ready(p))
            self.seen.append(n)
            self.low = n if self.low is None else min(self.low, n)
            self.stop.wait(0.05)

    def finish(self) -> int:
        self.stop.set()
        self.thread.join(10)
        return self.low


# --------------------------------------------------------------------- kubectl


def test_create_scale_and_wait(kubectl: Kubectl, api, namespace, kubelet):
    ns = namespace
    kubectl("-n", ns, "create", "deployment", "web", f"--image={IMAGE}", "--replicas=2")
    out = kubectl("-n", ns, "rollout", "status", "deployment/web", f"--timeout={ROLLOUT_TIMEOUT}").stdout
    assert 'deployment "web" successfully rolled out' in out
    kubectl("-n", ns, "wait", "--for=condition=Available", "deployment/web", f"--timeout={ROLLOUT_TIMEOUT}")

    rs = replicasets(api, ns, "app=web")
    assert len(rs) == 1, rs
    h = rs[0]["metadata"]["labels"]["pod-template-hash"]
    assert re.fullmatch(r"[bcdfghjklmnpqrstvwxz2456789]{1,10}", h), h
    assert rs[0]["metadata"]["name"] == f"web-{h}"
    assert revision(rs[0]) == 1
    owner = rs[0]["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["controller"]) == ("Deployment", "web", True)
    ps = pods(api, ns, "app=web")
    assert len(ps) == 2
    for p in ps:
        assert re.fullmatch(rf"web-{h}-[a-z0-9]{{5}}", p["metadata"]["name"]), p["metadata"]["name"]
        assert p["metadata"]["ownerReferences"][0]["name"] == f"web-{h}"
    d = deployment(api, ns, "web")
    conds = {c["type"]: c for c in d["status"]["conditions"]}
    assert (conds["Available"]["status"], conds["Available"]["reason"]) == ("True", "MinimumReplicasAvailable")
    assert (conds["Progressing"]["status"], conds["Progressing"]["reason"]) == ("True", "NewReplicaSetAvailable")
    for f in ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas"):
        assert d["status"][f] == 2, (f, d["status"])
    assert d["status"]["observedGeneration"] == d["metadata"]["generation"]
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"

    kubectl("-n", ns, "scale", "deployment/web", "--replicas=3")
    kubectl("-n", ns, "rollout", "status", "deployment/web", f"--timeout={ROLLOUT_TIMEOUT}")
    assert len(pods(api, ns, "app=web")) == 3
    kubectl("-n", ns, "scale", "deployment/web", "--replicas=1")
    eventually("one pod left", lambda: len([p for p in pods(api, ns, "app=web")
                                            if not p["metadata"].get("deletionTimestamp")]) == 1)
    out = kubectl("-n", ns, "get", "deployment", "web").stdout
    assert re.search(r"^web\s+1/1\s+1\s+1\s", out, re.M), out

    # A deleted pod is replaced.
    victim = pods(api, ns, "app=web")[0]["metadata"]["name"]
    kubectl("-n", ns, "delete", "pod", victim, "--wait=false")
    eventually("a replacement pod", lambda: any(p["metadata"]["name"] != victim and is_ready(p)
                                                for p in pods(api, ns, "app=web")))


def test_set_image_history_undo_restart(kubectl: Kubectl, api, namespace, kubelet):
    ns = namespace
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    kubectl("-n", ns, "apply", "-f", "-", input=manifest("web", 2, strategy))
    kubectl("-n", ns, "rollout", "status", "deployment/web", f"--timeout={ROLLOUT_TIMEOUT}")

    watcher = ReadyWatcher(api, ns, "app=web")
    kubectl("-n", ns, "set", "image", "deployment/web", f"httpd={OTHER_IMAGE}")
    kubectl("-n", ns, "rollout", "status", "deployment/web", f"--timeout={ROLLOUT_TIMEOUT}")
    low = watcher.finish()
    assert low is not None and low >= 2, f"ready pods dropped to {low} with maxUnavailable 0: {watcher.seen}"
    rs = replicasets(api, ns, "app=web")
    assert [revision(r) for r in rs] == [1, 2]
    assert [r["spec"]["replicas"] for r in rs] == [0, 2]

    hist = kubectl("-n", ns, "rollout", "history", "deployment/web").stdout
    assert re.search(r"^1\s", hist, re.M) and re.search(r"^2\s", hist, re.M), hist

    kubectl("-n", ns, "rollout", "undo", "deployment/web")
    kubectl("-n", ns, "rollout", "status", "deployment/web", f"--timeout={ROLLOUT_TIMEOUT}")
    d = deployment(api, ns, "web")
    assert d["spec"]["template"]["spec"]["containers"][0]["image"] == IMAGE
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    rs = replicasets(api, ns, "app=web")
    assert len(rs) == 2, "undo reuses the first ReplicaSet"
    assert revision(rs[-1]) == 3
    assert rs[-1]["metadata"]["annotations"]["deployment.kubernetes.io/revision-history"] == "1"
    hist = kubectl("-n", ns, "rollout", "history", "deployment/web").stdout
    assert re.search(r"^2\s", hist, re.M) and re.search(r"^3\s", hist, re.M), hist

    kubectl("-n", ns, "rollout", "undo", "deployment/web", "--to-revision=2")
    kubectl("-n", ns, "rollout", "status", "deployment/web", f"--timeout={ROLLOUT_TIMEOUT}")
    d = deployment(api, ns, "web")
    assert d["spec"]["template"]["spec"]["containers"][0]["image"] == OTHER_IMAGE
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "4"

    before = {p["metadata"]["name"] for p in pods(api, ns, "app=web")}
    kubectl("-n", ns, "rollout", "restart", "deployment/web")
    kubectl("-n", ns, "rollout", "status", "deployment/web", f"--timeout={ROLLOUT_TIMEOUT}")
    after = eventually("the restarted pods only", lambda: (
        lambda ps: ps if len(ps) == 2 and not (set(ps) & before) else None)(
        [p["metadata"]["name"] for p in pods(api, ns, "app=web")]))
    assert not set(after) & before
    d = deployment(api, ns, "web")
    assert "kubectl.kubernetes.io/restartedAt" in d["spec"]["template"]["metadata"]["annotations"]
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "5"


def test_pause_and_resume(kubectl: Kubectl, api, namespace, kubelet):
    ns = namespace
    kubectl("-n", ns, "create", "deployment", "pz", f"--image={IMAGE}", "--replicas=1")
    kubectl("-n", ns, "rollout", "status", "deployment/pz", f"--timeout={ROLLOUT_TIMEOUT}")
    kubectl("-n", ns, "rollout", "pause", "deployment/pz")
    kubectl("-n", ns, "set", "image", "deployment/pz", f"httpd={OTHER_IMAGE}")

    def paused():
        d = deployment(api, ns, "pz")
        conds = {c["type"]: c for c in d["status"].get("conditions", [])}
        return conds.get("Progressing", {}).get("reason") == "DeploymentPaused" and \
            d["status"].get("observedGeneration") == d["metadata"]["generation"]
    eventually("the paused condition", paused)
    time.sleep(1)
    assert len(replicasets(api, ns, "app=pz")) == 1, "a paused Deployment does not roll out"
    kubectl("-n", ns, "rollout", "resume", "deployment/pz")
    kubectl("-n", ns, "rollout", "status", "deployment/pz", f"--timeout={ROLLOUT_TIMEOUT}")
    assert [revision(r) for r in replicasets(api, ns, "app=pz")] == [1, 2]


def test_recreate(kubectl: Kubectl, api, namespace, kubelet):
    ns = namespace
    kubectl("-n", ns, "apply", "-f", "-", input=manifest("rec", 2, {"type": "Recreate"}))
    kubectl("-n", ns, "rollout", "status", "deployment/rec", f"--timeout={ROLLOUT_TIMEOUT}")
    old_hash = replicasets(api, ns, "app=rec")[0]["metadata"]["labels"]["pod-template-hash"]
    mixed = []
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            hashes = {p["metadata"]["labels"]["pod-template-hash"] for p in pods(api, ns, "app=rec")
                      if not p["metadata"].get("deletionTimestamp")}
            if len(hashes) > 1:
                mixed.append(hashes)
            stop.wait(0.05)
    t = threading.Thread(target=watch, daemon=True)
    t.start()
    kubectl("-n", ns, "set", "image", "deployment/rec", f"httpd={OTHER_IMAGE}")
    kubectl("-n", ns, "rollout", "status", "deployment/rec", f"--timeout={ROLLOUT_TIMEOUT}")
    stop.set()
    t.join(10)
    assert not mixed, f"old and new pods ran at once: {mixed[:3]}"
    ps = pods(api, ns, "app=rec")
    assert len(ps) == 2 and all(p["metadata"]["labels"]["pod-template-hash"] != old_hash for p in ps)


def test_rollout_completes_after_kill_9(tmp_path_factory, tmp_path):
    """k2d killed with SIGKILL during a rollout finishes it after a restart."""


    data = tmp_path_factory.mktemp("k2d-rollout-kill")
    server = K2DServer(k2d_binary(), data, LOG_DIR / f"k2d-{uniq('rollout-kill')}.log")
    server.start()
    try:
        api = Api(server)
        ns = uniq("kill")
        api.create_namespace(ns)
        kubelet = fake_kubelet(api, ns)
        kubectl = Kubectl(KUBECTL_VERSIONS[-1], tool_path(f"kubectl-{KUBECTL_VERSIONS[-1]}"), server, tmp_path)
        strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
        kubectl("-n", ns, "apply", "-f", "-", input=manifest("phoenix", 3, strategy))
        kubectl("-n", ns, "rollout", "status", "deployment/phoenix", f"--timeout={ROLLOUT_TIMEOUT}")
        kubectl("-n", ns, "set", "image", "deployment/phoenix", f"httpd={OTHER_IMAGE}")
        eventually("the second ReplicaSet", lambda: len(replicasets(api, ns, "app=phoenix")) == 2)
        if kubelet:
            kubelet.stop.set()
            kubelet.thread.join(5)
        server.proc.kill()
        server.proc.wait()
        server.stop()
        server.start()
        kubelet = fake_kubelet(api, ns)
        kubectl("-n", ns, "rollout", "status", "deployment/phoenix", f"--timeout={ROLLOUT_TIMEOUT}")
        rs = replicasets(api, ns, "app=phoenix")
        assert [r["spec"]["replicas"] for r in rs] == [0, 3]
        assert len([p for p in pods(api, ns, "app=phoenix") if is_ready(p)]) == 3
        if kubelet:
            kubelet.stop.set()
        kubectl("delete", "namespace", ns, "--wait=false")
    finally:
        server.stop()


# --------------------------------------------------------------------- Helm


def test_helm_install_upgrade_rollback_uninstall(helm, api, namespace, kubelet, tmp_path):
    ns = namespace
    chart = tmp_path / "web"
    helm("create", chart)
    quick_stop_chart(chart)
    values = chart / "values.yaml"
    text = values.read_text()
    text = re.sub(r"(?m)^(\s*repository:) nginx$", r"\1 k2d-test/httpd", text)
    text = re.sub(r'(?m)^(\s*tag:) ""', r'\1 "latest"', text)
    values.write_text(text)
    assert "k2d-test/httpd" in values.read_text()

    helm("install", "web", chart, "-n", ns, "--wait", "--timeout", "180s")
    sel = "app.kubernetes.io/instance=web"
    d = deployment(api, ns, "web")
    assert d["status"]["readyReplicas"] == 1 and d["status"]["updatedReplicas"] == 1
    assert len([p for p in pods(api, ns, sel) if is_ready(p)]) == 1
    first = pods(api, ns, sel)[0]["metadata"]["name"]
    first_rs = replicasets(api, ns, sel)[0]["metadata"]["name"]

    helm("upgrade", "web", chart, "-n", ns, "--set", "podAnnotations.rev=two", "--wait", "--timeout", "180s")
    rs = replicasets(api, ns, sel)
    assert [revision(r) for r in rs] == [1, 2]
    assert [r["spec"]["replicas"] for r in rs] == [0, 1]
    eventually("the upgraded pod alone", lambda: [p["metadata"]["name"] for p in pods(api, ns, sel)] != [first]
               and len(pods(api, ns, sel)) == 1)

    helm("rollback", "web", "1", "-n", ns, "--wait", "--timeout", "180s")
    rs = replicasets(api, ns, sel)
    assert {r["metadata"]["name"]: r["spec"]["replicas"] for r in rs} == \
        {first_rs: 1, **{r["metadata"]["name"]: 0 for r in rs if r["metadata"]["name"] != first_rs}}, rs
    assert len(rs) == 2, "rollback reuses the first ReplicaSet"
    assert deployment(api, ns, "web")["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"

    helm("uninstall", "web", "-n", ns, "--wait", "--timeout", "180s")
    eventually("everything removed", lambda: not replicasets(api, ns, sel) and not pods(api, ns, sel)
               and api.get(f"/apis/apps/v1/namespaces/{ns}/deployments/web").status == 404)
