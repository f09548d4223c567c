"""Issue 6, pods/exec and pods/attach: kubectl exec over WebSocket v5 (and the
SPDY/3.1 fallback), with split stdout/stderr and the command's exit code, stdin
piped byte-exact, a terminal (under `script`) with its size, attach to a running
container, an exec whose container exits under it, and malformed upgrades that
get a clear error while k2d keeps serving."""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import subprocess
import time

import pytest

from conftest import run
from helpers import Background, kubectl_cmd, kubectl_env
from streaming_common import SLEEPER, busybox, create_pod, delete_namespace, module_namespace, raw_request


@pytest.fixture(scope="module")
def shell(k2d):
    """A running busybox pod `bb` in a namespace of this module: (namespace, pod)."""
    api, ns = module_namespace(k2d)
    create_pod(api, ns, "bb", [busybox("bb", SLEEPER)])
    yield ns, "bb"
    delete_namespace(api, ns)


def test_exec_splits_streams_and_returns_the_exit_code(kubectl, shell):
    ns, pod = shell
    r = kubectl("exec", "-n", ns, pod, "--", "sh", "-c", "echo out; echo err >&2; exit 3", check=False)
    assert r.rc == 3, r.describe()
    assert r.stdout == "out\n", r.describe()
    assert "err\n" in r.stderr and "command terminated with exit code 3" in r.stderr, r.describe()
    ok = kubectl("exec", "-n", ns, pod, "-c", "bb", "--", "echo", "hi")
    assert ok.stdout == "hi\n" and ok.rc == 0


def test_exec_over_spdy_fallback(kubectl, shell):
    """With WebSockets turned off kubectl speaks SPDY/3.1 (POST + Upgrade: SPDY/3.1)."""
    ns, pod = shell
    env = kubectl_env(kubectl, KUBECTL_REMOTE_COMMAND_WEBSOCKETS="false")
    p = subprocess.run(kubectl_cmd(kubectl, "exec", "-i", "-n", ns, pod, "--", "sh", "-c",
                                   "cat; echo err >&2; exit 4"),
                       input=b"via spdy\n", capture_output=True, env=env, timeout=60)
    assert p.returncode == 4, (p.stdout, p.stderr)
    assert p.stdout == b"via spdy\n", p.stderr
    assert b"err\n" in p.stderr


def test_exec_stdin_is_piped_byte_exact(kubectl, shell):
    ns, pod = shell
    data = os.urandom(10 * 1024 * 1024)
    start = time.monotonic()
    p = subprocess.run(kubectl_cmd(kubectl, "exec", "-i", "-n", ns, pod, "--", "cat"),
                       input=data, capture_output=True, env=kubectl.env(), timeout=120)
    took = time.monotonic() - start
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    assert len(p.stdout) == len(data), f"{len(p.stdout)} bytes back of {len(data)}"
    assert hashlib.sha256(p.stdout).digest() == hashlib.sha256(data).digest()
    print(f"10 MB through exec -i cat: {took:.1f}s")


def test_exec_with_a_terminal_and_its_size(kubectl, shell):
    """`kubectl exec -it` under a pseudo-terminal (`script`): the terminal size kubectl
    sends on the resize channel reaches the command's terminal; no stderr channel."""
    ns, pod = shell
    inner = ("for i in $(seq 50); do s=$(stty size); [ \"$s\" = \"45 123\" ] && break; sleep 0.1; done; "
             "echo size=$s; tty >/dev/null && echo is-a-tty; exit 7")
    cmd = shlex.join(kubectl_cmd(kubectl, "exec", "-it", "-n", ns, pod, "--", "sh", "-c", inner))
    r = run(["script", "-qec", f"stty cols 123 rows 45; {cmd}", "/dev/null"],
            env=kubectl.env(), check=False, timeout=60)
    assert "size=45 123" in r.stdout, r.describe()
    assert "is-a-tty" in r.stdout, r.describe()
    assert "Unknown stream id" not in r.output, r.describe()
    assert r.rc == 7, r.describe()


