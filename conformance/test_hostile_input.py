"""Issue 8, point 8: hostile input. A corpus of bad requests, each with the answer a
real kube-apiserver gives (code, reason, message) or a closed connection, followed by
a check that k2d still serves (GET /readyz and a real write) and that the request
changed nothing. test_bad_input.py holds the everyday mistakes (malformed bodies,
wrong kinds, unknown fields, 413); this file holds what an attacker or a broken
client sends: nesting and alias bombs, protobuf with lying lengths, invalid UTF-8,
absurd selectors, path traversal, out-of-range numbers, huge and countless headers,
slow clients, and more connections than file descriptors.

Where k2d's answer differs from kube-apiserver's, the case says why:
- JSON nesting: Go's decoder allows 10000 levels, serde_json 128; either way 400.
- invalid UTF-8 in a JSON string: Go replaces it with U+FFFD and goes on; k2d
  refuses the body (400), since it cannot store what the client meant.
- YAML aliases: go-yaml refuses "excessive aliasing" by a ratio; k2d by what the
  document expands to (k2d.api.yaml::MAX_EXPANDED), with go-yaml's words.
The limits themselves are in src/server/limits.rs (headers, timeouts, connections).
"""

from __future__ import annotations

import json
import re
import socket
import ssl
import threading
import time
from pathlib import Path

import pytest

from conftest import LOG_DIR, K2DServer, k2d_binary, run
from helpers import (APPLY, JSON, JSONPATCH, MERGE, PROTOBUF, STRATEGIC, YAML, Api, api, assert_status,  # noqa: F401
                     cm_path, configmap, namespace, uniq)

LIMIT = 3 * 1024 * 1024
# src/server/limits.rs
MAX_HEADER_BYTES = 64 * 1024
HEADER_READ_TIMEOUT = 32
HANDSHAKE_TIMEOUT = 10


def varint(n: int) -> bytes:
    out = b""
    while True:
        b, n = n & 0x7F, n >> 7
        if not n:
            return out + bytes([b])
        out += bytes([b | 0x80])


def pb_field(tag: int, data: bytes | str) -> bytes:
    data = data.encode() if isinstance(data, str) else data
    return varint(tag << 3 | 2) + varint(len(data)) + data


def pb_envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    return b"k8s\x00" + pb_field(1, pb_field(1, api_version) + pb_field(2, kind)) + pb_field(2, raw)


def summary(body: bytes) -> str:
    """apimachinery's summarizeData: the first 30 bytes, as text if they start with "{"."""
    if body[:1] == b"{":
        return body[:30].decode() + (" ..." if len(body) > 30 else "")
    return body[:30].hex() + (" ..." if len(body) > 30 else "")


def unrecognized(err: str, body: bytes) -> str:
    return f"the object provided is unrecognized (must be of type ConfigMap): {err} ({summary(body)})"


def cm_yaml(name: str, rest: str) -> bytes:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n{rest}".encode()


LAUGHS = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n" for i in range(1, 10))
# one anchored list of 10,000 strings, aliased 100,000 times: a billion values, no nesting
WIDE_ALIASES = "x: &a [" + "xxxxxxxxxx," * 10_000 + "]\ny: [" + "*a," * 100_000 + "]\n"
DEEP_JSON = b"[" * 100_000
DEEP_JSON_OBJECT = b'{"a":' * 100_000
DEEP_YAML_BLOCK = "".join("  " * i + "a:\n" for i in range(300)).encode()
PB_HUGE_LENGTH = b"k8s\x00\x0a" + b"\xff" * 8 + b"\x7f"
PB_NEGATIVE_LENGTH = b"k8s\x00\x0a" + b"\xff" * 9 + b"\x01"
PB_CM_META = pb_field(1, pb_field(1, "x-pb"))


def pb_nested_groups(depth: int) -> bytes:
    """An unknown field 15 as `depth` nested groups (wire types 3 and 4): what a decoder
    that skips unknown fields recurses on."""
    return varint(15 << 3 | 3) * depth + varint(15 << 3 | 4) * depth


