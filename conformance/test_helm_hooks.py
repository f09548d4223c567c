"""Issue 10, Helm hooks and tests on the real engine, with Helm 3 and Helm 4: a chart with a
`post-install` hook Job installs (Helm waits for the Job's Complete condition, Helm 4 through
kstatus) and the hook-succeeded delete policy removes the Job; a hook Job that fails makes the
install fail; `helm test` of the chart `helm create` makes (images switched to local test
images) runs its test pod, which fetches the chart's Service by name, to Succeeded."""

from __future__ import annotations

import json

import pytest
import yaml

from conftest import TEST_HTTPD_IMAGE, TEST_IMAGE
from helpers import namespace, uniq  # noqa: F401  (fixtures)

REPO, TAG = TEST_HTTPD_IMAGE.split(":")


def hook_chart(path, command: str):
    (path / "templates").mkdir(parents=True)
    (path / "Chart.yaml").write_text("apiVersion: v2\nname: hooked\nversion: 0.1.0\n")
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "{{ .Release.Name }}-config"},
              "data": {"a": "b"}}
    hook = {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "{{ .Release.Name }}-post-install", "annotations": {
                "helm.sh/hook": "post-install",
                "helm.sh/hook-delete-policy": "before-hook-creation,hook-succeeded"}},
            "spec": {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never", "containers": [
                {"name": "hook", "image": TEST_IMAGE, "imagePullPolicy": "Never",
                 "command": ["sh", "-c", command]}]}}}}
    (path / "templates" / "config.yaml").write_text(yaml.safe_dump(config))
    (path / "templates" / "hook.yaml").write_text(yaml.safe_dump(hook))


def jobs(kubectl, ns: str) -> list[dict]:
    return json.loads(kubectl("get", "jobs", "-n", ns, "-o", "json").stdout)["items"]


def test_post_install_hook_job(helm, kubectl_newest, namespace, tmp_path):
    ok = tmp_path / "ok"
    hook_chart(ok, "sleep 1")
    rel = uniq("hooked")
    helm("install", rel, ok, "-n", namespace, "--wait", "--timeout", "90s", timeout=150)
    # hook-succeeded: Helm deleted the Job once it completed.
    assert [j["metadata"]["name"] for j in jobs(kubectl_newest, namespace)] == []
    status = json.loads(helm("status", rel, "-n", namespace, "-o", "json").stdout)
    assert status["info"]["status"] == "deployed", status["info"]
    helm("uninstall", rel, "-n", namespace, "--wait", timeout=120)

    bad = tmp_path / "bad"
    hook_chart(bad, "exit 1")
    rel = uniq("broken")
    r = helm("install", rel, bad, "-n", namespace, "--wait", "--timeout", "90s", check=False, timeout=150)
    assert r.rc != 0, r.describe()
    assert "post-install" in r.stderr or "BackoffLimitExceeded" in r.stderr, r.describe()
    failed = [j for j in jobs(kubectl_newest, namespace) if j["metadata"]["name"] == f"{rel}-post-install"]
    assert failed and any(c["type"] == "Failed" and c["status"] == "True"
                          for c in failed[0]["status"]["conditions"]), failed
    helm("uninstall", rel, "-n", namespace, "--wait", timeout=120)


def test_helm_test_of_the_created_chart(helm, kubectl_newest, namespace, tmp_path):
    helm("create", tmp_path / "web")
    chart = tmp_path / "web"
    test_pod = chart / "templates" / "tests" / "test-connection.yaml"
    text = test_pod.read_text()
    assert "image: busybox" in text, text
    test_pod.write_text(text.replace("image: busybox", f"image: {TEST_IMAGE}\n      imagePullPolicy: Never"))
    rel = uniq("web")
    helm("install", rel, chart, "-n", namespace, "--set", f"image.repository={REPO}", "--set",
         f"image.tag={TAG}", "--set", "image.pullPolicy=Never", "--wait", "--timeout", "120s", timeout=180)
    r = helm("test", rel, "-n", namespace, "--timeout", "90s", timeout=150, check=False)
    if r.rc != 0:
        logs = kubectl_newest("logs", "-n", namespace, f"{rel}-test-connection", check=False)
        pytest.fail(f"helm test failed:\n{r.describe()}\ntest pod log:\n{logs.stdout}{logs.stderr}")
    assert "Succeeded" in r.stdout, r.stdout
    assert "does not act on it" not in r.stderr, r.stderr
    pod = json.loads(kubectl_newest("get", "pod", f"{rel}-test-connection", "-n", namespace,
                                    "-o", "json").stdout)
    assert pod["status"]["phase"] == "Succeeded", pod["status"]
    helm("uninstall", rel, "-n", namespace, "--wait", "--timeout", "120s", timeout=180)
