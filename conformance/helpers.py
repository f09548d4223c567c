"""Shared helpers of the API-semantics scenarios (issue 3): raw JSON calls to k2d,
precise Status checks, per-test namespaces, the six stored kinds, background
client processes (kubectl get -w, kubectl wait).

Fixtures defined here are imported by the test modules that use them
(`from helpers import namespace`).
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import signal
import subprocess
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

import pytest

from conftest import CmdResult, HttpResponse, K2DServer, Kubectl

JSON = "application/json"
YAML = "application/yaml"
PROTOBUF = "application/vnd.kubernetes.protobuf"
MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSONPATCH = "application/json-patch+json"
APPLY = "application/apply-patch+yaml"


# The ConfigMap with the cluster's CA that every namespace holds.
ROOT_CA = "kube-root-ca.crt"


def uniq(prefix: str) -> str:
    """A DNS-1123 label that no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


# --------------------------------------------------------------------- raw API


class Api:
    """JSON calls to one k2d (the admin token, TLS verified with k2d's CA)."""

    def __init__(self, server: K2DServer):
        self.server = server

    def call(self, method: str, path: str, body=None, *, ctype: str = JSON, query: dict | None = None,
             headers: dict | None = None, accept: str = JSON, timeout: float = 30) -> HttpResponse:
        if query:
            path = path + ("&" if "?" in path else "?") + urlencode(query, doseq=True)
        hdrs = {"Accept": accept}
        if body is not None:
            if not isinstance(body, (bytes, str)):
                body = json.dumps(body)
            if isinstance(body, str):
                body = body.encode()
            hdrs["Content-Type"] = ctype
        hdrs.update(headers or {})
        hdrs["Authorization"] = f"Bearer {self.server.token}"
        conn = http.client.HTTPSConnection("127.0.0.1", self.server.port, context=self.server.ssl_context(),
                                           timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=hdrs)
            r = conn.getresponse()
            data = r.read()
            resp = HttpResponse(r.status, {k.lower(): v for k, v in r.getheaders()}, data,
                                f"{method} {self.server.url}{path}")
            # every header line, repeated ones (Warning) included
            resp.header_list = [(k.lower(), v) for k, v in r.getheaders()]
            return resp
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body, **kw):
        return self.call("POST", path, body, **kw)

    def put(self, path, body, **kw):
        return self.call("PUT", path, body, **kw)

    def patch(self, path, body, ctype=MERGE, **kw):
        return self.call("PATCH", path, body, ctype=ctype, **kw)

    def delete(self, path, body=None, **kw):
        return self.call("DELETE", path, body, **kw)

    # convenience ------------------------------------------------------
    def must(self, resp: HttpResponse, *codes: int) -> dict:
        codes = codes or (200, 201)
        assert resp.status in codes, f"want HTTP {codes}\n{resp.describe()}"
        return resp.json()

    def get_obj(self, path) -> dict | None:
        r = self.get(path)
        if r.status == 404:
            return None
        return self.must(r, 200)

    def create_namespace(self, name: str, labels: dict | None = None) -> dict:
        body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
        if labels:
            body["metadata"]["labels"] = labels
        return self.must(self.post("/api/v1/namespaces", body), 201)


def cm_path(ns: str, name: str = "") -> str:
    base = f"/api/v1/namespaces/{ns}/configmaps"
    return f"{base}/{name}" if name else base


def configmap(name: str, data: dict | None = None, **meta) -> dict:
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, **meta}}
    if data is not None:
        obj["data"] = data
    return obj


def b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


# --------------------------------------------------------------------- Status checks


