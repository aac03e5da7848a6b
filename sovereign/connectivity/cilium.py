"""cilium.io/v2 CiliumNetworkPolicy / CiliumClusterwideNetworkPolicy -> engine rules.

Cilium differs from NetworkPolicy in ways that matter here: a section that is omitted or ``[]`` does not
apply at all (``egress: [{}]`` isolates and allows nothing), ``egressDeny`` overrides every allow, CIDR
rules skip Cilium-managed peers (the ``ipblock_matches_pod_ips`` CNI parameter), and selectors see pods
through Cilium's label view (``io.kubernetes.pod.namespace``, ``k8s:`` prefixes).

Closed world: a peer of an allow rule that cannot be resolved from the input (``toGroups``, a CIDR group or a
Service that is not in the input, a field this parser does not know) is an opaque destination of unknown
jurisdiction, never "matches nothing"; in a deny rule it matches nothing (an over-wide deny would hide paths).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sovereign.connectivity.intervals import Range, merge, subtract
from sovereign.connectivity.inventory import Manifest, name_of, namespace_of
from sovereign.connectivity.model import RuleRef
from sovereign.connectivity.parsing import address_peer, cidr, mapping, port_number, seq
from sovereign.connectivity.rules import (
    Action,
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
    Section,
    ServicePeer,
    Tier,
    Where,
    node_peers,
)
from sovereign.connectivity.selectors import LabelSelector, format_selector, parse_selector
from sovereign.core.errors import InputError
from sovereign.core.labels import CILIUM_NAMESPACE_LABELS_PREFIX, CILIUM_POD_NAMESPACE

CNP, CCNP = "CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy"
NAMESPACE_LABEL = CILIUM_POD_NAMESPACE
NAMESPACE_LABELS_PREFIX = CILIUM_NAMESPACE_LABELS_PREFIX

CIDR_GROUP = "CiliumCIDRGroup"

_ENTITIES_WORLD = {"world", "world-ipv4", "world-ipv6"}
_ENTITIES_NODES = {"host", "remote-node"}
"""The local node and every other node: node IPs, which hostNetwork pods share."""
_ENTITIES_IN_CLUSTER = {"ingress", "health", "init", "unmanaged"}
"""In-cluster identities without pods of their own in the manifests (Cilium's Envoy, health endpoints,
endpoints not yet identified, endpoints Cilium does not manage)."""

_KNOWN_KEYS = {
    "to": {"toEndpoints", "toCIDR", "toCIDRSet", "toEntities", "toFQDNs", "toServices", "toNodes", "toGroups",
           "toRequires", "toPorts", "icmps", "authentication"},
    "from": {"fromEndpoints", "fromCIDR", "fromCIDRSet", "fromEntities", "fromNodes", "fromGroups", "fromRequires",
             "toPorts", "icmps", "authentication"},
}


@dataclass(frozen=True)
class CidrGroup:
    """A ``cilium.io`` CiliumCIDRGroup: labels and ``spec.externalCIDRs`` as ranges."""

    name: str
    labels: dict[str, str]
    v4: tuple[Range, ...]
    v6: tuple[Range, ...]


@dataclass
class Inputs:
    """What Cilium peers resolve against: the input's CiliumCIDRGroups (``toCIDRSet[].cidrGroupRef`` /
    ``cidrGroupSelector``) and Services with their labels (``toServices[].k8sService`` /
    ``k8sServiceSelector``)."""

    cidr_groups: dict[str, CidrGroup] = field(default_factory=dict)
    services: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    """(namespace, name) -> metadata.labels."""

    @classmethod
    def collect(cls, manifests: Sequence[Manifest]) -> Inputs:
        out = cls()
        for m in manifests:
            kind = m.kind
            if kind == "Service":
                out.services[(namespace_of(m), name_of(m))] = _labels(m)
            elif kind == CIDR_GROUP and _is_cilium(m):
                name = name_of(m)
                spec = mapping(m, m.obj.get("spec"), "spec")
                v4: list[Range] = []
                v6: list[Range] = []
                for i, c in enumerate(seq(m, spec.get("externalCIDRs"), "spec", "externalCIDRs")):
                    version, rng = cidr(m, c, "spec", "externalCIDRs", i)
                    (v4 if version == 4 else v6).append(rng)
                out.cidr_groups[name] = CidrGroup(name, _labels(m), tuple(v4), tuple(v6))
        return out


def _is_cilium(m: Manifest) -> bool:
    api = m.obj.get("apiVersion")
    return not isinstance(api, str) or not api or api.split("/", 1)[0] == "cilium.io"


def _labels(m: Manifest) -> dict[str, str]:
    meta = mapping(m, m.obj.get("metadata"), "metadata")
    raw = mapping(m, meta.get("labels"), "metadata", "labels")
    for k, v in raw.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise InputError(m.source, m.path("metadata", "labels", str(k)), "a string label value", v)
    return dict(raw)


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
    inputs: Inputs,
    *keys: str | int,
) -> Rule:
    r = mapping(m, raw, *keys)
    pre = "to" if egress else "from"
    allow = action is Action.ALLOW
    peers: list[Peer] = []
    l3 = False

    def unresolved(what: str, *, pods: bool, host_network: bool = False) -> OpaquePeer:
        peer = "destination of unknown jurisdiction" if egress else "source (any pod it may be)"
        notes.append(f"{ref}: {what} cannot be resolved from the input: an unresolved {peer}")
        return OpaquePeer(f"unresolved:{ref} {what}", Where.UNKNOWN, pods=pods, host_network=host_network)

    def unmatched(what: str) -> None:
        notes.append(f"{ref}: {what} cannot be resolved from the input: the deny matches nothing there")

    unknown = sorted(str(k) for k in r if k not in _KNOWN_KEYS[pre])
    if unknown and not allow:
        # A field this parser does not know may narrow what the deny covers: covering more than certain would
        # hide paths, so the rule denies nothing.
        notes.append(f"{ref}: unknown field(s) {', '.join(unknown)}: the deny rule matches nothing")
        return Rule(ref, action, (), None)
    if r.get(pre + "Requires") and not allow:
        notes.append(f"{ref}: {pre}Requires narrows what the deny covers and is not modelled: the rule matches nothing")
        return Rule(ref, action, (), None)

    for i, sel in enumerate(seq(m, r.get(pre + "Endpoints"), *keys, pre + "Endpoints")):
        l3 = True
        peers.append(_endpoint_peer(_selector(m, sel, *keys, pre + "Endpoints", i), namespace))
    for i, c in enumerate(seq(m, r.get(pre + "CIDR"), *keys, pre + "CIDR")):
        l3 = True
        peers.append(address_peer(m, c, None, pods_cidr, *keys, pre + "CIDR", i))
    for i, cs in enumerate(seq(m, r.get(pre + "CIDRSet"), *keys, pre + "CIDRSet")):
        l3 = True
        ck = (*keys, pre + "CIDRSet", i)
        cs = mapping(m, cs, *ck)
        present = [k for k in ("cidr", "cidrGroupRef", "cidrGroupSelector") if cs.get(k) is not None]
        if len(present) != 1:
            raise InputError(m.source, m.path(*ck), "exactly one of cidr, cidrGroupRef, cidrGroupSelector", sorted(cs))
        if present[0] == "cidr":
            peers.append(address_peer(m, cs["cidr"], cs.get("except"), pods_cidr, *ck, "cidr"))
            continue
        group = _cidr_group_peer(m, cs, present[0], f"{pre}CIDRSet[{i}]", allow, pods_cidr, notes, ref, inputs, *ck)
        if isinstance(group, str):
            if allow:
                peers.append(unresolved(group, pods=pods_cidr))
            else:
                unmatched(group)
        else:
            peers.append(group)
    for i, ent in enumerate(seq(m, r.get(pre + "Entities"), *keys, pre + "Entities")):
        l3 = True
        if ent in _ENTITIES_WORLD:
            peers.append(EntityPeer(world=True, cluster=False, deny=not allow))
        elif ent == "cluster":
            peers.append(EntityPeer(world=False, cluster=True, deny=not allow))
        elif ent == "all":
            peers.append(EntityPeer(world=True, cluster=True, deny=not allow))
        elif ent in _ENTITIES_NODES:
            peers.append(OpaquePeer(f"entity:{ent}", Where.CLUSTER, "", InCluster.YES, host_network=allow))
        elif ent == "kube-apiserver":
            # Managed control planes sit in the cluster's region; a self-hosted one on the cluster's nodes, whose
            # IPs hostNetwork pods share (an allow may reach them); Cilium's ``cluster`` may or may not hold it.
            peers.append(OpaquePeer("entity:kube-apiserver", Where.CLUSTER, "", InCluster.MAYBE, host_network=allow))
        elif ent in _ENTITIES_IN_CLUSTER:
            peers.append(OpaquePeer(f"entity:{ent}", Where.CLUSTER, "", InCluster.YES))
        elif ent == "none":
            pass  # selects nothing
        else:
            raise InputError(m.source, m.path(*keys, pre + "Entities", i), "a Cilium entity", ent)
    for i, sel in enumerate(seq(m, r.get(pre + "Nodes"), *keys, pre + "Nodes")):
        l3 = True
        peers.extend(node_peers(_selector(m, sel, *keys, pre + "Nodes", i), action))
    if r.get(pre + "Groups") is not None:
        seq(m, r.get(pre + "Groups"), *keys, pre + "Groups")
        l3 = True
        if r.get(pre + "Groups"):
            # Cloud provider groups (AWS security groups, ...) resolve through the cloud API at run time.
            if allow:
                peers.append(unresolved(pre + "Groups", pods=pods_cidr))
            else:
                unmatched(pre + "Groups")
    if r.get(pre + "Requires"):
        # Only narrows what other rules of the same subject allow, and grants nothing by itself; ignoring the
        # narrowing over-approximates allows. Like Cilium, its presence stops the rule from wildcarding L3.
        l3 = True
        notes.append(f"{ref}: {pre}Requires only narrows and is not modelled (allows are over-approximated)")
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
            peers.extend(_service_peers(m, svc, i, ref, allow, namespace, notes, inputs, *keys, "toServices", i))
    if unknown:
        # An allow with a field this parser does not know may reach anything that field names: pods, nodes
        # (hostNetwork pods) or addresses nobody can place.
        what = ", ".join(unknown)
        if l3:
            peers.append(unresolved(what, pods=True, host_network=True))
        elif _ports(m, r.get("toPorts"), *keys, "toPorts") is None:
            return Rule(ref, action, (unresolved(what, pods=True, host_network=True),), None)
        else:
            notes.append(f"{ref}: unknown field(s) {what}: the rule already reaches every destination on its ports")
    ports = _ports(m, r.get("toPorts"), *keys, "toPorts")
    if not l3 and ports is None:
        return Rule(ref, action, (), None)  # ``{}``: selects nothing (Cilium's default-deny idiom)
    return Rule(ref, action, tuple(peers) if l3 else None, ports)


def _cidr_group_peer(
    m: Manifest,
    cs: dict[str, Any],
    key: str,
    field_name: str,
    allow: bool,
    pods_cidr: bool,
    notes: list[str],
    ref: RuleRef,
    inputs: Inputs,
    *ck: str | int,
) -> AddressPeer | str:
    """The CIDRs of the CiliumCIDRGroups a ``cidrGroupRef`` (by name) or ``cidrGroupSelector`` (over the
    groups' labels) names, as one address peer; the description of the reference when no group in the input
    matches."""
    if key == "cidrGroupRef":
        name = cs["cidrGroupRef"]
        if not isinstance(name, str) or not name:
            raise InputError(m.source, m.path(*ck, "cidrGroupRef"), "a CiliumCIDRGroup name", name)
        groups = [inputs.cidr_groups[name]] if name in inputs.cidr_groups else []
        what = f"{field_name} cidrGroupRef={name}"
    else:
        sel = _selector(m, cs["cidrGroupSelector"], *ck, "cidrGroupSelector")
        groups = [g for _, g in sorted(inputs.cidr_groups.items()) if sel.matches(g.labels)]
        what = f"{field_name} cidrGroupSelector={format_selector(sel)}"
    if not groups:
        return what
    v4 = [rng for g in groups for rng in g.v4]
    v6 = [rng for g in groups for rng in g.v6]
    excepts = seq(m, cs.get("except"), *ck, "except")
    if excepts:
        holes: dict[int, list[Range]] = {4: [], 6: []}
        for j, ex in enumerate(excepts):
            version, rng = cidr(m, ex, *ck, "except", j)
            holes[version].append(rng)
        if allow:
            notes.append(f"{ref}: {what}: except is not applied with CIDR groups (Cilium does not support it)")
        else:  # a deny covers only what it certainly covers: the group minus the exceptions
            v4, v6 = list(subtract(v4, holes[4])), list(subtract(v6, holes[6]))
    return AddressPeer(merge(v4), merge(v6), pods_cidr)


def _service_peers(
    m: Manifest,
    raw: Any,
    i: int,
    ref: RuleRef,
    allow: bool,
    namespace: str | None,
    notes: list[str],
    inputs: Inputs,
    *keys: str | int,
) -> list[Peer]:
    """``toServices[i]``: ``k8sService`` by name or ``k8sServiceSelector`` over the Services' labels.

    Cilium matches an entry without ``namespace`` against Services of every namespace. An allow takes that
    reading; a deny in a CiliumNetworkPolicy takes the narrower one (the policy's namespace), so that it never
    covers more than it certainly does. A Service the input does not have, or whose addresses it does not
    show, is an unresolved destination in an allow.
    """
    svc = mapping(m, raw, *keys)
    k8s = svc.get("k8sService")
    by_sel = svc.get("k8sServiceSelector")
    if (k8s is None) == (by_sel is None):
        # Cilium ANDs the two when both are given and matches every Service when neither is: an allow may reach
        # any of them (each reading's Services, or every one), a deny covers nothing certain.
        if not allow:
            notes.append(f"{ref}: toServices[{i}] names both or neither of k8sService/k8sServiceSelector: "
                         f"the deny matches nothing there")
            return []
        if k8s is None:
            notes.append(f"{ref}: toServices[{i}] names no Service: every Service, and unresolved ones")
            every: list[Peer] = [
                ServicePeer(tns, tname, OpaquePeer(f"unresolved:{ref} toServices[{i}] k8sService={tns}/{tname}",
                                                   Where.UNKNOWN))
                for tns, tname in sorted(inputs.services)
            ]
            return [*every, OpaquePeer(f"unresolved:{ref} toServices[{i}]", Where.UNKNOWN)]
        return [
            *_service_peers(m, {"k8sService": k8s}, i, ref, allow, namespace, notes, inputs, *keys),
            *_service_peers(m, {"k8sServiceSelector": by_sel}, i, ref, allow, namespace, notes, inputs, *keys),
        ]
    if k8s is not None:
        k8s = mapping(m, k8s, *keys, "k8sService")
        name, ns = k8s.get("serviceName"), k8s.get("namespace")
        if not isinstance(name, str) or not name:
            raise InputError(m.source, m.path(*keys, "k8sService", "serviceName"), "a Service name", name)
        if ns is not None and not isinstance(ns, str):
            raise InputError(m.source, m.path(*keys, "k8sService", "namespace"), "a namespace name", ns)
        own = (namespace or "default", name)
        if ns:
            targets = [(ns, name)]
        elif allow:  # every namespace's Service of that name, and the policy's own reading
            targets = sorted({own, *(k for k in inputs.services if k[1] == name)})
        else:
            targets = [own]
        out: list[Peer] = []
        for tns, tname in targets:
            fallback = None
            if allow:
                label = f"unresolved:{ref} toServices[{i}] k8sService={tns}/{tname}"
                fallback = OpaquePeer(label, Where.UNKNOWN)
                if (tns, tname) not in inputs.services:
                    notes.append(f"{ref}: toServices[{i}] Service {tns}/{tname} is not in the input: "
                                 f"an unresolved destination")
            out.append(ServicePeer(tns, tname, fallback))
        return out
    by_sel = mapping(m, by_sel, *keys, "k8sServiceSelector")
    unknown = sorted(set(by_sel) - {"selector", "namespace"})
    if unknown:
        raise InputError(m.source, m.path(*keys, "k8sServiceSelector"), "selector and namespace", unknown)
    sel = _selector(m, by_sel.get("selector"), *keys, "k8sServiceSelector", "selector")
    ns = by_sel.get("namespace")
    if ns is not None and not isinstance(ns, str):
        raise InputError(m.source, m.path(*keys, "k8sServiceSelector", "namespace"), "a namespace name", ns)
    scope = ns or (None if allow else namespace)
    matched = [
        key for key, labels in sorted(inputs.services.items())
        if (scope is None or key[0] == scope) and sel.matches(labels)
    ]
    what = f"toServices[{i}] k8sServiceSelector={format_selector(sel)}" + (f" namespace={ns}" if ns else "")
    if not matched:
        if allow:
            notes.append(f"{ref}: {what} matches no Service of the input: an unresolved destination")
            return [OpaquePeer(f"unresolved:{ref} {what}", Where.UNKNOWN)]
        notes.append(f"{ref}: {what} matches no Service of the input: the deny matches nothing there")
        return []
    out = []
    for tns, tname in matched:
        label = f"unresolved:{ref} toServices[{i}] k8sService={tns}/{tname}"
        out.append(ServicePeer(tns, tname, OpaquePeer(label, Where.UNKNOWN) if allow else None))
    return out


def _section(
    m: Manifest,
    spec: dict[str, Any],
    direction: str,
    kind: str,
    ns: str,
    name: str,
    pods_cidr: bool,
    notes: list[str],
    inputs: Inputs,
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
            inputs,
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
            inputs,
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


def parse(m: Manifest, ipblock_matches_pod_ips: bool, notes: list[str], inputs: Inputs | None = None) -> list[Policy]:
    """One engine policy per spec (``spec`` and each of ``specs``); host policies are skipped with a note.
    ``inputs``: the CiliumCIDRGroups and Services peers resolve against (none: nothing resolves)."""
    inputs = inputs if inputs is not None else Inputs()
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
                _section(m, spec, "ingress", kind, ns, label, ipblock_matches_pod_ips, notes, inputs, *keys),
                _section(m, spec, "egress", kind, ns, label, ipblock_matches_pod_ips, notes, inputs, *keys),
                host_network_rule="never",
            )
        )
    return out


__all__ = ["CCNP", "CIDR_GROUP", "CNP", "NAMESPACE_LABEL", "NAMESPACE_LABELS_PREFIX", "CidrGroup", "Inputs", "parse"]
