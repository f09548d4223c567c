"""Scenario g: nothing is anonymous; TLS verifies with k2d's CA (curl, as a person would).

Issue 8, point 9: TLS 1.0 and 1.1 and weak TLS 1.2 suites (CBC, RSA key exchange) are refused
by the server (the client offers them; the server answers with an alert); client certificates
that are expired or not for client authentication are refused even from k2d's own CA; every
file in the data directory is 0600 and the directory 0700; a k2d at trace level writes no
secret value, token or private key to its log. Walking every route and every wrong token is in
the cargo tests (tests/routes.rs, tests/authn.rs)."""

import base64
import json
import re
import stat
import time

import pytest
import yaml

from conftest import KUBECTL_VERSIONS, LOG_DIR, K2DServer, Kubectl, k2d_binary, run, tool_path
from helpers import uniq

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
    for name in ("ca.crt", "ca.key", "server.crt", "server.key", "admin.crt", "admin.key", "token", "kubeconfig",
                 "sa.key", "store.redb", "instance-id"):
        p = k2d.data_dir / name
        assert p.is_file(), f"{p} missing"
    assert stat.S_IMODE(k2d.data_dir.stat().st_mode) == 0o700, oct(k2d.data_dir.stat().st_mode)
    # Every file at the top is private; every directory (pods/, pods/<uid>/) is 0700, so what a pod's
    # volumes hold (with the modes the pod asks for, as a kubelet writes them) is reachable only
    # through them.
    for p in k2d.data_dir.iterdir():
        mode = stat.S_IMODE(p.stat().st_mode)
        want = 0o700 if p.is_dir() else 0o600
        assert mode == want, f"{p} has mode {oct(mode)}, want {oct(want)}"
        if p.is_dir():
            for sub in p.iterdir():
                if sub.is_dir():
                    assert stat.S_IMODE(sub.stat().st_mode) == 0o700, f"{sub}: {oct(sub.stat().st_mode)}"
    assert k2d.token and len(k2d.token.splitlines()) == 1


def s_client(k2d, *args):
    """openssl s_client offering exactly what `args` say (security level 0, so the client itself
    offers old protocols and weak suites and the refusal is the server's)."""
    return run(["timeout", "10", "openssl", "s_client", "-connect", f"127.0.0.1:{k2d.port}",
                "-servername", "localhost", *args], input="", check=False, timeout=30)


@pytest.mark.parametrize("offer", [["-tls1", "-cipher", "DEFAULT@SECLEVEL=0"],
                                   ["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"],
                                   ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA256@SECLEVEL=0"],
                                   ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-SHA@SECLEVEL=0"],
                                   ["-tls1_2", "-cipher", "AES128-GCM-SHA256@SECLEVEL=0"]],
                         ids=["tls1.0", "tls1.1", "tls1.2-cbc-sha256", "tls1.2-cbc-sha1", "tls1.2-rsa-kex"])
def test_old_protocols_and_weak_suites_are_refused(k2d, offer):
    r = s_client(k2d, *offer)
    assert r.rc != 0 and re.search(r"alert (handshake failure|protocol version)", r.output), r.describe()
    assert "Cipher is (NONE)" in r.output, r.describe()


def test_served_suites_are_modern(k2d):
    served = []
    for suite in ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"):
        r = s_client(k2d, "-tls1_3", "-ciphersuites", suite)
        if f"Cipher is {suite}" in r.output:
            served.append(suite)
    # TLS 1.2: offer every suite OpenSSL knows, note the one the server picks, offer all but the
    # ones picked so far, until the server refuses: that lists every suite it accepts.
    excluded = ""
    for _ in range(40):
        r = s_client(k2d, "-tls1_2", "-cipher", f"ALL{excluded}@SECLEVEL=0")
        m = re.search(r"Cipher is (\S+)", r.output)
        if not m or m.group(1) == "(NONE)":
            break
        served.append(m.group(1))
        excluded += f":!{m.group(1)}"
    assert served == ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
                      "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305",
                      "ECDHE-ECDSA-AES128-GCM-SHA256"], served


def ca_signed_client_cert(k2d, tmp, name, *, days, eku):
    """A client certificate for the admin's name and group, signed by k2d's own CA."""
    key, csr, crt, ext = (tmp / f"{name}.{x}" for x in ("key", "csr", "crt", "ext"))
    run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", key, "-subj", "/CN=k2d-admin/O=system:masters", "-out", csr])
    ext.write_text(f"extendedKeyUsage={eku}\nkeyUsage=digitalSignature\n")
    run(["openssl", "x509", "-req", "-in", csr, "-CA", k2d.ca, "-CAkey", k2d.data_dir / "ca.key",
         "-days", str(days), "-extfile", ext, "-out", crt])
    return crt, key


