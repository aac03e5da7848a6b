"""Egress, layers a and b: the cluster-wide estate deny in whatever admin API the CNI enforces, then per
namespace a default deny (Ingress and Egress), DNS to kube-dns only, and per-workload allows to declared
in-jurisdiction destinations. Approved transfers (layer c) are opened by infra.transfers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from infra.k8s_objects import declare
from infra.meta import estate_labels, metadata
from infra.plan import ESTATE_PRIORITY, AdminTier
from infra.policy_syntax import (
    ALL_IPV4,
    ALL_IPV6,
    CILIUM_NAMESPACE_LABEL,
    cilium_cidr_deny,
    cilium_ports,
    networks_peers,
    np_ports,
    np_workload_peer,
)
from sovereign.core import labels
from sovereign.stackconfig.model import PortSpec, Workload

ESTATE_NAME = "sovereign-estate-egress"
BASELINE_CNP_NAME = "sovereign-estate-baseline"
BANP_NAME = "default"
"""BaselineAdminNetworkPolicy is a singleton: its CRD only accepts the name ``default``."""
DNS_PORT = 53
ANP_API = "policy.networking.k8s.io/v1alpha1"
CNP_API = "policy.networking.k8s.io/v1alpha2"
CILIUM_API = "cilium.io/v2"


@dataclass(frozen=True)
class EgressArgs:
    stack: str
    jurisdiction: str
    admin_tier: AdminTier
    in_cluster_v4: tuple[str, ...]
    in_cluster_v6: tuple[str, ...]
    in_jurisdiction_v4: tuple[str, ...]
    in_jurisdiction_v6: tuple[str, ...]
    namespaces: tuple[str, ...]
    workloads: tuple[Workload, ...]
    dns_namespace: str
    dns_pod_labels: tuple[tuple[str, str], ...]
    transfer_sources: tuple[str, ...]
    """``namespace/name`` of workloads with an active transfer (Cilium: excluded from the estate deny)."""


# ---------------------------------------------------------------------------------------------- layer a


def _cluster_cidrs(args: EgressArgs) -> list[str]:
    return [*args.in_cluster_v4, *args.in_cluster_v6]


def _jurisdiction_cidrs(args: EgressArgs) -> list[str]:
    return [*args.in_jurisdiction_v4, *args.in_jurisdiction_v6]


def _admin_rules(args: EgressArgs, keep: str, deny: str) -> list[dict[str, Any]]:
    """In-cluster and in-jurisdiction first (``keep``: Pass/Allow/Accept), then deny both address families."""
    rules: list[dict[str, Any]] = [
        {
            "name": "in-cluster",
            "action": keep,
            "to": [{"namespaces": {}}, *networks_peers(_cluster_cidrs(args))],
        },
    ]
    if _jurisdiction_cidrs(args):
        rules.append({"name": "in-jurisdiction", "action": keep, "to": networks_peers(_jurisdiction_cidrs(args))})
    rules.append({"name": "leave-jurisdiction", "action": deny, "to": [{"networks": [ALL_IPV4, ALL_IPV6]}]})
    return rules


def admin_manifests(args: EgressArgs) -> list[dict[str, Any]]:
    """The estate deny. Admin tier Passes in-estate traffic on to the namespace NetworkPolicies (which then
    decide), and Denies everything else for every pod in every namespace; the baseline repeats it for pods
    no NetworkPolicy selects."""
    lbls = estate_labels(args.jurisdiction, args.stack)
    if args.admin_tier is AdminTier.ADMIN_NETWORK_POLICY:
        return [
            {
                "apiVersion": ANP_API,
                "kind": "AdminNetworkPolicy",
                "metadata": metadata(ESTATE_NAME, labels_=lbls),
                "spec": {
                    "priority": ESTATE_PRIORITY,
                    "subject": {"namespaces": {}},
                    "egress": _admin_rules(args, "Pass", "Deny"),
                },
            },
            {
                "apiVersion": ANP_API,
                "kind": "BaselineAdminNetworkPolicy",
                "metadata": metadata(BANP_NAME, labels_=lbls),
                "spec": {"subject": {"namespaces": {}}, "egress": _admin_rules(args, "Allow", "Deny")},
            },
        ]
    if args.admin_tier is AdminTier.CLUSTER_NETWORK_POLICY:
        return [
            {
                "apiVersion": CNP_API,
                "kind": "ClusterNetworkPolicy",
                "metadata": metadata(ESTATE_NAME, labels_=lbls),
                "spec": {
                    "tier": "Admin",
                    "priority": ESTATE_PRIORITY,
                    "subject": {"namespaces": {}},
                    "egress": _admin_rules(args, "Pass", "Deny"),
                },
            },
            {
                "apiVersion": CNP_API,
                "kind": "ClusterNetworkPolicy",
                "metadata": metadata(BASELINE_CNP_NAME, labels_=lbls),
                "spec": {
                    "tier": "Baseline",
                    "priority": ESTATE_PRIORITY,
                    "subject": {"namespaces": {}},
                    "egress": _admin_rules(args, "Accept", "Deny"),
                },
            },
        ]
    if args.admin_tier is AdminTier.CILIUM:
        return cilium_estate_manifests(args, lbls)
    return []


def _sources_by_namespace(args: EgressArgs) -> dict[str, list[str]]:
    by_ns: dict[str, list[str]] = {}
    for ref in sorted(set(args.transfer_sources)):
        namespace, workload = ref.split("/", 1)
        by_ns.setdefault(namespace, []).append(workload)
    return by_ns


def cilium_estate_manifests(args: EgressArgs, lbls: dict[str, str]) -> list[dict[str, Any]]:
    """egressDeny beats every allow, so the estate deny must not select transfer sources; each gets its own
    CCNP whose deny excepts exactly its transfer CIDRs (infra.transfers). The selectors partition all pods:

    * ``sovereign-estate-egress``: every pod outside the namespaces that hold a transfer source;
    * ``sovereign-estate-egress-<ns>``: every pod of such a namespace except the sources (``NotIn`` on the
      workload label, which also selects unlabelled pods).

    The namespace is matched on Cilium's own namespace label, which a pod cannot set for itself, so a pod
    elsewhere that copies a source's workload label gains nothing. ``enableDefaultDeny`` is off: these
    policies only deny and must not turn every selected pod (kube-system included) default-deny; default
    deny for tenants comes from the namespace NetworkPolicies (layer b).
    """
    by_ns = _sources_by_namespace(args)
    deny = [
        {
            "toCIDRSet": cilium_cidr_deny(
                [*args.in_cluster_v4, *args.in_jurisdiction_v4],
                [*args.in_cluster_v6, *args.in_jurisdiction_v6],
            )
        }
    ]

    def ccnp(name: str, selector: dict[str, Any], description: str) -> dict[str, Any]:
        return {
            "apiVersion": CILIUM_API,
            "kind": "CiliumClusterwideNetworkPolicy",
            "metadata": metadata(name, labels_=lbls),
            "spec": {
                "description": description,
                "endpointSelector": selector,
                "enableDefaultDeny": {"egress": False, "ingress": False},
                "egressDeny": deny,
            },
        }

    everywhere: dict[str, Any] = {}
    if by_ns:
        everywhere = {
            "matchExpressions": [{"key": CILIUM_NAMESPACE_LABEL, "operator": "NotIn", "values": sorted(by_ns)}]
        }
    out = [ccnp(ESTATE_NAME, everywhere, "Deny egress that leaves the cluster and the jurisdiction's networks.")]
    for namespace, workloads in sorted(by_ns.items()):
        selector = {
            "matchLabels": {CILIUM_NAMESPACE_LABEL: namespace},
            "matchExpressions": [{"key": labels.WORKLOAD, "operator": "NotIn", "values": workloads}],
        }
        description = (
            f"Deny egress that leaves the cluster and the jurisdiction's networks, for namespace {namespace} "
            f"except its transfer sources ({', '.join(workloads)})."
        )
        out.append(ccnp(f"{ESTATE_NAME}-{namespace}", selector, description))
    return out


# ---------------------------------------------------------------------------------------------- layer b


def default_deny_manifest(args: EgressArgs, namespace: str) -> dict[str, Any]:
    """Explicit policyTypes: with it omitted, a policy without egress rules would be ingress-only."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata("default-deny", namespace=namespace, labels_=estate_labels(args.jurisdiction, args.stack)),
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    }


