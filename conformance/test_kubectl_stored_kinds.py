"""Issue 3, scenario 1: kubectl (every version) on the stored kinds ConfigMap, Secret,
ServiceAccount, Role, RoleBinding, Ingress.

apply (client-side twice with a change, then unchanged), apply --server-side,
typed create (protobuf bodies), replace, patch with --type json|merge|strategic,
label, annotate, edit, diff, delete, get -o yaml|json|jsonpath|wide|name, get -w,
wait --for=delete, auth can-i, auth whoami. Every result is compared with what a
real cluster shows: kubectl's output lines, the stored object (read back with a raw
JSON GET), the Table cells the real printers compute, Status messages.

Each test runs in its own namespace, created with a JSON POST (so that only the
tests of protobuf creates depend on protobuf).
"""

from __future__ import annotations

import json
import re
import time

import pytest
import yaml

from conftest import run
from helpers import (KINDS, KIND_BY_KEY, Api, Background, api, b64, deleted_line, kubectl_cmd,  # noqa: F401
                     kubectl_env, last_applied, manifest, namespace, stdout_lines, to_yaml_docs, uniq,
                     variant_check)
from tables import parse_table

AGE = re.compile(r"^\d+(s|m\d*s?|h\d*m?|d\d*h?|y\d*d?)$")
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def write_manifests(tmp_path, name, objs) -> str:
    p = tmp_path / name
    p.write_text(to_yaml_docs(objs))
    return str(p)


def six(names: dict, variant: int, ns: str | None = None) -> list[dict]:
    return [manifest(k, names[k.key], variant, ns) for k in KINDS]


def names_for(prefix: str) -> dict:
    base = uniq(prefix)
    return {k.key: f"{base}-{k.key}" for k in KINDS}


def live(api: Api, ns: str, names: dict) -> dict:
    return {k.key: api.get_obj(k.path(ns, names[k.key])) for k in KINDS}


def rvs(objs: dict) -> dict:
    return {k: (o or {}).get("metadata", {}).get("resourceVersion") for k, o in objs.items()}


# --------------------------------------------------------------------- apply (client-side)


def test_apply_client_side_create_configure_unchanged(kubectl, namespace, api, tmp_path):
    ns = namespace
    names = names_for("csa")
    f1 = write_manifests(tmp_path, "v1.yaml", six(names, 1))
    f2 = write_manifests(tmp_path, "v2.yaml", six(names, 2))

    r = kubectl("apply", "-n", ns, "-f", f1)
    want = [f"{k.ref(names[k.key])} created" for k in KINDS]
    assert stdout_lines(r) == want, r.describe()
    objs = live(api, ns, names)
    problems = []
    for k in KINDS:
        o = objs[k.key]
        if o is None:
            problems.append(f"{k}: not stored")
            continue
        problems += [f"{k}: {p}" for p in variant_check(k, o, 1)]
        md = o["metadata"]
        for f in ("uid", "resourceVersion", "creationTimestamp"):
            if not md.get(f):
                problems.append(f"{k}: metadata.{f} missing")
        if md.get("namespace") != ns:
            problems.append(f"{k}: metadata.namespace={md.get('namespace')!r}")
        # only kinds whose strategy sets it carry a generation (Ingress: 1)
        want_gen = 1 if k.key == "ingress" else None
        if md.get("generation") != want_gen:
            problems.append(f"{k}: metadata.generation={md.get('generation')!r}, want {want_gen!r}")
        ann = (md.get("annotations") or {}).get("kubectl.kubernetes.io/last-applied-configuration")
        expect_ann = last_applied(manifest(k, names[k.key], 1, ns))
        if ann != expect_ann:
            problems.append(f"{k}: last-applied annotation not kept verbatim:\n   got  {ann!r}\n   want {expect_ann!r}")
        managers = [(m.get("manager"), m.get("operation")) for m in md.get("managedFields") or []]
        if managers != [("kubectl-client-side-apply", "Update")]:
            problems.append(f"{k}: managedFields managers {managers}, want [('kubectl-client-side-apply', 'Update')]")
    assert not problems, "\n".join(problems) + "\n" + r.describe()

    r = kubectl("apply", "-n", ns, "-f", f2)
    want = [f"{k.ref(names[k.key])} configured" for k in KINDS]
    assert stdout_lines(r) == want, r.describe()
    objs2 = live(api, ns, names)
    problems = []
    for k in KINDS:
        o = objs2[k.key]
        problems += [f"{k}: {p}" for p in variant_check(k, o, 2)]
        if o["metadata"]["uid"] != objs[k.key]["metadata"]["uid"]:
            problems.append(f"{k}: uid changed on update")
        if int(o["metadata"]["resourceVersion"]) <= int(objs[k.key]["metadata"]["resourceVersion"]):
            problems.append(f"{k}: resourceVersion did not increase")
        ann = o["metadata"].get("annotations", {}).get("kubectl.kubernetes.io/last-applied-configuration")
        if ann != last_applied(manifest(k, names[k.key], 2, ns)):
            problems.append(f"{k}: last-applied annotation after configure: {ann!r}")
        want_gen = 2 if k.key == "ingress" else None
        if o["metadata"].get("generation") != want_gen:
            problems.append(f"{k}: generation={o['metadata'].get('generation')!r}, want {want_gen!r}")
    assert not problems, "\n".join(problems) + "\n" + r.describe()

    r = kubectl("apply", "-n", ns, "-f", f2)
    want = [f"{k.ref(names[k.key])} unchanged" for k in KINDS]
    assert stdout_lines(r) == want, r.describe()
    assert rvs(live(api, ns, names)) == rvs(objs2), "an unchanged apply changed resourceVersions"


