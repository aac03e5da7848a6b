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

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> ResourceRef:
        return cls(str(doc["kind"]), str(doc["namespace"]), str(doc["name"]), str(doc["urn"]))


@dataclass(frozen=True)
class PolicyDescription:
    name: str
    description: str
    enforcement: str
    severity: str
    remediation: str
    policy_type: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "description": self.description, "enforcement": self.enforcement,
                "severity": self.severity, "remediation": self.remediation, "policyType": self.policy_type}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> PolicyDescription:
        return cls(str(doc["name"]), str(doc["description"]), str(doc["enforcement"]), str(doc["severity"]),
                   str(doc["remediation"]), str(doc["policyType"]))


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

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Violation:
        return cls(str(doc["stack"]), str(doc["policy"]), ResourceRef.from_json(doc["resource"]), str(doc["message"]),
                   str(doc["enforcement"]), str(doc["severity"]), str(doc["source"]["file"]),
                   int(doc["source"]["line"]))


@dataclass(frozen=True, order=True)
class TransferStatus:
    """A transfer the stack declares and its state at the evaluation time: what may leave, and under what."""

    id: str
    state: str
    """``active``, ``pending`` (not yet valid) or ``expired`` (the stack model's ``Transfer.state``)."""
    approval_reference: str
    regulator: str
    destination: str
    """The destination jurisdiction's id."""
    data_classes: tuple[str, ...]
    source_workloads: tuple[str, ...]
    valid_from: str
    valid_until: str
    scope: str = ""
    """The approval's scope, in the regulator's terms (the stack file's ``scope``)."""
    note: str = ""

    def covers(self) -> str:
        """Who may send what: ``model-weights from model-registry/registry``."""
        return f"{', '.join(self.data_classes)} from {', '.join(self.source_workloads)}"

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "state": self.state, "approvalReference": self.approval_reference,
                "regulator": self.regulator, "scope": self.scope, "note": self.note,
                "destination": self.destination, "dataClasses": list(self.data_classes),
                "sourceWorkloads": list(self.source_workloads), "validFrom": self.valid_from,
                "validUntil": self.valid_until}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> TransferStatus:
        return cls(str(doc["id"]), str(doc["state"]), str(doc["approvalReference"]), str(doc["regulator"]),
                   str(doc["destination"]), tuple(doc["dataClasses"]), tuple(doc["sourceWorkloads"]),
                   str(doc["validFrom"]), str(doc["validUntil"]), str(doc["scope"]), str(doc["note"]))


@dataclass(frozen=True)
class CatalogLayer:
    """One layer of the catalog the check judged with: which, and which version (reports name both layers)."""

    layer: str
    """``public`` (the project's) or ``organisation`` (the organisation's own file)."""
    name: str
    version: str
    as_of: str = ""
    note: str = ""
    """E.g. that the organisation layer is the bundled example."""
    source: str = ""
    """The organisation's file (relative to its project), so a reader knows which file judged."""

    def describe(self) -> str:
        text = f"{self.layer} {self.name} {self.version}".replace("  ", " ").strip()
        text += f" (as of {self.as_of})" if self.as_of else ""
        text += f" ({self.source})" if self.source else ""
        return text + (f" [{self.note}]" if self.note else "")

    def to_json(self) -> dict[str, str]:
        return {"layer": self.layer, "name": self.name, "version": self.version, "asOf": self.as_of,
                "note": self.note, "source": self.source}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> CatalogLayer:
        return cls(str(doc["layer"]), str(doc["name"]), str(doc["version"]), str(doc["asOf"]), str(doc["note"]),
                   str(doc["source"]))


@dataclass(frozen=True)
class Shard:
    """Which share of a sharded check (``--shard INDEX/COUNT``) a report holds, and every stack of the whole run,
    so ``sovereign merge`` can tell a complete set of shards from one with a share missing."""

    index: int
    count: int
    stacks: tuple[str, ...]
    """Every stack of the run, in the order a single run reports them (not only this share's)."""

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "count": self.count, "stacks": list(self.stacks)}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Shard:
        return cls(int(doc["index"]), int(doc["count"]), tuple(str(s) for s in doc["stacks"]))


