"""Issue 3, scenario 6: namespaces.

- default, kube-system, kube-public and kube-node-lease exist and are Active, and the
  first three may not be deleted (NamespaceLifecycle's immortal namespaces);
- `kubectl create ns`, objects in it, `kubectl delete ns` removes them all and the
  namespace;
- a namespace whose content is held by a finalizer shows Terminating; creating in it
  is refused with the Forbidden Status of a real server, as is creating in a missing
  namespace (NotFound).
"""

from __future__ import annotations

import json

from conftest import LOG_DIR, K2DServer, k2d_binary
from helpers import (KINDS, Api, api, assert_status, cm_path, configmap, manifest, stdout_lines,  # noqa: F401
                     to_yaml_docs, uniq, wait_until)
from tables import parse_table

SYSTEM = ["default", "kube-node-lease", "kube-public", "kube-system"]


def test_system_namespaces_exist(kubectl, api):
    r = kubectl("get", "namespaces")
    rows = {row["NAME"]: row for row in parse_table(r.stdout)}
    for ns in SYSTEM:
        assert ns in rows and rows[ns]["STATUS"] == "Active", r.describe()
        o = api.get_obj(f"/api/v1/namespaces/{ns}")
        assert o["metadata"]["labels"].get("kubernetes.io/metadata.name") == ns, o
        assert o.get("spec") == {"finalizers": ["kubernetes"]} and o.get("status") == {"phase": "Active"}, o
        assert "generation" not in o["metadata"], f"a Namespace has no generation on a real server: {o}"


def test_system_namespaces_cannot_be_deleted(tmp_path_factory):
    """On a k2d of its own: deleting one of them would break the shared server."""
    server = K2DServer(k2d_binary(), tmp_path_factory.mktemp("k2d-ns-data"), LOG_DIR / f"k2d-{uniq('ns')}.log")
    server.start()
    try:
        a = Api(server)
        for ns in ("default", "kube-system", "kube-public"):
            r = a.delete(f"/api/v1/namespaces/{ns}")
            assert_status(r, 403, "Forbidden", f'namespaces "{ns}" is forbidden: this namespace may not be deleted',
                          {"name": ns, "kind": "namespaces"}, what=f"DELETE namespace {ns}")
            o = a.get_obj(f"/api/v1/namespaces/{ns}")
            assert o and "deletionTimestamp" not in o["metadata"], o
    finally:
        server.stop()


def test_namespace_create_fill_delete(kubectl, api, tmp_path):
    ns = uniq("nsk")
    problems = []
    r = kubectl("create", "namespace", ns)
    assert stdout_lines(r) == [f"namespace/{ns} created"], r.describe()
    o = api.get_obj(f"/api/v1/namespaces/{ns}")
    if not (o.get("status") == {"phase": "Active"} and o["metadata"]["labels"] == {"kubernetes.io/metadata.name": ns}
            and o.get("spec") == {"finalizers": ["kubernetes"]} and "generation" not in o["metadata"]):
        problems.append("a new namespace as a real server stores it: status.phase Active, spec.finalizers "
                        f"[kubernetes], no generation; got {json.dumps(o)}")
    names = {k.key: f"o-{k.key}" for k in KINDS}
    f = tmp_path / "objs.yaml"
    f.write_text(to_yaml_docs([manifest(k, names[k.key], 1) for k in KINDS]))
    kubectl("apply", "-n", ns, "-f", f)
    r = kubectl("get", "namespace", ns)
    if parse_table(r.stdout)[0]["STATUS"] != "Active":
        problems.append("STATUS column of a new namespace:\n" + r.describe())

    # kubectl delete waits until the namespace is gone
    r = kubectl("delete", "namespace", ns, timeout=30)
    assert stdout_lines(r) == [f'namespace "{ns}" deleted'], r.describe()
    assert api.get(f"/api/v1/namespaces/{ns}").status == 404, "namespace still there after kubectl delete returned"
    left = [k.key for k in KINDS if api.get(k.path(ns, names[k.key])).status != 404]
    assert not left, f"objects left in the deleted namespace: {left}"
    for k in KINDS:
        lst = api.must(api.get(k.path(ns)), 200)
        assert lst["items"] == [], f"{k}: list in the deleted namespace: {json.dumps(lst)[:500]}"
    r = kubectl("get", "namespace", ns, check=False)
    assert r.rc == 1 and f'Error from server (NotFound): namespaces "{ns}" not found' in r.stderr, r.describe()
    assert not problems, "\n".join(problems)


