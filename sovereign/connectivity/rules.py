"""The engine's one vocabulary for every policy API: subjects, peers, ports and ordered rules.

Each API's parser (netpol.py, adminpol.py, cilium.py) translates into these; the evaluator knows nothing of
the original kinds except the tier a policy sits in.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sovereign.connectivity.model import RuleRef
from sovereign.connectivity.selectors import LabelSelector, format_selector

REGION_LABEL = "topology.kubernetes.io/region"
"""The well-known node label a node selector pins a cloud region with."""


class Tier(StrEnum):
    ADMIN = "admin"
    NETWORK_POLICY = "networkpolicy"
    """K8s NetworkPolicy and Cilium allow rules (Cilium merges both into one allow-list per endpoint)."""
    BASELINE = "baseline"


class Action(StrEnum):
    ALLOW = "Allow"
    DENY = "Deny"
    PASS = "Pass"


@dataclass(frozen=True)
class PodPeer:
    """Pods whose namespace matches and whose labels match.

    ``namespace``: exact namespace name; else ``namespace_selector`` over namespace labels (None: any
    namespace). ``pods``: None means every pod. ``cilium``: selectors use Cilium's label view
    (``io.kubernetes.pod.namespace``, ``io.cilium.k8s.namespace.labels.*``).
    """

    namespace: str | None
    namespace_selector: LabelSelector | None
    pods: LabelSelector | None
    cilium: bool = False


@dataclass(frozen=True)
class AddressPeer:
    """Address ranges (after ``except``); ``pods``: whether the ranges also match pod IPs."""

    v4: tuple[tuple[int, int], ...]
    v6: tuple[tuple[int, int], ...]
    pods: bool


@dataclass(frozen=True)
class EntityPeer:
    """Cilium entities: ``world`` (outside the cluster) and ``cluster`` (every pod, host-network pods included:
    they are node identities, which Cilium's ``cluster`` holds, and the cluster's in-cluster opaque
    destinations). ``deny``: the peer sits in a deny rule, so it covers only what it certainly covers."""

    world: bool
    cluster: bool
    deny: bool = False


@dataclass(frozen=True)
class FqdnPeer:
    pattern: str


class Where(StrEnum):
    """How an opaque destination is attributed to a jurisdiction (resolved by the report, which has the
    catalog and the cluster's jurisdiction)."""

    UNKNOWN = "unknown"
    """Nobody knows where it is: foreign to everyone (``destination_jurisdiction`` None)."""
    CLUSTER = "cluster"
    """In the cluster or its control plane: the cluster's jurisdiction (the ``jurisdiction`` of analyze)."""
    REGION = "region"
    """Cluster nodes pinned to one cloud region: the jurisdiction the catalog gives that region id."""


class InCluster(StrEnum):
    """Whether Cilium's ``cluster`` entity covers an opaque destination (allow rules take YES and MAYBE,
    deny rules only YES: a deny must never cover more than it certainly does)."""

    NO = "no"
    MAYBE = "maybe"
    YES = "yes"


@dataclass(frozen=True)
class OpaquePeer:
    """A destination whose addresses cannot be known offline, as one bit of the universe named ``label``
    (``unresolved:<rule> <field>``, ``nodes:<selector>``, ``entity:<name>``).

    Parsers make one for every peer of an Allow rule they cannot resolve (jurisdiction unknown, so every
    path to it is cross-border): an Allow that cannot be resolved is a path to an unknown place. Deny rules
    never get an unresolved one (an unknown deny matches nothing: under-deny is the safe side); they may
    name node and entity destinations, which match exactly the same-named bit.
    """

    label: str
    where: Where
    region: str = ""
    """The cloud region id when ``where`` is REGION."""
    in_cluster: InCluster = InCluster.NO
    host_network: bool = False
    """Also every hostNetwork pod class: node peers stand for node IPs, which hostNetwork pods share."""
    pods: bool = False
    """Also every other pod class: the unknown addresses may be pod IPs (address-like peers whose CIDRs
    match pods, unknown fields of APIs whose peers can select pods)."""


@dataclass(frozen=True)
class ServicePeer:
    """Cilium toServices: the service's backends (selector) or its EndpointSlice addresses.

    ``unresolved``: in an Allow rule, what the peer stands for when the input cannot resolve it (the Service
    is not in the input, or it has no selector and no EndpointSlice addresses); None: nothing (deny rules).
    """

    namespace: str
    name: str
    unresolved: OpaquePeer | None = None


Peer = PodPeer | AddressPeer | EntityPeer | FqdnPeer | ServicePeer | OpaquePeer


def node_peers(sel: LabelSelector, action: Action) -> tuple[OpaquePeer, ...]:
    """Cluster nodes matching ``sel`` (Cilium toNodes, ANP/BANP/ClusterNetworkPolicy ``nodes``): one opaque
    destination ``nodes:<selector>``, or one per region when the selector pins regions
    (``topology.kubernetes.io/region`` in matchLabels or an ``In`` expression), attributed through the catalog;
    a selector that pins no region means the cluster's own nodes, in the cluster's jurisdiction.

    Node IPs are shared by the hostNetwork pods running on the nodes, so an allow also reaches every
    hostNetwork pod class (which node a pod runs on is not in the manifests: every one may be on a matching
    node). A deny or pass covers them only when the selector takes every node: otherwise it is not certain
    that a given hostNetwork pod sits on a matching node.
    """
    host = action is Action.ALLOW or sel.is_empty
    regions: set[str] | None = None
    for k, v in sel.match_labels:
        if k == REGION_LABEL:
            regions = {v} if regions is None else regions & {v}
    for k, op, values in sel.expressions:
        if k == REGION_LABEL and op == "In":
            regions = set(values) if regions is None else regions & set(values)
    if regions is None:
        return (OpaquePeer("nodes:" + format_selector(sel), Where.CLUSTER, "", InCluster.YES, host),)
    region_terms = LabelSelector(
        tuple(t for t in sel.match_labels if t[0] == REGION_LABEL),
        tuple(e for e in sel.expressions if e[0] == REGION_LABEL),
    )
    rest_labels = tuple(t for t in sel.match_labels if t[0] != REGION_LABEL)
    rest_exprs = tuple(e for e in sel.expressions if e[0] != REGION_LABEL)
    out = []
    for region in sorted(regions):
        if not region_terms.matches({REGION_LABEL: region}):
            continue  # e.g. In (a, b) with NotIn (b): b is not selected
        pinned = LabelSelector(tuple(sorted((*rest_labels, (REGION_LABEL, region)))), rest_exprs)
        out.append(OpaquePeer("nodes:" + format_selector(pinned), Where.REGION, region, InCluster.YES, host))
    return tuple(out)


@dataclass(frozen=True)
class PortSpec:
    """``protocol`` None means every protocol; ``start`` None means every port; ``name`` a named port."""

    protocol: str | None
    start: int | None = None
    end: int | None = None
    name: str | None = None


@dataclass(frozen=True)
class Rule:
    ref: RuleRef
    action: Action
    peers: tuple[Peer, ...] | None
    """None: every peer (the Internet included)."""
    ports: tuple[PortSpec, ...] | None
    """None: every port of every protocol."""


@dataclass(frozen=True)
class Section:
    """One direction of one policy."""

    isolates: bool
    rules: tuple[Rule, ...]
    deny: tuple[Rule, ...] = ()
    """Cilium ingressDeny/egressDeny: override every allow."""


@dataclass(frozen=True)
class Policy:
    kind: str
    namespace: str
    name: str
    tier: Tier
    priority: int
    subject: PodPeer
    ingress: Section | None
    egress: Section | None
    host_network_rule: str = "cni"
    """``cni``: hostNetwork pods selected only if the CNI says so; ``never``: never (ANP/CNP/Cilium)."""
