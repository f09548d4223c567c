"""Issue 6, kubectl cp: a directory tree copied into a pod and back (kubectl runs
`tar` through exec with stdin), every file's checksum equal."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from streaming_common import SLEEPER, busybox, create_pod, delete_namespace, module_namespace


@pytest.fixture(scope="module")
def cp_pod(k2d):
    api, ns = module_namespace(k2d)
    create_pod(api, ns, "files", [busybox("files", SLEEPER)])
    yield ns, "files"
    delete_namespace(api, ns)


def make_tree(root: Path):
    (root / "a" / "b" / "c").mkdir(parents=True)
    (root / "empty-dir").mkdir()
    (root / "top.txt").write_text("top level\n")
    (root / "a" / "note.md").write_text("# note\n" * 100)
    (root / "a" / "b" / "random.bin").write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    (root / "a" / "b" / "c" / "deep.txt").write_text("deep\n")
    (root / "a" / "b" / "c" / "empty").write_bytes(b"")


def checksums(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_cp_a_directory_tree_both_ways(kubectl, cp_pod, tmp_path):
    ns, pod = cp_pod
    src = tmp_path / "src"
    make_tree(src)
    target = f"/tmp/{kubectl.name}"
    kubectl("cp", str(src), f"{ns}/{pod}:{target}", timeout=120)
    listing = kubectl("exec", "-n", ns, pod, "--", "find", target, "-type", "f").stdout.split()
    assert len(listing) == 5, listing
    back = tmp_path / "back"
    kubectl("cp", f"{ns}/{pod}:{target}", str(back), timeout=120)
    assert checksums(back) == checksums(src)
    assert (back / "empty-dir").is_dir()
