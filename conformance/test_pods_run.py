"""The pod runtime: pods run as containers on the engine (a sandbox holding the
pod's network plus one container per init and app container), with the status,
restarts and events a kubelet gives.

Each scenario uses the newest kubectl on its own namespace; the pods use local
images only (no registry is reachable).
"""

from __future__ import annotations

import json
import time

from pods_common import (BUSYBOX, HTTPD, SLEEPER, apply, condition, containers_of, docker,
                         get_pod, phase_is, pod_manifest, pod_ns, sh, status_of, wait_pod,
                         wait_until)

__all__ = ["pod_ns"]


def test_pod_runs_with_ip_status_and_events(kubectl_newest, pod_ns):
    k = kubectl_newest
    apply(k, pod_ns, pod_manifest("web", [{"name": "web", "image": HTTPD,
                                           "imagePullPolicy": "IfNotPresent"}]))
    pod = wait_pod(k, pod_ns, "web", lambda p: condition(p, "Ready").get("status") == "True",
                   "Ready")
    st = pod["status"]
    assert st["phase"] == "Running"
    assert pod["spec"]["nodeName"], "the pod is bound to the node"
    assert st["podIP"] and st["podIPs"] == [{"ip": st["podIP"]}]
    assert st["hostIP"] and st["hostIPs"] == [{"ip": st["hostIP"]}]
    assert st["qosClass"] == "BestEffort"
    assert st["startTime"]
    cs = status_of(pod, "web")
    assert "running" in cs["state"], cs
    assert cs["ready"] is True and cs["started"] is True and cs["restartCount"] == 0
    assert cs["image"] == HTTPD
    assert cs["imageID"].startswith("docker://sha256:")
    assert cs["containerID"].startswith("docker://")
    for kind in ("PodScheduled", "Initialized", "ContainersReady", "Ready"):
        assert condition(pod, kind).get("status") == "True", kind

    uid = pod["metadata"]["uid"]
    engine = containers_of(uid)
    roles = sorted(json.loads(docker("inspect", c["ID"]))[0]["Config"]["Labels"]["io.k2d.container.role"]
                   for c in engine)
    assert roles == ["app", "sandbox"], engine
    app_id = cs["containerID"].removeprefix("docker://")
    inspected = json.loads(docker("inspect", app_id))[0]
    assert inspected["Name"].startswith(f"/k8s_web_web_{pod_ns}_{uid[:8]}_0")
    assert inspected["HostConfig"]["NetworkMode"].startswith("container:")
    assert inspected["HostConfig"]["RestartPolicy"]["Name"] in ("no", "")

    # The pod's IP answers from the engine's pod network.
    r = docker("run", "--rm", "--network", "k2d", "--label", "io.k2d.instance=conformance-probe",
               BUSYBOX, "sh", "-c", f"echo | nc -w 3 {st['podIP']} 80 >/dev/null && echo open",
               check=False)
    assert "open" in r, f"port 80 of the pod at {st['podIP']} did not answer"

    described = k("describe", "pod", "-n", pod_ns, "web").stdout
    for reason in ("Scheduled", "Created", "Started"):
        assert reason in described, described
    # An image on the host is not pulled again.
    assert "Pulling" not in described


def test_two_containers_talk_over_localhost(kubectl_newest, pod_ns):
    k = kubectl_newest
    server = sh("server", "nc -ll -p 9000 -e /bin/cat")
    client = sh("client", "for i in $(seq 1 50); do "
                          "[ \"$(echo ping | nc -w 1 127.0.0.1 9000)\" = ping ] && exit 0; "
                          "sleep 0.2; done; exit 1")
    apply(k, pod_ns, pod_manifest("duo", [server, client], restart="Never"))
    pod = wait_pod(k, pod_ns, "duo",
                   lambda p: "terminated" in status_of(p, "client").get("state", {}),
                   "with a finished client")
    term = status_of(pod, "client")["state"]["terminated"]
    assert term["exitCode"] == 0, f"the client did not reach the server on localhost: {term}"
    assert term["reason"] == "Completed"
    assert "running" in status_of(pod, "server")["state"]
    assert pod["status"]["phase"] == "Running"


def test_init_container_finishes_before_app_starts(kubectl_newest, pod_ns):
    k = kubectl_newest
    apply(k, pod_ns, pod_manifest("init", [sh("app", SLEEPER)],
                                  init=[sh("first", "sleep 1"), sh("second", "true")]))
    pending = get_pod(k, pod_ns, "init")
    assert pending["status"].get("phase", "Pending") in ("Pending", "Running")
    pod = wait_pod(k, pod_ns, "init", phase_is("Running"), "Running")
    first = status_of(pod, "first", init=True)["state"]["terminated"]
    second = status_of(pod, "second", init=True)["state"]["terminated"]
    app = status_of(pod, "app")["state"]["running"]
    assert first["exitCode"] == 0 and first["reason"] == "Completed"
    assert first["finishedAt"] <= second["startedAt"], (first, second)
    assert second["finishedAt"] <= app["startedAt"], (second, app)
    assert condition(pod, "Initialized")["status"] == "True"


