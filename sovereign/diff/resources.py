"""Resource changes between two renders of a stack: create, delete, update (with property paths).

A render marks a Secret's ``data``/``stringData`` secret at capture time, but a render directory may come from
elsewhere (an older render, a hand-made preview.json, rendered manifests) with the values in plain text; here
they are marked secret again, per key, so the diff can say which key changed but never to what.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sovereign.diff.properties import PropertyChange, diff_values
from sovereign.render.k8s_check import SECRET_DATA_FIELDS, is_secret_object
from sovereign.render.rendered import RenderedStack, Step
from sovereign.render.wire import is_secret, secret


@dataclass(frozen=True, order=True)
class ResourceChange:
    op: str
    """``create``, ``delete`` or ``update`` (``replace`` when the provider changed)."""
    urn: str
    type: str
    name: str
    properties: tuple[PropertyChange, ...] = ()


def _secret_leaves(value: Any) -> Any:
    if is_secret(value):
        return value
    if isinstance(value, dict):
        return {k: _secret_leaves(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_secret_leaves(v) for v in value]
    return secret(value)


SECRET_PROVIDER_INPUTS = {"pulumi:providers:kubernetes": ("kubeconfig",)}
"""Provider inputs the provider's schema declares secret (a render from elsewhere may carry them in plain text)."""


def comparable_inputs(step: Step) -> dict[str, Any]:
    """The step's inputs with a Secret's data/stringData leaves (and secret provider inputs) marked secret; keys
    stay comparable."""
    fields = SECRET_DATA_FIELDS if is_secret_object(step.inputs) else SECRET_PROVIDER_INPUTS.get(step.type, ())
    if not fields:
        return step.inputs
    out = dict(step.inputs)
    for field in fields:
        if field in out:
            out[field] = _secret_leaves(out[field])
    return out


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
            changes = diff_values(comparable_inputs(a), comparable_inputs(b))
            provider_moved = a.provider_urn != b.provider_urn
            if changes or provider_moved:
                op = "replace" if provider_moved else "update"
                out.append(ResourceChange(op, urn, b.type, b.name, tuple(changes)))
    return out
