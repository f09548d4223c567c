"""Issue 3, scenario 4: a corpus of bad requests, sent raw over HTTPS (the
kubeconfig's CA and token). Each must get the Status a real kube-apiserver (1.35)
sends — HTTP code, reason, message, and details where clients read them — and
must change nothing: the object under test and the namespace's list (names and
resourceVersions) are the same afterwards.

Where the expected text comes from (kube-apiserver / apimachinery source):
- decode failures: handlers.transformDecodeError + summarizeData (create.go /
  update.go): `<Kind> in version "<v>" cannot be handled as a <Kind>: <err>` when
  the body names a kind, else `the object provided is unrecognized (must be of type
  <Kind>): <err> (<first 30 bytes, as text if they start with "{", else hex>)`;
  the JSON serializer's `couldn't get version/kind; json parse error: <err>`;
  the protobuf serializer's `provided data does not appear to be a protobuf message,
  expected prefix [107 56 115 0]`.
- limitedReadBody: 413 `Request entity too large: limit is 3145728`.
- metav1 validation of Create/PatchOptions: 422 `CreateOptions.meta.k8s.io "" is
  invalid: ...`, `PatchOptions.meta.k8s.io "" is invalid: ...`.
- negotiation.errUnsupportedMediaType: 415 without details.
- patch.go: `error decoding patch: <err>` (merge and JSON patch under the default
  fieldValidation=Warn), strict decoding errors of the patched object.
"""

from __future__ import annotations

import json
import re

import pytest

from conftest import run
from helpers import (APPLY, JSON, JSONPATCH, MERGE, PROTOBUF, STRATEGIC, YAML, Api, api, assert_status, cm_path,  # noqa: F401,E501
                     configmap, namespace, uniq, warnings_of)

LIMIT = 3 * 1024 * 1024


def snapshot(api: Api, ns: str):
    lst = api.must(api.get(cm_path(ns)), 200)
    return sorted((i["metadata"]["name"], i["metadata"]["resourceVersion"], json.dumps(i, sort_keys=True))
                  for i in lst["items"])


@pytest.fixture
def base(api, namespace):
    """A namespace with one ConfigMap `base`; yields (ns, the stored object)."""
    obj = api.must(api.post(cm_path(namespace), configmap("base", {"a": "1"})), 201)
    return namespace, obj


def unrecognized(kind, err, body: bytes):
    if not body:
        summary = "<empty>"
    elif body[:1] == b"{":
        summary = body[:30].decode() + (" ..." if len(body) > 30 else "")
    else:
        summary = body[:30].hex() + (" ..." if len(body) > 30 else "")
    return f"the object provided is unrecognized (must be of type {kind}): {err} ({summary})"


