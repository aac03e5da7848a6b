"""The engine's one vocabulary for every policy API: subjects, peers, ports and ordered rules.

Each API's parser (netpol.py, adminpol.py, cilium.py) translates into these; the evaluator knows nothing of
the original kinds except the tier a policy sits in.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sovereign.connectivity.model import RuleRef
from sovereign.connectivity.selectors import LabelSelector


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
    """Cilium entities: ``world`` (outside the cluster) and ``cluster`` (every pod)."""

    world: bool
    cluster: bool


@dataclass(frozen=True)
class FqdnPeer:
    pattern: str


@dataclass(frozen=True)
class ServicePeer:
    """Cilium toServices k8sService: the service's backends (selector) or its EndpointSlice addresses."""

    namespace: str
    name: str


Peer = PodPeer | AddressPeer | EntityPeer | FqdnPeer | ServicePeer


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
