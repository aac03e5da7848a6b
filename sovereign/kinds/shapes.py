"""Pod-spec-shaped content in objects of kinds the registry does not know, found by shape, not by name.

An operator's custom resource the registry does not list is unjudged (the closed world), but whatever in it has
the shape of pods is still judged by the pod rules, so that a carve-out of the kind never hides a foreign region
pin or image:

* pod templates: a PodSpec with ``containers`` at ``spec.template.spec``, ``spec.jobTemplate.spec.template.spec``
  or ``spec`` itself (checked in that order, the first wins), else every ``template.spec`` with ``containers``
  nested anywhere under ``spec`` (Kubeflow ``replicaSpecs.Worker.template``, Ray ``workerGroupSpecs[0].template``);
* loose content of a kind without pod templates (Argo- or Tekton-like): every mapping with a string ``image`` is a
  container; ``hostNetwork``/``hostPID``/``hostIPC: true``, ``hostPath``, ``podSpecPatch``, the Multus networks
  annotation and node placement (``nodeSelector``, ``nodeAffinity``) count wherever they sit under ``spec``.

Both walks are bounded in depth and size. Mock/preview note: a subtree that is unknown at preview is skipped (the
walk reads values no rule needs, such as a CRD's unrelated settings; failing closed on those would block every
preview of an object with an output in its spec); the keys the rules judge are read strictly.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sovereign.kinds.paths import join
from sovereign.kinds.pods import EMPTY, PodShape
from sovereign.kinds.registry import PodLocation

Skipped = tuple[type[Exception], ...]
"""The errors that mark a value unknown at preview (the pack passes the SDK's ``UnknownValueError``; plain
manifests have none, and importing the SDK here would cost the connectivity engine a quarter of a second)."""

MAX_NESTING = 12
MAX_NODES = 20_000
GENERIC_TEMPLATES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("spec.template", ("spec", "template")),
    ("spec.jobTemplate.spec.template", ("spec", "jobTemplate", "spec", "template")),
)
MULTUS_NETWORKS = "k8s.v1.cni.cncf.io/networks"
"""Multus: the pod annotation that attaches secondary networks."""
HOST_NAMESPACE_KEYS = ("hostNetwork", "hostPID", "hostIPC")
POD_SPEC_PATCH = "podSpecPatch"
PLACEMENT_KEYS = ("nodeSelector", "nodeAffinity")
_STRICT_KEYS = frozenset({"image", *HOST_NAMESPACE_KEYS, POD_SPEC_PATCH, MULTUS_NETWORKS, "hostPath", *PLACEMENT_KEYS})
"""Keys whose values the loose walk reads through the proxy strictly: unknown at preview fails closed."""


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else EMPTY


def _is_seq(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def _dig(value: Any, keys: Sequence[str]) -> Mapping[str, Any]:
    for key in keys:
        value = _map(value).get(key)
    return _map(value)


def _shape(path: str, template: Mapping[str, Any]) -> PodShape:
    return PodShape(join(path, "spec"), _map(template.get("spec")), _map(template.get("metadata")),
                    join(path, "metadata"), PodLocation(at=path), by_shape=True, holder=template, holder_path=path)


def pods_by_shape(props: Mapping[str, Any], skip: Skipped = ()) -> list[PodShape]:
    """Pod templates of an object of an unknown kind (see the module docstring)."""
    spec = _map(props.get("spec"))
    for path, keys in GENERIC_TEMPLATES:
        template = _dig(props, keys)
        if _map(template.get("spec")).get("containers") is not None:
            return [_shape(path, template)]
    if spec.get("containers") is not None:
        return [PodShape("spec", spec, _map(props.get("metadata")), "metadata", PodLocation(at=""), by_shape=True,
                         holder=props)]
    return [_shape(path, template) for path, template in _nested_templates(spec, "spec", 0, [0], skip)]


def _nested_templates(value: Any, path: str, depth: int, seen: list[int],
                      skip: Skipped) -> Iterator[tuple[str, Mapping[str, Any]]]:
    if depth > MAX_NESTING or seen[0] > MAX_NODES:
        return
    seen[0] += 1
    if isinstance(value, Mapping):
        for key in list(value):
            try:
                item = value[key]
                has_containers = key == "template" and _map(_map(item).get("spec")).get("containers") is not None
            except skip:
                continue
            if has_containers:
                yield join(path, str(key)), _map(item)
            else:
                yield from _nested_templates(item, join(path, str(key)), depth + 1, seen, skip)
    elif _is_seq(value):
        for i in range(len(value)):
            try:
                item = value[i]
            except skip:
                continue
            yield from _nested_templates(item, join(path, i), depth + 1, seen, skip)


@dataclass
class LooseContent:
    """What an object of an unknown kind without pod templates carries that the pod rules judge."""

    containers: list[tuple[str, Mapping[str, Any]]] = field(default_factory=list)
    host_flags: list[tuple[str, str]] = field(default_factory=list)
    """(path of the mapping, key) of every ``hostNetwork``/``hostPID``/``hostIPC: true``."""
    host_paths: list[tuple[str, str]] = field(default_factory=list)
    spec_patches: list[str] = field(default_factory=list)
    networks: list[tuple[str, str]] = field(default_factory=list)
    """(path, value) of every non-empty Multus networks annotation."""
    placements: list[tuple[str, str, Mapping[str, Any]]] = field(default_factory=list)
    """(path, key, mapping) of every ``nodeSelector`` and ``nodeAffinity``."""

    def __bool__(self) -> bool:
        return bool(self.containers or self.host_flags or self.host_paths or self.spec_patches or self.networks
                    or self.placements)


def loose_content(props: Mapping[str, Any], skip: Skipped = ()) -> LooseContent | None:
    """Container-like content under ``spec`` of an object without pod templates, else None."""
    found = LooseContent()
    _walk_loose(_map(props.get("spec")), "spec", 0, [0], found, skip)
    return found if found else None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _walk_loose(value: Any, path: str, depth: int, seen: list[int], found: LooseContent, skip: Skipped) -> None:
    if depth > MAX_NESTING or seen[0] > MAX_NODES:
        return
    seen[0] += 1
    if isinstance(value, Mapping):
        if isinstance(value.get("image"), str):
            found.containers.append((path, value))
            return
        for key in list(value):
            if key in _STRICT_KEYS:
                item = value[key]
                if key in HOST_NAMESPACE_KEYS and item is True:
                    found.host_flags.append((path, key))
                elif key == POD_SPEC_PATCH and item not in (None, "", {}):
                    found.spec_patches.append(join(path, key))
                elif key == MULTUS_NETWORKS and _text(item).strip():
                    found.networks.append((f"{path}['{key}']", _text(item)))
                elif key == "hostPath" and item is not None:
                    found.host_paths.append((join(path, key), _text(_map(item).get("path"))))
                elif key in PLACEMENT_KEYS and isinstance(item, Mapping):
                    found.placements.append((join(path, key), key, item))
                continue
            try:
                item = value[key]
            except skip:
                continue
            _walk_loose(item, join(path, str(key)), depth + 1, seen, found, skip)
    elif _is_seq(value):
        for i in range(len(value)):
            try:
                item = value[i]
            except skip:
                continue
            _walk_loose(item, join(path, i), depth + 1, seen, found, skip)
