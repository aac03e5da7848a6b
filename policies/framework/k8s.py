"""A small read-only view of one Kubernetes object as a policy sees it (type token + props).

What a kind is and where it keeps its pods comes from the registry of kinds (``sovereign.kinds``): a registered
kind's pod locations, or, for a kind the registry does not know, what has the shape of pods
(``sovereign.kinds.shapes``). Rules read pods only through :class:`~sovereign.kinds.pods.PodShape`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from policies.framework.values import UnknownValueError, as_list, as_map, text
from sovereign.kinds.pods import PodShape, registered_shapes
from sovereign.kinds.registry import KindEntry, default_registry
from sovereign.kinds.shapes import MULTUS_NETWORKS, LooseContent, loose_content, pods_by_shape
from sovereign.kinds.tokens import split_type_token as _split

__all__ = ["MULTUS_NETWORKS", "K8sObject", "PodShape", "multus_networks", "required_node_terms", "split_type_token",
           "stack_objects", "term_values"]

UNKNOWN_AT_PREVIEW = (UnknownValueError,)


@functools.lru_cache(maxsize=4096)
def split_type_token(token: str) -> tuple[str, str, str] | None:
    """``kubernetes:apps/v1:Deployment`` -> ("apps", "v1", "Deployment"); core group -> ""; others -> None.

    Memoised: every rule asks for every resource, and a stack has a few dozen types."""
    return _split(token)


@dataclass(frozen=True)
class K8sObject:
    group: str
    version: str
    kind: str
    props: Mapping[str, Any]
    urn: str
    resource_name: str
    pulumi_type: str = ""
    """Set (group, version and kind empty) for a resource that is not a Kubernetes object: its type token."""
    has_provider: bool | None = None
    """Whether the engine sent a provider with the resource (None: not known); a resource without one is a
    component of the program."""

    @classmethod
    def from_resource(cls, type_token: str, props: Mapping[str, Any], urn: str, name: str) -> K8sObject | None:
        parsed = split_type_token(type_token)
        if parsed is None:
            return None
        group, version, kind = parsed
        return cls(group, version, kind, props, urn, name)

    @property
    def type_token(self) -> str:
        return self.pulumi_type or f"kubernetes:{self.group or 'core'}/{self.version}:{self.kind}"

    @functools.cached_property
    def metadata(self) -> Mapping[str, Any]:
        return as_map(self.props.get("metadata"))

    @property
    def name(self) -> str:
        return text(self.metadata.get("name")) or self.resource_name

    @property
    def namespace(self) -> str:
        """The object's namespace ("" when cluster-scoped or unset; unset namespaced objects land in the
        apply-time namespace, which the caller treats as ``default``)."""
        return text(self.metadata.get("namespace"))

    @property
    def spec(self) -> Mapping[str, Any]:
        return as_map(self.props.get("spec"))

    def labels(self) -> Mapping[str, Any]:
        return as_map(self.metadata.get("labels"))

    def annotations(self) -> Mapping[str, Any]:
        return as_map(self.metadata.get("annotations"))

    @property
    def ref(self) -> str:
        """``Kind ns/name`` for messages (the type token for a resource that is not a Kubernetes object)."""
        kind = self.kind or self.type_token
        return f"{kind} {self.namespace}/{self.name}" if self.namespace else f"{kind} {self.name}"

    # -- what the registry says ------------------------------------------------------------------------------
    @functools.cached_property
    def entry(self) -> KindEntry | None:
        return default_registry().entry(self.group, self.kind)

    def has_role(self, role: str) -> bool:
        entry = self.entry
        return entry is not None and role in entry.roles

    # -- pods -----------------------------------------------------------------------------------------------
    @property
    def is_workload(self) -> bool:
        """Makes pods: a kind whose registry entry runs pods, or an unknown kind carrying pod templates."""
        return any(shape.runs for shape in self.pod_shapes())

    def pod_shapes(self) -> tuple[PodShape, ...]:
        """Every pod the object describes: where its registered kind keeps them, else found by shape. Reading goes
        through the checking view, so an unknown value on a registered path fails the rule closed (every rule that
        asks: an error is not kept)."""
        return self._pod_shapes

    @functools.cached_property
    def _pod_shapes(self) -> tuple[PodShape, ...]:
        """Read once per object: the rules of one resource share it (the direct runner judges all of them over one
        object)."""
        entry = self.entry
        if entry is not None:
            return tuple(registered_shapes(entry, self.props))
        return tuple(pods_by_shape(self.props, UNKNOWN_AT_PREVIEW))

    def loose(self) -> LooseContent | None:
        """Containers, host flags, placements... found by shape in an unknown kind without pod templates."""
        if self.entry is not None or self.pod_shapes():
            return None
        return loose_content(self.props, UNKNOWN_AT_PREVIEW)


def stack_objects(resources: Iterable[tuple[str, Mapping[str, Any], str, str]]) -> list[K8sObject]:
    """The Kubernetes objects among (type token, props, urn, name) of the stack's resources."""
    objs = []
    for type_token, props, urn, name in resources:
        obj = K8sObject.from_resource(type_token, props, urn, name)
        if obj is not None:
            objs.append(obj)
    return objs


def required_node_terms(affinity: Any) -> list[Mapping[str, Any]] | None:
    """``nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms`` (ORed) of an affinity,
    or None when absent."""
    node_aff = as_map(as_map(affinity).get("nodeAffinity"))
    required = node_aff.get("requiredDuringSchedulingIgnoredDuringExecution")
    if required is None:
        return None
    terms = as_list(as_map(required).get("nodeSelectorTerms"))
    return [as_map(t) for t in terms]


def term_values(term: Mapping[str, Any], key: str) -> list[tuple[str, list[str]]]:
    """(operator, values) of every matchExpression on ``key`` in one node selector term."""
    out = []
    for expr in as_list(term.get("matchExpressions")):
        e = as_map(expr)
        if text(e.get("key")) == key:
            out.append((text(e.get("operator")), [text(v) for v in as_list(e.get("values"))]))
    return out


def multus_networks(value: str) -> list[str]:
    """Network names of a Multus annotation: ``a, ns/b@eth1`` or a JSON list of ``{"name", "namespace"}``."""
    stripped = value.strip()
    if stripped.startswith("["):
        try:
            items = json.loads(stripped)
        except ValueError:
            return [stripped]
        names = []
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict):
                ns = f"{item['namespace']}/" if isinstance(item.get("namespace"), str) else ""
                names.append(f"{ns}{item.get('name', '?')}")
        return names or [stripped]
    return [n.strip() for n in stripped.split(",") if n.strip()]
