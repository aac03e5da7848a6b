"""The register's records: immutable, sorted, and written as JSON by one method each (camelCase keys, the spelling
of the stack file), so the formats and the evidence bundle read the same data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

REGISTER_VERSION = 1
"""The version of the register's JSON form (``docs/schemas/register.schema.json``)."""


@dataclass(frozen=True, order=True)
class StorageLocation:
    """One place data of a class rests: a storage class (volumes) or a backup location (object storage)."""

    kind: str
    """``storage class`` or ``backup location``."""
    name: str
    regions: tuple[str, ...]
    zones: tuple[str, ...]
    jurisdictions: tuple[str, ...]
    """The catalog's jurisdiction of each region (``unattributed`` when no catalog region holds it)."""
    details: tuple[tuple[str, str], ...]
    """What the rendered object says: provisioner, reclaim policy, bucket, prefix, ... (never a secret)."""

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "regions": list(self.regions), "zones": list(self.zones),
                "jurisdictions": list(self.jurisdictions), "details": dict(self.details)}


@dataclass(frozen=True, order=True)
class Exit:
    """A path by which a workload's data can leave the cluster, as the connectivity proof finds it."""

    workload: str
    destination: str
    destination_class: str
    """The engine's destination class (``networks of its jurisdiction``, ``other jurisdictions``, ...)."""
    jurisdiction: str
    protocol: str
    ports: str
    cross_border: bool
    data_classes: tuple[str, ...]
    """The classes the workload reads or writes: what this path can carry."""
    explained_by: str
    """The declaration that opens it: ``egress <need>`` of the workload or ``transfer <id>``; empty: none."""

    def to_json(self) -> dict[str, Any]:
        return {"workload": self.workload, "destination": self.destination,
                "destinationClass": self.destination_class, "jurisdiction": self.jurisdiction,
                "protocol": self.protocol, "ports": self.ports, "crossBorder": self.cross_border,
                "dataClasses": list(self.data_classes), "explainedBy": self.explained_by or None}


@dataclass(frozen=True, order=True)
class Approval:
    """A declared transfer's regulatory facts and its state at the evaluation time (``Transfer.state``)."""

    transfer: str
    reference: str
    regulator: str
    scope: str
    note: str
    state: str
    destination_jurisdiction: str
    destinations: tuple[str, ...]
    """Its CIDRs and domains."""
    destination_ports: tuple[str, ...]
    """``443/TCP``, ``any/UDP``, ``8000-8100/TCP``."""
    data_classes: tuple[str, ...]
    source_workloads: tuple[str, ...]
    valid_from: str
    valid_until: str

    def to_json(self) -> dict[str, Any]:
        return {"transfer": self.transfer, "reference": self.reference, "regulator": self.regulator,
                "scope": self.scope, "note": self.note, "state": self.state,
                "destination": {"jurisdiction": self.destination_jurisdiction,
                                "addresses": list(self.destinations), "ports": list(self.destination_ports)},
                "dataClasses": list(self.data_classes), "sourceWorkloads": list(self.source_workloads),
                "validFrom": self.valid_from, "validUntil": self.valid_until}


@dataclass(frozen=True, order=True)
class CrossBorderFlow:
    """A path the proof finds from a workload to another jurisdiction (directly or through in-cluster relays)."""

    source: str
    via: tuple[str, ...]
    sender: str
    destination: str
    destination_jurisdiction: str
    protocol: str
    ports: str
    data_classes: tuple[str, ...]
    """The classes the sender reads or writes: what crosses the border on this path."""
    approval: Approval | None
    """The active transfer that covers it; None: no approval at the evaluation time."""
    covering: tuple[Approval, ...]
    """Every declared transfer whose terms cover it, in any state."""

    @property
    def approved(self) -> bool:
        return self.approval is not None

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "via": list(self.via), "sender": self.sender,
                "destination": self.destination, "destinationJurisdiction": self.destination_jurisdiction,
                "protocol": self.protocol, "ports": self.ports, "dataClasses": list(self.data_classes),
                "status": "approved" if self.approved else "unapproved",
                "approval": self.approval.to_json() if self.approval else None,
                "coveringTransfers": [a.transfer for a in self.covering]}


@dataclass(frozen=True, order=True)
class Discrepancy:
    """Where the declared intent and the connectivity proof disagree."""

    kind: str
    """One of ``DISCREPANCY_KINDS``."""
    subject: str
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "subject": self.subject, "message": self.message}


