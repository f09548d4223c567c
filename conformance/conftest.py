"""Fixtures of k2d's conformance suite: a running k2d, real clients pointed at it.

Fixtures
- ``k2d`` (session): one `k2d serve` on 127.0.0.1:<free port> with a temporary
  data dir and --log-level debug; see K2DServer for what it exposes.
- ``kubectl``: parametrized over every kubectl (the machine's `kubectl` on PATH,
  and kubectl 1.32, 1.35, 1.37 from $K2D_TOOLS/bin); every call uses a fresh
  --cache-dir, so discovery and OpenAPI are fetched anew each time.
- ``kubectl_newest``: only the newest kubectl (for loops over every resource).
- ``helm``: parametrized over helm 3, helm 4 (v4.1) and helm 4.3.
- ``kube_client``: the official Python client configured from k2d's kubeconfig.
- ``spec``: the model of spec/ (spec_model.py), computed independently of k2d.

The engine: Docker's socket by default. ``K2D_ENGINE`` (e.g.
``unix:///run/podman/podman.sock``) points the k2d under test at another engine (k2d reads
the variable itself) and the ``docker`` CLI the tests call at the same one (DOCKER_HOST).
``K2D_ENGINE_KIND=podman`` marks the Podman pass: tests marked
``@pytest.mark.docker_only("why Podman cannot")`` are skipped there with that reason.

Nothing is skipped silently: a missing tool is a failure with a message saying
how to install it (scripts/test.sh installs everything).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import spec_model

REPO = Path(__file__).resolve().parent.parent
TOOLS = Path(os.environ.get("K2D_TOOLS", "/opt/k2d-tools"))
TOOLS_BIN = TOOLS / "bin"
LOG_DIR = REPO / "target" / "k2d-test"
KUBECTL_VERSIONS = ["1.32", "1.35", "1.37"]
HELM_VERSIONS = ["3", "4", "4.3"]
TEST_IMAGE = "k2d-test/busybox:latest"
TEST_HTTPD_IMAGE = "k2d-test/httpd:latest"
# The engine under test (unset: Docker's socket) and whether it is Podman.
ENGINE = os.environ.get("K2D_ENGINE", "")
ON_PODMAN = os.environ.get("K2D_ENGINE_KIND", "") == "podman"
if ENGINE:
    # Every `docker ...` a test runs talks to the engine k2d drives.
    os.environ["DOCKER_HOST"] = ENGINE


def engine_socket() -> str:
    """The path of the engine's unix socket (Docker's unless K2D_ENGINE names another)."""
    return ENGINE.removeprefix("unix://") if ENGINE.startswith("unix://") else "/var/run/docker.sock"


def k2d_binary() -> Path:
    """K2D_BIN, else the static release build of scripts/lib.sh (K2D_RELEASE_BIN)."""
    default = os.environ.get("K2D_RELEASE_BIN") or (
        REPO / "target" / f"{os.uname().machine}-unknown-linux-gnu" / "release" / "k2d")
    return Path(os.environ.get("K2D_BIN", default))


def upstream_openapi_dir() -> Path:
    """The upstream v1.35 OpenAPI documents, in the shared folder next to the repo."""
    env = os.environ.get("K2D_UPSTREAM_OPENAPI")
    if env:
        return Path(env)
    return REPO.parent / "shared" / "kubernetes-openapi" / "v1.35"


# --------------------------------------------------------------------- commands


@dataclass
class CmdResult:
    args: list[str]
    rc: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def describe(self) -> str:
        def block(name, text):
            text = text if len(text) <= 20000 else text[:4000] + "\n[...]\n" + text[-15000:]
            return f"--- {name} ---\n{text.rstrip()}\n" if text.strip() else f"--- {name}: (empty)\n"

        return (
            f"$ {shlex.join(self.args)}\n(exit code {self.rc}, {self.seconds:.1f}s)\n"
            + block("stdout", self.stdout)
            + block("stderr", self.stderr)
        )


def run(args, *, env=None, input=None, timeout=120, check=True, cwd=None) -> CmdResult:
    """Runs a command, captures stdout/stderr/exit code; with check=True a non-zero
    exit fails the test and shows all of it."""
    args = [str(a) for a in args]
    start = time.monotonic()
    try:
        p = subprocess.run(
            args,
            env=env,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=cwd,
            stdin=None if input is not None else subprocess.DEVNULL,
        )
        res = CmdResult(args, p.returncode, p.stdout, p.stderr, time.monotonic() - start)
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = e.stderr.decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
        res = CmdResult(args, -1, out, err + f"\n[timed out after {timeout}s]", time.monotonic() - start)
        pytest.fail(f"command timed out\n{res.describe()}", pytrace=False)
    if check and res.rc != 0:
        pytest.fail(f"command failed\n{res.describe()}", pytrace=False)
    return res


# --------------------------------------------------------------------- HTTP


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    request: str

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError as e:
            raise AssertionError(f"{self.request}: body is not JSON ({e}):\n{self.text[:2000]}")

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def describe(self) -> str:
        hdrs = "\n".join(f"  {k}: {v}" for k, v in self.headers.items())
        return f"{self.request} -> {self.status}\n{hdrs}\n{self.text[:3000]}"


_DEFAULT = object()
ANSI = re.compile(r"\x1b\[[0-9;]*m")


# --------------------------------------------------------------------- k2d server

_RUNNING_SERVERS: list["K2DServer"] = []
_ALL_SERVERS: list["K2DServer"] = []  # for failure reports, also those stopped during a test


class K2DServer:
    """A `k2d serve` process.

    url, port, data_dir, kubeconfig, token (str), token_path, ca (path of the
    CA certificate), admin_cert / admin_key (paths), log_path.
    """

    def __init__(self, binary: Path, data_dir: Path, log_path: Path, *, port: int | None = None,
                 extra_args=(), env=None):
        self.binary = Path(binary)
        self.data_dir = Path(data_dir)
        self.log_path = Path(log_path)
        self.port = port or free_port()
        self.extra_args = list(extra_args)
        self.env = env
        self.proc: subprocess.Popen | None = None
        self.exit_code: int | None = None

    # files k2d writes on first start
    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def kubeconfig(self) -> Path:
        return self.data_dir / "kubeconfig"

    @property
    def token_path(self) -> Path:
        return self.data_dir / "token"

    @property
    def token(self) -> str:
        return self.token_path.read_text().strip()

    @property
    def ca(self) -> Path:
        return self.data_dir / "ca.crt"

    @property
    def admin_cert(self) -> Path:
        return self.data_dir / "admin.crt"

    @property
    def admin_key(self) -> Path:
        return self.data_dir / "admin.key"

    def command(self) -> list[str]:
        return [
            str(self.binary), "serve",
            "--listen-address", "127.0.0.1",
            "--port", str(self.port),
            "--data-dir", str(self.data_dir),
            "--log-level", "debug",
            *self.extra_args,
        ]

    def start(self, ready_timeout: float = 60):
        if not self.binary.is_file():
            pytest.fail(f"k2d binary {self.binary} does not exist: build it (scripts/lib.sh "
                        "build_k2d_release, or cargo build) or set K2D_BIN", pytrace=False)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ if self.env is None else self.env)
        for k in ("K2D_LISTEN_ADDRESS", "K2D_PORT", "K2D_DATA_DIR", "K2D_ADVERTISE_ADDRESS", "K2D_LOG_LEVEL"):
            env.pop(k, None)
        self._log = open(self.log_path, "ab")
        self._log.write(f"===== {time.strftime('%H:%M:%S')} $ {shlex.join(self.command())}\n".encode())
        self._log.flush()
        self.proc = subprocess.Popen(self.command(), stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env)
        _RUNNING_SERVERS.append(self)
        _ALL_SERVERS.append(self)
        self.wait_ready(ready_timeout)
        return self

    def wait_ready(self, timeout: float):
        deadline = time.monotonic() + timeout
        last = "no attempt"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"k2d exited with code {self.proc.returncode} before it was ready\n"
                            f"{self.log_tail()}", pytrace=False)
            if self.token_path.exists() and self.ca.exists():
                try:
                    r = self.request("GET", "/readyz", timeout=5)
                    if r.status == 200:
                        return
                    last = r.describe()
                except (OSError, ssl.SSLError, http.client.HTTPException) as e:
                    last = repr(e)
            time.sleep(0.2)
        pytest.fail(f"k2d did not answer GET /readyz with 200 within {timeout}s; last: {last}\n"
                    f"{self.log_tail()}", pytrace=False)

    def alive_or_fail(self):
        if self.proc is None or self.proc.poll() is not None:
            code = None if self.proc is None else self.proc.returncode
            pytest.fail(f"k2d is not running (exit code {code})\n{self.log_tail()}", pytrace=False)

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, then wait; returns the exit code (SIGKILL after timeout -> -9)."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.exit_code = self.proc.returncode
        self._log.close()
        if self in _RUNNING_SERVERS:
            _RUNNING_SERVERS.remove(self)
        return self.exit_code

    def log_tail(self, offset: int = 0, lines: int = 150) -> str:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(offset)
                data = f.read().decode("utf-8", "replace").splitlines()
        except OSError as e:
            return f"(no k2d log: {e})"
        shown = [ANSI.sub("", ln) for ln in data[-lines:]]
        head = f"----- k2d log {self.log_path} (last {len(shown)} of {len(data)} lines) -----"
        return head + "\n" + "\n".join(shown)

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def ssl_context(self, cert: Path | None = None, key: Path | None = None) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.ca))
        if cert:
            ctx.load_cert_chain(str(cert), str(key))
        return ctx

    def request(self, method: str, path: str, *, token=_DEFAULT, cert: Path | None = None,
                key: Path | None = None, headers: dict | None = None, body: bytes | None = None,
                host: str = "127.0.0.1", timeout: float = 30) -> HttpResponse:
        """One HTTPS request, verifying the server against k2d's CA.
        token: the admin token by default; None for no Authorization header."""
        hdrs = {"Accept": "application/json"}
        if token is _DEFAULT:
            token = self.token
        if token is not None:
            hdrs["Authorization"] = f"Bearer {token}"
        hdrs.update(headers or {})
        conn = http.client.HTTPSConnection(host, self.port, context=self.ssl_context(cert, key), timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=hdrs)
            r = conn.getresponse()
            data = r.read()
            return HttpResponse(r.status, {k.lower(): v for k, v in r.getheaders()}, data,
                                f"{method} https://{host}:{self.port}{path}")
        finally:
            conn.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------- clients


class Kubectl:
    """Runs one kubectl binary against a k2d. Each call gets a fresh --cache-dir
    (so discovery and OpenAPI are fetched anew) and a private HOME."""

    def __init__(self, name: str, path: Path, server: K2DServer, tmp: Path):
        self.name = name
        self.path = Path(path)
        self.server = server
        self.tmp = tmp
        self.home = tmp / "home"
        self.home.mkdir(parents=True, exist_ok=True)
        self._n = 0

    def env(self) -> dict:
        env = dict(os.environ)
        env.pop("KUBECONFIG", None)
        env["HOME"] = str(self.home)
        env["KUBECONFIG"] = str(self.server.kubeconfig)
        return env

    def fresh_cache(self) -> Path:
        self._n += 1
        d = self.tmp / f"kube-cache-{self._n}"
        d.mkdir(parents=True, exist_ok=True)
        return d

    def __call__(self, *args, check=True, timeout=120, input=None, cache_dir: Path | None = None) -> CmdResult:
        self.server.alive_or_fail()
        cache = cache_dir or self.fresh_cache()
        cmd = [self.path, "--kubeconfig", self.server.kubeconfig, "--cache-dir", cache, *args]
        return run(cmd, env=self.env(), input=input, timeout=timeout, check=check)

    def __repr__(self):
        return f"kubectl[{self.name}]"


class Helm:
    """Runs one helm binary against a k2d with private cache/config/data dirs."""

    def __init__(self, name: str, path: Path, server: K2DServer, tmp: Path):
        self.name = name
        self.path = Path(path)
        self.server = server
        self.tmp = tmp

    def env(self) -> dict:
        env = dict(os.environ)
        env["HOME"] = str(self.tmp / "home")
        env["KUBECONFIG"] = str(self.server.kubeconfig)
        for var, sub in (("HELM_CACHE_HOME", "cache"), ("HELM_CONFIG_HOME", "config"), ("HELM_DATA_HOME", "data")):
            env[var] = str(self.tmp / "helm" / sub)
        return env

    def __call__(self, *args, check=True, timeout=300, input=None) -> CmdResult:
        self.server.alive_or_fail()
        cmd = [self.path, "--kubeconfig", self.server.kubeconfig, *args]
        return run(cmd, env=self.env(), input=input, timeout=timeout, check=check)

    def __repr__(self):
        return f"helm[{self.name}]"


def tool_path(name: str) -> Path:
    """A client from $K2D_TOOLS/bin; fails (not skips) when it is missing."""
    p = TOOLS_BIN / name
    if not (p.is_file() and os.access(p, os.X_OK)):
        pytest.fail(f"{p} is missing: run scripts/test.sh (or conformance/run.sh) once to install the "
                    f"client tools into K2D_TOOLS={TOOLS}", pytrace=False)
    return p


def path_kubectl() -> str | None:
    return shutil.which("kubectl")


# --------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def spec():
    gvs = spec_model.load_spec()
    if not gvs:
        pytest.fail(f"no OpenAPI documents found under {spec_model.spec_dir()}", pytrace=False)
    return gvs


@pytest.fixture(scope="session")
def k2d(tmp_path_factory):
    """The shared k2d server of the session. Stops it with SIGTERM at the end and
    checks that it exits with code 0 (graceful shutdown)."""
    data = tmp_path_factory.mktemp("k2d-data")
    server = K2DServer(k2d_binary(), data, LOG_DIR / "k2d-serve.log")
    if server.log_path.exists():
        server.log_path.unlink()
    server.start()
    yield server
    was_running = server.proc.poll() is None
    code = server.stop()
    if not was_running:
        pytest.fail(f"k2d had exited (code {code}) before the end of the session\n{server.log_tail()}",
                    pytrace=False)
    if code != 0:
        pytest.fail(f"k2d did not shut down gracefully on SIGTERM: exit code {code}\n{server.log_tail()}",
                    pytrace=False)


def _kubectl_params():
    return ["path"] + KUBECTL_VERSIONS


@pytest.fixture(params=_kubectl_params(), ids=lambda p: f"kubectl-{p}")
def kubectl(request, k2d, tmp_path) -> Kubectl:
    """Every kubectl: the machine's `kubectl` on PATH (which may be the Google
    Cloud SDK dispatcher) and kubectl 1.32, 1.35, 1.37 from $K2D_TOOLS/bin."""
    if request.param == "path":
        p = path_kubectl()
        if p is None:
            pytest.skip("no `kubectl` on PATH (optional: the machine's own kubectl); "
                        "the tools-dir kubectls still run")
        return Kubectl("path", Path(p), k2d, tmp_path)
    return Kubectl(request.param, tool_path(f"kubectl-{request.param}"), k2d, tmp_path)


@pytest.fixture
def kubectl_newest(k2d, tmp_path) -> Kubectl:
    v = KUBECTL_VERSIONS[-1]
    return Kubectl(v, tool_path(f"kubectl-{v}"), k2d, tmp_path)


@pytest.fixture(params=HELM_VERSIONS, ids=lambda p: f"helm-{p}")
def helm(request, k2d, tmp_path) -> Helm:
    return Helm(request.param, tool_path(f"helm-{request.param}"), k2d, tmp_path)


@pytest.fixture
def kube_client(k2d):
    """kubernetes.client.ApiClient for k2d's kubeconfig (official Python client)."""
    from kubernetes import client, config

    cfg = client.Configuration()
    config.load_kube_config(config_file=str(k2d.kubeconfig), client_configuration=cfg)
    with client.ApiClient(cfg) as api:
        yield api


