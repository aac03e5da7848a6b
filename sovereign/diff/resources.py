"""Resource changes between two renders of a stack: create, delete, update (with property paths)."""

from __future__ import annotations

from dataclasses import dataclass

from sovereign.diff.properties import PropertyChange, diff_values
from sovereign.render.rendered import RenderedStack, Step


@dataclass(frozen=True, order=True)
class ResourceChange:
    op: str
    """``create``, ``delete`` or ``update`` (``replace`` when the provider changed)."""
    urn: str
    type: str
    name: str
    properties: tuple[PropertyChange, ...] = ()


def _comparable(step: Step) -> dict[str, object]:
    return {"inputs": step.inputs}


def diff_resources(base: RenderedStack | None, head: RenderedStack | None) -> list[ResourceChange]:
    old = {s.urn: s for s in base.steps} if base else {}
    new = {s.urn: s for s in head.steps} if head else {}
    out: list[ResourceChange] = []
    for urn in sorted(set(old) | set(new)):
        a, b = old.get(urn), new.get(urn)
        if a is None and b is not None:
            out.append(ResourceChange("create", urn, b.type, b.name))
        elif b is None and a is not None:
            out.append(ResourceChange("delete", urn, a.type, a.name))
        elif a is not None and b is not None:
            changes = diff_values(a.inputs, b.inputs)
            provider_moved = a.provider_urn != b.provider_urn
            if changes or provider_moved:
                op = "replace" if provider_moved else "update"
                out.append(ResourceChange(op, urn, b.type, b.name, tuple(changes)))
    return out
