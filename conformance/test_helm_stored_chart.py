"""Issue 3, scenario 2: Helm 3.17, Helm 4.1 and Helm 4.3 install, upgrade, rollback,
list, status, history and uninstall the chart charts/stored-kinds (ConfigMap, Secret,
ServiceAccount, Role, RoleBinding, Ingress, PodDisruptionBudget: kinds k2d stores
without acting on them).

After each step: the release Secrets (`sh.helm.release.v1.<release>.v<N>`, type
helm.sh/release.v1, labels name/owner/status/version, written by Helm with protobuf
bodies) carry the state a real cluster would show, and the objects carry the values
of the deployed revision. Uninstall removes every object and every release Secret.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
from pathlib import Path

from helpers import Api, api, b64, namespace, uniq  # noqa: F401

CHART = Path(__file__).resolve().parent / "charts" / "stored-kinds"

VALUES_1 = {"greeting": "hello", "password": "s3cret", "verbs": ["get", "list"], "host": "shop.example.com",
            "minAvailable": 1, "automount": True}
VALUES_2 = {"greeting": "bonjour", "password": "n3w-s3cret", "verbs": ["get", "list", "watch"],
            "host": "store.example.com", "minAvailable": 2, "automount": False}
SET_2 = ["--set", "greeting=bonjour,password=n3w-s3cret,host=store.example.com,minAvailable=2,"
                  "serviceAccount.automount=false", "--set", "verbs={get,list,watch}"]

OBJECTS = [  # (path segment, plural, has ingress toggle)
    ("/api/v1", "configmaps"), ("/api/v1", "secrets"), ("/api/v1", "serviceaccounts"),
    ("/apis/rbac.authorization.k8s.io/v1", "roles"), ("/apis/rbac.authorization.k8s.io/v1", "rolebindings"),
    ("/apis/networking.k8s.io/v1", "ingresses"), ("/apis/policy/v1", "poddisruptionbudgets"),
]


def obj_path(ns, base, plural, name):
    return f"{base}/namespaces/{ns}/{plural}/{name}"


def release_secrets(api: Api, ns: str, rel: str) -> dict:
    r = api.get(f"/api/v1/namespaces/{ns}/secrets", query={"labelSelector": f"name={rel},owner=helm"})
    lst = api.must(r, 200)
    return {s["metadata"]["name"]: s for s in lst["items"]}


def decode_release(secret: dict) -> dict:
    raw = base64.b64decode(secret["data"]["release"])  # the Secret's base64
    raw = base64.b64decode(raw)  # Helm's own base64
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return json.loads(raw)


def check_release_secrets(api, ns, rel, statuses: dict[int, str]) -> list[str]:
    """statuses: revision -> expected status label (and status in the release)."""
    secrets = release_secrets(api, ns, rel)
    problems = []
    want_names = {f"sh.helm.release.v1.{rel}.v{v}" for v in statuses}
    if set(secrets) != want_names:
        problems.append(f"release Secrets {sorted(secrets)}, want {sorted(want_names)}")
    for v, st in statuses.items():
        s = secrets.get(f"sh.helm.release.v1.{rel}.v{v}")
        if not s:
            continue
        labels = s["metadata"].get("labels", {})
        want = {"name": rel, "owner": "helm", "status": st, "version": str(v)}
        got = {k: labels.get(k) for k in want}
        if got != want:
            problems.append(f"v{v}: labels {labels}, want {want} among them")
        if s.get("type") != "helm.sh/release.v1":
            problems.append(f"v{v}: type {s.get('type')!r}")
        if not any(k in labels for k in ("createdAt", "modifiedAt")):
            problems.append(f"v{v}: no createdAt/modifiedAt label: {labels}")
        try:
            rls = decode_release(s)
        except Exception as e:  # noqa: BLE001
            problems.append(f"v{v}: data.release does not decode as base64(gzip(JSON)): {e!r}")
            continue
        if (rls.get("name"), rls.get("version"), rls.get("namespace"), rls.get("info", {}).get("status")) != (
                rel, v, ns, st):
            problems.append(f"v{v}: release {rls.get('name')} v{rls.get('version')} ns {rls.get('namespace')} "
                            f"status {rls.get('info', {}).get('status')}")
    # a Secret of the release must never be returned by the status=deployed selector unless deployed
    r = api.get(f"/api/v1/namespaces/{ns}/secrets", query={"labelSelector": f"name={rel},owner=helm,status=deployed"})
    deployed = sorted(i["metadata"]["name"] for i in api.must(r, 200)["items"])
    want_dep = sorted(f"sh.helm.release.v1.{rel}.v{v}" for v, st in statuses.items() if st == "deployed")
    if deployed != want_dep:
        problems.append(f"labelSelector status=deployed lists {deployed}, want {want_dep}")
    return problems


def check_objects(api, ns, rel, values: dict, ingress: bool = True) -> list[str]:
    full = f"{rel}-stored-kinds"
    problems = []
    objs = {}
    for base, plural in OBJECTS:
        o = api.get_obj(obj_path(ns, base, plural, full))
        if plural == "ingresses" and not ingress:
            if o is not None:
                problems.append("the Ingress removed from the chart still exists")
            continue
        if o is None:
            problems.append(f"{plural}/{full} missing")
            continue
        objs[plural] = o
        md = o["metadata"]
        labels = md.get("labels", {})
        if labels.get("app.kubernetes.io/managed-by") != "Helm" or labels.get("app.kubernetes.io/instance") != rel:
            problems.append(f"{plural}: labels {labels}")
        ann = md.get("annotations", {})
        if ann.get("meta.helm.sh/release-name") != rel or ann.get("meta.helm.sh/release-namespace") != ns:
            problems.append(f"{plural}: annotations {ann}")
    if "configmaps" in objs and objs["configmaps"].get("data") != {"greeting": values["greeting"], "release": rel}:
        problems.append(f"configmap data {objs['configmaps'].get('data')}")
    if "secrets" in objs and (objs["secrets"].get("data") != {"password": b64(values["password"])}
                              or objs["secrets"].get("type") != "Opaque"):
        problems.append(f"secret {objs['secrets'].get('type')} {objs['secrets'].get('data')}")
    if "serviceaccounts" in objs and objs["serviceaccounts"].get("automountServiceAccountToken") != values["automount"]:
        problems.append(f"serviceaccount automount {objs['serviceaccounts'].get('automountServiceAccountToken')}")
    if "roles" in objs and objs["roles"].get("rules") != [
            {"apiGroups": [""], "resources": ["configmaps"], "verbs": values["verbs"]}]:
        problems.append(f"role rules {objs['roles'].get('rules')}")
    if "rolebindings" in objs and (objs["rolebindings"].get("roleRef") != {
            "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": full} or objs["rolebindings"].get(
            "subjects") != [{"kind": "ServiceAccount", "name": full, "namespace": ns}]):
        problems.append(f"rolebinding {objs['rolebindings'].get('roleRef')} {objs['rolebindings'].get('subjects')}")
    if "ingresses" in objs and objs["ingresses"]["spec"]["rules"][0].get("host") != values["host"]:
        problems.append(f"ingress host {objs['ingresses']['spec']['rules'][0].get('host')}")
    if "poddisruptionbudgets" in objs and objs["poddisruptionbudgets"].get("spec") != {
            "minAvailable": values["minAvailable"],
            "selector": {"matchLabels": {"app.kubernetes.io/name": "stored-kinds", "app.kubernetes.io/instance": rel}}}:
        problems.append(f"pdb spec {objs['poddisruptionbudgets'].get('spec')}")
    return problems


def field(out: str, name: str) -> str | None:
    m = re.search(rf"^{name}: (.*)$", out, re.M)
    return m.group(1).strip() if m else None


def test_helm_lifecycle_stored_chart(helm, namespace, api):
    ns = namespace
    rel = uniq("rel")
    h = lambda *a, **kw: helm(*a, "-n", ns, **kw)  # noqa: E731

    # install
    r = h("install", rel, CHART)
    assert field(r.stdout, "STATUS") == "deployed" and field(r.stdout, "REVISION") == "1", r.describe()
    problems = check_release_secrets(api, ns, rel, {1: "deployed"}) + check_objects(api, ns, rel, VALUES_1)
    # who wrote the objects: Helm 3 creates (Update, manager helm), Helm 4 applies server-side
    cm = api.get_obj(obj_path(ns, "/api/v1", "configmaps", f"{rel}-stored-kinds"))
    managers = {(m["manager"], m["operation"]) for m in (cm or {}).get("metadata", {}).get("managedFields") or []}
    want_mgr = ("helm", "Update") if helm.name == "3" else ("helm", "Apply")
    if want_mgr not in managers:
        problems.append(f"configmap managedFields {managers}, want {want_mgr}")
    assert not problems, "after install:\n" + "\n".join(problems) + "\n" + r.describe()

    # upgrade with new values
    r = h("upgrade", rel, CHART, *SET_2)
    assert field(r.stdout, "STATUS") == "deployed" and field(r.stdout, "REVISION") == "2", r.describe()
    problems = check_release_secrets(api, ns, rel, {1: "superseded", 2: "deployed"}) + \
        check_objects(api, ns, rel, VALUES_2)
    assert not problems, "after upgrade:\n" + "\n".join(problems) + "\n" + r.describe()

    # upgrade that drops the Ingress from the manifest: Helm deletes it
    r = h("upgrade", rel, CHART, *SET_2, "--set", "ingress.enabled=false")
    assert field(r.stdout, "REVISION") == "3", r.describe()
    problems = check_release_secrets(api, ns, rel, {1: "superseded", 2: "superseded", 3: "deployed"}) + \
        check_objects(api, ns, rel, VALUES_2, ingress=False)
    assert not problems, "after the upgrade without Ingress:\n" + "\n".join(problems) + "\n" + r.describe()

    # rollback to revision 1: the values of the install, the Ingress back
    r = h("rollback", rel, "1")
    assert "Rollback was a success" in r.stdout, r.describe()
    problems = check_release_secrets(api, ns, rel, {1: "superseded", 2: "superseded", 3: "superseded",
                                                    4: "deployed"}) + check_objects(api, ns, rel, VALUES_1)
    assert not problems, "after rollback:\n" + "\n".join(problems) + "\n" + r.describe()

    # list, status, history
    r = h("list", "-o", "json")
    releases = json.loads(r.stdout)
    assert [(x["name"], x["namespace"], str(x["revision"]), x["status"], x["chart"], x["app_version"])
            for x in releases] == [(rel, ns, "4", "deployed", "stored-kinds-0.1.0", "1.0.0")], r.describe()
    r = h("list")
    lines = [ln for ln in r.stdout.splitlines() if ln.strip()]
    assert len(lines) == 2 and lines[1].split()[0] == rel and "deployed" in lines[1].split(), r.describe()
    r = h("status", rel)
    assert (field(r.stdout, "NAME"), field(r.stdout, "NAMESPACE"), field(r.stdout, "STATUS"),
            field(r.stdout, "REVISION")) == (rel, ns, "deployed", "4"), r.describe()
    assert f"{rel} stores a ConfigMap, a Secret, a ServiceAccount, a Role, a RoleBinding, an Ingress and a " \
           f"PodDisruptionBudget in {ns}." in r.stdout, r.describe()
    r = h("history", rel, "-o", "json")
    hist = [(x["revision"], x["status"], x["description"]) for x in json.loads(r.stdout)]
    assert hist == [(1, "superseded", "Install complete"), (2, "superseded", "Upgrade complete"),
                    (3, "superseded", "Upgrade complete"), (4, "deployed", "Rollback to 1")], r.describe()

    # uninstall: every object and every release Secret is gone
    r = h("uninstall", rel)
    assert f'release "{rel}" uninstalled' in r.stdout, r.describe()
    left = [plural for base, plural in OBJECTS
            if api.get(obj_path(ns, base, plural, f"{rel}-stored-kinds")).status != 404]
    assert not left, f"left after uninstall: {left}\n{r.describe()}"
    assert release_secrets(api, ns, rel) == {}, f"release Secrets left: {sorted(release_secrets(api, ns, rel))}"
    # Helm 3's --all (releases in every state) is gone in Helm 4, which lists every state anyway
    listed = h("list", "-o", "json") if helm.name != "3" else h("list", "--all", "-o", "json")
    assert json.loads(listed.stdout) == [], listed.describe()
    r = h("status", rel, check=False)
    assert r.rc == 1 and "Error: release: not found" in r.stderr, r.describe()


def test_helm_install_wait_and_upgrade_wait(helm, namespace, api):
    """--wait on a chart of stored kinds: nothing to wait for (Helm 4's watcher needs
    the watch-list bookmark or a 422, Helm 3's legacy checker reads each object)."""
    ns = namespace
    rel = uniq("relw")
    r = helm("install", rel, CHART, "-n", ns, "--wait", "--timeout", "60s")
    assert "STATUS: deployed" in r.stdout and r.seconds < 30, r.describe()
    r = helm("upgrade", rel, CHART, "-n", ns, *SET_2, "--wait", "--timeout", "60s")
    assert "STATUS: deployed" in r.stdout and r.seconds < 30, r.describe()
    problems = check_objects(api, ns, rel, VALUES_2) + check_release_secrets(api, ns, rel, {1: "superseded",
                                                                                           2: "deployed"})
    assert not problems, "\n".join(problems)
    r = helm("uninstall", rel, "-n", ns, "--wait", "--timeout", "60s")
    assert f'release "{rel}" uninstalled' in r.stdout and r.seconds < 30, r.describe()
    assert release_secrets(api, ns, rel) == {}
