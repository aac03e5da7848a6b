"""A rule is a unit: id, what it protects, the check, remediation text, severity, config schema, samples.

Rules are plain Python over a :class:`K8sObject` (resource rules) or all objects of the stack (stack rules);
the adapter in ``guard.py`` turns them into CrossGuard policies. Checks yield :class:`Finding` messages that say
what would cross which border, from which resource, and how to fix it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from policies.framework.context import RuleContext
from policies.framework.k8s import K8sObject
from sovereign.core.exemptions import EXEMPTIONS_KEY, EXEMPTIONS_SCHEMA
from sovereign.kinds.registry import default_registry

SEVERITIES = ("low", "medium", "high", "critical")
LEVELS = ("advisory", "mandatory")

AT_SCHEMA: dict[str, Any] = {
    "type": "string",
    "description": "Evaluation time (ISO 8601 date or date-time); default: $SOVEREIGN_AT, else now.",
    "pattern": r"^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$",
}
EXCLUDED_NAMESPACES_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {"type": "string"},
    "description": "Namespaces exempt from this rule (none by default: kube-system is governed too).",
}


@dataclass(frozen=True)
class Finding:
    message: str
    urn: str | None = None
    """Stack rules: the resource the finding is about (None: the stack as a whole)."""


@dataclass(frozen=True)
class Rule:
    id: str
    """kebab-case; the CrossGuard policy name users see and configure."""
    protects: str
    """What crosses no border while this rule holds (the policy description)."""
    remediation: str
    severity: str
    config: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """JSON-schema properties of the rule's policy config."""
    enforcement: str = "mandatory"

    def config_schema(self) -> dict[str, Mapping[str, Any]]:
        """The rule's own config properties, plus what every rule takes: ``exemptions`` (sovereign.core.exemptions) and
        ``at`` (the evaluation time, against which exemptions expire; ``sovereign check --at`` sets it)."""
        return {**self.config, "at": self.config.get("at", AT_SCHEMA), EXEMPTIONS_KEY: EXEMPTIONS_SCHEMA}

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"rule {self.id}: severity {self.severity!r} not in {SEVERITIES}")
        if self.enforcement not in LEVELS:
            raise ValueError(f"rule {self.id}: enforcement {self.enforcement!r} not in {LEVELS}")
        if not self.id or self.id.lower() != self.id or " " in self.id or "_" in self.id:
            raise ValueError(f"rule id {self.id!r} is not kebab-case")


ResourceCheck = Callable[[RuleContext, K8sObject], Iterable[str]]
StackCheck = Callable[[RuleContext, Sequence[K8sObject]], Iterable[Finding]]


@dataclass(frozen=True)
class ResourceRule(Rule):
    check: ResourceCheck | None = None
    every_resource: bool = False
    """Looks at every resource of the program, Kubernetes or not (``unjudged-object``); otherwise the rule looks at
    the kinds the registry of kinds names it for (``sovereign/kinds/registry``)."""

    def looks_at(self, group: str, kind: str) -> bool:
        """Whether the rule judges objects of this kind (known from the type token, before any property is read):
        the kinds the registry of kinds names it for; a rule the registry does not mention (another pack's, a
        test's) looks at every Kubernetes object."""
        if self.every_resource:
            return True
        registry = default_registry()
        return self.id not in registry.all_rule_ids() or self.id in registry.rules_for(group, kind)


@dataclass(frozen=True)
class StackRule(Rule):
    check: StackCheck | None = None
