"""Issue 8, point 5: the data directory's disk fills up.

k2d runs with --data-dir on a small tmpfs of its own (`mount -t tmpfs -o size=8m`); a
filler file takes the rest of the space. Then: writes fail with a 507 Status naming the
data directory, nothing already stored is damaged, reads keep working, k2d restarts on the
full disk and serves what it had, and writes work again once there is room.

Needs no engine (--engine none); it is part of the faults suite because it mounts a
filesystem (root, and the suite's own run).
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import LOG_DIR, K2DServer, k2d_binary, run
from helpers import Api, cm_path, configmap, uniq

PAD = "d" * 40_000


@pytest.fixture
def small_disk():
    mnt = Path(tempfile.mkdtemp(prefix="k2d-full-"))
    run(["mount", "-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", mnt])
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)
    mnt.rmdir()


def fill(path: Path):
    """Writes zeros into `path` until the filesystem is full."""
    with open(path, "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass


def test_disk_full(small_disk):
    data = small_disk / "k2d"
    server = K2DServer(k2d_binary(), data, LOG_DIR / f"k2d-{uniq('full')}.log", extra_args=["--engine", "none"])
    server.start()
    try:
        api = Api(server)
        ns = "full"
        api.create_namespace(ns)
        acked = {}
        for i in range(20):
            o = api.must(api.post(cm_path(ns), configmap(f"keep-{i}", {"pad": PAD, "i": str(i)})), 201)
            acked[o["metadata"]["name"]] = o
        filler = small_disk / "filler"
        fill(filler)

        # writes fail with a precise Status, sooner or later (free pages in the store file
        # take the first ones)
        failure = None
        for i in range(200):
            r = api.post(cm_path(ns), configmap(f"more-{i}", {"pad": PAD}))
            if r.status == 201:
                acked[f"more-{i}"] = r.json()
                continue
            failure = r
            break
        assert failure is not None, "200 writes of 40 kB succeeded on a full 8 MB disk"
        st = failure.json()
        assert failure.status == 507 and st.get("kind") == "Status" and st.get("code") == 507 \
            and "data directory is full" in st.get("message", ""), failure.describe()
        # an update fails the same way and leaves the object as it was
        r = api.patch(cm_path(ns, "keep-0"), {"data": {"pad": PAD + "x"}})
        if r.status != 200:
            assert r.status == 507, r.describe()
        else:
            acked["keep-0"] = r.json()

        def check_everything(when: str):
            items = {o["metadata"]["name"]: o for o in api.must(api.get(cm_path(ns)), 200)["items"]}
            problems = [f"{when}: {name} differs or is missing" for name, o in acked.items() if items.get(name) != o]
            assert not problems, "\n".join(problems)
            for name in list(acked)[:5]:
                assert api.get_obj(cm_path(ns, name)) == acked[name], f"{when}: GET {name}"

        check_everything("on the full disk")
        server.alive_or_fail()

        # k2d starts again on the full disk and serves what it had
        assert server.stop() == 0, "k2d did not exit 0 on SIGTERM with a full disk"
        server.start()
        check_everything("after a restart on the full disk")

        # room again: writes work
        filler.unlink()
        o = api.must(api.post(cm_path(ns), configmap("after", {"pad": PAD})), 201)
        acked["after"] = o
        check_everything("after freeing space")
    finally:
        server.stop()