def dns_peer(args: EgressArgs) -> dict[str, Any]:
    """kube-dns: namespace AND pod labels in ONE peer element."""
    return {
        "namespaceSelector": {"matchLabels": {labels.METADATA_NAME: args.dns_namespace}},
        "podSelector": {"matchLabels": dict(sorted(args.dns_pod_labels))},
    }


def allow_dns_manifest(args: EgressArgs, namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata("allow-dns", namespace=namespace, labels_=estate_labels(args.jurisdiction, args.stack)),
        "spec": {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [dns_peer(args)],
                    "ports": [{"protocol": "UDP", "port": DNS_PORT}, {"protocol": "TCP", "port": DNS_PORT}],
                }
            ],
        },
    }


def _container_ports(w: Workload) -> tuple[PortSpec, ...]:
    return tuple(PortSpec(port=p.port, end_port=None, protocol=p.protocol) for p in w.ports)


def _workload_index(args: EgressArgs) -> dict[str, Workload]:
    return {w.ref: w for w in args.workloads}


def _workload_ports(need_ports: tuple[PortSpec, ...], destination: Workload) -> tuple[PortSpec, ...]:
    """Declared ports, else the destination's container ports (never wider than what it serves)."""
    return need_ports or _container_ports(destination)


def _rule(to: list[dict[str, Any]], ports: tuple[PortSpec, ...]) -> dict[str, Any]:
    rule: dict[str, Any] = {"to": to}
    if ports:
        rule["ports"] = np_ports(ports)
    return rule


