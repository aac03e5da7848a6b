"""GPU products a workload requests or selects must be allowed in the jurisdiction (export-control rules).

The catalog's accelerator policy is dated and sourced (rules on specific chips changed within weeks in 2025),
so every message cites the catalog rule, its as-of date and source. A GPU request with no product pinned is a
violation: the scheduler could then place it on any GPU node, including a denied product.
"""

from __future__ import annotations

from collections.abc import Iterator

from policies.framework.context import RuleContext
from policies.framework.k8s import K8sObject, PodShape, required_node_terms, term_values
from policies.framework.rule import EXCLUDED_NAMESPACES_SCHEMA, ResourceRule
from policies.framework.values import as_map, text
from policies.rules.accelerator_allowed.dra import (
    DRA_GROUP,
    DRA_KINDS,
    catalog_product,
    device_requests,
    is_gpu_class,
    pinned_products,
)
from sovereign.labels import GPU_PRODUCT, GPU_RESOURCE


def _gpu_count(value: object) -> float:
    raw = text(value)
    try:
        return float(raw) if raw else 0.0
    except ValueError:
        return 1.0  # an unparsable quantity is treated as a request (fail closed)


def _is_gpu_resource(key: str) -> bool:
    """``nvidia.com/gpu`` and MIG slices (``nvidia.com/mig-1g.10gb``): both run on the node's GPU product."""
    return key == GPU_RESOURCE or key.startswith(GPU_RESOURCE.split("/", 1)[0] + "/mig-")


def _verdict(ctx: RuleContext, product: str) -> tuple[bool, str]:
    acc = ctx.jurisdiction.accelerators
    rule = acc.rule_for(product)
    if rule is not None:
        prov = rule.provenance
        why = f"catalog rule {rule.product!r} ({rule.decision.value}, as of {prov.as_of}, source: {prov.source})"
        if rule.note:
            why += f"; {rule.note}"
        return rule.decision.value == "allow", why
    prov = acc.default_provenance
    return acc.default.value == "allow", (
        f"no catalog rule names it; the {ctx.jurisdiction.id} default is {acc.default.value} "
        f"(as of {prov.as_of}, source: {prov.source})"
    )


def _dra(ctx: RuleContext, obj: K8sObject) -> Iterator[str]:
    """Claims, claim templates and DeviceClasses: the product named in CEL selectors (RT-13, see dra.py)."""
    if obj.namespace and not ctx.governed(obj.namespace):
        return
    jur = ctx.jurisdiction.id
    allowed_names = ", ".join(ctx.jurisdiction.accelerators.allowed_products()) or "(none)"
    for req in device_requests(obj.kind, obj.spec):
        products, undeterminable = pinned_products(req.expressions)
        cls = f"deviceClassName {req.device_class}" if req.device_class else "its selectors"
        if undeterminable:
            yield (f"{obj.ref} requests devices through DRA ({req.where}, {cls}) but {undeterminable}, so the GPU "
                   f"product cannot be determined and may be one denied in {jur}; name it with "
                   f"device.attributes[...].productName == '<product>' (allowed: {allowed_names})")
            continue
        if products is None:
            if obj.kind != "DeviceClass" and is_gpu_class(req.device_class):
                yield (f"{obj.ref} requests GPUs through DRA ({req.where}, {cls}) without a CEL selector on "
                       f"productName: any GPU model of the class may be allocated, including products denied in "
                       f"{jur}; add device.attributes['{req.device_class}'].productName == '<product>' "
                       f"(allowed: {allowed_names})")
            continue
        for product in sorted(products):
            ok, why = _verdict(ctx, catalog_product(product))
            if not ok:
                yield (f"{obj.ref} requests GPU product {product} ({catalog_product(product)}) through DRA "
                       f"({req.where}, {cls}), which is not allowed in {jur} ({why}); allowed products: "
                       f"{allowed_names}")


def check(ctx: RuleContext, obj: K8sObject) -> Iterator[str]:
    if obj.group == DRA_GROUP and obj.kind in DRA_KINDS:
        yield from _dra(ctx, obj)
        return
    shapes = obj.pod_shapes()  # read before the context is needed
    if not shapes or not ctx.governed(obj.namespace):
        return
    for shape in shapes:
        yield from _check_pod(ctx, obj, shape)


def _check_pod(ctx: RuleContext, obj: K8sObject, shape: PodShape) -> Iterator[str]:
    jur = ctx.jurisdiction.id
    requested = []
    for where, c in shape.containers():
        res = as_map(c.get("resources"))
        amounts = [_gpu_count(as_map(res.get(part)).get(key))
                   for part in ("limits", "requests") for key in as_map(res.get(part)) if _is_gpu_resource(key)]
        if amounts and max(amounts) > 0:
            requested.append(where)
    selected: set[str] = set()
    pinned_everywhere = True
    node_selector_product = text(as_map(shape.get("nodeSelector")[1]).get(GPU_PRODUCT))
    if node_selector_product:
        selected.add(node_selector_product)
    terms = required_node_terms(shape.get("affinity")[1]) or []
    for term in terms:
        ins = [values for op, values in term_values(term, GPU_PRODUCT) if op == "In"]
        for values in ins:
            selected.update(values)
        if not ins:
            pinned_everywhere = False
    pinned = bool(node_selector_product) or (bool(terms) and pinned_everywhere)
    allowed_names = ", ".join(ctx.jurisdiction.accelerators.allowed_products()) or "(none)"
    for product in sorted(selected):
        ok, why = _verdict(ctx, product)
        if not ok:
            yield (f"{obj.ref} selects GPU product {product}, which is not allowed in {jur} ({why}); allowed "
                   f"products: {allowed_names}")
    if requested and not pinned:
        yield (f"{obj.ref} requests {GPU_RESOURCE} in {', '.join(requested)} without pinning a GPU product: "
               f"the scheduler may place it on any GPU model, including products denied in {jur}; pin "
               f"nodeSelector {GPU_PRODUCT} (or required node affinity In) to one of: {allowed_names}")


RULE = ResourceRule(
    id="accelerator-allowed",
    protects="Accelerators (GPU products) requested or selected by workloads, or claimed through Dynamic "
    "Resource Allocation, are allowed in the jurisdiction by the dated catalog rules.",
    remediation="pin nodeSelector nvidia.com/gpu.product (or required node affinity on it), or the DRA claim's "
    "CEL selector on productName, to a product the catalog allows for the jurisdiction",
    severity="high",
    check=check,
    config={"excludedNamespaces": EXCLUDED_NAMESPACES_SCHEMA},
)
