"""Which input objects the connectivity engine reads, and what becomes of the others: one decision for the pack's
``no-cross-border-path`` rule and for ``sovereign reach``.

The engine reads the objects whose kind the registry of kinds gives one of ``ENGINE_ROLES`` (pods, namespaces,
the policies it models, Services and their endpoints), and the pods of a kind the registry does not know, found
by shape (RT-8). Every other object is, by its verdict (``sovereign.kinds.verdict``):

* inert: it can neither move data nor place compute; nothing to read;
* judged by other rules of the pack (an Ingress route, an egress gateway, a mesh's ServiceEntry...): the engine
  does not model what it does to traffic, so an answer over it says so (``NotRead``), naming those rules;
* unjudged: nobody can tell what it does; an answer over it would be a silent pass, so ``reach`` refuses it as
  input it cannot read (the pack makes it an ``unjudged-object`` violation), unless the engine reads its pods.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sovereign.connectivity.inventory import Manifest, pod_shapes
from sovereign.core.exemptions import Exemption, expired_note, match
from sovereign.kinds.registry import KindEntry, default_registry
from sovereign.kinds.tokens import api_group, api_version_number
from sovereign.kinds.verdict import INERT, JUDGED, object_verdict

ENGINE_ROLES = frozenset({"runs-pods", "namespace", "network-policy", "service", "endpoints"})
"""Roles of the kinds the connectivity engine reads (the registry of kinds says which kinds have them)."""


def engine_reads(entry: KindEntry | None, runs_pods: bool) -> bool:
    """Whether the engine reads an object of registry entry ``entry`` (None: a kind the registry does not know,
    read only when it runs pods, ``runs_pods``)."""
    if entry is None:
        return runs_pods
    return bool(ENGINE_ROLES.intersection(entry.roles))


@dataclass(frozen=True, order=True)
class NotRead:
    """An object the engine does not read (or reads only in part), and why."""

    kind: str
    """``apps/v1 Deployment`` as the verdict names it."""
    namespace: str
    name: str
    file: str
    where: str
    """``document at line N`` (empty when not known)."""
    reason: str
    """Judged elsewhere: the rules of ``sovereign check`` that judge it. Unjudged: the verdict's reason."""
    refused: bool
    """True: nothing reads it (an unjudged object whose pods the engine does not find): input reach refuses."""

    @property
    def source(self) -> str:
        return f"{self.file}: {self.where}" if self.where else self.file

    @property
    def object(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}" if self.namespace else f"{self.kind} {self.name}"


def not_read(manifests: Sequence[Manifest], carve_outs: Sequence[Exemption] = (),
             at: datetime | None = None) -> list[NotRead]:
    """Every object of the input whose traffic the engine does not model, sorted (inert objects left out).

    ``carve_outs``: the organisation's exemptions of ``unjudged-object`` (the same the pack honours, from the
    policy pack config) at ``at``: an unjudged object an active one covers is not refused, and says which
    exemption accepted it; an expired one accepts nothing, and the reason says so."""
    registry = default_registry()
    out: list[NotRead] = []
    for m in manifests:
        api_version = m.obj.get("apiVersion")
        group, version = api_group(api_version), api_version_number(api_version)
        entry = registry.entry(group, m.kind)
        runs = bool(pod_shapes(m))
        verdict = object_verdict(group, version, m.kind, m.obj, registry=registry)
        if verdict.status == INERT:
            continue
        if verdict.status == JUDGED and engine_reads(entry, runs):
            continue
        if verdict.status == JUDGED:
            rules = ", ".join(r for r in verdict.rules) or "no rule"
            reason = (f"what it does to traffic is not modelled by the connectivity engine; sovereign check judges "
                      f"it ({rules})")
            refused = False
        elif entry is None and runs:
            reason = f"{verdict.reason}; reach reads its pods by shape, nothing else of it"
            refused = False
        else:
            reason = verdict.reason
            refused = True
        meta = m.obj.get("metadata")
        meta = meta if isinstance(meta, dict) else {}
        namespace, name = meta.get("namespace"), meta.get("name")
        if refused and carve_outs and at is not None:
            found = match(carve_outs, m.kind, group, namespace if isinstance(namespace, str) else "",
                          name if isinstance(name, str) else "", at)
            if found.active is not None:
                e = found.active
                reason += (f"; carved out by exemption #{e.index} of {e.rule} (approved by {e.approver}, until "
                           f"{e.expires.isoformat()}: {e.reason}): reach reads nothing of it")
                refused = False
            elif found.expired:
                reason += expired_note(found.expired)
        where = m.path()
        out.append(NotRead(verdict.kind, namespace if isinstance(namespace, str) else "",
                           name if isinstance(name, str) else "", m.source,
                           where[0] if where and isinstance(where[0], str) else "", reason, refused))
    return sorted(out)
