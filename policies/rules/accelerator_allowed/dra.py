"""GPU products requested through Dynamic Resource Allocation (resource.k8s.io), RT-13.

With DRA (GA in Kubernetes 1.34) a pod gets GPUs through a ResourceClaim or ResourceClaimTemplate: a request names
a DeviceClass (``gpu.nvidia.com``) and CEL selectors over the devices' attributes, e.g.
``device.attributes['gpu.nvidia.com'].productName == 'NVIDIA H100 80GB HBM3'``. The pod then carries no
``nvidia.com/gpu`` limit and no ``nvidia.com/gpu.product`` node selector, so the product must be read from the
claim itself.

The CEL reading is deliberately small: a selector pins the product only through top-level ``&&`` clauses of
the form ``<attributes>.productName == '<name>'`` (either side) or ``<attributes>.productName in ['a', 'b']``.
Any other mention of ``productName`` (``!=``, ``startsWith``, ``||``, parentheses, functions) makes the product
undeterminable, and a GPU request whose product is undeterminable fails closed.

DRA product names are the driver's (``NVIDIA H100 80GB HBM3``); the catalog keys on GPU Feature Discovery's
``nvidia.com/gpu.product`` form (``NVIDIA-H100-80GB-HBM3``): runs of whitespace become ``-``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from policies.framework.values import as_list, as_map, text
from sovereign.labels import GPU_RESOURCE

DRA_GROUP = "resource.k8s.io"
DRA_KINDS = frozenset({"ResourceClaim", "ResourceClaimTemplate", "DeviceClass"})
GPU_VENDOR_DOMAIN = GPU_RESOURCE.split("/", 1)[0]
"""``nvidia.com``: its DRA driver's classes (``gpu.nvidia.com``, ``mig.nvidia.com``) hand out GPUs."""

_Q = r"""(?:'([^'\\]*)'|"([^"\\]*)")"""
_ATTR = (r"""device\.attributes\s*\[\s*(?:'[^']*'|"[^"]*")\s*\]\s*"""
         r"""(?:\.\s*productName|\[\s*(?:'productName'|"productName")\s*\])""")
_EQ_LEFT = re.compile(rf"^{_ATTR}\s*==\s*{_Q}$")
_EQ_RIGHT = re.compile(rf"^{_Q}\s*==\s*{_ATTR}$")
_IN = re.compile(rf"^{_ATTR}\s+in\s+\[(.*)\]$")
_LIST_ITEM = re.compile(_Q)


@dataclass(frozen=True)
class DeviceRequest:
    where: str
    """Key path of the request (or DeviceClass spec) inside the object."""
    device_class: str
    expressions: tuple[str, ...]


def catalog_product(dra_name: str) -> str:
    """``NVIDIA H100 80GB HBM3`` -> ``NVIDIA-H100-80GB-HBM3`` (the catalog's gpu.product form)."""
    return "-".join(dra_name.split())


def is_gpu_class(name: str) -> bool:
    low = name.lower()
    return "gpu" in low or low == GPU_VENDOR_DOMAIN or low.endswith("." + GPU_VENDOR_DOMAIN)


def _clause_products(clause: str) -> set[str] | None:
    """Products one ``&&`` clause pins; None when it does not constrain the product."""
    c = clause.strip()
    m = _EQ_LEFT.match(c) or _EQ_RIGHT.match(c)
    if m:
        return {next(g for g in m.groups() if g is not None)}
    m = _IN.match(c)
    if m:
        items = [single or double for single, double in _LIST_ITEM.findall(m.group(1))]
        return set(items)
    return None


def pinned_products(expressions: tuple[str, ...]) -> tuple[set[str] | None, str | None]:
    """(products the selectors allow, None when unconstrained; reason when undeterminable).

    Selectors are ANDed, as are the top-level ``&&`` clauses of one expression, so the pinned set is the
    intersection of every clause that pins. A ``productName`` mention we cannot read makes the whole request
    undeterminable (reason set): it may widen or narrow the set in ways this reader cannot see.
    """
    pinned: set[str] | None = None
    for expr in expressions:
        if "productName" not in expr:
            continue
        if "||" in expr:  # `a || b && productName == x` would otherwise read as pinned
            return None, f"the CEL selector {expr!r} uses || in an expression that names productName"
        for clause in expr.split("&&"):
            if "productName" not in clause:
                continue
            products = _clause_products(clause)
            if products is None:
                return None, f"the CEL clause {clause.strip()!r} does not name the product with == or in"
            pinned = products if pinned is None else pinned & products
    return pinned, None


def _selectors(value: Mapping[str, Any]) -> tuple[str, ...]:
    out = []
    for sel in as_list(value.get("selectors")):
        expr = as_map(as_map(sel).get("cel")).get("expression")
        out.append(text(expr))
    return tuple(out)


def _requests(prefix: str, devices: Mapping[str, Any]) -> Iterator[DeviceRequest]:
    for i, raw in enumerate(as_list(devices.get("requests"))):
        req = as_map(raw)
        where = f"{prefix}.requests[{i}]"
        exactly = as_map(req.get("exactly"))
        alternatives = as_list(req.get("firstAvailable"))
        if exactly:  # resource.k8s.io/v1, v1beta2
            yield DeviceRequest(f"{where}.exactly", text(exactly.get("deviceClassName")),
                                _selectors(exactly))
        for j, alt in enumerate(alternatives):  # each alternative may be the one allocated
            a = as_map(alt)
            yield DeviceRequest(f"{where}.firstAvailable[{j}]", text(a.get("deviceClassName")),
                                _selectors(a))
        if not exactly and not alternatives:  # v1beta1 / v1alpha3: the request itself
            yield DeviceRequest(where, text(req.get("deviceClassName")), _selectors(req))


def device_requests(kind: str, spec: Mapping[str, Any]) -> Iterator[DeviceRequest]:
    """Every device request of a claim, a claim template or a DeviceClass (its own selectors)."""
    if kind == "ResourceClaim":
        yield from _requests("spec.devices", as_map(spec.get("devices")))
    elif kind == "ResourceClaimTemplate":
        yield from _requests("spec.spec.devices", as_map(as_map(spec.get("spec")).get("devices")))
    elif kind == "DeviceClass":
        yield DeviceRequest("spec", "", _selectors(spec))