@dataclass(frozen=True)
class StackResult:
    stack: str
    resources: int
    violations: tuple[Violation, ...]
    source: str = ""
    inventory: Inventory | None = None
    """The verdict of every input object, the carve-outs and the suppressed findings (sovereign/check/inventory.py)."""
    transfers: tuple[TransferStatus, ...] = ()
    """The cross-border transfers the stack declares, each with its state at the evaluation time."""
    judged: bool = True
    """False: the stack's input could not be read (its ``invalid-input`` findings say why); nothing in it was
    judged, so the check cannot pass and exits 2 whatever else it found."""


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
    catalog: tuple[CatalogLayer, ...] = ()
    """The catalog's layers the check judged with."""
    shard: Shard | None = None
    """Set in a shard's report (``check --shard``); a merged or single run has none."""

    @property
    def advisory_count(self) -> int:
        return len(self.violations) - self.mandatory_count

    @property
    def active_transfers(self) -> list[tuple[str, TransferStatus]]:
        """(stack, transfer) of every transfer active at the evaluation time: what may leave."""
        return [(s.stack, t) for s in self.stacks for t in s.transfers if t.state == "active"]

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
    def bad_input(self) -> bool:
        """Some input could not be read: its stacks were not judged (exit 2, also with ``--soft-fail``)."""
        return any(not s.judged for s in self.stacks)

    @property
    def unjudged_stacks(self) -> list[str]:
        return [s.stack for s in self.stacks if not s.judged]

    @property
    def exit_code(self) -> int:
        """0 pass (or ``--soft-fail``), 1 mandatory violations, 2 input that could not be read."""
        if self.bad_input:
            return 2
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
            "policyPack": f"{self.pack_name}@{self.pack_version}" if self.pack_name else "",
            "stacks": [
                {"stack": s.stack, "resources": s.resources, "violations": len(s.violations), "source": s.source,
                 **({"inventory": s.inventory.to_json()} if s.inventory is not None else {}),
                 **({"transfers": [t.to_json() for t in s.transfers]} if s.transfers else {}),
                 **({} if s.judged else {"judged": False})}
                for s in self.stacks
            ],
            "resources": sum(s.resources for s in self.stacks),
            "violations": len(self.violations),
            "mandatory": self.mandatory_count,
            "advisory": self.advisory_count,
            "byEnforcement": dict(sorted(by_level.items())),
            "byPolicy": dict(sorted(by_policy.items())),
            "result": "error" if self.bad_input else "fail" if self.failed else "pass",
        }
        if self.bad_input:
            out["unjudgedStacks"] = self.unjudged_stacks
        if self.soft_fail:
            out["softFail"] = True
        if self.disabled_policies:
            out["disabledPolicies"] = self.disabled_policies
        if self.at:
            out["at"] = self.at
        if self.catalog:
            out["catalog"] = [layer.to_json() for layer in self.catalog]
        return out


    def to_json(self) -> dict[str, Any]:
        """The ``--format json`` document: the findings, the summary, and what the other formats need besides
        (the policies' descriptions, the notes, the shard), so ``from_json`` gives this report back."""
        doc: dict[str, Any] = {"violations": [v.to_json() for v in self.violations], "summary": self.summary(),
                               "policies": [p.to_json() for p in self.policies], "notes": list(self.notes)}
        if self.shard is not None:
            doc["shard"] = self.shard.to_json()
        return doc

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> CheckReport:
        """The report a ``to_json`` document came from (``sovereign merge``, the verdict cache): every format
        renders the same bytes from it. KeyError, TypeError or ValueError on a document of another shape."""
        from sovereign.check.inventory import Inventory

        summary = doc["summary"]
        found: dict[str, list[Violation]] = {}
        for v in doc["violations"]:
            found.setdefault(str(v["stack"]), []).append(Violation.from_json(v))
        stacks = tuple(
            StackResult(stack=str(s["stack"]), resources=int(s["resources"]),
                        violations=tuple(sorted(found.pop(str(s["stack"]), []))), source=str(s["source"]),
                        inventory=Inventory.from_json(s["inventory"]) if "inventory" in s else None,
                        transfers=tuple(TransferStatus.from_json(t) for t in s.get("transfers", ())),
                        judged=bool(s.get("judged", True)))
            for s in summary["stacks"])
        if found:
            raise ValueError(f"violations of stacks the summary does not list: {', '.join(sorted(found))}")
        name, _, version = str(summary["policyPack"]).rpartition("@")
        return cls(pack_name=name, pack_version=version, stacks=stacks,
                   policies=tuple(PolicyDescription.from_json(p) for p in doc["policies"]), at=summary.get("at"),
                   notes=tuple(str(n) for n in doc["notes"]), soft_fail=bool(summary.get("softFail", False)),
                   catalog=tuple(CatalogLayer.from_json(c) for c in summary.get("catalog", ())),
                   shard=Shard.from_json(doc["shard"]) if "shard" in doc else None)


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
