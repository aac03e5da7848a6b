"""The service mesh sends traffic only to destinations inside the jurisdiction.

Istio routes traffic to the hosts of its registry: Kubernetes Services (judged where they are declared) and
ServiceEntries, which add hosts outside the mesh. A ServiceEntry's hosts, addresses and endpoints are the mesh's
external destinations; WorkloadEntries add endpoints (VMs) by address; DestinationRules can tunnel to another host
or steer traffic to another region's endpoints (locality distribute/failover). The mesh config (IstioOperator
``spec.meshConfig``, the ``istio`` ConfigMap's ``mesh`` key, a Sidecar's own setting) decides what happens to
traffic for hosts the registry does not know: ``ALLOW_ANY``, Istio's default, passes it through to wherever the
application asked, so the mesh's configuration no longer shows where traffic goes; ``REGISTRY_ONLY`` drops it. The
mesh config also names telemetry and external-authorisation providers, which receive request data.

Host names follow Istio's reading: a name without a dot is an in-cluster short name (``reviews`` in the rule's
namespace), a cluster-local suffix stays in the cluster, anything else is placed through the catalog. A WasmPlugin
module is code that runs inside every proxy of its scope: it is pulled only from an allowed registry or a host the
jurisdiction owns.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import yaml

from policies.framework.addresses import is_cluster_local, place_network
from policies.framework.context import RuleContext
from policies.framework.destinations import place_endpoint, place_region, url_scheme
from policies.framework.k8s import K8sObject
from policies.framework.rule import EXCLUDED_NAMESPACES_SCHEMA, ResourceRule
from policies.framework.values import as_list, as_map, text
from policies.rules.image_registry.rule import registry_of
from sovereign.kinds.paths import resolve

MESH_CONFIG_NAMES = ("istio",)
"""The ConfigMap istiod reads its mesh config from: ``istio`` or ``istio-<revision>``, key ``mesh``."""
ALLOW_ANY = ("ALLOW_ANY", "ALLOW_ANY_DYNAMIC_DNS")
PROVIDER_KINDS = ("envoyExtAuthzHttp", "envoyExtAuthzGrpc", "zipkin", "datadog", "opentelemetry", "skywalking",
                  "envoyOtelAls", "envoyHttpAls", "envoyTcpAls", "lightstep")


def _in_mesh(host: str) -> bool:
    h = host.strip().lower().rstrip(".")
    return "." not in h or is_cluster_local(h) or h.endswith(".local")


def _host(ctx: RuleContext, obj: K8sObject, where: str, host: str, what: str) -> Iterator[str]:
    jur = ctx.jurisdiction.id
    name = host.split("/", 1)[1] if "/" in host and not host.startswith("[") else host
    if not name or _in_mesh(name):
        return
    probe = "sovereign-probe." + name[2:] if name.startswith("*.") else name
    if name.strip() == "*":
        yield f"{obj.ref} {where} names every host (*) as {what}, the world outside {jur} included"
        return
    place = place_endpoint(ctx, probe)
    if place.inside is False or place.inside is None:
        yield f"{obj.ref} sends {what} to {name} ({where}), which lies in {place.where}, outside {jur}"


def _locality(ctx: RuleContext, obj: K8sObject, where: str, locality: str, what: str) -> Iterator[str]:
    """An Istio locality ``region/zone/subzone``: the region is judged (``*`` = any region)."""
    region = locality.split("/", 1)[0].strip()
    jur = ctx.jurisdiction.id
    if not region:
        return
    if region == "*":
        yield f"{obj.ref} {where} sends {what} to any region ({locality}), the world outside {jur} included"
        return
    place = place_region(ctx, region)
    if place.inside is not True:
        yield f"{obj.ref} sends {what} to locality {locality} ({where}), {place.where}, outside {jur}"


def _service_entry(ctx: RuleContext, obj: K8sObject) -> Iterator[str]:
    spec = obj.spec
    jur = ctx.jurisdiction.id
    internal = text(spec.get("location")) == "MESH_INTERNAL"
    resolution = text(spec.get("resolution")) or "NONE"
    addresses = [text(a) for a in as_list(spec.get("addresses"))]
    if not internal:
        for i, host in enumerate(as_list(spec.get("hosts"))):
            yield from _host(ctx, obj, f"spec.hosts[{i}]", text(host), "mesh traffic")
        tcp = any(text(as_map(p).get("protocol")).upper() in ("TCP", "TLS", "") for p in as_list(spec.get("ports")))
        if resolution == "NONE" and not addresses and not as_list(spec.get("endpoints")) and tcp:
            yield (f"{obj.ref} has resolution NONE, no addresses and a TCP port: the mesh forwards traffic on that "
                   f"port to ANY address, the world outside {jur} included")
    for i, addr in enumerate(addresses):
        inside, where = place_network(addr, ctx.jurisdiction, ctx.catalog, ctx.stack.cluster.cidrs)
        if not inside:
            yield f"{obj.ref} sends mesh traffic to {addr} (spec.addresses[{i}]), which lies in {where}, outside {jur}"
    for i, ep in enumerate(as_list(spec.get("endpoints"))):
        e = as_map(ep)
        address = text(e.get("address"))
        if address and not address.startswith("unix://"):
            yield from _host(ctx, obj, f"spec.endpoints[{i}].address", address, "mesh traffic")
        if text(e.get("locality")):
            yield from _locality(ctx, obj, f"spec.endpoints[{i}].locality", text(e.get("locality")), "mesh traffic")


def _destination_rule(ctx: RuleContext, obj: K8sObject) -> Iterator[str]:
    policies = [("spec.trafficPolicy", as_map(obj.spec.get("trafficPolicy")))]
    for i, subset in enumerate(as_list(obj.spec.get("subsets"))):
        policies.append((f"spec.subsets[{i}].trafficPolicy", as_map(as_map(subset).get("trafficPolicy"))))
    for where, policy in policies:
        tunnel = text(as_map(policy.get("tunnel")).get("targetHost"))
        if tunnel:
            yield from _host(ctx, obj, f"{where}.tunnel.targetHost", tunnel, "tunnelled traffic")
        locality = as_map(as_map(policy.get("loadBalancer")).get("localityLbSetting"))
        for i, rule in enumerate(as_list(locality.get("distribute"))):
            for target in as_map(as_map(rule).get("to")):
                yield from _locality(ctx, obj, f"{where}.loadBalancer.localityLbSetting.distribute[{i}].to", target,
                                     "a share of the traffic")
        for i, rule in enumerate(as_list(locality.get("failover"))):
            target = text(as_map(rule).get("to"))
            if target:
                yield from _locality(ctx, obj, f"{where}.loadBalancer.localityLbSetting.failover[{i}].to", target,
                                     "traffic on failover")


def _workload_entry(ctx: RuleContext, obj: K8sObject, spec: Mapping[str, Any], prefix: str) -> Iterator[str]:
    address = text(spec.get("address"))
    if address and not address.startswith("unix://"):
        yield from _host(ctx, obj, f"{prefix}.address", address, "mesh traffic (a workload outside the cluster)")
    if text(spec.get("locality")):
        yield from _locality(ctx, obj, f"{prefix}.locality", text(spec.get("locality")), "mesh traffic")


def _mesh_config(ctx: RuleContext, obj: K8sObject, mesh: Mapping[str, Any], where: str) -> Iterator[str]:
    jur = ctx.jurisdiction.id
    mode = text(as_map(mesh.get("outboundTrafficPolicy")).get("mode")) or "ALLOW_ANY"
    if mode in ALLOW_ANY:
        shown = "unset, Istio's default ALLOW_ANY" if not as_map(mesh.get("outboundTrafficPolicy")) else mode
        yield (f"{obj.ref} {where}.outboundTrafficPolicy.mode is {shown}: the mesh passes traffic for hosts its "
               f"registry does not know straight to wherever the application asked, so its configuration no longer "
               f"shows where traffic goes, possibly outside {jur}. Fix: set mode REGISTRY_ONLY and declare external "
               f"hosts with ServiceEntries")
    for i, provider in enumerate(as_list(mesh.get("extensionProviders"))):
        p = as_map(provider)
        for kind in PROVIDER_KINDS:
            service = text(as_map(p.get(kind)).get("service"))
            if service:
                yield from _host(ctx, obj, f"{where}.extensionProviders[{i}].{kind}.service", service,
                                 f"request data for provider {text(p.get('name')) or i}")
        if p.get("stackdriver") is not None:
            yield (f"{obj.ref} {where}.extensionProviders[{i}] sends traces, logs or metrics to Google Cloud "
                   f"Operations (stackdriver), whose location the mesh config does not state: it cannot be shown to "
                   f"stay in {jur}")


def _configmap(ctx: RuleContext, obj: K8sObject) -> Iterator[str]:
    if not (obj.name in MESH_CONFIG_NAMES or obj.name.startswith("istio-")):
        return
    raw = as_map(obj.props.get("data")).get("mesh")
    if raw is None:
        return
    try:
        mesh = yaml.safe_load(text(raw)) or {}
    except yaml.YAMLError:
        mesh = None
    if not isinstance(mesh, Mapping):
        yield (f"{obj.ref} data.mesh cannot be read as the mesh config (YAML mapping): where the mesh sends traffic "
               f"cannot be shown to stay in {ctx.jurisdiction.id}")
        return
    yield from _mesh_config(ctx, obj, mesh, "data.mesh")


def _wasm(ctx: RuleContext, obj: K8sObject) -> Iterator[str]:
    url = text(obj.spec.get("url"))
    jur = ctx.jurisdiction
    if not url or url_scheme(url) == "file":
        return
    scheme = url_scheme(url)
    if scheme in ("", "oci"):
        host = registry_of(url.split("://", 1)[-1])
        if not jur.registry_allowed(host):
            yield (f"{obj.ref} pulls its Wasm module {url} (spec.url) from {host}, a registry not allowed in {jur.id}: "
                   f"code from abroad would run inside every proxy of its scope")
        return
    place = place_endpoint(ctx, url)
    if place.inside is not True:
        yield (f"{obj.ref} pulls its Wasm module from {url} (spec.url), which lies in {place.where}, outside {jur.id}: "
               f"code from abroad would run inside every proxy of its scope")


def check(ctx: RuleContext, obj: K8sObject) -> Iterator[str]:
    if obj.namespace and not ctx.governed(obj.namespace):
        return
    if obj.group == "" and obj.kind == "ConfigMap":
        yield from _configmap(ctx, obj)
    elif obj.group == "networking.istio.io":
        if obj.kind == "ServiceEntry":
            yield from _service_entry(ctx, obj)
        elif obj.kind == "DestinationRule":
            yield from _destination_rule(ctx, obj)
        elif obj.kind == "WorkloadEntry":
            yield from _workload_entry(ctx, obj, obj.spec, "spec")
        elif obj.kind == "WorkloadGroup":
            yield from _workload_entry(ctx, obj, as_map(obj.spec.get("template")), "spec.template")
        elif obj.kind == "Sidecar":
            policy = as_map(obj.spec.get("outboundTrafficPolicy"))
            if text(policy.get("mode")) in ALLOW_ANY:
                yield (f"{obj.ref} spec.outboundTrafficPolicy.mode is {text(policy.get('mode'))}: its proxies pass "
                       f"traffic for unknown hosts straight through, so the mesh no longer shows where traffic goes, "
                       f"possibly outside {ctx.jurisdiction.id}. Fix: REGISTRY_ONLY")
            proxy = text(as_map(policy.get("egressProxy")).get("host"))
            if proxy:
                yield from _host(ctx, obj, "spec.outboundTrafficPolicy.egressProxy.host", proxy, "unknown traffic")
    elif obj.group == "install.istio.io" and obj.kind == "IstioOperator":
        yield from _mesh_config(ctx, obj, as_map(obj.spec.get("meshConfig")), "spec.meshConfig")
        yield from _operator_images(ctx, obj)
    elif obj.group == "extensions.istio.io" and obj.kind == "WasmPlugin":
        yield from _wasm(ctx, obj)


ISTIO_HUBS = ("hub", "values.global.hub", "components{*}.hub", "components.ingressGateways[*].hub",
              "components.egressGateways[*].hub", "values.cni.hub", "values.ztunnel.hub")
"""Where an IstioOperator names registries (``hub``: images are ``<hub>/<image>:<tag>``), relative to ``spec``."""
ISTIO_IMAGES = ("values.global.proxy.image", "values.global.proxy_init.image", "values.pilot.image",
                "values.cni.image", "values.ztunnel.image")
"""Image overrides of the Istio charts: a value with ``/`` is a whole reference (the sidecar injection template and
the charts use it as is, ignoring the hub); a bare name is pulled from the hub."""


def _operator_images(ctx: RuleContext, obj: K8sObject) -> Iterator[str]:
    """Every registry an IstioOperator installs the mesh from: its hubs (none set: the release's default hub, an
    upstream public registry) and whole image references in the chart values (the injected sidecar runs in every
    meshed pod)."""
    jur = ctx.jurisdiction
    hubs = [(where, text(v)) for path in ISTIO_HUBS for where, v in resolve(obj.spec, path, "spec") if text(v)]
    if not any(where in ("spec.hub", "spec.values.global.hub") for where, _ in hubs):
        yield (f"{obj.ref} sets no hub (spec.hub or spec.values.global.hub): the mesh's images come from the "
               f"release's default hub, an upstream public registry not allowed in {jur.id}. Fix: set spec.hub to "
               f"an allowed registry")
    for where, hub in hubs:
        if not jur.registry_allowed(registry_of(hub.rstrip("/") + "/x")):
            yield f"{obj.ref} pulls the mesh's images from {hub} ({where}), a registry not allowed in {jur.id}"
    for path in ISTIO_IMAGES:
        for where, value in resolve(obj.spec, path, "spec"):
            image = text(value)
            if "/" in image and not jur.registry_allowed(registry_of(image)):
                yield (f"{obj.ref} pulls {image} ({where}) from {registry_of(image)}, a registry not allowed in "
                       f"{jur.id}: Istio uses a whole image reference as is, ignoring the hub")


RULE = ResourceRule(
    id="mesh-egress-in-jurisdiction",
    protects="The service mesh (Istio) sends traffic only to hosts, addresses, endpoints and localities in the "
    "jurisdiction: ServiceEntries, WorkloadEntries, DestinationRule tunnels and locality steering, mesh-config "
    "providers; it drops traffic for unknown hosts (REGISTRY_ONLY) instead of passing it anywhere.",
    remediation="declare external hosts the jurisdiction owns in ServiceEntries, set outboundTrafficPolicy mode "
    "REGISTRY_ONLY, keep locality steering and providers inside the jurisdiction",
    severity="critical",
    check=check,
    config={"excludedNamespaces": EXCLUDED_NAMESPACES_SCHEMA},
)
