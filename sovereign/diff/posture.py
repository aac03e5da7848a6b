"""The residency posture of one rendered stack, and how it changed.

Posture = what a reviewer must see before any property diff: where each workload may send data (and in
which jurisdiction that lands), which paths leave the jurisdiction (approved by a transfer or not), where
storage and backups live (zones, regions, buckets), which transfers exist and when they expire. Egress, flows
and placements are derived from the render in one place, ``sovereign.estate.proof`` (the data-flow register
asks it too); transfers come from the stack config, and whether one is pending, active or expired at the
evaluation time from the stack model's one rule (``Transfer.state``).

A transfer's state is a fact about one side, not a change: an unchanged transfer that is expired (or expiring,
or not yet valid) at ``--at`` is reported as such, never counted as a residency change. Both sides are judged at
the same time, so a state differs between them only when the transfer's window changed; the diff then shows
the window's fields and the state they lead to (``state: expired -> active`` for a renewal) as one changed
transfer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sovereign.catalog.model import Catalog
from sovereign.check.model import Violation
from sovereign.estate.proof import Egress, Flow, prove_estate
from sovereign.render.rendered import RenderedStack
from sovereign.stackconfig.model import Transfer, TransferState


@dataclass(frozen=True, order=True)
class TransferFact:
    id: str
    approval_reference: str
    regulator: str
    destination_jurisdiction: str
    data_classes: tuple[str, ...]
    source_workloads: tuple[str, ...]
    destinations: tuple[str, ...]
    valid_from: str
    valid_until: str


@dataclass(frozen=True, order=True)
class TransferStanding:
    """A declared transfer and its state at the evaluation time: a fact about one side, never a change alone."""

    fact: TransferFact
    state: TransferState
    expiring: bool
    """Active and ending within the diff's expiring window (``--expiring-days``)."""
    days_left: int | None
    """Whole days until ``validUntil`` while active; None when pending or expired."""


@dataclass(frozen=True, order=True)
class PlacementChange:
    kind: str
    name: str
    field: str
    old: str
    new: str


@dataclass
class Posture:
    stack: str
    jurisdiction: str
    egress: frozenset[Egress]
    flows: frozenset[Flow]
    placements: dict[tuple[str, str], dict[str, str]]
    transfers: dict[str, TransferFact]
    declared: dict[str, Transfer]
    """The stack model's transfers by id: they answer what state each is in at a time."""
    notes: tuple[str, ...] = ()

    def standings(self, at: datetime, expiring_window: timedelta) -> dict[str, TransferStanding]:
        """Every declared transfer with its state at ``at``, by id."""
        out = {}
        for tid, t in sorted(self.declared.items()):
            state = t.state(at)
            out[tid] = TransferStanding(
                fact=self.transfers[tid],
                state=state,
                expiring=t.ends_within(at, expiring_window),
                days_left=(t.valid_until - at).days if state is TransferState.ACTIVE else None,
            )
        return out