def test_never_pod_that_exits_3_fails(kubectl_newest, pod_ns):
    k = kubectl_newest
    apply(k, pod_ns, pod_manifest("fail", [sh("main", "exit 3")], restart="Never"))
    pod = wait_pod(k, pod_ns, "fail", phase_is("Failed"), "Failed")
    term = status_of(pod, "main")["state"]["terminated"]
    assert term["exitCode"] == 3 and term["reason"] == "Error"
    assert status_of(pod, "main")["restartCount"] == 0
    assert condition(pod, "Ready")["status"] == "False"
    # A pod that ended keeps no sandbox running and is not restarted.
    uid = pod["metadata"]["uid"]
    wait_until(lambda: not [c for c in containers_of(uid) if c["State"] == "running"],
               "the sandbox of the failed pod to stop", timeout=10)
    assert len(containers_of(uid)) == 2
    time.sleep(1)
    assert get_pod(k, pod_ns, "fail")["status"].get("podIP"), "an ended pod keeps its address"


def test_never_pod_that_exits_0_succeeds(kubectl_newest, pod_ns):
    k = kubectl_newest
    apply(k, pod_ns, pod_manifest("ok", [sh("main", "true")], restart="Never"))
    pod = wait_pod(k, pod_ns, "ok", phase_is("Succeeded"), "Succeeded")
    assert status_of(pod, "main")["state"]["terminated"]["reason"] == "Completed"


def test_on_failure_crash_loops_with_back_off(kubectl_newest, pod_ns):
    k = kubectl_newest
    apply(k, pod_ns, pod_manifest("crash", [sh("main", "echo crashing; exit 1")],
                                  restart="OnFailure"))
    pod = wait_pod(
        k, pod_ns, "crash",
        lambda p: status_of(p, "main").get("restartCount", 0) >= 1
        and status_of(p, "main").get("state", {}).get("waiting", {}).get("reason") == "CrashLoopBackOff",
        "CrashLoopBackOff after a restart", timeout=30)
    cs = status_of(pod, "main")
    assert cs["lastState"]["terminated"]["exitCode"] == 1
    assert "back-off" in cs["state"]["waiting"]["message"]
    assert pod["status"]["phase"] == "Running"
    uid = pod["metadata"]["uid"]
    # Only the latest run and the one before it are kept (plus the sandbox).
    assert len(containers_of(uid)) <= 3, containers_of(uid)
    described = k("describe", "pod", "-n", pod_ns, "crash").stdout
    assert "BackOff" in described and "Back-off restarting failed container" in described


def test_missing_image_shows_pull_errors(kubectl_newest, pod_ns):
    k = kubectl_newest
    apply(k, pod_ns, pod_manifest("nopull", [{"name": "main", "image": "k2d-test/absent:1"}]))
    pod = wait_pod(
        k, pod_ns, "nopull",
        lambda p: status_of(p, "main").get("state", {}).get("waiting", {}).get("reason")
        in ("ErrImagePull", "ImagePullBackOff"),
        "waiting on its image", timeout=60)
    assert pod["status"]["phase"] == "Pending"
    described = k("describe", "pod", "-n", pod_ns, "nopull").stdout
    assert "Failed to pull image" in described, described

    apply(k, pod_ns, pod_manifest("neverpull", [{"name": "main", "image": "k2d-test/absent:1",
                                                 "imagePullPolicy": "Never"}]))
    pod = wait_pod(
        k, pod_ns, "neverpull",
        lambda p: status_of(p, "main").get("state", {}).get("waiting", {}).get("reason")
        == "ErrImageNeverPull",
        "ErrImageNeverPull")


def test_delete_waits_for_the_containers_to_go(kubectl_newest, pod_ns):
    k = kubectl_newest
    apply(k, pod_ns, pod_manifest("bye", [sh("main", SLEEPER)], grace=10))
    pod = wait_pod(k, pod_ns, "bye", phase_is("Running"), "Running")
    uid = pod["metadata"]["uid"]
    assert len(containers_of(uid)) == 2
    k("delete", "pod", "-n", pod_ns, "bye", timeout=60)
    assert containers_of(uid) == [], "kubectl delete returned while containers remained"
    assert get_pod(k, pod_ns, "bye") is None
    described = k("get", "events", "-n", pod_ns, "-o", "json").stdout
    assert "Killing" in described