def test_attach_to_a_running_container(kubectl, k2d, tmp_path):
    api, ns = module_namespace(k2d)
    try:
        create_pod(api, ns, "ticker", [busybox(
            "ticker", "trap 'exit 0' TERM; i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.3; done")])
        bg = Background(kubectl_cmd(kubectl, "attach", "-n", ns, "ticker"), kubectl.env(),
                        tmp_path / "attach.log")
        try:
            assert bg.wait_for(r"^tick \d+$", timeout=30), bg.describe()
            seen = bg.output()
            time.sleep(1)
            assert len(bg.output()) > len(seen), "attach keeps streaming\n" + bg.describe()
        finally:
            bg.stop()
    finally:
        delete_namespace(api, ns)


def test_attach_with_stdin_and_terminal(kubectl_newest, k2d):
    """`kubectl attach -it` to a container whose main process is an interactive shell."""
    kubectl = kubectl_newest
    api, ns = module_namespace(k2d)
    try:
        create_pod(api, ns, "tty", [{"name": "tty", "image": "k2d-test/busybox:latest",
                                      "imagePullPolicy": "Never", "command": ["sh"],
                                      "stdin": True, "tty": True}], restart="Never")
        cmd = shlex.join(kubectl_cmd(kubectl, "attach", "-it", "-n", ns, "tty"))
        # The shell reads what is typed in the terminal and exits; attach ends with it.
        p = subprocess.run(["script", "-qec", cmd, "/dev/null"], input=b"echo typed-$((6*7))\nexit\n",
                           capture_output=True, env=kubectl.env(), timeout=60)
        out = p.stdout.decode(errors="replace")
        assert "typed-42" in out, out + p.stderr.decode(errors="replace")
    finally:
        delete_namespace(api, ns)


def test_exec_into_a_container_that_exits_mid_stream(kubectl_newest, k2d):
    kubectl = kubectl_newest
    api, ns = module_namespace(k2d)
    try:
        create_pod(api, ns, "short", [busybox("short", "sleep 4")], restart="Never")
        start = time.monotonic()
        r = kubectl("exec", "-n", ns, "short", "--", "sh", "-c", "echo started; sleep 60", check=False,
                    timeout=60)
        took = time.monotonic() - start
        assert "started" in r.stdout, r.describe()
        assert r.rc != 0, r.describe()
        assert took < 20, f"exec should end when its container does ({took:.1f}s)\n{r.describe()}"
    finally:
        delete_namespace(api, ns)


def test_exec_errors_before_the_upgrade(kubectl_newest, shell):
    kubectl = kubectl_newest
    ns, pod = shell
    r = kubectl("exec", "-n", ns, pod, "-c", "nope", "--", "true", check=False)
    assert r.rc != 0 and "container nope is not valid for pod bb" in r.stderr, r.describe()
    r = kubectl("exec", "-n", ns, "missing", "--", "true", check=False)
    assert r.rc != 0 and 'pods "missing" not found' in r.stderr, r.describe()


def _ws_head(k2d, path: str, *, version="13", key="dGhlIHNhbXBsZSBub25jZQ==",
             protocol="v5.channel.k8s.io") -> str:
    return (f"GET {path} HTTP/1.1\nHost: 127.0.0.1:{k2d.port}\nAuthorization: Bearer {k2d.token}\n"
            f"Connection: Upgrade\nUpgrade: websocket\nSec-WebSocket-Version: {version}\n"
            f"Sec-WebSocket-Key: {key}\nSec-WebSocket-Protocol: {protocol}\n")


def _status_of(answer: bytes) -> tuple[int, dict]:
    head, _, body = answer.partition(b"\r\n\r\n")
    code = int(head.split(b" ")[1])
    if b"chunked" in head.lower():
        size, _, rest = body.partition(b"\r\n")
        body = rest[:int(size, 16)]
    return code, json.loads(body)


