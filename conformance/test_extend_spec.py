"""Scenario h: extending k2d by editing the spec (the README's "how to extend" path).

In a copy of the repository (its git-tracked and untracked-but-not-ignored files),
`cargo run -p k2d-codegen -- trim --upstream <v1.35 docs> --spec <copy>/spec --add <gv/resource>`
adds a resource, `cargo build` builds that copy, and the built k2d must list the
resource in discovery and serve its schema in /openapi/v3. The copy and its
target dir live under target/conformance-extend/ of the original repository, at
a stable path, so repeated runs build incrementally.
"""

import hashlib
import os
import shutil
import subprocess

import pytest

import spec_model
from conftest import LOG_DIR, REPO, K2DServer, Kubectl, run, tool_path, upstream_openapi_dir
from tables import parse_table

# (group, version, resource, schema name) in order of preference; the first one
# that is not already in spec/ is added. (controllerrevisions was the first until k2d served it
# for StatefulSet and DaemonSet history.)
CANDIDATES = [
    ("scheduling.k8s.io", "v1", "priorityclasses", "io.k8s.api.scheduling.v1.PriorityClass"),
    ("node.k8s.io", "v1", "runtimeclasses", "io.k8s.api.node.v1.RuntimeClass"),
]
WORK = REPO / "target" / "conformance-extend"


def tree_digest(root):
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(root)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def repo_files():
    """The repository's files: tracked plus untracked-but-not-ignored (git), or,
    outside a git work tree, everything but target/ and .git/."""
    p = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                       cwd=REPO, capture_output=True)
    if p.returncode == 0:
        return p.stdout.decode().split("\0")
    return [str(f.relative_to(REPO)) for f in REPO.rglob("*")
            if f.is_file() and f.relative_to(REPO).parts[0] not in ("target", ".git")]


def copy_repo(dst):
    files = repo_files()
    if dst.exists():
        shutil.rmtree(dst)
    for rel in filter(None, files):
        src = REPO / rel
        if not src.is_file():  # deleted in the work tree but still in the index
            continue
        target = dst / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)  # keeps mtimes, so cargo rebuilds only what changed


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_add_resource_with_trim(tmp_path, spec):
    cargo = shutil.which("cargo")
    assert cargo, "cargo not on PATH"
    upstream = upstream_openapi_dir()
    assert (upstream / "apis" / "apps" / "v1.json").is_file(), (
        f"upstream OpenAPI documents not found at {upstream} (set K2D_UPSTREAM_OPENAPI)")
    have = {(r.group, r.version, r.name) for r in spec_model.all_resources(spec)}
    pick = next((c for c in CANDIDATES if c[:3] not in have), None)
    assert pick, f"every candidate resource is already in spec/: {CANDIDATES}"
    group, version, resource, schema = pick
    gv_path = f"{group}/{version}" if group else version
    add_arg = f"{gv_path}/{resource}"

    spec_before = tree_digest(REPO / "spec")
    copy = WORK / "src"
    copy_repo(copy)
    env = dict(os.environ, CARGO_TARGET_DIR=str(WORK / "target"))
    env.pop("K2D_SPEC_DIR", None)

    r = run([cargo, "run", "-q", "-p", "k2d-codegen", "--", "trim", "--upstream", upstream,
             "--spec", copy / "spec", "--add", add_arg], cwd=copy, env=env, timeout=1800)
    new_spec = spec_model.load_spec(copy / "spec")
    added = [x for x in spec_model.all_resources(new_spec) if (x.group, x.version, x.name) == pick[:3]]
    assert added, f"trim --add {add_arg} did not add {resource} to {copy / 'spec'}\n{r.describe()}"
    assert tree_digest(REPO / "spec") == spec_before, "the repository's own spec/ was modified"

    run([cargo, "build", "-p", "k2d"], cwd=copy, env=env, timeout=3000)
    binary = WORK / "target" / "debug" / "k2d"
    assert binary.is_file(), f"{binary} was not built"

    server = K2DServer(binary, tmp_path / "data", LOG_DIR / "k2d-extend.log")
    if server.log_path.exists():
        server.log_path.unlink()
    server.start()
    try:
        kubectl = Kubectl("1.37", tool_path("kubectl-1.37"), server, tmp_path)
        res = kubectl("api-resources", "-o", "wide")
        rows = {(row["APIVERSION"], row["NAME"]): row for row in parse_table(res.stdout)}
        row = rows.get((gv_path, resource))
        assert row, f"{resource} ({gv_path}) not listed by api-resources\n{res.describe()}"
        assert row["KIND"] == added[0].kind, f"KIND {row['KIND']!r}, want {added[0].kind!r}\n{res.describe()}"
        # everything else is still there
        names = {row_name for (_, row_name) in rows}
        lost = sorted({x.name for x in spec_model.preferred_resources(new_spec)} - names)
        assert not lost, f"resources no longer listed: {lost}\n{res.describe()}"

        # the new resource's routes answer (stored-object defaults)
        get = kubectl("get", f"{resource}.{group}" if group else resource)
        assert "No resources found" in get.output, get.describe()

        root = server.request("GET", "/openapi/v3")
        assert root.status == 200, root.describe()
        key = f"apis/{group}/{version}" if group else f"api/{version}"
        entry = root.json()["paths"].get(key)
        assert entry, f"/openapi/v3 does not list {key}\n{root.describe()}"
        doc = server.request("GET", entry["serverRelativeURL"])
        assert doc.status == 200, doc.describe()
        assert schema in doc.json().get("components", {}).get("schemas", {}), \
            f"{entry['serverRelativeURL']} lacks the schema {schema}"
    finally:
        code = server.stop()
    assert code == 0, f"extended k2d exited with {code} on SIGTERM\n{server.log_tail()}"
