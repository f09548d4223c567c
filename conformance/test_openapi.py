"""Scenario f: /openapi/v3 root and per-group-version documents, hashes and ETags."""

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest

HASH = re.compile(r"^[0-9A-F]{128}$")


def _root_via_kubectl(kubectl):
    r = kubectl("get", "--raw", "/openapi/v3")
    try:
        return json.loads(r.stdout), r
    except ValueError as e:
        pytest.fail(f"/openapi/v3 is not JSON: {e}\n{r.describe()}", pytrace=False)


def test_openapi_root_lists_every_group_version(kubectl, spec):
    root, r = _root_via_kubectl(kubectl)
    paths = root.get("paths")
    assert isinstance(paths, dict), f"no `paths` object\n{r.describe()}"
    missing = [gv.openapi_key for gv in spec if gv.openapi_key not in paths]
    assert not missing, f"/openapi/v3 lacks {missing}\n{r.describe()}"
    for key, entry in paths.items():
        url = entry.get("serverRelativeURL", "")
        u = urlsplit(url)
        assert u.path == f"/openapi/v3/{key}", f"{key}: serverRelativeURL {url!r}"
        h = parse_qs(u.query).get("hash", [""])[0]
        assert HASH.match(h), f"{key}: hash {h!r} is not 128 upper-case hex characters"


def test_openapi_documents_etag_and_304(k2d, spec):
    root = k2d.request("GET", "/openapi/v3")
    assert root.status == 200, root.describe()
    paths = root.json()["paths"]
    problems = []
    for gv in spec:
        entry = paths.get(gv.openapi_key)
        if entry is None:
            problems.append(f"{gv.openapi_key}: not in /openapi/v3")
            continue
        url = entry["serverRelativeURL"]
        h = parse_qs(urlsplit(url).query).get("hash", [""])[0]
        r = k2d.request("GET", url)
        if r.status != 200:
            problems.append(f"GET {url} -> {r.status}\n{r.describe()}")
            continue
        if not r.headers.get("content-type", "").startswith("application/json"):
            problems.append(f"GET {url}: content-type {r.headers.get('content-type')!r}")
        doc = r.json()
        schemas = (doc.get("components") or {}).get("schemas") or {}
        if not schemas:
            problems.append(f"GET {url}: no components.schemas")
        # what spec/ has must be served: every path and every schema
        spec_paths = set(gv.doc.get("paths", {}))
        miss_paths = sorted(spec_paths - set(doc.get("paths", {})))
        if miss_paths:
            problems.append(f"{gv.openapi_key}: paths of spec/ not served: {miss_paths[:10]}")
        miss_schemas = sorted(set(gv.doc.get("components", {}).get("schemas", {})) - set(schemas))
        if miss_schemas:
            problems.append(f"{gv.openapi_key}: schemas of spec/ not served: {miss_schemas[:10]}")
        etag = r.headers.get("etag")
        if etag != f'"{h}"':
            problems.append(f"GET {url}: ETag {etag!r}, want the quoted hash \"{h}\"")
        r2 = k2d.request("GET", url, headers={"If-None-Match": f'"{h}"'})
        if r2.status != 304:
            problems.append(f"GET {url} with If-None-Match: \"{h}\" -> {r2.status}, want 304")
        elif r2.body:
            problems.append(f"GET {url} 304 with a body of {len(r2.body)} bytes")
    assert not problems, "\n".join(problems)


def test_openapi_document_without_hash(k2d, spec):
    """The per-GV URL without ?hash= answers the same document (clients that
    cache the root may ask for it so)."""
    gv = spec[0]
    r = k2d.request("GET", f"/openapi/v3/{gv.openapi_key}")
    assert r.status == 200, r.describe()
    assert r.json().get("components", {}).get("schemas"), r.describe()


def test_openapi_unknown_group_version_404(k2d):
    r = k2d.request("GET", "/openapi/v3/apis/example.invalid/v1")
    assert r.status == 404, r.describe()
