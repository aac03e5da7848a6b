"""Closed world: every object gets a verdict, and an object no rule can judge fails the check.

A residency checker that passes what it does not understand gives false assurance. The registry of kinds
(``sovereign/kinds/registry``) says, for every kind the checker knows, which rules judge it or why it is inert;
anything else (a kind it does not list, a version of a known kind it has not read, a server-side patch whose
merged object is unknown, a Helm v3 release whose objects no policy sees, a resource of another provider) is
*unjudged*, and this rule reports it as a mandatory violation. The organisation may accept an unjudged object
explicitly: a carve-out is an exemption of this rule (kind or resource, reason, approver, expiry;
``sovereign/core/exemptions.py``), listed in every report; an expired carve-out accepts nothing.

Whatever an unjudged object carries that has the shape of pods is still judged by the pod rules
(``sovereign/kinds/shapes.py``), so a carve-out never hides a foreign image or region pin.
"""

from __future__ import annotations

from collections.abc import Iterator

from policies.framework.context import RuleContext
from policies.framework.k8s import K8sObject
from policies.framework.rule import ResourceRule
from policies.framework.values import UnknownValueError
from sovereign.kinds.verdict import UNJUDGED, verdict_of


def check(ctx: RuleContext, obj: K8sObject) -> Iterator[str]:
    verdict = verdict_of(obj.type_token, obj.props, skip=(UnknownValueError,), has_provider=obj.has_provider)
    if verdict.status != UNJUDGED:
        return
    yield (f"{obj.ref} is unjudged: {verdict.reason}. Nothing shows that it keeps data and compute in "
           f"{ctx.jurisdiction.id}, so it is not accepted. Fix: use a kind the checker judges (`sovereign kinds` "
           f"lists them), add the kind to the registry of kinds with the rules that judge it, or carve it "
           f"out: an exemption of unjudged-object in the policy pack config (kind or name, reason, approver, "
           f"expires)")


RULE = ResourceRule(
    id="unjudged-object",
    protects="Closed world: every object is judged by named rules or inert for a stated reason; an object no rule "
    "can judge (a kind, version or resource type the checker does not read) is accepted only by an explicit, "
    "unexpired carve-out.",
    remediation="use a kind the checker judges, add the kind to the registry of kinds, or carve it out with an "
    "exemption of unjudged-object (kind or name, reason, approver, expires) in the policy pack config",
    severity="high",
    check=check,
    every_resource=True,
)
