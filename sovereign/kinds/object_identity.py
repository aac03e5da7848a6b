"""Which input objects are the same object to the API server, and which of them counts: one decision for
``check``, ``reach`` and ``diff``.

Why: an input that defines an object twice (same API group and kind, namespace and name) is applied by
``kubectl apply`` of the whole input one definition after the other, so the cluster ends with the last; keeping
the first (as ``check`` did) or merging both (as the connectivity engine's tables did) judges an object the
cluster never runs, and the two commands disagreed without saying so. Here the last definition counts, every
earlier one is reported as a ``Duplicate`` naming both places, and nothing is dropped silently.

Identity is the API server's: the group (not the version: ``apps/v1`` and ``apps/v1beta1`` name one object), the
kind, the name, and the namespace as the server defaults it: a namespaced object without ``metadata.namespace``
is in ``default`` (what ``kubectl apply`` gives it without ``-n`` and with no namespace in the kubeconfig
context), a cluster-scoped object has none, whatever it says. Scope comes from the registry of kinds
(``clusterScoped``), for a kind it does not know from a CustomResourceDefinition of the input (``spec.scope``),
else the kind is taken as namespaced (most custom resources are; such an object is unjudged anyway). An object
without a usable name (``generateName`` only) has no identity here: ``kubectl apply`` refuses it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sovereign.kinds.registry import Registry, default_registry
from sovereign.kinds.tokens import api_group

DEFAULT_NAMESPACE = "default"
"""Where a namespaced object without ``metadata.namespace`` lands when applied."""

CRD_GROUP, CRD_KIND = "apiextensions.k8s.io", "CustomResourceDefinition"


@dataclass(frozen=True, order=True)
class ObjectKey:
    """An object's identity to the API server."""

    group: str
    kind: str
    namespace: str
    """``""`` for a cluster-scoped kind."""
    name: str

    def label(self) -> str:
        """``Deployment.apps shop/web``, ``ClusterRole.rbac.authorization.k8s.io admin`` (kubectl's spelling)."""
        kind = f"{self.kind}.{self.group}" if self.group else self.kind
        return f"{kind} {self.namespace}/{self.name}" if self.namespace else f"{kind} {self.name}"


@dataclass(frozen=True)
class Duplicate:
    """An earlier definition of an object that a later one in the input replaces."""

    key: ObjectKey
    superseded: int
    """Index (in the input given) of the definition that does not count."""
    superseded_at: str
    last: int
    """Index of the definition that counts (the last)."""
    last_at: str

    def message(self) -> str:
        return (f"{self.key.label()} is defined more than once: {self.superseded_at} and {self.last_at}. "
                f"kubectl apply of the whole input ends with the last definition, so {self.last_at} is the one "
                f"judged and {self.superseded_at} is not; keep one definition")


@dataclass(frozen=True)
class AppliedObjects:
    kept: tuple[int, ...]
    """Indices of the definitions that count, in input order."""
    duplicates: tuple[Duplicate, ...]
    """Every definition that does not count, in input order."""

    def notes(self) -> list[str]:
        return [d.message() for d in self.duplicates]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def input_crd_scopes(objects: Sequence[Mapping[str, Any]]) -> dict[tuple[str, str], bool]:
    """(group, kind) -> cluster-scoped, for the CustomResourceDefinitions of the input (``spec.scope``)."""
    scopes: dict[tuple[str, str], bool] = {}
    for obj in objects:
        if obj.get("kind") != CRD_KIND or api_group(obj.get("apiVersion")) != CRD_GROUP:
            continue
        spec = obj.get("spec")
        names = spec.get("names") if isinstance(spec, Mapping) else None
        if isinstance(spec, Mapping) and isinstance(names, Mapping) and spec.get("scope") in ("Cluster", "Namespaced"):
            scopes[(_text(spec.get("group")), _text(names.get("kind")))] = spec.get("scope") == "Cluster"
    return scopes


def object_key(obj: Mapping[str, Any], registry: Registry,
               crd_scopes: Mapping[tuple[str, str], bool] | None = None) -> ObjectKey | None:
    """The identity of ``obj``, or None when it has no kind or name to have one by."""
    kind = _text(obj.get("kind"))
    meta = obj.get("metadata")
    name = _text(meta.get("name")) if isinstance(meta, Mapping) else ""
    if not kind or not name:
        return None
    group = api_group(obj.get("apiVersion"))
    entry = registry.entry(group, kind)
    cluster_scoped = entry.cluster_scoped if entry is not None else (crd_scopes or {}).get((group, kind), False)
    namespace = "" if cluster_scoped else (_text(meta.get("namespace")) if isinstance(meta, Mapping) else "")
    return ObjectKey(group, kind, "" if cluster_scoped else namespace or DEFAULT_NAMESPACE, name)


def last_applied(objects: Sequence[Mapping[str, Any]], places: Sequence[str],
                 registry: Registry | None = None) -> AppliedObjects:
    """Which of ``objects`` (in apply order; ``places[i]`` says where object ``i`` is, e.g. ``m.yaml:12``) count:
    the last definition of each object, and a ``Duplicate`` for every earlier one."""
    registry = registry or default_registry()
    scopes = input_crd_scopes(objects)
    keys = [object_key(obj, registry, scopes) for obj in objects]
    last: dict[ObjectKey, int] = {}
    for index, key in enumerate(keys):
        if key is not None:
            last[key] = index
    duplicates = tuple(Duplicate(key, index, places[index], last[key], places[last[key]])
                       for index, key in enumerate(keys) if key is not None and last[key] != index)
    kept = tuple(index for index, key in enumerate(keys) if key is None or last[key] == index)
    return AppliedObjects(kept, duplicates)
