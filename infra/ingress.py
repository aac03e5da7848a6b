"""Ingress from outside the cluster: what each workload's declared sources open, and the load balancer in front.

The namespace default deny (infra.egress, layer b) isolates ingress; this component opens, per workload, exactly
the sources the plan placed (``EstatePlan.inbound``):

* sources in the jurisdiction: one NetworkPolicy ``from-outside-<workload>`` with an ``ipBlock`` rule per source,
  on the source's ports. NetworkPolicy is what every CNI of the stack schema enforces for ingress, and the estate's
  admin-tier objects only govern egress, so there is no other tier to open; on Cilium an ``ipBlock`` rule is its
  ``fromCIDR`` (it never matches pod IPs, which a source outside the cluster does not need);
* sources abroad under an active transfer: one NetworkPolicy ``transfer-<id>-<workload>-inbound`` per transfer,
  annotated with the approval like the transfer's egress policy (infra.transfers), so the connectivity proof can
  tell the approved inbound path from any other (docs/connectivity.md, "Ingress from outside the cluster");
* ``loadBalancer``: a ``<workload>-lb`` Service of type LoadBalancer over the workload's ports that its sources
  reach, ``loadBalancerSourceRanges`` set to every rendered source network, the catalog provider's internal
  annotation when the scheme is internal, and ``externalTrafficPolicy: Local`` so that the pods see the client's
  address (with ``Cluster`` the node would SNAT it and no ``ipBlock`` could tell the sources apart).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from infra.k8s_objects import declare
from infra.meta import estate_labels, metadata
from infra.plan import InboundPath
from infra.policy_syntax import np_ports
from infra.transfers import approval_annotations
from sovereign.core import labels
from sovereign.stackconfig.model import LoadBalancerScheme, PortSpec, Workload

LOAD_BALANCER_SUFFIX = "-lb"


@dataclass(frozen=True)
class IngressArgs:
    stack: str
    jurisdiction: str
    workloads: tuple[Workload, ...]
    inbound: tuple[InboundPath, ...]
    internal_load_balancer: tuple[tuple[str, str], ...]
    """The cluster provider's internal load-balancer annotations (catalog); empty: none known."""


def _cidrs(paths: list[InboundPath]) -> list[str]:
    nets = {n for p in paths for n in p.networks}
    return [str(n) for n in sorted(nets, key=lambda n: (n.version, int(n.network_address), n.prefixlen))]


def _rule(path: InboundPath) -> dict[str, Any]:
    rule: dict[str, Any] = {"from": [{"ipBlock": {"cidr": c}} for c in _cidrs([path])]}
    if path.ports:
        rule["ports"] = np_ports(path.ports)
    return rule


def _policy(args: IngressArgs, w: Workload, name: str, rules: list[dict[str, Any]],
            extra_labels: dict[str, str] | None = None, annotations: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(name, namespace=w.namespace,
                             labels_={**estate_labels(args.jurisdiction, args.stack), **(extra_labels or {})},
                             annotations=annotations),
        "spec": {
            "podSelector": {"matchLabels": {labels.WORKLOAD: w.name}},
            "policyTypes": ["Ingress"],
            "ingress": rules,
        },
    }


def _by_workload(args: IngressArgs) -> dict[str, list[InboundPath]]:
    out: dict[str, list[InboundPath]] = {}
    for path in args.inbound:
        out.setdefault(path.workload.ref, []).append(path)
    return out


def policy_manifests(args: IngressArgs) -> list[dict[str, Any]]:
    """The NetworkPolicies that admit each workload's sources: home sources together, each transfer apart."""
    out: list[dict[str, Any]] = []
    for _ref, paths in sorted(_by_workload(args).items()):
        w = paths[0].workload
        home = sorted((p for p in paths if p.transfer is None), key=lambda p: p.source)
        if home:
            out.append(_policy(args, w, f"from-outside-{w.name}", [_rule(p) for p in home]))
        by_transfer: dict[str, list[InboundPath]] = {}
        for p in paths:
            if p.transfer is not None:
                by_transfer.setdefault(p.transfer.id, []).append(p)
        for tid, tpaths in sorted(by_transfer.items()):
            transfer = tpaths[0].transfer
            assert transfer is not None
            out.append(_policy(args, w, f"transfer-{tid}-{w.name}-inbound",
                               [_rule(p) for p in sorted(tpaths, key=lambda p: p.source)],
                               {labels.TRANSFER_ID: tid}, approval_annotations(transfer)))
    return out


def _served(w: Workload, ports: list[PortSpec]) -> list[dict[str, Any]]:
    """The workload's ports any source may reach (a port range covers each declared port inside it)."""
    def reached(port: int, proto: str) -> bool:
        return any(p.protocol.value == proto and (p.port is None or p.port <= port <= (p.end_port or p.port))
                   for p in ports)

    return [{"name": p.name, "port": p.port, "protocol": p.protocol.value, "targetPort": p.name}
            for p in w.ports if reached(p.port, p.protocol.value)]


def load_balancer_manifests(args: IngressArgs) -> list[dict[str, Any]]:
    """One Service per workload that asks for a load balancer, open only to its rendered sources."""
    out: list[dict[str, Any]] = []
    by_ref = _by_workload(args)
    for w in sorted(args.workloads, key=lambda w: w.ref):
        paths = by_ref.get(w.ref, [])
        if w.load_balancer is None or not paths:
            continue  # a load balancer without a rendered source would be open to nobody or, worse, everybody
        annotations = dict(args.internal_load_balancer) if w.load_balancer is LoadBalancerScheme.INTERNAL else {}
        out.append({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": metadata(f"{w.name}{LOAD_BALANCER_SUFFIX}", namespace=w.namespace,
                                 labels_={**estate_labels(args.jurisdiction, args.stack), labels.WORKLOAD: w.name},
                                 annotations=annotations),
            "spec": {
                "type": "LoadBalancer",
                "selector": {labels.WORKLOAD: w.name},
                "ports": _served(w, [p for path in paths for p in path.ports]),
                "externalTrafficPolicy": "Local",
                "loadBalancerSourceRanges": _cidrs(paths),
            },
        })
    return out


def allowed_ingress(args: IngressArgs) -> list[dict[str, Any]]:
    """The stack output: who may connect to what from outside the cluster, and under which transfer."""
    return [
        {
            "workload": p.workload.ref,
            "source": p.source,
            "networks": _cidrs([p]),
            "ports": [f"{s.port or 'all'}{'-' + str(s.end_port) if s.end_port else ''}/{s.protocol.value}"
                      for s in p.ports],
            "transfer": p.transfer.id if p.transfer else None,
        }
        for p in sorted(args.inbound, key=lambda p: (p.workload.ref, p.source, p.transfer.id if p.transfer else ""))
    ]


class Ingress(pulumi.ComponentResource):
    def __init__(self, name: str, args: IngressArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("sovereign-clusters:estate:Ingress", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        for manifest in [*policy_manifests(args), *load_balancer_manifests(args)]:
            declare(manifest, child)
        self.allowed = allowed_ingress(args)
        self.register_outputs({"allowedIngress": self.allowed})


