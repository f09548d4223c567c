#!/usr/bin/env python3
"""Load with many clients and watches, and watchers that stop reading (issue 8, points 6-7).

Starts its own k2d (`--engine none`: objects are stored and the controllers run, no container
is started, so the figures are the API server's alone) and, for --duration seconds, runs

* --clients threads (default 50), each with its own keep-alive HTTPS connection, doing a mix
  of GET, LIST, create, update (PUT with the resourceVersion it last read, so stale updates
  happen), merge patch and delete of ConfigMaps and Secrets on a shared pool of names (so
  creates race into 409 AlreadyExists, deletes into 404), and, fewer, Deployments (create,
  scale, delete; the controllers then write ReplicaSets and Pods);
* --watches watchers (default 50) that behave like client-go's reflector: LIST then WATCH from
  the list's resourceVersion, or a watch-list (`sendInitialEvents=true`); on a clean end they
  resume from the last resourceVersion seen; on 410 Gone they re-list. Some watch one
  namespace, some all namespaces, some with label selectors;
Then it writes one sentinel object per namespace and kind that every watch selects, and checks
what follows. After that, the stuck-watcher scenario (point 7): --stuck raw TLS connections
(default 2) open a watch with a tiny receive buffer and never read, while one watcher reads and
--stuck-writes writes (default 1200) of 10 KB ConfigMaps go through.

Checks:

* every answer is one a real API server gives to this mix: 2xx, 409 (stale update, create of
  an existing name; not for a patch or a delete, which a server retries), 404 (a raced delete,
  patch, update or get); each kind is counted, anything else is a failure;
* every watch saw, for its selection, every acknowledged write (by its resourceVersion, with
  the right event type) between its start and the sentinel, except over the spans it had to
  re-list after 410 Gone (counted), and resourceVersions strictly increasing;
* the stuck connections were closed by k2d, did not hold the reading watcher up (it got every
  event; the delay from a write's answer to its event is printed) and k2d's RSS grew by less
  than 64 MB meanwhile;
* k2d's open file descriptors do not grow (end vs start, after every client disconnected).

k2d's RSS is sampled every 2 s and printed as a curve. Only correctness failures (and a k2d
crash) make the exit status non-zero; timings and memory are printed, never judged.

    load.py --k2d BIN [--duration 60] [--clients 50] [--watches 50] [--stuck 2] [--out FILE]

The 10-minute manual run: `load.py --k2d target/debug/k2d --duration 600` (BENCHMARKS.md has
its last result).
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import random
import socket
import ssl
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import K2D, free_port, open_fds, rss_kb  # noqa: E402

NAMESPACES = [f"load-{i}" for i in range(5)]
POOL = 40  # names per namespace and kind
LABEL_KEYS = ("k0", "k1", "k2")
KINDS = {
    "configmaps": ("/api/v1", "ConfigMap"),
    "secrets": ("/api/v1", "Secret"),
    "deployments": ("/apis/apps/v1", "Deployment"),
    "pods": ("/api/v1", "Pod"),
}
# Answers a real API server gives to this mix besides 2xx, by verb; anything else is a
# failure. 409 only where a client can cause it: a create of an existing name, an update with
# a stale resourceVersion. A patch or delete without preconditions is retried by the server.
EXPECTED = {"create": {409}, "update": {409, 404}}
EXPECTED_DEFAULT = {404}


def labels_of(name: str) -> dict[str, str]:
    """Labels are a function of the name, so every create of a name carries the same ones and
    a watch's selection of an object never changes (which keeps the event types exact)."""
    if name == "sentinel":
        return {k: "1" for k in LABEL_KEYS}
    h = hashlib.sha1(name.encode()).digest()
    return {k: str(h[i] % 2) for i, k in enumerate(LABEL_KEYS)}


def path(resource: str, ns: str | None, name: str | None = None, query: dict | None = None) -> str:
    prefix, _ = KINDS[resource]
    p = prefix + (f"/namespaces/{ns}" if ns else "") + f"/{resource}" + (f"/{name}" if name else "")
    return p + ("?" + urllib.parse.urlencode(query) if query else "")


