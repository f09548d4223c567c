"""Issue 10, StatefulSets on real pods: a StatefulSet of 3 behind a headless Service starts in
order (pod N+1 only once pod N is Running and Ready), each pod keeps the data of its own claim
`data-<set>-<ordinal>` across its deletion, the pods answer each other at
`<pod>.<service>.<ns>.svc.cluster.local`, scaling down removes the highest ordinal first, and a
rolling update with a partition replaces only the pods at or above it. `kubectl rollout status`,
`history` and `undo` work with every kubectl."""

from __future__ import annotations

import json
import threading

from conftest import TEST_IMAGE
from helpers import namespace, uniq, wait_for  # noqa: F401

# Serves /data over HTTP on 8080; the first start writes its identity and time there.
SERVE = ("trap 'exit 0' TERM; [ -f /data/index.html ] || echo \"$HOSTNAME $(date +%s%N)\" > /data/index.html; "
         "httpd -f -p 8080 -h /data & wait")


def apply(kubectl, ns, obj):
    kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(obj))


def wait(pred, what, timeout=90):
    """helpers.wait_for with this file's argument order and a 90 s default."""
    return wait_for(what, pred, timeout=timeout, interval=0.3)


def get_json(kubectl, *args):
    r = kubectl("get", *args, "-o", "json", check=False)
    return json.loads(r.stdout) if r.rc == 0 else {}


def pods(kubectl, ns, app):
    return get_json(kubectl, "pods", "-n", ns, "-l", f"app={app}").get("items", [])


def ready_since(pod):
    for c in pod.get("status", {}).get("conditions") or []:
        if c["type"] == "Ready" and c["status"] == "True":
            return c["lastTransitionTime"]
    return None


def statefulset(name, replicas, image=TEST_IMAGE, **spec):
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name},
            "spec": {"replicas": replicas, "serviceName": f"{name}-hl",
                     "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": {
                         "terminationGracePeriodSeconds": 2,
                         "containers": [{"name": "c", "image": image, "imagePullPolicy": "Never",
                                         "command": ["sh", "-c", SERVE],
                                         "ports": [{"name": "web", "containerPort": 8080}],
                                         "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                                         "readinessProbe": {"httpGet": {"path": "/", "port": "web"},
                                                            "periodSeconds": 1}}]}},
                     "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                         "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Mi"}}}}],
                     **spec}}


def headless(name):
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"{name}-hl"},
            "spec": {"clusterIP": "None", "selector": {"app": name},
                     "ports": [{"name": "web", "port": 8080, "targetPort": "web"}]}}


def fetch_all(kubectl, ns, name, targets):
    """Runs a pod that fetches http://<target>:8080/ for each target; returns its log lines."""
    # (busybox-static's wget crashes with -T: no timeout flag.)
    script = "; ".join(f"echo {t}=$(wget -qO- http://{t}:8080/ || echo FAIL)" for t in targets)
    apply(kubectl, ns, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                        "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 1,
                                 "containers": [{"name": "c", "image": TEST_IMAGE, "imagePullPolicy": "Never",
                                                 "command": ["sh", "-c", script]}]}})
    wait(lambda: get_json(kubectl, "pod", "-n", ns, name).get("status", {}).get("phase") in ("Succeeded", "Failed"),
         f"pod {name} finished")
    out = kubectl("logs", "-n", ns, name).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def test_ordered_start_stable_names_and_claims(kubectl_newest, namespace):
    kubectl, ns = kubectl_newest, namespace
    apply(kubectl, ns, headless("db"))
    apply(kubectl, ns, statefulset("db", 3))
    kubectl("rollout", "status", "-n", ns, "statefulset/db", "--timeout=150s", timeout=180)
    ps = {p["metadata"]["name"]: p for p in pods(kubectl, ns, "db")}
    assert sorted(ps) == ["db-0", "db-1", "db-2"], sorted(ps)
    # OrderedReady: each pod was created no earlier than its predecessor became ready.
    for a, b in (("db-0", "db-1"), ("db-1", "db-2")):
        assert ready_since(ps[a]) <= ps[b]["metadata"]["creationTimestamp"], (ps[a]["status"], ps[b]["metadata"])
    claims = get_json(kubectl, "pvc", "-n", ns)["items"]
    assert sorted(c["metadata"]["name"] for c in claims) == ["data-db-0", "data-db-1", "data-db-2"]
    sts = get_json(kubectl, "statefulset", "-n", ns, "db")
    st = sts["status"]
    assert (st["replicas"], st["readyReplicas"], st["currentReplicas"], st["updatedReplicas"]) == (3, 3, 3, 3), st
    assert st["currentRevision"] == st["updateRevision"]
    assert st["observedGeneration"] == sts["metadata"]["generation"]

    # Stable DNS names: every pod is reached by <pod>.<service>.<ns>.svc.cluster.local.
    names = [f"db-{i}.db-hl.{ns}.svc.cluster.local" for i in range(3)]
    first = fetch_all(kubectl, ns, "dns-1", names)
    for i, n in enumerate(names):
        assert first[n].startswith(f"db-{i} "), first

    # A deleted pod comes back under its name with its claim's data.
    old_uid = ps["db-1"]["metadata"]["uid"]
    kubectl("delete", "pod", "-n", ns, "db-1", "--wait=false")
    wait(lambda: any(p["metadata"]["name"] == "db-1" and p["metadata"]["uid"] != old_uid and ready_since(p)
                     for p in pods(kubectl, ns, "db")), "db-1 back and ready")
    again = fetch_all(kubectl, ns, "dns-2", [names[1]])
    assert again[names[1]] == first[names[1]], (first, again)

    # Scale down: the highest ordinal first; claims are retained.
    seen = []
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            seen.append(sorted(p["metadata"]["name"] for p in pods(kubectl, ns, "db")))
            stop.wait(0.2)

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    kubectl("scale", "-n", ns, "statefulset/db", "--replicas=1")
    wait(lambda: [p["metadata"]["name"] for p in pods(kubectl, ns, "db")] == ["db-0"], "scaled to db-0", timeout=60)
    stop.set()
    t.join(5)
    for names_seen in seen:
        assert not ("db-1" not in names_seen and "db-2" in names_seen), seen
    assert len(get_json(kubectl, "pvc", "-n", ns)["items"]) == 3


