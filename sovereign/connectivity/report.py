"""ConnectivityReport: answers (reach, query, cross-border paths) over the evaluated classes.

Answers are assembled lazily from per-signature outcomes (egress of the source, ingress of the
destination), so analysing a large cluster does not pay for questions nobody asks.
"""

from __future__ import annotations

import bisect
import ipaddress
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from sovereign.catalog.model import Catalog
from sovereign.connectivity.evaluate import DEFAULT_ALLOW, Chain, Entry, Outcome
from sovereign.connectivity.intervals import (
    Atoms,
    Range,
    address_networks,
    format_address_range,
    format_ports,
    group_masks,
    iter_bits,
    mask_of,
)
from sovereign.connectivity.inventory import Service
from sovereign.connectivity.model import (
    CLUSTER_ADDRESSES,
    DESTINATION_CLASSES,
    DNS_NAMES,
    HOME_NETWORKS,
    OPAQUE,
    OTHER_JURISDICTIONS,
    UNATTRIBUTED,
    WORKLOADS,
    Answer,
    BackendAnswer,
    CrossBorderPath,
    Destination,
    IgnoredPolicy,
    Inbound,
    Reach,
    RuleRef,
)
from sovereign.connectivity.resolution import ServiceResolution, fqdn_matches, resolve
from sovereign.connectivity.rules import OpaquePeer, Policy, Where
from sovereign.connectivity.universe import Universe
from sovereign.core.errors import InputError
from sovereign.core.labels import JURISDICTION
from sovereign.process.gc_tuning import cycle_collection_paused

QUERY_SOURCE = "<query>"
SERVICE_PREFIX = "service:"
"""``service:ns/name``: the Service of that name, when a workload shares it."""
WORKLOAD_PREFIX = "workload:"
"""``workload:ns/name``: the workload or pod of that name, when a Service shares it."""
HOST_NETWORK = "hostNetwork"
WORLD = "world"
"""A query's source meaning every address outside the cluster (as Cilium's ``world`` entity)."""
INBOUND = "inbound"
"""The kind of the rule-chain link that explains a hostNetwork pod."""


Exit = tuple[str, str | None, str, tuple[Range, ...], Chain, int, int]
"""(destination, its jurisdiction, protocol, ports, rules, destination bits, port mask)."""


def _pair(e_allowed: Iterable[Entry], i_allowed: Iterable[Entry]) -> list[Entry]:
    out = []
    i_list = list(i_allowed)
    for pe, ce in e_allowed:
        for pi, ci in i_list:
            if pe & pi:
                out.append((pe & pi, ce + ci))
    return out