PB_DEEP = pb_envelope("v1", "ConfigMap", PB_CM_META + pb_nested_groups(200))
BAD_UTF8_JSON = b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x-u8"},"data":{"a":"\xff\xfe"}}'
SURROGATE_JSON = b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x-sur","labels":{"a":"\\udcff"}}}'
LABEL_RE = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?"
LABEL_MSG = ("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
             "and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
             f"'12345', regex used for validation is '{LABEL_RE}')")
DNS_SUBDOMAIN = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                 "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
                 "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")


def pod(name, **mount) -> bytes:
    return json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {
        "containers": [{"name": "c", "image": "k2d-test/busybox:latest",
                        "volumeMounts": [{"name": "v", "mountPath": "/m", **mount}]}],
        "volumes": [{"name": "v", "emptyDir": {}}]}}).encode()


def pod_items(name, path) -> bytes:
    return json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {
        "containers": [{"name": "c", "image": "k2d-test/busybox:latest"}],
        "volumes": [{"name": "v", "configMap": {"name": "base", "items": [{"key": "a", "path": path}]}}]}}).encode()


def deployment(name, replicas) -> bytes:
    return json.dumps({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name}, "spec": {
        "replicas": replicas, "selector": {"matchLabels": {"a": "b"}},
        "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}
    }).encode()


def invalid(kind, name, field, value, detail):
    return f'{kind} "{name}" is invalid: {field}: Invalid value: {value}: {detail}'


PODS = "/api/v1/namespaces/{ns}/pods"
DEPLOYMENTS = "/apis/apps/v1/namespaces/{ns}/deployments"
SERVICES = "/api/v1/namespaces/{ns}/services"

