"""cilium.io/v2 CiliumNetworkPolicy / CiliumClusterwideNetworkPolicy -> engine rules.

Cilium differs from NetworkPolicy in ways that matter here: a section that is omitted or ``[]`` does not
apply at all (``egress: [{}]`` isolates and allows nothing), ``egressDeny`` overrides every allow, CIDR
rules skip Cilium-managed peers (the ``ipblock_matches_pod_ips`` CNI parameter), and selectors see pods
through Cilium's label view (``io.kubernetes.pod.namespace``, ``k8s:`` prefixes).
"""

from __future__ import annotations

from typing import Any

from sovereign.connectivity.inventory import Manifest, name_of, namespace_of
from sovereign.connectivity.model import RuleRef
from sovereign.connectivity.parsing import address_peer, mapping, port_number, seq
from sovereign.connectivity.rules import (
    Action,
    EntityPeer,
    FqdnPeer,
    Peer,
    PodPeer,
    Policy,
    PortSpec,
    Rule,
    Section,
    ServicePeer,
    Tier,
)
from sovereign.connectivity.selectors import LabelSelector, parse_selector
from sovereign.errors import InputError

CNP, CCNP = "CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy"
NAMESPACE_LABEL = "io.kubernetes.pod.namespace"
NAMESPACE_LABELS_PREFIX = "io.cilium.k8s.namespace.labels."

_ENTITIES_WORLD = {"world", "world-ipv4", "world-ipv6"}
_ENTITIES_IGNORED = {"host", "remote-node", "kube-apiserver", "health", "init", "ingress", "unmanaged"}


def cilium_key(key: str) -> str:
    """Drop the label source prefix (``k8s:app`` and ``any:app`` are ``app``)."""
    for prefix in ("k8s:", "any:"):
        if key.startswith(prefix):
            return key[len(prefix) :]
    return key


def _selector(m: Manifest, raw: Any, *keys: str | int) -> LabelSelector:
    return parse_selector(raw, m.source, m.path(*keys), key_map=cilium_key)


def _mentions_namespace(sel: LabelSelector) -> bool:
    return any(k == NAMESPACE_LABEL for k, _ in sel.match_labels) or any(
        k == NAMESPACE_LABEL for k, _, _ in sel.expressions
    )


def _endpoint_peer(sel: LabelSelector, namespace: str | None) -> PodPeer:
    """In a CNP an endpoint selector is confined to the policy's namespace unless it names a namespace."""
    ns = None if namespace is None or _mentions_namespace(sel) else namespace
    return PodPeer(ns, None, None if sel.is_empty else sel, cilium=True)


def _ports(m: Manifest, raw: Any, *keys: str | int) -> tuple[PortSpec, ...] | None:
    items = seq(m, raw, *keys)
    if not items:
        return None
    out: list[PortSpec] = []
    for i, tp in enumerate(items):
        tp = mapping(m, tp, *keys, i)
        plist = seq(m, tp.get("ports"), *keys, i, "ports")
        if not plist:
            return None  # a toPorts entry without ports: every port
        for j, p in enumerate(plist):
            pk = (*keys, i, "ports", j)
            p = mapping(m, p, *pk)
            proto = p.get("protocol", "ANY")
            if proto not in ("TCP", "UDP", "SCTP", "ANY"):
                raise InputError(m.source, m.path(*pk, "protocol"), "TCP, UDP, SCTP or ANY", proto)
            protocol = None if proto == "ANY" else str(proto)
            port = p.get("port")
            if port is None or port in (0, "0"):
                out.append(PortSpec(protocol))
            elif isinstance(port, str) and not port.isdigit():
                out.append(PortSpec(protocol, name=port))
            else:
                a = port_number(m, port, *pk, "port")
                end = p.get("endPort")
                b = a if end in (None, 0) else port_number(m, end, *pk, "endPort")
                if b < a:
                    raise InputError(m.source, m.path(*pk, "endPort"), f"endPort >= port ({a})", end)
                out.append(PortSpec(protocol, a, b))
    return tuple(out)


