"""Issue 9, offline devices: the README's steps for a device without a registry, exactly —
`docker save` of the chart's image, `docker load` of it, a chart packaged into a .tgz, and
`helm install ./chart.tgz` with `imagePullPolicy: IfNotPresent`. The image name belongs to no
registry that answers, so any pull would fail: the release becomes ready only if k2d uses the
loaded image as it is."""

from __future__ import annotations

import json
import subprocess

from conftest import HELM_VERSIONS, TEST_HTTPD_IMAGE, Helm, tool_path
from helpers import namespace, uniq  # noqa: F401


def docker(*args, check=True) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=120)


def test_helm_install_of_a_chart_file_with_a_loaded_image(k2d, kubectl_newest, namespace, tmp_path):
    helm = Helm(HELM_VERSIONS[-1], tool_path(f"helm-{HELM_VERSIONS[-1]}"), k2d, tmp_path)
    repo, tag = "registry.invalid/k2d-offline/web", uniq("v")
    image = f"{repo}:{tag}"
    # "On a connected machine": the image exists there and is saved to a file.
    docker("tag", TEST_HTTPD_IMAGE, image)
    images_tar = tmp_path / "web-images.tar"
    try:
        docker("save", "-o", str(images_tar), image)
        docker("rmi", image)
        assert docker("image", "inspect", image, check=False).returncode != 0
        # "On the device": load the images, install the chart file.
        out = docker("load", "-i", str(images_tar)).stdout
        assert image in out, out
        helm("create", tmp_path / "web")
        helm("package", tmp_path / "web", "-d", tmp_path)
        chart = tmp_path / "web-0.1.0.tgz"
        assert chart.is_file()
        rel = uniq("web")
        helm("install", rel, chart, "-n", namespace, "--set", f"image.repository={repo}",
             "--set", f"image.tag={tag}", "--set", "image.pullPolicy=IfNotPresent",
             "--wait", "--timeout", "120s", timeout=180)
        deps = json.loads(kubectl_newest("get", "deploy", "-n", namespace, "-o", "json").stdout)["items"]
        assert [d["status"].get("readyReplicas") for d in deps] == [1], deps
        events = json.loads(kubectl_newest("get", "events", "-n", namespace, "-o", "json").stdout)["items"]
        assert any(e.get("reason") == "Pulled" and "already present on machine" in e.get("message", "")
                   for e in events), [e.get("message") for e in events]
        helm("uninstall", rel, "-n", namespace, "--wait", "--timeout", "60s", timeout=120)
    finally:
        docker("rmi", "-f", image, check=False)