def body(resource: str, ns: str, name: str, value: str, replicas: int = 1) -> dict:
    meta = {"name": name, "namespace": ns, "labels": labels_of(name)}
    if resource == "configmaps":
        return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"v": value}}
    if resource == "secrets":
        return {"apiVersion": "v1", "kind": "Secret", "metadata": meta,
                "stringData": {"v": value}}
    app = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
            "spec": {"replicas": replicas, "selector": {"matchLabels": app},
                     "template": {"metadata": {"labels": app},
                                  "spec": {"containers": [{"name": "c", "image": "k2d-test/busybox:latest",
                                                           "command": ["sleep", "86400"]}]}}}}


# --------------------------------------------------------------------------- HTTP


# A keep-alive connection idle for longer than this is replaced before it is used again.
IDLE_REUSE_SECONDS = 20


class Api:
    """One keep-alive HTTPS connection to k2d (one per thread)."""

    def __init__(self, k2d: K2D, timeout: float = 60):
        self.k2d, self.timeout = k2d, timeout
        self.headers = {"Authorization": f"Bearer {k2d.token()}", "Accept": "application/json"}
        self.conn = None
        self.reconnects = 0
        self.last_used = 0.0

    def request(self, method: str, p: str, obj=None, content_type="application/json"):
        data = json.dumps(obj).encode() if obj is not None else None
        headers = dict(self.headers)
        if data is not None:
            headers["Content-Type"] = content_type
        if self.conn is not None and time.monotonic() - self.last_used > IDLE_REUSE_SECONDS:
            self.close()  # k2d closes HTTP/1 connections idle for 32 s, as servers may
        for attempt in (0, 1):
            fresh = self.conn is None
            if fresh:
                self.conn = self.k2d.connection(timeout=self.timeout)
            try:
                self.conn.request(method, p, body=data, headers=headers)
                resp = self.conn.getresponse()
                raw = resp.read()
                self.last_used = time.monotonic()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
                    ssl.SSLEOFError, ssl.SSLZeroReturnError):
                # A server may close an idle keep-alive connection; a client retries once on a
                # new one. On a fresh connection it is a failure.
                self.close()
                if fresh or attempt:
                    raise
                self.reconnects += 1
                continue
            try:
                return resp.status, json.loads(raw) if raw else None
            except ValueError:
                return resp.status, {"unparsable": raw[:200].decode(errors="replace")}
        raise AssertionError("unreachable")

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def rv_of(obj) -> int:
    return int(obj["metadata"]["resourceVersion"])


# --------------------------------------------------------------------------- the record


@dataclass
class Write:
    resource: str
    ns: str
    name: str
    kind: str  # the event type it must show as
    rv: int
    at: float  # when the answer arrived


@dataclass
class Record:
    lock: threading.Lock = field(default_factory=threading.Lock)
    writes: list[Write] = field(default_factory=list)
    answers: Counter = field(default_factory=Counter)  # (verb, code) -> count
    failures: list[str] = field(default_factory=list)

    def fail(self, msg: str):
        with self.lock:
            if len(self.failures) < 10000:
                self.failures.append(msg)


# --------------------------------------------------------------------------- clients


