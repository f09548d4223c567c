"""The kubeconfig k2d writes, and `k2d kubeconfig` / `k2d version`."""

import base64

import yaml

from conftest import Kubectl, run, tool_path


def test_written_kubeconfig(k2d):
    cfg = yaml.safe_load(k2d.kubeconfig.read_text())
    clusters = {c["name"]: c["cluster"] for c in cfg["clusters"]}
    assert "k2d" in clusters, cfg["clusters"]
    cluster = clusters["k2d"]
    assert cluster["server"] == f"https://127.0.0.1:{k2d.port}", cluster
    assert base64.b64decode(cluster["certificate-authority-data"]) == k2d.ca.read_bytes()
    assert "insecure-skip-tls-verify" not in cluster or not cluster["insecure-skip-tls-verify"]
    ctx = {c["name"]: c["context"] for c in cfg["contexts"]}[cfg["current-context"]]
    assert ctx["cluster"] == "k2d", ctx
    users = {u["name"]: u["user"] for u in cfg["users"]}
    assert users[ctx["user"]].get("token") == k2d.token, "kubeconfig user does not carry the admin token"


def test_kubeconfig_command_with_server(k2d, tmp_path):
    url = f"https://localhost:{k2d.port}"
    r = run([k2d.binary, "kubeconfig", "--data-dir", k2d.data_dir, "--server", url])
    cfg = yaml.safe_load(r.stdout)
    assert cfg["clusters"][0]["cluster"]["server"] == url, r.describe()
    kc = tmp_path / "kubeconfig-localhost"
    kc.write_text(r.stdout)
    # a kubectl using it verifies TLS for the name localhost
    kubectl = Kubectl("1.37", tool_path("kubectl-1.37"), k2d, tmp_path)
    res = run([kubectl.path, "--kubeconfig", kc, "--cache-dir", tmp_path / "cache", "version"],
              env=kubectl.env())
    assert "Server Version: v1.35." in res.stdout, res.describe()


def test_version_command(k2d):
    r = run([k2d.binary, "version"])
    assert r.stdout.strip(), r.describe()
