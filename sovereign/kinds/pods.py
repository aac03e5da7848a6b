"""Pod shapes: the pods an object describes, wherever its kind keeps them, read one way by every consumer.

A built-in workload keeps a PodSpec at ``spec.template.spec``; an operator's kind may keep several (Kubeflow
``pytorchReplicaSpecs.{*}.template``), a partial one (Prometheus ``spec`` with ``image``, ``nodeSelector``,
``affinity``...), fields under other names (CloudNativePG ``affinity.nodeSelector``, ``imageName``) or containers
outside a PodSpec (Argo ``templates[*].container``, with workflow-wide settings as fallback). The registry
(``registry/*.yaml``) says where; :class:`PodShape` gives the rules and the connectivity engine the same view:
``get(field)`` for a PodSpec field, ``containers()`` and ``images()``.

Values are read through the ``Mapping``/``Sequence`` interfaces only, so the policy pack's read-only proxies work
as plain dicts do; an unknown preview value raises when read (fail closed, the caller's guard reports it).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sovereign.kinds.paths import first, join, resolve
from sovereign.kinds.registry import KindEntry, PodLocation
from sovereign.kinds.tokens import api_version_number

CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
EMPTY: Mapping[str, Any] = {}


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else EMPTY


def _seq(value: Any) -> Sequence[Any]:
    return value if isinstance(value, Sequence) and not isinstance(value, str | bytes) else ()


@dataclass(frozen=True)
class PodShape:
    """One pod an object describes. ``path`` is where its spec is, as messages show it (``spec.template.spec``)."""

    path: str
    spec: Mapping[str, Any]
    metadata: Mapping[str, Any]
    metadata_path: str
    location: PodLocation
    fallback: Mapping[str, Any] = field(default_factory=dict)
    fallback_path: str = ""
    by_shape: bool = False
    """Found by shape in a kind the registry does not know (not where a registered kind keeps it)."""
    holder: Mapping[str, Any] = field(default_factory=dict)
    """The mapping at the location's ``at``: ``containers``, ``images`` and ``fields`` are relative to it."""
    holder_path: str = ""

    @property
    def runs(self) -> bool:
        return self.location.runs

    def get(self, name: str) -> tuple[str, Any]:
        """``(path, value)`` of a PodSpec field (``nodeSelector``, ``affinity``, ``hostNetwork``, ``volumes``...):
        where the kind keeps it (``fields``), else in the pod spec, else in the fallback; value None if unset."""
        renamed = self.location.fields.get(name)
        if renamed is not None:
            return join(self.holder_path, renamed), first(self.holder, renamed)
        if name == "affinity" and "affinity.nodeAffinity" in self.location.fields:
            # A kind that keeps a bare NodeAffinity (Zalando's spec.nodeAffinity): read as an Affinity holding it.
            path = self.location.fields["affinity.nodeAffinity"]
            value = first(self.holder, path)
            return join(self.holder_path, path).removesuffix(".nodeAffinity"), (
                None if value is None else {"nodeAffinity": value})
        if name in self.spec:
            return join(self.path, name), self.spec[name]
        if self.fallback and name in self.fallback:
            return join(self.fallback_path, name), self.fallback[name]
        return join(self.path, name), None

    def containers(self) -> Iterator[tuple[str, Mapping[str, Any]]]:
        """``(path, container)`` of every container: the PodSpec's lists, or where the kind keeps them."""
        if self.location.containers is None:
            for list_name in CONTAINER_LISTS:
                where, value = self.get(list_name)
                for i, item in enumerate(_seq(value)):
                    container = item
                    if isinstance(container, Mapping):
                        yield join(where, i), container
            return
        for relative in self.location.containers:
            for where, value in resolve(self.holder, relative, self.holder_path):
                if isinstance(value, Mapping):
                    yield where, value

    def images(self) -> Iterator[tuple[str, Any]]:
        """``(path, value)`` of every image the pod runs: each container's ``image`` (None when a container has
        none) and the kind's further image fields."""
        for where, container in self.containers():
            yield join(where, "image"), container.get("image")
        for relative in self.location.images:
            for where, value in resolve(self.holder, relative, self.holder_path):
                yield where, value

    def image_supplied_elsewhere(self, where: str) -> bool:
        """Whether the image at ``where`` belongs to a container whose image another object supplies when it is
        left out (``imagesElsewhere`` of the location)."""
        for relative in self.location.images_elsewhere:
            for path, value in resolve(self.holder, relative, self.holder_path):
                if isinstance(value, Mapping) and join(path, "image") == where:
                    return True
        return False

    def labels(self) -> Mapping[str, Any]:
        return _map(self.metadata.get("labels"))

    def annotations(self) -> Mapping[str, Any]:
        return _map(self.metadata.get("annotations"))


def shapes_at(props: Mapping[str, Any], location: PodLocation) -> list[PodShape]:
    """The pods ``location`` describes in one object (none when the path is absent)."""
    fallback_path = location.fallback or ""
    fallback = _map(first(props, location.fallback)) if location.fallback is not None else EMPTY
    out = []
    for at, holder in resolve(props, location.at):
        if not isinstance(holder, Mapping):
            continue
        spec_path = join(at, location.spec) if location.spec else at
        raw_spec = holder if location.spec == "" else first(holder, location.spec)
        meta_path = join(at, location.metadata) if location.metadata else at
        metadata = holder if location.metadata == "" else _map(first(holder, location.metadata))
        shape = PodShape(spec_path, _map(raw_spec), metadata, meta_path, location, fallback, fallback_path,
                         holder=holder, holder_path=at)
        has_spec = raw_spec is not None and location.spec != ""
        if location.containers is None:
            if raw_spec is None:
                continue  # no pod template here
        elif not has_spec and not any(True for _ in shape.containers()) and not any(True for _ in shape.images()):
            continue  # e.g. an Argo steps/dag template: it runs no pod of its own
        out.append(shape)
    return out


def registered_shapes(entry: KindEntry, props: Mapping[str, Any]) -> list[PodShape]:
    """Every pod an object of a registered kind describes, in registry order (a location limited to some API
    versions applies only to objects of those versions: Tekton moved pod settings between v1beta1 and v1)."""
    version = api_version_number(props.get("apiVersion"))
    return [shape for location in entry.pods if not location.versions or version in location.versions
            for shape in shapes_at(props, location)]
