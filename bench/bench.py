#!/usr/bin/env python3
"""k2d's benchmarks: footprint, latency and deploy time, each beside the engine's own figure.

Run through bench/run.sh, which installs what is missing, starts the engine and builds k2d.
Every figure is measured in this one run, next to its reference (the Docker engine doing
the same work), and printed as a markdown table; nothing passes or fails on a timing.

    bench.py --k2d BIN --kubectl KUBECTL --oha OHA [--short] [--out FILE]

--short shrinks every window and count so that the whole run takes about a minute (CI runs
it that way to keep the harness working); the figures of a short run are not the ones to
quote.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
ENGINE_SOCKET = os.environ.get("DOCKER_SOCKET", "/var/run/docker.sock")
NAMESPACE = "bench"
IMAGE = "k2d-test/busybox:latest"


# --------------------------------------------------------------------------- settings


@dataclass
class Settings:
    """Windows and counts of one run: the full ones, or the short ones of CI."""

    idle_seconds: float = 60
    cpu_seconds: float = 60
    disk_seconds: float = 300
    pod_steps: tuple = (10, 100, 300)
    idle_pods: int = 100
    watches: int = 5
    load_seconds: float = 10
    warm_starts: int = 5
    deploy_replicas: int = 10
    deploy_rounds: int = 3
    settle_seconds: float = 15

    @staticmethod
    def short() -> "Settings":
        return Settings(idle_seconds=3, cpu_seconds=3, disk_seconds=3, pod_steps=(3, 10),
                        idle_pods=10, watches=5, load_seconds=1, warm_starts=2,
                        deploy_replicas=3, deploy_rounds=1, settle_seconds=3)


# --------------------------------------------------------------------------- /proc


def proc_status(path: str) -> dict[str, str]:
    """The `key: value` lines of a /proc status file."""
    out = {}
    with open(path) as f:
        for line in f:
            key, _, value = line.partition(":")
            out[key] = value.strip()
    return out


def rss_kb(pid: int) -> int:
    return int(proc_status(f"/proc/{pid}/status")["VmRSS"].split()[0])


def pss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    raise RuntimeError("no Pss line in smaps_rollup")


def cpu_ticks(pid: int) -> int:
    """utime + stime of the whole process (all threads), in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is the state (field 3 of stat); utime and stime are fields 14 and 15.
    return int(fields[11]) + int(fields[12])


def context_switches(pid: int) -> dict[str, tuple[int, int]]:
    """Voluntary and involuntary context switches of each thread, by thread id."""
    out = {}
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            st = proc_status(f"/proc/{pid}/task/{task}/status")
        except FileNotFoundError:
            continue
        out[task] = (int(st.get("voluntary_ctxt_switches", 0)),
                     int(st.get("nonvoluntary_ctxt_switches", 0)))
    return out


def switches_between(before: dict, after: dict) -> tuple[int, int]:
    """Context switches from `before` to `after`: threads that ended in between are left
    out (their last counts are gone), threads that started count from zero."""
    vol = invol = 0
    for tid, (v, i) in after.items():
        v0, i0 = before.get(tid, (0, 0))
        vol += v - v0
        invol += i - i0
    return vol, invol


def write_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/io") as f:
        for line in f:
            if line.startswith("write_bytes:"):
                return int(line.split()[1])
    raise RuntimeError("no write_bytes in /proc/PID/io")


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


# --------------------------------------------------------------------------- HTTP


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over the engine's unix socket."""

    def __init__(self, path: str, timeout: float = 60):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


def engine(method: str, path: str, body=None):
    conn = UnixHTTPConnection(ENGINE_SOCKET)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    if resp.status >= 300:
        raise RuntimeError(f"engine {method} {path}: {resp.status} {data[:300]!r}")
    return json.loads(data) if data else None


