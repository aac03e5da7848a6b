"""Accelerators a workload requests or selects must be allowed in the jurisdiction (export-control rules), for every
vendor.

What a pod asks for is read through the accelerator vocabulary (``sovereign/kinds/accelerators.yaml``): the
extended resources of every vendor's device plugin (NVIDIA whole GPUs, MIG slices and shared replicas, AMD, Intel
GPUs and Gaudi, AWS Neuron, Google TPU, Huawei Ascend, and Chinese vendors), the node labels that name the product
(feature discovery and the clouds' labels), and the DRA drivers and attributes. The decision is the catalog's: its
accelerator rules name products per vendor, dated and sourced, and every message cites the rule, its date and its
source. A request whose product cannot be determined (no product pinned by nodeSelector or by every required
node-affinity term, no product in the resource name) is a violation where the jurisdiction's default is deny, unless
the catalog allows every product of that vendor. An extended resource the vocabulary does not know may be an
accelerator: it is judged as one whose product cannot be determined.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from policies.framework.context import RuleContext
from policies.framework.k8s import K8sObject, PodShape, required_node_terms, term_values
from policies.framework.rule import EXCLUDED_NAMESPACES_SCHEMA, ResourceRule
from policies.framework.values import as_map, text
from policies.rules.accelerator_allowed.dra import DRA_GROUP, DRA_KINDS, device_requests, read_pins
from sovereign.kinds.accelerators import ANY_VENDOR, REQUEST, UNKNOWN, Vendor, default_vocabulary


def _amount(value: object) -> float:
    raw = text(value)
    try:
        return float(raw) if raw else 0.0
    except ValueError:
        return 1.0  # an unparsable quantity is treated as a request (fail closed)


def _verdict(ctx: RuleContext, vendor: str, product: str) -> tuple[bool, str]:
    acc = ctx.jurisdiction.accelerators
    rule = acc.rule_for(product, vendor)
    if rule is not None:
        prov = rule.provenance
        why = (f"catalog rule {rule.vendor} {rule.product!r} ({rule.decision.value}, as of {prov.as_of}, "
               f"source: {prov.source})")
        if rule.note:
            why += f"; {rule.note}"
        return rule.decision.value == "allow", why
    return _default(ctx, "no catalog rule names it")


def _default(ctx: RuleContext, lead: str) -> tuple[bool, str]:
    acc = ctx.jurisdiction.accelerators
    prov = acc.default_provenance
    return acc.default.value == "allow", (f"{lead}; the {ctx.jurisdiction.id} default is {acc.default.value} "
                                          f"(as of {prov.as_of}, source: {prov.source})")


def _unpinned(ctx: RuleContext, vendor: str) -> tuple[bool, str]:
    """The decision for a request of ``vendor`` whose product is unknown: a rule covering every product of the
    vendor (product ``*``) decides, else the default."""
    acc = ctx.jurisdiction.accelerators
    if vendor != ANY_VENDOR:
        every = next((r for r in acc.rules if r.vendor == vendor and r.product == "*"), None)
        if every is not None:
            return every.decision.value == "allow", (f"catalog rule {vendor} '*' ({every.decision.value}, as of "
                                                     f"{every.provenance.as_of}, source: {every.provenance.source})")
    return _default(ctx, "the product cannot be determined")


def _allowed_names(ctx: RuleContext) -> str:
    products = ctx.jurisdiction.accelerators.allowed_products(None)
    return ", ".join(products) or "(none)"


@dataclass
class _Pod:
    requests: list[tuple[str, str, str, str | None]] = field(default_factory=list)
    """(container path, resource, vendor or ``any``/``unknown``, product named by the resource)."""
    selected: set[tuple[str, str]] = field(default_factory=set)
    """(vendor, product) pinned by any product label."""
    pinned: set[str] = field(default_factory=set)
    """Vendors whose product every placement of the pod pins (nodeSelector, or an In in every required term)."""


def _read_pod(containers: Iterable[tuple[str, Mapping[str, Any]]], selector: Mapping[str, Any],
              affinity: Any) -> _Pod:
    vocab = default_vocabulary()
    pod = _Pod()
    for where, c in containers:
        res = as_map(c.get("resources"))
        for part in ("limits", "requests"):
            values = as_map(res.get(part))
            for key in values:
                found = vocab.classify(key)
                if found.kind not in (REQUEST, UNKNOWN) or _amount(values[key]) <= 0:
                    continue
                vendor = found.vendor or UNKNOWN
                entry = (where, key, vendor, found.product)
                if entry not in pod.requests:
                    pod.requests.append(entry)
    for key in selector:
        for vendor, product in vocab.label_products(key, text(selector[key])):
            pod.selected.add((vendor, product))
            pod.pinned.add(vendor)
    terms = required_node_terms(affinity) or []
    per_term: list[set[str]] = []
    label_keys = vocab.product_label_keys()
    for term in terms:
        vendors_here: set[str] = set()
        for key in label_keys:
            for op, wanted in term_values(term, key):
                if op != "In":
                    continue
                for value in wanted:
                    for vendor, product in vocab.label_products(key, value):
                        pod.selected.add((vendor, product))
                        vendors_here.add(vendor)
        per_term.append(vendors_here)
    if per_term:
        pod.pinned |= set.intersection(*per_term)
    return pod


def _check_shape(ctx: RuleContext, obj: K8sObject, shape: PodShape) -> Iterator[str]:
    yield from _check_pod(ctx, obj, _read_pod(shape.containers(), as_map(shape.get("nodeSelector")[1]),
                                              shape.get("affinity")[1]))


def _check_pod(ctx: RuleContext, obj: K8sObject, pod: _Pod) -> Iterator[str]:
    jur = ctx.jurisdiction.id
    names = default_vocabulary().vendors
    for vendor, product in sorted(pod.selected):
        ok, why = _verdict(ctx, vendor, product)
        if not ok:
            yield (f"{obj.ref} selects {names[vendor].name} accelerator {product}, which is not allowed in {jur} "
                   f"({why}); allowed products: {_allowed_names(ctx)}")
    for where, resource, vendor, named in pod.requests:
        if named is not None:
            ok, why = _verdict(ctx, vendor, named)
            if not ok:
                yield (f"{obj.ref} requests {resource} ({named}) in {where}, which is not allowed in {jur} ({why}); "
                       f"allowed products: {_allowed_names(ctx)}")
            continue
        if vendor == UNKNOWN:
            ok, why = _default(ctx, "the accelerator vocabulary does not know this resource")
            if not ok:
                yield (f"{obj.ref} requests extended resource {resource} in {where}, which may be an accelerator of "
                       f"an unknown product ({why}). Fix: use a resource of a known device plugin and pin the product, "
                       f"or add the resource to the accelerator vocabulary (sovereign/kinds/accelerators.yaml)")
            continue
        if vendor in pod.pinned or (vendor == ANY_VENDOR and pod.pinned):
            continue  # the pinned products were judged above
        ok, why = _unpinned(ctx, vendor)
        if not ok:
            label = _label_hint(names.get(vendor))
            yield (f"{obj.ref} requests {resource} in {where} without pinning a product: the scheduler may place "
                   f"it on any model, including products not allowed in {jur} ({why}); pin {label} (nodeSelector or "
                   f"required node affinity In) to one of: {_allowed_names(ctx)}")


def _label_hint(vendor: Vendor | None) -> str:
    if vendor is None or not (vendor.labels or vendor.instance_key):
        return "a product label of the device's vendor"
    keys = [r.key for r in vendor.labels] + ([vendor.instance_key] if vendor.instance_key else [])
    return f"the product label {keys[0]}"


def _dra(ctx: RuleContext, obj: K8sObject) -> Iterator[str]:
    """Claims, claim templates and DeviceClasses: the vendor from the class or the selectors, the product from the
    CEL selectors (RT-13, see dra.py)."""
    if obj.namespace and not ctx.governed(obj.namespace):
        return
    jur = ctx.jurisdiction.id
    vocab = default_vocabulary()
    attributes = frozenset(a for v in vocab.vendors.values() for a in v.dra_attributes)
    for req in device_requests(obj.kind, obj.spec):
        pins = read_pins(req.expressions, attributes)
        if (req.device_class and vocab.dra_not_accelerator(req.device_class)) or (
                pins.drivers and all(vocab.dra_not_accelerator(d) for d in pins.drivers)):
            continue  # network interfaces, NVLink channels: not accelerators
        vendor = vocab.dra_vendor(req.device_class) if req.device_class else None
        for driver in sorted(pins.drivers):
            vendor = vendor or vocab.dra_vendor(driver)
        cls = f"deviceClassName {req.device_class}" if req.device_class else "its selectors"
        if pins.undeterminable:
            ok, why = _default(ctx, "the product cannot be determined")
            if not ok:
                yield (f"{obj.ref} requests devices through DRA ({req.where}, {cls}) but {pins.undeterminable}, so "
                       f"the product cannot be determined and may be one not allowed in {jur} ({why}); name it with "
                       f"device.attributes[...].productName (or model) == '<product>'")
            continue
        if pins.products is not None and vendor is not None:
            for raw in sorted(pins.products):
                product = vendor.dra_product(raw)
                ok, why = _verdict(ctx, vendor.id, product)
                if not ok:
                    yield (f"{obj.ref} requests {vendor.name} accelerator {raw} ({product}) through DRA "
                           f"({req.where}, {cls}), which is not allowed in {jur} ({why}); allowed products: "
                           f"{_allowed_names(ctx)}")
            continue
        if obj.kind == "DeviceClass":
            continue  # a class that pins nothing: the claims that use it must pin the product themselves
        if vendor is None:
            ok, why = _default(ctx, f"the device class {req.device_class or '(none)'} is not one the accelerator "
                                    f"vocabulary knows")
            if not ok:
                yield (f"{obj.ref} requests devices through DRA ({req.where}, {cls}) of a class the vocabulary "
                       f"does not know, so they may be accelerators of a product not allowed in {jur} ({why}); "
                       f"name the product in the claim's CEL selector "
                       f"(device.attributes['<driver>'].productName == '<product>')")
            continue
        ok, why = _unpinned(ctx, vendor.id)
        if not ok:
            attribute = vendor.dra_attributes[0] if vendor.dra_attributes else "productName"
            driver = vendor.dra_drivers[0] if vendor.dra_drivers else req.device_class
            yield (f"{obj.ref} requests {vendor.name} devices through DRA ({req.where}, {cls}) without a CEL "
                   f"selector on {attribute}: any model of the class may be allocated, including products not allowed "
                   f"in {jur} ({why}); add device.attributes['{driver}'].{attribute} == '<product>' (allowed: "
                   f"{_allowed_names(ctx)})")


def check(ctx: RuleContext, obj: K8sObject) -> Iterator[str]:
    if obj.group == DRA_GROUP and obj.kind in DRA_KINDS:
        yield from _dra(ctx, obj)
        return
    shapes = obj.pod_shapes()  # read before the context is needed
    loose = obj.loose() if not shapes else None
    if not (shapes or loose) or not ctx.governed(obj.namespace):
        return
    for shape in shapes:
        yield from _check_shape(ctx, obj, shape)
    if loose:  # containers found by shape in an unknown kind, with the node selectors found beside them
        selectors = [m for _, key, m in loose.placements if key == "nodeSelector"]
        yield from _check_pod(ctx, obj, _read_pod(loose.containers, selectors[0] if len(selectors) == 1 else {},
                                                  None))


RULE = ResourceRule(
    id="accelerator-allowed",
    protects="Accelerators of every vendor (NVIDIA, AMD, Intel, AWS, Google, Huawei and others) requested or selected "
    "by workloads, through device plugins, node labels or Dynamic Resource Allocation, are allowed in the jurisdiction "
    "by the catalog's dated rules; a request whose product cannot be determined fails closed.",
    remediation="pin the product with the vendor's product label (nvidia.com/gpu.product, amd.com/gpu.product-name, "
    "node.kubernetes.io/npu.chip.name...) in nodeSelector or required node affinity, or the DRA claim's CEL selector "
    "on the product attribute, to a product the catalog allows for the jurisdiction",
    severity="high",
    check=check,
    config={"excludedNamespaces": EXCLUDED_NAMESPACES_SCHEMA},
)
