"""Workloads are pinned to the jurisdiction's regions by required node affinity.

Without it the scheduler may place pods (and the data they process) on any node the cluster can reach, e.g.
a node pool in another region or a burst pool in another country.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from policies.framework.context import RuleContext
from policies.framework.k8s import K8sObject, required_node_terms, term_values
from policies.framework.rule import EXCLUDED_NAMESPACES_SCHEMA, ResourceRule
from policies.framework.values import as_map, text
from sovereign.labels import REGION


def check(ctx: RuleContext, obj: K8sObject) -> Iterator[str]:
    specs = obj.pod_specs()  # any kind with a pod template (RT-8), read before the context is needed
    if not specs or not ctx.governed(obj.namespace):
        return
    for path, spec in specs:
        yield from _check_pod(ctx, obj, path, spec)


def _check_pod(ctx: RuleContext, obj: K8sObject, path: str, spec: Mapping[str, Any]) -> Iterator[str]:
    allowed = ctx.stack.allowed_regions()
    jur = ctx.jurisdiction.id
    shown = ", ".join(allowed) or "(none for this provider)"
    pinned = text(as_map(spec.get("nodeSelector")).get(REGION))
    if pinned and pinned not in allowed:
        yield (f"{obj.ref} would run in region {pinned}, outside {jur}: {path}.nodeSelector {REGION}={pinned}; "
               f"allowed regions: {shown}")
    terms = required_node_terms(spec)
    if not terms:
        if pinned in allowed and pinned:
            return  # a nodeSelector on an allowed region pins every pod as firmly as required affinity
        yield (f"{obj.ref} can be scheduled outside {jur}: {path}.affinity.nodeAffinity."
               f"requiredDuringSchedulingIgnoredDuringExecution has no node selector terms, so pods may land on "
               f"nodes in any region")
        return
    for i, term in enumerate(terms):
        exprs = term_values(term, REGION)
        ins = [values for op, values in exprs if op == "In"]
        where = f"{path}.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[{i}]"
        if not ins:
            if pinned in allowed and pinned:
                continue
            yield (f"{obj.ref} can be scheduled outside {jur}: {where} does not require {REGION} In "
                   f"[{shown}] (terms are ORed, so every term must pin the region)")
            continue
        # Several In expressions on one key are ANDed: the effective set is their intersection.
        effective = set(ins[0]).intersection(*ins[1:]) if len(ins) > 1 else set(ins[0])
        foreign = sorted(r for r in effective if r not in allowed)
        if foreign:
            yield (f"{obj.ref} may run in {', '.join(foreign)}, outside {jur}: {where} {REGION} In "
                   f"{sorted(effective)}; allowed regions: {shown}")
        elif not effective:
            yield f"{obj.ref}: {where} requires an empty region set, so it cannot be placed in {jur}"


RULE = ResourceRule(
    id="workload-region-affinity",
    protects="Workloads run only on nodes in the jurisdiction's regions (required node affinity on "
    "topology.kubernetes.io/region).",
    remediation="add spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution with, in every "
    "nodeSelectorTerm, a matchExpression topology.kubernetes.io/region In <the stack's regions>",
    severity="critical",
    check=check,
    config={"excludedNamespaces": EXCLUDED_NAMESPACES_SCHEMA},
)
