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
    "description": "Namespaces exempt from this rule besides kube-system, kube-public and kube-node-lease.",
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
    kinds: frozenset[str] = frozenset()
    """Kinds the rule looks at (empty: every Kubernetes object)."""
    check: ResourceCheck | None = None

    def looks_at(self, kind: str) -> bool:
        """Whether the rule judges objects of ``kind`` (known from the type token, before any property is read)."""
        return not self.kinds or kind in self.kinds


@dataclass(frozen=True)
class StackRule(Rule):
    check: StackCheck | None = None