def camel(name: str) -> str:
    """``valid_until`` -> ``validUntil``: the spelling of the stack file and of every JSON we write."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _transfer_fact(t: Transfer) -> TransferFact:
    return TransferFact(
        id=t.id,
        approval_reference=t.approval_reference,
        regulator=t.regulator,
        destination_jurisdiction=t.destination.jurisdiction,
        data_classes=tuple(t.data_classes),
        source_workloads=tuple(t.source_workloads),
        destinations=tuple(str(c) for c in t.destination.cidrs) + tuple(t.destination.domains),
        valid_from=t.valid_from.isoformat(),
        valid_until=t.valid_until.isoformat(),
    )


def posture_of(rendered: RenderedStack, catalog: Catalog, at: datetime) -> Posture:
    proof = prove_estate(rendered, catalog, at)
    config = proof.config
    return Posture(
        stack=rendered.stack,
        jurisdiction=config.jurisdiction,
        egress=proof.egress,
        flows=proof.flows,
        placements=proof.placements,
        transfers={t.id: _transfer_fact(t) for t in config.transfers},
        declared={t.id: t for t in config.transfers},
        notes=tuple(proof.report.notes),
    )


@dataclass
class PostureDiff:
    stack: str
    jurisdiction: str
    egress_opened: list[Egress] = field(default_factory=list)
    egress_closed: list[Egress] = field(default_factory=list)
    flows_added: list[Flow] = field(default_factory=list)
    flows_removed: list[Flow] = field(default_factory=list)
    placements: list[PlacementChange] = field(default_factory=list)
    transfers_added: list[TransferStanding] = field(default_factory=list)
    """Transfers only HEAD declares, with their state at the evaluation time."""
    transfers_removed: list[TransferStanding] = field(default_factory=list)
    """Transfers only BASE declares, with the state they had at the evaluation time."""
    transfers_changed: list[tuple[str, str, str, str]] = field(default_factory=list)
    """(transfer id, field, old, new); field ``state`` when a changed window moves it to another state."""
    policy_added: list[Violation] = field(default_factory=list)
    policy_resolved: list[Violation] = field(default_factory=list)
    transfers: list[TransferStanding] = field(default_factory=list)
    """Every transfer HEAD declares (BASE's for a removed stack) and its state: the standing picture, not a
    change, so ``is_empty`` leaves it out."""

    def is_empty(self) -> bool:
        return not any(
            (
                self.egress_opened,
                self.egress_closed,
                self.flows_added,
                self.flows_removed,
                self.placements,
                self.transfers_added,
                self.transfers_removed,
                self.transfers_changed,
                self.policy_added,
                self.policy_resolved,
            )
        )

    @property
    def unapproved_flows_added(self) -> list[Flow]:
        return [f for f in self.flows_added if not f.approval]

    def transfers_in(self, state: TransferState) -> list[TransferStanding]:
        return [t for t in self.transfers if t.state is state]

    @property
    def transfers_expiring(self) -> list[TransferStanding]:
        return [t for t in self.transfers if t.expiring]


def _violation_key(v: Violation) -> tuple[str, str, str, str]:
    return (v.stack, v.policy, v.resource.urn, v.message)


def compare(
    base: Posture | None,
    head: Posture | None,
    *,
    at: datetime,
    expiring_days: int,
    base_violations: Sequence[Violation] = (),
    head_violations: Sequence[Violation] = (),
) -> PostureDiff:
    ref = head or base
    assert ref is not None
    out = PostureDiff(stack=ref.stack, jurisdiction=ref.jurisdiction)
    b_egress = base.egress if base else frozenset()
    h_egress = head.egress if head else frozenset()
    out.egress_opened = sorted(h_egress - b_egress)
    out.egress_closed = sorted(b_egress - h_egress)
    b_flows = base.flows if base else frozenset()
    h_flows = head.flows if head else frozenset()
    out.flows_added = sorted(h_flows - b_flows)
    out.flows_removed = sorted(b_flows - h_flows)
    b_place = base.placements if base else {}
    h_place = head.placements if head else {}
    for key in sorted(set(b_place) | set(h_place)):
        old, new = b_place.get(key, {}), h_place.get(key, {})
        for name in sorted(set(old) | set(new)):
            if old.get(name) != new.get(name):
                out.placements.append(
                    PlacementChange(key[0], key[1], name, old.get(name, ""), new.get(name, ""))
                )
    window = timedelta(days=expiring_days)
    b_tr = base.standings(at, window) if base else {}
    h_tr = head.standings(at, window) if head else {}
    out.transfers_added = [h_tr[k] for k in sorted(set(h_tr) - set(b_tr))]
    out.transfers_removed = [b_tr[k] for k in sorted(set(b_tr) - set(h_tr))]
    for k in sorted(set(b_tr) & set(h_tr)):
        old_t, new_t = b_tr[k], h_tr[k]
        for name in TransferFact.__dataclass_fields__:
            a, b = getattr(old_t.fact, name), getattr(new_t.fact, name)
            if a != b:
                text_a = ", ".join(a) if isinstance(a, tuple) else str(a)
                text_b = ", ".join(b) if isinstance(b, tuple) else str(b)
                out.transfers_changed.append((k, camel(name), text_a, text_b))
        # Same evaluation time on both sides: the state differs only when a window field above changed.
        if old_t.state is not new_t.state:
            out.transfers_changed.append((k, "state", old_t.state.value, new_t.state.value))
    out.transfers = [t for _, t in sorted((h_tr if head else b_tr).items())]
    b_v = {_violation_key(v): v for v in base_violations}
    h_v = {_violation_key(v): v for v in head_violations}
    out.policy_added = [h_v[k] for k in sorted(set(h_v) - set(b_v))]
    out.policy_resolved = [b_v[k] for k in sorted(set(b_v) - set(h_v))]
    return out
