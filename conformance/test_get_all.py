"""Scenario d: `kubectl get all` on an empty k2d.

`all` is a discovery category: kubectl must LIST exactly the resources whose
categories contain "all" (per spec/, preferred version of each group), in the
default namespace. As on a real cluster, the only thing there on an empty k2d
is the `kubernetes` Service; an empty namespace prints "No resources found".
"""

import re
from urllib.parse import urlsplit

import spec_model

# kubectl -v=6 request lines, old and structured formats:
#   round_trippers.go:553] GET https://127.0.0.1:1234/api/v1/namespaces/default/pods?limit=500 200 OK in 3 milliseconds
#   round_trippers.go:632] "Response" verb="GET" url="https://127.0.0.1:1234/api/v1/..." status="200 OK" milliseconds=3
REQ_PLAIN = re.compile(r"\] (GET|POST|PUT|PATCH|DELETE) (https?://\S+) (\d{3})")
REQ_STRUCT = re.compile(r'verb="(\w+)" url="([^"]+)" status="(\d{3})')
NON_RESOURCE = ("/api", "/apis", "/version", "/openapi")


def requests_in(log: str):
    out = []
    for line in log.splitlines():
        m = REQ_PLAIN.search(line) or REQ_STRUCT.search(line)
        if m:
            u = urlsplit(m.group(2))
            out.append((m.group(1), u.path, u.query, int(m.group(3))))
    return out


def test_get_all_empty(kubectl):
    r = kubectl("get", "all")
    rows = [ln.split() for ln in r.stdout.splitlines()[1:] if ln.strip()]
    assert [row[0] for row in rows] == ["service/kubernetes"], r.describe()
    assert rows[0][1:3] == ["ClusterIP", "10.96.0.1"], r.describe()
    r = kubectl("get", "all", "-n", "kube-public")
    assert "No resources found" in r.output, r.describe()


def test_get_all_lists_category_all(kubectl, spec):
    r = kubectl("get", "all", "-v=6")
    reqs = requests_in(r.stderr)
    assert reqs, f"no request lines found in the -v=6 log\n{r.describe()}"
    lists = {}
    for verb, path, query, status in reqs:
        if path in NON_RESOURCE or path.startswith("/openapi/"):
            continue
        lists[path] = (verb, query, status)
    expected = {res.list_path("default") for res in spec_model.preferred_resources(spec)
                if "all" in res.categories}
    assert expected, "spec/ has no resource in category 'all'"
    problems = []
    for p in sorted(expected - set(lists)):
        problems.append(f"no LIST of {p}")
    for p in sorted(set(lists) - expected):
        problems.append(f"unexpected request {lists[p][0]} {p}")
    for p, (verb, query, status) in sorted(lists.items()):
        if p in expected and (verb != "GET" or status != 200):
            problems.append(f"{verb} {p}?{query} -> {status} (want GET -> 200)")
    assert not problems, "\n".join(problems) + "\n" + r.describe()
