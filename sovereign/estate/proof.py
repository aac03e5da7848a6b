"""What a rendered stack can do, from the connectivity proof: every egress of every workload, every path that
leaves the jurisdiction with the transfer that covers it, and the placement of data at rest.

This is the one derivation of those facts from a render; ``sovereign diff`` compares two of them, ``sovereign
register`` writes one down for a legal team. Reachability comes from the connectivity engine (the one source of
network-policy semantics); transfers from the stack config, and whether one is active from the stack model's one
rule (``Transfer.state``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sovereign.catalog.model import Catalog
from sovereign.connectivity import CniParams, analyze
from sovereign.connectivity.intervals import address_networks
from sovereign.connectivity.report import ConnectivityReport
from sovereign.kinds.object_identity import last_applied
from sovereign.render.rendered import RenderedStack
from sovereign.stackconfig.loader import parse_display_config
from sovereign.stackconfig.model import StackConfig, Transfer

UNATTRIBUTED = "unattributed"
"""Address space no catalog jurisdiction holds: foreign by definition."""


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

    @property
    def sender(self) -> str:
        """The workload that opens the connection across the border: the last relay, else the source."""
        return self.via[-1] if self.via else self.source


@dataclass(frozen=True)
class EstateProof:
    """One render's config, its connectivity report, and the facts derived from them."""

    config: StackConfig
    report: ConnectivityReport
    egress: frozenset[Egress]
    flows: frozenset[Flow]
    placements: dict[tuple[str, str], dict[str, str]]
    objects: tuple[Mapping[str, Any], ...]
    """The rendered Kubernetes objects the proof read (plain manifest dicts)."""


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


def covering_transfers(flow: Flow, transfers: Iterable[Transfer]) -> tuple[Transfer, ...]:
    """The declared transfers whose terms cover the flow, whatever their state: the sender is one of the
    transfer's source workloads, the destination lies in its jurisdiction and inside its CIDRs (every network of
    the range) or is one of its domains. Which of them is valid at a time is ``Transfer.state``'s question."""
    nets = address_networks(flow.destination)
    out = []
    for t in transfers:
        if flow.sender not in t.source_workloads or flow.destination_jurisdiction != t.destination.jurisdiction:
            continue
        inside_cidrs = bool(nets) and all(
            any(n.version == c.version and n.subnet_of(c) for c in t.destination.cidrs)  # type: ignore[arg-type]
            for n in nets
        )
        named_domain = flow.destination.startswith("fqdn:") and flow.destination[5:] in t.destination.domains
        if inside_cidrs or named_domain:
            out.append(t)
    return tuple(out)


def approving_transfer(flow: Flow, transfers: Iterable[Transfer], at: datetime) -> Transfer | None:
    """The first declared transfer (in stack-file order) that covers the flow and is active at ``at``."""
    return next((t for t in covering_transfers(flow, transfers) if t.is_active(at)), None)


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


def prove_estate(rendered: RenderedStack, catalog: Catalog, at: datetime) -> EstateProof:
    """Ask the connectivity proof about one render, with the CNI parameters, jurisdiction and cluster CIDRs of
    its own config; each flow carries the approval of the active transfer covering it at ``at``."""
    config = stack_config_from_render(rendered, catalog)
    steps = rendered.kubernetes_objects()
    applied = last_applied([s.inputs for s in steps], [s.urn for s in steps])  # duplicates: the last counts
    objects = tuple(steps[i].inputs for i in applied.kept)
    report = analyze(
        list(objects),
        cni=CniParams.from_cni_config(config.cluster.cni),
        catalog=catalog,
        jurisdiction=config.jurisdiction,
        cluster_cidrs=tuple(config.cluster.pod_cidrs) + tuple(config.cluster.service_cidrs),
    )
    report.notes = tuple(sorted({*report.notes, *applied.notes()}))
    egress = set()
    for workload in report.workloads:
        for reach in report.reach(workload):
            jur = destination_jurisdiction(report, reach.destination)
            egress.add(Egress(workload, reach.destination, jur, reach.protocol, format_ports(reach.ports)))
    flows = set()
    for path in report.cross_border():
        flow = Flow(
            source=path.source,
            via=tuple(path.hops),
            destination=path.destination_range,
            source_jurisdiction=path.source_jurisdiction or config.jurisdiction,
            destination_jurisdiction=path.destination_jurisdiction or UNATTRIBUTED,
            protocol=path.protocol,
            ports=format_ports(path.ports),
            approval="",
        )
        approval = approving_transfer(flow, config.transfers, at)
        flows.add(replace(flow, approval=approval.approval_reference if approval else ""))
    return EstateProof(
        config=config,
        report=report,
        egress=frozenset(egress),
        flows=frozenset(flows),
        placements=placement_facts(objects),
        objects=objects,
    )
