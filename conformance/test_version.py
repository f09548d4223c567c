"""Scenario a: `kubectl version` against k2d (every kubectl), and /version itself."""

import re

SERVER_VERSION = re.compile(r"^v1\.35\.\d+(\+[0-9A-Za-z.-]+)?$")


def test_kubectl_version(kubectl):
    r = kubectl("version")
    m = re.search(r"^Server Version:\s*(\S+)\s*$", r.stdout, re.M)
    assert m, f"no 'Server Version:' line\n{r.describe()}"
    v = m.group(1)
    # semver without a pre-release suffix: charts with kubeVersion constraints reject v1.35.0-xyz
    assert SERVER_VERSION.match(v), f"server version {v!r} is not v1.35.<patch>[+build]\n{r.describe()}"
    assert "Client Version:" in r.stdout, r.describe()


def test_kubectl_version_json(kubectl):
    r = kubectl("version", "-o", "json")
    import json

    out = json.loads(r.stdout)
    sv = out.get("serverVersion")
    assert sv, f"no serverVersion in kubectl version -o json\n{r.describe()}"
    assert sv["major"] == "1" and sv["minor"] == "35", sv
    assert SERVER_VERSION.match(sv["gitVersion"]), sv


def test_version_endpoint(k2d):
    r = k2d.request("GET", "/version")
    assert r.status == 200, r.describe()
    assert r.headers.get("content-type", "").startswith("application/json"), r.describe()
    v = r.json()
    for key in ("major", "minor", "gitVersion", "gitCommit", "gitTreeState", "buildDate", "goVersion",
                "compiler", "platform"):
        assert key in v, f"/version lacks {key}: {v}"
    assert (v["major"], v["minor"]) == ("1", "35"), v
    assert SERVER_VERSION.match(v["gitVersion"]), v


def test_python_client_version(kube_client):
    from kubernetes import client

    info = client.VersionApi(kube_client).get_code()
    assert info.major == "1" and info.minor == "35", info
    assert SERVER_VERSION.match(info.git_version), info


def test_health_endpoints(k2d):
    for path in ("/healthz", "/livez", "/readyz"):
        r = k2d.request("GET", path)
        assert r.status == 200, r.describe()
        assert r.text.strip() == "ok", r.describe()
