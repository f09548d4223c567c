"""Issue 5, in-cluster access without pods: every namespace gets its `default`
ServiceAccount and the `kube-root-ca.crt` ConfigMap; `kubectl create token` issues
a token that may do nothing but discovery and self-reviews (as on a cluster: issue 8, point 10),
and RBAC bindings grant more; `kubectl auth can-i` answers with the same rules."""

from __future__ import annotations

import json
import time

import pytest

from conftest import run
from helpers import namespace, uniq  # noqa: F401


def wait_for(kubectl, *args, timeout=15):
    deadline = time.monotonic() + timeout
    while True:
        r = kubectl(*args, check=False)
        if r.rc == 0 or time.monotonic() > deadline:
            return r
        time.sleep(0.2)


def test_every_namespace_gets_its_account_and_root_ca(kubectl, namespace, k2d):
    sa = wait_for(kubectl, "get", "serviceaccount", "default", "-n", namespace, "-o", "json")
    assert sa.rc == 0, sa.describe()
    cm = wait_for(kubectl, "get", "configmap", "kube-root-ca.crt", "-n", namespace, "-o", "json")
    assert cm.rc == 0, cm.describe()
    assert json.loads(cm.stdout)["data"]["ca.crt"] == k2d.ca.read_text()
    kubectl("delete", "serviceaccount", "default", "-n", namespace)
    again = wait_for(kubectl, "get", "serviceaccount", "default", "-n", namespace, "-o", "json")
    assert again.rc == 0, "the default ServiceAccount comes back"
    assert json.loads(again.stdout)["metadata"]["uid"] != json.loads(sa.stdout)["metadata"]["uid"]


def as_token(kubectl, token, *args, check=False):
    """kubectl with a kubeconfig that holds only the server, k2d's CA and this token."""
    server = kubectl.server
    cfg = kubectl.tmp / f"token-{abs(hash(token))}.kubeconfig"
    cfg.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "sa",
        "clusters": [{"name": "k2d", "cluster": {"server": server.url, "certificate-authority": str(server.ca)}}],
        "users": [{"name": "sa", "user": {"token": token}}],
        "contexts": [{"name": "sa", "context": {"cluster": "k2d", "user": "sa"}}],
    }))
    cmd = [kubectl.path, "--kubeconfig", cfg, "--cache-dir", kubectl.fresh_cache(), *args]
    return run(cmd, env=kubectl.env(), check=check)


def test_service_account_token_has_no_rights_until_bound(kubectl, namespace):
    assert wait_for(kubectl, "get", "serviceaccount", "default", "-n", namespace).rc == 0
    token = kubectl("create", "token", "default", "-n", namespace).stdout.strip()
    assert token.count(".") == 2, "a JWT"
    payload = token.split(".")[1]
    claims = json.loads(__import__("base64").urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["sub"] == f"system:serviceaccount:{namespace}:default"
    assert claims["kubernetes.io"]["namespace"] == namespace

    r = as_token(kubectl, token, "get", "pods", "-n", namespace)
    assert r.rc != 0 and (f'pods is forbidden: User "system:serviceaccount:{namespace}:default" cannot list '
                          f'resource "pods" in API group "" in the namespace "{namespace}"') in r.stderr, r.describe()
    r = as_token(kubectl, token, "api-resources", "-o", "name")
    assert r.rc == 0 and "pods" in r.stdout.split(), "discovery answers every authenticated user\n" + r.describe()
    r = as_token(kubectl, token, "create", "configmap", "x", "-n", namespace, "--from-literal=a=b")
    assert r.rc != 0
    assert (f'configmaps is forbidden: User "system:serviceaccount:{namespace}:default" cannot create '
            f'resource "configmaps" in API group "" in the namespace "{namespace}"') in r.stderr, r.describe()
    r = as_token(kubectl, token, "get", "secrets", "-n", namespace)
    assert r.rc != 0 and "forbidden" in r.stderr, r.describe()
    assert as_token(kubectl, token, "auth", "can-i", "list", "pods", "-n", namespace).stdout.strip() == "no"
    r = as_token(kubectl, token, "auth", "can-i", "create", "pods", "-n", namespace)
    assert r.stdout.strip() == "no", r.describe()

    kubectl("create", "rolebinding", "sa-edit", "--clusterrole=edit",
            f"--serviceaccount={namespace}:default", "-n", namespace)
    r = as_token(kubectl, token, "create", "configmap", "x", "-n", namespace, "--from-literal=a=b")
    assert r.rc == 0, r.describe()
    other = uniq("other")
    kubectl("create", "namespace", other)
    try:
        r = as_token(kubectl, token, "create", "configmap", "x", "-n", other, "--from-literal=a=b")
        assert r.rc != 0 and "forbidden" in r.stderr, "a RoleBinding grants only in its namespace"
    finally:
        kubectl("delete", "namespace", other, "--wait=false")

    assert as_token(kubectl, token, "get", "pods", "-n", namespace).rc == 0, "edit reads too"
    kubectl("delete", "serviceaccount", "default", "-n", namespace)
    r = as_token(kubectl, token, "get", "pods", "-n", namespace)
    assert r.rc != 0 and "must be logged in" in r.stderr, "a token dies with its account"


def test_token_request_checks(kubectl, namespace):
    assert wait_for(kubectl, "get", "serviceaccount", "default", "-n", namespace).rc == 0
    r = kubectl("create", "token", "default", "-n", namespace, "--duration=1m", check=False)
    assert r.rc != 0 and "may not specify a duration less than 10 minutes" in r.stderr, r.describe()
    r = kubectl("create", "token", "nobody", "-n", namespace, check=False)
    assert r.rc != 0 and 'serviceaccounts "nobody" not found' in r.stderr, r.describe()
    tok = kubectl("create", "token", "default", "-n", namespace, "--audience=vault").stdout.strip()
    r = as_token(kubectl, tok, "get", "pods", "-n", namespace)
    assert r.rc != 0 and "must be logged in" in r.stderr, "a token for another audience is not k2d's"