def test_forced_delete_removes_at_once_and_containers_after(kubectl_newest, pod_ns):
    k = kubectl_newest
    apply(k, pod_ns, pod_manifest("force", [sh("main", "sleep 3600")], grace=30))
    pod = wait_pod(k, pod_ns, "force", phase_is("Running"), "Running")
    uid = pod["metadata"]["uid"]
    k("delete", "pod", "-n", pod_ns, "force", "--force", "--grace-period=0", timeout=20)
    assert get_pod(k, pod_ns, "force") is None
    wait_until(lambda: containers_of(uid) == [], "the containers of the force-deleted pod to go",
               timeout=15)


def test_restart_always_restarts_a_container_that_exits(kubectl_newest, pod_ns):
    k = kubectl_newest
    apply(k, pod_ns, pod_manifest("again", [sh("main", "sleep 1; exit 0")]))
    pod = wait_pod(k, pod_ns, "again",
                   lambda p: status_of(p, "main").get("restartCount", 0) >= 1,
                   "restarted", timeout=30)
    last = status_of(pod, "main")["lastState"]["terminated"]
    assert last["exitCode"] == 0 and last["reason"] == "Completed"


def test_sidecar_init_container_keeps_running(kubectl_newest, pod_ns):
    k = kubectl_newest
    sidecar = sh("proxy", SLEEPER, restartPolicy="Always")
    apply(k, pod_ns, pod_manifest("side", [sh("app", SLEEPER)], init=[sidecar]))
    pod = wait_pod(k, pod_ns, "side", phase_is("Running"), "Running")
    pod = wait_pod(k, pod_ns, "side", lambda p: "running" in status_of(p, "app").get("state", {}),
                   "with its app running")
    assert "running" in status_of(pod, "proxy", init=True)["state"]
    assert condition(pod, "Initialized")["status"] == "True"


def test_lifecycle_hooks_run_in_the_container(kubectl_newest, pod_ns):
    k = kubectl_newest
    # postStart: the app waits for the file the hook makes, then ends.
    started = sh("main", "while [ ! -f /hook-started ]; do sleep 0.1; done",
                 lifecycle={"postStart": {"exec": {"command": ["touch", "/hook-started"]}}})
    apply(k, pod_ns, pod_manifest("post", [started], restart="Never"))
    wait_pod(k, pod_ns, "post", phase_is("Succeeded"), "Succeeded (postStart ran)")

    # preStop: the main process ignores SIGTERM and ends only once the hook has run, well
    # within the grace period.
    stopping = sh("main", "trap '' TERM; while [ ! -f /hook-stop ]; do sleep 0.1; done",
                  lifecycle={"preStop": {"exec": {"command": ["touch", "/hook-stop"]}}})
    apply(k, pod_ns, pod_manifest("pre", [stopping], grace=30))
    pod = wait_pod(k, pod_ns, "pre", phase_is("Running"), "Running")
    r = k("delete", "pod", "-n", pod_ns, "pre", timeout=60)
    assert r.seconds < 15, f"the delete took {r.seconds:.1f}s: preStop did not end the container"
    assert containers_of(pod["metadata"]["uid"]) == []


def test_host_network_pod_has_the_node_address(kubectl_newest, pod_ns):
    k = kubectl_newest
    apply(k, pod_ns, pod_manifest("hostnet", [sh("main", SLEEPER)], hostNetwork=True))
    pod = wait_pod(k, pod_ns, "hostnet", phase_is("Running"), "Running")
    assert pod["status"]["podIP"] == pod["status"]["hostIP"]
    sandbox = [c for c in containers_of(pod["metadata"]["uid"])
               if c["Names"].startswith("k8s_POD_")]
    assert sandbox and json.loads(docker("inspect", sandbox[0]["ID"]))[0]["HostConfig"]["NetworkMode"] == "host"


def test_changing_the_image_restarts_the_container(kubectl_newest, pod_ns):
    k = kubectl_newest
    apply(k, pod_ns, pod_manifest("swap", [sh("main", SLEEPER)]))
    wait_pod(k, pod_ns, "swap", phase_is("Running"), "Running")
    # Both test images are busybox builds; only the name matters here.
    k("patch", "pod", "-n", pod_ns, "swap", "--type=json", "-p",
      json.dumps([{"op": "replace", "path": "/spec/containers/0/image", "value": HTTPD}]))
    pod = wait_pod(k, pod_ns, "swap",
                   lambda p: status_of(p, "main").get("image") == HTTPD
                   and status_of(p, "main").get("restartCount") == 1
                   and "running" in status_of(p, "main").get("state", {}),
                   "running the new image", timeout=30)
    cid = status_of(pod, "main")["containerID"].removeprefix("docker://")
    # Podman reports the qualified name of the same image.
    assert json.loads(docker("inspect", cid))[0]["Config"]["Image"] in (HTTPD, f"docker.io/{HTTPD}")