def assert_status(resp: HttpResponse, code: int, reason: str | None, message: str | re.Pattern | None,
                  details: dict | None = None, what: str = ""):
    """The response is a `Status` as a real kube-apiserver sends it: HTTP code, body
    code/status/reason/message, and (when given) details compared key by key
    (`causes` compared as a list of dicts). reason None = the field must be absent
    (as for errors the server has no reason for)."""
    prefix = f"{what}: " if what else ""
    assert resp.status == code, f"{prefix}HTTP {resp.status}, want {code}\n{resp.describe()}"
    ctype = resp.headers.get("content-type", "")
    assert ctype.startswith("application/json"), f"{prefix}content-type {ctype!r}\n{resp.describe()}"
    st = resp.json()
    problems = []
    for k, want in (("kind", "Status"), ("apiVersion", "v1"), ("status", "Failure"), ("code", code)):
        if st.get(k) != want:
            problems.append(f"{k}={st.get(k)!r}, want {want!r}")
    if reason is None:
        if st.get("reason"):
            problems.append(f"reason={st.get('reason')!r}, want none")
    elif st.get("reason") != reason:
        problems.append(f"reason={st.get('reason')!r}, want {reason!r}")
    msg = st.get("message", "")
    if isinstance(message, re.Pattern):
        if not message.fullmatch(msg):
            problems.append(f"message={msg!r}, want /{message.pattern}/")
    elif message is not None and msg != message:
        problems.append(f"message={msg!r},\n   want {message!r}")
    if details == "absent":
        if "details" in st:
            problems.append(f"details={st['details']!r}, want none")
    elif details is not None:
        got = st.get("details") or {}
        for k, v in details.items():
            if got.get(k) != v:
                problems.append(f"details.{k}={got.get(k)!r}, want {v!r}")
    assert not problems, prefix + "; ".join(problems) + "\n" + resp.describe()
    return st


def warnings_of(resp: HttpResponse) -> list[str]:
    """The values of every `Warning` header of a response (from Api.call)."""
    return [v for k, v in getattr(resp, "header_list", []) if k == "warning"]


def invalid_details(kind: str, name: str, causes: list[dict], group: str = "") -> dict:
    d = {"kind": kind, "causes": causes}
    if name:
        d["name"] = name
    if group:
        d["group"] = group
    return d


# --------------------------------------------------------------------- namespaces


@pytest.fixture
def namespace(k2d):
    """A fresh namespace for one test (created with a JSON POST so that the test
    does not depend on protobuf); deleted afterwards."""
    api = Api(k2d)
    name = uniq("t")
    api.create_namespace(name)
    # As in a cluster, every namespace gets its root CA ConfigMap and default ServiceAccount
    # just after it is made; wait for them so that a test's watches start after them.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not (
            api.get_obj(f"/api/v1/namespaces/{name}/configmaps/{ROOT_CA}")
            and api.get_obj(f"/api/v1/namespaces/{name}/serviceaccounts/default")):
        time.sleep(0.05)
    yield name
    try:
        api.delete(f"/api/v1/namespaces/{name}")
    except OSError:
        pass


@pytest.fixture
def api(k2d) -> Api:
    return Api(k2d)


# --------------------------------------------------------------------- kubectl


def kubectl_env(kubectl: Kubectl, **extra) -> dict:
    env = kubectl.env()
    env.update(extra)
    return env


def kubectl_cmd(kubectl: Kubectl, *args) -> list[str]:
    return [str(kubectl.path), "--kubeconfig", str(kubectl.server.kubeconfig),
            "--cache-dir", str(kubectl.fresh_cache()), *map(str, args)]


def kubectl_minor(kubectl: Kubectl) -> int | None:
    """The client minor version of a pinned kubectl (None for the machine's own
    `kubectl`, which may be a dispatcher that runs some other version)."""
    if kubectl.name == "path":
        return None
    return int(kubectl.name.split(".")[1])


def deleted_line(kubectl: Kubectl, kind_res: str, name: str, ns: str) -> re.Pattern:
    """What `kubectl delete` prints: `configmap "x" deleted` (<= 1.34) or
    `configmap "x" deleted from <ns> namespace` (>= 1.35)."""
    minor = kubectl_minor(kubectl)
    base = re.escape(f'{kind_res} "{name}" deleted')
    suffix = re.escape(f" from {ns} namespace")
    if minor is None:
        return re.compile(f"{base}(?:{suffix})?")
    return re.compile(base + (suffix if minor >= 35 else ""))


