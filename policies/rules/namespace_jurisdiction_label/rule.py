"""Governed namespaces carry the jurisdiction label of the stack that creates them.

The label is what egress policies, the connectivity proof and audits use to decide which jurisdiction a
namespace's data belongs to; a missing or different value silently moves the namespace out of scope.
"""

from __future__ import annotations

from collections.abc import Iterator

from policies.framework.context import RuleContext
from policies.framework.k8s import K8sObject
from policies.framework.rule import EXCLUDED_NAMESPACES_SCHEMA, ResourceRule
from policies.framework.values import text
from sovereign.core.labels import JURISDICTION


def check(ctx: RuleContext, obj: K8sObject) -> Iterator[str]:
    if obj.group != "" or not ctx.governed(obj.name):
        return
    jur = ctx.jurisdiction.id
    value = text(obj.labels().get(JURISDICTION))
    if not value:
        yield (f"Namespace {obj.name} has no {JURISDICTION} label, so nothing ties its data to {jur}: policies "
               f"and the connectivity proof cannot attribute it; add label {JURISDICTION}: {jur}")
    elif value != jur:
        yield (f"Namespace {obj.name} is labelled {JURISDICTION}={value} but stack {ctx.stack.stack or '?'} "
               f"governs jurisdiction {jur}: its data would be attributed to {value}; set the label to {jur}")


RULE = ResourceRule(
    id="namespace-jurisdiction-label",
    protects="Every governed namespace is labelled with the stack's jurisdiction.",
    remediation="set metadata.labels['sovereign-clusters.dev/jurisdiction'] to the stack's jurisdiction id",
    severity="high",
    check=check,
    config={"excludedNamespaces": EXCLUDED_NAMESPACES_SCHEMA},
)