def test_partitioned_rolling_update_history_and_undo(kubectl, namespace):
    ns = namespace
    apply(kubectl, ns, headless("web"))
    apply(kubectl, ns, statefulset("web", 2, podManagementPolicy="Parallel"))
    out = kubectl("rollout", "status", "-n", ns, "statefulset/web", "--timeout=120s", timeout=150).stdout
    assert "partitioned roll out complete: 2 new pods have been updated" in out, out
    old = get_json(kubectl, "statefulset", "-n", ns, "web")["status"]["currentRevision"]
    kubectl("patch", "-n", ns, "statefulset/web", "--type=merge", "-p", json.dumps({"spec": {
        "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}},
        "template": {"metadata": {"annotations": {"rev": "2"}}}}}))
    out = kubectl("rollout", "status", "-n", ns, "statefulset/web", "--timeout=120s", timeout=150).stdout
    assert "partitioned roll out complete: 1 new pods have been updated" in out, out
    revs = {p["metadata"]["name"]: p["metadata"]["labels"]["controller-revision-hash"] for p in pods(kubectl, ns, "web")}
    new = get_json(kubectl, "statefulset", "-n", ns, "web")["status"]["updateRevision"]
    assert revs == {"web-0": old, "web-1": new}, (revs, old, new)
    hist = kubectl("rollout", "history", "-n", ns, "statefulset/web").stdout
    assert "1" in hist and "2" in hist, hist
    kubectl("patch", "-n", ns, "statefulset/web", "--type=merge", "-p",
            json.dumps({"spec": {"updateStrategy": {"rollingUpdate": {"partition": 0}}}}))
    # kubectl reports any RollingUpdate with a rollingUpdate block (the default one too) as a
    # partitioned roll out; the revisions say it is complete.
    out = kubectl("rollout", "status", "-n", ns, "statefulset/web", "--timeout=120s", timeout=150).stdout
    assert "partitioned roll out complete: 2 new pods have been updated" in out, out
    wait(lambda: (st := get_json(kubectl, "statefulset", "-n", ns, "web")["status"])
         and st["currentRevision"] == st["updateRevision"] == new and st["currentReplicas"] == 2 and st,
         "the update revision current")
    # Undo goes back to the first template: its revision is reused as revision 3.
    kubectl("rollout", "undo", "-n", ns, "statefulset/web")
    wait(lambda: (st := get_json(kubectl, "statefulset", "-n", ns, "web")["status"])
         and st["currentRevision"] == st["updateRevision"] == old and st["readyReplicas"] == 2 and st,
         "back on the first revision", timeout=120)
    crs = get_json(kubectl, "controllerrevisions", "-n", ns)["items"]
    assert sorted(c["revision"] for c in crs) == [2, 3], crs