def _rule(
    m: Manifest,
    raw: Any,
    ref: RuleRef,
    action: Action,
    namespace: str | None,
    pods_cidr: bool,
    egress: bool,
    notes: list[str],
    *keys: str | int,
) -> Rule:
    r = mapping(m, raw, *keys)
    pre = "to" if egress else "from"
    peers: list[Peer] = []
    l3 = False
    for i, sel in enumerate(seq(m, r.get(pre + "Endpoints"), *keys, pre + "Endpoints")):
        l3 = True
        peers.append(_endpoint_peer(_selector(m, sel, *keys, pre + "Endpoints", i), namespace))
    for i, c in enumerate(seq(m, r.get(pre + "CIDR"), *keys, pre + "CIDR")):
        l3 = True
        peers.append(address_peer(m, c, None, pods_cidr, *keys, pre + "CIDR", i))
    for i, cs in enumerate(seq(m, r.get(pre + "CIDRSet"), *keys, pre + "CIDRSet")):
        l3 = True
        cs = mapping(m, cs, *keys, pre + "CIDRSet", i)
        if cs.get("cidr") is None:
            notes.append(f"{ref}: cidrGroupRef not resolvable offline; matches nothing")
            continue
        peers.append(address_peer(m, cs.get("cidr"), cs.get("except"), pods_cidr, *keys, pre + "CIDRSet", i, "cidr"))
    for i, ent in enumerate(seq(m, r.get(pre + "Entities"), *keys, pre + "Entities")):
        l3 = True
        if ent in _ENTITIES_WORLD:
            peers.append(EntityPeer(world=True, cluster=False))
        elif ent == "cluster":
            peers.append(EntityPeer(world=False, cluster=True))
        elif ent == "all":
            peers.append(EntityPeer(world=True, cluster=True))
        elif ent in _ENTITIES_IGNORED:
            notes.append(f"{ref}: entity {ent!r} (node/host traffic) is not modelled")
        else:
            raise InputError(m.source, m.path(*keys, pre + "Entities", i), "a Cilium entity", ent)
    if egress:
        for i, fq in enumerate(seq(m, r.get("toFQDNs"), *keys, "toFQDNs")):
            l3 = True
            fq = mapping(m, fq, *keys, "toFQDNs", i)
            pattern = fq.get("matchName") or fq.get("matchPattern")
            if not isinstance(pattern, str) or not pattern:
                raise InputError(m.source, m.path(*keys, "toFQDNs", i), "matchName or matchPattern", fq)
            peers.append(FqdnPeer(pattern.lower().rstrip(".")))
        for i, svc in enumerate(seq(m, r.get("toServices"), *keys, "toServices")):
            l3 = True
            svc = mapping(m, svc, *keys, "toServices", i)
            k8s = svc.get("k8sService")
            if isinstance(k8s, dict) and isinstance(k8s.get("serviceName"), str):
                peers.append(ServicePeer(str(k8s.get("namespace") or namespace or "default"), k8s["serviceName"]))
            else:
                notes.append(f"{ref}: toServices entry {i} (service selector) not modelled; matches nothing")
    for key in (pre + "Nodes", pre + "Groups", pre + "Requires"):
        if r.get(key):
            l3 = True
            notes.append(f"{ref}: {key} not modelled; matches nothing")
    ports = _ports(m, r.get("toPorts"), *keys, "toPorts")
    if not l3 and ports is None:
        return Rule(ref, action, (), None)  # ``{}``: selects nothing (Cilium's default-deny idiom)
    return Rule(ref, action, tuple(peers) if l3 else None, ports)


def _section(
    m: Manifest,
    spec: dict[str, Any],
    direction: str,
    kind: str,
    ns: str,
    name: str,
    pods_cidr: bool,
    notes: list[str],
    *keys: str | int,
) -> Section | None:
    egress = direction == "egress"
    allow_raw = seq(m, spec.get(direction), *keys, direction)
    deny_raw = seq(m, spec.get(direction + "Deny"), *keys, direction + "Deny")
    if not allow_raw and not deny_raw:
        return None  # omitted or []: the policy does not apply in this direction
    namespace = ns or None
    allow = tuple(
        _rule(
            m,
            r,
            RuleRef(kind, ns, name, f"{direction}[{i}]"),
            Action.ALLOW,
            namespace,
            pods_cidr,
            egress,
            notes,
            *keys,
            direction,
            i,
        )
        for i, r in enumerate(allow_raw)
    )
    deny = tuple(
        _rule(
            m,
            r,
            RuleRef(kind, ns, name, f"{direction}Deny[{i}]"),
            Action.DENY,
            namespace,
            pods_cidr,
            egress,
            notes,
            *keys,
            direction + "Deny",
            i,
        )
        for i, r in enumerate(deny_raw)
    )
    dd = mapping(m, spec.get("enableDefaultDeny"), *keys, "enableDefaultDeny").get(direction, True)
    if not isinstance(dd, bool):
        raise InputError(m.source, m.path(*keys, "enableDefaultDeny", direction), "true or false", dd)
    return Section(dd, allow, deny)


def parse(m: Manifest, ipblock_matches_pod_ips: bool, notes: list[str]) -> list[Policy]:
    """One engine policy per spec (``spec`` and each of ``specs``); host policies are skipped with a note."""
    kind = m.kind
    name = name_of(m)
    ns = namespace_of(m) if kind == CNP else ""
    specs: list[tuple[tuple[str | int, ...], Any]] = []
    if m.obj.get("spec") is not None:
        specs.append((("spec",), m.obj["spec"]))
    for i, s in enumerate(seq(m, m.obj.get("specs"), "specs")):
        specs.append((("specs", i), s))
    if not specs:
        raise InputError(m.source, m.path("spec"), "spec or specs", None)
    out: list[Policy] = []
    for n, (keys, raw) in enumerate(specs):
        spec = mapping(m, raw, *keys)
        label = name if len(specs) == 1 else f"{name}#{n}"
        if spec.get("nodeSelector") is not None:
            notes.append(f"{kind} {label}: host policy (nodeSelector) not modelled")
            continue
        sel = _selector(m, spec.get("endpointSelector"), *keys, "endpointSelector")
        subject = _endpoint_peer(sel, ns or None)
        if ns:
            subject = PodPeer(ns, None, subject.pods, cilium=True)
        out.append(
            Policy(
                kind,
                ns,
                label,
                Tier.NETWORK_POLICY,
                0,
                subject,
                _section(m, spec, "ingress", kind, ns, label, ipblock_matches_pod_ips, notes, *keys),
                _section(m, spec, "egress", kind, ns, label, ipblock_matches_pod_ips, notes, *keys),
                host_network_rule="never",
            )
        )
    return out


__all__ = ["CCNP", "CNP", "NAMESPACE_LABEL", "NAMESPACE_LABELS_PREFIX", "parse"]
