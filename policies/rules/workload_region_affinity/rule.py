"""Workloads are pinned to the jurisdiction's regions by required node affinity, and nothing places pods abroad.

Without a pin the scheduler may place pods (and the data they process) on any node the cluster can reach, e.g.
a node pool in another region or a burst pool in another country. Pods are read wherever their kind keeps them
(the registry of kinds: built-in workloads, operators' pod templates, partial pod specs with renamed fields).

Also judged: a Node labelled with a region outside the jurisdiction (the cluster itself reaches abroad), a
RuntimeClass whose ``scheduling.nodeSelector`` pins a foreign region (merged into every pod that uses it), and
node selectors or node affinity found by shape in kinds the registry does not know (a foreign pin is reported;
a missing pin there is the unjudged object's problem). A region id that is ambiguous across providers fails
closed unless the provider is known (``StackView.region_verdict``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from policies.framework.context import RuleContext
from policies.framework.k8s import K8sObject, PodShape, required_node_terms, term_values
from policies.framework.rule import EXCLUDED_NAMESPACES_SCHEMA, ResourceRule
from policies.framework.values import as_map, text
from sovereign.core.labels import REGION, ZONE


def check(ctx: RuleContext, obj: K8sObject) -> Iterator[str]:
    if obj.group == "" and obj.kind == "Node":
        yield from _node(ctx, obj)
        return
    if obj.group == "node.k8s.io" and obj.kind == "RuntimeClass":
        selector = as_map(as_map(obj.props.get("scheduling")).get("nodeSelector"))
        yield from _foreign_pins(ctx, obj, "scheduling.nodeSelector", selector, None)
        return
    shapes = obj.pod_shapes()  # read before the context is needed
    loose = obj.loose() if not shapes else None
    if not (shapes or loose) or not ctx.governed(obj.namespace):
        return
    for shape in shapes:
        if shape.location.placement:
            yield from _check_pod(ctx, obj, shape)
    for where, key, mapping in loose.placements if loose else ():
        if key == "nodeSelector":
            yield from _foreign_pins(ctx, obj, where, mapping, None)
        else:
            yield from _foreign_pins(ctx, obj, where, {}, required_node_terms({"nodeAffinity": mapping}))


def _node(ctx: RuleContext, obj: K8sObject) -> Iterator[str]:
    region = text(obj.labels().get(REGION))
    jur = ctx.jurisdiction.id
    if not region:
        yield (f"{obj.ref} has no {REGION} label, so it cannot be shown to be in {jur}: pods scheduled on it may "
               f"process data anywhere")
        return
    inside, where = ctx.stack.region_verdict(region)
    if inside is None:
        yield f"{obj.ref} cannot be placed: {where}"
    elif not inside:
        yield (f"{obj.ref} is a node in {where}, outside {jur}: every pod the scheduler puts there runs, and "
               f"processes its data, abroad")
    zone = text(obj.labels().get(ZONE))
    zones = ctx.stack.allowed_zones()
    if inside and zone and zones and zone not in zones:
        yield f"{obj.ref} is labelled with zone {zone}, which is not a zone of {jur} ({', '.join(zones)})"


def _judged(ctx: RuleContext, regions: list[str]) -> tuple[list[str], list[str]]:
    """(foreign descriptions, ambiguity explanations) of the regions a pin allows."""
    foreign, ambiguous = [], []
    for region in regions:
        inside, where = ctx.stack.region_verdict(region)
        if inside is None:
            ambiguous.append(where)
        elif not inside:
            foreign.append(where)
    return foreign, ambiguous


def _foreign_pins(ctx: RuleContext, obj: K8sObject, where: str, selector: Mapping[str, Any],
                  terms: list[Mapping[str, Any]] | None) -> Iterator[str]:
    """Pins found outside a pod template (shape, RuntimeClass): only a pin abroad is reported."""
    jur = ctx.jurisdiction.id
    pinned = text(as_map(selector).get(REGION))
    if pinned:
        foreign, ambiguous = _judged(ctx, [pinned])
        for place in foreign:
            yield f"{obj.ref} places pods in {place}, outside {jur}: {where} {REGION}={pinned}"
        for why in ambiguous:
            yield f"{obj.ref} places pods by {where} {REGION}={pinned}, which cannot be placed: {why}"
    for i, term in enumerate(terms or []):
        for op, values in term_values(term, REGION):
            if op != "In":
                continue
            foreign, ambiguous = _judged(ctx, values)
            if foreign:
                yield (f"{obj.ref} may place pods in {'; '.join(foreign)}, outside {jur}: {where}."
                       f"requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[{i}] {REGION} In {values}")
            for why in ambiguous:
                yield f"{obj.ref} {where}.nodeSelectorTerms[{i}] cannot be placed: {why}"


def _check_pod(ctx: RuleContext, obj: K8sObject, shape: PodShape) -> Iterator[str]:
    allowed = ctx.stack.allowed_regions()
    jur = ctx.jurisdiction.id
    shown = ", ".join(allowed) or "(none for this provider)"
    selector_path, selector = shape.get("nodeSelector")
    affinity_path, affinity = shape.get("affinity")
    pinned = text(as_map(selector).get(REGION))
    # A nodeSelector region pins every pod as firmly as required affinity (both must hold): once it is judged
    # (inside, foreign or ambiguous), affinity terms that do not name the region add no second finding.
    if pinned:
        inside, where = ctx.stack.region_verdict(pinned)
        if inside is None:
            yield f"{obj.ref} pins {selector_path} {REGION}={pinned}, which cannot be placed: {where}"
        elif not inside:
            yield (f"{obj.ref} would run in {where}, outside {jur}: {selector_path} {REGION}={pinned}; allowed "
                   f"regions: {shown}")
    terms = required_node_terms(affinity)
    required = f"{affinity_path}.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"
    if not terms:
        if pinned:
            return
        yield (f"{obj.ref} can be scheduled outside {jur}: {required} has no node selector terms, so pods may land "
               f"on nodes in any region")
        return
    for i, term in enumerate(terms):
        exprs = term_values(term, REGION)
        ins = [values for op, values in exprs if op == "In"]
        where = f"{required}.nodeSelectorTerms[{i}]"
        if not ins:
            if pinned:
                continue
            yield (f"{obj.ref} can be scheduled outside {jur}: {where} does not require {REGION} In "
                   f"[{shown}] (terms are ORed, so every term must pin the region)")
            continue
        # Several In expressions on one key are ANDed: the effective set is their intersection.
        effective = set(ins[0]).intersection(*ins[1:]) if len(ins) > 1 else set(ins[0])
        foreign, ambiguous = _judged(ctx, sorted(effective))
        if foreign:
            yield (f"{obj.ref} may run in {'; '.join(foreign)}, outside {jur}: {where} {REGION} In "
                   f"{sorted(effective)}; allowed regions: {shown}")
        for why in ambiguous:
            yield f"{obj.ref} {where} {REGION} In {sorted(effective)} cannot be placed: {why}"
        if not effective:
            yield f"{obj.ref}: {where} requires an empty region set, so it cannot be placed in {jur}"


RULE = ResourceRule(
    id="workload-region-affinity",
    protects="Workloads of every kind (built-in, operators' pod templates, pod specs found by shape) run only on "
    "nodes in the jurisdiction's regions; no Node, RuntimeClass or node selector places pods abroad.",
    remediation="add spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution with, in every "
    "nodeSelectorTerm, a matchExpression topology.kubernetes.io/region In <the stack's regions> (or the field the "
    "operator's kind uses for it)",
    severity="critical",
    check=check,
    config={"excludedNamespaces": EXCLUDED_NAMESPACES_SCHEMA},
)
