"""Shared pieces of the faults suite (issue 8, points 1-5: test_faults_*.py).

These files stop, kill and restart a container engine, so they run only against the
suite's own engine in its own network namespace (scripts/faults-engine.sh, which also
sets K2D_FAULTS_ENGINE and DOCKER_HOST); conftest deselects them elsewhere. Run them with

    scripts/faults-engine.sh exec env K2D_BIN=$PWD/target/debug/k2d K2D_SKIP_SETUP=1 \\
        conformance/run.sh test_faults_engine.py test_faults_kill.py test_faults_disk.py

Everything here (k2d, the clients, `docker`) runs inside that netns: the k2d under test owns
the netns's 10.96.0.10:53 and Service addresses, so no host lock is needed.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import LOG_DIR, REPO, K2DServer, k2d_binary, run
from helpers import Api, uniq
from pods_common import HTTPD

ENGINE_SCRIPT = REPO / "scripts" / "faults-engine.sh"


class FaultsEngine:
    """The suite's own dockerd: stop (clean shutdown), kill (power cut), start."""

    def __init__(self, url: str):
        self.url = url

    def _do(self, verb: str, timeout: float = 120):
        return run(["bash", ENGINE_SCRIPT, verb], timeout=timeout)

    def stop(self):
        self._do("stop")

    def kill(self):
        self._do("kill")

    def start(self):
        self._do("start")

    def answers(self) -> bool:
        return run(["bash", ENGINE_SCRIPT, "status"], check=False, timeout=30).rc == 0


@pytest.fixture(scope="session")
def faults_engine() -> FaultsEngine:
    url = os.environ.get("K2D_FAULTS_ENGINE")
    if not url:
        pytest.fail("run the faults suite through scripts/faults-engine.sh exec (K2D_FAULTS_ENGINE is unset)",
                    pytrace=False)
    eng = FaultsEngine(url)
    eng.start()
    # The engine is the suite's own, and its data root outlives a run: a run that was stopped
    # part-way leaves containers its checks would count as orphans.
    clean_engine()
    return eng


def new_server(engine_url: str, what: str, *extra) -> K2DServer:
    import tempfile

    data = Path(tempfile.mkdtemp(prefix=f"k2d-{what}-"))
    return K2DServer(k2d_binary(), data, LOG_DIR / f"k2d-{uniq(what)}.log",
                     extra_args=["--engine", engine_url, *extra])


@pytest.fixture
def faults_k2d(faults_engine):
    """A k2d of the test's own on the faults engine; its containers are removed afterwards."""
    server = new_server(faults_engine.url, "faults")
    server.start()
    yield server
    server.stop()
    shutil.rmtree(server.data_dir, ignore_errors=True)
    if not faults_engine.answers():
        faults_engine.start()
    clean_engine()


def clean_engine():
    """Removes every pod container and claim volume from the faults engine."""
    remove_k2d_containers()
    vols = docker("volume", "ls", "-q", "--filter", "name=k2d-pvc-", check=False).split()
    if vols:
        docker("volume", "rm", "-f", *vols, check=False)


def docker(*args, check=True, timeout=60) -> str:
    r = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed ({r.returncode}): {r.stderr}")
    return r.stdout


def remove_k2d_containers():
    ids = docker("ps", "-aq", "--filter", "label=io.k2d.pod.uid", check=False).split()
    if ids:
        docker("rm", "-f", *ids, check=False)


def engine_view() -> list[dict]:
    """Every container of a pod on the engine: id, state, labels."""
    out = docker("ps", "-a", "--no-trunc", "--filter", "label=io.k2d.pod.uid", "--format", "{{json .}}")
    rows = []
    for line in out.splitlines():
        if not line.strip():
            continue
        c = json.loads(line)
        labels = dict(kv.split("=", 1) for kv in c["Labels"].split(",") if "=" in kv)
        rows.append({"id": c["ID"], "state": c["State"], "names": c["Names"], "labels": labels})
    return rows