@pytest.mark.parametrize("case", ["expired", "server-auth-only", "k2d-server-certificate"])
def test_unfit_client_certificates_of_k2d_ca_are_refused(k2d, tmp_path, case):
    if case == "expired":
        crt, key = ca_signed_client_cert(k2d, tmp_path, case, days=-1, eku="clientAuth")
        alert = "certificate expired"
    elif case == "server-auth-only":
        crt, key = ca_signed_client_cert(k2d, tmp_path, case, days=1, eku="serverAuth")
        alert = "unsupported certificate"
    else:
        crt, key = k2d.data_dir / "server.crt", k2d.data_dir / "server.key"
        alert = "unsupported certificate"
    offset = k2d.log_size()
    code, headers, body, r = curl(k2d, "/api", "--cert", crt, "--key", key, tmp=tmp_path)
    assert code == 0 and r.rc != 0, f"{case}: {r.describe()}\n{headers}{body[:500]}"
    # curl shows the server's alert, unless the server closed first; the server's log says why.
    for _ in range(50):
        logged = re.search(r"TLS handshake failed: invalid peer certificate: (\w+)", k2d.log_tail(offset))
        if logged or alert in r.stderr:
            break
        time.sleep(0.1)
    assert alert in r.stderr or logged, f"{case}: {r.describe()}\n{k2d.log_tail(offset)}"
    # The check can fail: the same request with a fit certificate from the same CA gets in.
    crt, key = ca_signed_client_cert(k2d, tmp_path, "fit", days=1, eku="clientAuth")
    code, headers, body, r = curl(k2d, "/api", "--cert", crt, "--key", key, tmp=tmp_path)
    assert code == 200, r.describe()


class TraceServer(K2DServer):
    """A k2d logging everything (`--log-level trace`: every crate, every level)."""

    def command(self):
        return [("trace" if a == "debug" else a) for a in super().command()]


def test_no_secret_in_a_trace_log(tmp_path_factory, tmp_path, k2d):
    server = TraceServer(k2d_binary(), tmp_path_factory.mktemp("k2d-trace-data"), LOG_DIR / f"k2d-{uniq('trace')}.log",
                         extra_args=["--engine", "none"])
    server.start()
    secrets = {f"value-{i}": base64.b32encode(__import__("os").urandom(15)).decode().lower() for i in range(6)}
    try:
        kc = Kubectl(KUBECTL_VERSIONS[-1], tool_path(f"kubectl-{KUBECTL_VERSIONS[-1]}"), server, tmp_path)
        kc("create", "secret", "generic", "s1", f"--from-literal=password={secrets['value-0']}")
        f = tmp_path / "file"
        f.write_text(secrets["value-1"])
        kc("create", "secret", "generic", "s2", f"--from-file=key={f}")
        kc("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s3"},
                                                   "stringData": {"k": secrets["value-2"]}}))
        kc("patch", "secret", "s1", "-p", json.dumps({"stringData": {"password": secrets["value-3"]}}))
        kc("get", "secrets", "-o", "yaml")
        kc("apply", "--server-side", "-f", "-", input=json.dumps(
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s4"}, "data": {
                "k": base64.b64encode(secrets["value-4"].encode()).decode()}}))
        bad = kc("create", "-f", "-", check=False, input=json.dumps(
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "Bad_Name"}, "stringData": {"k": secrets["value-5"]}}))
        assert bad.rc != 0, bad.describe()
        sa_token = kc("create", "token", "default").stdout.strip()
        from test_service_accounts import as_token
        assert as_token(kc, sa_token, "get", "secrets").rc != 0
        wrong = "wrong-" + secrets["value-0"][::-1]
        assert server.request("GET", "/api", token=wrong).status == 401
        keys = {n: (server.data_dir / n).read_text() for n in ("ca.key", "server.key", "admin.key", "sa.key")}
        admin_token = server.token
    finally:
        server.stop()
    log = server.log_path.read_text(errors="replace")
    assert log.count("\n") > 200 and "TRACE" in log, "the trace log is written"
    needles = {**secrets, "admin token": admin_token, "service account token": sa_token,
               "service account token signature": sa_token.rsplit(".", 1)[1], "a wrong token": wrong}
    for what, v in secrets.items():
        needles[f"{what} in base64"] = base64.b64encode(v.encode()).decode().rstrip("=")
    for name, pem in keys.items():
        lines = [ln for ln in pem.splitlines() if ln and not ln.startswith("-----")]
        for i, ln in enumerate(lines):
            needles[f"{name} line {i}"] = ln[:40]
    found = [what for what, v in needles.items() if v in log]
    assert not found, f"{found} in {server.log_path}"
    # The shared k2d's debug log of the whole session so far, too.
    session_log = k2d.log_path.read_text(errors="replace")
    assert k2d.token not in session_log
    for n in ("ca.key", "server.key", "admin.key", "sa.key"):
        body = [ln for ln in (k2d.data_dir / n).read_text().splitlines() if ln and not ln.startswith("-----")]
        assert not any(ln[:40] in session_log for ln in body), f"{n} material in {k2d.log_path}"
