"""Hostile writes: a fixed-seed stream of mutated objects and patches in every body format, to
several resources. No request may crash k2d or get a malformed answer: every reply is a
Status (4xx, or the 500 a real server gives for strategic-merge errors and for applying
undeclared fields) or an object of the right kind, and k2d keeps serving."""

import json
import random

from helpers import (APPLY, JSON, JSONPATCH, MERGE, PROTOBUF, STRATEGIC, YAML, api, namespace,  # noqa: F401
                     uniq)

ROUNDS = 1500

TARGETS = [
    ("/api/v1/namespaces/{ns}/configmaps", "v1", "ConfigMap",
     {"data": {"a": "1"}, "binaryData": {"b": "AA=="}}),
    ("/api/v1/namespaces/{ns}/secrets", "v1", "Secret", {"type": "Opaque", "stringData": {"p": "q"}}),
    ("/apis/apps/v1/namespaces/{ns}/deployments", "apps/v1", "Deployment",
     {"spec": {"replicas": 1, "selector": {"matchLabels": {"app": "f"}},
               "template": {"metadata": {"labels": {"app": "f"}},
                            "spec": {"containers": [{"name": "c", "image": "busybox",
                                                     "ports": [{"containerPort": 80}]}]}}}}),
    ("/api/v1/namespaces/{ns}/services", "v1", "Service",
     {"spec": {"ports": [{"port": 80, "targetPort": "http"}], "selector": {"app": "f"}}}),
]

ODD_VALUES = [None, True, 0, -1, 2**63, 1.5e308, "", "x" * 300, [], {}, [None], {"": ""}, "\u0000", "💥",
              {"$patch": "delete"}, {"$retainKeys": 5}, [{"$patch": "replace"}]]


def mutate(rng: random.Random, value, depth=0):
    """A copy of `value` with a random change somewhere in it."""
    if depth > 6 or rng.random() < 0.2:
        return rng.choice(ODD_VALUES)
    if isinstance(value, dict) and value:
        out = dict(value)
        key = rng.choice(list(out))
        choice = rng.random()
        if choice < 0.5:
            out[key] = mutate(rng, out[key], depth + 1)
        elif choice < 0.7:
            del out[key]
        else:
            out[rng.choice(["bogus", "$setElementOrder/containers", "metadata", "spec", key + "x"])] = \
                rng.choice(ODD_VALUES)
        return out
    if isinstance(value, list) and value:
        out = list(value)
        i = rng.randrange(len(out))
        out[i] = mutate(rng, out[i], depth + 1)
        return out
    return rng.choice(ODD_VALUES)


def body_in(rng: random.Random, obj) -> tuple[bytes, str]:
    fmt = rng.choice([JSON, JSON, YAML, PROTOBUF])
    text = json.dumps(obj).encode()
    if fmt == PROTOBUF:
        return b"k8s\x00" + bytes(rng.randrange(256) for _ in range(rng.randrange(40))), fmt
    if rng.random() < 0.1:
        cut = rng.randrange(len(text) + 1)
        text = text[:cut]
    return text, fmt


def test_mutated_writes_never_break_k2d(api, namespace):
    rng = random.Random(20261121)
    names = {}
    for path, api_version, kind, rest in TARGETS:
        name = uniq("fz")
        base = {"apiVersion": api_version, "kind": kind, "metadata": {"name": name, "labels": {"app": "f"}}, **rest}
        r = api.call("POST", path.format(ns=namespace), base)
        assert r.status == 201, (r.status, r.text)
        names[path] = (name, base)
    statuses = {}
    for i in range(ROUNDS):
        path, api_version, kind, rest = rng.choice(TARGETS)
        collection = path.format(ns=namespace)
        name, base = names[path]
        obj = mutate(rng, base)
        verb = rng.choice(["POST", "PUT", "PATCH-merge", "PATCH-strategic", "PATCH-json", "PATCH-apply"])
        if verb == "POST":
            body, ctype = body_in(rng, obj)
            r = api.call("POST", collection, body, ctype=ctype, query={"fieldValidation": rng.choice(["Strict", "Warn", "Ignore"])})
        elif verb == "PUT":
            body, ctype = body_in(rng, obj)
            r = api.call("PUT", f"{collection}/{name}", body, ctype=ctype)
        elif verb == "PATCH-json":
            ops = [{"op": rng.choice(["add", "remove", "replace", "move", "copy", "test", "bogus"]),
                    "path": rng.choice(["", "/", "/metadata", "/spec/replicas", "/data/a", "/spec/template/spec/containers/0",
                                        "/spec/template/spec/containers/-", "/metadata/labels/app", "/x/y/z", "~1"]),
                    "from": "/metadata/labels", "value": rng.choice(ODD_VALUES)} for _ in range(rng.randrange(1, 4))]
            r = api.call("PATCH", f"{collection}/{name}", json.dumps(ops), ctype=JSONPATCH)
        else:
            ctype = {"PATCH-merge": MERGE, "PATCH-strategic": STRATEGIC, "PATCH-apply": APPLY}[verb]
            query = {"fieldManager": "fuzz"} if verb == "PATCH-apply" else None
            r = api.call("PATCH", f"{collection}/{name}", body_in(rng, obj)[0] if rng.random() < 0.2 else json.dumps(obj),
                         ctype=ctype, query=query)
        statuses[r.status] = statuses.get(r.status, 0) + 1
        what = f"round {i}: {verb} {path} -> {r.status} {r.text[:300]}"
        # 500 without reason is what kube-apiserver itself answers for strategic-merge errors and
        # for server-side apply of fields the schema does not declare
        documented_500 = r.status == 500 and (verb == "PATCH-strategic" or (
            verb == "PATCH-apply" and "field not declared in schema" in r.text))
        assert r.status < 500 or documented_500, what
        reply = json.loads(r.text)
        if r.status >= 400:
            assert reply.get("kind") == "Status" and reply.get("code") == r.status, what
        else:
            assert reply.get("kind") == kind, what
    # k2d still serves, and every object can still be read
    for path, (name, _) in names.items():
        r = api.call("GET", f"{path.format(ns=namespace)}/{name}")
        assert r.status in (200, 404), (r.status, r.text)
    print("status counts:", dict(sorted(statuses.items())))
