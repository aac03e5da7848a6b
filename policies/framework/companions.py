"""The pack's four companion policies, after every rule: what they are, once, for both ways into the rules.

An exception inside ANY rule must block a preview, but CrossGuard reports a policy's violations at that policy's
own level, so an advisory rule cannot raise a mandatory violation: the failure companions report it (mandatory)
in the same RPC (``resource-rule-failures`` in the resource's ``Analyze``, ``rule-failures`` in
``AnalyzeStack``). Findings an exemption suppressed are reported, advisory, by the exemption companions, so every
exemption in use is visible. ``guard.py`` makes them CrossGuard policies; ``runner.py`` reports them itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from sovereign.analyzer.model import (
    RESOURCE_RULE_EXEMPTIONS,
    RESOURCE_RULE_FAILURES,
    RULE_EXEMPTIONS,
    RULE_FAILURES,
)


@dataclass(frozen=True)
class Companion:
    name: str
    stack: bool
    """A stack policy (``AnalyzeStack``); else a resource policy (``Analyze``)."""
    reports: str
    """``failures`` or ``suppressed``."""
    description: str
    enforcement: str
    severity: str
    remediation: str


_FAILURES = ("mandatory", "high", "fix the input the rule failed on, or report the rule defect")
_SUPPRESSED = ("advisory", "low", "review the exemption before it expires; renew it only after a new review")

COMPANION_POLICIES = (
    Companion(RESOURCE_RULE_FAILURES, False, "failures",
              "An exception inside any resource rule is a mandatory violation of the resource naming the rule "
              "(advisory rules included: their own reports cannot block a preview).", *_FAILURES),
    Companion(RULE_FAILURES, True, "failures",
              "An exception inside any stack rule is a mandatory violation naming the rule (advisory rules "
              "included: their own reports cannot block a preview).", *_FAILURES),
    Companion(RESOURCE_RULE_EXEMPTIONS, False, "suppressed",
              "Findings of resource rules that a reviewed, unexpired exemption covers: suppressed, and reported "
              "here (advisory) so that every exemption in use is visible.", *_SUPPRESSED),
    Companion(RULE_EXEMPTIONS, True, "suppressed",
              "Findings of stack rules that a reviewed, unexpired exemption covers: suppressed, and reported here "
              "(advisory) so that every exemption in use is visible.", *_SUPPRESSED),
)
"""In pack order (they come after every rule)."""
COMPANIONS = tuple(c.name for c in COMPANION_POLICIES)