class Client(threading.Thread):
    """One client doing a mixed stream of reads and writes until `stop` is set."""

    def __init__(self, k2d: K2D, idx: int, rec: Record, stop: threading.Event, seed: int,
                 deployments: bool = True):
        super().__init__(daemon=True, name=f"client-{idx}")
        self.deployments = deployments
        self.api, self.rec, self.stop = Api(k2d), rec, stop
        self.rnd = random.Random(seed * 1000 + idx)
        self.ns = NAMESPACES[idx % len(NAMESPACES)]
        self.known: dict[tuple[str, str], dict] = {}  # last object read, for updates
        self.ops = 0

    def call(self, verb: str, method: str, p: str, obj=None, ok=(200,),
             content_type="application/json"):
        expected = EXPECTED.get(verb, EXPECTED_DEFAULT)
        try:
            code, out = self.api.request(method, p, obj, content_type)
        except (OSError, http.client.HTTPException) as e:
            self.rec.fail(f"{verb} {p}: {type(e).__name__}: {e}")
            return None, None
        with self.rec.lock:
            self.rec.answers[(verb, code)] += 1
        if code not in ok and code not in expected:
            self.rec.fail(f"{verb} {p}: {code} {json.dumps(out)[:300]}")
        return code, out

    def wrote(self, resource: str, name: str, kind: str, obj):
        with self.rec.lock:
            self.rec.writes.append(Write(resource, self.ns, name, kind, rv_of(obj), time.monotonic()))

    def run(self):
        while not self.stop.is_set():
            self.ops += 1
            r = self.rnd.random()
            if r < 0.92:
                self.on_plain(self.rnd.choice(("configmaps", "secrets")), r / 0.92)
            elif r < 0.97:
                if self.deployments:
                    self.on_deployment()
            else:
                self.call("list-all", "GET", path(self.rnd.choice(("pods", "configmaps")), None,
                                                   query={"limit": "100"}))
        self.api.close()

    def on_plain(self, resource: str, r: float):
        name = f"o{self.rnd.randrange(POOL)}"
        key = (resource, name)
        if r < 0.30:
            code, out = self.call("get", "GET", path(resource, self.ns, name))
            if code == 200:
                self.known[key] = out
        elif r < 0.40:
            self.call("list", "GET", path(resource, self.ns, query=self.rnd.choice(
                [{}, {"limit": "10"}, {"labelSelector": "k0=1"}])))
        elif r < 0.58:
            code, out = self.call("create", "POST", path(resource, self.ns),
                                  body(resource, self.ns, name, f"{self.ops}"), ok=(201,))
            if code == 201:
                self.wrote(resource, name, "ADDED", out)
                self.known[key] = out
        elif r < 0.75:
            old = self.known.get(key)
            if old is None:
                return
            new = body(resource, self.ns, name, f"u{self.ops}")
            new["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
            code, out = self.call("update", "PUT", path(resource, self.ns, name), new)
            if code == 200:
                self.wrote(resource, name, "MODIFIED", out)
                self.known[key] = out
            else:
                self.known.pop(key, None)
        elif r < 0.90:
            patch = {"data" if resource == "configmaps" else "stringData": {"p": f"{self.ops}"}}
            code, out = self.call("patch", "PATCH", path(resource, self.ns, name), patch,
                                  content_type="application/merge-patch+json")
            if code == 200:
                self.wrote(resource, name, "MODIFIED", out)
        else:
            code, out = self.call("delete", "DELETE", path(resource, self.ns, name))
            if code == 200:
                self.wrote(resource, name, "DELETED", out)
            self.known.pop(key, None)

    def on_deployment(self):
        name = f"d{self.rnd.randrange(4)}"
        r = self.rnd.random()
        if r < 0.4:
            code, out = self.call("create", "POST", path("deployments", self.ns),
                                  body("deployments", self.ns, name, "", self.rnd.randrange(3)),
                                  ok=(201,))
            if code == 201:
                self.wrote("deployments", name, "ADDED", out)
        elif r < 0.8:
            code, out = self.call("scale", "PATCH", path("deployments", self.ns, name),
                                  {"spec": {"replicas": self.rnd.randrange(3)}},
                                  content_type="application/merge-patch+json")
            if code == 200:
                self.wrote("deployments", name, "MODIFIED", out)
        else:
            code, out = self.call("delete", "DELETE", path("deployments", self.ns, name))
            if code == 200:
                self.wrote("deployments", name, "DELETED", out)


# --------------------------------------------------------------------------- watchers


@dataclass
class Seen:
    kind: str
    ns: str
    name: str
    rv: int
    at: float


class Watcher(threading.Thread):
    """A reflector: list (or watch-list), watch, resume on a clean end, re-list on 410."""

    def __init__(self, k2d: K2D, idx: int, resource: str, ns: str | None, selector: str | None,
                 watch_list: bool, rec: Record, stop: threading.Event, seed: int, timeouts: tuple):
        super().__init__(daemon=True, name=f"watch-{idx}")
        self.k2d, self.idx, self.resource, self.ns, self.selector = k2d, idx, resource, ns, selector
        self.watch_list, self.rec, self.stop = watch_list, rec, stop
        self.rnd = random.Random(seed * 1000 + 500 + idx)
        self.timeouts = timeouts
        self.events: list[Seen] = []
        self.start_rv = None  # the first resourceVersion the watch covers from
        self.gaps: list[tuple[int, int]] = []  # (last seen, re-listed at): not covered
        self.last = 0
        self.ends = Counter()  # how each watch request ended
        self.relists = 0
        self.ready = threading.Event()
        self.conn = None
        self.api = Api(k2d)

    def describe(self) -> str:
        return (f"watch {self.idx} {self.resource} ns={self.ns or '*'} "
                f"selector={self.selector or '-'}{' watch-list' if self.watch_list else ''}")

    def list_rv(self) -> int:
        q = {"labelSelector": self.selector} if self.selector else {}
        code, out = self.api.request("GET", path(self.resource, self.ns, query=q))
        if code != 200:
            raise RuntimeError(f"{self.describe()}: list answered {code}")
        return int(out["metadata"]["resourceVersion"])

    def query(self, initial: bool) -> dict:
        q = {"watch": "true", "allowWatchBookmarks": "true",
             "timeoutSeconds": str(self.rnd.randint(*self.timeouts))}
        if self.selector:
            q["labelSelector"] = self.selector
        if initial:
            q.update(sendInitialEvents="true", resourceVersionMatch="NotOlderThan")
        else:
            q["resourceVersion"] = str(self.last)
        return q

    def run(self):
        try:
            self.loop()
        except Exception as e:  # noqa: BLE001  (reported, not raised in a thread)
            self.rec.fail(f"{self.describe()}: {type(e).__name__}: {e}")
        finally:
            self.api.close()
            self.ready.set()

    def loop(self):
        initial = self.watch_list
        if not initial:
            self.last = self.start_rv = self.list_rv()
        while not self.stop.is_set():
            status = self.one_watch(initial)
            initial = False
            if status == "gone":
                self.relists += 1
                before = self.last
                self.last = self.list_rv()
                self.gaps.append((before, self.last))

    def one_watch(self, initial: bool) -> str:
        """One watch request; returns how it ended: clean, gone or stopped."""
        p = path(self.resource, self.ns, query=self.query(initial))
        self.conn = self.k2d.connection(timeout=None)
        try:
            self.conn.request("GET", p, headers=self.api.headers)
            resp = self.conn.getresponse()
            if resp.status != 200:
                raise RuntimeError(f"{p}: {resp.status} {resp.read()[:300]!r}")
            if not initial:
                self.ready.set()
            in_initial = initial
            while True:
                try:
                    line = resp.readline()
                except (OSError, http.client.HTTPException, ValueError):
                    if self.stop.is_set():
                        return "stopped"
                    raise
                if not line:
                    self.ends["clean"] += 1
                    return "clean"
                ev = json.loads(line)
                typ, obj = ev["type"], ev["object"]
                if typ == "ERROR":
                    if obj.get("code") == 410:
                        self.ends["410"] += 1
                        return "gone"
                    raise RuntimeError(f"ERROR event {json.dumps(obj)[:300]}")
                rv = int(obj["metadata"]["resourceVersion"])
                if typ == "BOOKMARK":
                    ann = obj["metadata"].get("annotations") or {}
                    if in_initial and ann.get("k8s.io/initial-events-end") == "true":
                        in_initial = False
                        self.last = self.start_rv = rv
                        self.ready.set()
                    elif rv < self.last:
                        self.rec.fail(f"{self.describe()}: BOOKMARK {rv} after {self.last}")
                    else:
                        self.last = rv
                    continue
                if in_initial:
                    continue  # the state, as ADDED events in no revision order
                if rv <= self.last:
                    self.rec.fail(f"{self.describe()}: {typ} {obj['metadata']['name']} at {rv} "
                                  f"after {self.last} (out of order or duplicate)")
                self.last = max(self.last, rv)
                self.events.append(Seen(typ, obj["metadata"].get("namespace", ""),
                                        obj["metadata"]["name"], rv, time.monotonic()))
        finally:
            self.conn.close()

    def selects(self, w: Write) -> bool:
        if w.resource != self.resource or (self.ns and w.ns != self.ns):
            return False
        if not self.selector:
            return True
        key, _, value = self.selector.partition("=")
        return labels_of(w.name).get(key) == value

    def close(self):
        try:
            self.conn.sock.shutdown(socket.SHUT_RDWR)
        except (OSError, AttributeError):
            pass


def watcher_specs(n: int) -> list[tuple[str, str | None, str | None, bool]]:
    """(resource, namespace or None, selector, watch-list) for `n` watchers: mostly ConfigMaps
    and Secrets, one namespace or all, some label-selected, some watch-list."""
    specs = []
    kinds = ["configmaps"] * 5 + ["secrets"] * 3 + ["deployments", "pods"]
    for i in range(n):
        resource = kinds[i % len(kinds)]
        ns = None if i % 3 == 0 else NAMESPACES[i % len(NAMESPACES)]
        selector = f"{LABEL_KEYS[i % 3]}=1" if (i % 4 == 1 and resource in ("configmaps", "secrets")) else None
        specs.append((resource, ns, selector, i % 2 == 1))
    return specs


# --------------------------------------------------------------------------- stuck watchers


class Stuck:
    """A watch over a raw TLS socket with a tiny receive buffer that never reads (point 7)."""

    def __init__(self, k2d: K2D, ns: str):
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        raw.connect(("127.0.0.1", k2d.port))
        ctx = k2d.ssl_context()
        ctx.set_alpn_protocols(["http/1.1"])
        self.sock = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
        req = (f"GET /api/v1/namespaces/{ns}/configmaps?watch=true HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               f"Authorization: Bearer {k2d.token()}\r\nAccept: application/json\r\n\r\n")
        self.sock.sendall(req.encode())
        self.opened = time.monotonic()

    def closed_by_server(self, wait: float) -> bool:
        """Reads what is left (without closing); True once the server has closed the
        connection, False if nothing came for `wait` seconds."""
        self.sock.settimeout(wait)
        try:
            while self.sock.recv(1 << 16):
                pass
            return True
        except (ConnectionResetError, ssl.SSLError, BrokenPipeError):
            return True
        except (socket.timeout, TimeoutError):
            return False

    def close(self):
        self.sock.close()


def stuck_scenario(k2d: K2D, n_stuck: int, n_writes: int, rec: Record, seed: int) -> list[str]:
    """Point 7: `n_stuck` watches that never read, one that reads, and `n_writes` writes of
    10 KB ConfigMaps (more than the kernel's socket buffers and k2d's queue bound hold).
    The reader must get every event, k2d's RSS must stay within a bound, and k2d must close
    the stuck connections by itself. Returns the summary rows."""
    ns = "load-stuck"
    api = Api(k2d)
    api.request("POST", "/api/v1/namespaces",
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    stop = threading.Event()
    reader = Watcher(k2d, 1000, "configmaps", ns, None, False, rec, stop, seed, (600, 600))
    reader.start()
    reader.ready.wait(30)
    time.sleep(0.5)
    rss0, fds0 = rss_kb(k2d.pid), open_fds(k2d.pid)
    stuck = [Stuck(k2d, ns) for _ in range(n_stuck)]
    time.sleep(0.5)
    if open_fds(k2d.pid) != fds0 + n_stuck:
        rec.fail(f"stuck watchers: k2d has {open_fds(k2d.pid)} fds, expected {fds0 + n_stuck}")
    payload = "x" * 10240
    writes: list[Write] = []
    lock = threading.Lock()

    def writer(t: int):
        w = Api(k2d)
        for i in range(t, n_writes, 4):
            name = f"s{i}"
            code, out = w.request("POST", path("configmaps", ns),
                                  {"metadata": {"name": name}, "data": {"v": payload}})
            if code != 201:
                rec.fail(f"stuck scenario: create {name}: {code}")
                continue
            with lock:
                writes.append(Write("configmaps", ns, name, "ADDED", rv_of(out), time.monotonic()))
        w.close()

    threads = [threading.Thread(target=writer, args=(t,), daemon=True) for t in range(4)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    rss = []
    while any(t.is_alive() for t in threads):
        rss.append(rss_kb(k2d.pid))
        time.sleep(0.5)
    t_writes = time.monotonic()
    last = max((w.rv for w in writes), default=0)
    while reader.last < last and reader.is_alive() and time.monotonic() < t_writes + 30:
        time.sleep(0.05)
    # k2d closes each stuck connection: its descriptor count falls back to where it was.
    closed_after = None
    while time.monotonic() < t_writes + 60:
        rss.append(rss_kb(k2d.pid))
        if open_fds(k2d.pid) <= fds0:
            closed_after = time.monotonic() - t_writes
            break
        time.sleep(0.5)
    ended = sum(s.closed_by_server(5) for s in stuck)
    for s in stuck:
        s.close()
    stop.set()
    reader.close()
    reader.join(10)
    api.close()
    seen = {e.rv: e for e in reader.events}
    lost = [w for w in writes if w.rv not in seen]
    lags = [seen[w.rv].at - w.at for w in writes if w.rv in seen]
    growth = max(rss, default=rss0) - rss0
    if lost:
        rec.fail(f"stuck scenario: the reading watcher lost {len(lost)} of {len(writes)} events")
    if closed_after is None or ended < n_stuck:
        rec.fail(f"stuck scenario: k2d did not close the stuck watches ({ended} of {n_stuck} ended)")
    # The bound: each stuck watch may pin its queue (4 MiB of estimated object memory) and its
    # connection's buffers; 64 MB over the start is far above that and far below "unbounded"
    # (the writes total about 10 MB of JSON per watcher, several times that in memory).
    if growth > 64 * 1024:
        rec.fail(f"stuck scenario: RSS grew by {growth} KB")
    return [
        f"| stuck scenario: writes of 10 KB ConfigMaps | {len(writes)} in {t_writes - t0:.1f} s |",
        f"| stuck scenario: reading watcher got | {len(writes) - len(lost)} of {len(writes)}, "
        f"lag p50 {pct(lags, .5) * 1000:.0f} ms, max {max(lags, default=0) * 1000:.0f} ms |",
        f"| stuck scenario: stuck watches closed by k2d | {ended} of {n_stuck}, "
        + (f"{closed_after:.1f} s after the last write |" if closed_after is not None else "not within 60 s |"),
        f"| stuck scenario: RSS before / max / growth | {rss0} / {max(rss, default=0)} / {growth} KB |",
    ]


# --------------------------------------------------------------------------- the run


def setup(api: Api):
    for ns in NAMESPACES:
        code, out = api.request("POST", "/api/v1/namespaces",
                                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        if code not in (201, 409):
            raise RuntimeError(f"namespace {ns}: {code} {out}")


def sentinels(api: Api, rec: Record) -> dict[tuple[str, str], int]:
    """Writes an object every watch selects in each namespace, per kind; returns their rvs."""
    out = {}
    for resource in ("configmaps", "secrets", "deployments"):
        for ns in NAMESPACES:
            code, obj = api.request("POST", path(resource, ns), body(resource, ns, "sentinel", "end", 0))
            if code != 201:
                rec.fail(f"sentinel {resource} {ns}: {code} {obj}")
                continue
            out[(resource, ns)] = rv_of(obj)
    return out


def check_watch(w: Watcher, writes: list[Write], ends: dict, rec: Record, lags: list[float]) -> int:
    """Compares one watch's events with the write log; returns the writes it was checked on."""
    if w.resource == "pods":
        return 0  # written by the controllers only: checked for order, not against a log
    scope = [rv for (res, ns), rv in ends.items() if res == w.resource and (not w.ns or ns == w.ns)]
    if not scope or w.start_rv is None:
        rec.fail(f"{w.describe()}: never started")
        return 0
    end = max(scope)
    if w.last < end:
        rec.fail(f"{w.describe()}: stopped at {w.last}, sentinel at {end}")
        return 0
    seen = {e.rv: e for e in w.events}
    checked = 0
    for wr in writes:
        if not (w.start_rv < wr.rv <= end) or not w.selects(wr):
            continue
        if any(a < wr.rv <= b for a, b in w.gaps):
            continue
        checked += 1
        e = seen.get(wr.rv)
        if e is None:
            rec.fail(f"{w.describe()}: lost {wr.kind} {wr.ns}/{wr.name} at {wr.rv}")
        elif (e.kind, e.ns, e.name) != (wr.kind, wr.ns, wr.name):
            around = [(x.kind, x.rv) for x in w.events if x.ns == wr.ns and x.name == wr.name
                      and abs(x.rv - wr.rv) < 2000]
            rec.fail(f"{w.describe()}: at {wr.rv} saw {e.kind} {e.ns}/{e.name}, wrote {wr.kind} "
                     f"{wr.ns}/{wr.name}; this watch's events of it nearby: {around}; "
                     f"its gaps {w.gaps}, start {w.start_rv}")
        else:
            lags.append(e.at - wr.at)
    return checked


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--k2d", type=Path, required=True)
    p.add_argument("--duration", type=float, default=60)
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--watches", type=int, default=50)
    p.add_argument("--stuck", type=int, default=2)
    p.add_argument("--stuck-writes", type=int, default=1200)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--no-deployments", action="store_true",
                   help="only ConfigMaps and Secrets (no controller at work), to tell where memory goes")
    p.add_argument("--out", type=Path, help="also write the summary (markdown) here")
    args = p.parse_args()

    work = Path(tempfile.mkdtemp(prefix="k2d-load-"))
    k2d = K2D(args.k2d.resolve(), work, free_port(), extra_args=["--engine", "none"])
    k2d.start()
    rec = Record()
    stop_clients, stop_watches = threading.Event(), threading.Event()
    # Watch timeouts: several resumes per watcher in any run (client-go picks 5-10 minutes).
    timeouts = (10, 30) if args.duration <= 120 else (30, 120)
    try:
        admin = Api(k2d)
        setup(admin)
        time.sleep(1)
        fds_start = open_fds(k2d.pid)
        rss_start = rss_kb(k2d.pid)
        watchers = [Watcher(k2d, i, *spec, rec, stop_watches, args.seed, timeouts)
                    for i, spec in enumerate(watcher_specs(args.watches))]
        for w in watchers:
            w.start()
        for w in watchers:
            w.ready.wait(30)
        clients = [Client(k2d, i, rec, stop_clients, args.seed, not args.no_deployments)
                   for i in range(args.clients)]
        t0 = time.monotonic()
        for c in clients:
            c.start()
        curve = []  # (seconds, RSS KB, fds)
        while time.monotonic() - t0 < args.duration:
            if k2d.proc.poll() is not None:
                rec.fail(f"k2d exited with {k2d.proc.returncode}")
                break
            curve.append((time.monotonic() - t0, rss_kb(k2d.pid), open_fds(k2d.pid)))
            time.sleep(2)
        stop_clients.set()
        for c in clients:
            c.join(60)
        load_secs = time.monotonic() - t0
        ends = sentinels(admin, rec)
        # Every watch must reach its sentinel.
        deadline = time.monotonic() + 30
        for w in watchers:
            scope = [rv for (res, ns), rv in ends.items()
                     if res == w.resource and (not w.ns or ns == w.ns)]
            while scope and w.last < max(scope) and w.is_alive() and time.monotonic() < deadline:
                time.sleep(0.05)
        stop_watches.set()
        for w in watchers:
            w.close()
        for w in watchers:
            w.join(10)
        time.sleep(2)
        fds_after_load = open_fds(k2d.pid)
        stuck_rows = stuck_scenario(k2d, args.stuck, args.stuck_writes, rec, args.seed) if args.stuck else []
        admin.close()
        time.sleep(2)
        alive = k2d.proc.poll() is None
        if not alive:
            rec.fail(f"k2d exited with {k2d.proc.returncode}")
        fds_end = open_fds(k2d.pid) if alive else -1
        rss_end = rss_kb(k2d.pid) if alive else -1

        # A patch that changes nothing (a scale to the current replicas) is answered with the
        # object as it is, at the revision of whichever write made it so: keep that write.
        by_rv: dict[int, Write] = {}
        for w in rec.writes:
            if w.rv not in by_rv or by_rv[w.rv].kind == "MODIFIED":
                by_rv[w.rv] = w
        writes = sorted(by_rv.values(), key=lambda w: w.rv)
        lags: list[float] = []
        checked = sum(check_watch(w, writes, ends, rec, lags) for w in watchers)
        if fds_end - fds_start > 5:
            rec.fail(f"open fds grew from {fds_start} to {fds_end}")
    finally:
        k2d.stop()

    ops = sum(c.ops for c in clients)
    by_code = Counter()
    for (verb, code), n in rec.answers.items():
        by_code[code] += n
    warm = [r for t, r, _ in curve if t >= min(10, args.duration / 6)]
    lines = [f"## Load: {args.clients} clients, {args.watches} watches, "
             f"{load_secs:.0f} s (k2d {args.k2d.name}, --engine none)", "",
             "| figure | value |", "|---|---|",
             f"| client requests | {ops} ({ops / load_secs:.0f}/s) |",
             f"| acknowledged writes | {len(rec.writes)} ({len(rec.writes) / load_secs:.0f}/s) |",
             "| answers by code | " + ", ".join(f"{c}: {n}" for c, n in sorted(by_code.items())) + " |",
             "| answers by verb | " + ", ".join(f"{v} {c}: {n}" for (v, c), n in sorted(rec.answers.items())) + " |",
             f"| keep-alive reconnects | {sum(c.api.reconnects for c in clients)} |",
             f"| watch events received | {sum(len(w.events) for w in watchers)} |",
             f"| (watch, write) pairs checked | {checked} |",
             f"| watch requests ended cleanly / 410 / re-lists | {sum(w.ends['clean'] for w in watchers)} / "
             f"{sum(w.ends['410'] for w in watchers)} / {sum(w.relists for w in watchers)} |",
             f"| write answer → event at watchers | p50 {pct(lags, .5) * 1000:.0f} ms, p99 {pct(lags, .99) * 1000:.0f} ms, "
             f"max {max(lags, default=0) * 1000:.0f} ms |",
             f"| RSS start / after warm-up (min) / max / end of load / after | {rss_start} / {min(warm, default=0)} / "
             f"{max((r for _, r, _ in curve), default=0)} / {curve[-1][1] if curve else 0} / {rss_end} KB |",
             f"| open fds start / max / after the load / end | {fds_start} / {max((f for _, _, f in curve), default=0)} / "
             f"{fds_after_load} / {fds_end} |",
             *stuck_rows,
             f"| failures | {len(rec.failures)} |",
             "", "RSS curve (KB, every ~10 s): " + " ".join(
                 f"{t:.0f}s:{r}" for i, (t, r, _) in enumerate(curve) if i % 5 == 0)]
    text = "\n".join(lines) + "\n"
    print(text)
    for f in rec.failures[:50]:
        print("FAIL:", f)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "".join(f"\nFAIL: {f}" for f in rec.failures[:50]))
    return 1 if rec.failures else 0


if __name__ == "__main__":
    sys.exit(main())