def stdout_lines(r: CmdResult) -> list[str]:
    return [ln.rstrip() for ln in r.stdout.splitlines() if ln.strip()]


class Background:
    """A client command running in the background (kubectl get -w, kubectl wait),
    its output going to a file; stop() ends it (SIGTERM, by PID) and returns
    (exit code, output)."""

    def __init__(self, args, env, log: Path):
        self.args = [str(a) for a in args]
        self.log = log
        self._f = open(log, "wb")
        self.proc = subprocess.Popen(self.args, stdout=self._f, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env)

    def output(self) -> str:
        self._f.flush()
        return self.log.read_text(errors="replace")

    def wait_for(self, pattern: str, timeout: float = 15) -> bool:
        rx = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if rx.search(self.output()):
                return True
            if self.proc.poll() is not None:
                return bool(rx.search(self.output()))
            time.sleep(0.1)
        return False

    def running(self) -> bool:
        return self.proc.poll() is None

    def wait(self, timeout: float) -> int | None:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> tuple[int, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._f.close()
        return self.proc.returncode, self.log.read_text(errors="replace")

    def describe(self) -> str:
        return f"$ {' '.join(self.args)}\n(exit code {self.proc.poll()})\n--- output ---\n{self.output()}"


# --------------------------------------------------------------------- the six stored kinds


class Kind:
    """One of the kinds scenario 1 runs on: how kubectl names it, its URL, a
    manifest and a changed manifest, and the Table columns a real server prints."""

    def __init__(self, key, singular, kubectl_type, group, version, plural, columns, wide_columns):
        self.key = key
        self.singular = singular          # kubectl's resource word in output: configmap, role.rbac.authorization.k8s.io
        self.kubectl_type = kubectl_type  # what to type: configmap, role, ...
        self.group = group
        self.version = version
        self.plural = plural
        self.columns = columns
        self.wide_columns = wide_columns

    @property
    def api_version(self):
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, ns, name=""):
        base = (f"/apis/{self.group}/{self.version}" if self.group else "/api/v1") + f"/namespaces/{ns}/{self.plural}"
        return f"{base}/{name}" if name else base

    def ref(self, name):
        return f"{self.singular}/{name}"

    def __repr__(self):
        return self.key


KINDS = [
    Kind("configmap", "configmap", "configmap", "", "v1", "configmaps",
         ["NAME", "DATA", "AGE"], ["NAME", "DATA", "AGE"]),
    Kind("secret", "secret", "secret", "", "v1", "secrets",
         ["NAME", "TYPE", "DATA", "AGE"], ["NAME", "TYPE", "DATA", "AGE"]),
    Kind("serviceaccount", "serviceaccount", "serviceaccount", "", "v1", "serviceaccounts",
         ["NAME", "SECRETS", "AGE"], ["NAME", "SECRETS", "AGE"]),
    Kind("role", "role.rbac.authorization.k8s.io", "role", "rbac.authorization.k8s.io", "v1", "roles",
         ["NAME", "CREATED AT"], ["NAME", "CREATED AT"]),
    Kind("rolebinding", "rolebinding.rbac.authorization.k8s.io", "rolebinding", "rbac.authorization.k8s.io", "v1",
         "rolebindings", ["NAME", "ROLE", "AGE"], ["NAME", "ROLE", "AGE", "USERS", "GROUPS", "SERVICEACCOUNTS"]),
    Kind("ingress", "ingress.networking.k8s.io", "ingress", "networking.k8s.io", "v1", "ingresses",
         ["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"], ["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"]),
]
KIND_BY_KEY = {k.key: k for k in KINDS}