class ConnectivityReport:
    """Read-only result of ``analyze``."""

    def __init__(
        self,
        universe: Universe,
        outcomes: dict[str, dict[int, Outcome]],
        signatures: dict[str, list[int]],
        ignored: list[IgnoredPolicy],
        notes: list[str],
        catalog: Catalog | None,
        jurisdiction: str | None,
        policies: list[Policy],
    ) -> None:
        self._u = universe
        self._outcomes = outcomes
        self._sig = signatures
        self.ignored_policies: list[IgnoredPolicy] = sorted(ignored, key=lambda p: (p.kind, p.namespace, p.name))
        self.notes: tuple[str, ...] = tuple(sorted(set(notes)))
        self._catalog = catalog
        self._jurisdiction = jurisdiction
        self.policy_count = len(policies)
        self._ref_class: dict[str, int] = {}
        for c in universe.classes:
            for ref, kind in zip(c.refs, c.kinds, strict=True):
                if ref not in self._ref_class or kind != "Pod":
                    self._ref_class[ref] = c.index
        self.workloads: tuple[str, ...] = tuple(sorted(self._ref_class))
        self._rows: list[int] | None = None
        self._atom_jur: dict[int, str | None] = {}
        self._segments: dict[int, tuple[list[int], list[str | None]]] | None = None
        self._foreign: dict[str | None, int] = {}
        self._opaque_jur: dict[int, str | None] = {}
        self._external_exits: dict[tuple[int, str | None], list[Exit]] = {}

    # ------------------------------------------------------------------ lookups

    @property
    def class_count(self) -> int:
        return len(self._u.classes)

    @property
    def service_refs(self) -> tuple[str, ...]:
        """``ns/name`` of every Service of the input, sorted."""
        return tuple(sorted(f"{ns}/{name}" for ns, name in self._u.services))

    def _class(self, ref: str) -> int:
        idx = self._ref_class.get(ref)
        if idx is None:
            raise InputError(QUERY_SOURCE, ["from"], "a workload or pod NS/NAME in the manifests", ref)
        return idx

    def _egress(self, c: int) -> Outcome:
        return self._outcomes["egress"][self._sig["egress"][c]]

    def _ingress(self, c: int) -> Outcome:
        return self._outcomes["ingress"][self._sig["ingress"][c]]

    def jurisdiction_of(self, ref: str) -> str | None:
        return self._class_jurisdiction(self._class(ref))

    def destination_jurisdictions(self, destination: str) -> tuple[str | None, ...]:
        """The jurisdictions a ``reach`` destination lies in: one for a workload, an FQDN pattern or an opaque
        destination; one per catalog network an address range spans. None: nobody's address space, or a place
        that cannot be known (an unresolved peer)."""
        u = self._u
        if destination in u.opaque_bit:
            peer = next(p for p in u.opaque if p.label == destination)
            return (self._opaque_jurisdiction(u.opaque_bit[destination], peer),)
        if destination.startswith("fqdn:"):
            return (self._fqdn_jurisdiction(destination[len("fqdn:"):]),)
        if destination in self._ref_class:
            return (self.jurisdiction_of(destination),)
        networks = address_networks(destination)
        if not networks:
            raise ValueError(f"not a reach destination: {destination!r}")
        found: set[str | None] = set()
        for net in networks:
            lo, hi = int(net.network_address), int(net.broadcast_address)
            if self._catalog is None:
                found.add(None)
                continue
            self._attribute_atom(net.version, lo)  # builds the segments between catalog network edges
            starts, owners = self._segments[net.version]  # type: ignore[index]
            first = bisect.bisect_right(starts, lo) - 1
            last = bisect.bisect_right(starts, hi) - 1
            found.update(owners[first:last + 1])
        return tuple(sorted(found, key=lambda j: (j is None, j or "")))

    def _foreign_classes(self, home: str | None) -> int:
        """Classes whose jurisdiction differs from ``home`` (cached: one mask per home)."""
        mask = self._foreign.get(home)
        if mask is None:
            mask = self._foreign[home] = mask_of(c for c in range(self._u.n) if self._class_jurisdiction(c) != home)
        return mask

    def _class_jurisdiction(self, c: int) -> str | None:
        ns = self._u.namespaces.get(self._u.classes[c].namespace)
        if ns is not None and JURISDICTION in ns.labels:
            return ns.labels[JURISDICTION]
        return self._jurisdiction

    def _pair_entries(self, s: int, d: int) -> tuple[list[Entry], list[Entry]]:
        e_allowed, e_denied = self._egress(s).at(d)
        i_allowed, i_denied = self._ingress(d).at(s)
        allowed = _pair(e_allowed, i_allowed)
        e_total = 0
        for pm, _ in e_allowed:
            e_total |= pm
        denied = list(e_denied) + [(pm & e_total, ch) for pm, ch in i_denied if pm & e_total]
        return allowed, denied

    # ------------------------------------------------------------------ reach

    def _reaches(self, dest: str, entries: Iterable[Entry]) -> list[Reach]:
        out = []
        for pm, chain in entries:
            for proto, ranges in self._u.port_ranges(pm):
                out.append(Reach(dest, proto, ranges, chain))
        return out

    def _address_runs(self, mask: int) -> list[tuple[int, Range]]:
        runs: list[tuple[int, Range]] = []
        for version, atoms in ((4, self._u.v4), (6, self._u.v6)):
            for rng in atoms.ranges(mask):
                runs.append((version, rng))
        return runs

    def reach(self, src_ref: str) -> list[Reach]:
        """Every (destination, protocol, ports) the source may open, with the allowing rule chain."""
        s = self._class(src_ref)
        u = self._u
        out: list[Reach] = []
        for mask, allowed, _ in self._egress(s).groups:
            if not allowed:
                continue
            for d in iter_bits(mask & u.classes_mask):
                i_allowed, _ = self._ingress(d).at(s)
                pairs = _pair(allowed, i_allowed)
                for ref in u.classes[d].refs:
                    out.extend(self._reaches(ref, pairs))
            for version, (lo, hi) in self._address_runs(mask):
                out.extend(self._reaches(format_address_range(version, lo, hi), allowed))
            for pattern, bit in u.fqdn_bit.items():
                if mask >> bit & 1:
                    out.extend(self._reaches("fqdn:" + pattern, allowed))
            if mask & u.opaque_mask:
                for label, bit in u.opaque_bit.items():
                    if mask >> bit & 1:
                        out.extend(self._reaches(label, allowed))
        return sorted(out, key=lambda r: (r.destination, r.protocol, r.ports, r.rules))

    def destinations(self, src_ref: str) -> list[Destination]:
        """Everything ``src_ref`` may open, by destination class (``DESTINATION_CLASSES``, in that order): each
        workload, the cluster's own address space, address ranges of its jurisdiction, of other jurisdictions and
        of nobody (split at catalog network edges), DNS names, and opaque destinations; each with its
        jurisdiction and the allowing rule chain (a hostNetwork source or destination explained in it)."""
        s = self._class(src_ref)
        u = self._u
        home = self._class_jurisdiction(s)
        src_links = self._host_network_links(s, "source " + src_ref)
        out: list[Destination] = []

        def add(category: str, dest: str, jur: str | None, entries: Iterable[Entry], links: Chain = ()) -> None:
            for pm, chain in entries:
                for proto, ranges in u.port_ranges(pm):
                    out.append(Destination(category, dest, jur, proto, ranges, (*src_links, *links, *chain)))

        for mask, allowed, _ in self._egress(s).groups:
            if not allowed:
                continue
            for d in iter_bits(mask & u.classes_mask):
                i_allowed, _ = self._ingress(d).at(s)
                pairs = _pair(allowed, i_allowed)
                for ref in u.classes[d].refs:
                    add(WORKLOADS, ref, self._class_jurisdiction(d), pairs,
                        self._host_network_links(d, "destination " + ref))
            for version, atoms in ((4, u.v4), (6, u.v6)):
                for lo, hi in atoms.ranges(mask & atoms.all_mask & ~u.world_mask):
                    add(CLUSTER_ADDRESSES, format_address_range(version, lo, hi), self._jurisdiction, allowed)
            for version, (lo, hi), jur in self._atom_runs(mask):
                category = UNATTRIBUTED if jur is None else HOME_NETWORKS if jur == home else OTHER_JURISDICTIONS
                add(category, format_address_range(version, lo, hi), jur, allowed)
            for pattern, bit in u.fqdn_bit.items():
                if mask >> bit & 1:
                    add(DNS_NAMES, "fqdn:" + pattern, self._fqdn_jurisdiction(pattern), allowed)
            if mask & u.opaque_mask:
                for peer in u.opaque:
                    bit = u.opaque_bit[peer.label]
                    if mask >> bit & 1:
                        add(OPAQUE, peer.label, self._opaque_jurisdiction(bit, peer), allowed)
        order = {c: i for i, c in enumerate(DESTINATION_CLASSES)}
        return sorted(out, key=lambda d: (order[d.category], d.destination, d.protocol, d.ports, d.rules))

    # ------------------------------------------------------------------ query

    def query(self, src_ref: str, dst: str, port: int | None, protocol: str = "TCP") -> Answer:
        """May ``src_ref`` open a connection to ``dst`` on ``port`` (None: any port) / ``protocol``?

        ``dst``: ``ns/name`` (a Service when the input has one of that name: what the name means in cluster DNS;
        else a workload or pod), ``service:ns/name`` or ``workload:ns/name`` to say which, an IP, or a destination
        label as ``reach`` shows it (``fqdn:<pattern>``, ``nodes:<selector>``, ``entity:<name>``,
        ``unresolved:<rule> <field>``). A Service is answered per backend (``resolution``): allowed when every
        backend is, denied when none is, ``mixed`` otherwise."""
        proto = protocol.upper()
        if proto not in ("TCP", "UDP", "SCTP"):
            raise InputError(QUERY_SOURCE, ["protocol"], "TCP, UDP or SCTP", protocol)
        if port is not None and not 1 <= port <= 65535:
            raise InputError(QUERY_SOURCE, ["port"], "a port 1..65535", port)
        outside = self.outside_source(src_ref)
        if outside is not None:
            return self._query_from_outside(outside, dst, port, proto)
        s = self._class(src_ref)
        links = self._host_network_links(s, "source " + src_ref)
        svc = self._service_named(dst)
        if svc is not None:
            return self._service_answer(s, links, resolve(self._u, svc, port, proto), port, proto)
        bit = self._target_bit(dst)
        answer = self._bit_answer(s, bit, port, proto)
        if bit < self._u.n:
            links = (*links, *self._host_network_links(bit, "destination " + dst.removeprefix(WORKLOAD_PREFIX)))
        return replace(answer, rules=(*links, *answer.rules)) if links else answer

    # ------------------------------------------------------------------ from outside the cluster

    def outside_source(self, src: str) -> int | None:
        """The address bits a query source outside the cluster stands for: ``world`` (every address outside the
        cluster's CIDRs) or one IP outside them; None for anything else (a workload or pod ref)."""
        u = self._u
        if src == WORLD:
            return u.world_mask
        try:
            ip = ipaddress.ip_address(src)
        except ValueError:
            return None
        atoms = u.v4 if ip.version == 4 else u.v6
        bit = 1 << (atoms.atom_of(int(ip)) + atoms.offset)
        if not bit & u.world_mask or str(ip) in u.ip_class:
            raise InputError(QUERY_SOURCE, ["from"], "an address outside the cluster's pod and service CIDRs (a "
                             "pod's own address: ask from its workload NS/NAME)", src)
        return bit

    def _query_from_outside(self, outside: int, dst: str, port: int | None, proto: str) -> Answer:
        """May a client at ``outside`` connect to ``dst``? Only the destination's ingress decides (the client is
        no pod: no egress policy applies to it); a Service is answered per backend, as for a pod client."""
        svc = self._service_named(dst)
        if svc is None:
            bit = self._target_bit(dst)
            if bit >= self._u.n:
                raise InputError(QUERY_SOURCE, ["to"], "a workload, pod or Service of the input (from outside the "
                                 "cluster only the cluster's own pods are asked about)", dst)
            links = self._host_network_links(bit, "destination " + dst.removeprefix(WORKLOAD_PREFIX))
            answer = self._outside_bit_answer(outside, bit, port, proto)
            return replace(answer, rules=(*links, *answer.rules)) if links else answer
        res = resolve(self._u, svc, port, proto)
        if res.closed:
            return Answer(False, (), res.closed, resolved=res.steps)
        if res.external_name:
            return Answer(False, (), f"{dst} is an ExternalName alias with no backends in the cluster: a client "
                          "outside the cluster resolves the name itself", resolved=res.steps)
        per: list[BackendAnswer] = []
        for b in res.backends:
            if b.bit >= self._u.n:
                per.append(BackendAnswer(b.label, b.port, False, ()))
                continue
            ans = self._outside_bit_answer(outside, b.bit, b.port, proto)
            per.append(BackendAnswer(b.label, b.port, ans.allowed, ans.rules))
        ok = [b for b in per if b.allowed]
        if ok and len(ok) == len(per):
            return Answer(True, ok[0].rules, "allowed by " + "; ".join(str(r) for r in ok[0].rules), False,
                          res.steps, tuple(per))
        denied = tuple(dict.fromkeys(r for b in per if not b.allowed for r in b.rules))
        if not ok:
            reason = "denied by " + "; ".join(str(r) for r in denied) if denied else "no rule allows it"
            return Answer(False, denied, reason, False, res.steps, tuple(per))
        return Answer(False, denied, f"mixed: {len(ok)} of {len(per)} backends allowed", True, res.steps,
                      tuple(per))

    def _outside_bit_answer(self, outside: int, d: int, port: int | None, proto: str) -> Answer:
        """Class ``d``'s ingress for the addresses ``outside``: allowed when some of them may connect on the port
        (``world`` asks whether anyone outside can), naming the address ranges admitted."""
        u = self._u
        qmask = u.port_query_mask(proto, port)
        chain: Chain | None = None
        admitted = 0
        denied: list[RuleRef] = []
        for mask, allowed, refused in self._ingress(d).groups:
            m = mask & outside
            if not m:
                continue
            hit = next((ch for pm, ch in allowed if pm & qmask), None)
            if hit is not None:
                chain = chain or hit
                admitted |= m
            else:
                denied.extend(r for pm, ch in refused if pm & qmask for r in ch)
        if chain is None:
            rules = tuple(dict.fromkeys(denied))
            reason = "denied by " + "; ".join(str(r) for r in rules) if rules else "no rule allows it"
            return Answer(False, rules, reason)
        runs = [format_address_range(v, lo, hi) for v, (lo, hi), _ in self._atom_runs(admitted)]
        shown = ", ".join(runs[:8]) + (f" and {len(runs) - 8} more" if len(runs) > 8 else "")
        return Answer(True, chain, f"allowed from {shown} by " + "; ".join(str(r) for r in chain))

    def inbound(self, ref: str) -> list[Inbound]:
        """Every address range outside the cluster that may connect to ``ref``, per protocol and ports, with the
        admitting chain; ``explicit`` when a policy rule admits it (not the default allow)."""
        d = self._class(ref)
        u = self._u
        out: list[Inbound] = []
        for mask, allowed, _ in self._ingress(d).groups:
            m = mask & u.world_mask
            if not m or not allowed:
                continue
            runs = self._atom_runs(m)
            for pm, chain in allowed:
                explicit = not chain or chain[-1] != DEFAULT_ALLOW
                for proto, ranges in u.port_ranges(pm):
                    for version, (lo, hi), jur in runs:
                        out.append(Inbound(ref, format_address_range(version, lo, hi), jur, proto, ranges, chain,
                                           explicit))
        return sorted(out, key=lambda i: (i.source_range, i.protocol, i.ports, i.rules))

    def _inbound_paths(self, ref: str, home: str | None) -> list[CrossBorderPath]:
        """Clients abroad that a policy rule lets connect to ``ref``: its data leaves on the response path. The
        default allow of a workload no policy isolates is not counted here: whether anyone outside reaches such a
        pod is its door's question (a LoadBalancer or NodePort Service, hostPort), judged by the pack's
        ``service-endpoint-in-jurisdiction`` and ``no-host-access``."""
        return [
            CrossBorderPath(ref, home, (), i.source_range, i.source_jurisdiction, i.protocol, i.ports, i.rules,
                            INBOUND)
            for i in self.inbound(ref)
            if i.explicit and (i.source_jurisdiction is None or i.source_jurisdiction != home)
        ]

    def _bit_answer(self, s: int, bit: int, port: int | None, proto: str) -> Answer:
        """The answer for one destination bit of the universe (a pod class, an address atom, an FQDN or opaque
        destination)."""
        qmask = self._u.port_query_mask(proto, port)
        if bit < self._u.n:
            allowed, denied = self._pair_entries(s, bit)
        else:
            a, dn = self._egress(s).at(bit)
            allowed, denied = list(a), list(dn)
        for pm, chain in allowed:
            if pm & qmask:
                return Answer(True, chain, "allowed by " + "; ".join(str(r) for r in chain))
        rules = tuple(dict.fromkeys(r for pm, ch in denied if pm & qmask for r in ch))
        reason = "denied by " + "; ".join(str(r) for r in rules) if rules else "no rule allows it"
        return Answer(False, rules, reason)

    def _service_named(self, dst: str) -> Service | None:
        """The Service ``dst`` names: ``service:ns/name``, or ``ns/name`` when a Service has that name."""
        explicit = dst.startswith(SERVICE_PREFIX)
        ns, _, name = dst.removeprefix(SERVICE_PREFIX).partition("/")
        svc = self._u.services.get((ns, name))
        if svc is None and explicit:
            raise InputError(QUERY_SOURCE, ["to"], "service:NS/NAME of a Service in the manifests", dst)
        return svc

    def _target_bit(self, dst: str) -> int:
        """The universe bit of a destination that is not a Service: a workload or pod, an IP, a label."""
        u = self._u
        ref = dst.removeprefix(WORKLOAD_PREFIX)
        if ref in self._ref_class:
            return self._ref_class[ref]
        if dst.startswith(WORKLOAD_PREFIX):
            raise InputError(QUERY_SOURCE, ["to"], "workload:NS/NAME of a workload or pod in the manifests", dst)
        try:
            ip = ipaddress.ip_address(dst)
        except ValueError:
            ip = None
        if ip is not None:
            return u.address_bit(ip).bit_length() - 1
        label_bit = u.destination_bit(dst)
        if label_bit is not None:
            return label_bit
        raise InputError(QUERY_SOURCE, ["to"], "NS/NAME of a workload, pod or Service, or an IP address", dst)

    def _service_answer(self, s: int, links: Chain, res: ServiceResolution, port: int | None,
                        proto: str) -> Answer:
        """Allowed when every backend is reachable on its port, denied when none is, mixed otherwise."""
        if res.closed:
            return Answer(False, links, res.closed, resolved=res.steps)
        if res.external_name:
            return self._external_name_answer(s, links, res, port, proto)
        per: list[BackendAnswer] = []
        for b in res.backends:
            ans = self._bit_answer(s, b.bit, b.port, proto)
            host = self._host_network_links(b.bit, "backend " + b.label) if b.bit < self._u.n else ()
            per.append(BackendAnswer(b.label, b.port, ans.allowed, (*host, *ans.rules)))
        ok = [b for b in per if b.allowed]
        if len(ok) == len(per):
            chain = (*links, *ok[0].rules)
            return Answer(True, chain, "allowed by " + "; ".join(str(r) for r in chain), False, res.steps,
                          tuple(per))
        denied = tuple(dict.fromkeys(r for b in per if not b.allowed for r in b.rules))
        if not ok:
            reason = "denied by " + "; ".join(str(r) for r in denied) if denied else "no rule allows it"
            return Answer(False, (*links, *denied), reason, False, res.steps, tuple(per))
        reason = (f"mixed: {len(ok)} of {len(per)} backends allowed ("
                  + ", ".join(f"{b.backend}:{b.port if b.port is not None else 'any'}" for b in ok)
                  + "); a connection may land on one that is denied")
        return Answer(False, (*links, *denied), reason, True, res.steps, tuple(per))

    def _external_name_answer(self, s: int, links: Chain, res: ServiceResolution, port: int | None,
                              proto: str) -> Answer:
        """An ExternalName Service: the addresses its DNS name resolves to cannot be known offline, so the answer
        is allowed only when every address outside the cluster is (or a DNS-aware rule names the name), denied
        only when none is and no DNS rule names it, mixed otherwise."""
        u = self._u
        qmask = u.port_query_mask(proto, port)
        name = res.external_name.lower().rstrip(".")
        for pattern, bit in sorted(u.fqdn_bit.items()):
            if fqdn_matches(pattern, name):
                ans = self._bit_answer(s, bit, port, proto)
                if ans.allowed:
                    return replace(ans, rules=(*links, *ans.rules), resolved=res.steps)
        allowed_chain: Chain | None = None
        some_denied = False
        denied_rules: list[RuleRef] = []
        for mask, allowed, denied in self._egress(s).groups:
            if not mask & u.world_mask:
                continue
            hit = next((chain for pm, chain in allowed if pm & qmask), None)
            if hit is not None:
                allowed_chain = allowed_chain or hit
            else:
                some_denied = True
                denied_rules.extend(r for pm, ch in denied if pm & qmask for r in ch)
        rules = tuple(dict.fromkeys(denied_rules))
        if allowed_chain is not None and not some_denied:
            chain = (*links, *allowed_chain)
            return Answer(True, chain, f"allowed to every address {name} may resolve to, by "
                          + "; ".join(str(r) for r in allowed_chain), resolved=res.steps)
        if allowed_chain is None:
            return Answer(False, (*links, *rules), f"denied to every address {name} may resolve to"
                          + (": " + "; ".join(str(r) for r in rules) if rules else ""), resolved=res.steps)
        return Answer(False, (*links, *rules), f"mixed: some addresses outside the cluster are allowed, others "
                      f"denied; it depends on what {name} resolves to", True, res.steps)

    def _host_network_links(self, c: int, who: str) -> Chain:
        """Why policies do or do not see a hostNetwork pod, as a link of the rule chain (per the CNI parameter
        ``host_network_selected``); nothing for other pods."""
        if not self._u.classes[c].host_network:
            return ()
        if self._u.cni.host_network_selected:
            why = ("runs with hostNetwork; the CNI lets NetworkPolicy pod and namespace selectors select it "
                   "(--host-network-selected), AdminNetworkPolicy, ClusterNetworkPolicy and Cilium selectors "
                   "never do; node peers match it by the node's address")
        else:
            why = ("runs with hostNetwork: no policy's pod or namespace selector selects it, as subject or peer (the "
                   "CNI treats it as node traffic: --no-host-network-selected); only node peers (nodes:, Cilium "
                   "host, remote-node, cluster) match it, by the node's address")
        return (RuleRef(HOST_NETWORK, "", "", f"{who} {why}"),)

    # ------------------------------------------------------------------ cross-border

    def _attribute_atom(self, version: int, lo: int) -> str | None:
        """Jurisdiction whose catalog networks hold the atom starting at ``lo`` (atoms never straddle a catalog
        network edge). Segments between network edges are attributed once with the catalog's own lookup,
        then each atom is a bisect away."""
        if self._catalog is None:
            return None
        if self._segments is None:
            self._segments = {}
            for ver in (4, 6):
                space = 2**32 - 1 if ver == 4 else 2**128 - 1
                nets = [
                    net for jur in self._catalog.jurisdictions.values() for net in jur.networks if net.version == ver
                ]
                starts = Atoms(0, space, [(int(n.network_address), int(n.broadcast_address)) for n in nets], 0).starts
                cls = ipaddress.IPv4Address if ver == 4 else ipaddress.IPv6Address
                owners = []
                for start in starts:
                    jur = self._catalog.jurisdiction_of_address(cls(start))
                    owners.append(jur.id if jur else None)
                self._segments[ver] = (starts, owners)
        starts, owners = self._segments[version]
        return owners[bisect.bisect_right(starts, lo) - 1]

    def _opaque_jurisdiction(self, bit: int, peer: OpaquePeer) -> str | None:
        """Jurisdiction of an opaque destination: the cluster's for in-cluster ones, the catalog's for a
        region-pinned node set, None (foreign) when unknown."""
        if bit in self._opaque_jur:
            return self._opaque_jur[bit]
        if peer.where is Where.CLUSTER:
            jur = self._jurisdiction
        elif peer.where is Where.REGION:
            jur = self._region_jurisdiction(peer.region)
        else:
            jur = None
        self._opaque_jur[bit] = jur
        return jur

    def _region_jurisdiction(self, region: str) -> str | None:
        """The one jurisdiction a region id belongs to at every provider that knows it; None when no provider
        knows it, or when providers disagree (region ids are not portable: ap-southeast-1 is Singapore at one
        cloud and Hong Kong at another) — the selector names no provider, so either could be meant."""
        if self._catalog is None:
            return None
        providers = set(self._catalog.providers)
        for jur in self._catalog.jurisdictions.values():
            providers.update(jur.regions)
        outcomes: set[str | None] = set()
        for provider in sorted(providers):
            prov = self._catalog.providers.get(provider)
            owner = self._catalog.jurisdiction_of_region(provider, region)
            if owner is not None:
                outcomes.add(owner.id)
            elif prov is not None and prov.region(region) is not None:
                outcomes.add(None)  # the provider has the region, and no jurisdiction claims it
        if len(outcomes) == 1:
            return next(iter(outcomes))
        return None

    def _fqdn_jurisdiction(self, pattern: str) -> str | None:
        if self._catalog is None:
            return None
        jur = self._catalog.jurisdiction_of_domain(pattern.lstrip("*").lstrip("."))
        if jur is None and pattern.startswith(("*.", "**.")):
            jur = self._catalog.jurisdiction_of_domain(pattern)
        return jur.id if jur else None

    def _atom_runs(self, mask: int) -> list[tuple[int, Range, str | None]]:
        """Foreign-candidate address runs with one attributed jurisdiction each (in-cluster atoms dropped)."""
        u = self._u
        runs: list[tuple[int, Range, str | None]] = []
        for version, atoms in ((4, u.v4), (6, u.v6)):
            m = mask & atoms.all_mask & u.world_mask
            cur: tuple[int, int, str | None] | None = None
            for bit in iter_bits(m):
                idx = bit - atoms.offset
                lo, hi = atoms.span(idx)
                if bit not in self._atom_jur:
                    self._atom_jur[bit] = self._attribute_atom(version, lo)
                jur = self._atom_jur[bit]
                if cur is not None and cur[1] + 1 == lo and cur[2] == jur:
                    cur = (cur[0], hi, jur)
                else:
                    if cur is not None:
                        runs.append((version, (cur[0], cur[1]), cur[2]))
                    cur = (lo, hi, jur)
            if cur is not None:
                runs.append((version, (cur[0], cur[1]), cur[2]))
        return runs

    def _direct(self, c: int, home: str | None) -> list[Exit]:
        """(destination, its jurisdiction, protocol, ports, rules, destination bits, port mask) that leave
        ``home`` directly from class c. The address/FQDN part depends only on the egress outcome, so it is
        computed once per (egress signature, home) and shared (strings and tuples included)."""
        u = self._u
        key = (self._sig["egress"][c], home)
        external = self._external_exits.get(key)
        if external is None:
            external = self._external(c, home)
            self._external_exits[key] = external
        foreign = self._foreign_classes(home)
        inside: list[Exit] = []
        for mask, allowed, _ in self._egress(c).groups:
            if not allowed or not mask & foreign:
                continue
            for d in iter_bits(mask & foreign):
                djur = self._class_jurisdiction(d)
                i_allowed, _ = self._ingress(d).at(c)
                for pm, chain in _pair(allowed, i_allowed):
                    for proto, ranges in u.port_ranges(pm):
                        inside.append((u.classes[d].refs[0], djur, proto, ranges, chain, 1 << d, pm))
        if not inside:
            return external
        return sorted([*external, *inside], key=lambda x: (x[0], x[2], x[3], x[4]))

    def _external(self, c: int, home: str | None) -> list[Exit]:
        u = self._u
        out: list[Exit] = []
        for mask, allowed, _ in self._egress(c).groups:
            if not allowed:
                continue
            ports = [(pm, chain, u.port_ranges(pm)) for pm, chain in allowed]
            for version, (lo, hi), jur in self._atom_runs(mask):
                if jur is not None and jur == home:
                    continue
                dest = format_address_range(version, lo, hi)
                atoms = u.v4 if version == 4 else u.v6
                dbits = atoms.mask([(lo, hi)])
                for pm, chain, by_proto in ports:
                    for proto, ranges in by_proto:
                        out.append((dest, jur, proto, ranges, chain, dbits, pm))
            for pattern, bit in u.fqdn_bit.items():
                if not mask >> bit & 1:
                    continue
                jur = self._fqdn_jurisdiction(pattern)
                if jur is not None and jur == home:
                    continue
                for pm, chain, by_proto in ports:
                    for proto, ranges in by_proto:
                        out.append(("fqdn:" + pattern, jur, proto, ranges, chain, 1 << bit, pm))
            if not mask & u.opaque_mask:
                continue
            for peer in u.opaque:
                bit = u.opaque_bit[peer.label]
                if not mask >> bit & 1:
                    continue
                jur = self._opaque_jurisdiction(bit, peer)
                if jur is not None and jur == home:
                    continue
                for pm, chain, by_proto in ports:
                    for proto, ranges in by_proto:
                        out.append((peer.label, jur, proto, ranges, chain, 1 << bit, pm))
        return sorted(out, key=lambda x: (x[0], x[2], x[3], x[4]))

    def _covers(self, a: int, dbits: int, pm: int) -> bool:
        """Whether class ``a`` itself may reach every destination bit in ``dbits`` on every port in ``pm``."""
        u = self._u
        for mask, allowed, _ in self._egress(a).groups:
            inter = mask & dbits
            if not inter:
                continue
            total = _total(allowed)
            if total & pm != pm:
                return False
            for d in iter_bits(inter & u.classes_mask):
                i_allowed, _ = self._ingress(d).at(a)
                if _total(_pair(allowed, i_allowed)) & pm != pm:
                    return False
        return True

    def reach_rows(self) -> list[int]:
        """Class -> bitmask of classes it can open at least one connection to (both directions allow)."""
        if self._rows is not None:
            return self._rows
        u = self._u
        rows = [0] * u.n
        e_members: dict[int, int] = group_masks((self._sig["egress"][c], c) for c in range(u.n))
        i_members: dict[int, int] = group_masks((self._sig["ingress"][c], c) for c in range(u.n))
        isigs = list(i_members)
        i_totals = {
            key: [(smask, _total(allowed)) for smask, allowed, _ in self._outcomes["ingress"][key].groups if allowed]
            for key in isigs
        }
        for ekey, srcs_all in e_members.items():
            for gmask, allowed, _ in self._outcomes["egress"][ekey].groups:
                dm = gmask & u.classes_mask
                if not dm or not allowed:
                    continue
                pe = _total(allowed)
                if dm.bit_count() < len(isigs):
                    hit = {self._sig["ingress"][d] for d in iter_bits(dm)}
                else:
                    hit = {k for k in isigs if i_members[k] & dm}
                for ikey in hit:
                    dsts = dm & i_members[ikey]
                    for smask, pi in i_totals[ikey]:
                        if not pe & pi:
                            continue
                        for s in iter_bits(srcs_all & smask):
                            rows[s] |= dsts
        self._rows = rows
        return rows

    def cross_border(self) -> list[CrossBorderPath]:
        """Direct paths out of each workload's jurisdiction, and relay paths (A -> in-cluster B -> abroad)
        where A does not already reach the same destinations directly."""
        with cycle_collection_paused():
            return self._cross_border()

    def _cross_border(self) -> list[CrossBorderPath]:
        u = self._u
        rows = self.reach_rows()
        rev = _transpose(rows)
        homes = [self._class_jurisdiction(c) for c in range(u.n)]
        direct_cache: dict[tuple[int, str | None], list[Exit]] = {}
        covers_cache: dict[tuple[int, int, int], bool] = {}

        def direct(c: int, home: str | None) -> list[Exit]:
            key = (c, home)
            hit = direct_cache.get(key)
            if hit is None:
                hit = direct_cache[key] = self._direct(c, home)
            return hit

        def covers(a: int, dbits: int, pm: int) -> bool:
            key = (a, dbits, pm)
            hit = covers_cache.get(key)
            if hit is None:
                hit = covers_cache[key] = self._covers(a, dbits, pm)
            return hit

        relays: dict[int, list[tuple[tuple[str, ...], int]]] = {}
        """source class -> (hops, exit class) of relay paths worth reporting."""
        for home in sorted(set(homes), key=lambda h: (h is None, h or "")):
            sig_of_list: dict[int, frozenset[tuple[int, int]]] = {}
            exit_sigs: list[tuple[frozenset[tuple[int, int]], int]] = []
            for b in range(u.n):
                exits = direct(b, home)
                sig = sig_of_list.get(id(exits))
                if sig is None:  # classes sharing an egress outcome share the very same exits list
                    sig = sig_of_list[id(exits)] = frozenset((x[5], x[6]) for x in exits)
                if sig:
                    exit_sigs.append((sig, b))
            groups = group_masks(exit_sigs)
            for sig, members in sorted(groups.items(), key=lambda kv: kv[1]):
                next_hop = _backward_bfs(members, rows, rev)
                for a in sorted(next_hop):
                    if homes[a] != home or members >> a & 1:
                        continue
                    if all(covers(a, dbits, pm) for dbits, pm in sig):
                        continue  # a already leaves to the same places on the same ports by itself
                    hops = []
                    x = a
                    while not members >> x & 1:
                        x = next_hop[x]
                        hops.append(u.classes[x].refs[0])
                    relays.setdefault(a, []).append((tuple(hops), x))

        by_ref: list[tuple[str, int]] = sorted((ref, c.index) for c in u.classes for ref in c.refs)
        paths: list[CrossBorderPath] = []
        for ref, c in by_ref:
            home = homes[c]
            for dest, jur, proto, ports, chain, _, _ in direct(c, home):
                paths.append(CrossBorderPath(ref, home, (), dest, jur, proto, ports, chain))
            via = [
                CrossBorderPath(ref, home, hops, dest, jur, proto, ports, chain)
                for hops, x in relays.get(c, ())
                for dest, jur, proto, ports, chain, _, _ in direct(x, home)
            ]
            via.sort(key=lambda p: (len(p.hops), p.hops, p.destination_range, p.protocol, p.ports, p.rules))
            paths.extend(via)
            paths.extend(self._inbound_paths(ref, home))
        return paths

    # ------------------------------------------------------------------ JSON

    def to_json(self, *, include_reach: bool = True) -> dict[str, Any]:
        """Deterministic, JSON-serialisable view (sorted keys and lists)."""
        out: dict[str, Any] = {
            "workloads": list(self.workloads),
            "classes": self.class_count,
            "ignoredPolicies": [
                {"kind": p.kind, "namespace": p.namespace, "name": p.name, "reason": p.reason}
                for p in self.ignored_policies
            ],
            "notes": list(self.notes),
            "crossBorder": [_path_json(p) for p in self.cross_border()],
        }
        if include_reach:
            out["reach"] = {ref: [reach_json(r) for r in self.reach(ref)] for ref in self.workloads}
        return out


