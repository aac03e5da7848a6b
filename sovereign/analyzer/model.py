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