def manifest(kind: Kind, name: str, variant: int = 1, ns: str | None = None) -> dict:
    """A manifest of `kind`; variant 2 changes something in every kind (the
    content a second `apply` must show)."""
    meta = {"name": name, "labels": {"app.kubernetes.io/name": "stored", "variant": f"v{variant}"}}
    if ns:
        meta["namespace"] = ns
    head = {"apiVersion": kind.api_version, "kind": kind_name(kind), "metadata": meta}
    if kind.key == "configmap":
        return {**head, "data": {"greeting": "hello" if variant == 1 else "bonjour", "color": "blue"}}
    if kind.key == "secret":
        return {**head, "type": "Opaque",
                "data": {"user": b64("admin"), "password": b64("s3cret" if variant == 1 else "n3w-s3cret")}}
    if kind.key == "serviceaccount":
        return {**head, "automountServiceAccountToken": variant == 1}
    if kind.key == "role":
        verbs = ["get", "list"] if variant == 1 else ["get", "list", "watch"]
        return {**head, "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": verbs}]}
    if kind.key == "rolebinding":
        return {**head,
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
                "subjects": [{"kind": "ServiceAccount", "name": "robot" if variant == 1 else "robot2",
                              "namespace": "apps"}]}
    if kind.key == "ingress":
        host = "shop.example.com" if variant == 1 else "store.example.com"
        return {**head, "spec": {"rules": [{"host": host, "http": {"paths": [
            {"path": "/", "pathType": "Prefix",
             "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}}
    raise AssertionError(kind)


def kind_name(kind: Kind) -> str:
    return {"configmap": "ConfigMap", "secret": "Secret", "serviceaccount": "ServiceAccount", "role": "Role",
            "rolebinding": "RoleBinding", "ingress": "Ingress"}[kind.key]


def variant_check(kind: Kind, obj: dict, variant: int) -> list[str]:
    """What differs between a live object and manifest(kind, variant) in the
    fields the manifest sets (empty list = the object has that content)."""
    want = manifest(kind, obj["metadata"]["name"], variant, obj["metadata"].get("namespace"))
    problems = []
    for key, value in want.items():
        if key in ("apiVersion", "kind"):
            if obj.get(key) != value:
                problems.append(f"{key}={obj.get(key)!r}, want {value!r}")
        elif key == "metadata":
            labels = obj["metadata"].get("labels") or {}
            for lk, lv in value["labels"].items():
                if labels.get(lk) != lv:
                    problems.append(f"label {lk}={labels.get(lk)!r}, want {lv!r}")
        elif obj.get(key) != value:
            problems.append(f"{key}={json.dumps(obj.get(key))}, want {json.dumps(value)}")
    return problems


def to_yaml_docs(objs: list[dict]) -> str:
    import yaml

    return "---\n".join(yaml.safe_dump(o, sort_keys=False) for o in objs)


def last_applied(obj: dict) -> str:
    """The `kubectl.kubernetes.io/last-applied-configuration` kubectl writes for a
    manifest: the object as applied (namespace set, `annotations: {}` left
    behind), as Go's json.Marshal prints it (sorted keys, compact), then a newline."""
    o = json.loads(json.dumps(obj))
    o["metadata"].setdefault("annotations", {})
    return json.dumps(o, sort_keys=True, separators=(",", ":")) + "\n"


def wait_for(what: str, fn, timeout: float = 60, interval: float = 0.3):
    """Polls fn() until it returns a truthy value and returns it; fails the test after
    `timeout` seconds, saying what it waited for and what it saw last."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    pytest.fail(f"{what} within {timeout}s; last seen: {last!r}")


def wait_until(fn, timeout: float = 15, interval: float = 0.1):
    """Polls fn() until it returns a truthy value; returns it (or the last falsy one)."""
    deadline = time.monotonic() + timeout
    v = fn()
    while not v and time.monotonic() < deadline:
        time.sleep(interval)
        v = fn()
    return v


def quick_stop_chart(chart: Path) -> None:
    """Sets `terminationGracePeriodSeconds: 1` in the pod template of a `helm create` chart.
    The test httpd (busybox httpd as PID 1) ignores SIGTERM, so every replaced pod would
    otherwise take the default 30 s grace period to go; the scenarios are not about that."""
    tpl = Path(chart) / "templates" / "deployment.yaml"
    text = tpl.read_text()
    new = text.replace("      containers:\n", "      terminationGracePeriodSeconds: 1\n      containers:\n", 1)
    assert new != text, f"no pod template `containers:` line in {tpl}"
    tpl.write_text(new)
