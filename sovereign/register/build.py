"""Build the data-flow register of one render: the stack config (as rendered), the catalog (both layers) and the
connectivity proof over the rendered objects (``sovereign.estate.proof``, the derivation ``sovereign diff`` uses).

Numbers come from the proof: the exits and cross-border flows are what the engine finds open, not what the stack
declares. The declaration is then laid next to the proof, and every disagreement is written down
(``Discrepancy``): a path nothing declared, a declared egress or active transfer whose path is not there, a
flow carrying classes its approval does not name. A value that cannot be read is never a silent pass: a workload
the stack does not declare is judged by its tenant's classes, and an unknown class is listed as unknown.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sovereign.catalog.model import Catalog, DataClass
from sovereign.connectivity.intervals import address_networks, format_ports
from sovereign.connectivity.model import CLUSTER_ADDRESSES, WORKLOADS, Destination
from sovereign.core.clock import instant_text
from sovereign.estate.proof import UNATTRIBUTED, EstateProof, Flow, covering_transfers, prove_estate
from sovereign.register.model import (
    Approval,
    CrossBorderFlow,
    DataClassEntry,
    Discrepancy,
    Exit,
    Register,
    StorageLocation,
)
from sovereign.render.rendered import RenderedStack
from sovereign.stackconfig.model import EgressNeed, PolicyApi, PortSpec, StackConfig, Transfer

INSIDE_THE_CLUSTER = (WORKLOADS, CLUSTER_ADDRESSES)
"""Destination classes that stay in the cluster; every other class the engine names is a way out."""

Ranges = tuple[tuple[int, int], ...]


def build_register(rendered: RenderedStack, catalog: Catalog, at: datetime) -> Register:
    """The register of ``rendered`` at ``at``: ``InputError`` when the render's config does not validate."""
    return register_of(prove_estate(rendered, catalog, at), catalog, at)


def register_of(proof: EstateProof, catalog: Catalog, at: datetime) -> Register:
    config = proof.config
    classes_of = _classes_of_workload(config)
    approvals = {t.id: _approval(t, at) for t in config.transfers}
    exits_raw = _exits(proof, classes_of)
    exits = tuple(sorted(_explained(e, ranges, config) for e, ranges in exits_raw))
    flows = tuple(sorted(_flow(f, config, approvals, classes_of) for f in proof.flows))
    paths_per_transfer = {t.id: sum(1 for f in flows if t.id in {a.transfer for a in f.covering})
                          for t in config.transfers}
    transfers = tuple((approvals[t.id], paths_per_transfer[t.id]) for t in sorted(config.transfers, key=lambda t: t.id))
    storage = _storage(proof, catalog)
    discrepancies = sorted(set(
        _undeclared(exits) + _unapproved(flows) + _beyond_approval(flows) + _transfers_without_path(transfers)
        + _declared_egress_missing(config, exits_raw) + _workloads_missing(config, proof)
        + _storage_missing(config, storage)
    ))
    jur = catalog.jurisdiction(config.jurisdiction)
    return Register(
        stack=config.stack,
        jurisdiction=config.jurisdiction,
        jurisdiction_name=jur.name if jur else config.jurisdiction,
        evaluated_at=instant_text(at),
        catalog=catalog_identity(catalog),
        cluster=_cluster(config),
        workloads=tuple(sorted(proof.report.workloads)),
        data_classes=_data_classes(config, catalog, storage, exits, flows),
        exits=exits,
        flows=flows,
        transfers=transfers,
        discrepancies=tuple(discrepancies),
        proof_notes=tuple(sorted(proof.report.notes)),
    )


def catalog_identity(catalog: Catalog) -> dict[str, Any]:
    """Both layers' identity as the register records them (paths as the catalog holds them: repository-relative
    for the organisation file; the public layer by version and date only, never by where it sits on disk)."""
    org = catalog.organisation
    return {
        "public": {"version": catalog.version, "asOf": catalog.as_of.isoformat()},
        "organisation": {"name": org.name, "version": org.version, "path": org.path, "example": org.example},
        "text": catalog.layers(),
    }


def _cluster(config: StackConfig) -> dict[str, Any]:
    c = config.cluster
    return {"name": c.name, "provider": c.provider, "regions": list(c.regions), "zones": list(c.zones),
            "cni": {"name": c.cni.name, "enforces": sorted(str(a) for a in c.cni.enforces)}}