# (id, method, path ("" = configmaps, "base" = the ConfigMap base, or a template with {ns}),
#  body, content type, query, code, reason, message (str or regex))
CASES = [
    # nesting and alias bombs
    ("deep-json-array", "POST", "", DEEP_JSON, JSON, None, 400, "BadRequest",
     unrecognized("couldn't get version/kind; json parse error: recursion limit exceeded at line 1 column 128",
                  DEEP_JSON)),
    ("deep-json-object", "POST", "", DEEP_JSON_OBJECT, JSON, None, 400, "BadRequest",
     re.compile(re.escape("the object provided is unrecognized (must be of type ConfigMap): couldn't get "
                          "version/kind; json parse error: recursion limit exceeded at line 1 column ") + r"\d+ .*")),
    ("deep-yaml-flow", "POST", "", DEEP_JSON, YAML, None, 400, "BadRequest",
     unrecognized("yaml: recursion limit exceeded at line 1 column 129", DEEP_JSON)),
    ("deep-yaml-block", "POST", "", DEEP_YAML_BLOCK, YAML, None, 400, "BadRequest",
     unrecognized("yaml: recursion limit exceeded at line 129 column 257", DEEP_YAML_BLOCK)),
    ("yaml-billion-laughs", "POST", "", cm_yaml("x-lol", LAUGHS), YAML, None, 400, "BadRequest",
     re.compile(r"the object provided is unrecognized \(must be of type ConfigMap\): yaml: "
                r"(repetition limit exceeded|document contains excessive aliasing) \(.*\)")),
    ("yaml-wide-aliases", "POST", "", cm_yaml("x-wide", WIDE_ALIASES), YAML, None, 400, "BadRequest",
     unrecognized("yaml: document contains excessive aliasing", cm_yaml("x-wide", WIDE_ALIASES))),
    ("apply-wide-aliases", "PATCH", "base", cm_yaml("base", WIDE_ALIASES), APPLY, {"fieldManager": "m"}, 400,
     "BadRequest", "error decoding the apply configuration as YAML or JSON: document contains excessive aliasing"),
    ("delete-options-wide-aliases", "DELETE", "base", WIDE_ALIASES.encode(), YAML, None, 400, "BadRequest",
     "DeleteOptions: document contains excessive aliasing"),
    # protobuf that lies
    ("protobuf-huge-length", "POST", "", PB_HUGE_LENGTH, PROTOBUF, None, 400, "BadRequest",
     unrecognized("unexpected EOF", PB_HUGE_LENGTH)),
    ("protobuf-negative-length", "POST", "", PB_NEGATIVE_LENGTH, PROTOBUF, None, 400, "BadRequest",
     unrecognized("proto: negative length found during unmarshaling", PB_NEGATIVE_LENGTH)),
    ("protobuf-wrong-kind", "POST", "", pb_envelope("v1", "Secret", PB_CM_META), PROTOBUF, None, 400, "BadRequest",
     'Secret in version "v1" cannot be handled as a ConfigMap: converting (v1.Secret) to (core.ConfigMap): '
     'unknown conversion'),
    ("protobuf-wrong-group", "POST", "", pb_envelope("apps/v1", "Deployment", PB_CM_META), PROTOBUF, None, 400,
     "BadRequest", re.compile(r'Deployment in version "v1" cannot be handled as a ConfigMap: .*')),
    ("protobuf-deep", "POST", "", PB_DEEP, PROTOBUF, None, 400, "BadRequest",
     re.compile(r".*proto: exceeded maximum recursion depth.*")),
    # invalid UTF-8
    ("json-invalid-utf8", "POST", "", BAD_UTF8_JSON, JSON, None, 400, "BadRequest",
     re.compile(re.escape(unrecognized("couldn't get version/kind; json parse error: invalid unicode code point "
                                       "at line 1 column NN", BAD_UTF8_JSON)).replace("NN", r"\d+"))),
    ("json-lone-surrogate", "POST", "", SURROGATE_JSON, JSON, None, 400, "BadRequest",
     re.compile(re.escape(unrecognized("couldn't get version/kind; json parse error: lone leading surrogate in "
                                       "hex escape at line 1 column NN", SURROGATE_JSON)).replace("NN", r"\d+"))),
    ("label-replacement-char", "POST", "",
     json.dumps(configmap("x-fffd", labels={"a": "\ufffd"}), ensure_ascii=False).encode(), JSON, None, 422,
     "Invalid", invalid("ConfigMap", "x-fffd", "metadata.labels", '"\ufffd"', LABEL_MSG)),
    ("query-invalid-utf8", "GET", "", None, None, "labelSelector=a%3D%FF", 400, "BadRequest",
     f'unable to parse requirement: values[0][a]: Invalid value: "\ufffd": {LABEL_MSG}'),
    # absurd selectors
    ("selector-5000-terms", "GET", "", None, None, "labelSelector=" + ",".join(f"k{i}=v" for i in range(5000)),
     200, None, None),
    ("selector-huge-value", "GET", "", None, None, {"labelSelector": "a=" + "x" * 100}, 400, "BadRequest",
     f'unable to parse requirement: values[0][a]: Invalid value: "{"x" * 100}": must be no more than 63 '
     'characters'),
    ("selector-huge-key", "GET", "", None, None, {"labelSelector": "x" * 300 + "=a"}, 400, "BadRequest",
     re.compile(r'unable to parse requirement: .*Invalid value: "x{300}": name part must be no more than 63 '
                r'characters.*')),
    ("selector-bad-operator", "GET", "", None, None, {"labelSelector": "a~=b"}, 400, "BadRequest",
     re.compile(r"unable to parse requirement: .*Invalid value: \"a~\": name part must consist of .*")),
    ("field-selector-bad-operator", "GET", "", None, None, {"fieldSelector": "metadata.name~b"}, 400, "BadRequest",
     "invalid selector: 'metadata.name~b'; can't understand 'metadata.name~b'"),
    ("field-selector-2000-terms", "GET", "", None, None,
     {"fieldSelector": ",".join("metadata.name!=x" for _ in range(2000))}, 200, None, None),
    # path traversal: names never reach a path, and volume paths must stay inside the volume
    ("name-dotdot", "POST", "", b'{"metadata":{"name":".."}}', JSON, None, 422, "Invalid",
     invalid("ConfigMap", "..", "metadata.name", '".."', DNS_SUBDOMAIN)),
    ("name-slash", "POST", "", b'{"metadata":{"name":"a/b"}}', JSON, None, 422, "Invalid",
     invalid("ConfigMap", "a/b", "metadata.name", '"a/b"', DNS_SUBDOMAIN)),
    ("get-dotdot", "GET", "/api/v1/namespaces/{ns}/configmaps/..", None, None, None, 404, "NotFound",
     'configmaps ".." not found'),
    ("get-encoded-slash", "GET", "/api/v1/namespaces/{ns}/configmaps/a%2Fb", None, None, None, 404, "NotFound",
     'configmaps "a%2Fb" not found'),
    ("put-encoded-slash", "PUT", "/api/v1/namespaces/{ns}/configmaps/a%2Fb", b'{"metadata":{"name":"a/b"}}', JSON,
     None, 400, "BadRequest", "the name of the object (a/b) does not match the name on the URL (a%2Fb)"),
    ("subpath-backsteps", "POST", PODS, pod("x-sp1", subPath="../../etc"), JSON, None, 422, "Invalid",
     invalid("Pod", "x-sp1", "spec.containers[0].volumeMounts[0].subPath", '"../../etc"', "must not contain '..'")),
    ("subpath-absolute", "POST", PODS, pod("x-sp2", subPath="/etc"), JSON, None, 422, "Invalid",
     invalid("Pod", "x-sp2", "spec.containers[0].volumeMounts[0].subPath", '"/etc"', "must be a relative path")),
    ("subpathexpr-backsteps", "POST", PODS, pod("x-sp3", subPathExpr="../$(POD_NAME)"), JSON, None, 422, "Invalid",
     invalid("Pod", "x-sp3", "spec.containers[0].volumeMounts[0].subPathExpr", '"../$(POD_NAME)"',
             "must not contain '..'")),
    ("subpath-and-expr", "POST", PODS, pod("x-sp4", subPath="a", subPathExpr="b"), JSON, None, 422, "Invalid",
     invalid("Pod", "x-sp4", "spec.containers[0].volumeMounts[0].subPathExpr", '"b"',
             "subPathExpr and subPath are mutually exclusive")),
    ("configmap-item-backsteps", "POST", PODS, pod_items("x-sp5", "../../x"), JSON, None, 422, "Invalid",
     invalid("Pod", "x-sp5", "spec.volumes[0].configMap.items[0].path", '"../../x"', "must not contain '..'")),
    ("configmap-item-reserved", "POST", PODS, pod_items("x-sp6", "..data"), JSON, None, 422, "Invalid",
     invalid("Pod", "x-sp6", "spec.volumes[0].configMap.items[0].path", '"..data"', "must not start with '..'")),
    # negative and huge numbers
    ("replicas-negative", "POST", DEPLOYMENTS, deployment("x-n1", -1), JSON, None, 422, "Invalid",
     invalid("Deployment.apps", "x-n1", "spec.replicas", "-1", "must be greater than or equal to 0")),
    ("replicas-2^63", "POST", DEPLOYMENTS, deployment("x-n2", 2**63), JSON, None, 400, "BadRequest",
     'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal number '
     '9223372036854775808 into Go struct field DeploymentSpec.spec.replicas of type int32'),
    ("replicas-fraction", "POST", DEPLOYMENTS, deployment("x-n3", 1.5), JSON, None, 400, "BadRequest",
     'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal number 1.5 into Go '
     'struct field DeploymentSpec.spec.replicas of type int32'),
    ("service-port-70000", "POST", SERVICES,
     json.dumps({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x-n4"},
                 "spec": {"ports": [{"port": 70000}]}}).encode(), JSON, None, 422, "Invalid",
     # targetPort defaults to port before validation, so apiserver reports both
     'Service "x-n4" is invalid: [spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, '
     'inclusive, spec.ports[0].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive]'),
    # query parameters: integers as Go's strconv.ParseInt reads them; a resourceVersion as the
    # storage layer parses it (kube-apiserver answers that one with a 500, an open upstream bug;
    # k2d answers 400 with the same words); ListOptions combinations its validation refuses
    ("limit-not-a-number", "GET", "", None, None, {"limit": "abc"}, 400, "BadRequest",
     'strconv.ParseInt: parsing "abc": invalid syntax'),
    ("watch-resourceversion-abc", "GET", "", None, None, {"watch": "1", "resourceVersion": "abc"}, 400,
     "BadRequest", 'resourceVersion: Invalid value: "abc": strconv.ParseUint: parsing "abc": invalid syntax'),
    ("list-resourceversion-abc", "GET", "", None, None, {"resourceVersion": "abc"}, 400,
     "BadRequest", 'resourceVersion: Invalid value: "abc": strconv.ParseUint: parsing "abc": invalid syntax'),
    ("get-resourceversion-negative", "GET", "base", None, None, {"resourceVersion": "-1"}, 400,
     "BadRequest", 'resourceVersion: Invalid value: "-1": strconv.ParseUint: parsing "-1": invalid syntax'),
    ("watch-timeout-huge", "GET", "", None, None, {"watch": "1", "timeoutSeconds": "99999999999999999999"}, 400,
     "BadRequest", 'strconv.ParseInt: parsing "99999999999999999999": value out of range'),
    ("watch-timeout-abc", "GET", "", None, None, {"watch": "1", "timeoutSeconds": "abc"}, 400,
     "BadRequest", 'strconv.ParseInt: parsing "abc": invalid syntax'),
    ("list-match-without-rv", "GET", "", None, None, {"resourceVersionMatch": "Exact"}, 422, "Invalid",
     'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is '
     'forbidden unless resourceVersion is provided'),
    ("list-match-exact-0", "GET", "", None, None, {"resourceVersion": "0", "resourceVersionMatch": "Exact"}, 422,
     "Invalid", 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch '
     '"exact" is forbidden for resourceVersion "0"'),
    ("list-send-initial-events", "GET", "", None, None, {"sendInitialEvents": "true"}, 422, "Invalid",
     'ListOptions.meta.k8s.io "" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list'),
    ("watch-match-without-send-initial", "GET", "", None, None,
     {"watch": "1", "resourceVersionMatch": "NotOlderThan"}, 422, "Invalid",
     'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is '
     'forbidden for watch unless sendInitialEvents is provided'),
    ("delete-grace-not-a-number", "DELETE", "base", None, None, {"gracePeriodSeconds": "abc"}, 400,
     "BadRequest", 'strconv.ParseInt: parsing "abc": invalid syntax'),
    # write options: the real server's CreateOptions/UpdateOptions/PatchOptions/DeleteOptions validation
    ("create-dryrun-unknown", "POST", "", json.dumps(configmap("x-dr", {"a": "1"})).encode(), JSON,
     {"dryRun": "Yes"}, 422, "Invalid",
     'CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"Yes"}: supported values: "All"'),
    ("create-fieldmanager-too-long", "POST", "", json.dumps(configmap("x-fm", {"a": "1"})).encode(), JSON,
     {"fieldManager": "m" * 129}, 422, "Invalid",
     'CreateOptions.meta.k8s.io "" is invalid: fieldManager: Too long: may not be more than 128 bytes'),
    ("update-fieldmanager-control", "PUT", "base", json.dumps(configmap("base", {"a": "2"})).encode(), JSON,
     {"fieldManager": "a\x01"}, 422, "Invalid",
     'UpdateOptions.meta.k8s.io "" is invalid: fieldManager: Invalid value: "a\\x01": invalid character U+0001 '
     '(at position 1)'),
    ("delete-propagation-unknown", "DELETE", "base", None, None, {"propagationPolicy": "Sometimes"}, 422, "Invalid",
     'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "Sometimes": supported '
     'values: "Foreground", "Background", "Orphan", "nil"'),
    ("update-resourceversion-abc", "PUT", "base",
     json.dumps({**configmap("base", {"a": "2"}), "metadata": {"name": "base", "resourceVersion": "abc"}}).encode(),
     JSON, None, 400, "BadRequest",
     'metadata.resourceVersion: Invalid value: "abc": must be a resourceVersion this server issued'),
    # bodies of the wrong kind for the URL
    ("yaml-wrong-kind", "POST", "", b"apiVersion: v1\nkind: Secret\nmetadata: {name: x-k}\n", YAML, None, 400,
     "BadRequest", 'Secret in version "v1" cannot be handled as a ConfigMap: converting (v1.Secret) to '
     '(core.ConfigMap): unknown conversion'),
]