def workload_egress_manifest(args: EgressArgs, w: Workload) -> dict[str, Any] | None:
    by_ref = _workload_index(args)
    rules: list[dict[str, Any]] = []
    for need in w.egress:
        if need.cidrs:
            rules.append(_rule([{"ipBlock": {"cidr": str(c)}} for c in need.cidrs], need.ports))
        if need.workload is not None:
            dst = by_ref[need.workload]
            rules.append(_rule([np_workload_peer(dst.namespace, dst.name)], _workload_ports(need.ports, dst)))
    if not rules:
        return None
    return _workload_policy(args, w, "Egress", rules)


def _workload_policy(args: EgressArgs, w: Workload, direction: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
    """A NetworkPolicy selecting exactly one workload's pods, for one direction (``Egress`` or ``Ingress``)."""
    key = direction.lower()
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(
            f"{key}-{w.name}", namespace=w.namespace, labels_=estate_labels(args.jurisdiction, args.stack)
        ),
        "spec": {
            "podSelector": {"matchLabels": {labels.WORKLOAD: w.name}},
            "policyTypes": [direction],
            key: rules,
        },
    }


def ingress_sources(args: EgressArgs, w: Workload) -> list[tuple[Workload, tuple[PortSpec, ...]]]:
    """Who may connect to ``w``: every workload whose egress names it, plus its own ``ingressFrom``."""
    by_ref = _workload_index(args)
    found: dict[tuple[str, tuple[PortSpec, ...]], Workload] = {}
    for src in args.workloads:
        for need in src.egress:
            if need.workload == w.ref:
                found[(src.ref, _workload_ports(need.ports, w))] = src
    for ref in w.ingress_from:
        src_w = by_ref.get(ref)
        if src_w is not None:
            found[(ref, _container_ports(w))] = src_w
    return [(found[key], key[1]) for key in sorted(found, key=lambda k: (k[0], repr(k[1])))]


