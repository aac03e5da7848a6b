"""The cluster as bitmasks: pod classes, address atoms and FQDN names are bits of one destination universe.

Bit layout: ``[0, N)`` pod classes, then IPv4 address atoms, then IPv6 atoms, then one bit per FQDN pattern,
then one bit per opaque destination (a peer whose addresses cannot be known offline: cluster nodes, Cilium
entities such as ``kube-apiserver``, and the unresolvable peers of allow rules). Ports are a second, separate
bitmask over per-protocol port atoms. Everything the evaluator needs is a mask lookup; selectors go through
label indexes.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sovereign.catalog.model import IPNetwork
from sovereign.connectivity.cilium import NAMESPACE_LABEL, NAMESPACE_LABELS_PREFIX
from sovereign.connectivity.intervals import (
    PORT_MAX,
    PORT_MIN,
    PROTOCOLS,
    Atoms,
    Range,
    group_masks,
    iter_bits,
    mask_of,
    network_range,
)
from sovereign.connectivity.inventory import NamedPorts, Namespace, PodTemplate, Service
from sovereign.connectivity.model import CniParams
from sovereign.connectivity.rules import (
    AddressPeer,
    EntityPeer,
    FqdnPeer,
    InCluster,
    OpaquePeer,
    Peer,
    PodPeer,
    Policy,
    PortSpec,
    Rule,
    ServicePeer,
)
from sovereign.connectivity.selectors import LabelIndex, LabelSelector
from sovereign.core.labels import METADATA_NAME


@dataclass
class PodClass:
    index: int
    namespace: str
    labels: dict[str, str]
    named_ports: NamedPorts
    host_network: bool
    ip_atoms: tuple[int, ...]
    """Address bits (universe positions) of the members' known IPs; empty when no IP is known."""
    refs: list[str]
    kinds: list[str]
    pods: int
    ips: frozenset[str]
    portmap_id: int = -1
    """Small int naming ``named_ports`` (classes with equal named ports share it); -1 for none."""


