"""What a workload's ingress sources mean against the catalog: their networks, their jurisdictions, their ports and
the transfers that cover the foreign ones.

One module, asked by the catalog checks (is the stack's declaration lawful), the program (what to render) and the
docs' examples, so that a source's meaning is decided once. Inbound semantics (docs/connectivity.md, "Ingress from
outside the cluster"): data entering the jurisdiction is not what residency law restricts, but a connection from
abroad lets the workload's data leave on the response path; so a source outside the jurisdiction is a cross-border
flow of the workload's data to the source, allowed only as a transfer whose ``sourceWorkloads`` include the workload,
whose destination (jurisdiction and cidrs) covers the source and whose ports cover the ports connected to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sovereign.catalog.model import IPNetwork
from sovereign.stackconfig.model import IngressSource, PortSpec, Protocol, StackConfig, Transfer, Workload

if TYPE_CHECKING:
    from sovereign.catalog.model import Catalog

QUALIFIER = ":"
"""``<jurisdiction>:<name>`` names another jurisdiction's named network."""


@dataclass(frozen=True)
class SourceNetwork:
    """One network of an ingress source, placed: the jurisdiction whose catalog networks hold it (None: nobody's)."""

    network: IPNetwork
    jurisdiction: str | None
    origin: str
    """How the stack named it: ``network fleet-uplink`` or ``cidr 203.0.113.0/24``."""
    key: tuple[str | int, ...]
    """Where in the source it was named: ``("networks", 0)`` or ``("cidrs", 1)``."""


class UnknownNetwork(LookupError):
    """A network name the catalog's organisation layer does not declare."""

    def __init__(self, reference: str, index: int, known: Sequence[str]) -> None:
        super().__init__(reference)
        self.reference = reference
        self.index = index
        self.known = tuple(known)


def split_reference(reference: str, home: str) -> tuple[str, str]:
    """``(jurisdiction, name)`` of a named-network reference (a bare name is in ``home``)."""
    if QUALIFIER in reference:
        jurisdiction, _, name = reference.partition(QUALIFIER)
        return jurisdiction, name
    return home, reference


def known_references(catalog: Catalog, home: str) -> list[str]:
    """Every reference a stack of ``home`` may write, for error messages (bare names first)."""
    out = []
    for jid in sorted(catalog.jurisdictions, key=lambda j: (j != home, j)):
        for name in sorted(catalog.jurisdictions[jid].named_networks):
            out.append(name if jid == home else f"{jid}{QUALIFIER}{name}")
    return out


def source_networks(source: IngressSource, catalog: Catalog, home: str) -> list[SourceNetwork]:
    """Every network of ``source``, placed by the catalog. Raises ``UnknownNetwork`` for the first name the catalog
    does not declare (the catalog checks report every one; the program only ever sees checked stacks)."""
    out: list[SourceNetwork] = []
    for i, reference in enumerate(source.networks):
        jid, name = split_reference(reference, home)
        jur = catalog.jurisdiction(jid)
        named = jur.named_networks.get(name) if jur is not None else None
        if named is None:
            raise UnknownNetwork(reference, i, known_references(catalog, home))
        out.extend(SourceNetwork(net, jid, f"network {reference}", ("networks", i)) for net in named.networks)
    for i, net in enumerate(source.cidrs):
        owner = catalog.jurisdiction_of_address(net)
        out.append(SourceNetwork(net, owner.id if owner else None, f"cidr {net}", ("cidrs", i)))
    return out


def source_ports(source: IngressSource, workload: Workload) -> tuple[PortSpec, ...]:
    """The ports ``source`` may connect to: its own, else every port the workload declares."""
    if source.ports:
        return source.ports
    return tuple(PortSpec(port=p.port, end_port=None, protocol=p.protocol) for p in workload.ports)


def _ports_cover(approved: Sequence[PortSpec], wanted: Sequence[PortSpec]) -> bool:
    def span(p: PortSpec) -> tuple[Protocol, int, int]:
        return p.protocol, p.port or 1, p.end_port or p.port or 65535

    allowed = [span(p) for p in approved]
    return all(any(proto == q and lo <= a and b <= hi for q, lo, hi in allowed)
               for proto, a, b in (span(p) for p in wanted))


def covering_transfers(config: StackConfig, workload: Workload, placed: SourceNetwork,
                       ports: Sequence[PortSpec]) -> list[Transfer]:
    """The stack's transfers that cover ``placed`` connecting to ``workload`` on ``ports`` (whatever their validity:
    the program renders only the active ones, the pack judges the window)."""
    if placed.jurisdiction is None:
        return []  # a transfer goes to a jurisdiction of the catalog; nobody's address space never qualifies
    net = placed.network
    return [
        t for t in config.transfers
        if workload.ref in t.source_workloads
        and t.destination.jurisdiction == placed.jurisdiction
        and any(c.version == net.version and net.subnet_of(c) for c in t.destination.cidrs)  # type: ignore[arg-type]
        and _ports_cover(t.destination.ports, ports)
    ]
