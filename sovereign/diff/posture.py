"""The residency posture of one rendered stack, and how it changed.

Posture = what a reviewer must see before any property diff: where each workload may send data (and in
which jurisdiction that lands), which paths leave the jurisdiction (approved by a transfer or not), where
storage and backups live (zones, regions, buckets), which transfers exist and when they expire. Reachability
comes from the connectivity engine (the one source of network-policy semantics); transfers from the stack
config, and whether one is pending, active or expired at the evaluation time from the stack model's one rule
(``Transfer.state``).

A transfer's state is a fact about one side, not a change: an unchanged transfer that is expired (or expiring,
or not yet valid) at ``--at`` is reported as such, never counted as a residency change. Both sides are judged at
the same time, so a state differs between them only when the transfer's window changed; the diff then shows
the window's fields and the state they lead to (``state: expired -> active`` for a renewal) as one changed
transfer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sovereign.catalog.model import Catalog
from sovereign.check.model import Violation
from sovereign.connectivity import CniParams, CrossBorderPath, analyze
from sovereign.connectivity.intervals import address_networks
from sovereign.connectivity.report import ConnectivityReport
from sovereign.render.rendered import RenderedStack
from sovereign.stackconfig.loader import parse_display_config
from sovereign.stackconfig.model import StackConfig, Transfer, TransferState

UNATTRIBUTED = "unattributed"
"""Address space no catalog jurisdiction holds: foreign by definition."""
SECRET_DISPLAY = "[secret]"


@dataclass(frozen=True, order=True)
class Egress:
    workload: str
    destination: str
    jurisdiction: str
    protocol: str
    ports: str


@dataclass(frozen=True, order=True)
class Flow:
    """A path that leaves the stack's jurisdiction."""

    source: str
    via: tuple[str, ...]
    destination: str
    source_jurisdiction: str
    destination_jurisdiction: str
    protocol: str
    ports: str
    approval: str
    """Approval reference of the active transfer that covers it; empty = no approval."""


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


def format_ports(ports: Sequence[tuple[int, int]]) -> str:
    return ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in ports) or "any"


def destination_jurisdiction(report: ConnectivityReport, destination: str) -> str:
    """Jurisdiction id(s) of a reach destination as the connectivity engine places it; ``+`` joins several,
    ``unattributed`` for nobody's address space or a place that cannot be known."""
    return "+".join(j or UNATTRIBUTED for j in report.destination_jurisdictions(destination))


def stack_config_from_render(rendered: RenderedStack, catalog: Catalog) -> StackConfig:
    """The stack config as rendered (``preview.json`` config), validated with the stack loader."""
    return parse_display_config(rendered.config, stack=rendered.stack,
                                source_file=str(rendered.directory / "preview.json"), catalog=catalog)


def _covering_transfer(path: CrossBorderPath, transfers: Iterable[Transfer], at: datetime) -> str:
    sender = path.hops[-1] if path.hops else path.source
    nets = address_networks(path.destination_range)
    for t in transfers:
        if not t.is_active(at) or sender not in t.source_workloads:
            continue
        if path.destination_jurisdiction != t.destination.jurisdiction:
            continue
        if nets and all(
            any(n.version == c.version and n.subnet_of(c) for c in t.destination.cidrs)  # type: ignore[arg-type]
            for n in nets
        ):
            return t.approval_reference
        if path.destination_range.startswith("fqdn:") and path.destination_range[5:] in t.destination.domains:
            return t.approval_reference
    return ""


def _selector_values(terms: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for term in terms if isinstance(terms, list) else []:
        if not isinstance(term, Mapping):
            continue
        for expr in term.get("matchLabelExpressions") or term.get("matchExpressions") or []:
            if isinstance(expr, Mapping) and isinstance(expr.get("key"), str):
                out.setdefault(expr["key"], []).extend(str(v) for v in expr.get("values") or [])
    return out


def placement_facts(objects: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], dict[str, str]]:
    """Where data at rest lives: storage classes, persistent volumes, backup and snapshot locations."""
    out: dict[tuple[str, str], dict[str, str]] = {}
    for obj in objects:
        kind = str(obj.get("kind", ""))
        meta = obj.get("metadata") if isinstance(obj.get("metadata"), Mapping) else {}
        assert isinstance(meta, Mapping)
        name = (
            f"{meta.get('namespace')}/{meta.get('name')}" if meta.get("namespace") else str(meta.get("name"))
        )
        facts: dict[str, str] = {}
        spec = obj.get("spec") if isinstance(obj.get("spec"), Mapping) else {}
        assert isinstance(spec, Mapping)
        if kind == "StorageClass":
            facts["provisioner"] = str(obj.get("provisioner", ""))
            facts["reclaimPolicy"] = str(obj.get("reclaimPolicy", "Delete"))
            for key, values in sorted(_selector_values(obj.get("allowedTopologies")).items()):
                facts[f"topology {key}"] = ", ".join(sorted(values))
            params = obj.get("parameters") if isinstance(obj.get("parameters"), Mapping) else {}
            assert isinstance(params, Mapping)
            for key in sorted(params):
                facts[f"parameter {key}"] = str(params[key])
        elif kind == "PersistentVolume":
            affinity = (spec.get("nodeAffinity") or {}).get("required") or {}
            for key, values in sorted(_selector_values(affinity.get("nodeSelectorTerms")).items()):
                facts[f"node {key}"] = ", ".join(sorted(values))
        elif kind in ("BackupStorageLocation", "VolumeSnapshotLocation") and str(
            obj.get("apiVersion", "")
        ).startswith("velero.io/"):
            facts["provider"] = str(spec.get("provider", ""))
            storage = spec.get("objectStorage") if isinstance(spec.get("objectStorage"), Mapping) else {}
            assert isinstance(storage, Mapping)
            for key in ("bucket", "prefix"):
                if key in storage:
                    facts[key] = str(storage[key])
            config = spec.get("config") if isinstance(spec.get("config"), Mapping) else {}
            assert isinstance(config, Mapping)
            for key in sorted(config):
                facts[f"config {key}"] = str(config[key])
        else:
            continue
        out[(kind, name)] = facts
    return out


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
    config = stack_config_from_render(rendered, catalog)
    objects = [s.inputs for s in rendered.kubernetes_objects()]
    report = analyze(
        objects,
        cni=CniParams.from_cni_config(config.cluster.cni),
        catalog=catalog,
        jurisdiction=config.jurisdiction,
        cluster_cidrs=tuple(config.cluster.pod_cidrs) + tuple(config.cluster.service_cidrs),
    )
    egress = set()
    for workload in report.workloads:
        for reach in report.reach(workload):
            jur = destination_jurisdiction(report, reach.destination)
            egress.add(Egress(workload, reach.destination, jur, reach.protocol, format_ports(reach.ports)))
    flows = set()
    for path in report.cross_border():
        flows.add(
            Flow(
                source=path.source,
                via=tuple(path.hops),
                destination=path.destination_range,
                source_jurisdiction=path.source_jurisdiction or config.jurisdiction,
                destination_jurisdiction=path.destination_jurisdiction or UNATTRIBUTED,
                protocol=path.protocol,
                ports=format_ports(path.ports),
                approval=_covering_transfer(path, config.transfers, at),
            )
        )
    return Posture(
        stack=rendered.stack,
        jurisdiction=config.jurisdiction,
        egress=frozenset(egress),
        flows=frozenset(flows),
        placements=placement_facts(objects),
        transfers={t.id: _transfer_fact(t) for t in config.transfers},
        declared={t.id: t for t in config.transfers},
        notes=tuple(report.notes),
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
