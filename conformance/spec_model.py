"""What spec/ says k2d serves, computed independently of k2d's own code generator.

The conformance tests compare what real clients see against this model. It reads
the trimmed OpenAPI v3 documents in spec/ (or K2D_SPEC_DIR) directly:

- one document per group-version: spec/api/v1.json is core/v1,
  spec/apis/<group>/<version>.json is <group>/<version>;
- resources are the keys of the top-level ``x-k2d-resources`` object, which also
  gives singularName, shortNames and categories;
- scope, kind and verbs come from the paths, the way a real API server's
  discovery relates to its OpenAPI document:
    * namespaced: the resource's paths contain ``{namespace}``;
    * kind: the ``x-kubernetes-group-version-kind`` of the list (GET) operation
      of the collection path (of the create (POST) operation for create-only
      resources such as tokenreviews);
    * verbs: from the ``x-kubernetes-action`` of the operations on the
      resource's own (non-subresource) paths: list, get, post -> create,
      put -> update, patch, delete, deletecollection, and watch when a
      ``/watch/`` path exists (watch/watchlist actions). A real server lists
      ``componentstatuses`` as [get list] although its list operation declares
      a ``watch`` parameter, so the ``watch`` parameter alone does not count.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
ACTION_TO_VERB = {
    "list": "list",
    "get": "get",
    "post": "create",
    "put": "update",
    "patch": "patch",
    "delete": "delete",
    "deletecollection": "deletecollection",
    "watch": "watch",
    "watchlist": "watch",
}


def spec_dir() -> Path:
    return Path(os.environ.get("K2D_SPEC_DIR", REPO / "spec"))


@dataclass
class Resource:
    group: str
    version: str
    name: str
    singular: str = ""
    short_names: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    kind: str = ""
    namespaced: bool = False
    verbs: set[str] = field(default_factory=set)
    subresources: set[str] = field(default_factory=set)
    paths: list[str] = field(default_factory=list)

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def api_prefix(self) -> str:
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"

    def list_path(self, namespace: str = "default") -> str:
        if self.namespaced:
            return f"{self.api_prefix}/namespaces/{namespace}/{self.name}"
        return f"{self.api_prefix}/{self.name}"

    def __repr__(self) -> str:  # short, for pytest ids and messages
        return f"{self.name}.{self.group_version}"


@dataclass
class GroupVersion:
    group: str
    version: str
    file: Path
    doc: dict
    resources: dict[str, Resource]

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def openapi_key(self) -> str:
        """The key of this document in /openapi/v3's `paths` (api/v1, apis/apps/v1)."""
        return f"apis/{self.group}/{self.version}" if self.group else f"api/{self.version}"

    @property
    def api_prefix(self) -> str:
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"


def _operations(path_item: dict):
    for method, op in path_item.items():
        if method in HTTP_METHODS and isinstance(op, dict):
            yield method, op


def _split_path(prefix: str, path: str):
    """Returns (resource, has_name, subresource, namespaced, watch) or None."""
    if not path.startswith(prefix + "/"):
        return None
    segs = [s for s in path[len(prefix) + 1 :].split("/") if s]
    if not segs:
        return None
    watch = False
    if segs[0] == "watch":
        watch = True
        segs = segs[1:]
    namespaced = False
    if len(segs) > 2 and segs[0] == "namespaces" and segs[1] == "{namespace}":
        namespaced = True
        segs = segs[2:]
    if not segs or segs[0].startswith("{"):
        return None
    resource = segs[0]
    has_name = len(segs) >= 2 and segs[1].startswith("{")
    sub = "/".join(segs[2:]) if has_name and len(segs) > 2 else ""
    if len(segs) >= 2 and not has_name:
        return None
    return resource, has_name, sub, namespaced, watch


def load_group_version(file: Path, root: Path) -> GroupVersion:
    rel = file.relative_to(root).with_suffix("")
    parts = rel.parts
    if parts[0] == "api" and len(parts) == 2:
        group, version = "", parts[1]
    elif parts[0] == "apis" and len(parts) == 3:
        group, version = parts[1], parts[2]
    else:
        raise ValueError(f"{file}: not laid out as api/<v>.json or apis/<g>/<v>.json")
    doc = json.loads(file.read_text())
    gv = GroupVersion(group, version, file, doc, {})
    meta = doc.get("x-k2d-resources") or {}
    for name, facts in sorted(meta.items()):
        if "/" in name:  # subresource facts, if any
            continue
        gv.resources[name] = Resource(
            group=group,
            version=version,
            name=name,
            singular=facts.get("singularName", ""),
            short_names=list(facts.get("shortNames") or []),
            categories=list(facts.get("categories") or []),
        )
    collection_kind: dict[str, str] = {}
    create_kind: dict[str, str] = {}
    for path, item in doc.get("paths", {}).items():
        split = _split_path(gv.api_prefix, path)
        if split is None:
            continue
        resource, has_name, sub, namespaced, watch = split
        res = gv.resources.get(resource)
        if res is None:
            continue
        res.paths.append(path)
        if namespaced:
            res.namespaced = True
        if sub:
            res.subresources.add(sub)
            continue
        for method, op in _operations(item):
            action = op.get("x-kubernetes-action", "")
            verb = ACTION_TO_VERB.get(action)
            if verb:
                res.verbs.add(verb)
            gvk = op.get("x-kubernetes-group-version-kind") or {}
            if not watch and not has_name and method == "get" and gvk.get("kind"):
                collection_kind.setdefault(resource, gvk["kind"])
            if not watch and not has_name and method == "post" and gvk.get("kind"):
                create_kind.setdefault(resource, gvk["kind"])
    for name, res in gv.resources.items():
        res.kind = collection_kind.get(name) or create_kind.get(name, "")
    return gv


def load_spec(root: Path | None = None) -> list[GroupVersion]:
    root = Path(root) if root else spec_dir()
    files = sorted(list(root.glob("api/*.json")) + list(root.glob("apis/*/*.json")))
    return [load_group_version(f, root) for f in files]


_VERSION_RE = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def version_priority(version: str):
    """Kubernetes' version ordering, highest first when sorted ascending:
    GA > beta > alpha, then by number (v2 > v1 > v1beta2 > v1beta1 > v1alpha1)."""
    m = _VERSION_RE.match(version)
    if not m:
        return (3, 0, 0, version)  # not kube-like: last
    major, level, minor = int(m.group(1)), m.group(2), int(m.group(3) or 0)
    rank = {None: 0, "beta": 1, "alpha": 2}[level]
    return (rank, -major, -minor, version)


def preferred_resources(gvs: list[GroupVersion]) -> list[Resource]:
    """The resources `kubectl api-resources` shows: per group, the preferred
    (highest-priority) version's resources, plus resources found only in other
    versions of that group (discovery's ServerPreferredResources rule)."""
    by_group: dict[str, list[GroupVersion]] = {}
    for gv in gvs:
        by_group.setdefault(gv.group, []).append(gv)
    out = []
    for group, versions in by_group.items():
        seen = set()
        for gv in sorted(versions, key=lambda g: version_priority(g.version)):
            for name, res in gv.resources.items():
                if name not in seen:
                    seen.add(name)
                    out.append(res)
    return out


def all_resources(gvs: list[GroupVersion]) -> list[Resource]:
    return [r for gv in gvs for r in gv.resources.values()]
