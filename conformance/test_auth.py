"""Scenario g: nothing is anonymous; TLS verifies with k2d's CA (curl, as a person would)."""

import base64
import json
import stat

import pytest
import yaml

from conftest import run

UNAUTHENTICATED_PATHS = ["/version", "/api", "/apis", "/openapi/v3", "/healthz",
                         "/api/v1/namespaces/default/pods"]


def curl(k2d, path, *args, host="127.0.0.1", cacert=None, check_tls=True, tmp=None):
    """Runs curl; returns (http_code, headers text, body text, CmdResult)."""
    hdr = tmp / "headers.txt"
    body = tmp / "body.txt"
    for f in (hdr, body):
        f.unlink(missing_ok=True)
    cmd = ["curl", "-sS", "--max-time", "20", "-D", hdr, "-o", body, "-w", "%{http_code}",
           "--cacert", cacert or k2d.ca, *args, f"https://{host}:{k2d.port}{path}"]
    r = run(cmd, check=False, timeout=60)
    code = int(r.stdout.strip() or 0) if r.stdout.strip().isdigit() else 0
    return code, (hdr.read_text() if hdr.exists() else ""), (body.read_text() if body.exists() else ""), r


def assert_unauthorized(code, headers, body, what):
    assert code == 401, f"{what}: HTTP {code}, want 401\n{headers}\n{body[:2000]}"
    ctype = [ln.split(":", 1)[1].strip() for ln in headers.splitlines() if ln.lower().startswith("content-type:")]
    assert ctype and ctype[-1].startswith("application/json"), f"{what}: content-type {ctype}\n{headers}"
    try:
        status = json.loads(body)
    except ValueError:
        pytest.fail(f"{what}: body is not JSON:\n{body[:2000]}", pytrace=False)
    want = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Unauthorized", "code": 401}
    wrong = {k: status.get(k) for k, v in want.items() if status.get(k) != v}
    assert not wrong, f"{what}: Status fields {wrong}, want {want}\n{body}"


@pytest.mark.parametrize("path", UNAUTHENTICATED_PATHS)
def test_no_credentials_is_401(k2d, tmp_path, path):
    code, headers, body, _ = curl(k2d, path, tmp=tmp_path)
    assert_unauthorized(code, headers, body, f"GET {path} without credentials")


@pytest.mark.parametrize("path", ["/version", "/api/v1/namespaces/default/pods"])
def test_wrong_token_is_401(k2d, tmp_path, path):
    code, headers, body, _ = curl(k2d, path, "-H", "Authorization: Bearer not-the-token", tmp=tmp_path)
    assert_unauthorized(code, headers, body, f"GET {path} with a wrong token")


def test_token_is_200(k2d, tmp_path):
    code, headers, body, r = curl(k2d, "/api", "-H", f"Authorization: Bearer {k2d.token}", tmp=tmp_path)
    assert code == 200, f"{r.describe()}\n{headers}\n{body[:2000]}"


def test_admin_client_certificate_is_200(k2d, tmp_path):
    code, headers, body, r = curl(k2d, "/api", "--cert", k2d.admin_cert, "--key", k2d.admin_key, tmp=tmp_path)
    assert code == 200, f"{r.describe()}\n{headers}\n{body[:2000]}"
    assert json.loads(body).get("kind") in ("APIVersions", "APIGroupDiscoveryList"), body[:500]


def test_client_certificate_of_another_ca_is_401(k2d, tmp_path):
    key, crt = tmp_path / "other.key", tmp_path / "other.crt"
    run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt,
         "-days", "1", "-subj", "/CN=admin"])
    code, headers, body, r = curl(k2d, "/api", "--cert", crt, "--key", key, tmp=tmp_path)
    if code == 0:
        # rejecting the handshake outright is acceptable too
        assert r.rc != 0, r.describe()
        return
    assert_unauthorized(code, headers, body, "GET /api with a client certificate from another CA")


@pytest.fixture
def kubeconfig_ca(k2d, tmp_path):
    cfg = yaml.safe_load(k2d.kubeconfig.read_text())
    data = cfg["clusters"][0]["cluster"]["certificate-authority-data"]
    p = tmp_path / "kubeconfig-ca.crt"
    p.write_bytes(base64.b64decode(data))
    return p


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_tls_verifies_with_kubeconfig_ca(k2d, tmp_path, kubeconfig_ca, host):
    code, headers, body, r = curl(k2d, "/version", "-H", f"Authorization: Bearer {k2d.token}",
                                  host=host, cacert=kubeconfig_ca, tmp=tmp_path)
    assert r.rc == 0 and code == 200, f"TLS to https://{host} with the kubeconfig's CA failed\n{r.describe()}"


def test_tls_fails_without_k2d_ca(k2d, tmp_path):
    """The check above can fail: with the system CAs only, curl must refuse the server."""
    r = run(["curl", "-sS", "--max-time", "20", "-o", "/dev/null", f"https://127.0.0.1:{k2d.port}/version"],
            check=False)
    assert r.rc == 60, f"curl with the system CA bundle should fail verification (exit 60)\n{r.describe()}"


def test_data_dir_files(k2d):
    for name in ("ca.crt", "ca.key", "server.crt", "server.key", "admin.crt", "admin.key", "token", "kubeconfig"):
        p = k2d.data_dir / name
        assert p.is_file(), f"{p} missing"
        mode = stat.S_IMODE(p.stat().st_mode)
        assert mode == 0o600, f"{p} has mode {oct(mode)}, want 0o600"
    assert k2d.token and len(k2d.token.splitlines()) == 1