def _classes_of_workload(config: StackConfig) -> dict[str, tuple[str, ...]]:
    """Workload ref -> the data classes it reads or writes; a workload declaring neither holds what its tenant
    holds (the namespace's classes), so a path from it is never a path that carries nothing."""
    out: dict[str, tuple[str, ...]] = {}
    for w in config.workloads:
        classes = set(w.reads) | set(w.writes)
        if not classes and (tenant := config.tenant(w.namespace)) is not None:
            classes = set(tenant.data_classes)
        out[w.ref] = tuple(sorted(classes))
    return out


def _classes(ref: str, config: StackConfig, classes_of: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    if ref in classes_of:
        return classes_of[ref]
    tenant = config.tenant(ref.split("/", 1)[0])
    return tuple(sorted(tenant.data_classes)) if tenant else ()


def _port_text(p: PortSpec) -> str:
    port = "any" if p.port is None else str(p.port) if not p.end_port else f"{p.port}-{p.end_port}"
    return f"{port}/{p.protocol}"


def _approval(t: Transfer, at: datetime) -> Approval:
    return Approval(
        transfer=t.id, reference=t.approval_reference, regulator=t.regulator, scope=t.scope, note=t.note,
        state=t.state(at).value, destination_jurisdiction=t.destination.jurisdiction,
        destinations=tuple(str(c) for c in t.destination.cidrs) + tuple(t.destination.domains),
        destination_ports=tuple(_port_text(p) for p in t.destination.ports),
        data_classes=tuple(t.data_classes), source_workloads=tuple(t.source_workloads),
        valid_from=instant_text(t.valid_from), valid_until=instant_text(t.valid_until),
    )


def _exits(proof: EstateProof, classes_of: dict[str, tuple[str, ...]]) -> list[tuple[Exit, Ranges]]:
    """Every destination outside the cluster each workload may open (the engine's classes), with its ports."""
    report, config = proof.report, proof.config
    seen: dict[tuple[str, str, str], tuple[Exit, Ranges]] = {}
    for workload in report.workloads:
        home = report.jurisdiction_of(workload) or config.jurisdiction
        for d in report.destinations(workload):
            if d.category in INSIDE_THE_CLUSTER:
                continue
            key = (workload, d.destination, d.protocol)
            ranges = _merge(seen[key][1] + tuple(d.ports)) if key in seen else tuple(d.ports)
            seen[key] = (_exit(workload, d, home, ranges, _classes(workload, config, classes_of)), ranges)
    return [seen[k] for k in sorted(seen)]


def _merge(ranges: Iterable[tuple[int, int]]) -> Ranges:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(hi, out[-1][1]))
        else:
            out.append((lo, hi))
    return tuple(out)


def _exit(workload: str, d: Destination, home: str, ranges: Ranges, classes: tuple[str, ...]) -> Exit:
    jur = d.jurisdiction or UNATTRIBUTED
    return Exit(workload=workload, destination=d.destination, destination_class=d.category, jurisdiction=jur,
                protocol=d.protocol, ports=format_ports(ranges), cross_border=jur != home, data_classes=classes,
                explained_by="")


def _need_covers(need: EgressNeed, destination: str) -> bool:
    nets = address_networks(destination)
    if nets:
        return all(any(n.version == c.version and n.subnet_of(c) for c in need.cidrs)  # type: ignore[arg-type]
                   for n in nets)
    return destination.startswith("fqdn:") and destination[5:] in need.domains


def _explained(e: Exit, _ranges: Ranges, config: StackConfig) -> Exit:
    """The exit with the declaration that opens it: an egress need of the workload, else a transfer naming the
    workload as sender whose terms cover it (``covering_transfers``, the rule the approvals follow)."""
    w = config.workload(e.workload)
    for need in w.egress if w else ():
        if _need_covers(need, e.destination):
            return _with(e, f"egress {need.name}")
    probe = Flow(e.workload, (), e.destination, "", e.jurisdiction, e.protocol, e.ports, "")
    for t in covering_transfers(probe, config.transfers):
        return _with(e, f"transfer {t.id}")
    return e


def _with(e: Exit, explained_by: str) -> Exit:
    return Exit(e.workload, e.destination, e.destination_class, e.jurisdiction, e.protocol, e.ports,
                e.cross_border, e.data_classes, explained_by)