class Universe:
    """Masks for classes, addresses, FQDNs and ports, plus peer and port resolution (cached)."""

    def __init__(
        self,
        namespaces: dict[str, Namespace],
        templates: Sequence[PodTemplate],
        services: dict[tuple[str, str], Service],
        policies: Sequence[Policy],
        cni: CniParams,
        extra_networks: Iterable[IPNetwork],
        cluster_cidrs: Sequence[IPNetwork],
    ) -> None:
        self.cni = cni
        self.namespaces = namespaces
        self.services = services
        self.cluster_cidrs = tuple(cluster_cidrs)
        rules = [r for p in policies for s in (p.ingress, p.egress) if s for r in (*s.rules, *s.deny)]

        # --- address atoms (class count is not known yet: build with offset 0, shift later) ---
        v4: list[Range] = []
        v6: list[Range] = []
        fqdns: set[str] = set()
        opaque: dict[str, OpaquePeer] = {}
        for r in rules:
            for peer in r.peers or ():
                if isinstance(peer, AddressPeer):
                    v4.extend(peer.v4)
                    v6.extend(peer.v6)
                elif isinstance(peer, FqdnPeer):
                    fqdns.add(peer.pattern)
        for p in policies:
            # Opaque destinations are destinations: only egress rules make bits (an ingress peer is a source,
            # and sources are pod classes).
            for r in (*p.egress.rules, *p.egress.deny) if p.egress is not None else ():
                for peer in r.peers or ():
                    found = self._unresolved_service(peer) if isinstance(peer, ServicePeer) else peer
                    if isinstance(found, OpaquePeer):
                        known = opaque.get(found.label)
                        if known is None or _opaque_key(found) < _opaque_key(known):
                            opaque[found.label] = found
        for net in (*extra_networks, *cluster_cidrs):
            (v4 if net.version == 4 else v6).append(network_range(net))
        for svc in services.values():
            for ips in svc.endpoint_ips:
                for ip in ips:
                    (v4 if ip.version == 4 else v6).append((int(ip), int(ip)))

        # --- pod classes: identical (ns, labels, named ports, hostNetwork, IP atoms) are one class ---
        probe4 = Atoms(0, 2**32 - 1, v4, 0)
        probe6 = Atoms(0, 2**128 - 1, v6, 0)
        keyed: dict[tuple[Any, ...], list[PodTemplate]] = {}
        for t in templates:
            atoms = tuple(
                sorted({(ip.version, (probe4 if ip.version == 4 else probe6).atom_of(int(ip))) for ip in t.ips})
            )
            key = (t.namespace, tuple(sorted(t.labels.items())), t.named_ports, t.host_network, atoms)
            keyed.setdefault(key, []).append(t)
        self.classes: list[PodClass] = []
        n = len(keyed)
        self.n = n
        self.v4 = Atoms(0, 2**32 - 1, v4, n)
        self.v6 = Atoms(0, 2**128 - 1, v6, n + self.v4.count)
        self.fqdns = sorted(fqdns)
        fq_off = n + self.v4.count + self.v6.count
        self.fqdn_bit = {f: fq_off + i for i, f in enumerate(self.fqdns)}
        op_off = fq_off + len(self.fqdns)
        self.opaque: list[OpaquePeer] = [opaque[label] for label in sorted(opaque)]
        """One representative peer per opaque destination, in bit order (sorted by label)."""
        self.opaque_bit = {o.label: op_off + i for i, o in enumerate(self.opaque)}
        self.classes_mask = (1 << n) - 1
        self.addr_mask = self.v4.all_mask | self.v6.all_mask
        self.fqdn_mask = ((1 << len(self.fqdns)) - 1) << fq_off
        self.opaque_mask = ((1 << len(self.opaque)) - 1) << op_off
        self.universe = self.classes_mask | self.addr_mask | self.fqdn_mask | self.opaque_mask
        self.cluster_opaque_allow = mask_of(
            self.opaque_bit[o.label] for o in self.opaque if o.in_cluster is not InCluster.NO
        )
        """Opaque destinations Cilium's ``cluster`` entity may cover (allow rules)."""
        self.cluster_opaque_deny = mask_of(
            self.opaque_bit[o.label] for o in self.opaque if o.in_cluster is InCluster.YES
        )
        """Opaque destinations it certainly covers (deny rules)."""
        for i, key in enumerate(sorted(keyed)):
            members = sorted(keyed[key], key=lambda t: t.ref)
            t0 = members[0]
            atom_bits = tuple(
                (probe4.atom_of(int(ip)) + self.v4.offset)
                if ip.version == 4
                else (probe6.atom_of(int(ip)) + self.v6.offset)
                for ip in sorted({ip for t in members for ip in t.ips}, key=lambda a: (a.version, int(a)))
            )
            self.classes.append(
                PodClass(
                    i,
                    t0.namespace,
                    dict(t0.labels),
                    t0.named_ports,
                    t0.host_network,
                    tuple(sorted(set(atom_bits))),
                    [t.ref for t in members],
                    [t.kind for t in members],
                    sum(t.replicas for t in members),
                    frozenset(str(ip) for t in members for ip in t.ips),
                )
            )
        self.ip_class = {ip: c.index for c in self.classes for ip in c.ips}
        portmap_ids: dict[NamedPorts, int] = {}
        for c in self.classes:
            if c.named_ports:
                c.portmap_id = portmap_ids.setdefault(c.named_ports, len(portmap_ids))
        self.ip_classes = [c for c in self.classes if c.ip_atoms]
        self.no_ip_mask = mask_of(c.index for c in self.classes if not c.ip_atoms)
        for c in self.classes:
            if c.namespace not in namespaces:
                namespaces[c.namespace] = Namespace(c.namespace, {METADATA_NAME: c.namespace})

        # --- label indexes ---
        self.pod_index = LabelIndex([c.labels for c in self.classes])
        self.cilium_index = LabelIndex([self._cilium_labels(c) for c in self.classes])
        self.ns_names = sorted(namespaces)
        self.ns_index = LabelIndex([namespaces[n].labels for n in self.ns_names])
        self.ns_classes: dict[str, int] = group_masks((c.namespace, c.index) for c in self.classes)
        self.hostnet_mask = mask_of(c.index for c in self.classes if c.host_network)
        self.world_mask = self.addr_mask & ~self._address_mask(
            [network_range(n) for n in cluster_cidrs if n.version == 4],
            [network_range(n) for n in cluster_cidrs if n.version == 6],
            pods=False,
        )
        self.ingress_sources = self.classes_mask | self.world_mask
        """What an ingress rule can admit: pod classes, and address atoms outside the cluster's CIDRs."""

        # --- ports ---
        port_ranges: dict[str, list[Range]] = {p: [] for p in PROTOCOLS}
        for r in rules:
            for spec in r.ports or ():
                if spec.start is not None:
                    for proto in (spec.protocol,) if spec.protocol else PROTOCOLS:
                        port_ranges[proto].append((spec.start, spec.end or spec.start))
                        port_ranges[proto].append((spec.start, spec.start))
        for c in self.classes:
            for _, proto, num in c.named_ports:
                port_ranges[proto].append((num, num))
        for svc in services.values():
            for sp in svc.ports:
                port_ranges[sp.protocol].append((sp.port, sp.port))
                if isinstance(sp.target, int):
                    port_ranges[sp.protocol].append((sp.target, sp.target))
        self.port_atoms: dict[str, Atoms] = {}
        off = 0
        for proto in PROTOCOLS:
            self.port_atoms[proto] = Atoms(PORT_MIN, PORT_MAX, port_ranges[proto], off)
            off += self.port_atoms[proto].count
        self.all_ports = (1 << off) - 1
        self.portmap_groups: dict[NamedPorts, int] = group_masks(
            (c.named_ports, c.index) for c in self.classes if c.named_ports
        )
        self._peer_cache: dict[tuple[int, str], int] = {}
        self._ns_class_cache: dict[LabelSelector, int] = {}
        self._pieces_cache: dict[tuple[int, bool, int], tuple[tuple[int, int], ...]] = {}

    # ------------------------------------------------------------------ labels

    def _cilium_labels(self, c: PodClass) -> dict[str, str]:
        labels = dict(c.labels)
        labels[NAMESPACE_LABEL] = c.namespace
        ns = self.namespaces.get(c.namespace)
        for k, v in (ns.labels if ns else {METADATA_NAME: c.namespace}).items():
            labels[NAMESPACE_LABELS_PREFIX + k] = v
        return labels

    # ------------------------------------------------------------------ peers

    def pod_peer_mask(self, peer: PodPeer, host_rule: str) -> int:
        if peer.namespace is not None:
            m = self.ns_classes.get(peer.namespace, 0)
        elif peer.namespace_selector is not None:
            cached = self._ns_class_cache.get(peer.namespace_selector)
            if cached is None:
                cached = 0
                for i in iter_bits(self.ns_index.select(peer.namespace_selector)):
                    cached |= self.ns_classes.get(self.ns_names[i], 0)
                self._ns_class_cache[peer.namespace_selector] = cached
            m = cached
        else:
            m = self.classes_mask
        if peer.pods is not None:
            m &= (self.cilium_index if peer.cilium else self.pod_index).select(peer.pods)
        if host_rule == "never" or not self.cni.host_network_selected:
            m &= ~self.hostnet_mask
        return m

    def _address_mask(self, v4: Sequence[Range], v6: Sequence[Range], pods: bool) -> int:
        m = self.v4.mask(v4) | self.v6.mask(v6)
        if pods:
            m |= self._classes_in(m, v4, v6)
        return m

    def _classes_in(self, addr: int, v4: Sequence[Range], v6: Sequence[Range]) -> int:
        """Classes whose pod IPs all lie in the ranges; pods without a known IP count as inside only when
        the ranges cover every cluster CIDR of one IP version (the pod CIDR must hold them)."""
        unknown_inside = False
        for version, ranges in ((4, v4), (6, v6)):
            cidrs = [network_range(n) for n in self.cluster_cidrs if n.version == version]
            if cidrs and all(any(a <= lo and hi <= b for a, b in ranges) for lo, hi in cidrs):
                unknown_inside = True
        m = self.no_ip_mask if unknown_inside else 0
        for c in self.ip_classes:
            if all((addr >> b) & 1 for b in c.ip_atoms):
                m |= 1 << c.index
        return m & ~self.hostnet_mask

    def peer_mask(self, rule_id: int, rule: Rule, policy: Policy, egress: bool) -> int:
        key = (rule_id, "e" if egress else "i")
        hit = self._peer_cache.get(key)
        if hit is not None:
            return hit
        if rule.peers is None:
            m = self.universe
        else:
            m = 0
            for peer in rule.peers:
                m |= self._one_peer(peer, policy)
        if not egress:
            m &= self.ingress_sources
        self._peer_cache[key] = m
        return m

    def _one_peer(self, peer: Peer, policy: Policy) -> int:
        if isinstance(peer, PodPeer):
            return self.pod_peer_mask(peer, policy.host_network_rule)
        if isinstance(peer, AddressPeer):
            return self._address_mask(peer.v4, peer.v6, peer.pods)
        if isinstance(peer, EntityPeer):
            if peer.world and peer.cluster and peer.deny:
                return self.universe  # ``all`` in a deny rule: everything, opaque destinations included
            m = self.world_mask if peer.world else 0
            if peer.cluster:
                m |= self.classes_mask | (self.cluster_opaque_deny if peer.deny else self.cluster_opaque_allow)
            return m
        if isinstance(peer, FqdnPeer):
            return 1 << self.fqdn_bit[peer.pattern]
        if isinstance(peer, ServicePeer):
            unresolved = self._unresolved_service(peer)
            if unresolved is not None:
                return self.opaque_peer_mask(unresolved)
            return self.service_mask(peer.namespace, peer.name)
        if isinstance(peer, OpaquePeer):
            return self.opaque_peer_mask(peer)
        raise TypeError(peer)

    def opaque_peer_mask(self, peer: OpaquePeer) -> int:
        """The opaque destination's bit (absent for ingress-only peers: sources are classes), plus the pod
        classes the peer may stand for."""
        bit = self.opaque_bit.get(peer.label)
        m = 0 if bit is None else 1 << bit
        if peer.host_network:
            m |= self.hostnet_mask
        if peer.pods:
            m |= self.classes_mask & ~self.hostnet_mask
        return m

    def _unresolved_service(self, peer: ServicePeer) -> OpaquePeer | None:
        """What an allow rule's Service peer stands for when the input cannot resolve it: the Service is not
        in the input, or it has no selector and no EndpointSlice (its addresses are unknown)."""
        if peer.unresolved is None:
            return None
        svc = self.services.get((peer.namespace, peer.name))
        if svc is None or (not svc.selector and not svc.endpoint_ips):
            return peer.unresolved
        return None

    def service_mask(self, namespace: str, name: str) -> int:
        """Backends of a Service: selected classes, or its EndpointSlice addresses (as pods or atoms)."""
        svc = self.services.get((namespace, name))
        if svc is None:
            return 0
        m = 0
        if svc.selector:
            m = self.ns_classes.get(namespace, 0)
            for k, v in svc.selector.items():
                m &= self.pod_index.by_pair.get((k, v), 0)
        for ips in svc.endpoint_ips:
            for ip in ips:
                m |= self.address_bit(ip)
        return m

    def address_bit(self, ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> int:
        """The class whose pods have this IP, else the address atom holding it."""
        cls = self.ip_class.get(str(ip))
        if cls is not None:
            return 1 << cls
        atoms = self.v4 if ip.version == 4 else self.v6
        return 1 << (atoms.atom_of(int(ip)) + atoms.offset)

    # ------------------------------------------------------------------ ports

    def numeric_ports(self, spec: PortSpec) -> int:
        m = 0
        for proto in (spec.protocol,) if spec.protocol else PROTOCOLS:
            if proto == "SCTP" and not self.cni.sctp:
                continue
            atoms = self.port_atoms[proto]
            if spec.start is None:
                m |= atoms.all_mask
            else:
                end = (spec.end or spec.start) if self.cni.end_port else spec.start
                m |= atoms.mask([(spec.start, end)])
        return m

    def named_ports(self, spec: PortSpec, named: NamedPorts) -> int:
        m = 0
        for name, proto, num in named:
            if name == spec.name and (spec.protocol is None or spec.protocol == proto):
                if proto == "SCTP" and not self.cni.sctp:
                    continue
                m |= self.port_atoms[proto].mask([(num, num)])
        return m

    def pieces(
        self,
        rule_id: int,
        rule: Rule,
        policy: Policy,
        egress: bool,
        subject_ports: NamedPorts | None,
        portmap_id: int = -1,
    ) -> tuple[tuple[int, int], ...]:
        """(destination/source mask, port mask) pieces a rule matches; named ports resolve on the
        destination: the peer for egress, the subject itself for ingress."""
        key = (rule_id, egress, -1 if egress or not subject_ports else portmap_id)
        hit = self._pieces_cache.get(key)
        if hit is not None:
            return hit
        peers = self.peer_mask(rule_id, rule, policy, egress)
        out: list[tuple[int, int]] = []
        if peers:
            if rule.ports is None:
                out.append((peers, self.all_ports))
            else:
                numeric = 0
                named_specs = []
                for spec in rule.ports:
                    if spec.name is None:
                        numeric |= self.numeric_ports(spec)
                    else:
                        named_specs.append(spec)
                if not named_specs:
                    if numeric:
                        out.append((peers, numeric))
                elif not egress:
                    pm = numeric
                    for spec in named_specs:
                        pm |= self.named_ports(spec, subject_ports or ())
                    if pm:
                        out.append((peers, pm))
                else:
                    by_ports: dict[int, int] = {}
                    rest = peers
                    for named, cmask in self.portmap_groups.items():
                        part = peers & cmask
                        if not part:
                            continue
                        rest &= ~cmask
                        pm = numeric
                        for spec in named_specs:
                            pm |= self.named_ports(spec, named)
                        by_ports[pm] = by_ports.get(pm, 0) | part
                    if rest:
                        by_ports[numeric] = by_ports.get(numeric, 0) | rest
                    out.extend((m, pm) for pm, m in sorted(by_ports.items()) if pm and m)
        result = tuple(out)
        self._pieces_cache[key] = result
        return result

    def port_ranges(self, mask: int) -> list[tuple[str, tuple[Range, ...]]]:
        out = []
        for proto in PROTOCOLS:
            r = self.port_atoms[proto].ranges(mask)
            if r:
                out.append((proto, r))
        return out

    def destination_bit(self, label: str) -> int | None:
        """Universe bit of an ``fqdn:<pattern>`` or opaque destination label; None if there is none."""
        if label.startswith("fqdn:"):
            return self.fqdn_bit.get(label[len("fqdn:") :])
        return self.opaque_bit.get(label)

    def port_query_mask(self, protocol: str, port: int | None) -> int:
        atoms = self.port_atoms[protocol]
        return atoms.all_mask if port is None else atoms.mask([(port, port)])


def _opaque_key(peer: OpaquePeer) -> tuple[str, str, str]:
    """Deterministic choice among peers that name the same destination (parsers keep label -> attribution
    one-to-one; this only guards order independence)."""
    return (peer.where.value, peer.region, peer.in_cluster.value)