def snapshot(api: Api, ns: str):
    """Every object of the kinds the corpus writes to, by name and resourceVersion."""
    out = []
    for path in (cm_path(ns), PODS.format(ns=ns), DEPLOYMENTS.format(ns=ns), SERVICES.format(ns=ns)):
        items = api.must(api.get(path), 200)["items"]
        out.append(sorted((i["metadata"]["name"], i["metadata"]["resourceVersion"]) for i in items))
    return out


def assert_serving(k2d, api: Api, ns: str, what: str):
    """k2d answers /readyz and takes a real write."""
    k2d.alive_or_fail()
    r = k2d.request("GET", "/readyz", timeout=10)
    assert r.status == 200, f"after {what}: /readyz\n{r.describe()}"
    name = uniq("alive")
    api.must(api.post(cm_path(ns), configmap(name, {"a": "1"})), 201)
    api.must(api.delete(cm_path(ns, name)), 200)


@pytest.fixture
def base(api, namespace):
    api.must(api.post(cm_path(namespace), configmap("base", {"a": "1"})), 201)
    return namespace


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_hostile_request(k2d, api, base, case):
    cid, method, target, body, ctype, query, code, reason, message = case
    ns = base
    path = {"": cm_path(ns), "base": cm_path(ns, "base")}.get(target) or target.format(ns=ns)
    if isinstance(query, str):
        path, query = f"{path}?{query}", None
    before = snapshot(api, ns)
    r = api.call(method, path, body, ctype=ctype or JSON, query=query, timeout=60)
    if code == 200:
        assert r.status == 200, f"{cid}\n{r.describe()}"
    else:
        assert_status(r, code, reason, message, what=cid)
    assert snapshot(api, ns) == before, f"{cid}: the request changed stored objects"
    assert_serving(k2d, api, ns, cid)


