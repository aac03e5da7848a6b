"""Where an address, host name or CIDR lies, in catalog terms (one place for the parsing rules)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from sovereign.catalog.model import Catalog, IPNetwork, Jurisdiction

CLUSTER_DNS_SUFFIXES = (".svc", ".svc.cluster.local", ".cluster.local")


def parse_ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip().strip("[]"))
    except ValueError:
        return None


def parse_network(value: str) -> IPNetwork | None:
    """Non-canonical CIDRs (host bits set) are accepted, as upstream e2e tests use them."""
    try:
        return ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        return None


def host_of(endpoint: str) -> str:
    """Host part of a URL, ``host:port``, ``[v6]:port`` or a bare host/IP."""
    value = endpoint.strip()
    if "://" in value:
        return (urlsplit(value).hostname or "").lower()
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    if parse_ip(value) is not None:
        return value
    host = value.split("/", 1)[0]
    return host.rsplit(":", 1)[0].lower() if host.count(":") == 1 else host.lower()


def is_cluster_local(host: str) -> bool:
    """A cluster DNS name: a cluster suffix, ``localhost``, or a single label (``kafka-bootstrap:9092``), which a pod
    resolves through its namespace's search domains to a Service of the cluster."""
    h = host.lower().rstrip(".")
    if h and "." not in h and ":" not in h:
        return True
    return any(h.endswith(s) for s in CLUSTER_DNS_SUFFIXES) or h in ("localhost", "kubernetes.default")


def place_host(host: str, jurisdiction: Jurisdiction, catalog: Catalog,
               cluster_cidrs: Iterable[IPNetwork] = ()) -> tuple[bool, str]:
    """(inside?, where) for a host name or IP: inside the jurisdiction, or where it lies instead."""
    ip = parse_ip(host)
    if ip is not None:
        if jurisdiction.owns_address(ip):
            return True, f"{jurisdiction.id} network"
        if any(ip.version == n.version and ip in n for n in cluster_cidrs):
            return True, "cluster network"
        other = catalog.jurisdiction_of_address(ip)
        return False, f"jurisdiction {other.id}" if other else "unattributed address space (no catalog network)"
    if not host:
        return False, "no host"
    if jurisdiction.owns_domain(host):
        return True, f"{jurisdiction.id} domain"
    if is_cluster_local(host):
        return True, "cluster-internal name"
    region = catalog.region_of_host(host)  # a provider's regional endpoint (s3.eu-central-1.amazonaws.com)
    if region is not None:
        owner = catalog.jurisdiction_of_region(region.provider, region.id)
        if owner is not None and owner.id == jurisdiction.id:
            return True, f"{jurisdiction.id} region {region.id} ({region.provider} endpoint)"
        where = f"jurisdiction {owner.id}" if owner else f"{region.country}"
        return False, f"{where} (region {region.id}, {region.provider} endpoint)"
    other = catalog.jurisdiction_of_domain(host)
    return False, f"jurisdiction {other.id}" if other else "a domain no catalog jurisdiction owns"


def subtract(network: IPNetwork, holes: Iterable[IPNetwork]) -> list[IPNetwork]:
    """``network`` minus ``holes`` as a list of CIDRs (what an ipBlock with ``except`` leaves open)."""
    remaining: list[IPNetwork] = [network]
    for hole in holes:
        if hole.version != network.version:
            continue
        nxt: list[IPNetwork] = []
        for block in remaining:
            if hole.supernet_of(block):  # type: ignore[arg-type]
                continue
            if block.supernet_of(hole):  # type: ignore[arg-type]
                nxt.extend(block.address_exclude(hole))  # type: ignore[arg-type]
            else:
                nxt.append(block)
        remaining = nxt
    return sorted(remaining, key=lambda n: (n.version, n.network_address))


def outside(blocks: Iterable[IPNetwork], allowed: Iterable[IPNetwork]) -> list[IPNetwork]:
    """The parts of ``blocks`` not covered by ``allowed``."""
    allowed = list(allowed)
    out: list[IPNetwork] = []
    for block in blocks:
        out.extend(subtract(block, [a for a in allowed if a.version == block.version]))
    return out


def place_network(text: str, jurisdiction: Jurisdiction, catalog: Catalog,
                  cluster_cidrs: Iterable[IPNetwork] = ()) -> tuple[bool, str]:
    """(inside?, where) for an address or CIDR: inside when every address of it lies in the jurisdiction's networks
    or the cluster's; else the jurisdiction (or unattributed space) the first foreign part lies in."""
    net = parse_network(text)
    if net is None:
        return False, f"an unparsable address {text!r}"
    foreign = outside([net], [*jurisdiction.networks, *cluster_cidrs])
    if not foreign:
        return True, f"{jurisdiction.id} network"
    other = catalog.jurisdiction_of_address(foreign[0].network_address)
    return False, f"jurisdiction {other.id}" if other else "unattributed address space (no catalog network)"
