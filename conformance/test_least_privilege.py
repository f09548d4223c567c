"""Issue 8 point 10: the service account token a pod gets has no rights beyond discovery, as
on a cluster: from inside the pod (kubectl mounted into it, using the in-cluster config: the
mounted token and CA, the `kubernetes` Service's address) it cannot read or write anything,
cannot read Secrets of its own namespace or another, and cannot open pods/exec, pods/attach
or pods/portforward. Roles bound to it do work, and only as far as they go (the RBAC is real,
not a blanket deny). The token dies with its pod.

kubectl runs inside the pod because the test image's busybox wget speaks no TLS that k2d's
ECDSA certificate allows."""

from __future__ import annotations

import json

from conftest import KUBECTL_VERSIONS, TEST_IMAGE, tool_path
from helpers import namespace, uniq  # noqa: F401
from test_service_accounts import as_token

NEWEST = KUBECTL_VERSIONS[-1]


def test_pod_token_has_no_rights_until_a_role_grants_them(kubectl_newest, namespace):
    kubectl = kubectl_newest
    ns = namespace
    other = uniq("lp-other")
    kubectl("create", "namespace", other)
    try:
        for n in (ns, other):
            kubectl("create", "secret", "generic", "s", "-n", n, "--from-literal=k=v")
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "client"},
               "spec": {"terminationGracePeriodSeconds": 1,
                        "containers": [{"name": "c", "image": TEST_IMAGE, "imagePullPolicy": "Never",
                                        "command": ["sleep", "3600"],
                                        "volumeMounts": [{"name": "kubectl", "mountPath": "/k/kubectl"}]}],
                        "volumes": [{"name": "kubectl", "hostPath": {
                            "path": str(tool_path(f"kubectl-{NEWEST}").resolve()), "type": "File"}}]}}
        kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(pod))
        kubectl("wait", "-n", ns, "--for=condition=Ready", "pod/client", "--timeout=90s", timeout=100)

        def inside(*args):
            return kubectl("exec", "-n", ns, "client", "--", "timeout", "20", "/k/kubectl", *args, check=False)

        me = f'User "system:serviceaccount:{ns}:default"'

        def refused(r, verb, resource, where=ns):
            want = f'{me} cannot {verb} resource "{resource}" in API group "" in the namespace "{where}"'
            assert r.rc != 0 and want in r.stderr, f"want: {want}\n{r.describe()}"

        r = inside("auth", "whoami", "-o", "jsonpath={.status.userInfo.username}")
        assert r.rc == 0 and r.stdout == f"system:serviceaccount:{ns}:default", r.describe()
        refused(inside("get", "pods"), "list", "pods")
        refused(inside("get", "configmaps", "-n", other), "list", "configmaps", other)
        refused(inside("create", "configmap", "x", "--from-literal=a=b"), "create", "configmaps")
        refused(inside("delete", "pod", "client"), "delete", "pods")
        refused(inside("get", "secret", "s"), "get", "secrets")
        refused(inside("get", "secret", "s", "-n", other), "get", "secrets", other)
        assert inside("auth", "can-i", "get", "pods").stdout.strip() == "no"

        # Reading pods, granted: works; exec, attach and port-forward still do not.
        kubectl("create", "role", "pod-reader", "--verb=get,list", "--resource=pods", "-n", ns)
        kubectl("create", "rolebinding", "pod-reader", "--role=pod-reader", f"--serviceaccount={ns}:default",
                "-n", ns)
        r = inside("get", "pods", "-o", "name")
        assert r.rc == 0 and "pod/client" in r.stdout, r.describe()
        refused(inside("exec", "client", "--", "true"), "create", "pods/exec")
        refused(inside("attach", "client"), "create", "pods/attach")
        refused(inside("port-forward", "pod/client", "18080:80"), "create", "pods/portforward")
        refused(inside("get", "secret", "s"), "get", "secrets")

        # Secrets of its own namespace, granted: readable there, never in another namespace.
        kubectl("create", "role", "secret-reader", "--verb=get", "--resource=secrets", "-n", ns)
        kubectl("create", "rolebinding", "secret-reader", "--role=secret-reader",
                f"--serviceaccount={ns}:default", "-n", ns)
        r = inside("get", "secret", "s", "-o", "jsonpath={.data.k}")
        assert r.rc == 0 and r.stdout == "dg==", r.describe()
        refused(inside("get", "secret", "s", "-n", other), "get", "secrets", other)
        refused(inside("create", "configmap", "x", "--from-literal=a=b"), "create", "configmaps")

        # The pod's token is bound to the pod: once the pod is deleted, it is refused (401).
        token = kubectl("exec", "-n", ns, "client", "--", "cat",
                        "/var/run/secrets/kubernetes.io/serviceaccount/token").stdout.strip()
        assert as_token(kubectl, token, "get", "secret", "s", "-n", ns).rc == 0
        kubectl("delete", "pod", "-n", ns, "client", "--wait=true", timeout=60)
        r = as_token(kubectl, token, "get", "secret", "s", "-n", ns)
        assert r.rc != 0 and "must be logged in" in r.stderr, r.describe()
    finally:
        kubectl("delete", "namespace", other, "--wait=false")