class K2D:
    """One k2d process with its data directory."""

    def __init__(self, binary: Path, data_dir: Path, port: int, extra_args=()):
        self.binary, self.data_dir, self.port = binary, data_dir, port
        self.extra_args = list(extra_args)
        self.proc: subprocess.Popen | None = None
        self.log = open(data_dir / "k2d.log", "ab")

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def kubeconfig(self) -> Path:
        return self.data_dir / "kubeconfig"

    def token(self) -> str:
        return (self.data_dir / "token").read_text().strip()

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.data_dir / "ca.crt"))

    def start(self) -> float:
        """Starts k2d; returns the seconds from exec to the first 200 from /readyz."""
        t0 = time.monotonic()
        self.proc = subprocess.Popen(
            [str(self.binary), "serve", "--data-dir", str(self.data_dir), "--port", str(self.port),
             "--listen-address", "127.0.0.1", "--log-level", "warn", *self.extra_args],
            stdout=self.log, stderr=subprocess.STDOUT)
        token_file = self.data_dir / "token"
        deadline = t0 + 60
        ctx = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"k2d exited with {self.proc.returncode}; see {self.data_dir}/k2d.log")
            if token_file.exists() and (self.data_dir / "ca.crt").exists():
                try:
                    ctx = ctx or self.ssl_context()
                    conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx, timeout=5)
                    conn.request("GET", "/readyz", headers={"Authorization": f"Bearer {self.token()}"})
                    if conn.getresponse().status == 200:
                        conn.close()
                        return time.monotonic() - t0
                    conn.close()
                except (OSError, ssl.SSLError, http.client.HTTPException):
                    ctx = None
            time.sleep(0.001)
        raise RuntimeError("k2d did not answer /readyz within 60 s")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def connection(self, timeout: float = 60) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ssl_context(),
                                           timeout=timeout)

    def get(self, path: str) -> dict:
        conn = self.connection()
        conn.request("GET", path, headers={"Authorization": f"Bearer {self.token()}"})
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        if resp.status != 200:
            raise RuntimeError(f"GET {path}: {resp.status} {data[:300]!r}")
        return json.loads(data)


class Watch(threading.Thread):
    """A watch held open on k2d, reading every event (a client that keeps up)."""

    def __init__(self, k2d: K2D, path: str, on_event=None):
        super().__init__(daemon=True)
        self.k2d, self.path, self.on_event = k2d, path, on_event
        self.events = 0
        self.opened = threading.Event()
        self.stopping = False
        self.conn = None

    def run(self):
        self.conn = self.k2d.connection(timeout=None)
        self.conn.request("GET", self.path, headers={"Authorization": f"Bearer {self.k2d.token()}"})
        resp = self.conn.getresponse()
        self.opened.set()
        while not self.stopping:
            line = resp.readline()
            if not line:
                return
            self.events += 1
            if self.on_event:
                self.on_event(json.loads(line))

    def close(self):
        self.stopping = True
        try:
            self.conn.sock.shutdown(socket.SHUT_RDWR)
        except (OSError, AttributeError):
            pass


# --------------------------------------------------------------------------- load (oha)


def oha(binary: str, url: str, *, seconds: float, clients: int, headers=(), unix=None, insecure=False):
    """Runs oha for `seconds` with `clients` concurrent connections; returns its summary."""
    cmd = [binary, "--no-tui", "--output-format", "json", "-z", f"{seconds}s", "-c", str(clients)]
    for h in headers:
        cmd += ["-H", h]
    if unix:
        cmd += ["--unix-socket", unix]
    if insecure:
        cmd += ["--insecure"]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, timeout=seconds + 120)
    if out.returncode != 0:
        raise RuntimeError(f"oha failed: {out.stderr[-500:]}")
    data = json.loads(out.stdout)
    codes = data.get("statusCodeDistribution", {})
    bad = {c: n for c, n in codes.items() if not c.startswith("2")}
    # Requests still in flight when the time is up are cut off by oha itself.
    errors = {e: n for e, n in data.get("errorDistribution", {}).items() if "deadline" not in e}
    if bad or errors:
        raise RuntimeError(f"oha {url}: non-2xx answers {bad} errors {errors}")
    pct = data["latencyPercentiles"]
    return {"p50": pct["p50"] * 1000, "p99": pct["p99"] * 1000,
            "rps": data["summary"]["requestsPerSec"]}


# --------------------------------------------------------------------------- kubectl


def kubectl(args, k2d: K2D, kubectl_bin: str, stdin: str | None = None, timeout=300):
    out = subprocess.run([kubectl_bin, "--kubeconfig", str(k2d.kubeconfig), *args], input=stdin,
                         capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"kubectl {' '.join(args)}: {out.stderr.strip()}")
    return out.stdout


def deployment(name: str, replicas: int) -> str:
    return json.dumps({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "terminationGracePeriodSeconds": 1,
                    "containers": [{"name": "c", "image": IMAGE, "imagePullPolicy": "Never",
                                    "command": ["sleep", "86400"]}],
                },
            },
        },
    })


