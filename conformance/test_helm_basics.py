"""Helm 3 and 4 reach k2d: `helm version` is the pinned client, `helm list` works
on an empty k2d (Helm's release storage is Secrets labelled owner=helm)."""

import re

HELM_VERSIONS = {"3": "v3.17.2", "4": "v4.1.4", "4.3": "v4.3.1"}


def test_helm_version(helm):
    r = helm("version", "--template", "{{.Version}}")
    assert r.stdout.strip() == HELM_VERSIONS[helm.name], r.describe()


def test_helm_list_empty(helm):
    r = helm("list", "--all-namespaces")
    lines = [ln for ln in r.stdout.splitlines() if ln.strip()]
    assert lines and re.match(r"^NAME\s+NAMESPACE\s+REVISION", lines[0]), r.describe()
    assert len(lines) == 1, f"releases listed on an empty k2d\n{r.describe()}"