# --------------------------------------------------------------------- reporting


def pytest_report_header(config):
    lines = [f"k2d binary: {k2d_binary()}", f"spec: {spec_model.spec_dir()}", f"tools: {TOOLS}",
             f"engine: {ENGINE or 'Docker (default socket)'}{' (Podman pass)' if ON_PODMAN else ''}"]
    manifest = TOOLS / "versions.txt"
    if manifest.exists():
        tools = [ln.split("\t")[:2] for ln in manifest.read_text().splitlines() if ln and not ln.startswith("#")]
        lines.append("clients: " + ", ".join(f"{n} {v}" for n, v in tools))
    lines.append(f"kubectl on PATH: {path_kubectl() or '(none)'}")
    return lines


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "docker_only(reason): needs what Podman's Docker API does not do; "
        "skipped with that reason on the Podman pass (K2D_ENGINE_KIND=podman)")


def pytest_collection_modifyitems(config, items):
    if not ON_PODMAN:
        return
    for item in items:
        mark = item.get_closest_marker("docker_only")
        if mark is not None:
            if not mark.args:
                raise pytest.UsageError(f"{item.nodeid}: docker_only needs a reason naming the Podman limitation")
            item.add_marker(pytest.mark.skip(reason=f"Podman: {mark.args[0]}"))


def pytest_runtest_setup(item):
    item._k2d_log_offsets = {id(s): s.log_size() for s in _ALL_SERVERS}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        offsets = getattr(item, "_k2d_log_offsets", {})
        for s in list(_ALL_SERVERS):
            if s.log_size() > offsets.get(id(s), 0):
                report.sections.append(
                    (f"k2d log during {report.when}", s.log_tail(offsets.get(id(s), 0), lines=200))
                )


# --------------------------------------------------------------------- the faults suite


def pytest_collection_modifyitems(config, items):
    """test_faults_*.py stop and kill a container engine: they run only against the faults
    suite's own engine (scripts/faults-engine.sh exec ..., which sets K2D_FAULTS_ENGINE),
    never against the host's. Elsewhere they are deselected, and pytest says how many."""
    if os.environ.get("K2D_FAULTS_ENGINE"):
        return
    keep, drop = [], []
    for item in items:
        (drop if item.path.name.startswith("test_faults_") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