# (id, method, path suffix ("" = collection, "base" = the object), body, content type, query,
#  code, reason, message (str or regex), details or None)
CASES = [
    # The syntax error itself is worded by k2d's JSON and YAML parsers, not Go's scanner; the rest of
    # the message (and code, reason) is the real server's.
    ("json-malformed", "POST", "", b"{bad", JSON, None, 400, "BadRequest",
     re.compile(r"the object provided is unrecognized \(must be of type ConfigMap\): couldn't get version/kind; "
                r"json parse error: .+ \(\{bad\)"), None),
    ("json-empty", "POST", "", b"", JSON, None, 400, "BadRequest",
     unrecognized("ConfigMap", "couldn't get version/kind; json parse error: unexpected end of JSON input", b""),
     None),
    ("json-malformed-put", "PUT", "base", b'{"apiVersion":"v1","kind":"ConfigMap",', JSON, None, 400, "BadRequest",
     unrecognized("ConfigMap", "couldn't get version/kind; json parse error: unexpected end of JSON input",
                  b'{"apiVersion":"v1","kind":"ConfigMap",'), None),
    ("json-wrong-type", "POST", "",
     json.dumps(configmap("x-type", {"a": 1})).encode(), JSON, None, 400, "BadRequest",
     'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct '
     'field ConfigMap.data of type string', None),
    ("yaml-malformed", "POST", "", b"a: b: c", YAML, None, 400, "BadRequest",
     re.compile(r"the object provided is unrecognized \(must be of type ConfigMap\): yaml: .*mapping values are "
                r"not allowed in this context.* \(613a20623a2063\)"), None),
    ("protobuf-no-magic", "POST", "", b"garbage", PROTOBUF, None, 400, "BadRequest",
     unrecognized("ConfigMap", "provided data does not appear to be a protobuf message, expected prefix "
                  "[107 56 115 0]", b"garbage"), None),
    ("protobuf-truncated", "POST", "", b"k8s\x00\x0a\x0bgarbage", PROTOBUF, None, 400, "BadRequest",
     unrecognized("ConfigMap", "unexpected EOF", b"k8s\x00\x0a\x0bgarbage"), None),
    ("wrong-kind", "POST", "", json.dumps({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x-kind"}})
     .encode(), JSON, None, 400, "BadRequest",
     'Secret in version "v1" cannot be handled as a ConfigMap: converting (v1.Secret) to (core.ConfigMap): '
     'unknown conversion', None),
    ("wrong-apiversion", "POST", "", json.dumps({"apiVersion": "apps/v1", "kind": "ConfigMap",
                                                 "metadata": {"name": "x-gv"}}).encode(), JSON, None, 400,
     "BadRequest",
     re.compile(r'ConfigMap in version "v1" cannot be handled as a ConfigMap: no kind "ConfigMap" is registered '
                r'for version "apps/v1" in scheme "[^"]+"'), None),
    ("name-mismatch-put", "PUT", "base", json.dumps(configmap("other", {"a": "2"})).encode(), JSON, None, 400,
     "BadRequest", "the name of the object (other) does not match the name on the URL (base)", None),
    ("namespace-mismatch", "POST", "", json.dumps(configmap("x-ns", {"a": "2"}, namespace="elsewhere")).encode(),
     JSON, None, 400, "BadRequest",
     "the namespace of the provided object does not match the namespace sent on the request", None),
    ("strict-unknown-field", "POST", "",
     json.dumps({**configmap("x-strict", {"a": "1"}), "bogus": 1}).encode(), JSON, {"fieldValidation": "Strict"},
     400, "BadRequest",
     'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "bogus"',
     None),
    ("strict-nested-and-duplicate", "POST", "",
     b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x-dup","bogus2":1},"data":{"a":"1","a":"2"}}',
     JSON, {"fieldValidation": "Strict"}, 400, "BadRequest",
     'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field '
     '"metadata.bogus2", duplicate field "data.a"', None),
    ("strict-unknown-field-put", "PUT", "base",
     json.dumps({**configmap("base", {"a": "2"}), "bogus": 1}).encode(), JSON, {"fieldValidation": "Strict"},
     400, "BadRequest",
     'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "bogus"',
     None),
    ("strict-unknown-field-yaml", "POST", "",
     b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x-yaml\nbogus: 1\n", YAML, {"fieldValidation": "Strict"},
     400, "BadRequest",
     'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "bogus"',
     None),
    ("strict-unknown-field-merge-patch", "PATCH", "base", b'{"bogus":1}', MERGE, {"fieldValidation": "Strict"},
     400, "BadRequest", 'strict decoding error: unknown field "bogus"', None),
    ("strict-unknown-field-strategic-patch", "PATCH", "base", b'{"bogus":1}', STRATEGIC,
     {"fieldValidation": "Strict"}, 400, "BadRequest", 'strict decoding error: unknown field "bogus"', None),
    # kube-apiserver 1.35 answers this one with a 500 without reason (structuredmerge.go returns a plain
    # error; kubernetes/kubernetes#122480, #139253): k2d must not do worse, nor store anything
    ("strict-unknown-field-apply", "PATCH", "base",
     json.dumps({**configmap("base", {"a": "1"}), "bogus": 1}).encode(), APPLY,
     {"fieldManager": "m", "fieldValidation": "Strict"}, 500, None,
     re.compile(r"failed to create typed patch object \(\S+; /v1, Kind=ConfigMap\): \.bogus: field not declared "
                r"in schema"), None),
    ("invalid-label-selector", "GET", "", None, None, {"labelSelector": "a in (b"}, 400, "BadRequest",
     "unable to parse requirement: found '', expected: ',' or ')'", None),
    ("invalid-label-selector-op", "GET", "", None, None, {"labelSelector": "a===b"}, 400, "BadRequest",
     "unable to parse requirement: found '=', expected: identifier", None),
    ("unknown-field-selector", "GET", "", None, None, {"fieldSelector": "spec.foo=bar"}, 400, "BadRequest",
     '"spec.foo" is not a known field selector: only "metadata.name", "metadata.namespace"', None),
    ("invalid-fieldvalidation", "POST", "", json.dumps(configmap("x-fv")).encode(), JSON,
     {"fieldValidation": "Bogus"}, 422, "Invalid",
     'CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "Bogus": supported values: '
     '"", "Ignore", "Strict", "Warn"',
     {"group": "meta.k8s.io", "kind": "CreateOptions", "causes": [
         {"reason": "FieldValueNotSupported", "field": "fieldValidation",
          "message": 'Unsupported value: "Bogus": supported values: "", "Ignore", "Strict", "Warn"'}]}),
    ("missing-name", "POST", "", b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{}}', JSON, None, 422,
     "Invalid", 'ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required',
     {"kind": "ConfigMap", "causes": [{"reason": "FieldValueRequired", "field": "metadata.name",
                                       "message": "Required value: name or generateName is required"}]}),
    ("bad-name", "POST", "", json.dumps(configmap("Bad_Name")).encode(), JSON, None, 422, "Invalid",
     'ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain '
     "must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric "
     "character (e.g. 'example.com', regex used for validation is "
     "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
     {"kind": "ConfigMap", "name": "Bad_Name", "causes": [{
         "reason": "FieldValueInvalid", "field": "metadata.name",
         "message": "Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case "
                    "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character "
                    "(e.g. 'example.com', regex used for validation is "
                    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"}]}),
    ("configmap-too-big", "POST", "", json.dumps(configmap("x-big", {"a": "x" * (1024 * 1024 + 1)})).encode(),
     JSON, None, 422, "Invalid", 'ConfigMap "x-big" is invalid: []: Too long: must have at most 1048576 bytes',
     None),
    ("already-exists", "POST", "", json.dumps(configmap("base", {"a": "9"})).encode(), JSON, None, 409,
     "AlreadyExists", 'configmaps "base" already exists', {"name": "base", "kind": "configmaps"}),
    ("stale-resourceversion", "PUT", "base", None, JSON, None, 409, "Conflict",
     'Operation cannot be fulfilled on configmaps "base": the object has been modified; please apply your changes '
     'to the latest version and try again', {"name": "base", "kind": "configmaps"}),
    ("create-bad-content-type", "POST", "", json.dumps(configmap("x-ct")).encode(), "text/plain", None, 415,
     "UnsupportedMediaType", "the body of the request was in an unknown format - accepted media types include: "
     "application/json, application/yaml, application/vnd.kubernetes.protobuf", "absent"),
    ("patch-bad-content-type", "PATCH", "base", b'{"data":{"z":"1"}}', "text/plain", None, 415,
     "UnsupportedMediaType", "the body of the request was in an unknown format - accepted media types include: "
     "application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, "
     "application/apply-patch+yaml", "absent"),
    ("patch-json-content-type", "PATCH", "base", b'{"data":{"z":"1"}}', JSON, None, 415,
     "UnsupportedMediaType", "the body of the request was in an unknown format - accepted media types include: "
     "application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, "
     "application/apply-patch+yaml", "absent"),
    ("apply-without-fieldmanager", "PATCH", "base", json.dumps(configmap("base", {"a": "2"})).encode(), APPLY,
     None, 422, "Invalid",
     'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
     {"group": "meta.k8s.io", "kind": "PatchOptions", "causes": [
         {"reason": "FieldValueRequired", "field": "fieldManager",
          "message": "Required value: is required for apply patch"}]}),
    ("force-on-merge-patch", "PATCH", "base", b'{"data":{"z":"1"}}', MERGE, {"force": "true"}, 422, "Invalid",
     'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch',
     {"group": "meta.k8s.io", "kind": "PatchOptions", "causes": [
         {"reason": "FieldValueForbidden", "field": "force",
          "message": "Forbidden: may not be specified for non-apply patch"}]}),
    ("merge-patch-malformed", "PATCH", "base", b"{bad", MERGE, None, 400, "BadRequest",
     re.compile(r"error decoding patch: \S.*"), None),
    ("json-patch-malformed", "PATCH", "base", b"{bad", JSONPATCH, None, 400, "BadRequest",
     re.compile(r"error decoding patch: \S.*"), None),
    ("strategic-patch-malformed", "PATCH", "base", b"{bad", STRATEGIC, None, 400, "BadRequest",
     re.compile(r"\S.*"), None),
    ("json-patch-test-fails", "PATCH", "base", b'[{"op":"test","path":"/data/a","value":"nope"}]', JSONPATCH, None,
     422, "Invalid", "the server rejected our request due to an error in our request",
     {"causes": [{"reason": "UnexpectedServerResponse",
                  "message": "testing value /data/a failed: test failed"}]}),
    ("strategic-missing-merge-key", "PATCH", "", None, STRATEGIC, None, 500, None,
     "map: map[namespace:x] does not contain declared merge key: name", None),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_request(api, base, case):
    cid, method, target, body, ctype, query, code, reason, message, details = case
    ns, obj = base
    path = cm_path(ns, "base") if target == "base" else cm_path(ns)
    if cid == "stale-resourceversion":
        # make the object newer than the resourceVersion we then send
        api.must(api.patch(cm_path(ns, "base"), {"data": {"b": "2"}}), 200)
        stale = configmap("base", {"a": "3"})
        stale["metadata"]["resourceVersion"] = obj["metadata"]["resourceVersion"]
        body = json.dumps(stale).encode()
    if cid == "strategic-missing-merge-key":
        sa = uniq("sa")
        api.must(api.post(f"/api/v1/namespaces/{ns}/serviceaccounts",
                          {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": sa},
                           "secrets": [{"name": "a"}]}), 201)
        path = f"/api/v1/namespaces/{ns}/serviceaccounts/{sa}"
        body = b'{"secrets":[{"namespace":"x"}]}'
        before_sa = api.get_obj(path)
    before = snapshot(api, ns)
    r = api.call(method, path, body, ctype=ctype or JSON, query=query)
    assert_status(r, code, reason, message, details, what=cid)
    assert snapshot(api, ns) == before, f"{cid}: the request changed stored ConfigMaps"
    if cid == "strategic-missing-merge-key":
        assert api.get_obj(path) == before_sa, "the refused patch changed the ServiceAccount"


def test_request_entity_too_large(k2d, api, base, tmp_path):
    """A body over kube-apiserver's 3 MiB limit: 413 RequestEntityTooLarge (sent with
    curl, which reads the answer even when the server stops reading early)."""
    ns, _ = base
    big = tmp_path / "big.json"
    big.write_text(json.dumps(configmap("x-huge", {"a": "x" * LIMIT})))
    before = snapshot(api, ns)
    out = tmp_path / "out.json"
    r = run(["curl", "-sS", "--max-time", "60", "--cacert", k2d.ca, "-H", f"Authorization: Bearer {k2d.token}",
             "-H", "Content-Type: application/json", "-H", "Accept: application/json", "-X", "POST",
             "--data-binary", f"@{big}", "-o", out, "-w", "%{http_code}", f"{k2d.url}{cm_path(ns)}"],
            check=False, timeout=90)
    assert r.stdout.strip() == "413", r.describe() + (out.read_text()[:2000] if out.exists() else "")
    st = json.loads(out.read_text())
    want = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 413,
            "reason": "RequestEntityTooLarge", "message": f"Request entity too large: limit is {LIMIT}"}
    assert {k: st.get(k) for k in want} == want, json.dumps(st)
    assert snapshot(api, ns) == before


@pytest.mark.parametrize("directive", ["Warn", "Ignore", None])
def test_unknown_fields_warn_and_ignore(api, namespace, directive):
    """Warn (also the default when fieldValidation is absent): 201 with one
    `Warning: 299 - "unknown field ..."` header per field; Ignore: no such warning.
    Either way the unknown fields are dropped: a typed object has no place for them."""
    name = uniq("uf")
    body = {**configmap(name, {"a": "1"}), "bogus": 1}
    body["metadata"]["bogus2"] = {"x": 1}
    q = {"fieldValidation": directive} if directive else None
    r = api.post(cm_path(namespace), body, query=q)
    assert r.status == 201, r.describe()
    warnings = warnings_of(r)
    field_warnings = sorted(w for w in warnings if "unknown field" in w)
    if directive == "Ignore":
        assert field_warnings == [], r.describe()
    else:
        assert field_warnings == sorted(['299 - "unknown field \\"bogus\\""',
                                         '299 - "unknown field \\"metadata.bogus2\\""']), r.describe()
    stored = api.get_obj(cm_path(namespace, name))
    assert "bogus" not in stored and "bogus2" not in stored["metadata"], \
        f"unknown fields were stored:\n{json.dumps(stored, indent=1)}"
    assert r.json() == stored, "the create answer differs from the stored object"


def test_defaults_and_accepted_shapes(api, namespace):
    """Bodies a real server accepts: no apiVersion/kind (taken from the URL), a kind
    without apiVersion; a Secret without type gets type Opaque; generateName;
    dryRun=All answers like a create and stores nothing."""
    problems = []
    r = api.post(cm_path(namespace), {"metadata": {"name": "nokind"}, "data": {"a": "1"}})
    if r.status != 201 or r.json().get("kind") != "ConfigMap" or r.json().get("apiVersion") != "v1":
        problems.append(r.describe())
    r = api.post(cm_path(namespace), {"kind": "ConfigMap", "metadata": {"name": "noversion"}})
    if r.status != 201:
        problems.append(r.describe())
    r = api.post(f"/api/v1/namespaces/{namespace}/secrets",
                 {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "notype"}, "data": {"a": "YQ=="}})
    if r.status != 201 or r.json().get("type") != "Opaque":
        problems.append("a Secret created without type must get type Opaque (SetDefaults_Secret):\n" + r.describe())
    r = api.post(cm_path(namespace), {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "gen-"}})
    if r.status != 201 or not re.fullmatch(r"gen-[a-z0-9]{5}", r.json()["metadata"]["name"]):
        problems.append("generateName:\n" + r.describe())
    r = api.post(cm_path(namespace), configmap("dry", {"a": "1"}), query={"dryRun": "All"})
    if r.status != 201 or r.json()["metadata"]["name"] != "dry":
        problems.append("dryRun=All create:\n" + r.describe())
    if api.get(cm_path(namespace, "dry")).status != 404:
        problems.append("dryRun=All stored the object")
    assert not problems, "\n\n".join(problems)


def test_not_found_shapes(api, namespace):
    r = api.get(cm_path(namespace, "nope"))
    assert_status(r, 404, "NotFound", 'configmaps "nope" not found', {"name": "nope", "kind": "configmaps"})
    r = api.delete(cm_path(namespace, "nope"))
    assert_status(r, 404, "NotFound", 'configmaps "nope" not found', {"name": "nope", "kind": "configmaps"})
    r = api.patch(cm_path(namespace, "nope"), {"data": {"a": "1"}})
    assert_status(r, 404, "NotFound", 'configmaps "nope" not found', {"name": "nope", "kind": "configmaps"})
    r = api.get(f"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/roles/nope")
    assert_status(r, 404, "NotFound", 'roles.rbac.authorization.k8s.io "nope" not found',
                  {"name": "nope", "group": "rbac.authorization.k8s.io", "kind": "roles"})
