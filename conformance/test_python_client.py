"""Issue 3, scenario 3: the official Python client (PyPI `kubernetes`) lists, creates,
patches and watches stored kinds; a watch resumes from a resourceVersion; a watch
from a resourceVersion older than k2d's event history gets 410 Gone and the client
recovers (re-lists and watches from the new resourceVersion).

k2d keeps a bounded in-memory history of recent events; after a restart every
older resourceVersion is too old. The 410 test starts a k2d of its own on a data
dir of its own and restarts it.

Also here: watch semantics checked on the raw stream (selectors: ADDED / MODIFIED /
DELETED as the object enters, stays in or leaves the selection; watch-list with the
initial-events-end bookmark; bookmarks; timeoutSeconds).
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import time

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from conftest import LOG_DIR, K2DServer, k2d_binary
from helpers import ROOT_CA, Api, api, cm_path, configmap, namespace, uniq  # noqa: F401


def core(kube_client):
    return client.CoreV1Api(kube_client)


class content_type:
    """The Python client sends every patch_* body as a JSON patch (a list) or a
    strategic merge patch (anything else); other patch types need a default
    Content-Type header on the ApiClient (the documented way), set here for a block."""

    def __init__(self, api_client, ctype):
        self.api_client, self.ctype = api_client, ctype

    def __enter__(self):
        self.api_client.set_default_header("Content-Type", self.ctype)

    def __exit__(self, *exc):
        self.api_client.default_headers.pop("Content-Type", None)


def stream_until(func, *args, until, timeout=10, **kwargs):
    """Events of a Python-client watch until `until(events)` is true (or timeout)."""
    w = watch.Watch()
    events = []
    deadline = time.monotonic() + timeout
    for ev in w.stream(func, *args, timeout_seconds=max(1, int(timeout)), _request_timeout=timeout + 5, **kwargs):
        events.append((ev["type"], ev["object"].metadata.name, ev["object"].metadata.resource_version))
        if until(events) or time.monotonic() > deadline:
            w.stop()
            break
    return events


# --------------------------------------------------------------------- list / create / patch


def test_list_create_patch(kube_client, namespace):
    v1 = core(kube_client)
    names = [f"py-{i}" for i in range(5)]
    for i, n in enumerate(names):
        body = client.V1ConfigMap(metadata=client.V1ObjectMeta(name=n, labels={"idx": str(i), "group": "py"}),
                                  data={"i": str(i)})
        created = v1.create_namespaced_config_map(namespace, body)
        assert created.metadata.uid and created.metadata.resource_version and created.metadata.creation_timestamp
        assert created.data == {"i": str(i)}
    lst = v1.list_namespaced_config_map(namespace)
    present = sorted(names + [ROOT_CA])
    assert sorted(i.metadata.name for i in lst.items) == present
    assert lst.metadata.resource_version

    # label and field selectors
    sel = v1.list_namespaced_config_map(namespace, label_selector="group=py,idx in (1,3)")
    assert sorted(i.metadata.name for i in sel.items) == ["py-1", "py-3"]
    sel = v1.list_namespaced_config_map(namespace, label_selector="group=py,idx!=0,!missing")
    assert sorted(i.metadata.name for i in sel.items) == names[1:]
    sel = v1.list_namespaced_config_map(namespace, field_selector="metadata.name=py-2")
    assert [i.metadata.name for i in sel.items] == ["py-2"]
    sel = v1.list_namespaced_config_map(namespace, field_selector="metadata.name!=py-2", label_selector="group=py,idx notin (4)")
    assert sorted(i.metadata.name for i in sel.items) == ["py-0", "py-1", "py-3"]

    # limit / continue: pages of 2, every object once, remainingItemCount as a real server counts it
    seen, token, pages, remaining = [], None, 0, []
    while True:
        page = v1.list_namespaced_config_map(namespace, limit=2, _continue=token)
        pages += 1
        seen += [i.metadata.name for i in page.items]
        token = page.metadata._continue
        if not token:
            assert page.metadata.remaining_item_count in (None, 0)
            break
        assert len(page.items) == 2
        remaining.append((page.metadata.remaining_item_count, len(present) - len(seen)))
    assert sorted(seen) == present and pages == 3

    # patches: merge (dict), JSON patch (list), strategic and apply (explicit content types)
    with content_type(kube_client, "application/merge-patch+json"):
        p = v1.patch_namespaced_config_map("py-0", namespace, {"data": {"extra": "1"}})
    assert p.data == {"i": "0", "extra": "1"}
    p = v1.patch_namespaced_config_map("py-0", namespace, [{"op": "remove", "path": "/data/i"}])
    assert p.data == {"extra": "1"}
    p = v1.patch_namespaced_config_map("py-0", namespace, {"metadata": {"labels": {"idx": None}}})
    assert p.metadata.labels == {"group": "py"}
    with content_type(kube_client, "application/apply-patch+yaml"):
        p = v1.patch_namespaced_config_map(
            "py-1", namespace,
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "py-1"}, "data": {"applied": "yes"}},
            field_manager="py-apply")
    assert p.data == {"i": "1", "applied": "yes"}
    # a real server sorts managedFields by operation first ("Apply" < "Update"), then by time
    assert [(m.manager, m.operation) for m in p.metadata.managed_fields] == [
        ("py-apply", "Apply"), ("OpenAPI-Generator", "Update")], p.metadata.managed_fields

    # replace with a stale resourceVersion: 409
    stale = v1.read_namespaced_config_map("py-2", namespace)
    v1.patch_namespaced_config_map("py-2", namespace, {"data": {"i": "changed"}})
    stale.data = {"i": "stale"}
    with pytest.raises(ApiException) as e:
        v1.replace_namespaced_config_map("py-2", namespace, stale)
    assert e.value.status == 409 and json.loads(e.value.body)["reason"] == "Conflict"
    assert v1.read_namespaced_config_map("py-2", namespace).data == {"i": "changed"}

    # other kinds through their own API classes
    rbac = client.RbacAuthorizationV1Api(kube_client)
    role = rbac.create_namespaced_role(namespace, {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                                                   "metadata": {"name": "py-role"},
                                                   "rules": [{"apiGroups": [""], "resources": ["pods"],
                                                              "verbs": ["get"]}]})
    assert role.rules[0].verbs == ["get"]
    net = client.NetworkingV1Api(kube_client)
    ing = net.create_namespaced_ingress(namespace, {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                                                    "metadata": {"name": "py-ing"},
                                                    "spec": {"defaultBackend": {"service": {
                                                        "name": "web", "port": {"number": 80}}}}})
    assert ing.metadata.generation == 1
    v1.delete_namespaced_config_map("py-4", namespace)
    with pytest.raises(ApiException) as e:
        v1.read_namespaced_config_map("py-4", namespace)
    assert e.value.status == 404
    # a real server counts what is left after a page when the list has no selector
    assert all(got == want for got, want in remaining), f"remainingItemCount (got, want) per page: {remaining}"


def test_apply_conflict_with_an_update_manager(kube_client, namespace):
    """Server-side apply of a field another manager set with an update: 409 Conflict,
    the message naming that manager as kube-apiserver prints it (`"<manager>" using <apiVersion>`
    for Update entries: the manager identifier it prints from leaves the time out)."""
    v1 = core(kube_client)
    v1.create_namespaced_config_map(namespace, {"metadata": {"name": "cf"}, "data": {"a": "1"}},
                                    field_manager="py-update")
    entry = v1.read_namespaced_config_map("cf", namespace).metadata.managed_fields[0]
    assert (entry.manager, entry.operation) == ("py-update", "Update")
    with content_type(kube_client, "application/apply-patch+yaml"), pytest.raises(ApiException) as e:
        v1.patch_namespaced_config_map("cf", namespace, {"apiVersion": "v1", "kind": "ConfigMap",
                                                         "metadata": {"name": "cf"}, "data": {"a": "2"}},
                                       field_manager="py-apply")
    st = json.loads(e.value.body)
    assert e.value.status == 409 and st["reason"] == "Conflict", st
    assert st["message"] == f'Apply failed with 1 conflict: conflict with "py-update" using v1: .data.a', st
    assert st["details"]["causes"] == [{"reason": "FieldManagerConflict", "field": ".data.a",
                                        "message": 'conflict with "py-update" using v1'}], st
    assert v1.read_namespaced_config_map("cf", namespace).data == {"a": "1"}


# --------------------------------------------------------------------- watch and resume


def test_watch_and_resume(kube_client, namespace):
    v1 = core(kube_client)
    rv0 = v1.list_namespaced_config_map(namespace).metadata.resource_version
    v1.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="w1")))
    v1.patch_namespaced_config_map("w1", namespace, {"data": {"a": "1"}})
    v1.patch_namespaced_config_map("w1", namespace, {"data": {"a": "2"}})
    v1.delete_namespaced_config_map("w1", namespace)

    events = stream_until(v1.list_namespaced_config_map, namespace, resource_version=rv0,
                          until=lambda ev: any(t == "DELETED" for t, _, _ in ev))
    assert [(t, n) for t, n, _ in events] == [("ADDED", "w1"), ("MODIFIED", "w1"), ("MODIFIED", "w1"),
                                              ("DELETED", "w1")], events
    rvs = [int(rv) for _, _, rv in events]
    assert rvs == sorted(rvs) and len(set(rvs)) == 4, events

    # resume from the first MODIFIED: only what came after it
    events2 = stream_until(v1.list_namespaced_config_map, namespace, resource_version=events[1][2],
                           until=lambda ev: any(t == "DELETED" for t, _, _ in ev))
    assert [(t, n) for t, n, _ in events2] == [("MODIFIED", "w1"), ("DELETED", "w1")], events2

    # a live watch sees a change made after it started
    got = []

    def later():
        time.sleep(0.5)
        v1.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="w2")))

    rv1 = v1.list_namespaced_config_map(namespace).metadata.resource_version
    t = threading.Thread(target=later)
    t.start()
    got = stream_until(v1.list_namespaced_config_map, namespace, resource_version=rv1,
                       until=lambda ev: any(n == "w2" for _, n, _ in ev))
    t.join()
    assert [(t_, n) for t_, n, _ in got] == [("ADDED", "w2")], got


def raw_watch(k2d, path, query, seconds=3.0, stop_when=None):
    """Reads a raw watch stream for up to `seconds`: (HTTP status, [event dicts])."""
    conn = http.client.HTTPSConnection("127.0.0.1", k2d.port, context=k2d.ssl_context(), timeout=seconds)
    events = []
    try:
        conn.request("GET", f"{path}?{query}", headers={"Authorization": f"Bearer {k2d.token}",
                                                       "Accept": "application/json"})
        r = conn.getresponse()
        if r.status != 200:
            return r.status, [json.loads(r.read() or b"{}")]
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                line = r.readline()
            except (TimeoutError, OSError):
                break
            if not line:
                break
            line = line.strip()
            if line.startswith(b"{"):
                events.append(json.loads(line))
                if stop_when and stop_when(events):
                    break
        return 200, events
    finally:
        conn.close()


def test_watch_selector_transitions(k2d, api, namespace):
    """A watch with a selector, resumed from a resourceVersion, reports each change as
    a real server does: MODIFIED while the object stays selected, ADDED when it comes
    into the selection, DELETED when it leaves it or is deleted (also when the delete
    happens because the last finalizer is removed)."""
    ns = namespace
    created = api.must(api.post(cm_path(ns), configmap("sel", {"a": "1"}, labels={"team": "a"},
                                                      finalizers=["example.com/hold"])), 201)
    rv = created["metadata"]["resourceVersion"]
    results = {}

    def watcher(key, query):
        results[key] = raw_watch(k2d, cm_path(ns), f"watch=true&resourceVersion={rv}&{query}", seconds=4,
                                 stop_when=lambda ev: len(ev) >= 5)

    threads = [threading.Thread(target=watcher, args=(k, q)) for k, q in (
        ("field", "fieldSelector=metadata.name%3Dsel"), ("label", "labelSelector=team%3Da"), ("none", ""))]
    for t in threads:
        t.start()
    time.sleep(0.5)
    api.must(api.patch(cm_path(ns, "sel"), {"data": {"a": "2"}}), 200)                   # stays selected
    api.must(api.patch(cm_path(ns, "sel"), {"metadata": {"labels": {"team": "b"}}}), 200)  # leaves team=a
    api.must(api.patch(cm_path(ns, "sel"), {"metadata": {"labels": {"team": "a"}}}), 200)  # comes back
    api.must(api.delete(cm_path(ns, "sel")), 200)                                           # deletionTimestamp set
    api.must(api.patch(cm_path(ns, "sel"), [{"op": "remove", "path": "/metadata/finalizers"}],
                       ctype="application/json-patch+json"), 200)                          # gone
    for t in threads:
        t.join()
    got = {k: [e["type"] for e in v[1]] for k, v in results.items()}
    want = {"none": ["MODIFIED", "MODIFIED", "MODIFIED", "MODIFIED", "DELETED"],
            "field": ["MODIFIED", "MODIFIED", "MODIFIED", "MODIFIED", "DELETED"],
            "label": ["MODIFIED", "DELETED", "ADDED", "MODIFIED", "DELETED"]}
    assert got == want, json.dumps(got)


def test_watch_list_and_bookmarks(k2d, api, namespace):
    """sendInitialEvents=true (kubectl >= 1.35, Helm 4): one ADDED per object, then a
    BOOKMARK annotated k8s.io/initial-events-end=true, then live events; timeoutSeconds
    ends the stream."""
    ns = namespace
    for n in ("a", "b"):
        api.must(api.post(cm_path(ns), configmap(n)), 201)
    q = ("allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&sendInitialEvents=true&timeoutSeconds=2"
         f"&watch=true&fieldSelector=metadata.name!={ROOT_CA}")
    status, events = raw_watch(k2d, cm_path(ns), q, seconds=6)
    assert status == 200, events
    types = [e["type"] for e in events]
    assert types[:3] == ["ADDED", "ADDED", "BOOKMARK"], types
    assert sorted(e["object"]["metadata"]["name"] for e in events[:2]) == ["a", "b"]
    bm = events[2]["object"]
    assert bm.get("kind") == "ConfigMap" and bm.get("apiVersion") == "v1", bm
    assert bm["metadata"].get("annotations", {}).get("k8s.io/initial-events-end") == "true", bm
    assert int(bm["metadata"]["resourceVersion"]) >= max(int(e["object"]["metadata"]["resourceVersion"])
                                                         for e in events[:2]), bm
    # the stream ended by itself after timeoutSeconds=2 (the reader allowed 6)
    t0 = time.monotonic()
    status, events = raw_watch(k2d, cm_path(ns), "watch=true&timeoutSeconds=1", seconds=6)
    assert status == 200 and time.monotonic() - t0 < 4, "timeoutSeconds=1 did not end the watch"


# --------------------------------------------------------------------- 410 Gone and recovery


@pytest.fixture
def own_k2d(tmp_path_factory):
    """A k2d of this test's own (stopped at the end, by its PID, through K2DServer)."""
    data = tmp_path_factory.mktemp("k2d-own-data")
    server = K2DServer(k2d_binary(), data, LOG_DIR / f"k2d-{uniq('own')}.log")
    server.start()
    yield server
    server.stop()