DISCREPANCY_KINDS = {
    "undeclared-exit": "the proof finds a path out of the cluster that no declared egress or transfer opens",
    "unapproved-flow": "the proof finds a cross-border path that no active transfer approves",
    "flow-beyond-approval": "an approved path's sender holds data classes the approval does not cover",
    "transfer-without-path": "an active transfer whose path the proof does not find",
    "declared-egress-not-found": "a declared egress the proof does not find open",
    "workload-not-rendered": "a declared workload the render does not hold",
    "storage-not-rendered": "a declared storage tier or backup location the render does not hold",
}
"""Discrepancy kind -> what it means (docs/register.md lists the same)."""


@dataclass(frozen=True)
class DataClassEntry:
    """One data class: its legal rule (catalog) and what the estate does with it."""

    id: str
    description: str
    category: str
    regulated: bool
    export: str
    allowed_destinations: tuple[str, ...]
    regulator: str
    known: bool
    """Whether the catalog defines the class for the stack's jurisdiction (False: it is named but unknown)."""
    tenants: tuple[str, ...]
    storage: tuple[StorageLocation, ...]
    readers: tuple[str, ...]
    writers: tuple[str, ...]
    exits: tuple[Exit, ...]
    flows: tuple[CrossBorderFlow, ...]

    @property
    def regions(self) -> tuple[str, ...]:
        return tuple(sorted({r for s in self.storage for r in s.regions}))

    @property
    def zones(self) -> tuple[str, ...]:
        return tuple(sorted({z for s in self.storage for z in s.zones}))

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "description": self.description, "category": self.category,
                "regulated": self.regulated, "export": self.export,
                "allowedDestinations": list(self.allowed_destinations), "regulator": self.regulator,
                "inCatalog": self.known, "tenants": list(self.tenants),
                "storedIn": {"regions": list(self.regions), "zones": list(self.zones),
                             "locations": [s.to_json() for s in self.storage]},
                "readers": list(self.readers), "writers": list(self.writers),
                "exits": [e.to_json() for e in self.exits],
                "crossBorderFlows": [f.to_json() for f in self.flows]}


@dataclass(frozen=True)
class Register:
    """The data-flow register of one stack at one evaluation time."""

    stack: str
    jurisdiction: str
    jurisdiction_name: str
    evaluated_at: str
    catalog: dict[str, Any]
    """Both layers' identity: ``{"public": {...}, "organisation": {...}, "text": Catalog.layers()}``."""
    cluster: dict[str, Any]
    workloads: tuple[str, ...]
    """Every workload the proof reads, sorted."""
    data_classes: tuple[DataClassEntry, ...]
    exits: tuple[Exit, ...]
    flows: tuple[CrossBorderFlow, ...]
    transfers: tuple[tuple[Approval, int], ...]
    """Every declared transfer and the number of proof paths it covers."""
    discrepancies: tuple[Discrepancy, ...]
    proof_notes: tuple[str, ...]

    def summary(self) -> dict[str, Any]:
        states = {"active": 0, "pending": 0, "expired": 0}
        for approval, _paths in self.transfers:
            states[approval.state] = states.get(approval.state, 0) + 1
        return {"dataClasses": len(self.data_classes), "workloads": len(self.workloads), "exits": len(self.exits),
                "crossBorderFlows": len(self.flows),
                "approvedFlows": sum(1 for f in self.flows if f.approved),
                "unapprovedFlows": sum(1 for f in self.flows if not f.approved),
                "transfers": states, "discrepancies": len(self.discrepancies),
                "intentMatchesProof": not self.discrepancies}

    def to_json(self) -> dict[str, Any]:
        """The register as data; ``docs/schemas/register.schema.json`` (``$defs/register``) describes it."""
        return {
            "stack": self.stack,
            "jurisdiction": {"id": self.jurisdiction, "name": self.jurisdiction_name},
            "evaluatedAt": self.evaluated_at,
            "catalog": self.catalog,
            "cluster": self.cluster,
            "summary": self.summary(),
            "dataClasses": [d.to_json() for d in self.data_classes],
            "exits": [e.to_json() for e in self.exits],
            "crossBorderFlows": [f.to_json() for f in self.flows],
            "transfers": [{**a.to_json(), "pathsFound": n} for a, n in self.transfers],
            "discrepancies": [d.to_json() for d in self.discrepancies],
            "proof": {"workloads": list(self.workloads), "notes": list(self.proof_notes)},
        }


def register_document(registers: list[Register], evaluated_at: str) -> dict[str, Any]:
    """What ``sovereign register --format json`` writes: every register asked for, by stack name."""
    return {"registerVersion": REGISTER_VERSION, "evaluatedAt": evaluated_at,
            "registers": [r.to_json() for r in sorted(registers, key=lambda r: r.stack)]}
