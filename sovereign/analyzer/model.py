"""Plain, typed views of what a policy pack answers over the analyzer protocol (no protobuf leaks out)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ENFORCEMENT_LEVELS = ("advisory", "mandatory", "disabled", "remediate")
"""Index = the protobuf enum value (pulumirpc.EnforcementLevel)."""
SEVERITIES = ("", "low", "medium", "high", "critical")
"""Index = the protobuf enum value (pulumirpc.PolicySeverity); "" is unspecified."""
POLICY_TYPES = ("unknown", "resource", "stack")
UNKNOWN_PLACEHOLDERS: Mapping[str, str] = {
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7": "boolean",
    "3eeb2bf0-c639-47a8-9e75-3b44932eb421": "number",
    "04da6b54-80e4-46f7-96ec-b56ff0331ba9": "string",
    "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2": "Array",
    "030794c1-ac77-496b-92df-f27374a8bd58": "asset",
    "e48ece36-62e2-4504-bad9-02848725956a": "archive",
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff": "Object",
}
"""The engine's placeholders for values unknown during preview, and the type each stands for (the Pulumi SDKs'
``UNKNOWN_*_VALUE``; docs/pulumi-runtime.md §2)."""


RESOURCE_RULE_FAILURES = "resource-rule-failures"
RULE_FAILURES = "rule-failures"
RESOURCE_RULE_EXEMPTIONS = "resource-rule-exemptions"
RULE_EXEMPTIONS = "rule-exemptions"
FAILURE_COMPANIONS = (RESOURCE_RULE_FAILURES, RULE_FAILURES)
EXEMPTION_COMPANIONS = (RESOURCE_RULE_EXEMPTIONS, RULE_EXEMPTIONS)
COMPANIONS = (*FAILURE_COMPANIONS, *EXEMPTION_COMPANIONS)
"""The residency pack's companion policies (policies/framework/companions.py says what they do): not rules of
their own but the reporters of rule failures and of suppressed findings. Named here, below both the pack and the
check, because the check reads their reports (suppressed findings) and rule selection must never switch them off."""


def level_name(value: int) -> str:
    return ENFORCEMENT_LEVELS[value] if 0 <= value < len(ENFORCEMENT_LEVELS) else f"level-{value}"


def severity_name(value: int) -> str:
    return SEVERITIES[value] if 0 <= value < len(SEVERITIES) else f"severity-{value}"


@dataclass(frozen=True)
class PolicyInfo:
    name: str
    description: str
    enforcement_level: str
    policy_type: str
    severity: str
    remediation_steps: str
    config_schema: Mapping[str, Any]
    """JSON-schema ``properties`` of the policy's config (may be empty)."""
    required: tuple[str, ...] = ()


@dataclass(frozen=True)
class AnalyzerInfo:
    name: str
    version: str
    supports_config: bool
    policies: tuple[PolicyInfo, ...]
    initial_config: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Policy name -> ``{"enforcementLevel"?: level, <props>}`` as the pack declares it."""

    def policy(self, name: str) -> PolicyInfo | None:
        for p in self.policies:
            if p.name == name:
                return p
        return None


@dataclass(frozen=True)
class Diagnostic:
    """One policy violation, as the CLI would print it under "Policies:"."""

    policy_name: str
    policy_pack_name: str
    policy_pack_version: str
    description: str
    message: str
    enforcement_level: str
    urn: str
    severity: str

    @property
    def mandatory(self) -> bool:
        """The CLI fails a preview on mandatory (and remediate-that-still-violates) diagnostics."""
        return self.enforcement_level in ("mandatory", "remediate")

    @property
    def detail(self) -> str:
        """The message without the policy description the SDK prepends as its first line."""
        prefix = self.description + "\n"
        return self.message[len(prefix) :] if self.message.startswith(prefix) else self.message

    def to_json(self) -> dict[str, str]:
        return {
            "policyName": self.policy_name,
            "policyPackName": self.policy_pack_name,
            "policyPackVersion": self.policy_pack_version,
            "description": self.description,
            "message": self.message,
            "enforcementLevel": self.enforcement_level,
            "urn": self.urn,
            "severity": self.severity,
        }