def _flow(f: Flow, config: StackConfig, approvals: dict[str, Approval],
          classes_of: dict[str, tuple[str, ...]]) -> CrossBorderFlow:
    covering = covering_transfers(f, config.transfers)
    active = next((approvals[t.id] for t in covering if approvals[t.id].state == "active"), None)
    return CrossBorderFlow(
        source=f.source, via=f.via, sender=f.sender, destination=f.destination,
        destination_jurisdiction=f.destination_jurisdiction, protocol=f.protocol, ports=f.ports,
        data_classes=_classes(f.sender, config, classes_of), approval=active,
        covering=tuple(approvals[t.id] for t in covering),
    )


def _storage(proof: EstateProof, catalog: Catalog) -> dict[tuple[str, str], StorageLocation]:
    """(kind, declared name) -> where the render puts it: storage classes by their zones (allowedTopologies;
    none: every zone of the cluster), backup locations by their region; each region placed by the catalog."""
    config = proof.config
    provider = config.cluster.provider
    out: dict[tuple[str, str], StorageLocation] = {}
    for (kind, name), facts in sorted(proof.placements.items()):
        if kind == "StorageClass":
            zones = sorted({z.strip() for k, v in facts.items() if k.startswith("topology ") for z in v.split(",")})
            if not zones:
                zones = list(config.cluster.zones)
            regions = sorted({r.id for z in zones if (r := catalog.region_of_zone(provider, z)) is not None})
            unplaced = [z for z in zones if catalog.region_of_zone(provider, z) is None]
            out[("storage class", name)] = StorageLocation(
                "storage class", name, tuple(regions), tuple(zones),
                _jurisdictions(catalog, provider, regions, bool(unplaced)), tuple(sorted(facts.items())))
        elif kind == "BackupStorageLocation":
            region = facts.get("config region", "")
            regions = [region] if region else []
            out[("backup location", name.split("/", 1)[-1])] = StorageLocation(
                "backup location", name.split("/", 1)[-1], tuple(regions), (),
                _jurisdictions(catalog, provider, regions, not region), tuple(sorted(facts.items())))
    return out


def _jurisdictions(catalog: Catalog, provider: str, regions: Sequence[str], unknown: bool) -> tuple[str, ...]:
    found = {(j.id if (j := catalog.jurisdiction_of_region(provider, r)) else UNATTRIBUTED) for r in regions}
    if unknown or not regions:
        found.add(UNATTRIBUTED)
    return tuple(sorted(found))


def _data_classes(config: StackConfig, catalog: Catalog, storage: dict[tuple[str, str], StorageLocation],
                  exits: Sequence[Exit], flows: Sequence[CrossBorderFlow]) -> tuple[DataClassEntry, ...]:
    named: set[str] = set()
    for t in config.tenants:
        named.update(t.data_classes)
    for w in config.workloads:
        named.update(w.reads + w.writes)
    for s in config.storage:
        named.update(s.data_classes)
    for b in config.backups:
        named.update(b.data_classes)
    for tr in config.transfers:
        named.update(tr.data_classes)
    jur = catalog.jurisdiction(config.jurisdiction)
    entries = []
    for cls in sorted(named):
        rule: DataClass | None = jur.data_class(cls) if jur else None
        places = [storage[("storage class", s.name)] for s in config.storage
                  if cls in s.data_classes and ("storage class", s.name) in storage]
        places += [storage[("backup location", b.name)] for b in config.backups
                   if cls in b.data_classes and ("backup location", b.name) in storage]
        entries.append(DataClassEntry(
            id=cls,
            description=rule.description if rule else "",
            category=(rule.category or rule.id) if rule else "",
            regulated=rule.regulated if rule else True,
            export=rule.export.value if rule else "unknown",
            allowed_destinations=tuple(rule.destinations) if rule else (),
            regulator=(rule.regulator or "") if rule else "",
            known=rule is not None,
            tenants=tuple(sorted(t.namespace for t in config.tenants if cls in t.data_classes)),
            storage=tuple(sorted(places)),
            readers=tuple(sorted(w.ref for w in config.workloads if cls in w.reads)),
            writers=tuple(sorted(w.ref for w in config.workloads if cls in w.writes)),
            exits=tuple(e for e in exits if cls in e.data_classes),
            flows=tuple(f for f in flows if cls in f.data_classes),
        ))
    return tuple(entries)


# ---------------------------------------------------------------- intent against proof


def _undeclared(exits: Sequence[Exit]) -> list[Discrepancy]:
    return [Discrepancy("undeclared-exit", f"{e.workload} -> {e.destination}",
                        f"the proof finds {e.workload} may open {e.destination} ({e.jurisdiction}) on "
                        f"{e.ports}/{e.protocol}; no declared egress or transfer of the workload opens it")
            for e in exits if not e.explained_by]