def workload_ingress_manifest(args: EgressArgs, w: Workload) -> dict[str, Any] | None:
    sources = ingress_sources(args, w)
    if not sources:
        return None
    rules = []
    for src, ports in sources:
        rule: dict[str, Any] = {"from": [np_workload_peer(src.namespace, src.name)]}
        if ports:
            rule["ports"] = np_ports(ports)
        rules.append(rule)
    return _workload_policy(args, w, "Ingress", rules)


def fqdn_selector(domain: str) -> dict[str, str]:
    """Catalog ``*.x`` means one or more labels; Cilium's ``*.`` matches one (narrower, so fail closed)."""
    return {"matchPattern": domain} if "*" in domain else {"matchName": domain}


def cilium_fqdn_manifest(args: EgressArgs, w: Workload) -> dict[str, Any] | None:
    """Cilium can enforce domains: toFQDNs, plus the DNS rule through its proxy that makes toFQDNs work.
    Resolved addresses outside the jurisdiction's networks stay denied by the estate CCNP (deny wins)."""
    rules: list[dict[str, Any]] = []
    for need in w.egress:
        if not need.domains:
            continue
        rule: dict[str, Any] = {"toFQDNs": [fqdn_selector(d) for d in sorted(need.domains)]}
        if need.ports:
            rule["toPorts"] = [{"ports": cilium_ports(need.ports)}]
        rules.append(rule)
    if args.admin_tier is not AdminTier.CILIUM or not rules:
        return None
    dns_endpoint = {CILIUM_NAMESPACE_LABEL: args.dns_namespace, **dict(sorted(args.dns_pod_labels))}
    dns_rule = {
        "toEndpoints": [{"matchLabels": dns_endpoint}],
        "toPorts": [
            {
                "ports": [{"port": str(DNS_PORT), "protocol": "ANY"}],
                "rules": {"dns": [{"matchPattern": "*"}]},
            }
        ],
    }
    return {
        "apiVersion": CILIUM_API,
        "kind": "CiliumNetworkPolicy",
        "metadata": metadata(
            f"fqdn-{w.name}", namespace=w.namespace, labels_=estate_labels(args.jurisdiction, args.stack)
        ),
        "spec": {
            "endpointSelector": {"matchLabels": {labels.WORKLOAD: w.name}},
            "egress": [dns_rule, *rules],
        },
    }


def unenforceable_domains(args: EgressArgs) -> list[dict[str, str]]:
    """Domains NetworkPolicy cannot express: on non-Cilium clusters they are not opened (fail closed)."""
    if args.admin_tier is AdminTier.CILIUM:
        return []
    return [
        {"workload": w.ref, "domain": d, "status": "not enforceable at L3; not opened"}
        for w in sorted(args.workloads, key=lambda w: w.ref)
        for need in w.egress
        for d in sorted(need.domains)
    ]


def namespace_manifests(args: EgressArgs) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for ns in sorted(args.namespaces):
        out += [default_deny_manifest(args, ns), allow_dns_manifest(args, ns)]
    for w in sorted(args.workloads, key=lambda w: w.ref):
        for m in (
            workload_egress_manifest(args, w),
            workload_ingress_manifest(args, w),
            cilium_fqdn_manifest(args, w),
        ):
            if m is not None:
                out.append(m)
    return out


class Egress(pulumi.ComponentResource):
    def __init__(self, name: str, args: EgressArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("sovereign-clusters:estate:Egress", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        for manifest in [*admin_manifests(args), *namespace_manifests(args)]:
            declare(manifest, child)
        self.admin_tier = args.admin_tier.value
        self.unenforceable = unenforceable_domains(args)
        self.register_outputs({"adminTier": self.admin_tier, "notEnforceableAtL3": self.unenforceable})
