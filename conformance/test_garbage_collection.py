"""Issue 3, scenario 7: owner references and garbage collection, driven by
`kubectl delete --cascade=background|orphan|foreground`.

- Background (kubectl's default): the owner goes at once, its dependents after it.
- Orphan: the dependents stay, without the ownerReference to the deleted owner.
- Foreground: the owner stays (deletionTimestamp, finalizer foregroundDeletion) until
  every dependent that blocks owner deletion is gone; then it goes.
- A dependent whose only owner does not exist is collected.
"""

from __future__ import annotations

import json

from helpers import Api, api, cm_path, configmap, deleted_line, namespace, stdout_lines, wait_until  # noqa: F401


def owned(api: Api, ns, name, owner: dict, block=None, **meta):
    ref = {"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": owner["metadata"]["name"],
           "uid": owner["metadata"]["uid"]}
    if block is not None:
        ref["blockOwnerDeletion"] = block
    body = configmap(name, {"a": "1"}, ownerReferences=[ref], **meta)
    return api.must(api.post(cm_path(ns), body), 201)


def gone(api, path, timeout=10):
    return wait_until(lambda: api.get(path).status == 404, timeout)


def test_background_cascade(kubectl, api, namespace):
    ns = namespace
    owner = api.must(api.post(cm_path(ns), configmap("owner")), 201)
    owned(api, ns, "dep1", owner)
    owned(api, ns, "dep2", owner, block=True)
    secret_owner = api.must(api.post(f"/api/v1/namespaces/{ns}/secrets",
                                     {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "sowner"}}), 201)
    owned(api, ns, "dep3", secret_owner)
    api.must(api.post(cm_path(ns), configmap("bystander")), 201)

    r = kubectl("delete", "-n", ns, "configmap", "owner")
    assert deleted_line(kubectl, "configmap", "owner", ns).fullmatch(stdout_lines(r)[0]), r.describe()
    assert gone(api, cm_path(ns, "dep1")) and gone(api, cm_path(ns, "dep2")), \
        f"dependents left: {[i['metadata']['name'] for i in api.must(api.get(cm_path(ns)), 200)['items']]}"
    kubectl("delete", "-n", ns, "secret", "sowner")
    assert gone(api, cm_path(ns, "dep3")), "a ConfigMap owned by a deleted Secret was not collected"
    assert api.get(cm_path(ns, "bystander")).status == 200, "an object without owner was deleted"


def test_orphan_cascade(kubectl, api, namespace):
    ns = namespace
    owner = api.must(api.post(cm_path(ns), configmap("owner")), 201)
    other = api.must(api.post(cm_path(ns), configmap("other-owner")), 201)
    dep = api.must(api.post(cm_path(ns), configmap("dep", {"a": "1"}, ownerReferences=[
        {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner["metadata"]["uid"]},
        {"apiVersion": "v1", "kind": "ConfigMap", "name": "other-owner", "uid": other["metadata"]["uid"]}])), 201)
    r = kubectl("delete", "-n", ns, "configmap", "owner", "--cascade=orphan")
    assert deleted_line(kubectl, "configmap", "owner", ns).fullmatch(stdout_lines(r)[0]), r.describe()
    assert gone(api, cm_path(ns, "owner")), "owner not deleted with --cascade=orphan"

    def orphaned():
        o = api.get_obj(cm_path(ns, "dep"))
        return o if o and [x["name"] for x in o["metadata"].get("ownerReferences", [])] == ["other-owner"] else None

    o = wait_until(orphaned, 10)
    assert o, f"dependent after orphaning: {json.dumps(api.get_obj(cm_path(ns, 'dep')))}"
    assert o["metadata"]["uid"] == dep["metadata"]["uid"] and o["data"] == {"a": "1"}


def test_foreground_cascade(kubectl, api, namespace):
    ns = namespace
    owner = api.must(api.post(cm_path(ns), configmap("owner")), 201)
    owned(api, ns, "blocker", owner, block=True, finalizers=["example.com/hold"])
    owned(api, ns, "plain", owner, block=True)
    r = kubectl("delete", "-n", ns, "configmap", "owner", "--cascade=foreground", "--wait=false")
    assert deleted_line(kubectl, "configmap", "owner", ns).fullmatch(stdout_lines(r)[0]), r.describe()

    # the owner waits for its dependents
    o = api.get_obj(cm_path(ns, "owner"))
    assert o and o["metadata"].get("deletionTimestamp") and "foregroundDeletion" in o["metadata"].get(
        "finalizers", []), f"owner during foreground deletion: {json.dumps(o)}"
    assert gone(api, cm_path(ns, "plain")), "a dependent without finalizer was not deleted"
    b = wait_until(lambda: (api.get_obj(cm_path(ns, "blocker")) or {}).get("metadata", {}).get("deletionTimestamp"), 10)
    assert b, f"the held dependent is not being deleted: {api.get_obj(cm_path(ns, 'blocker'))}"
    assert api.get(cm_path(ns, "owner")).status == 200, "the owner went before a dependent that blocks it"

    # release the dependent: then the owner goes
    api.must(api.patch(cm_path(ns, "blocker"), [{"op": "remove", "path": "/metadata/finalizers"}],
                       ctype="application/json-patch+json"), 200)
    assert gone(api, cm_path(ns, "blocker")) and gone(api, cm_path(ns, "owner")), \
        f"owner after its dependents went: {api.get_obj(cm_path(ns, 'owner'))}"


def test_dangling_owner_reference_is_collected(api, namespace):
    ns = namespace
    api.must(api.post(cm_path(ns), configmap("orphan", ownerReferences=[
        {"apiVersion": "v1", "kind": "ConfigMap", "name": "never-existed",
         "uid": "00000000-0000-0000-0000-000000000001"}])), 201)
    assert gone(api, cm_path(ns, "orphan"), 10), "a dependent whose owner does not exist was not collected"
