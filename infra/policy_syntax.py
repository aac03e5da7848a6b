"""Port and peer syntax of the four policy APIs the program writes, from one PortSpec.

NetworkPolicy, AdminNetworkPolicy (v1alpha1), ClusterNetworkPolicy (v1alpha2) and Cilium each spell
"TCP 443" differently; keeping the spellings here keeps the components about *what* is allowed.
"""

from __future__ import annotations

from typing import Any

from sovereign.core import labels
from sovereign.stackconfig.model import PortSpec

ALL_IPV4 = "0.0.0.0/0"
ALL_IPV6 = "::/0"
MAX_NETWORKS_PER_PEER = 25
"""ANP/CNP ``networks`` peers hold at most 25 CIDRs."""
FIRST_PORT, LAST_PORT = 1, 65535

CILIUM_NAMESPACE_LABEL = labels.CILIUM_NAMESPACE


def np_ports(ports: tuple[PortSpec, ...]) -> list[dict[str, Any]]:
    """networking.k8s.io/v1: ``protocol`` without ``port`` matches every port of that protocol."""
    out: list[dict[str, Any]] = []
    for p in ports:
        entry: dict[str, Any] = {"protocol": p.protocol.value}
        if p.port is not None:
            entry["port"] = p.port
            if p.end_port is not None and p.end_port != p.port:
                entry["endPort"] = p.end_port
        out.append(entry)
    return out


def anp_ports(ports: tuple[PortSpec, ...]) -> list[dict[str, Any]]:
    """policy.networking.k8s.io/v1alpha1 ``ports``: portNumber or portRange (whole protocol = full range)."""
    out: list[dict[str, Any]] = []
    for p in ports:
        if p.port is not None and (p.end_port is None or p.end_port == p.port):
            out.append({"portNumber": {"protocol": p.protocol.value, "port": p.port}})
        else:
            start = p.port if p.port is not None else FIRST_PORT
            end = p.end_port if p.end_port is not None else LAST_PORT
            out.append({"portRange": {"protocol": p.protocol.value, "start": start, "end": end}})
    return out


def cnp_protocols(ports: tuple[PortSpec, ...]) -> list[dict[str, Any]]:
    """policy.networking.k8s.io/v1alpha2 ``protocols``: {tcp|udp|sctp: {destinationPort: number|range}}."""
    out: list[dict[str, Any]] = []
    for p in ports:
        if p.port is not None and (p.end_port is None or p.end_port == p.port):
            dest: dict[str, Any] = {"number": p.port}
        else:
            start = p.port if p.port is not None else FIRST_PORT
            end = p.end_port if p.end_port is not None else LAST_PORT
            dest = {"range": {"start": start, "end": end}}
        out.append({p.protocol.value.lower(): {"destinationPort": dest}})
    return out


def cilium_ports(ports: tuple[PortSpec, ...]) -> list[dict[str, Any]]:
    """cilium.io/v2 ``toPorts[].ports``: port is a string; "0" means every port of the protocol."""
    out: list[dict[str, Any]] = []
    for p in ports:
        entry: dict[str, Any] = {
            "port": str(p.port if p.port is not None else 0),
            "protocol": p.protocol.value,
        }
        if p.port is not None and p.end_port is not None and p.end_port != p.port:
            entry["endPort"] = p.end_port
        out.append(entry)
    return out


def networks_peers(cidrs: list[str]) -> list[dict[str, Any]]:
    """ANP/CNP egress peers for CIDRs, chunked to the API's 25-per-peer limit."""
    return [{"networks": cidrs[i : i + MAX_NETWORKS_PER_PEER]} for i in range(0, len(cidrs), MAX_NETWORKS_PER_PEER)]


def namespaced_pod(namespace: str, workload: str) -> dict[str, Any]:
    """ANP/CNP ``pods`` selector for exactly one workload."""
    return {
        "namespaceSelector": {"matchLabels": {labels.METADATA_NAME: namespace}},
        "podSelector": {"matchLabels": {labels.WORKLOAD: workload}},
    }


def np_workload_peer(namespace: str, workload: str) -> dict[str, Any]:
    """NetworkPolicy peer: namespaceSelector AND podSelector in ONE element (two elements would be ORed)."""
    return {
        "namespaceSelector": {"matchLabels": {labels.METADATA_NAME: namespace}},
        "podSelector": {"matchLabels": {labels.WORKLOAD: workload}},
    }


def cilium_cidr_deny(allowed_v4: list[str], allowed_v6: list[str]) -> list[dict[str, Any]]:
    """``toCIDRSet`` denying all of IPv4 and IPv6 except the allowed CIDRs (except must lie inside cidr)."""
    v4: dict[str, Any] = {"cidr": ALL_IPV4}
    v6: dict[str, Any] = {"cidr": ALL_IPV6}
    if allowed_v4:
        v4["except"] = allowed_v4
    if allowed_v6:
        v6["except"] = allowed_v6
    return [v4, v6]
