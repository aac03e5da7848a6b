"""policy.networking.k8s.io AdminNetworkPolicy / BaselineAdminNetworkPolicy (v1alpha1) and
ClusterNetworkPolicy (v1alpha2) -> engine rules.

All three are cluster-scoped, ordered (priority, then rule order; first match wins) and never select
host-networked pods by pod or namespace selectors; a ``nodes`` peer (cluster nodes matching a node selector)
is an opaque destination that also stands for the hostNetwork pods sharing the nodes' IPs.

A peer field this parser does not know (a newer API's peer type) in an Allow/Accept rule is an opaque
destination of unknown jurisdiction that may also stand for any pod: an Allow that cannot be resolved is a
path to an unknown place. A peer with no known field in a Deny/Pass rule matches everything (as the API
types prescribe for implementations that do not know the field).
"""

from __future__ import annotations

from typing import Any

from sovereign.connectivity.inventory import Manifest, name_of
from sovereign.connectivity.model import RuleRef
from sovereign.connectivity.parsing import address_peer, mapping, port_number, seq
from sovereign.connectivity.rules import (
    Action,
    FqdnPeer,
    OpaquePeer,
    Peer,
    PodPeer,
    Policy,
    PortSpec,
    Rule,
    Section,
    Tier,
    Where,
    node_peers,
)
from sovereign.connectivity.selectors import LabelSelector, parse_selector
from sovereign.core.errors import InputError

ANP, BANP, CNP = "AdminNetworkPolicy", "BaselineAdminNetworkPolicy", "ClusterNetworkPolicy"

_ACTIONS = {
    ANP: {"Allow": Action.ALLOW, "Deny": Action.DENY, "Pass": Action.PASS},
    BANP: {"Allow": Action.ALLOW, "Deny": Action.DENY},
    CNP: {"Accept": Action.ALLOW, "Deny": Action.DENY, "Pass": Action.PASS},
}


def _sel(m: Manifest, raw: Any, *keys: str | int) -> LabelSelector | None:
    sel = parse_selector(raw, m.source, m.path(*keys))
    return None if sel.is_empty else sel


def _pod_peer(m: Manifest, raw: dict[str, Any], *keys: str | int) -> PodPeer | None:
    """``namespaces`` or ``pods`` peer/subject; None if neither is present."""
    if raw.get("namespaces") is not None:
        return PodPeer(None, _sel(m, raw["namespaces"], *keys, "namespaces"), None)
    if raw.get("pods") is not None:
        pods = mapping(m, raw["pods"], *keys, "pods")
        return PodPeer(
            None,
            _sel(m, pods.get("namespaceSelector"), *keys, "pods", "namespaceSelector"),
            _sel(m, pods.get("podSelector"), *keys, "pods", "podSelector"),
        )
    return None


_PEER_KEYS = {
    True: frozenset({"namespaces", "pods", "networks", "domainNames", "nodes"}),
    False: frozenset({"namespaces", "pods"}),
}
"""Peer fields this parser models, for egress (True) and ingress (False)."""


def _peers(
    m: Manifest, raw: Any, action: Action, egress: bool, ref: RuleRef, *keys: str | int
) -> tuple[Peer, ...] | None:
    items = seq(m, raw, *keys)
    if not items:
        raise InputError(m.source, m.path(*keys), "at least one peer", raw)
    out: list[Peer] = []
    for i, p in enumerate(items):
        pk = (*keys, i)
        p = mapping(m, p, *pk)
        unknown = sorted(str(k) for k in p if k not in _PEER_KEYS[egress])
        if unknown and action is Action.ALLOW:
            # Whatever the unknown field names (pods, nodes, addresses) this Allow may reach it.
            label = f"unresolved:{ref} {keys[-1]}[{i}] {','.join(unknown)}"
            out.append(OpaquePeer(label, Where.UNKNOWN, pods=True, host_network=True))
        pod = _pod_peer(m, p, *pk)
        if pod is not None:
            out.append(pod)
        elif egress and p.get("networks") is not None:
            for j, net in enumerate(seq(m, p["networks"], *pk, "networks")):
                out.append(address_peer(m, net, None, True, *pk, "networks", j))
        elif egress and p.get("domainNames") is not None:
            if action is not Action.ALLOW:
                raise InputError(m.source, m.path(*pk, "domainNames"), "domainNames only in Accept rules", action)
            for j, d in enumerate(seq(m, p["domainNames"], *pk, "domainNames")):
                if not isinstance(d, str) or not d:
                    raise InputError(m.source, m.path(*pk, "domainNames", j), "a domain name", d)
                out.append(FqdnPeer(d.lower().rstrip(".")))
        elif egress and p.get("nodes") is not None:
            out.extend(node_peers(parse_selector(p["nodes"], m.source, m.path(*pk, "nodes")), action))
        elif action is Action.ALLOW:
            continue  # no known field: the unknown one is an opaque destination (above)
        else:
            return None  # no known field in Deny/Pass: matches everything, as the API types prescribe
    return tuple(out)


