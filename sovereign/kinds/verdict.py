"""The verdict every input object gets: judged (by which rules), inert (why), or unjudged (why).

Closed world: a kind the registry does not know, a version of a known kind it has not read, a server-side patch
whose merged object is unknown, or a resource of another provider, is *unjudged*; the ``unjudged-object`` rule
makes that a mandatory violation unless the organisation carved it out (an exemption of that rule). The policy
pack (through that rule) and every report (through the inventory) call this one function, so they agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sovereign.kinds.paths import resolve
from sovereign.kinds.registry import KindEntry, Registry, default_registry
from sovereign.kinds.shapes import Skipped, loose_content, pods_by_shape
from sovereign.kinds.tokens import api_version_of, split_type_token

JUDGED = "judged"
INERT = "inert"
UNJUDGED = "unjudged"
VERDICTS = (JUDGED, INERT, UNJUDGED)
KUBERNETES_PREFIX = "kubernetes:"
META_RULES = frozenset({"unjudged-object"})
"""Rules that look at every object without judging what it does (not listed as the rules that judge a kind)."""


@dataclass(frozen=True)
class Verdict:
    status: str
    """``judged``, ``inert`` or ``unjudged``."""
    kind: str
    """What the object is, as reports group it: ``apps/v1 Deployment``, or the Pulumi type token."""
    reason: str = ""
    """Inert: why it can neither move data nor place compute. Unjudged: why no rule can judge it."""
    rules: tuple[str, ...] = ()
    """Judged: the rules that judge it. Unjudged: the rules that still read what it carries by shape."""


COMPONENT = ("a component resource (it has no provider): it creates nothing itself, and its children are judged one "
             "by one")


def verdict_of(type_token: str, props: Mapping[str, Any], *, skip: Skipped = (), has_provider: bool | None = None,
               registry: Registry | None = None) -> Verdict:
    """The verdict of one resource of a Pulumi program or one manifest (its type token and props).

    ``has_provider``: whether the resource names a provider (the engine sends one with every custom resource, none
    with a program's own component resources); None when not known (plain manifests)."""
    registry = registry or default_registry()
    pulumi = registry.pulumi_type(type_token)
    if pulumi is not None:
        if pulumi.inert is not None:
            return Verdict(INERT, type_token, pulumi.inert)
        return Verdict(UNJUDGED, type_token, pulumi.unjudged or "")
    parsed = split_type_token(type_token)
    if parsed is None and has_provider is False:
        return Verdict(INERT, type_token, COMPONENT)
    if parsed is None:
        return Verdict(UNJUDGED, type_token, f"a {type_token} resource: not a Kubernetes object, and the residency "
                                             f"pack does not read resources of other providers (a cloud resource "
                                             f"may store or send data anywhere)")
    group, version, kind = parsed
    return object_verdict(group, version, kind, props, skip=skip, registry=registry)


def object_verdict(group: str, version: str, kind: str, props: Mapping[str, Any], *, skip: Skipped = (),
                   registry: Registry | None = None) -> Verdict:
    registry = registry or default_registry()
    label = f"{api_version_of(group, version)} {kind}"
    entry = registry.entry(group, kind)
    if entry is None:
        base = _patched_kind(registry, group, kind)
        if base is not None:
            return Verdict(UNJUDGED, label, f"a server-side patch of an existing {base.kind}: the object it changes is "
                                            f"not in the input, so what the merged object does cannot be judged")
        return Verdict(UNJUDGED, label, _unknown_reason(group, kind, props, skip),
                       tuple(r for r in registry.unknown_kind_rules if r not in META_RULES))
    if version not in entry.versions:
        return Verdict(UNJUDGED, label, f"{api_version_of(group, version)} is not a version of {kind} the registry "
                                        f"of kinds has read (known: {', '.join(entry.api_versions)}); its fields may "
                                        f"mean something the rules do not read", _judging(registry, entry))
    if entry.inert is not None:
        return Verdict(INERT, label, entry.inert)
    if entry.unjudged is not None:
        return Verdict(UNJUDGED, label, entry.unjudged)
    for path, reason in entry.unjudged_when:
        for where, _value in resolve(props, path):
            return Verdict(UNJUDGED, label, f"it sets {where}: {reason}", _judging(registry, entry))
    return Verdict(JUDGED, label, "", _judging(registry, entry))


def _judging(registry: Registry, entry: KindEntry) -> tuple[str, ...]:
    return tuple(r for r in registry.rules_of(entry) if r not in META_RULES)


PATCH_SUFFIX = "Patch"
LIST_SUFFIX = "List"


def patched_kind_name(kind: str) -> str | None:
    """``DeploymentPatch`` -> ``Deployment``: the kind a pulumi-kubernetes server-side patch type changes; None for
    any other kind."""
    if not kind.endswith(PATCH_SUFFIX) or len(kind) == len(PATCH_SUFFIX):
        return None
    return kind[: -len(PATCH_SUFFIX)]


def is_whole_object_kind(kind: str) -> bool:
    """Whether a pulumi-kubernetes resource of this kind is one whole object (not a server-side patch of one, nor a
    list of them): what the provider's renderYamlToDirectory writes as a manifest."""
    return patched_kind_name(kind) is None and not kind.endswith(LIST_SUFFIX)


def _patched_kind(registry: Registry, group: str, kind: str) -> KindEntry | None:
    base = patched_kind_name(kind)
    return registry.entry(group, base) if base is not None else None


def _unknown_reason(group: str, kind: str, props: Mapping[str, Any], skip: Skipped) -> str:
    text = (f"kind {kind} of API group {group or 'core'} is not in the registry of kinds: the checker cannot tell "
            f"whether it moves data or places compute")
    shapes = [s.path for s in pods_by_shape(props, skip)]
    if shapes:
        return f"{text}; the pod rules still judge the pod specs it carries at {', '.join(shapes)}"
    loose = loose_content(props, skip)
    if loose is not None and loose.containers:
        where = ", ".join(p for p, _ in loose.containers[:3]) + (" ..." if len(loose.containers) > 3 else "")
        return f"{text}; the pod rules still judge the containers it carries at {where}"
    return text
