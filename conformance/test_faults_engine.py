"""Issue 8, points 3 and 4: the container engine goes away and comes back.

- Outage (point 3): dockerd is stopped for 30 s while clients use k2d. Requests that need
  the engine get a 503 Status naming the engine, quickly; store-only requests keep working;
  a pod created meanwhile is stored and stays Pending; watches stay open or end cleanly;
  k2d spends (almost) no CPU while the engine is down; when it is back k2d reconnects by
  itself and pods come back per their restartPolicy.
- Host reboot (point 4): k2d and the engine die together (SIGKILL, containers included),
  both start again, and every pod that should run runs again without an operator: sandbox
  before containers, init containers before app containers, claims' volumes before the
  pods that mount them, Deployments back to their replicas.

Runs on the faults suite's own engine (faults_common.py).
"""

from __future__ import annotations

import time

from faults_common import (WatchRecorder, converged, cpu_ticks, deployment, engine_view, faults_engine,  # noqa: F401
                           faults_k2d, ready, wait_pods)
from conftest import run, tool_path
from helpers import Api, cm_path, configmap, wait_for
from pods_common import SLEEPER, pod_manifest, sh

OUTAGE_SECS = 30
# How long a request that needs the engine may take while the engine is down.
ENGINE_ERROR_BOUND_SECS = 10
# CPU k2d may use while the engine is down (clock ticks, 1/100 s): a reconnect loop with
# back-off wakes a few times; a busy loop would burn the whole outage (3000 ticks).
OUTAGE_CPU_BOUND_TICKS = 150


def restarts(p: dict) -> int:
    return sum(s.get("restartCount", 0) for s in p["status"].get("containerStatuses", []))