def python_client_for(server):
    from kubernetes import config

    cfg = client.Configuration()
    config.load_kube_config(config_file=str(server.kubeconfig), client_configuration=cfg)
    return client.ApiClient(cfg)


def test_watch_too_old_gets_410_and_client_recovers(own_k2d):
    server = own_k2d
    api = Api(server)
    ns = "default"
    first = api.must(api.post(cm_path(ns), configmap("old-0")), 201)
    old_rv = first["metadata"]["resourceVersion"]
    for i in range(1, 4):
        api.must(api.post(cm_path(ns), configmap(f"old-{i}")), 201)
    # restart: the in-memory event history is empty, so old_rv is older than its start
    assert server.stop() == 0
    server.start()

    # raw: as kube-apiserver's watch cache answers (cacher.Watch: "errors must fail with a
    # watch event of type ERROR, rather than a directly returned error"): HTTP 200, then
    # one ERROR event carrying a 410 Expired Status
    problems = []
    status, events = raw_watch(server, cm_path(ns), f"watch=true&resourceVersion={old_rv}", seconds=5,
                               stop_when=lambda ev: True)
    st = events[0].get("object", {}) if status == 200 and events else (events[0] if events else {})
    if status != 200 or not events or events[0].get("type") != "ERROR":
        problems.append(f"want HTTP 200 and an ERROR event, got HTTP {status}: {events}")
    if {k: st.get(k) for k in ("kind", "apiVersion", "status", "reason", "code")} != {
            "kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Expired", "code": 410}:
        problems.append(f"Status {st}")
    if not re.fullmatch(rf"too old resource version: {old_rv} \(\d+\)", st.get("message", "")):
        problems.append(f"message {st.get('message')!r}")

    # the Python client: ApiException 410 ...
    with python_client_for(server) as apic:
        v1 = client.CoreV1Api(apic)
        with pytest.raises(ApiException) as e:
            stream_until(v1.list_namespaced_config_map, ns, resource_version=old_rv, until=lambda ev: False,
                         timeout=5)
        assert e.value.status == 410, e.value
        # ... and recovers as informers do: re-list, watch from the list's resourceVersion
        lst = v1.list_namespaced_config_map(ns)
        assert sorted(i.metadata.name for i in lst.items if i.metadata.name != ROOT_CA) == \
            [f"old-{i}" for i in range(4)]
        new_rv = lst.metadata.resource_version
        assert int(new_rv) >= int(old_rv)

        def later():
            time.sleep(0.5)
            api.must(api.post(cm_path(ns), configmap("after-restart")), 201)

        t = threading.Thread(target=later)
        t.start()
        events = stream_until(v1.list_namespaced_config_map, ns, resource_version=new_rv,
                              until=lambda ev: any(n == "after-restart" for _, n, _ in ev))
        t.join()
        assert [(t_, n) for t_, n, _ in events] == [("ADDED", "after-restart")], events
        assert int(events[0][2]) > int(new_rv)
    assert not problems, "\n".join(problems)