def test_terminating_namespace(kubectl, api, tmp_path):
    ns = uniq("nst")
    api.create_namespace(ns)
    api.must(api.post(cm_path(ns), configmap("held", {"a": "1"}, finalizers=["example.com/hold"])), 201)
    api.must(api.post(cm_path(ns), configmap("free", {"a": "1"})), 201)
    r = kubectl("delete", "namespace", ns, "--wait=false")
    assert stdout_lines(r) == [f'namespace "{ns}" deleted'], r.describe()

    # Terminating while the held ConfigMap is there; the free one goes at once
    assert wait_until(lambda: api.get(cm_path(ns, "free")).status == 404, 10), "free ConfigMap not deleted"
    o = api.get_obj(f"/api/v1/namespaces/{ns}")
    assert o and o["status"]["phase"] == "Terminating" and o["metadata"].get("deletionTimestamp"), o
    r = kubectl("get", "namespace", ns)
    assert parse_table(r.stdout)[0]["STATUS"] == "Terminating", r.describe()
    held = api.get_obj(cm_path(ns, "held"))
    assert held and held["metadata"].get("deletionTimestamp"), f"the held ConfigMap is not being deleted: {held}"

    # creating in it: 403 with the NamespaceTerminating cause
    problems = []
    r = api.post(cm_path(ns), configmap("late"))
    try:
        assert_status(r, 403, "Forbidden",
                      f'configmaps "late" is forbidden: unable to create new content in namespace {ns} because it '
                      f'is being terminated',
                      {"name": "late", "kind": "configmaps",
                       "causes": [{"reason": "NamespaceTerminating", "message": f"namespace {ns} is being terminated",
                                   "field": "metadata.namespace"}]})
    except AssertionError as e:
        problems.append(str(e))
    f = tmp_path / "late.yaml"
    f.write_text(to_yaml_docs([configmap("late2")]))
    r = kubectl("apply", "-n", ns, "-f", f, check=False)
    if not (r.rc == 1 and (
            f'Error from server (Forbidden): error when creating "{f}": configmaps "late2" is forbidden: unable to '
            f'create new content in namespace {ns} because it is being terminated') in r.stderr):
        problems.append(r.describe())
    assert api.get(cm_path(ns, "late")).status == 404 and api.get(cm_path(ns, "late2")).status == 404

    # releasing the finalizer lets the namespace go
    api.must(api.patch(cm_path(ns, "held"), [{"op": "remove", "path": "/metadata/finalizers"}],
                       ctype="application/json-patch+json"), 200)
    assert wait_until(lambda: api.get(f"/api/v1/namespaces/{ns}").status == 404, 15), \
        f"namespace still there: {api.get_obj(f'/api/v1/namespaces/{ns}')}"
    assert api.get(cm_path(ns, "held")).status == 404
    assert not problems, "\n\n".join(problems)


def test_create_in_missing_namespace(kubectl, api, tmp_path):
    ns = uniq("missing")
    r = api.post(cm_path(ns), configmap("x"))
    assert_status(r, 404, "NotFound", f'namespaces "{ns}" not found', {"name": ns, "kind": "namespaces"})
    f = tmp_path / "x.yaml"
    f.write_text(to_yaml_docs([configmap("x")]))
    r = kubectl("apply", "-n", ns, "-f", f, check=False)
    assert r.rc == 1 and f'Error from server (NotFound): error when creating "{f}": namespaces "{ns}" not found' \
        in r.stderr, r.describe()
    r = kubectl("create", "configmap", "y", "-n", ns, "--from-literal=a=b", check=False)
    assert r.rc == 1 and f'namespaces "{ns}" not found' in r.stderr, r.describe()
    assert api.get(f"/api/v1/namespaces/{ns}").status == 404