def test_engine_outage(faults_k2d, faults_engine):
    server = faults_k2d
    api = Api(server)
    ns = "outage"
    api.create_namespace(ns)
    pods = f"/api/v1/namespaces/{ns}/pods"
    api.must(api.post(pods, pod_manifest("always", [sh("main", SLEEPER)], restart="Always")), 201)
    api.must(api.post(pods, pod_manifest("never", [sh("main", SLEEPER)], restart="Never")), 201)
    wait_pods(api, ns, lambda ps: len(ps) == 2 and all(ready(p) for p in ps), "Running")
    before = {p["metadata"]["name"]: p for p in api.must(api.get(pods), 200)["items"]}
    watch = WatchRecorder(server, f"{pods}?watch=1&resourceVersion="
                          f"{api.must(api.get(pods), 200)['metadata']['resourceVersion']}")

    faults_engine.stop()
    down_at = time.monotonic()
    ticks0 = cpu_ticks(server.proc.pid)
    problems = []

    # what needs the engine: a precise 503, quickly
    for path in (f"{pods}/always/log", f"{pods}/never/log"):
        t0 = time.monotonic()
        r = api.get(path, timeout=60)
        took = time.monotonic() - t0
        if r.status != 503 or "engine" not in r.text:
            problems.append(f"{path} with the engine down: want a 503 Status naming the engine\n{r.describe()}")
        elif r.json().get("reason") != "ServiceUnavailable":
            problems.append(f"{path}: reason {r.json().get('reason')!r}, want ServiceUnavailable")
        if took > ENGINE_ERROR_BOUND_SECS:
            problems.append(f"{path} took {took:.1f}s with the engine down (bound {ENGINE_ERROR_BOUND_SECS}s)")

    # exec too: kubectl gets the error at once and says what it is
    kubectl = tool_path("kubectl-1.37")
    t0 = time.monotonic()
    r = run([kubectl, "--kubeconfig", server.kubeconfig, "exec", "-n", ns, "always", "--", "true"], check=False,
            timeout=60)
    if r.rc == 0 or "engine" not in r.output or time.monotonic() - t0 > ENGINE_ERROR_BOUND_SECS:
        problems.append(f"kubectl exec with the engine down: want a quick failure naming the engine\n{r.describe()}")

    # what needs only the store keeps working
    api.must(api.post(cm_path(ns), configmap("during", {"k": "v"})), 201)
    api.must(api.get(cm_path(ns, "during")), 200)
    api.must(api.get(cm_path(ns)), 200)
    # a pod created during the outage is stored (as a real apiserver would) and waits
    api.must(api.post(pods, pod_manifest("late", [sh("main", SLEEPER)], restart="Always")), 201)
    time.sleep(3)
    late = api.must(api.get(f"{pods}/late"), 200)
    if late["status"].get("phase") != "Pending":
        problems.append(f"pod created while the engine is down: phase {late['status'].get('phase')!r}, "
                        "want Pending")

    time.sleep(max(0.0, OUTAGE_SECS - (time.monotonic() - down_at)))
    ticks = cpu_ticks(server.proc.pid) - ticks0
    outage = time.monotonic() - down_at
    print(f"k2d CPU during a {outage:.0f} s engine outage: {ticks} ticks")
    if ticks > OUTAGE_CPU_BOUND_TICKS:
        problems.append(f"k2d used {ticks} CPU ticks during the {outage:.0f} s outage "
                        f"(bound {OUTAGE_CPU_BOUND_TICKS}): it is busy while the engine is down")
    if watch.ended not in ("open", "clean end"):
        problems.append(f"the pod watch ended badly during the outage: {watch.ended}")
    server.alive_or_fail()

    faults_engine.start()
    back_at = time.monotonic()
    # Always: runs again (a new container, restartCount up); Never: its container was
    # stopped with the engine, so the pod ends; the pod created during the outage starts.
    final = wait_pods(api, ns, lambda ps: {p["metadata"]["name"]: p for p in ps}.get("always", {}) and
                      ready({p["metadata"]["name"]: p for p in ps}["always"]) and
                      restarts({p["metadata"]["name"]: p for p in ps}["always"]) > restarts(before["always"]) and
                      ready({p["metadata"]["name"]: p for p in ps}["late"]) and
                      {p["metadata"]["name"]: p for p in ps}["never"]["status"].get("phase") in
                      ("Failed", "Succeeded"),
                      "back per restartPolicy after the engine returned", timeout=90)
    print(f"pods back {time.monotonic() - back_at:.1f} s after the engine answered")
    by = {p["metadata"]["name"]: p for p in final}
    assert by["always"]["metadata"]["uid"] == before["always"]["metadata"]["uid"]
    # the logs answer again
    wait_for("pod logs answering after the engine returned",
             lambda: api.get(f"{pods}/always/log").status == 200, timeout=30)
    if watch.ended == "open":
        # still open: it must have carried the pods' changes after the outage
        wait_for("the watch opened before the outage to show the pod restarting",
                 lambda: any(e["object"]["metadata"]["name"] == "always" and restarts(e["object"]) >
                             restarts(before["always"]) for e in watch.events if e["type"] == "MODIFIED"),
                 timeout=30)
    watch.close()
    converged(api, problems)
    assert not problems, "\n".join(problems)


