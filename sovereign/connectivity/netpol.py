"""networking.k8s.io/v1 NetworkPolicy -> engine rules, with upstream defaulting applied."""

from __future__ import annotations

from typing import Any

from sovereign.connectivity.inventory import Manifest, name_of, namespace_of
from sovereign.connectivity.model import RuleRef
from sovereign.connectivity.parsing import address_peer, mapping, port_number, seq
from sovereign.connectivity.rules import Action, Peer, PodPeer, Policy, PortSpec, Rule, Section, Tier
from sovereign.connectivity.selectors import parse_selector
from sovereign.core.errors import InputError

KIND = "NetworkPolicy"


def _ports(m: Manifest, raw: Any, *keys: str | int) -> tuple[PortSpec, ...] | None:
    items = seq(m, raw, *keys)
    if not items:
        return None  # omitted or empty: every port
    out: list[PortSpec] = []
    for i, p in enumerate(items):
        pk = (*keys, i)
        p = mapping(m, p, *pk)
        proto = p.get("protocol", "TCP")  # defaulted by the API server
        if proto not in ("TCP", "UDP", "SCTP"):
            raise InputError(m.source, m.path(*pk, "protocol"), "TCP, UDP or SCTP", proto)
        port = p.get("port")
        end = p.get("endPort")
        if port is None:
            if end is not None:
                raise InputError(m.source, m.path(*pk, "endPort"), "no endPort without a numeric port", end)
            out.append(PortSpec(proto))
        elif isinstance(port, str) and not port.isdigit():
            if end is not None:
                raise InputError(m.source, m.path(*pk, "endPort"), "no endPort with a named port", end)
            out.append(PortSpec(proto, name=port))
        else:
            start = port_number(m, port, *pk, "port")
            stop = start if end is None else port_number(m, end, *pk, "endPort")
            if stop < start:
                raise InputError(m.source, m.path(*pk, "endPort"), f"endPort >= port ({start})", end)
            out.append(PortSpec(proto, start, stop))
    return tuple(out)


def _peers(m: Manifest, raw: Any, ns: str, pods_match_ipblock: bool, *keys: str | int) -> tuple[Peer, ...] | None:
    items = seq(m, raw, *keys)
    if not items:
        return None  # omitted or empty: every peer, the Internet included
    out: list[Peer] = []
    for i, p in enumerate(items):
        pk = (*keys, i)
        p = mapping(m, p, *pk)
        has_ip = "ipBlock" in p and p["ipBlock"] is not None
        has_sel = p.get("podSelector") is not None or p.get("namespaceSelector") is not None
        if has_ip and has_sel:
            raise InputError(m.source, m.path(*pk), "ipBlock alone, or pod/namespace selectors", sorted(p))
        if has_ip:
            block = mapping(m, p["ipBlock"], *pk, "ipBlock")
            out.append(
                address_peer(m, block.get("cidr"), block.get("except"), pods_match_ipblock, *pk, "ipBlock", "cidr")
            )
            continue
        if not has_sel:
            raise InputError(m.source, m.path(*pk), "one of podSelector, namespaceSelector, ipBlock", p)
        pod_sel = p.get("podSelector")
        pods = None if pod_sel is None else parse_selector(pod_sel, m.source, m.path(*pk, "podSelector"))
        if pods is not None and pods.is_empty:
            pods = None
        if p.get("namespaceSelector") is None:
            out.append(PodPeer(ns, None, pods))  # podSelector alone: the policy's own namespace
        else:
            nsel = parse_selector(p["namespaceSelector"], m.source, m.path(*pk, "namespaceSelector"))
            out.append(PodPeer(None, None if nsel.is_empty else nsel, pods))
    return tuple(out)


def parse(m: Manifest, ipblock_matches_pod_ips: bool) -> Policy:
    name, ns = name_of(m), namespace_of(m)
    spec = mapping(m, m.obj.get("spec"), "spec")
    subject_sel = parse_selector(spec.get("podSelector"), m.source, m.path("spec", "podSelector"))
    egress_raw = seq(m, spec.get("egress"), "spec", "egress")
    types = seq(m, spec.get("policyTypes"), "spec", "policyTypes")
    for i, t in enumerate(types):
        if t not in ("Ingress", "Egress"):
            raise InputError(m.source, m.path("spec", "policyTypes", i), "Ingress or Egress", t)
    if not types:  # upstream defaulting
        types = ["Ingress"] + (["Egress"] if egress_raw else [])
    sections: dict[str, Section | None] = {"ingress": None, "egress": None}
    for direction, peer_key in (("ingress", "from"), ("egress", "to")):
        if direction.capitalize() not in types:
            continue  # rules of a direction not in policyTypes are ignored
        rules: list[Rule] = []
        for i, r in enumerate(seq(m, spec.get(direction), "spec", direction)):
            rk = ("spec", direction, i)
            r = mapping(m, r, *rk)
            rules.append(
                Rule(
                    RuleRef(KIND, ns, name, f"{direction}[{i}]"),
                    Action.ALLOW,
                    _peers(m, r.get(peer_key), ns, ipblock_matches_pod_ips, *rk, peer_key),
                    _ports(m, r.get("ports"), *rk, "ports"),
                )
            )
        sections[direction] = Section(True, tuple(rules))
    return Policy(
        KIND,
        ns,
        name,
        Tier.NETWORK_POLICY,
        0,
        PodPeer(ns, None, None if subject_sel.is_empty else subject_sel),
        sections["ingress"],
        sections["egress"],
    )