def _v1alpha1_ports(m: Manifest, raw: Any, *keys: str | int) -> tuple[PortSpec, ...] | None:
    items = seq(m, raw, *keys)
    if not items:
        return None
    out: list[PortSpec] = []
    for i, p in enumerate(items):
        pk = (*keys, i)
        p = mapping(m, p, *pk)
        if p.get("portNumber") is not None:
            pn = mapping(m, p["portNumber"], *pk, "portNumber")
            n = port_number(m, pn.get("port"), *pk, "portNumber", "port")
            out.append(PortSpec(_proto(m, pn.get("protocol"), *pk, "portNumber", "protocol"), n, n))
        elif p.get("namedPort") is not None:
            if not isinstance(p["namedPort"], str):
                raise InputError(m.source, m.path(*pk, "namedPort"), "a port name", p["namedPort"])
            out.append(PortSpec(None, name=p["namedPort"]))
        elif p.get("portRange") is not None:
            pr = mapping(m, p["portRange"], *pk, "portRange")
            a = port_number(m, pr.get("start"), *pk, "portRange", "start")
            b = port_number(m, pr.get("end"), *pk, "portRange", "end")
            if b < a:
                raise InputError(m.source, m.path(*pk, "portRange", "end"), f"end >= start ({a})", b)
            out.append(PortSpec(_proto(m, pr.get("protocol"), *pk, "portRange", "protocol"), a, b))
        else:
            raise InputError(m.source, m.path(*pk), "portNumber, namedPort or portRange", p)
    return tuple(out)


def _v1alpha2_protocols(m: Manifest, raw: Any, *keys: str | int) -> tuple[PortSpec, ...] | None:
    items = seq(m, raw, *keys)
    if not items:
        return None
    out: list[PortSpec] = []
    for i, p in enumerate(items):
        pk = (*keys, i)
        p = mapping(m, p, *pk)
        if p.get("destinationNamedPort") is not None:
            out.append(PortSpec(None, name=str(p["destinationNamedPort"])))
            continue
        for key, proto in (("tcp", "TCP"), ("udp", "UDP"), ("sctp", "SCTP")):
            if p.get(key) is None:
                continue
            dp = mapping(m, mapping(m, p[key], *pk, key).get("destinationPort"), *pk, key, "destinationPort")
            if dp.get("number") is not None:
                n = port_number(m, dp["number"], *pk, key, "destinationPort", "number")
                out.append(PortSpec(proto, n, n))
            elif dp.get("range") is not None:
                rg = mapping(m, dp["range"], *pk, key, "destinationPort", "range")
                a = port_number(m, rg.get("start"), *pk, key, "destinationPort", "range", "start")
                b = port_number(m, rg.get("end"), *pk, key, "destinationPort", "range", "end")
                if b < a:
                    raise InputError(
                        m.source,
                        m.path(*pk, key, "destinationPort", "range", "end"),
                        f"end >= start ({a})",
                        b,
                    )
                out.append(PortSpec(proto, a, b))
            else:
                out.append(PortSpec(proto))
            break
        else:
            raise InputError(m.source, m.path(*pk), "tcp, udp, sctp or destinationNamedPort", p)
    return tuple(out)


def _proto(m: Manifest, value: Any, *keys: str | int) -> str:
    proto = "TCP" if value is None else value
    if proto not in ("TCP", "UDP", "SCTP"):
        raise InputError(m.source, m.path(*keys), "TCP, UDP or SCTP", value)
    return str(proto)


def parse(m: Manifest) -> Policy:
    kind = m.kind
    name = name_of(m)
    spec = mapping(m, m.obj.get("spec"), "spec")
    if kind == CNP:
        tier_raw = spec.get("tier")
        if tier_raw not in ("Admin", "Baseline"):
            raise InputError(m.source, m.path("spec", "tier"), "Admin or Baseline", tier_raw)
        tier = Tier.ADMIN if tier_raw == "Admin" else Tier.BASELINE
    else:
        tier = Tier.ADMIN if kind == ANP else Tier.BASELINE
    priority = 0
    if kind != BANP:
        priority = spec.get("priority")  # type: ignore[assignment]
        if not isinstance(priority, int) or isinstance(priority, bool) or not 0 <= priority <= 1000:
            raise InputError(m.source, m.path("spec", "priority"), "an integer 0..1000", priority)
    subject = _pod_peer(m, mapping(m, spec.get("subject"), "spec", "subject"), "spec", "subject")
    if subject is None:
        raise InputError(m.source, m.path("spec", "subject"), "namespaces or pods", spec.get("subject"))
    sections: dict[str, Section | None] = {}
    for direction, peer_key in (("ingress", "from"), ("egress", "to")):
        rules: list[Rule] = []
        for i, r in enumerate(seq(m, spec.get(direction), "spec", direction)):
            rk = ("spec", direction, i)
            r = mapping(m, r, *rk)
            action = _ACTIONS[kind].get(r.get("action"))  # type: ignore[arg-type]
            if action is None:
                raise InputError(m.source, m.path(*rk, "action"), "/".join(_ACTIONS[kind]), r.get("action"))
            label = f"{direction}[{i}]" + (f" {r['name']}" if isinstance(r.get("name"), str) else "")
            ports = (
                _v1alpha2_protocols(m, r.get("protocols"), *rk, "protocols")
                if kind == CNP
                else _v1alpha1_ports(m, r.get("ports"), *rk, "ports")
            )
            ref = RuleRef(kind, "", name, f"{label} ({r['action']})")
            peers = _peers(m, r.get(peer_key), action, direction == "egress", ref, *rk, peer_key)
            rules.append(Rule(ref, action, peers, ports))
        sections[direction] = Section(False, tuple(rules)) if rules else None
    return Policy(
        kind,
        "",
        name,
        tier,
        priority,
        subject,
        sections["ingress"],
        sections["egress"],
        host_network_rule="never",
    )