def wait_ready(k2d: K2D, name: str, replicas: int, timeout: float = 900) -> float:
    """Blocks until the Deployment reports `replicas` ready, seen through a watch; returns when."""
    done = threading.Event()
    seen = {"t": None}

    def on_event(ev):
        status = ev.get("object", {}).get("status", {})
        if status.get("readyReplicas", 0) >= replicas and status.get("updatedReplicas", 0) >= replicas:
            if seen["t"] is None:
                seen["t"] = time.monotonic()
            done.set()

    w = Watch(k2d, f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments?watch=1&fieldSelector=metadata.name%3D{name}",
              on_event)
    w.start()
    w.opened.wait(30)
    if not done.wait(timeout):
        w.close()
        raise RuntimeError(f"deployment {name} not ready with {replicas} replicas in {timeout}s")
    w.close()
    return seen["t"]


def docker_run(names: list[str]) -> float:
    """`docker run -d` of each name in turn (what an operator's script does); returns seconds."""
    t0 = time.monotonic()
    for n in names:
        subprocess.run(["docker", "run", "-d", "--name", n, IMAGE, "sleep", "86400"],
                       check=True, capture_output=True)
    return time.monotonic() - t0


def docker_rm(names: list[str]):
    subprocess.run(["docker", "rm", "-f", *names], capture_output=True)


# --------------------------------------------------------------------------- the figures


@dataclass
class Row:
    """One line of the table."""

    figure: str
    k2d: str
    reference: str = ""
    ratio: str = ""
    target: str = ""


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *a, **kw):
        row = Row(*a, **kw)
        self.rows.append(row)
        print(f"  {row.figure}: {row.k2d}" + (f" | {row.reference}" if row.reference else "")
              + (f" | ratio {row.ratio}" if row.ratio else ""), flush=True)

    def markdown(self, header: str) -> str:
        lines = [header, "", "| figure | k2d | reference (same run) | ratio | target |",
                 "|---|---|---|---|---|"]
        for r in self.rows:
            lines.append(f"| {r.figure} | {r.k2d} | {r.reference} | {r.ratio} | {r.target} |")
        if self.notes:
            lines += [""] + [f"- {n}" for n in self.notes]
        return "\n".join(lines) + "\n"


def kb(v: float) -> str:
    return f"{v / 1024:.1f} MB" if v >= 1024 else f"{v:.0f} KB"


def ms(v: float) -> str:
    return f"{v:.2f} ms"


def sample_memory(pid: int, seconds: float) -> tuple[list[int], list[int]]:
    rss, pss = [], []
    end = time.monotonic() + seconds
    while True:
        rss.append(rss_kb(pid))
        pss.append(pss_kb(pid))
        if time.monotonic() >= end:
            return rss, pss
        time.sleep(min(1.0, max(0.0, end - time.monotonic())))


def bench_startup(args, s: Settings, report: Report, work: Path):
    data = work / "startup"
    data.mkdir()
    k = K2D(args.k2d, data, free_port())
    first = k.start()
    k.stop()
    warm = []
    for _ in range(s.warm_starts):
        k = K2D(args.k2d, data, free_port())
        warm.append(k.start())
        k.stop()
    report.add("Startup, first (certificates made): exec to /readyz", ms(first * 1000))
    report.add("Startup, warm: exec to /readyz (median of %d)" % len(warm),
               ms(statistics.median(warm) * 1000), target="< 100 ms")


def bench_binary(args, report: Report):
    size = os.stat(args.k2d).st_size
    report.add("Binary size (stripped release, LTO, codegen-units=1)", f"{size / 1e6:.2f} MB",
               target="< 10 MB")


def bench_idle(k: K2D, s: Settings, report: Report):
    time.sleep(s.settle_seconds)
    rss, pss = sample_memory(k.pid, s.idle_seconds)
    report.add(f"Idle RSS, 0 pods, {s.idle_seconds:.0f} s: median / max",
               f"{kb(statistics.median(rss))} / {kb(max(rss))}", target="<= 8 MB")
    report.add(f"Idle PSS, 0 pods, {s.idle_seconds:.0f} s: median / max",
               f"{kb(statistics.median(pss))} / {kb(max(pss))}")
    return statistics.median(rss)


def scale_to(k: K2D, kubectl_bin: str, n: int, timeout: float = 900):
    """Scales the load Deployment to `n` and waits until `n` pods are ready and no other pod
    of it is left (a scale-down is over only when the removed pods are gone)."""
    kubectl(["scale", "-n", NAMESPACE, "deploy/load", f"--replicas={n}"], k, kubectl_bin)
    wait_ready(k, "load", n)
    deadline = time.monotonic() + timeout
    while len(k.get(f"/api/v1/namespaces/{NAMESPACE}/pods?labelSelector=app%3Dload")["items"]) != n:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the load Deployment still has more than {n} pods after {timeout}s")
        time.sleep(1)


