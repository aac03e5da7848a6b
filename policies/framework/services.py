"""Where a reference to a Service leads, for the rules that follow references (routes, webhooks, aggregated APIs).

One root cause is reported once: a Service whose ExternalName, external IPs or hand-written endpoints lie abroad is
``service-endpoint-in-jurisdiction``'s finding, on the Service. A rule that follows a reference to it reports only
what is its own: a reference that cannot be resolved (no such Service among the checked objects, or a Service
without a selector and without endpoints), which hides where the traffic goes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from policies.framework.k8s import K8sObject
from policies.framework.values import as_list, as_map, text

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
PODS = "pods"
EXTERNAL = "external"
ENDPOINTS = "endpoints"
MISSING = "missing"
NO_ENDPOINTS = "no-endpoints"


@dataclass(frozen=True)
class ServiceTarget:
    status: str
    """``pods`` (a selector: in-cluster pods), ``external`` (ExternalName), ``endpoints`` (hand-written endpoints),
    ``missing`` (no such Service among the objects) or ``no-endpoints`` (no selector and no endpoints)."""
    detail: str = ""

    @property
    def resolved(self) -> bool:
        return self.status in (PODS, EXTERNAL, ENDPOINTS)


class ServiceIndex:
    """Services, EndpointSlices and Endpoints of one stack, by namespace and name."""

    def __init__(self, objects: Sequence[K8sObject]) -> None:
        self.services: dict[tuple[str, str], K8sObject] = {}
        self.backed: set[tuple[str, str]] = set()
        for o in objects:
            ns = o.namespace or "default"
            if o.group == "" and o.kind == "Service":
                self.services[(ns, o.name)] = o
            elif o.group == "discovery.k8s.io" and o.kind == "EndpointSlice":
                service = text(o.labels().get(SERVICE_NAME_LABEL))
                if service and any(as_list(as_map(ep).get("addresses")) for ep in as_list(o.props.get("endpoints"))):
                    self.backed.add((ns, service))
            elif o.group == "" and o.kind == "Endpoints" and any(
                    as_list(as_map(s).get("addresses")) for s in as_list(o.props.get("subsets"))):
                self.backed.add((ns, o.name))

    def target(self, namespace: str, name: str) -> ServiceTarget:
        service = self.services.get((namespace or "default", name))
        if service is None:
            return ServiceTarget(MISSING, f"Service {namespace}/{name} is not among the checked objects")
        spec = service.spec
        if text(spec.get("type")) == "ExternalName":
            return ServiceTarget(EXTERNAL, text(spec.get("externalName")))
        if as_map(spec.get("selector")):
            return ServiceTarget(PODS)
        if (namespace or "default", name) in self.backed:
            return ServiceTarget(ENDPOINTS)
        return ServiceTarget(NO_ENDPOINTS, f"Service {namespace}/{name} has no selector and no endpoints among the "
                                           f"checked objects, so its backends are set elsewhere")


def unresolved_message(ref: str, target: ServiceTarget, what: str, jurisdiction: str) -> str:
    """The finding for a reference that cannot be resolved."""
    return (f"{ref} sends {what} to a Service that cannot be resolved ({target.detail}): where it goes cannot be shown "
            f"to stay in {jurisdiction}. Fix: check the Service (and its EndpointSlices) together with it")


def service_in(mapping: Mapping[str, object], default_namespace: str) -> tuple[str, str]:
    """(namespace, name) of a ``{namespace, name}`` reference."""
    return text(mapping.get("namespace")) or default_namespace, text(mapping.get("name"))
