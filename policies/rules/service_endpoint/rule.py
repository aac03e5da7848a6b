"""Services do not forward to destinations outside the jurisdiction, and do not open the cluster to readers abroad.

An ExternalName Service is a DNS alias: in-cluster clients that call it talk to the external name. A Service
without a selector is backed by hand-written EndpointSlices (or legacy Endpoints) whose addresses can be
anywhere. Both turn an innocent in-cluster name into a cross-border path that egress policies may not see,
because the policy checks the resolved address only where the CNI applies ipBlocks to DNATed traffic.

Inbound (docs/policies.md, "Inbound traffic from abroad"): a connection from abroad is not an export by itself, but
what the cluster sends back on it is (a remote read counts as an export under the Chinese automotive guidelines,
and as a transfer under GDPR). A ``LoadBalancer`` Service is the cluster's door to the world: it must be an
internal load balancer of the provider (its annotation), or restrict its sources (``loadBalancerSourceRanges``) to
the jurisdiction's networks. A sanctioned public door (the fleet's upload endpoint) is accepted by a reviewed
exemption, so that every such door is listed in every report.
"""

from __future__ import annotations

from collections.abc import Iterator

from policies.framework.addresses import place_host, place_network
from policies.framework.context import RuleContext
from policies.framework.k8s import K8sObject
from policies.framework.rule import EXCLUDED_NAMESPACES_SCHEMA, ResourceRule
from policies.framework.values import as_list, as_map, text

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
INTERNAL_LOAD_BALANCER = (
    ("service.beta.kubernetes.io/aws-load-balancer-internal", ("true",)),
    ("service.beta.kubernetes.io/aws-load-balancer-scheme", ("internal",)),
    ("networking.gke.io/load-balancer-type", ("Internal",)),
    ("cloud.google.com/load-balancer-type", ("Internal",)),
    ("service.beta.kubernetes.io/azure-load-balancer-internal", ("true",)),
    ("service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type", ("intranet",)),
    ("service.kubernetes.io/qcloud-loadbalancer-internal-subnetid", ()),
    ("kubernetes.io/elb.class", ("union", "performance")),
)
"""Annotations that make a cloud's load balancer internal (reachable from its private network only): AWS Load
Balancer Controller and the legacy in-tree AWS provider, GKE, AKS, Alibaba Cloud CCM, Tencent TKE (an internal
subnet) and Huawei CCE (an ELB in the VPC). An empty value tuple: any value counts."""


def _place(ctx: RuleContext, host: str) -> tuple[bool, str]:
    return place_host(host, ctx.jurisdiction, ctx.catalog, ctx.stack.cluster.cidrs)


def _service(ctx: RuleContext, obj: K8sObject) -> Iterator[str]:
    jur = ctx.jurisdiction.id
    spec = obj.spec
    if text(spec.get("type")) == "ExternalName":
        name = text(spec.get("externalName"))
        ok, place = _place(ctx, name)
        if not ok:
            yield (f"{obj.ref} is an ExternalName alias for {name or '(empty)'}, which lies in {place}, outside "
                   f"{jur}: in-cluster clients of {obj.name} would send their data across the border")
    for i, ip in enumerate(as_list(spec.get("externalIPs"))):
        ok, place = _place(ctx, text(ip))
        if not ok:
            yield f"{obj.ref} spec.externalIPs[{i}] {text(ip)} lies in {place}, outside {jur}"
    if text(spec.get("type")) == "LoadBalancer":
        yield from _load_balancer(ctx, obj)


def _load_balancer(ctx: RuleContext, obj: K8sObject) -> Iterator[str]:
    """A door to the world: internal, or open only to sources in the jurisdiction (see the module docstring)."""
    jur = ctx.jurisdiction.id
    annotations = obj.annotations()
    for key, values in INTERNAL_LOAD_BALANCER:
        value = text(annotations.get(key))
        if value and (not values or value in values):
            return
    ranges = [text(r) for r in as_list(obj.spec.get("loadBalancerSourceRanges"))]
    if not ranges:
        yield (f"{obj.ref} is a public load balancer open to any source (no loadBalancerSourceRanges, no internal "
               f"load-balancer annotation): clients abroad can read what its pods serve, and a remote read from "
               f"outside {jur} is an export. Fix: make it internal, restrict loadBalancerSourceRanges to {jur}'s "
               f"networks, or exempt it after review (a sanctioned public endpoint)")
        return
    for i, source in enumerate(ranges):
        inside, place = place_network(source, ctx.jurisdiction, ctx.catalog, ctx.stack.cluster.cidrs)
        if not inside:
            yield (f"{obj.ref} accepts clients from {source} (spec.loadBalancerSourceRanges[{i}]), which lies in "
                   f"{place}, outside {jur}: they can read what its pods serve, and a remote read from outside {jur} "
                   f"is an export")


def _slice(ctx: RuleContext, obj: K8sObject) -> Iterator[str]:
    jur = ctx.jurisdiction.id
    service = text(obj.labels().get(SERVICE_NAME_LABEL)) or "(no service-name label)"
    for i, ep in enumerate(as_list(obj.props.get("endpoints"))):
        for j, addr in enumerate(as_list(as_map(ep).get("addresses"))):
            ok, place = _place(ctx, text(addr))
            if not ok:
                yield (f"{obj.ref} routes Service {service} to {text(addr)} (endpoints[{i}].addresses[{j}]), which "
                       f"lies in {place}, outside {jur}: callers of the Service would cross the border")


def _endpoints(ctx: RuleContext, obj: K8sObject) -> Iterator[str]:
    jur = ctx.jurisdiction.id
    for i, subset in enumerate(as_list(obj.props.get("subsets"))):
        for field in ("addresses", "notReadyAddresses"):
            for j, addr in enumerate(as_list(as_map(subset).get(field))):
                a = as_map(addr)
                host = text(a.get("ip")) or text(a.get("hostname"))
                ok, place = _place(ctx, host)
                if not ok:
                    yield (f"{obj.ref} routes Service {obj.name} to {host} (subsets[{i}].{field}[{j}]), which lies "
                           f"in {place}, outside {jur}")


def check(ctx: RuleContext, obj: K8sObject) -> Iterator[str]:
    if not ctx.governed(obj.namespace):
        return
    if obj.kind == "Service" and obj.group == "":
        yield from _service(ctx, obj)
    elif obj.kind == "EndpointSlice" and obj.group == "discovery.k8s.io":
        yield from _slice(ctx, obj)
    elif obj.kind == "Endpoints" and obj.group == "":
        yield from _endpoints(ctx, obj)


RULE = ResourceRule(
    id="service-endpoint-in-jurisdiction",
    protects="Services (ExternalName, externalIPs, selector-less Services backed by EndpointSlices or "
    "Endpoints) point only inside the jurisdiction, and load balancers are internal or open only to sources in it.",
    remediation="point the Service at an in-jurisdiction name or address, or route the flow through an "
    "approved transfer",
    severity="high",
    check=check,
    config={"excludedNamespaces": EXCLUDED_NAMESPACES_SCHEMA},
)