def test_apply_secret_string_data(kubectl, namespace, api, tmp_path):
    """stringData is write-only: the server merges it into data (base64) and never
    returns it; DATA counts both keys."""
    ns = namespace
    name = uniq("sd")
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name},
                                 "type": "Opaque", "data": {"user": b64("admin")},
                                 "stringData": {"token": "t0ps3cret"}}))
    r = kubectl("apply", "-n", ns, "-f", f)
    assert stdout_lines(r) == [f"secret/{name} created"], r.describe()
    s = api.get_obj(f"/api/v1/namespaces/{ns}/secrets/{name}")
    assert s.get("data") == {"user": b64("admin"), "token": b64("t0ps3cret")}, json.dumps(s, indent=1)
    assert "stringData" not in s, f"stringData returned by the server:\n{json.dumps(s, indent=1)}"
    r = kubectl("get", "-n", ns, "secret", name)
    rows = parse_table(r.stdout)
    assert rows and rows[0]["TYPE"] == "Opaque" and rows[0]["DATA"] == "2", r.describe()
    r = kubectl("get", "-n", ns, "secret", name, "-o", "jsonpath={.data.token}")
    assert r.stdout == b64("t0ps3cret"), r.describe()


# --------------------------------------------------------------------- apply --server-side


def test_apply_server_side(kubectl, namespace, api, tmp_path):
    ns = namespace
    names = names_for("ssa")
    f1 = write_manifests(tmp_path, "v1.yaml", six(names, 1))
    r = kubectl("apply", "--server-side", "-n", ns, "-f", f1)
    assert stdout_lines(r) == [f"{k.ref(names[k.key])} serverside-applied" for k in KINDS], r.describe()
    objs = live(api, ns, names)
    problems = []
    for k in KINDS:
        o = objs[k.key]
        if o is None:
            problems.append(f"{k}: not stored")
            continue
        problems += [f"{k}: {p}" for p in variant_check(k, o, 1)]
        md = o["metadata"]
        if "kubectl.kubernetes.io/last-applied-configuration" in (md.get("annotations") or {}):
            problems.append(f"{k}: server-side apply left a last-applied annotation")
        mf = md.get("managedFields") or []
        if [(m.get("manager"), m.get("operation")) for m in mf] != [("kubectl", "Apply")]:
            problems.append(f"{k}: managedFields {json.dumps(mf)}, want one entry manager=kubectl operation=Apply")
            continue
        m = mf[0]
        if m.get("apiVersion") != k.api_version or m.get("fieldsType") != "FieldsV1" or not RFC3339.match(
                m.get("time", "")):
            problems.append(f"{k}: managedFields entry {json.dumps(m)}")
        labels = (m.get("fieldsV1") or {}).get("f:metadata", {}).get("f:labels", {})
        if set(labels) != {"f:app.kubernetes.io/name", "f:variant"}:
            problems.append(f"{k}: applied label set {sorted(labels)}")
        if k.key == "configmap" and m.get("fieldsV1") != {
                "f:data": {"f:color": {}, "f:greeting": {}},
                "f:metadata": {"f:labels": {"f:app.kubernetes.io/name": {}, "f:variant": {}}}}:
            problems.append(f"{k}: fieldsV1 {json.dumps(m.get('fieldsV1'))}")
    assert not problems, "\n".join(problems) + "\n" + r.describe()

    # a changed manifest; the ConfigMap also stops applying data.color and a label,
    # which server-side apply removes (the fields are owned by this manager only)
    objs2 = six(names, 2)
    cm = objs2[0]
    del cm["data"]["color"]
    del cm["metadata"]["labels"]["variant"]
    f2 = write_manifests(tmp_path, "v2.yaml", objs2)
    r = kubectl("apply", "--server-side", "-n", ns, "-f", f2)
    assert stdout_lines(r) == [f"{k.ref(names[k.key])} serverside-applied" for k in KINDS], r.describe()
    after = live(api, ns, names)
    problems = []
    for k in KINDS[1:]:
        problems += [f"{k}: {p}" for p in variant_check(k, after[k.key], 2)]
    c = after["configmap"]
    if c.get("data") != {"greeting": "bonjour"}:
        problems.append(f"configmap: data {c.get('data')}, want only greeting=bonjour (color pruned)")
    if (c["metadata"].get("labels") or {}) != {"app.kubernetes.io/name": "stored"}:
        problems.append(f"configmap: labels {c['metadata'].get('labels')}, want the variant label pruned")
    assert not problems, "\n".join(problems) + "\n" + r.describe()

    # a third apply by the same manager (back to variant 1): no conflict with itself,
    # and the manager keeps a single Apply entry owning what it applied
    r = kubectl("apply", "--server-side", "-n", ns, "-f", f1, check=False)
    assert r.rc == 0 and stdout_lines(r) == [f"{k.ref(names[k.key])} serverside-applied" for k in KINDS], \
        r.describe()
    problems = []
    for k in KINDS:
        o = api.get_obj(k.path(ns, names[k.key]))
        problems += [f"{k}: {p}" for p in variant_check(k, o, 1)]
        mf = [(m.get("manager"), m.get("operation")) for m in o["metadata"].get("managedFields") or []]
        if mf != [("kubectl", "Apply")]:
            problems.append(f"{k}: managedFields {json.dumps(o['metadata'].get('managedFields'))}, "
                            "want one entry manager=kubectl operation=Apply")
    assert not problems, "\n".join(problems) + "\n" + r.describe()


def test_apply_server_side_conflict(kubectl, namespace, api, tmp_path):
    """A second manager applying a field another manager owns gets a conflict
    (kubectl prints it and exits 1); --force-conflicts takes the field over."""
    ns = namespace
    name = uniq("ssac")
    f = tmp_path / "a.yaml"
    f.write_text(yaml.safe_dump(manifest(KIND_BY_KEY["configmap"], name, 1)))
    kubectl("apply", "--server-side", "--field-manager=team-a", "-n", ns, "-f", f)
    other = manifest(KIND_BY_KEY["configmap"], name, 2)
    g = tmp_path / "b.yaml"
    g.write_text(yaml.safe_dump(other))
    r = kubectl("apply", "--server-side", "--field-manager=team-b", "-n", ns, "-f", g, check=False)
    assert r.rc == 1, r.describe()
    assert "conflict" in r.stderr.lower() and '.data.greeting' in r.stderr and 'team-a' in r.stderr, r.describe()
    assert api.get_obj(f"/api/v1/namespaces/{ns}/configmaps/{name}")["data"]["greeting"] == "hello"
    r = kubectl("apply", "--server-side", "--field-manager=team-b", "--force-conflicts", "-n", ns, "-f", g)
    assert stdout_lines(r) == [f"configmap/{name} serverside-applied"], r.describe()
    o = api.get_obj(f"/api/v1/namespaces/{ns}/configmaps/{name}")
    assert o["data"]["greeting"] == "bonjour", o
    owners = {m["manager"]: m.get("fieldsV1", {}) for m in o["metadata"]["managedFields"]}
    assert "f:greeting" in owners.get("team-b", {}).get("f:data", {}), json.dumps(owners)
    assert "f:greeting" not in owners.get("team-a", {}).get("f:data", {}), json.dumps(owners)


