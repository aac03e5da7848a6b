"""Services do not forward to destinations outside the jurisdiction.

An ExternalName Service is a DNS alias: in-cluster clients that call it talk to the external name. A Service
without a selector is backed by hand-written EndpointSlices (or legacy Endpoints) whose addresses can be
anywhere. Both turn an innocent in-cluster name into a cross-border path that egress policies may not see,
because the policy checks the resolved address only where the CNI applies ipBlocks to DNATed traffic.
"""

from __future__ import annotations

from collections.abc import Iterator

from policies.framework.addresses import place_host
from policies.framework.context import RuleContext
from policies.framework.k8s import K8sObject
from policies.framework.rule import EXCLUDED_NAMESPACES_SCHEMA, ResourceRule
from policies.framework.values import as_list, as_map, text

SERVICE_NAME_LABEL = "kubernetes.io/service-name"


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
    "Endpoints) point only inside the jurisdiction.",
    remediation="point the Service at an in-jurisdiction name or address, or route the flow through an "
    "approved transfer",
    severity="high",
    check=check,
    config={"excludedNamespaces": EXCLUDED_NAMESPACES_SCHEMA},
)