def docker_matches_api(api: Api) -> list[str]:
    """What differs between `docker ps` and the pods the API shows (empty = they match):
    a container whose pod the API does not have (orphan), a Running pod whose sandbox or
    app container does not run, a pod with two running containers of the same name."""
    pods = api.must(api.get("/api/v1/pods"), 200)["items"]
    by_uid = {p["metadata"]["uid"]: p for p in pods}
    view = engine_view()
    problems = []
    running: dict[tuple[str, str], int] = {}
    for c in view:
        uid = c["labels"].get("io.k2d.pod.uid")
        if uid not in by_uid:
            problems.append(f"orphan container {c['names']} ({c['state']}) of pod uid {uid}")
            continue
        if c["state"] == "running":
            key = (uid, c["labels"].get("io.k2d.container.role", "") + "/"
                   + c["labels"].get("io.k2d.container.name", ""))
            running[key] = running.get(key, 0) + 1
    for (uid, name), n in running.items():
        if n > 1:
            p = by_uid[uid]["metadata"]
            problems.append(f"pod {p['namespace']}/{p['name']}: {n} running containers {name}")
    for uid, p in by_uid.items():
        if p.get("status", {}).get("phase") != "Running" or p["metadata"].get("deletionTimestamp"):
            continue
        for c in p["spec"]["containers"]:
            st = next((s for s in p["status"].get("containerStatuses", []) if s["name"] == c["name"]), {})
            if "running" in st.get("state", {}) and (uid, "app/" + c["name"]) not in running:
                problems.append(f"pod {p['metadata']['namespace']}/{p['metadata']['name']}: the API says "
                                f"{c['name']} runs, docker ps has no running container for it")
    return problems


def cpu_ticks(pid: int) -> int:
    """utime + stime of a process, in clock ticks (/proc/PID/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


class WatchRecorder:
    """A raw watch (?watch=1) read in a thread: the events it got and how it ended
    ('open', 'clean end' for a complete chunked response, or the error)."""

    def __init__(self, server: K2DServer, path: str):
        self.server = server
        self.path = path
        self.events: list[dict] = []
        self.ended = "open"
        self._conn = None
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        conn = http.client.HTTPSConnection("127.0.0.1", self.server.port, context=self.server.ssl_context(),
                                           timeout=600)
        self._conn = conn
        try:
            conn.request("GET", self.path, headers={"Authorization": f"Bearer {self.server.token}",
                                                    "Accept": "application/json"})
            r = conn.getresponse()
            if r.status != 200:
                self.ended = f"HTTP {r.status}: {r.read()[:500]!r}"
                return
            while True:
                line = r.readline()
                if not line:
                    self.ended = "clean end"
                    return
                if line.strip():
                    self.events.append(json.loads(line))
        except Exception as e:  # noqa: BLE001 - the way it ended is what the test checks
            if self.ended == "open":
                self.ended = f"error: {e!r}"

    def close(self):
        if self.ended == "open":
            self.ended = "closed by the test"
        try:
            self._conn.sock.shutdown(2)
        except Exception:  # noqa: BLE001
            pass


def wait_pods(api: Api, ns: str, cond, what: str, timeout: float = 90) -> list[dict]:
    """Polls the namespace's pods until cond(pods) holds."""
    deadline = time.monotonic() + timeout
    pods = []
    while time.monotonic() < deadline:
        r = api.get(f"/api/v1/namespaces/{ns}/pods")
        if r.status == 200:
            pods = r.json()["items"]
            if cond(pods):
                return pods
        time.sleep(0.5)
    summary = [(p["metadata"]["name"], p.get("status", {}).get("phase"),
                [(s["name"], list(s.get("state", {})), s.get("restartCount"))
                 for s in p.get("status", {}).get("containerStatuses", [])]) for p in pods]
    pytest.fail(f"pods of {ns} did not become {what} in {timeout}s; last seen: {summary}", pytrace=False)


def ready(p: dict) -> bool:
    return (p.get("status", {}).get("phase") == "Running"
            and not p["metadata"].get("deletionTimestamp")
            and all(s.get("ready") for s in p["status"].get("containerStatuses", []))
            and bool(p["status"].get("containerStatuses")))


def deployment(name: str, replicas: int, image: str = HTTPD, **pod_spec) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"terminationGracePeriodSeconds": 1,
                                           "containers": [{"name": "web", "image": image,
                                                           "imagePullPolicy": "Never"}],
                                           **pod_spec}}}}


def converged(api: Api, problems: list[str], timeout: float = 30):
    """docker ps matches the API within `timeout` (else its last differences go in problems)."""
    deadline = time.monotonic() + timeout
    while True:
        diff = docker_matches_api(api)
        if not diff:
            return
        if time.monotonic() > deadline:
            problems.extend(diff)
            return
        time.sleep(1)