def test_watch_negative_timeout_ends_at_once(api, base):
    """kube-apiserver takes a negative timeoutSeconds as a deadline already past: 200, and the
    watch ends at once (k2d used to fall back to its 30-60 minute default)."""
    start = time.monotonic()
    r = api.call("GET", cm_path(base), None, query={"watch": "1", "timeoutSeconds": "-1"}, timeout=20)
    assert r.status == 200, r.describe()
    assert time.monotonic() - start < 10, "the watch did not end at once"


# ------------------------------------------------------------------ bodies over the limit


BIG_BODIES = [("POST", "", JSON), ("POST", "", YAML), ("POST", "", PROTOBUF), ("PATCH", "base", MERGE),
              ("PATCH", "base", JSONPATCH), ("PATCH", "base", STRATEGIC), ("PATCH", "base", APPLY),
              ("PUT", "base", JSON), ("DELETE", "base", JSON)]


@pytest.mark.parametrize("method,target,ctype", BIG_BODIES, ids=[f"{m}-{c.split('/')[-1]}" for m, _, c in BIG_BODIES])
def test_body_over_the_limit(k2d, api, base, tmp_path, method, target, ctype):
    """Every content type and verb with a body gets 413 past 3 MiB, read in full or not,
    with and without a Content-Length (curl reads the answer even when k2d stops reading)."""
    ns = base
    path = cm_path(ns, "base") if target == "base" else cm_path(ns)
    big = tmp_path / "big"
    big.write_bytes(b'{"data":{"a":"' + b"x" * LIMIT + b'"}}')
    before = snapshot(api, ns)
    for chunked in (False, True):
        out = tmp_path / "out.json"
        extra = ["-H", "Transfer-Encoding: chunked"] if chunked else []
        r = run(["curl", "-sS", "--max-time", "60", "--cacert", k2d.ca, "-H", f"Authorization: Bearer {k2d.token}",
                 "-H", f"Content-Type: {ctype}", "-H", "Accept: application/json", *extra, "-X", method,
                 "--data-binary", f"@{big}", "-o", out, "-w", "%{http_code}",
                 f"{k2d.url}{path}?fieldManager=m"], check=False, timeout=90)
        assert r.stdout.strip() == "413", r.describe() + (out.read_text()[:2000] if out.exists() else "")
        st = json.loads(out.read_text())
        assert (st["code"], st["reason"], st["message"]) == (
            413, "RequestEntityTooLarge", f"Request entity too large: limit is {LIMIT}"), st
    assert snapshot(api, ns) == before
    assert_serving(k2d, api, ns, f"{method} {ctype} over the limit")