def bench_load(args, k: K2D, s: Settings, report: Report, idle_rss: float):
    kubectl(["apply", "-f", "-"], k, args.kubectl, stdin=deployment("load", s.pod_steps[0]))
    wait_ready(k, "load", s.pod_steps[0])
    watches = [Watch(k, "/api/v1/pods?watch=1" if i % 2 == 0 else
                     f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments?watch=1") for i in range(s.watches)]
    for w in watches:
        w.start()
        w.opened.wait(30)
    by_pods = {}
    for n in s.pod_steps:
        scale_to(k, args.kubectl, n)
        time.sleep(s.settle_seconds)
        by_pods[n] = statistics.median(sample_memory(k.pid, min(10, s.idle_seconds))[0])
        report.add(f"RSS with {n} running pods and {s.watches} watches", kb(by_pods[n]),
                   target="<= 12 MB at 100 pods" if n == 100 else "")
    steps = sorted(by_pods)
    if len(steps) >= 2:
        lo, hi = steps[0], steps[-1]
        report.add(f"Marginal memory per pod ({lo} to {hi} pods)",
                   kb((by_pods[hi] - by_pods[lo]) / (hi - lo)))
    # idle with pods: CPU, context switches and writes while nothing changes
    scale_to(k, args.kubectl, s.idle_pods)
    time.sleep(s.settle_seconds)
    w0, t0, c0 = write_bytes(k.pid), cpu_ticks(k.pid), context_switches(k.pid)
    time.sleep(s.cpu_seconds)
    t1, c1 = cpu_ticks(k.pid), context_switches(k.pid)
    time.sleep(max(0, s.disk_seconds - s.cpu_seconds))
    w1 = write_bytes(k.pid)
    report.add(f"Idle CPU with {s.idle_pods} pods: ticks in {s.cpu_seconds:.0f} s "
               f"(1 tick = {1000 // TICKS} ms)", str(t1 - t0), target="0 per minute")
    report.add(f"Idle context switches with {s.idle_pods} pods in {s.cpu_seconds:.0f} s "
               "(voluntary / involuntary, all threads)", "%d / %d" % switches_between(c0, c1))
    report.add(f"Idle disk writes with {s.idle_pods} pods in {s.disk_seconds:.0f} s (write_bytes)",
               f"{w1 - w0} B", target="0 B")
    report.notes.append(f"{s.watches} watches stayed open during the load figures and received "
                        f"{sum(w.events for w in watches)} events in all.")
    for w in watches:
        w.close()
    return by_pods


def bench_latency(args, k: K2D, s: Settings, report: Report, pods: int):
    pod_list = k.get(f"/api/v1/namespaces/{NAMESPACE}/pods")["items"]
    pod = pod_list[0]["metadata"]["name"]
    uid = pod_list[0]["metadata"]["uid"]
    containers = engine("GET", "/containers/json?filters=" + json.dumps(
        {"label": [f"io.k2d.pod.uid={uid}"]}).replace(" ", ""))
    # the app container rather than the sandbox
    target = next((c for c in containers if c["Labels"].get("io.k2d.container.name") == "c"), None)
    if target is None:
        raise RuntimeError(f"no engine container for pod {pod}: {containers}")
    auth = f"Authorization: Bearer {k.token()}"
    base = f"https://127.0.0.1:{k.port}"
    table = "Accept: application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
    # the engine's listing of the same pods' containers (app and sandbox)
    engine_list = "http://localhost/containers/json?filters=" + urllib.parse.quote(
        json.dumps({"label": [f"io.k2d.pod.namespace={NAMESPACE}"]}))
    cases = [
        ("GET pod", [f"{base}/api/v1/namespaces/{NAMESPACE}/pods/{pod}", [auth]],
         ("GET /containers/{id}/json", f"http://localhost/containers/{target['Id']}/json")),
        (f"LIST {pods} pods (JSON)", [f"{base}/api/v1/namespaces/{NAMESPACE}/pods", [auth]],
         ("GET /containers/json of those pods", engine_list)),
        (f"LIST {pods} pods (Table)", [f"{base}/api/v1/namespaces/{NAMESPACE}/pods", [auth, table]],
         ("GET /containers/json of those pods", engine_list)),
        ("GET /apis (discovery)", [f"{base}/apis", [auth, "Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"]],
         ("GET /version", "http://localhost/version")),
    ]
    for clients in (1, 16):
        for name, (url, headers), (ref_name, ref_url) in cases:
            mine = oha(args.oha, url, seconds=s.load_seconds, clients=clients, headers=headers, insecure=True)
            ref = oha(args.oha, ref_url, seconds=s.load_seconds, clients=clients, unix=ENGINE_SOCKET)
            report.add(f"{name}, {clients} client{'s' if clients > 1 else ''}: p50 / p99",
                       f"{ms(mine['p50'])} / {ms(mine['p99'])}",
                       f"{ref_name}: {ms(ref['p50'])} / {ms(ref['p99'])}",
                       f"{mine['p50'] / ref['p50']:.2f} / {mine['p99'] / ref['p99']:.2f}",
                       "p50 within 1.5x" if not name.startswith("GET /apis") else "")
            if clients == 16 and (name == "GET pod" or name.startswith("GET /apis")):
                report.add(f"Throughput, {name}, 16 clients", f"{mine['rps']:.0f} req/s",
                           f"{ref_name}: {ref['rps']:.0f} req/s", f"{mine['rps'] / ref['rps']:.2f}",
                           "> 10,000 req/s" if name.startswith("GET /apis") else "")


def bench_deploy(args, k: K2D, s: Settings, report: Report):
    n = s.deploy_replicas
    ratios, k2d_times, docker_times = [], [], []
    for r in range(s.deploy_rounds):
        names = [f"k2d-bench-run-{r}-{i}" for i in range(n)]
        d = docker_run(names)
        docker_rm(names)
        name = f"ready{r}"
        t0 = time.monotonic()
        kubectl(["apply", "-f", "-"], k, args.kubectl, stdin=deployment(name, n))
        t = wait_ready(k, name, n) - t0
        kubectl(["delete", "-n", NAMESPACE, f"deploy/{name}", "--wait=false"], k, args.kubectl)
        k2d_times.append(t)
        docker_times.append(d)
        ratios.append(t / d)
        time.sleep(s.settle_seconds)
    report.add(f"Deploy-to-ready, {n} replicas (kubectl apply, watch until Ready; median of {len(ratios)})",
               f"{statistics.median(k2d_times):.2f} s",
               f"docker run -d x{n}: {statistics.median(docker_times):.2f} s",
               f"{statistics.median(ratios):.2f}", "within 1.2x")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--k2d", type=Path, required=True)
    p.add_argument("--kubectl", required=True)
    p.add_argument("--oha", required=True)
    p.add_argument("--short", action="store_true")
    p.add_argument("--out", type=Path)
    args = p.parse_args()
    s = Settings.short() if args.short else Settings()
    report = Report()
    work = Path(tempfile.mkdtemp(prefix="k2d-bench-"))
    print(f"k2d benchmarks ({'short' if args.short else 'full'} mode), work dir {work}", flush=True)
    bench_binary(args, report)
    bench_startup(args, s, report, work)
    data = work / "main"
    data.mkdir()
    k = K2D(args.k2d, data, free_port())
    k.start()
    try:
        idle = bench_idle(k, s, report)
        kubectl(["create", "namespace", NAMESPACE], k, args.kubectl)
        by_pods = bench_load(args, k, s, report, idle)
        bench_latency(args, k, s, report, s.idle_pods)
        kubectl(["delete", "-n", NAMESPACE, "deploy/load", "--wait=false"], k, args.kubectl)
        time.sleep(s.settle_seconds)
        bench_deploy(args, k, s, report)
    finally:
        try:
            kubectl(["delete", "namespace", NAMESPACE, "--wait=true", "--timeout=300s"], k, args.kubectl,
                    timeout=360)
        except Exception as e:  # noqa: BLE001 - clean-up is best effort, the figures are what counts
            print(f"clean-up: {e}", file=sys.stderr)
        k.stop()
    cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"],
                         capture_output=True, text=True).stdout.strip()
    engine_version = engine("GET", "/version")["Version"]
    header = (f"k2d benchmarks, {'short' if args.short else 'full'} mode, "
              f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {os.cpu_count()} cores ({cpu}), "
              f"Docker engine {engine_version}")
    md = report.markdown(header)
    print()
    print(md)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(md)
        print(f"written to {args.out}")
    _ = by_pods, idle
    return 0


if __name__ == "__main__":
    sys.exit(main())
