"""Accelerator products requested through Dynamic Resource Allocation (resource.k8s.io), RT-13, of every vendor.

With DRA a pod gets devices through a ResourceClaim or ResourceClaimTemplate: a request names a DeviceClass (e.g.
``gpu.nvidia.com``, ``gpu.amd.com``, ``gaudi.intel.com``) and CEL selectors over the devices' attributes, e.g.
``device.attributes['gpu.nvidia.com'].productName == 'NVIDIA H100 80GB HBM3'``. The pod then carries no device
plugin resource and no product label, so the product is read from the claim itself. Which drivers belong to which
vendor, and which attribute names the product (``productName``, ``model``), is the accelerator vocabulary's
(``sovereign/kinds/accelerators.yaml``).

The CEL reading is deliberately small: a selector pins the product only through top-level ``&&`` clauses of the
form ``<attributes>.<product attribute> == '<name>'`` (either side) or ``... in ['a', 'b']``; ``device.driver ==
'<driver>'`` names the vendor. Any other mention of the product attribute (``!=``, ``startsWith``, ``||``,
parentheses, functions) makes the product undeterminable, and an accelerator request whose product is
undeterminable fails closed where the jurisdiction's accelerator default is deny.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from policies.framework.values import as_list, as_map, text

DRA_GROUP = "resource.k8s.io"
DRA_KINDS = frozenset({"ResourceClaim", "ResourceClaimTemplate", "DeviceClass"})

_Q = r"""(?:'([^'\\]*)'|"([^"\\]*)")"""
_DOMAIN = r"""device\.attributes\s*\[\s*(?:'([^']*)'|"([^"]*)")\s*\]\s*"""
_NAME = r"""(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*(?:'([^']*)'|"([^"]*)")\s*\])"""
_ATTR = rf"{_DOMAIN}{_NAME}"
_EQ_LEFT = re.compile(rf"^{_ATTR}\s*==\s*{_Q}$")
_EQ_RIGHT = re.compile(rf"^{_Q}\s*==\s*{_ATTR}$")
_IN = re.compile(rf"^{_ATTR}\s+in\s+\[(.*)\]$")
_DRIVER = re.compile(rf"^device\.driver\s*==\s*{_Q}$|^{_Q}\s*==\s*device\.driver$")
_ANY_ATTR = re.compile(_ATTR)
_LIST_ITEM = re.compile(_Q)


@dataclass(frozen=True)
class DeviceRequest:
    where: str
    """Key path of the request (or DeviceClass spec) inside the object."""
    device_class: str
    expressions: tuple[str, ...]


@dataclass(frozen=True)
class Pins:
    """What a request's selectors say: the driver domains they name, and the products they pin."""

    drivers: frozenset[str]
    products: frozenset[str] | None
    """None: the selectors do not constrain the product."""
    undeterminable: str | None = None
    """Why the product cannot be read (a mention of the product attribute this reader cannot interpret)."""


def _first(*groups: str | None) -> str:
    return next((g for g in groups if g), "")


def _clause(clause: str, attributes: frozenset[str]) -> tuple[str, set[str]] | None:
    """(driver domain, products) one ``&&`` clause pins; None when it does not constrain the product."""
    c = clause.strip()
    m = _EQ_LEFT.match(c)
    if m:
        g = m.groups()
        if _first(g[2], g[3], g[4]) in attributes:
            return _first(g[0], g[1]), {_first(g[5], g[6])}
        return None
    m = _EQ_RIGHT.match(c)
    if m:
        g = m.groups()
        if _first(g[4], g[5], g[6]) in attributes:
            return _first(g[2], g[3]), {_first(g[0], g[1])}
        return None
    m = _IN.match(c)
    if m:
        g = m.groups()
        if _first(g[2], g[3], g[4]) in attributes:
            return _first(g[0], g[1]), {single or double for single, double in _LIST_ITEM.findall(g[5])}
    return None


def _mentions(expr: str, attributes: frozenset[str]) -> bool:
    return any(_first(m[2], m[3], m[4]) in attributes for m in _ANY_ATTR.findall(expr)) or any(
        re.search(rf"\b{re.escape(a)}\b", expr) for a in attributes)


def read_pins(expressions: tuple[str, ...], attributes: frozenset[str]) -> Pins:
    """Selectors are ANDed, as are the top-level ``&&`` clauses of one expression, so the pinned set is the
    intersection of every clause that pins. A product-attribute mention this reader cannot interpret makes the
    request undeterminable: it may widen or narrow the set in ways this reader cannot see."""
    pinned: set[str] | None = None
    drivers: set[str] = set()
    for expr in expressions:
        for clause in expr.split("&&"):
            m = _DRIVER.match(clause.strip())
            if m:
                drivers.add(_first(*m.groups()))
        drivers.update(_first(m[0], m[1]) for m in _ANY_ATTR.findall(expr))
        if not _mentions(expr, attributes):
            continue
        if "||" in expr:  # `a || b && productName == x` would otherwise read as pinned
            return Pins(frozenset(drivers), None,
                        f"the CEL selector {expr!r} uses || in an expression that names the product")
        for clause in expr.split("&&"):
            if not _mentions(clause, attributes):
                continue
            found = _clause(clause, attributes)
            if found is None:
                return Pins(frozenset(drivers), None,
                            f"the CEL clause {clause.strip()!r} does not name the product with == or in")
            domain, products = found
            if domain:
                drivers.add(domain)
            pinned = products if pinned is None else pinned & products
    return Pins(frozenset(drivers), None if pinned is None else frozenset(pinned))


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
            yield DeviceRequest(f"{where}.exactly", text(exactly.get("deviceClassName")), _selectors(exactly))
        for j, alt in enumerate(alternatives):  # each alternative may be the one allocated
            a = as_map(alt)
            yield DeviceRequest(f"{where}.firstAvailable[{j}]", text(a.get("deviceClassName")), _selectors(a))
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
