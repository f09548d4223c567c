"""Watch resume (issue 8, found by the load driver bench/load.py). With a label selector, an
object created after the watch's resourceVersion is new to the client, so its creation is
ADDED, even though k2d takes the selection of a resumed watch from the objects as they are
when the watch starts (which already includes it). The load itself and the stuck-watcher
scenario run in the "load" phase of scripts/test.sh (bench/load.py). Bookmarks: a quiet
watch that allows them learns the revision it has caught up to before it ends."""

from __future__ import annotations

import http.client
import json

from helpers import api, cm_path, configmap, namespace  # noqa: F401  (fixtures)


def read_events(k2d, path: str, count: int, seconds: float = 5) -> list[dict]:
    conn = http.client.HTTPSConnection("127.0.0.1", k2d.port, context=k2d.ssl_context(), timeout=seconds)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {k2d.token}", "Accept": "application/json"})
        r = conn.getresponse()
        assert r.status == 200, r.read()
        events = []
        while len(events) < count:
            line = r.readline()
            if not line:
                break
            events.append(json.loads(line))
        return events
    finally:
        conn.close()


def test_a_creation_after_the_resume_point_is_added(k2d, api, namespace):
    ns = namespace
    first = api.must(api.post(cm_path(ns), configmap("first", labels={"team": "a"})), 201)
    rv = first["metadata"]["resourceVersion"]
    api.must(api.post(cm_path(ns), configmap("second", labels={"team": "a"})), 201)
    api.must(api.patch(cm_path(ns, "first"), {"data": {"x": "1"}}), 200)
    events = read_events(k2d, f"{cm_path(ns)}?watch=true&resourceVersion={rv}&labelSelector=team%3Da", 2)
    got = [(e["type"], e["object"]["metadata"]["name"]) for e in events]
    assert got == [("ADDED", "second"), ("MODIFIED", "first")], got


def test_a_quiet_watch_gets_a_bookmark_before_its_end(k2d, api, namespace):
    """allowWatchBookmarks=true: a watch whose selection did not change gets a BOOKMARK with
    the revision it has caught up to 2 s before its timeout (and one a minute), so the
    client resumes from there instead of from a revision the server may have forgotten."""
    ns = namespace
    cm = api.must(api.post(cm_path(ns), configmap("quiet")), 201)
    secret = api.must(api.post(f"/api/v1/namespaces/{ns}/secrets",
                               {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "other"}}), 201)
    rv = cm["metadata"]["resourceVersion"]
    q = f"watch=true&resourceVersion={rv}&allowWatchBookmarks=true&timeoutSeconds=3"
    events = read_events(k2d, f"{cm_path(ns)}?{q}", 2, seconds=8)
    assert [e["type"] for e in events] == ["BOOKMARK"], events
    bm = events[0]["object"]
    assert bm["kind"] == "ConfigMap" and bm["apiVersion"] == "v1", bm
    assert int(bm["metadata"]["resourceVersion"]) >= int(secret["metadata"]["resourceVersion"]), bm
    # Without allowWatchBookmarks there is none.
    events = read_events(k2d, f"{cm_path(ns)}?watch=true&resourceVersion={rv}&timeoutSeconds=3", 2, seconds=8)
    assert events == [], events