def test_host_reboot(faults_k2d, faults_engine):
    server = faults_k2d
    api = Api(server)
    ns = "reboot"
    api.create_namespace(ns)
    pods = f"/api/v1/namespaces/{ns}/pods"
    api.must(api.post(f"/apis/apps/v1/namespaces/{ns}/deployments", deployment("web", 2)), 201)
    api.must(api.post(f"/api/v1/namespaces/{ns}/services", {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 80}]}}), 201)
    api.must(api.post(f"/api/v1/namespaces/{ns}/persistentvolumeclaims", {
        "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Mi"}}}}), 201)
    # init writes a line per boot into the claim and a marker into an emptyDir; the app
    # container refuses to start without the marker (so it must run after init)
    init = sh("init", "echo boot >> /data/boots; echo ok > /work/ready",
              volumeMounts=[{"name": "data", "mountPath": "/data"}, {"name": "work", "mountPath": "/work"}])
    app = sh("app", f"test -f /work/ready || exit 3; cat /data/boots; {SLEEPER}",
             volumeMounts=[{"name": "data", "mountPath": "/data"}, {"name": "work", "mountPath": "/work"}])
    body = pod_manifest("stateful", [app], init=[init], restart="Always",
                        volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "data"}},
                                 {"name": "work", "emptyDir": {}}])
    api.must(api.post(pods, body), 201)
    api.must(api.post(pods, pod_manifest("done", [sh("main", "exit 0")], restart="Never")), 201)
    wait_pods(api, ns, lambda ps: len(ps) == 4 and sum(ready(p) for p in ps) == 3 and
              any(p["status"].get("phase") == "Succeeded" for p in ps), "running", timeout=120)
    before = {p["metadata"]["name"]: p for p in api.must(api.get(pods), 200)["items"]}

    # power cut: k2d, the engine and every container die at once
    server.proc.kill()
    server.proc.wait()
    server.stop()
    faults_engine.kill()
    faults_engine.start()
    assert not any(c["state"] == "running" for c in engine_view()), \
        "containers survived the simulated power cut; the test does not simulate a reboot"
    booted = time.monotonic()
    server.start()

    old_ids = {s.get("containerID") for p in before.values() for s in p["status"].get("containerStatuses", [])}

    def rebooted(p):  # running again, in containers made after the reboot
        ids = {s.get("containerID") for s in p["status"].get("containerStatuses", [])}
        return ready(p) and not (ids & old_ids)

    after = wait_pods(api, ns, lambda ps: len(ps) == 4 and sum(rebooted(p) for p in ps) == 3 and
                      any(p["status"].get("phase") == "Succeeded" for p in ps), "running again", timeout=120)
    print(f"every pod running again {time.monotonic() - booted:.1f} s after k2d started")
    by = {p["metadata"]["name"]: p for p in after}
    problems = []
    # the same pods (no operator, nothing re-created from scratch)
    for name in ("stateful", "done"):
        if by[name]["metadata"]["uid"] != before[name]["metadata"]["uid"]:
            problems.append(f"pod {name} was re-created")
    if by["done"]["status"].get("phase") != "Succeeded":
        problems.append("a finished restartPolicy Never pod ran again after the reboot")
    st = by["stateful"]["status"]
    init_st = next(s for s in st["initContainerStatuses"] if s["name"] == "init")
    app_st = next(s for s in st["containerStatuses"] if s["name"] == "app")
    if "terminated" not in init_st["state"] or init_st["state"]["terminated"]["exitCode"] != 0:
        problems.append(f"init container after the reboot: {init_st}")
    elif app_st["state"]["running"]["startedAt"] < init_st["state"]["terminated"]["finishedAt"]:
        problems.append(f"app started before init finished: {init_st} {app_st}")
    # the claim's volume was there before the pod: it kept the first boot's line
    boots = api.get(f"{pods}/stateful/log?container=app")
    if boots.status != 200 or boots.text.split() != ["boot", "boot"]:
        runs = [(c["labels"].get("io.k2d.container.role"), c["labels"].get("io.k2d.container.name"),
                 c["labels"].get("io.k2d.container.attempt"), c["state"], c["labels"].get("io.k2d.sandbox.id", "")[:8])
                for c in engine_view() if c["labels"].get("io.k2d.pod.name") == "stateful"]
        problems.append(f"the claim's data after the reboot (want two boot lines):\n{boots.describe()}\n"
                        f"containers of the pod: {runs}")
    # the Service and the cluster DNS serve the pods that came back (a pod started before
    # the DNS listened would have the engine's resolver instead)
    kubectl = tool_path("kubectl-1.37")

    def fetch():
        r = run([kubectl, "--kubeconfig", server.kubeconfig, "exec", "-n", ns, "stateful", "-c", "app", "--",
                 "timeout", "5", "wget", "-q", "-O", "-", "http://web"], check=False, timeout=30)
        return "k2d-test httpd" in r.stdout or None

    got = None
    deadline = time.monotonic() + 30
    while not got and time.monotonic() < deadline:
        got = fetch()
    if not got:
        rc = run([kubectl, "--kubeconfig", server.kubeconfig, "exec", "-n", ns, "stateful", "-c", "app", "--",
                  "cat", "/etc/resolv.conf"], check=False)
        problems.append(f"http://web from the pod after the reboot did not answer; its resolv.conf:\n{rc.describe()}")
    wait_for("the Deployment available again",
             lambda: api.must(api.get(f"/apis/apps/v1/namespaces/{ns}/deployments/web"), 200)["status"]
             .get("availableReplicas") == 2, timeout=60)
    converged(api, problems)
    assert not problems, "\n".join(problems)
