"""Public value types of the connectivity proof: parameters in, facts out.

Kept separate from the engine so callers (policy pack, CLI) can import the types without the machinery.
"""

from __future__ import annotations

from dataclasses import dataclass

from sovereign.stackconfig.model import CniConfig, PolicyApi


@dataclass(frozen=True)
class CniParams:
    """CNI behaviours that upstream leaves to the implementation; the engine never guesses them."""

    enforces: frozenset[PolicyApi]
    """Policy APIs the CNI enforces; objects of any other API are ignored and reported."""
    ipblock_matches_pod_ips: bool
    """NetworkPolicy ipBlock and Cilium toCIDR also match pod IPs (Calico, upstream e2e: yes; Cilium: no)."""
    end_port: bool
    """``endPort`` honoured; when False only ``port`` is applied (upstream documented fallback)."""
    sctp: bool
    """SCTP rules are enforced; when False SCTP rules allow nothing (the CNI rejects / ignores them)."""
    host_network_selected: bool
    """hostNetwork pods are selected by policies' pod/namespace selectors (as subjects and peers); when False
    they are node traffic, never selected that way. Either way node peers (node selectors, Cilium's host,
    remote-node and cluster entities) match them: they share the node's IP."""

    @classmethod
    def from_cni_config(cls, cni: CniConfig) -> CniParams:
        return cls(
            enforces=frozenset(cni.enforces),
            ipblock_matches_pod_ips=cni.ipblock_matches_pod_ips,
            end_port=cni.end_port,
            sctp=cni.sctp,
            host_network_selected=cni.host_network_selected,
        )

    @classmethod
    def upstream(cls) -> CniParams:
        """Every API enforced, upstream e2e behaviour (ipBlock matches pods, endPort, SCTP)."""
        return cls(
            enforces=frozenset(PolicyApi),
            ipblock_matches_pod_ips=True,
            end_port=True,
            sctp=True,
            host_network_selected=False,
        )


@dataclass(frozen=True, order=True)
class RuleRef:
    """One link of a rule chain: which object, which rule. ``str()`` is the human form."""

    kind: str
    namespace: str
    """Empty for cluster-scoped objects and for synthetic links (default allow, isolation)."""
    name: str
    rule: str
    """``egress[0]``, ``ingress[2] (Deny)``, ``isolates egress``, ``default allow`` ..."""

    def __str__(self) -> str:
        obj = f"{self.namespace}/{self.name}" if self.namespace else self.name
        if not obj:
            return f"{self.kind}: {self.rule}"
        return f"{self.kind} {obj} {self.rule}".rstrip()


PortRanges = tuple[tuple[int, int], ...]
"""Inclusive, sorted, disjoint port ranges."""


@dataclass(frozen=True)
class Reach:
    """The source may open connections to ``destination`` on ``protocol``/``ports``, allowed by ``rules``.

    ``destination`` is a workload ref ``ns/name``, an address range ``a.b.c.d-e.f.g.h`` (IPv4 or IPv6,
    inclusive, shown as CIDR when it is one), ``fqdn:<pattern>`` for Cilium toFQDNs / ANP domainNames, or an
    opaque destination whose addresses cannot be known offline: ``nodes:<selector>`` (cluster nodes),
    ``entity:<name>`` (Cilium host, remote-node, kube-apiserver, ingress, health, init, unmanaged) or
    ``unresolved:<kind> <ns/name> <rule> <field>`` (an allow peer the engine cannot resolve).
    """

    destination: str
    protocol: str
    ports: PortRanges
    rules: tuple[RuleRef, ...]


WORKLOADS = "in-cluster workloads"
CLUSTER_ADDRESSES = "cluster address space"
"""Addresses inside the cluster's pod and service CIDRs that no workload of the input is known to hold."""
HOME_NETWORKS = "networks of its jurisdiction"
OTHER_JURISDICTIONS = "other jurisdictions"
UNATTRIBUTED = "unattributed address space"
"""Addresses no catalog network holds: nobody's, so foreign to everyone."""
DNS_NAMES = "DNS names"
OPAQUE = "nodes, entities and unresolved peers"
DESTINATION_CLASSES = (WORKLOADS, CLUSTER_ADDRESSES, HOME_NETWORKS, OTHER_JURISDICTIONS, UNATTRIBUTED, DNS_NAMES,
                       OPAQUE)
"""The classes ``ConnectivityReport.destinations`` sorts what a workload can reach into, in the order listed."""


@dataclass(frozen=True)
class Destination:
    """One destination a workload may open, with its class (``DESTINATION_CLASSES``) and jurisdiction."""

    category: str
    destination: str
    """As ``Reach.destination``."""
    jurisdiction: str | None
    """None: unattributed, or an opaque destination nobody can place."""
    protocol: str
    ports: PortRanges
    rules: tuple[RuleRef, ...]


@dataclass(frozen=True)
class BackendAnswer:
    """The answer for one backend a Service name stands for."""

    backend: str
    """``Deployment shop/web`` (the workloads of one pod class) or ``address 10.0.0.7``."""
    port: int | None
    allowed: bool
    rules: tuple[RuleRef, ...]


@dataclass(frozen=True)
class Answer:
    allowed: bool
    rules: tuple[RuleRef, ...]
    """Allowed: the chain that allows (egress side, then ingress side). Denied: the rules that deny."""
    reason: str
    mixed: bool = False
    """The name stands for several places (a Service's backends, an ExternalName's addresses) and some are allowed,
    others not: neither allowed nor denied (``allowed`` is False)."""
    resolved: tuple[str, ...] = ()
    """How the destination name was resolved (a Service's port, targetPort and backends), one line each."""
    backends: tuple[BackendAnswer, ...] = ()
    """A Service: the answer per backend."""


@dataclass(frozen=True)
class CrossBorderPath:
    """A path from ``source`` leaving its jurisdiction; ``hops`` are in-cluster relay workloads."""

    source: str
    source_jurisdiction: str | None
    hops: tuple[str, ...]
    destination_range: str
    """Address range, ``fqdn:<pattern>``, a workload ref in a namespace of another jurisdiction, or an opaque
    destination label (``nodes:...``, ``entity:...``, ``unresolved:...``, see ``Reach``)."""
    destination_jurisdiction: str | None
    """None: unattributed address space (no catalog network holds it), or an opaque destination nobody can
    place (``unresolved:...``, a node set of an unknown or ambiguous region) — foreign by definition."""
    protocol: str
    ports: PortRanges
    rules: tuple[RuleRef, ...]
    """Rules of the final hop (the one that leaves); for an inbound path, the chain that admits the connection."""
    direction: str = "outbound"
    """``outbound``: ``source`` opens the connection; ``inbound``: a client in ``destination_range`` (outside the
    cluster) may connect to ``source``, whose data then leaves on the response path (docs/connectivity.md,
    "Ingress from outside the cluster")."""


@dataclass(frozen=True)
class Inbound:
    """Clients in ``source_range`` (outside the cluster) may connect to ``destination`` on ``protocol``/``ports``,
    admitted by ``rules`` (the destination's ingress chain), ``explicit`` when a policy rule admits them rather than
    the default allow of a workload no policy isolates."""

    destination: str
    source_range: str
    source_jurisdiction: str | None
    protocol: str
    ports: PortRanges
    rules: tuple[RuleRef, ...]
    explicit: bool


@dataclass(frozen=True)
class IgnoredPolicy:
    kind: str
    namespace: str
    name: str
    reason: str