# ------------------------------------------------------------------ raw connections


def tls_socket(k2d, alpn=("http/1.1",)) -> ssl.SSLSocket:
    ctx = k2d.ssl_context()
    ctx.set_alpn_protocols(list(alpn))
    raw = socket.create_connection(("127.0.0.1", k2d.port), timeout=10)
    return ctx.wrap_socket(raw, server_hostname="127.0.0.1")


def exchange(k2d, request: bytes, timeout: float = 10) -> bytes:
    """Sends a raw HTTP/1.1 request; returns all k2d sends until it closes (or the timeout)."""
    s = tls_socket(k2d)
    s.settimeout(timeout)
    try:
        try:
            s.sendall(request)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass  # k2d may answer and close before it has read everything
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, ssl.SSLError):
                break
            if not chunk:
                break
            data += chunk
        return data
    finally:
        s.close()


def head(k2d, extra: bytes, path: bytes = b"/readyz") -> bytes:
    return (b"GET " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + k2d.token.encode() +
            b"\r\nConnection: close\r\n" + extra + b"\r\n")


def status_line(data: bytes) -> str:
    return data.split(b"\r\n", 1)[0].decode("latin-1")


def test_headers_huge_and_many(k2d, api, namespace, tmp_path):
    """A head over MAX_HEADER_BYTES or with more than 100 fields: 431 and the connection
    closes; a head well within the limits is served; invalid bytes in the request line
    are a 400 from the HTTP parser."""
    ok = exchange(k2d, head(k2d, b"X-Pad: " + b"a" * (MAX_HEADER_BYTES // 2) + b"\r\n"))
    assert status_line(ok) == "HTTP/1.1 200 OK", ok[:300]
    big = exchange(k2d, head(k2d, b"X-Pad: " + b"a" * (2 * MAX_HEADER_BYTES) + b"\r\n"))
    assert status_line(big) == "HTTP/1.1 431 Request Header Fields Too Large", big[:300]
    many = exchange(k2d, head(k2d, b"".join(b"X-H%d: v\r\n" % i for i in range(150))))
    assert status_line(many) == "HTTP/1.1 431 Request Header Fields Too Large", many[:300]
    bad = exchange(k2d, head(k2d, b"", path=b"/api/v1/namespaces/\xff\xfe"))
    assert status_line(bad) == "HTTP/1.1 400 Bad Request", bad[:300]
    # HTTP/2 (what kubectl and Go clients speak): a header list over the limit is refused
    pad = tmp_path / "header"
    pad.write_text("X-Pad: " + "a" * (2 * MAX_HEADER_BYTES) + "\n")
    r = run(["curl", "-sS", "--http2", "--max-time", "20", "--cacert", k2d.ca, "-H",
             f"Authorization: Bearer {k2d.token}", "-H", f"@{pad}",
             "-o", "/dev/null", "-w", "%{http_code} %{http_version}", f"{k2d.url}/readyz"], check=False, timeout=30)
    # (h2 ends the connection: curl reports "Connection died"; a 431 would do too)
    assert r.rc != 0 or r.stdout.strip() in ("431 2", "400 2"), r.describe()
    pad.write_text("X-Pad: " + "a" * (MAX_HEADER_BYTES // 2) + "\n")
    r = run(["curl", "-sS", "--http2", "--max-time", "20", "--cacert", k2d.ca, "-H",
             f"Authorization: Bearer {k2d.token}", "-H", f"@{pad}",
             "-o", "/dev/null", "-w", "%{http_code} %{http_version}", f"{k2d.url}/readyz"], check=False, timeout=30)
    assert r.stdout.strip() == "200 2", r.describe()
    assert_serving(k2d, api, namespace, "huge headers")


def fd_count(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/fd").iterdir()))


class SlowClients:
    """Connections that hold on without ever completing a request: plain TCP that never
    starts TLS, TLS that sends nothing, TLS that sends part of an HTTP/2 preface, and
    HTTP/1 heads sent one byte a second."""

    def __init__(self, k2d, each: int):
        self.k2d = k2d
        self.socks = []
        for _ in range(each):
            self.socks.append(("tcp", socket.create_connection(("127.0.0.1", k2d.port), timeout=10)))
        for kind, alpn in (("tls-silent", ("h2",)), ("tls-preface", ("h2",)), ("tls-trickle", ("http/1.1",))):
            for _ in range(each):
                s = tls_socket(k2d, alpn)
                if kind == "tls-preface":
                    s.sendall(b"PRI * HTTP")
                self.socks.append((kind, s))
        self.trickle = head(k2d, b"X-Slow: " + b"z" * 200 + b"\r\n")
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._trickle, daemon=True)
        self.thread.start()

    def _trickle(self):
        i = 0
        while not self.stop.wait(1.0):
            for kind, s in self.socks:
                if kind == "tls-trickle" and i < len(self.trickle):
                    try:
                        s.sendall(self.trickle[i:i + 1])
                    except OSError:
                        pass
            i += 1

    def closed_by_server(self) -> dict:
        """How many of each kind k2d has closed (a read gives EOF or a reset)."""
        closed = {}
        for kind, s in self.socks:
            s.setblocking(False)
            try:
                gone = s.recv(4096) == b""
            except (BlockingIOError, ssl.SSLWantReadError):
                gone = False
            except (ConnectionResetError, ssl.SSLError, OSError):
                gone = True
            closed[kind] = closed.get(kind, 0) + int(gone)
        return closed

    def close(self):
        self.stop.set()
        for _, s in self.socks:
            s.close()


def test_slow_clients_are_bounded(k2d, api, namespace):
    """200 slow clients at once: k2d keeps serving others without delay, closes every one
    of them within its timeouts (TLS handshake 10 s, first bytes and request head 32 s),
    and its file descriptors go back to where they were."""
    pid = k2d.proc.pid
    fds_before = fd_count(pid)
    slow = SlowClients(k2d, each=50)
    try:
        assert fd_count(pid) >= fds_before + 150, "the slow clients are not connected"
        worst = 0.0
        for _ in range(10):
            t = time.monotonic()
            assert_serving(k2d, api, namespace, "200 slow clients")
            worst = max(worst, time.monotonic() - t)
        assert worst < 5, f"a request took {worst:.1f} s while 200 slow clients hung on"
        deadline = time.monotonic() + HEADER_READ_TIMEOUT + 15
        while True:
            closed = slow.closed_by_server()
            if sum(closed.values()) == len(slow.socks) or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert closed == {"tcp": 50, "tls-silent": 50, "tls-preface": 50, "tls-trickle": 50}, closed
    finally:
        slow.close()
    time.sleep(1)
    assert fd_count(pid) <= fds_before + 5, (fds_before, fd_count(pid))
    assert_serving(k2d, api, namespace, "slow clients closed")


def test_connection_flood_at_the_descriptor_limit(tmp_path):
    """A k2d with only 600 file descriptors and 1000 connections thrown at it: it stays up,
    never runs out of descriptors (connections past its bound wait in the listen queue), and
    serves normally once the flood is gone. Its own k2d (no engine: no host networking)."""
    server = K2DServer(k2d_binary(), tmp_path / "data", LOG_DIR / "k2d-fd-limit.log",
                       extra_args=["--engine", "none"])
    command = server.command
    server.command = lambda: ["bash", "-c", 'ulimit -n 600 && exec "$0" "$@"', *command()]
    server.start()
    flood = []
    try:
        for _ in range(1000):
            try:
                flood.append(socket.create_connection(("127.0.0.1", server.port), timeout=5))
            except OSError:
                break
        time.sleep(1)
        server.alive_or_fail()
        assert fd_count(server.proc.pid) < 600, fd_count(server.proc.pid)
    finally:
        for s in flood:
            s.close()
    time.sleep(1)
    t = time.monotonic()
    r = server.request("GET", "/readyz", timeout=30)
    assert r.status == 200, r.describe()
    api = Api(server)
    api.must(api.post(cm_path("default"), configmap(uniq("after-flood"))), 201)
    assert time.monotonic() - t < HANDSHAKE_TIMEOUT + 5
    assert "accept failed" not in server.log_tail(lines=10_000), "k2d ran out of descriptors"
    assert server.stop() == 0
