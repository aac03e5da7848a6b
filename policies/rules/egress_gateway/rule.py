"""Pods' traffic leaves the cluster only through gateways inside the jurisdiction.

Egress gateways decide where traffic exits: a CiliumEgressGatewayPolicy sends the selected pods' traffic for its
destination CIDRs out through the node its ``egressGateway.nodeSelector`` picks, SNATed to that node's address;
Antrea's ExternalIPPool, and OVN-Kubernetes' EgressService, pick the nodes that carry egress IPs; OVN's
AdminPolicyBasedExternalRoute routes pods' traffic to external next-hop gateways. A gateway node in a region of
another jurisdiction, or a next hop outside the jurisdiction's networks, carries the traffic abroad before any
destination policy applies. Which destinations are allowed at all stays the network policies' business
(no-cross-border-path); this rule judges only where the traffic exits.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from policies.framework.addresses import place_network
from policies.framework.context import RuleContext
from policies.framework.k8s import K8sObject
from policies.framework.rule import ResourceRule
from policies.framework.values import as_list, as_map, text
from sovereign.core.labels import REGION
from sovereign.kinds.paths import resolve

SELECTORS = {
    ("cilium.io", "CiliumEgressGatewayPolicy"): ("spec.egressGateway.nodeSelector",
                                                 "spec.egressGateways[*].nodeSelector"),
    ("crd.antrea.io", "ExternalIPPool"): ("spec.nodeSelector",),
    ("k8s.ovn.org", "EgressService"): ("spec.nodeSelector",),
}


def _regions(selector: Mapping[str, Any]) -> list[str]:
    """Regions a node label selector pins (matchLabels, or In expressions on the region label)."""
    found = [text(as_map(selector.get("matchLabels")).get(REGION))]
    for expr in as_list(selector.get("matchExpressions")):
        e = as_map(expr)
        if text(e.get("key")) == REGION and text(e.get("operator")) == "In":
            found.extend(text(v) for v in as_list(e.get("values")))
    return [r for r in found if r]


def check(ctx: RuleContext, obj: K8sObject) -> Iterator[str]:
    jur = ctx.jurisdiction.id
    for path in SELECTORS.get((obj.group, obj.kind), ()):
        for where, selector in resolve(obj.props, path):
            for region in _regions(as_map(selector)):
                inside, place = ctx.stack.region_verdict(region)
                if inside is None:
                    yield (f"{obj.ref} picks its egress node by {where} {REGION}={region}, which cannot be placed: "
                           f"{place}")
                elif not inside:
                    yield (f"{obj.ref} sends pods' traffic out through a node in {place} ({where}), outside {jur}: it "
                           f"leaves the jurisdiction there, whatever its destination")
    if obj.group == "k8s.ovn.org" and obj.kind == "AdminPolicyBasedExternalRoute":
        for where, hop in resolve(obj.props, "spec.nextHops.static[*]"):
            ip = text(as_map(hop).get("ip"))
            inside, place = place_network(ip, ctx.jurisdiction, ctx.catalog, ctx.stack.cluster.cidrs)
            if not inside:
                yield (f"{obj.ref} routes pods' traffic through the external gateway {ip} ({where}.ip), which lies in "
                       f"{place}, outside {jur}")


RULE = ResourceRule(
    id="egress-gateway-in-jurisdiction",
    protects="Egress gateways (Cilium egress gateway nodes, Antrea ExternalIPPool and OVN EgressService nodes, OVN "
    "external route next hops) lie in the jurisdiction, so pods' traffic never exits the cluster abroad.",
    remediation="pin the gateway's node selector to a region of the jurisdiction (topology.kubernetes.io/region), "
    "and route through next hops inside the jurisdiction's networks",
    severity="critical",
    check=check,
)
