"""What a check found, independent of the output format. Sorted, so every format is deterministic."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sovereign.check.inventory import Inventory

MANDATORY_LEVELS = ("mandatory", "remediate")
"""A remediate policy that still reports a violation counts as mandatory (docs/pulumi-runtime.md §2)."""


@dataclass(frozen=True, order=True)
class ResourceRef:
    kind: str = ""
    namespace: str = ""
    name: str = ""
    urn: str = ""

    def label(self) -> str:
        if not self.kind and not self.name:
            return "the stack"
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}".strip()

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "namespace": self.namespace, "name": self.name, "urn": self.urn}


@dataclass(frozen=True)
class PolicyDescription:
    name: str
    description: str
    enforcement: str
    severity: str
    remediation: str
    policy_type: str


@dataclass(frozen=True, order=True)
class Violation:
    stack: str
    policy: str
    resource: ResourceRef
    message: str
    enforcement: str
    severity: str
    source: str = ""
    """Where a reviewer fixes it: the stack file or the manifest file (repository-relative when possible)."""
    line: int = 1

    @property
    def mandatory(self) -> bool:
        return self.enforcement in MANDATORY_LEVELS

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "policy": self.policy,
            "enforcement": self.enforcement,
            "severity": self.severity,
            "resource": self.resource.to_json(),
            "message": self.message,
            "source": {"file": self.source, "line": self.line},
        }


@dataclass(frozen=True)
class StackResult:
    stack: str
    resources: int
    violations: tuple[Violation, ...]
    source: str = ""
    inventory: Inventory | None = None
    """The verdict of every input object, the carve-outs and the suppressed findings (sovereign/check/inventory.py)."""


@dataclass(frozen=True)
class CheckReport:
    pack_name: str
    pack_version: str
    stacks: tuple[StackResult, ...]
    policies: tuple[PolicyDescription, ...]
    at: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    soft_fail: bool = False
    """``--soft-fail``: the verdict is reported as it is, the exit status is 0 (Checkov's ``--soft-fail``)."""

    @property
    def violations(self) -> list[Violation]:
        return sorted(v for s in self.stacks for v in s.violations)

    @property
    def mandatory_count(self) -> int:
        return sum(1 for v in self.violations if v.mandatory)

    @property
    def failed(self) -> bool:
        """The verdict: a mandatory violation was found (whatever ``--soft-fail`` makes of the exit status)."""
        return self.mandatory_count > 0

    @property
    def exit_code(self) -> int:
        return 1 if self.failed and not self.soft_fail else 0

    @property
    def disabled_policies(self) -> list[str]:
        """Policies that did not run (``--rule``/``--skip-rule``, or ``disabled`` in the policy pack config)."""
        return [p.name for p in self.policies if p.enforcement == "disabled"]

    def policy(self, name: str) -> PolicyDescription | None:
        return next((p for p in self.policies if p.name == name), None)

    def summary(self) -> dict[str, Any]:
        by_policy: dict[str, int] = {}
        by_level: dict[str, int] = {}
        for v in self.violations:
            by_policy[v.policy] = by_policy.get(v.policy, 0) + 1
            by_level[v.enforcement] = by_level.get(v.enforcement, 0) + 1
        out: dict[str, Any] = {
            "policyPack": f"{self.pack_name}@{self.pack_version}",
            "stacks": [
                {"stack": s.stack, "resources": s.resources, "violations": len(s.violations),
                 **({"inventory": s.inventory.to_json()} if s.inventory is not None else {})}
                for s in self.stacks
            ],
            "resources": sum(s.resources for s in self.stacks),
            "violations": len(self.violations),
            "mandatory": self.mandatory_count,
            "byEnforcement": dict(sorted(by_level.items())),
            "byPolicy": dict(sorted(by_policy.items())),
            "result": "fail" if self.failed else "pass",
        }
        if self.soft_fail:
            out["softFail"] = True
        if self.disabled_policies:
            out["disabledPolicies"] = self.disabled_policies
        if self.at:
            out["at"] = self.at
        return out


def merge_policies(groups: Sequence[Sequence[PolicyDescription]]) -> tuple[PolicyDescription, ...]:
    seen: dict[str, PolicyDescription] = {}
    for group in groups:
        for p in group:
            seen.setdefault(p.name, p)
    return tuple(seen[k] for k in sorted(seen))


def resource_ref(urn: str, props: Mapping[str, Any] | None) -> ResourceRef:
    """Kind/namespace/name from a Kubernetes object's props; falls back to the URN's type and name."""
    props = props or {}
    meta = props.get("metadata") if isinstance(props.get("metadata"), Mapping) else {}
    assert isinstance(meta, Mapping)
    kind = props.get("kind") if isinstance(props.get("kind"), str) else ""
    name = meta.get("name") if isinstance(meta.get("name"), str) else ""
    namespace = meta.get("namespace") if isinstance(meta.get("namespace"), str) else ""
    if not kind and urn:
        kind = urn.split("::")[2].split("$")[-1] if urn.count("::") >= 3 else ""
    if not name and urn:
        name = urn.split("::", 3)[-1] if urn.count("::") >= 3 else ""
    return ResourceRef(kind=str(kind), namespace=str(namespace), name=str(name), urn=urn)