def test_malformed_upgrades_get_clear_errors(k2d, shell):
    ns, pod = shell
    path = f"/api/v1/namespaces/{ns}/pods/{pod}/exec?command=true&stdout=true"
    code, st = _status_of(raw_request(k2d, _ws_head(k2d, path, version="8")))
    assert code == 400 and "Sec-WebSocket-Version" in st["message"], st
    code, st = _status_of(raw_request(k2d, _ws_head(k2d, path, key="short")))
    assert code == 400 and "Sec-WebSocket-Key" in st["message"], st
    code, st = _status_of(raw_request(k2d, _ws_head(k2d, path, protocol="chat.example")))
    assert code == 400 and "chat.example" in st["message"], st
    code, st = _status_of(raw_request(k2d, _ws_head(k2d, path.replace("command=true&", ""))))
    assert code == 400 and st["message"] == "you must specify at least 1 command", st
    # Garbage after a successful SPDY upgrade: k2d answers GOAWAY (protocol error) and closes.
    head = (f"POST /api/v1/namespaces/{ns}/pods/{pod}/portforward HTTP/1.1\nHost: x\n"
            f"Authorization: Bearer {k2d.token}\nConnection: Upgrade\nUpgrade: SPDY/3.1\n"
            f"X-Stream-Protocol-Version: portforward.k8s.io\nContent-Length: 0\n")
    answer = raw_request(k2d, head, then=b"\x80\x03\x00\x01\x00\x00\x00\x0cgarbage-here")
    assert answer.startswith(b"HTTP/1.1 101"), answer[:300]
    after = answer.partition(b"\r\n\r\n")[2]
    assert after[:4] == b"\x80\x03\x00\x07", f"expected a GOAWAY frame, got {after[:32]!r}"
    # And k2d keeps serving.
    assert k2d.request("GET", "/version").status == 200


def test_exec_needs_create_on_pods_exec(kubectl_newest, shell):
    """The WebSocket GET is authorized as `create` on `pods/exec`, as the real server does."""
    from test_service_accounts import as_token

    kubectl = kubectl_newest
    ns, pod = shell
    kubectl("create", "serviceaccount", "execer", "-n", ns)
    kubectl("create", "role", "reader", "--verb=get,list", "--resource=pods", "-n", ns)
    kubectl("create", "rolebinding", "execer-reads", "--role=reader", f"--serviceaccount={ns}:execer", "-n", ns)
    token = kubectl("create", "token", "execer", "-n", ns).stdout.strip()
    r = as_token(kubectl, token, "exec", "-n", ns, pod, "--", "echo", "hi")
    assert r.rc != 0 and 'cannot create resource "pods/exec"' in r.stderr, r.describe()
    kubectl("create", "role", "execer", "--verb=create", "--resource=pods/exec", "-n", ns)
    kubectl("create", "rolebinding", "execer-execs", "--role=execer", f"--serviceaccount={ns}:execer", "-n", ns)
    r = as_token(kubectl, token, "exec", "-n", ns, pod, "--", "echo", "hi")
    assert r.rc == 0 and r.stdout == "hi\n", r.describe()


def test_exec_over_websocket_v4(k2d, shell):
    """A client that offers only `v4.channel.k8s.io` gets it echoed in the 101, its output
    in binary frames with the channel byte, and a Success Status on channel 3."""
    ns, pod = shell
    path = f"/api/v1/namespaces/{ns}/pods/{pod}/exec?command=echo&command=hi&stdout=true"
    answer = raw_request(k2d, _ws_head(k2d, path, protocol="v4.channel.k8s.io"))
    head, _, frames = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101"), head
    assert b"sec-websocket-protocol: v4.channel.k8s.io" in head.lower(), head
    assert b"\x82\x04\x01hi\n" in frames, frames
    status = frames[frames.index(b"\x03{"):]
    assert b'"status":"Success"' in status, frames
    assert b"\x88" in frames, "a close frame ends the stream"