# --------------------------------------------------------------------- typed create (protobuf)


def test_create_typed_protobuf(kubectl, namespace, api):
    """`kubectl create <type>` sends protobuf bodies; a 415 is final for kubectl."""
    ns = namespace
    n = uniq("pb")
    problems = []

    def create(args, ref, path, check):
        r = kubectl("create", "-n", ns, *args, check=False)
        if stdout_lines(r) != [f"{ref} created"] or r.rc != 0:
            problems.append(f"kubectl create {' '.join(args)}:\n{r.describe()}")
            return
        o = api.get_obj(path)
        if o is None:
            problems.append(f"{ref}: not stored")
            return
        managers = [(m.get("manager"), m.get("operation")) for m in o["metadata"].get("managedFields") or []]
        # a ServiceAccount with nothing but a name owns no field: no managedFields entry
        want = [] if ref.startswith("serviceaccount/") else [("kubectl-create", "Update")]
        if managers != want:
            problems.append(f"{ref}: managedFields {managers}, want {want}")
        for p in check(o):
            problems.append(f"{ref}: {p}")

    def eq(what, got, want):
        return [] if got == want else [f"{what}={json.dumps(got)}, want {json.dumps(want)}"]

    create(["configmap", f"{n}-cm", "--from-literal=a=1", "--from-literal=b=two"], f"configmap/{n}-cm",
           f"/api/v1/namespaces/{ns}/configmaps/{n}-cm",
           lambda o: eq("data", o.get("data"), {"a": "1", "b": "two"}))
    create(["secret", "generic", f"{n}-s", "--from-literal=user=admin"], f"secret/{n}-s",
           f"/api/v1/namespaces/{ns}/secrets/{n}-s",
           lambda o: eq("data", o.get("data"), {"user": b64("admin")}) + eq("type", o.get("type"), "Opaque"))
    create(["serviceaccount", f"{n}-sa"], f"serviceaccount/{n}-sa",
           f"/api/v1/namespaces/{ns}/serviceaccounts/{n}-sa",
           lambda o: eq("name", o["metadata"]["name"], f"{n}-sa"))
    create(["role", f"{n}-r", "--verb=get,list", "--resource=configmaps"],
           f"role.rbac.authorization.k8s.io/{n}-r",
           f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles/{n}-r",
           lambda o: eq("rules", o.get("rules"),
                        [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]))
    create(["rolebinding", f"{n}-rb", f"--role={n}-r", f"--serviceaccount={ns}:robot"],
           f"rolebinding.rbac.authorization.k8s.io/{n}-rb",
           f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings/{n}-rb",
           lambda o: eq("roleRef", o.get("roleRef"),
                        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": f"{n}-r"})
           + eq("subjects", o.get("subjects"), [{"kind": "ServiceAccount", "name": "robot", "namespace": ns}]))
    create(["ingress", f"{n}-ing", "--rule=shop.example.com/=web:80"],
           f"ingress.networking.k8s.io/{n}-ing",
           f"/apis/networking.k8s.io/v1/namespaces/{ns}/ingresses/{n}-ing",
           lambda o: eq("spec.rules", o.get("spec", {}).get("rules"),
                        [{"host": "shop.example.com", "http": {"paths": [
                            {"path": "/", "pathType": "Exact",
                             "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}])
           + eq("generation", o["metadata"].get("generation"), 1))
    assert not problems, "\n\n".join(problems)


# --------------------------------------------------------------------- replace


def test_replace(kubectl, namespace, api, tmp_path):
    ns = namespace
    names = names_for("rep")
    f1 = write_manifests(tmp_path, "v1.yaml", six(names, 1))
    r = kubectl("create", "-n", ns, "-f", f1)
    assert stdout_lines(r) == [f"{k.ref(names[k.key])} created" for k in KINDS], r.describe()
    before = live(api, ns, names)
    f2 = write_manifests(tmp_path, "v2.yaml", six(names, 2))
    r = kubectl("replace", "-n", ns, "-f", f2)
    assert stdout_lines(r) == [f"{k.ref(names[k.key])} replaced" for k in KINDS], r.describe()
    after = live(api, ns, names)
    problems = []
    for k in KINDS:
        problems += [f"{k}: {p}" for p in variant_check(k, after[k.key], 2)]
        if after[k.key]["metadata"]["uid"] != before[k.key]["metadata"]["uid"]:
            problems.append(f"{k}: uid changed")
        if int(after[k.key]["metadata"]["resourceVersion"]) <= int(before[k.key]["metadata"]["resourceVersion"]):
            problems.append(f"{k}: resourceVersion did not increase")
        managers = {m["manager"] for m in after[k.key]["metadata"].get("managedFields") or []}
        if "kubectl-replace" not in managers:
            problems.append(f"{k}: no kubectl-replace manager in {managers}")
    assert not problems, "\n".join(problems)

    # a manifest carrying a stale resourceVersion: 409 Conflict, nothing changes
    k = KIND_BY_KEY["configmap"]
    stale = manifest(k, names["configmap"], 1)
    stale["metadata"]["resourceVersion"] = before["configmap"]["metadata"]["resourceVersion"]
    f3 = tmp_path / "stale.yaml"
    f3.write_text(yaml.safe_dump(stale))
    r = kubectl("replace", "-n", ns, "-f", f3, check=False)
    assert r.rc == 1, r.describe()
    want = (f'Error from server (Conflict): error when replacing "{f3}": Operation cannot be fulfilled on '
            f'configmaps "{names["configmap"]}": the object has been modified; please apply your changes to '
            f'the latest version and try again')
    assert want in r.stderr, r.describe()
    assert api.get_obj(k.path(ns, names["configmap"])) == after["configmap"], "a refused replace changed the object"


# --------------------------------------------------------------------- patch


def test_patch_three_types(kubectl, namespace, api, tmp_path):
    ns = namespace
    names = names_for("pt")
    f1 = write_manifests(tmp_path, "v1.yaml", six(names, 1))
    kubectl("apply", "-n", ns, "-f", f1)
    problems = []

    def patch(k, ptype, body, expect_no_change=False):
        r = kubectl("patch", "-n", ns, k.kubectl_type, names[k.key], f"--type={ptype}", "-p", json.dumps(body),
                    check=False)
        want = f"{k.ref(names[k.key])} patched" + (" (no change)" if expect_no_change else "")
        if r.rc != 0 or stdout_lines(r) != [want]:
            problems.append(f"{k} {ptype} {json.dumps(body)}: want {want!r}\n{r.describe()}")

    def obj(k):
        return api.get_obj(k.path(ns, names[k.key]))

    cm, sec, sa, role, rb, ing = KINDS
    # ConfigMap: the three types one after the other
    patch(cm, "merge", {"data": {"extra": "1"}})
    patch(cm, "json", [{"op": "replace", "path": "/data/greeting", "value": "hi"}])
    patch(cm, "strategic", {"data": {"color": None}})
    patch(cm, "merge", {"data": {"extra": "1"}}, expect_no_change=True)
    if obj(cm).get("data") != {"greeting": "hi", "extra": "1"}:
        problems.append(f"configmap data {obj(cm).get('data')}")
    # Secret
    patch(sec, "merge", {"data": {"token": b64("t")}})
    patch(sec, "json", [{"op": "remove", "path": "/data/password"}])
    patch(sec, "strategic", {"metadata": {"labels": {"variant": None}}})
    o = obj(sec)
    if o.get("data") != {"user": b64("admin"), "token": b64("t")} or "variant" in o["metadata"].get("labels", {}):
        problems.append(f"secret {json.dumps(o.get('data'))} labels {o['metadata'].get('labels')}")
    # ServiceAccount: `secrets` has merge key `name` (strategic merges, merge patch replaces)
    patch(sa, "merge", {"secrets": [{"name": "a"}]})
    patch(sa, "strategic", {"secrets": [{"name": "b"}]})
    # kube-apiserver's strategic merge puts the patch's items first, then the
    # server-only ones (strategicpatch.normalizeElementOrder / mergeSortedSlice)
    if obj(sa).get("secrets") != [{"name": "b"}, {"name": "a"}]:
        problems.append(f"serviceaccount strategic merge by name: secrets={obj(sa).get('secrets')}, want b then a")
    patch(sa, "merge", {"secrets": [{"name": "c"}]})
    patch(sa, "json", [{"op": "replace", "path": "/automountServiceAccountToken", "value": False}])
    o = obj(sa)
    if o.get("secrets") != [{"name": "c"}] or o.get("automountServiceAccountToken") is not False:
        problems.append(f"serviceaccount after merge/json: {json.dumps(o)}")
    # Role: rules is an atomic list: strategic replaces it
    patch(role, "json", [{"op": "add", "path": "/rules/-",
                          "value": {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}}])
    if len(obj(role).get("rules", [])) != 2:
        problems.append(f"role rules after json add: {obj(role).get('rules')}")
    patch(role, "strategic", {"rules": [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["list"]}]})
    if obj(role).get("rules") != [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["list"]}]:
        problems.append(f"role rules after strategic: {obj(role).get('rules')}")
    patch(role, "merge", {"metadata": {"annotations": {"owner": "team"}}})
    # RoleBinding
    patch(rb, "merge", {"subjects": [{"kind": "User", "name": "jane", "apiGroup": "rbac.authorization.k8s.io"}]})
    patch(rb, "json", [{"op": "add", "path": "/subjects/-", "value": {"kind": "Group", "name": "devs",
                                                                        "apiGroup": "rbac.authorization.k8s.io"}}])
    patch(rb, "strategic", {"metadata": {"labels": {"extra": "yes"}}})
    o = obj(rb)
    if [s["name"] for s in o.get("subjects", [])] != ["jane", "devs"] or o["metadata"]["labels"].get("extra") != "yes":
        problems.append(f"rolebinding: {json.dumps(o.get('subjects'))} {o['metadata'].get('labels')}")
    # Ingress: spec changes bump generation, metadata changes do not
    patch(ing, "json", [{"op": "replace", "path": "/spec/rules/0/host", "value": "patched.example.com"}])
    patch(ing, "merge", {"spec": {"ingressClassName": "nginx"}})
    patch(ing, "strategic", {"metadata": {"annotations": {"note": "x"}}})
    o = obj(ing)
    if (o["spec"]["rules"][0]["host"], o["spec"].get("ingressClassName"), o["metadata"].get("generation")) != (
            "patched.example.com", "nginx", 3):
        problems.append(f"ingress: host/class/generation {o['spec']['rules'][0]['host']}, "
                        f"{o['spec'].get('ingressClassName')}, {o['metadata'].get('generation')} "
                        "(want patched.example.com, nginx, 3)")
    assert not problems, "\n".join(problems)


def test_patch_bad_merge_key_and_bad_path(kubectl, namespace, api, tmp_path):
    """Errors a real server gives for patches: a strategic merge list item without
    its merge key, a JSON patch on a missing path; nothing changes."""
    ns = namespace
    name = uniq("pbad")
    f = tmp_path / "sa.yaml"
    f.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name},
                                 "secrets": [{"name": "a"}]}))
    kubectl("apply", "-n", ns, "-f", f)
    before = api.get_obj(f"/api/v1/namespaces/{ns}/serviceaccounts/{name}")
    r = kubectl("patch", "-n", ns, "sa", name, "--type=strategic", "-p", '{"secrets":[{"namespace":"x"}]}',
                check=False)
    assert r.rc == 1, r.describe()
    assert ('Error from server: map: map[namespace:x] does not contain declared merge key: name' in r.stderr), \
        r.describe()
    # a 422 with the json-patch (gopkg.in/evanphx/json-patch.v4) error as its only cause,
    # which kubectl prints as "The request is invalid: : <cause>"
    for path, what in (("/metadata/nothere", "key"), ("/nothere/x", "path")):
        r = kubectl("patch", "-n", ns, "sa", name, "--type=json",
                    "-p", json.dumps([{"op": "replace", "path": path, "value": "1"}]), check=False)
        assert r.rc == 1, r.describe()
        want = f"The request is invalid: : replace operation does not apply: doc is missing {what}: {path}: missing value"
        assert want in r.stderr, r.describe()
    assert api.get_obj(f"/api/v1/namespaces/{ns}/serviceaccounts/{name}") == before


# --------------------------------------------------------------------- label / annotate / edit


# What every namespace of a cluster holds without anyone creating it (as k2d does too): lists
# in a test's namespace show these besides the test's own objects.
PROVIDED = {"configmap": {"kube-root-ca.crt"}, "serviceaccount": {"default"}}


def own_lines(lines: list[str]) -> list[str]:
    """Output lines (`kind/name` or table rows) without the objects every namespace holds."""
    def provided(line: str) -> bool:
        first = line.split()[0] if line.split() else ""
        kind, _, name = first.rpartition("/")
        names = PROVIDED.get(kind.split(".")[0], set()) if kind else set().union(*PROVIDED.values())
        return name in names
    return [ln for ln in lines if not provided(ln)]


def test_label_annotate(kubectl, namespace, api, tmp_path):
    ns = namespace
    names = names_for("lab")
    kubectl("apply", "-n", ns, "-f", write_manifests(tmp_path, "v1.yaml", six(names, 1)))
    problems = []

    def run_k(*args, want):
        r = kubectl("-n", ns, *args, check=False)
        if r.rc != 0 or own_lines(stdout_lines(r)) != want:
            problems.append(f"want {want}\n{r.describe()}")
        return r

    for k in KINDS:
        n = names[k.key]
        run_k("label", k.kubectl_type, n, "tier=backend", want=[f"{k.ref(n)} labeled"])
        run_k("label", k.kubectl_type, n, "tier=frontend", "--overwrite", want=[f"{k.ref(n)} labeled"])
        run_k("get", k.kubectl_type, "-l", "tier in (frontend),variant!=v2", "-o", "name", want=[k.ref(n)])
        run_k("annotate", k.kubectl_type, n, "note=hello world", want=[f"{k.ref(n)} annotated"])
        o = api.get_obj(k.path(ns, n))
        if o["metadata"]["labels"].get("tier") != "frontend" or o["metadata"]["annotations"].get("note") != \
                "hello world":
            problems.append(f"{k}: labels {o['metadata']['labels']} annotations {o['metadata']['annotations']}")
        owners = {m["manager"]: m.get("fieldsV1", {}) for m in o["metadata"].get("managedFields") or []}
        if "f:tier" not in owners.get("kubectl-label", {}).get("f:metadata", {}).get("f:labels", {}) or \
                "f:note" not in owners.get("kubectl-annotate", {}).get("f:metadata", {}).get("f:annotations", {}):
            problems.append(f"{k}: managedFields {json.dumps(owners)}: want kubectl-label owning the label "
                            "and kubectl-annotate the annotation")
        run_k("label", k.kubectl_type, n, "tier-", want=[f"{k.ref(n)} unlabeled"])
        run_k("annotate", k.kubectl_type, n, "note-", want=[f"{k.ref(n)} annotated"])
        run_k("get", k.kubectl_type, "-l", "!tier", "-o", "name", want=[k.ref(n)])
        o = api.get_obj(k.path(ns, n))
        if "tier" in o["metadata"]["labels"] or "note" in (o["metadata"].get("annotations") or {}):
            problems.append(f"{k}: label/annotation not removed: {o['metadata']}")
        managers = {m["manager"] for m in o["metadata"].get("managedFields") or []}
        if managers & {"kubectl-label", "kubectl-annotate"}:
            problems.append(f"{k}: managers {managers}: kubectl-label/-annotate own nothing any more, "
                            "their entries must be gone")
    assert not problems, "\n\n".join(problems)


def test_edit(kubectl, namespace, api, tmp_path):
    """kubectl edit: GET, the editor changes the YAML, a strategic merge patch."""
    ns = namespace
    names = names_for("ed")
    kubectl("apply", "-n", ns, "-f", write_manifests(tmp_path, "v1.yaml", six(names, 1)))
    editor = tmp_path / "editor.sh"
    editor.write_text("#!/bin/sh\nsed -i -e 's/hello/edited/' -e 's/shop.example.com/edited.example.com/' "
                      "-e 's/- list/- watch/' \"$1\"\n")
    editor.chmod(0o755)
    env = kubectl_env(kubectl, KUBE_EDITOR=str(editor), EDITOR=str(editor))
    problems = []
    for key, check in (("configmap", lambda o: o["data"]["greeting"] == "edited"),
                       ("ingress", lambda o: o["spec"]["rules"][0]["host"] == "edited.example.com"),
                       ("role", lambda o: o["rules"][0]["verbs"] == ["get", "watch"])):
        k = KIND_BY_KEY[key]
        r = run(kubectl_cmd(kubectl, "edit", "-n", ns, k.kubectl_type, names[key]), env=env, check=False)
        if r.rc != 0 or stdout_lines(r) != [f"{k.ref(names[key])} edited"]:
            problems.append(r.describe())
            continue
        o = api.get_obj(k.path(ns, names[key]))
        if not check(o):
            problems.append(f"{k}: edit not stored: {json.dumps(o)}")
        if "kubectl-edit" not in {m["manager"] for m in o["metadata"].get("managedFields") or []}:
            problems.append(f"{k}: no kubectl-edit manager")
    assert not problems, "\n\n".join(problems)


# --------------------------------------------------------------------- diff


def test_diff(kubectl, namespace, api, tmp_path):
    """kubectl diff (a dryRun=All patch): exit 0 and no output when equal, exit 1 and a
    unified diff when different; nothing is stored either way."""
    ns = namespace
    names = names_for("dif")
    f1 = write_manifests(tmp_path, "v1.yaml", six(names, 1))
    f2 = write_manifests(tmp_path, "v2.yaml", six(names, 2))
    kubectl("apply", "-n", ns, "-f", f1)
    before = live(api, ns, names)
    r = kubectl("diff", "-n", ns, "-f", f1, check=False)
    assert r.rc == 0 and r.stdout == "", r.describe()
    for extra in ([], ["--server-side"]):
        r = kubectl("diff", *extra, "-n", ns, "-f", f2, check=False)
        assert r.rc == 1, r.describe()
        for line in ("-  greeting: hello", "+  greeting: bonjour", "-  - host: shop.example.com",
                     "+  - host: store.example.com", "-  name: robot", "+  name: robot2",
                     "+  - watch", "-automountServiceAccountToken: true", "+automountServiceAccountToken: false",
                     "-  password: '*** (before)'", "+  password: '*** (after)'"):  # kubectl masks Secret data
            assert any(ln.rstrip() == line for ln in r.stdout.splitlines()), \
                f"diff {' '.join(extra)} lacks the line {line!r}\n{r.describe()}"
        assert live(api, ns, names) == before, f"kubectl diff {' '.join(extra)} changed stored objects"


# --------------------------------------------------------------------- get


def expected_cells(k, o, ns):
    """Cells a real API server's printers compute (pkg/printers/internalversion)."""
    if k.key == "configmap":
        return {"DATA": str(len(o.get("data", {})) + len(o.get("binaryData", {})))}
    if k.key == "secret":
        return {"TYPE": o.get("type", "Opaque"), "DATA": str(len(o.get("data", {})))}
    if k.key == "serviceaccount":
        return {"SECRETS": str(len(o.get("secrets", [])))}
    if k.key == "role":
        return {"CREATED AT": o["metadata"]["creationTimestamp"]}
    if k.key == "rolebinding":
        sas = ", ".join(f"{s.get('namespace', '')}/{s['name']}" for s in o["subjects"] if s["kind"] == "ServiceAccount")
        return {"ROLE": f"{o['roleRef']['kind']}/{o['roleRef']['name']}", "USERS": "", "GROUPS": "",
                "SERVICEACCOUNTS": sas}
    if k.key == "ingress":
        return {"CLASS": o["spec"].get("ingressClassName", "<none>"),
                "HOSTS": ",".join(r["host"] for r in o["spec"]["rules"] if r.get("host")) or "*",
                "ADDRESS": "", "PORTS": "80, 443" if o["spec"].get("tls") else "80"}
    raise AssertionError(k)


def parse_kubectl_table(text: str, columns: list[str]) -> list[dict]:
    """kubectl's column output with multi-word headers (CREATED AT)."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        return []
    header = lines[0]
    starts = []
    for c in columns:
        i = header.find(c, starts[-1] + 1 if starts else 0)
        if i < 0:
            return []
        starts.append(i)
    rows = []
    for ln in lines[1:]:
        row = {}
        for i, c in enumerate(columns):
            end = starts[i + 1] if i + 1 < len(starts) else None
            row[c] = ln[starts[i]:end].strip() if starts[i] < len(ln) else ""
        rows.append(row)
    return rows


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.key)
def test_get_outputs(kubectl, namespace, api, tmp_path, kind):
    ns = namespace
    k = kind
    name = uniq("get")
    f = tmp_path / "o.yaml"
    f.write_text(yaml.safe_dump(manifest(k, name, 1)))
    kubectl("apply", "-n", ns, "-f", f)
    o = api.get_obj(k.path(ns, name))
    problems = []

    # default and wide columns, single object and list
    for args, columns in (([], k.columns), (["-o", "wide"], k.wide_columns)):
        for target in ([k.kubectl_type, name], [k.kubectl_type]):
            r = kubectl("get", "-n", ns, *target, *args)
            lines = r.stdout.splitlines()
            header_cols = re.split(r"\s{2,}", lines[0].strip()) if lines else []
            if header_cols != columns:
                problems.append(f"get {' '.join(target + args)}: header {header_cols}, want {columns}\n{r.describe()}")
                continue
            rows = [row for row in parse_kubectl_table(r.stdout, columns)
                    if row.get("NAME") not in PROVIDED.get(k.key, set())]
            if len(rows) != 1:
                problems.append(f"get {' '.join(target + args)}: {len(rows)} rows\n{r.describe()}")
                continue
            row = rows[0]
            want = {c: v for c, v in expected_cells(k, o, ns).items() if c in columns}
            want["NAME"] = name
            got = {c: row[c] for c in want}
            if got != want:
                problems.append(f"get {' '.join(target + args)}: cells {got}, want {want}\n{r.describe()}")
            if "AGE" in columns and not AGE.match(row["AGE"]):
                problems.append(f"AGE cell {row['AGE']!r}\n{r.describe()}")

    # -o yaml / -o json: the stored object (managedFields hidden by kubectl)
    r = kubectl("get", "-n", ns, k.kubectl_type, name, "-o", "yaml")
    y = yaml.safe_load(r.stdout)
    stored = json.loads(json.dumps(o))
    stored["metadata"].pop("managedFields", None)
    if y != stored:
        problems.append(f"-o yaml differs from the stored object:\n{r.stdout}\nstored: {json.dumps(stored)}")
    r = kubectl("get", "-n", ns, k.kubectl_type, name, "-o", "json")
    if json.loads(r.stdout) != stored:
        problems.append(f"-o json differs from the stored object:\n{r.stdout}")
    r = kubectl("get", "-n", ns, k.kubectl_type, name, "-o", "json", "--show-managed-fields")
    if json.loads(r.stdout) != o:
        problems.append(f"-o json --show-managed-fields differs from the stored object:\n{r.stdout}")
    r = kubectl("get", "-n", ns, k.kubectl_type, "-o", "json")
    lst = json.loads(r.stdout)
    listed = [i["metadata"]["name"] for i in lst.get("items", [])
              if i["metadata"]["name"] not in PROVIDED.get(k.key, set())]
    if lst.get("kind") != "List" or listed != [name]:
        problems.append(f"-o json list: {r.stdout[:2000]}")

    # -o jsonpath and -o name
    jp = {"configmap": ("{.data.greeting}", "hello"), "secret": ("{.data.user}", b64("admin")),
          "serviceaccount": ("{.automountServiceAccountToken}", "true"),
          "role": ("{.rules[0].verbs}", '["get","list"]'), "rolebinding": ("{.roleRef.kind}/{.roleRef.name}",
                                                                            "Role/reader"),
          "ingress": ("{.spec.rules[0].host}", "shop.example.com")}[k.key]
    r = kubectl("get", "-n", ns, k.kubectl_type, name, "-o", f"jsonpath={{.metadata.name}} {{.metadata.uid}} {jp[0]}")
    want = f"{name} {o['metadata']['uid']} {jp[1]}"
    if r.stdout != want:
        problems.append(f"-o jsonpath: {r.stdout!r}, want {want!r}")
    r = kubectl("get", "-n", ns, k.kubectl_type, "-o", "jsonpath={.items[*].metadata.name}")
    if [n for n in r.stdout.split() if n not in PROVIDED.get(k.key, set())] != [name]:
        problems.append(f"list -o jsonpath: {r.stdout!r}, want {name!r}")
    r = kubectl("get", "-n", ns, k.kubectl_type, name, "-o", "name")
    if stdout_lines(r) != [k.ref(name)]:
        problems.append(f"-o name: {r.stdout!r}")
    # a missing object: the NotFound message of a real server
    r = kubectl("get", "-n", ns, k.kubectl_type, "missing-x", check=False)
    resource = k.plural + (f".{k.group}" if k.group else "")
    if r.rc != 1 or f'Error from server (NotFound): {resource} "missing-x" not found' not in r.stderr:
        problems.append(f"get missing: {r.describe()}")
    assert not problems, "\n\n".join(problems)


# --------------------------------------------------------------------- get -w


def test_get_watch(kubectl, namespace, api, tmp_path):
    """`kubectl get <type> -w --output-watch-events` (Table watch) sees ADDED,
    MODIFIED and DELETED for each kind."""
    ns = namespace
    names = names_for("w")
    first = {k.key: f"{names[k.key]}-0" for k in KINDS}
    for k in KINDS:
        api.must(api.post(k.path(ns), manifest(k, first[k.key], 1)), 201)
    watchers = {}
    try:
        for k in KINDS:
            watchers[k.key] = Background(kubectl_cmd(kubectl, "get", "-n", ns, k.kubectl_type, "-w",
                                                     "--output-watch-events"),
                                         kubectl_env(kubectl), tmp_path / f"watch-{k.key}.log")
        for k in KINDS:
            assert watchers[k.key].wait_for(rf"^ADDED\s+{re.escape(first[k.key])}\s", 20), \
                f"{k}: the watch did not list the existing object\n{watchers[k.key].describe()}"
        f = tmp_path / "w.yaml"
        f.write_text(to_yaml_docs(six(names, 1)))
        kubectl("apply", "-n", ns, "-f", f)
        for k in KINDS:
            kubectl("label", "-n", ns, k.kubectl_type, names[k.key], "watched=yes")
        kubectl("delete", "-n", ns, "-f", f)
        problems = []
        for k in KINDS:
            w = watchers[k.key]
            if not w.wait_for(rf"^DELETED\s+{re.escape(names[k.key])}\s", 20):
                problems.append(f"{k}: no DELETED line\n{w.describe()}")
                continue
            events = [ln.split()[0] for ln in w.output().splitlines()
                      if ln.split()[1:2] == [names[k.key]]]
            if events != ["ADDED", "MODIFIED", "DELETED"]:
                problems.append(f"{k}: events {events}, want ADDED MODIFIED DELETED\n{w.describe()}")
            header = w.output().splitlines()[0].split()
            if header[:2] != ["EVENT", "NAME"]:
                problems.append(f"{k}: header {header}\n{w.describe()}")
        assert not problems, "\n\n".join(problems)
    finally:
        for w in watchers.values():
            w.stop()


def test_get_watch_json_events(kubectl, namespace, api, tmp_path):
    """`get -w -o json --output-watch-events`: the events carry the objects with
    increasing resourceVersions."""
    ns = namespace
    k = KIND_BY_KEY["configmap"]
    name = uniq("wj")
    w = Background(kubectl_cmd(kubectl, "get", "-n", ns, "configmaps", "-w", "-o", "json", "--output-watch-events"),
                   kubectl_env(kubectl), tmp_path / "w.log")
    try:
        time.sleep(1.0)
        api.must(api.post(k.path(ns), manifest(k, name, 1)), 201)
        api.must(api.patch(k.path(ns, name), {"data": {"x": "1"}}), 200)
        api.must(api.delete(k.path(ns, name)), 200)
        assert w.wait_for(r'"type":\s*"DELETED"', 20), w.describe()
        time.sleep(0.3)
    finally:
        _, out = w.stop()
    dec = json.JSONDecoder()
    events, i = [], 0
    out = out.strip()
    while i < len(out):
        while i < len(out) and out[i].isspace():
            i += 1
        if i >= len(out):
            break
        if out[i] != "{":
            j = out.find("\n", i)
            i = len(out) if j < 0 else j + 1
            continue
        ev, i = dec.raw_decode(out, i)
        events.append(ev)
    mine = [e for e in events if e.get("object", {}).get("metadata", {}).get("name") == name]
    assert [e["type"] for e in mine] == ["ADDED", "MODIFIED", "DELETED"], out
    rv = [int(e["object"]["metadata"]["resourceVersion"]) for e in mine]
    assert rv == sorted(rv) and len(set(rv)) == 3, f"resourceVersions {rv}\n{out}"
    assert mine[1]["object"]["data"] == {"greeting": "hello", "color": "blue", "x": "1"}, mine[1]


# --------------------------------------------------------------------- wait --for=delete, delete


def test_wait_for_delete(kubectl, namespace, api, tmp_path):
    """Objects held by a finalizer: delete --wait=false sets deletionTimestamp; kubectl
    wait --for=delete keeps waiting until the finalizer is removed."""
    ns = namespace
    names = names_for("wd")
    for k in KINDS:
        m = manifest(k, names[k.key], 1)
        m["metadata"]["finalizers"] = ["example.com/hold"]
        api.must(api.post(k.path(ns), m), 201)
    refs = [k.ref(names[k.key]) for k in KINDS]
    r = kubectl("delete", "-n", ns, *refs, "--wait=false")
    lines = stdout_lines(r)
    for k, ln in zip(KINDS, lines):
        pat = deleted_line(kubectl, k.singular, names[k.key], ns)
        assert pat.fullmatch(ln), f"{ln!r} !~ {pat.pattern}\n{r.describe()}"
    for k in KINDS:
        o = api.get_obj(k.path(ns, names[k.key]))
        assert o and o["metadata"].get("deletionTimestamp") and o["metadata"].get("finalizers") == \
            ["example.com/hold"], f"{k}: {json.dumps(o)}"
    w = Background(kubectl_cmd(kubectl, "wait", "-n", ns, "--for=delete", *refs, "--timeout=60s"),
                   kubectl_env(kubectl), tmp_path / "wait.log")
    try:
        time.sleep(1.5)
        assert w.running(), f"kubectl wait returned while the objects still exist\n{w.describe()}"
        for k in KINDS:
            api.must(api.patch(k.path(ns, names[k.key]), [{"op": "remove", "path": "/metadata/finalizers"}],
                               ctype="application/json-patch+json"), 200)
        rc = w.wait(30)
        assert rc == 0, w.describe()
        # kubectl waits for one object after the other and prints nothing for those
        # already gone when it gets to them; the first one it waited for is reported
        assert f"{refs[0]} condition met" in w.output(), w.describe()
    finally:
        w.stop()
    for k in KINDS:
        assert api.get(k.path(ns, names[k.key])).status == 404, f"{k} still exists"


def test_delete(kubectl, namespace, api, tmp_path):
    ns = namespace
    names = names_for("del")
    f = write_manifests(tmp_path, "v1.yaml", six(names, 1))
    kubectl("apply", "-n", ns, "-f", f)
    r = kubectl("delete", "-n", ns, "-f", f)
    lines = stdout_lines(r)
    assert len(lines) == len(KINDS), r.describe()
    for k, ln in zip(KINDS, lines):
        pat = deleted_line(kubectl, k.singular, names[k.key], ns)
        assert pat.fullmatch(ln), f"{ln!r} !~ {pat.pattern}\n{r.describe()}"
    for k in KINDS:
        assert api.get(k.path(ns, names[k.key])).status == 404, f"{k} still exists after delete"
    r = kubectl("delete", "-n", ns, "configmap", names["configmap"], check=False)
    assert r.rc == 1 and f'Error from server (NotFound): configmaps "{names["configmap"]}" not found' in r.stderr, \
        r.describe()
    r = kubectl("delete", "-n", ns, "-f", f, "--ignore-not-found")
    assert r.rc == 0 and r.stdout.strip() == "", r.describe()


# --------------------------------------------------------------------- auth


def test_auth_can_i(kubectl, namespace):
    for args in (["create", "configmaps"], ["delete", "secrets", "--all-namespaces"], ["patch", "ingresses"],
                 ["get", "roles.rbac.authorization.k8s.io"]):
        r = kubectl("auth", "can-i", *args, "-n", namespace, check=False)
        assert r.rc == 0 and r.stdout.strip() == "yes", r.describe()


def test_auth_whoami(kubectl):
    r = kubectl("auth", "whoami", "-o", "json", check=False)
    assert r.rc == 0, r.describe()
    review = json.loads(r.stdout)
    assert review.get("kind") == "SelfSubjectReview" and review.get("apiVersion") == "authentication.k8s.io/v1", \
        r.describe()
    user = review.get("status", {}).get("userInfo", {})
    assert user.get("username"), r.describe()
    assert "system:authenticated" in user.get("groups", []), r.describe()
    r = kubectl("auth", "whoami")
    rows = dict(re.split(r"\s{2,}", ln.strip(), maxsplit=1) for ln in r.stdout.splitlines()[1:] if ln.strip())
    assert r.stdout.split()[:2] == ["ATTRIBUTE", "VALUE"] and rows.get("Username") == user["username"], r.describe()


# --------------------------------------------------------------------- PodDisruptionBudget (the Helm chart's 7th kind)


def test_get_pdb_table_and_status(kubectl, namespace, api, tmp_path):
    """A stored PodDisruptionBudget prints like on a real server (MAX UNAVAILABLE N/A
    when unset, ALLOWED DISRUPTIONS from status) and carries the status a real server
    writes on create (all counters 0, non-omitempty fields); an Ingress carries
    `status: {loadBalancer: {}}`."""
    ns = namespace
    name = uniq("pdb")
    f = tmp_path / "pdb.yaml"
    f.write_text(to_yaml_docs([
        {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": name},
         "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}}},
        manifest(KIND_BY_KEY["ingress"], name, 1)]))
    r = kubectl("apply", "-n", ns, "-f", f)
    assert stdout_lines(r) == [f"poddisruptionbudget.policy/{name} created",
                               f"ingress.networking.k8s.io/{name} created"], r.describe()
    problems = []
    r = kubectl("get", "-n", ns, "pdb", name)
    cols = ["NAME", "MIN AVAILABLE", "MAX UNAVAILABLE", "ALLOWED DISRUPTIONS", "AGE"]
    rows = parse_kubectl_table(r.stdout, cols)
    if not rows or {c: rows[0][c] for c in cols[:4]} != {"NAME": name, "MIN AVAILABLE": "1", "MAX UNAVAILABLE": "N/A",
                                                         "ALLOWED DISRUPTIONS": "0"}:
        problems.append(r.describe())
    pdb = api.get_obj(f"/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets/{name}")
    if pdb.get("status") != {"currentHealthy": 0, "desiredHealthy": 0, "disruptionsAllowed": 0, "expectedPods": 0}:
        problems.append(f"PodDisruptionBudget status {pdb.get('status')}")
    if pdb["metadata"].get("generation") != 1:
        problems.append(f"PodDisruptionBudget generation {pdb['metadata'].get('generation')}, want 1")
    ing = api.get_obj(KIND_BY_KEY["ingress"].path(ns, name))
    if ing.get("status") != {"loadBalancer": {}}:
        problems.append(f"Ingress status {ing.get('status')}, want {{'loadBalancer': {{}}}}")
    assert not problems, "\n".join(problems)
