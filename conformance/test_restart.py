"""Issue 3, scenario 5: the store survives restarts.

- SIGTERM, then a new k2d on the same data dir: every object is there with the same
  uid, resourceVersion and content; resourceVersions keep increasing.
- SIGKILL in the middle of a burst of writes: every acknowledged write (create,
  update, delete) is there after the restart; the write in flight is either fully
  there or not at all; new resourceVersions are above every acknowledged one.

Each test runs a k2d of its own (stopped by its PID through K2DServer).
"""

from __future__ import annotations

import json
import threading
import time

import pytest

from conftest import LOG_DIR, K2DServer, k2d_binary
from helpers import ROOT_CA, Api, b64, cm_path, configmap, uniq


@pytest.fixture
def own_k2d(tmp_path_factory):
    data = tmp_path_factory.mktemp("k2d-restart-data")
    server = K2DServer(k2d_binary(), data, LOG_DIR / f"k2d-{uniq('restart')}.log")
    server.start()
    yield server
    server.stop()


KINDS = [  # (collection path in namespace ns, body)
    (lambda ns: cm_path(ns), lambda n: configmap(n, {"k": n})),
    (lambda ns: f"/api/v1/namespaces/{ns}/secrets",
     lambda n: {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": n}, "type": "Opaque",
                "data": {"k": b64(n)}}),
    (lambda ns: f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles",
     lambda n: {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": n},
                "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}),
    (lambda ns: f"/apis/networking.k8s.io/v1/namespaces/{ns}/ingresses",
     lambda n: {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": n},
                "spec": {"defaultBackend": {"service": {"name": n, "port": {"number": 80}}}}}),
]


def test_restart_after_sigterm_keeps_everything(own_k2d):
    server = own_k2d
    api = Api(server)
    api.create_namespace("keep")
    stored = {}
    for i in range(5):
        for coll, body in KINDS:
            o = api.must(api.post(coll("keep"), body(f"obj-{i}")), 201)
            stored[f"{coll('keep')}/obj-{i}"] = o
    # an update and a delete before the restart
    upd = api.must(api.patch(cm_path("keep", "obj-0"), {"data": {"k": "updated"}}), 200)
    stored[cm_path("keep", "obj-0")] = upd
    api.must(api.delete(cm_path("keep", "obj-1")), 200)
    del stored[cm_path("keep", "obj-1")]
    ns_obj = api.get_obj("/api/v1/namespaces/keep")
    list_rv = api.must(api.get(cm_path("keep")), 200)["metadata"]["resourceVersion"]
    max_rv = max(int(o["metadata"]["resourceVersion"]) for o in stored.values())

    assert server.stop() == 0, "k2d did not exit 0 on SIGTERM"
    server.start()

    problems = []
    for path, before in stored.items():
        after = api.get_obj(path)
        if after != before:
            problems.append(f"{path}: {json.dumps(before)}\n   after restart: {json.dumps(after)}")
    if api.get(cm_path("keep", "obj-1")).status != 404:
        problems.append("a ConfigMap deleted before the restart is back")
    if api.get_obj("/api/v1/namespaces/keep") != ns_obj:
        problems.append("namespace keep changed across the restart")
    lst = api.must(api.get(cm_path("keep")), 200)
    if int(lst["metadata"]["resourceVersion"]) < int(list_rv):
        problems.append(f"list resourceVersion went back: {list_rv} -> {lst['metadata']['resourceVersion']}")
    if sorted(i["metadata"]["name"] for i in lst["items"] if i["metadata"]["name"] != ROOT_CA) != \
            ["obj-0", "obj-2", "obj-3", "obj-4"]:
        problems.append(f"configmaps after restart: {[i['metadata']['name'] for i in lst['items']]}")
    new = api.must(api.post(cm_path("keep"), configmap("after")), 201)
    if int(new["metadata"]["resourceVersion"]) <= max_rv:
        problems.append(f"resourceVersion after restart {new['metadata']['resourceVersion']} <= {max_rv} before")
    upd2 = api.must(api.patch(cm_path("keep", "obj-2"), {"data": {"k": "x"}}), 200)
    if int(upd2["metadata"]["resourceVersion"]) <= int(new["metadata"]["resourceVersion"]):
        problems.append("resourceVersions after restart do not increase")
    if upd2["metadata"]["uid"] != stored[cm_path("keep", "obj-2")]["metadata"]["uid"]:
        problems.append("uid changed on an update after restart")
    assert not problems, "\n".join(problems)


def test_sigkill_during_a_burst_keeps_acknowledged_writes(own_k2d):
    """A writer creates, updates and deletes ConfigMaps as fast as it can; k2d is
    killed with SIGKILL mid-burst. After a restart every acknowledged write is there."""
    server = own_k2d
    api = Api(server)
    api.create_namespace("burst")
    acked: dict[str, dict | None] = {}  # name -> last acknowledged object, None = acknowledged delete
    in_flight: list[tuple[str, str]] = []
    stop = threading.Event()
    errors = []

    def writer():
        i = 0
        while not stop.is_set():
            name = f"b-{i}"
            try:
                in_flight[:] = [("create", name)]
                o = api.post(cm_path("burst"), configmap(name, {"v": "0", "pad": "x" * 2000}), timeout=5)
                if o.status != 201:
                    errors.append(o.describe())
                    return
                acked[name] = o.json()
                if i % 3 == 1:
                    in_flight[:] = [("update", name)]
                    o = api.patch(cm_path("burst", name), {"data": {"v": "1"}}, timeout=5)
                    if o.status != 200:
                        errors.append(o.describe())
                        return
                    acked[name] = o.json()
                if i % 5 == 2:
                    prev = f"b-{i - 1}"
                    in_flight[:] = [("delete", prev)]
                    o = api.delete(cm_path("burst", prev), timeout=5)
                    if o.status != 200:
                        errors.append(o.describe())
                        return
                    acked[prev] = None
                in_flight[:] = []
            except Exception:  # noqa: BLE001 - the server died under us: the last request is "in flight"
                return
            i += 1

    t = threading.Thread(target=writer)
    t.start()
    deadline = time.monotonic() + 20
    while len(acked) < 150 and time.monotonic() < deadline and t.is_alive():
        time.sleep(0.02)
    assert not errors, "\n".join(errors)
    assert len(acked) >= 150, f"only {len(acked)} writes acknowledged in 20 s"
    server.proc.kill()  # SIGKILL, by PID, mid-burst
    server.proc.wait()
    stop.set()
    t.join(10)
    server.stop()
    acked_now = dict(acked)
    flight = list(in_flight)

    server.start()
    problems = []
    for name, want in acked_now.items():
        got = api.get_obj(cm_path("burst", name))
        if want is None:
            if got is not None and ("delete", name) not in flight:
                problems.append(f"{name}: deleted (acknowledged) but present after restart")
        elif got is None:
            if ("delete", name) not in flight:
                problems.append(f"{name}: acknowledged at resourceVersion {want['metadata']['resourceVersion']} "
                                "but missing after restart")
        elif got != want and not any(n == name for _, n in flight):
            problems.append(f"{name}: acknowledged {json.dumps(want)[:300]}\n   after restart {json.dumps(got)[:300]}")
    for op, name in flight:
        got = api.get_obj(cm_path("burst", name))
        if op == "create" and got is not None and got["data"].get("v") != "0":
            problems.append(f"in-flight create {name} half-applied: {json.dumps(got)[:300]}")
    max_rv = max(int(o["metadata"]["resourceVersion"]) for o in acked_now.values() if o)
    new = api.must(api.post(cm_path("burst"), configmap("after-kill")), 201)
    if int(new["metadata"]["resourceVersion"]) <= max_rv:
        problems.append(f"resourceVersion after restart {new['metadata']['resourceVersion']} <= acknowledged {max_rv}")
    assert not problems, f"{len(acked_now)} acknowledged writes, in flight {flight}\n" + "\n".join(problems)
