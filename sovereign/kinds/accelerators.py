"""The accelerator vocabulary (``accelerators.yaml``): which extended resources, node labels and DRA drivers ask for
which vendor's accelerators, and how the product is read from them.

The rule ``accelerator-allowed`` asks this module what a pod or a claim requests and pins; the catalog's dated
rules decide whether a (vendor, product) is allowed in a jurisdiction. Vocabulary (Kubernetes device plugins,
labellers, drivers) and law (export controls) are kept apart, so a new device plugin name never needs a legal
review and a new export rule never needs code.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

VOCABULARY_FILE = Path(__file__).resolve().parent / "accelerators.yaml"
REQUEST = "request"
COMPANION = "companion"
NOT_ACCELERATOR = "not-accelerator"
UNKNOWN = "unknown"
ANY_VENDOR = "any"
_SEPARATORS = re.compile(r"[\s_]+")


class VocabularyError(ValueError):
    """The vocabulary file is malformed (a defect of this repository)."""


def normalise(value: str) -> str:
    """Whitespace and underscore runs become ``-`` (``NVIDIA H100 80GB HBM3`` -> ``NVIDIA-H100-80GB-HBM3``)."""
    return _SEPARATORS.sub("-", value.strip())


@dataclass(frozen=True)
class LabelRule:
    key: str
    values: Mapping[str, str] = field(default_factory=dict)
    prefix: str = ""
    strip: tuple[str, ...] = ()
    upper: bool = False

    def product(self, value: str) -> str:
        if value in self.values:
            return self.values[value]
        product = normalise(value)
        if product in self.values:
            return self.values[product]
        for pattern in self.strip:
            for cut in range(1, len(product)):
                if fnmatch.fnmatchcase(product[cut:], pattern):
                    product = product[:cut]
                    break
        if self.upper:
            product = product.upper()
        if self.prefix and not product.lower().startswith(self.prefix.lower()):
            product = self.prefix + product
        return product


@dataclass(frozen=True)
class Vendor:
    id: str
    name: str
    resources: tuple[str, ...]
    products: tuple[tuple[str, str], ...] = ()
    companions: tuple[str, ...] = ()
    labels: tuple[LabelRule, ...] = ()
    dra_drivers: tuple[str, ...] = ()
    dra_attributes: tuple[str, ...] = ()
    dra_prefix: str = ""
    instance_key: str = ""
    instance_products: tuple[tuple[str, str], ...] = ()
    source: str = ""

    def resource_product(self, resource: str) -> str | None:
        """The product a resource name itself names (``huawei.com/Ascend310P`` -> ``Huawei-Ascend310P``)."""
        return next((product for pattern, product in self.products if fnmatch.fnmatchcase(resource, pattern)), None)

    def dra_product(self, raw: str) -> str:
        product = normalise(raw)
        if self.dra_prefix and not product.lower().startswith(self.dra_prefix.lower()):
            product = self.dra_prefix + product
        return product


@dataclass(frozen=True)
class Classified:
    kind: str
    """``request``, ``companion``, ``not-accelerator`` or ``unknown``."""
    vendor: str | None = None
    """The vendor id (``any`` for a device of an unknown vendor); None unless a request or companion."""
    product: str | None = None
    """The product when the resource name itself names it."""
    what: str = ""


@dataclass(frozen=True)
class Vocabulary:
    vendors: Mapping[str, Vendor]
    any_resources: tuple[str, ...]
    any_companions: tuple[str, ...]
    not_accelerators: tuple[tuple[str, str], ...]
    not_accelerator_drivers: frozenset[str] = frozenset()
    not_accelerator_classes: frozenset[str] = frozenset()
    _classified: dict[str, Classified] = field(default_factory=dict, repr=False, compare=False)

    def classify(self, resource: str) -> Classified:
        """What asking for ``resource`` (a resources.limits/requests key) means, memoised."""
        found = self._classified.get(resource)
        if found is None:
            found = self._classified[resource] = self._classify(resource)
        return found

    def _classify(self, resource: str) -> Classified:
        for pattern, what in self.not_accelerators:
            if fnmatch.fnmatchcase(resource, pattern):
                return Classified(NOT_ACCELERATOR, what=what)
        for vendor in self.vendors.values():
            if any(fnmatch.fnmatchcase(resource, p) for p in vendor.companions):
                return Classified(COMPANION, vendor.id)
            if any(fnmatch.fnmatchcase(resource, p) for p in vendor.resources):
                return Classified(REQUEST, vendor.id, vendor.resource_product(resource))
        if any(fnmatch.fnmatchcase(resource, p) for p in self.any_companions):
            return Classified(COMPANION, ANY_VENDOR)
        if any(fnmatch.fnmatchcase(resource, p) for p in self.any_resources):
            return Classified(REQUEST, ANY_VENDOR)
        if "/" not in resource:
            return Classified(NOT_ACCELERATOR, what="a core resource name")
        return Classified(UNKNOWN)

    def label_products(self, key: str, value: str) -> list[tuple[str, str]]:
        """(vendor, product) that a node label pins, for every vendor whose vocabulary reads the key."""
        out = []
        for vendor in self.vendors.values():
            for rule in vendor.labels:
                if rule.key == key:
                    out.append((vendor.id, rule.product(value)))
            if vendor.instance_key == key:
                for pattern, product in vendor.instance_products:
                    if fnmatch.fnmatchcase(value, pattern):
                        out.append((vendor.id, product))
                        break
        return out

    def product_label_keys(self) -> frozenset[str]:
        return frozenset(r.key for v in self.vendors.values() for r in v.labels) | frozenset(
            v.instance_key for v in self.vendors.values() if v.instance_key)

    def dra_not_accelerator(self, name: str) -> bool:
        """A DRA driver or device class known to hand out devices that are not accelerators."""
        low = name.lower()
        return low in self.not_accelerator_classes or any(
            low == d or low.endswith("." + d) for d in self.not_accelerator_drivers)

    def dra_vendor(self, name: str) -> Vendor | None:
        """The vendor of a DRA driver or DeviceClass name (``gpu.nvidia.com``; a class named after the driver)."""
        low = name.lower()
        for vendor in self.vendors.values():
            if any(low == d or low.endswith("." + d) for d in vendor.dra_drivers):
                return vendor
        return None


# ------------------------------------------------------------------------------------------------ loading
def _strings(where: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise VocabularyError(f"{where}: expected a list of strings")
    return tuple(value)


def _mapping(where: str, value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise VocabularyError(f"{where}: expected a mapping")
    return {str(k): str(v) for k, v in value.items()}


def _check_keys(where: str, raw: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise VocabularyError(f"{where}: unknown keys {unknown}")


def _vendor(vendor_id: str, raw: Any) -> Vendor:
    where = f"vendors.{vendor_id}"
    if not isinstance(raw, dict):
        raise VocabularyError(f"{where}: expected a mapping")
    _check_keys(where, raw, {"name", "resources", "products", "companions", "labels", "dra", "instanceTypes", "source"})
    labels = []
    for i, item in enumerate(raw.get("labels") or []):
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            raise VocabularyError(f"{where}.labels[{i}]: expected a mapping with a key")
        _check_keys(f"{where}.labels[{i}]", item, {"key", "values", "prefix", "strip", "upper"})
        labels.append(LabelRule(item["key"], _mapping(f"{where}.labels[{i}].values", item.get("values")),
                                str(item.get("prefix") or ""),
                                _strings(f"{where}.labels[{i}].strip", item.get("strip")),
                                bool(item.get("upper", False))))
    dra = raw.get("dra") or {}
    _check_keys(f"{where}.dra", dra, {"drivers", "attributes", "prefix"})
    instances = raw.get("instanceTypes") or {}
    _check_keys(f"{where}.instanceTypes", instances, {"key", "products"})
    resources = _strings(f"{where}.resources", raw.get("resources"))
    if not resources:
        raise VocabularyError(f"{where}.resources: a vendor names the resources that request its devices")
    return Vendor(
        id=vendor_id,
        name=str(raw.get("name") or vendor_id),
        resources=resources,
        products=tuple(_mapping(f"{where}.products", raw.get("products")).items()),
        companions=_strings(f"{where}.companions", raw.get("companions")),
        labels=tuple(labels),
        dra_drivers=_strings(f"{where}.dra.drivers", dra.get("drivers")),
        dra_attributes=_strings(f"{where}.dra.attributes", dra.get("attributes")),
        dra_prefix=str(dra.get("prefix") or ""),
        instance_key=str(instances.get("key") or ""),
        instance_products=tuple(_mapping(f"{where}.instanceTypes.products", instances.get("products")).items()),
        source=str(raw.get("source") or ""),
    )


def build_vocabulary(raw: Any) -> Vocabulary:
    if not isinstance(raw, dict):
        raise VocabularyError("(top level): expected a mapping")
    _check_keys("(top level)", raw, {"version", "vendors", "anyVendor", "notAccelerators", "notAcceleratorDevices"})
    vendors = raw.get("vendors")
    if not isinstance(vendors, dict) or not vendors:
        raise VocabularyError("vendors: expected a mapping of vendor id -> vendor")
    any_vendor = raw.get("anyVendor") or {}
    _check_keys("anyVendor", any_vendor, {"resources", "companions", "source"})
    not_accelerators = []
    for i, item in enumerate(raw.get("notAccelerators") or []):
        if not isinstance(item, dict):
            raise VocabularyError(f"notAccelerators[{i}]: expected a mapping")
        _check_keys(f"notAccelerators[{i}]", item, {"resources", "what"})
        for pattern in _strings(f"notAccelerators[{i}].resources", item.get("resources")):
            not_accelerators.append((pattern, str(item.get("what") or "")))
    devices = raw.get("notAcceleratorDevices") or {}
    _check_keys("notAcceleratorDevices", devices, {"drivers", "classes", "source"})
    return Vocabulary(
        vendors={str(k): _vendor(str(k), v) for k, v in vendors.items()},
        any_resources=_strings("anyVendor.resources", any_vendor.get("resources")),
        any_companions=_strings("anyVendor.companions", any_vendor.get("companions")),
        not_accelerators=tuple(not_accelerators),
        not_accelerator_drivers=frozenset(_strings("notAcceleratorDevices.drivers", devices.get("drivers"))),
        not_accelerator_classes=frozenset(_strings("notAcceleratorDevices.classes", devices.get("classes"))),
    )


@functools.cache
def default_vocabulary() -> Vocabulary:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with VOCABULARY_FILE.open(encoding="utf-8") as handle:
        return build_vocabulary(yaml.load(handle, Loader=loader))  # noqa: S506 - a safe loader


def vendor_ids() -> frozenset[str]:
    return frozenset(default_vocabulary().vendors)