def _flow_text(f: CrossBorderFlow) -> str:
    via = f" via {', '.join(f.via)}" if f.via else ""
    return f"{f.source}{via} -> {f.destination} ({f.destination_jurisdiction}) {f.ports}/{f.protocol}"


def _unapproved(flows: Sequence[CrossBorderFlow]) -> list[Discrepancy]:
    out = []
    for f in flows:
        if f.approved:
            continue
        inactive = ", ".join(f"{a.transfer} ({a.state})" for a in f.covering)
        why = f"; the transfer covering it is not active: {inactive}" if inactive else "; no transfer covers it"
        out.append(Discrepancy("unapproved-flow", _flow_text(f), f"the proof finds {_flow_text(f)}{why}"))
    return out


def _beyond_approval(flows: Sequence[CrossBorderFlow]) -> list[Discrepancy]:
    out = []
    for f in flows:
        if f.approval is None:
            continue
        extra = sorted(set(f.data_classes) - set(f.approval.data_classes))
        if extra:
            out.append(Discrepancy(
                "flow-beyond-approval", _flow_text(f),
                f"{f.sender} holds {', '.join(extra)}, which {f.approval.reference} ({f.approval.transfer}) does "
                f"not cover ({', '.join(f.approval.data_classes)})"))
    return out


def _transfers_without_path(transfers: Sequence[tuple[Approval, int]]) -> list[Discrepancy]:
    return [Discrepancy("transfer-without-path", f"transfer {a.transfer}",
                        f"{a.reference} is active but the proof finds no path from "
                        f"{', '.join(a.source_workloads)} to {', '.join(a.destinations)} "
                        f"({a.destination_jurisdiction})")
            for a, paths in transfers if a.state == "active" and paths == 0]


def _declared_egress_missing(config: StackConfig, exits: Sequence[tuple[Exit, Ranges]]) -> list[Discrepancy]:
    """Each declared address or domain egress, on each declared port, must be an exit the proof finds."""
    out = []
    for w in config.workloads:
        mine = [(e, r) for e, r in exits if e.workload == w.ref]
        for need in w.egress:
            targets = [str(c) for c in need.cidrs] + [f"fqdn:{d}" for d in need.domains]
            for target in targets:
                for port in need.ports:
                    if not _open(target, port, mine):
                        shown = target.removeprefix("fqdn:")
                        why = ("" if not target.startswith("fqdn:") or PolicyApi.CILIUM in config.cluster.cni.enforces
                               else f" (the CNI {config.cluster.cni.name} enforces no DNS-name rule, so no policy "
                               "opens a name)")
                        out.append(Discrepancy(
                            "declared-egress-not-found", f"{w.ref} -> {shown}",
                            f"{w.ref} declares egress {need.name!r} to {shown} on {_port_text(port)}; the proof "
                            f"finds it closed{why}"))
    return out


def _open(target: str, port: PortSpec, exits: Sequence[tuple[Exit, Ranges]]) -> bool:
    lo = port.port if port.port is not None else 1
    hi = port.end_port or (port.port if port.port is not None else 65535)
    ranges = _merge(r for e, rs in exits if e.protocol == port.protocol and _holds(e.destination, target)
                    for r in rs if r[0] <= hi and r[1] >= lo)
    return any(a <= lo and hi <= b for a, b in ranges)


def _holds(destination: str, target: str) -> bool:
    if target.startswith("fqdn:"):
        return destination == target
    want = ipaddress.ip_network(target)
    return any(n.version == want.version and want.subnet_of(n)  # type: ignore[arg-type]
               for n in address_networks(destination))


def _workloads_missing(config: StackConfig, proof: EstateProof) -> list[Discrepancy]:
    present = set(proof.report.workloads)
    return [Discrepancy("workload-not-rendered", w.ref, f"{w.ref} is declared but the render holds no such workload")
            for w in config.workloads if w.ref not in present]


def _storage_missing(config: StackConfig, storage: dict[tuple[str, str], StorageLocation]) -> list[Discrepancy]:
    out = [Discrepancy("storage-not-rendered", f"storage {s.name}",
                       f"storage tier {s.name!r} is declared but the render holds no StorageClass of that name")
           for s in config.storage if ("storage class", s.name) not in storage]
    out += [Discrepancy("storage-not-rendered", f"backup {b.name}",
                        f"backup location {b.name!r} is declared but the render holds no Velero "
                        "BackupStorageLocation of that name")
            for b in config.backups if ("backup location", b.name) not in storage]
    return out
