"""Evaluate one direction for one set of selecting policies, over the whole universe at once.

The universe is partitioned into groups (bitmasks) that every rule so far treats alike; a rule splits the
groups it touches. Each group carries, per port mask, the decision and the rule chain that made it:

1. Admin tier (AdminNetworkPolicy, ClusterNetworkPolicy tier Admin): by priority, first match; Allow and
   Deny are final, Pass hands the ports to the next tier.
2. NetworkPolicy tier (NetworkPolicy + Cilium allow rules): union of allows; if any selecting policy
   isolates this direction, the rest is denied, otherwise it goes on.
3. Baseline tier (BaselineAdminNetworkPolicy, ClusterNetworkPolicy tier Baseline): first match.
4. Default allow.
5. Cilium ingressDeny/egressDeny: remove matching ports from whatever was allowed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sovereign.connectivity.inventory import NamedPorts
from sovereign.connectivity.model import RuleRef
from sovereign.connectivity.rules import Action, Policy, Rule, Section, Tier
from sovereign.connectivity.universe import Universe

Chain = tuple[RuleRef, ...]
Entry = tuple[int, Chain]
"""(port mask, rule chain)."""

DEFAULT_ALLOW = RuleRef("default", "", "", "allow (no policy decides)")


class _Group:
    __slots__ = ("mask", "undecided", "pending", "allowed", "denied")

    def __init__(self, mask: int, undecided: int) -> None:
        self.mask = mask
        self.undecided = undecided
        self.pending: list[Entry] = []
        self.allowed: list[Entry] = []
        self.denied: list[Entry] = []

    def split(self, mask: int) -> _Group:
        g = _Group(mask, self.undecided)
        g.pending = list(self.pending)
        g.allowed = list(self.allowed)
        g.denied = list(self.denied)
        return g


@dataclass(frozen=True)
class Outcome:
    """The evaluated direction: disjoint groups covering the universe, each with allowed/denied entries."""

    groups: tuple[tuple[int, tuple[Entry, ...], tuple[Entry, ...]], ...]

    def at(self, bit: int) -> tuple[tuple[Entry, ...], tuple[Entry, ...]]:
        probe = 1 << bit
        for mask, allowed, denied in self.groups:
            if mask & probe:
                return allowed, denied
        return (), ()


def _refine(groups: list[_Group], mask: int) -> tuple[list[_Group], list[_Group]]:
    out: list[_Group] = []
    inside: list[_Group] = []
    for g in groups:
        hit = g.mask & mask
        if not hit:
            out.append(g)
            continue
        if hit != g.mask:
            out.append(g.split(g.mask ^ hit))
            g.mask = hit
        out.append(g)
        inside.append(g)
    return out, inside


def _merge(entries: list[Entry]) -> tuple[Entry, ...]:
    if len(entries) <= 1:
        return tuple(e for e in entries if e[0])
    by_chain: dict[Chain, int] = {}
    for pm, chain in entries:
        if pm:
            by_chain[chain] = by_chain.get(chain, 0) | pm
    return tuple(sorted(((pm, c) for c, pm in by_chain.items()), key=lambda e: e[1]))


def evaluate(
    u: Universe,
    policies: Sequence[tuple[int, Policy]],
    egress: bool,
    subject_ports: NamedPorts | None,
    rule_ids: dict[int, list[int]],
    portmap_id: int = -1,
) -> Outcome:
    """``policies``: (index, policy) selecting the subject in this direction; ``rule_ids[index]`` gives
    stable ids for the section's rules (allow rules first, then deny rules)."""
    # Ingress sources are pod classes and the address space outside the cluster (a connection from outside:
    # docs/connectivity.md, "Ingress from outside the cluster"); opaque and FQDN bits are destinations only.
    universe = u.universe if egress else u.ingress_sources
    groups = [_Group(universe, u.all_ports)]

    def section(p: Policy) -> Section:
        s = p.egress if egress else p.ingress
        assert s is not None
        return s

    def rules_of(idx: int, p: Policy, deny: bool = False) -> Iterator[tuple[int, Rule]]:
        s = section(p)
        ids = rule_ids[idx]
        base = 0 if not deny else len(s.rules)
        for k, r in enumerate(s.deny if deny else s.rules):
            yield ids[base + k], r

    admin = sorted(
        (x for x in policies if x[1].tier is Tier.ADMIN), key=lambda x: (x[1].priority, x[1].kind, x[1].name)
    )
    middle = sorted(
        (x for x in policies if x[1].tier is Tier.NETWORK_POLICY),
        key=lambda x: (x[1].kind, x[1].namespace, x[1].name),
    )
    baseline = sorted(
        (x for x in policies if x[1].tier is Tier.BASELINE),
        key=lambda x: (x[1].priority, x[1].kind, x[1].name),
    )

    # 1. Admin tier: first match on the undecided ports.
    for idx, p in admin:
        for rid, r in rules_of(idx, p):
            for dmask, pm in u.pieces(rid, r, p, egress, subject_ports, portmap_id):
                groups, inside = _refine(groups, dmask)
                for g in inside:
                    hit = g.undecided & pm
                    if not hit:
                        continue
                    g.undecided ^= hit
                    entry = (hit, (r.ref,))
                    if r.action is Action.ALLOW:
                        g.allowed.append(entry)
                    elif r.action is Action.DENY:
                        g.denied.append(entry)
                    else:
                        g.pending.append(entry)
    for g in groups:
        if g.undecided:
            g.pending.append((g.undecided, ()))
        g.undecided = 0

    # 2. NetworkPolicy tier: union of allows; isolation denies the rest.
    direction = "egress" if egress else "ingress"
    isolating = tuple(
        RuleRef(p.kind, p.namespace, p.name, f"isolates {direction}") for _, p in middle if section(p).isolates
    )
    for idx, p in middle:
        for rid, r in rules_of(idx, p):
            for dmask, pm in u.pieces(rid, r, p, egress, subject_ports, portmap_id):
                groups, inside = _refine(groups, dmask)
                for g in inside:
                    rest: list[Entry] = []
                    for epm, chain in g.pending:
                        hit = epm & pm
                        if hit:
                            g.allowed.append((hit, (*chain, r.ref)))
                            epm ^= hit
                        if epm:
                            rest.append((epm, chain))
                    g.pending = rest
    if isolating:
        for g in groups:
            g.denied.extend((pm, (*chain, *isolating)) for pm, chain in g.pending)
            g.pending = []
    else:
        # 3. Baseline tier: first match.
        for idx, p in baseline:
            for rid, r in rules_of(idx, p):
                for dmask, pm in u.pieces(rid, r, p, egress, subject_ports, portmap_id):
                    groups, inside = _refine(groups, dmask)
                    for g in inside:
                        rest = []
                        for epm, chain in g.pending:
                            hit = epm & pm
                            if hit:
                                target = g.denied if r.action is Action.DENY else g.allowed
                                target.append((hit, (*chain, r.ref)))
                                epm ^= hit
                            if epm:
                                rest.append((epm, chain))
                        g.pending = rest
        # 4. Default allow.
        for g in groups:
            g.allowed.extend((pm, (*chain, DEFAULT_ALLOW)) for pm, chain in g.pending)
            g.pending = []

    # 5. Cilium deny overrides every allow.
    for idx, p in middle:
        for rid, r in rules_of(idx, p, deny=True):
            for dmask, pm in u.pieces(rid, r, p, egress, subject_ports, portmap_id):
                groups, inside = _refine(groups, dmask)
                for g in inside:
                    kept: list[Entry] = []
                    for epm, chain in g.allowed:
                        cut = epm & pm
                        if cut:
                            g.denied.append((cut, (r.ref,)))
                            epm ^= cut
                        if epm:
                            kept.append((epm, chain))
                    g.allowed = kept
    return Outcome(tuple((g.mask, _merge(g.allowed), _merge(g.denied)) for g in groups))