def _total(entries: Iterable[Entry]) -> int:
    t = 0
    for pm, _ in entries:
        t |= pm
    return t


def _transpose(rows: list[int]) -> list[int]:
    """Reverse adjacency. Rows are grouped by value first: in permissive clusters most rows are identical,
    and one OR per (distinct row, destination) replaces one per edge."""
    by_value = group_masks((row, s) for s, row in enumerate(rows) if row)
    rev = [0] * len(rows)
    for row, sources in by_value.items():
        for d in iter_bits(row):
            rev[d] |= sources
    return rev


def _backward_bfs(targets: int, rows: list[int], rev: list[int]) -> dict[int, int]:
    """For every class that can reach ``targets`` (in one or more hops), its next hop on a shortest path."""
    next_hop: dict[int, int] = {}
    visited = targets
    frontier = targets
    while frontier:
        preds = 0
        for y in iter_bits(frontier):
            preds |= rev[y]
        new = preds & ~visited
        for x in iter_bits(new):
            step = rows[x] & frontier
            next_hop[x] = (step & -step).bit_length() - 1
        visited |= new
        frontier = new
    return next_hop


def rules_json(rules: Iterable[RuleRef]) -> list[str]:
    return [str(r) for r in rules]


def reach_json(r: Reach) -> dict[str, Any]:
    return {
        "destination": r.destination,
        "protocol": r.protocol,
        "ports": format_ports(r.ports),
        "rules": rules_json(r.rules),
    }


def _path_json(p: CrossBorderPath) -> dict[str, Any]:
    return {
        "source": p.source,
        "sourceJurisdiction": p.source_jurisdiction,
        "hops": list(p.hops),
        "destination": p.destination_range,
        "destinationJurisdiction": p.destination_jurisdiction,
        "protocol": p.protocol,
        "ports": format_ports(p.ports),
        "rules": rules_json(p.rules),
        **({"direction": p.direction} if p.direction == INBOUND else {}),
    }


__all__ = ["ConnectivityReport", "reach_json", "rules_json"]
