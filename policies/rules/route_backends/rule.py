"""Traffic that ingress controllers and gateways forward, mirror or send for authentication stays in the jurisdiction.

A gateway or ingress controller is a proxy: what it receives it sends on to the backends its routes name. A
backend may be an in-cluster Service (judged where it is declared: a Service with an ExternalName or hand-written
endpoints abroad is service-endpoint-in-jurisdiction's finding), but also an external hostname (Istio ``Hostname``,
Gateway API ``XBackend``, Envoy Gateway ``Backend``), a mirror that receives a copy of every request, an external
authorizer that receives every request's headers or body, or telemetry sinks that receive access logs. This rule
places every such destination through the catalog, and fails closed on what it cannot resolve: a Service that is
not among the checked objects (or has no selector and no endpoints), a backend kind it does not know, a dynamic
forward proxy, an arbitrary configuration snippet.

ingress-nginx annotations (``nginx.ingress.kubernetes.io/``) are read on every Ingress: ``mirror-target`` /
``mirror-host`` (a copy of each request), ``auth-url`` (each request's headers), ``default-backend`` (a Service) and
the ``*-snippet`` annotations (raw nginx configuration, which can proxy anywhere). Redirects (``auth-signin``,
``permanent-redirect``...) send the client, not data, elsewhere and are not judged.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from policies.framework.context import RuleContext
from policies.framework.destinations import place_endpoint, place_url
from policies.framework.k8s import K8sObject
from policies.framework.rule import EXCLUDED_NAMESPACES_SCHEMA, Finding, StackRule
from policies.framework.services import ServiceIndex, unresolved_message
from policies.framework.values import as_map, text
from sovereign.kinds.paths import resolve

NGINX = "nginx.ingress.kubernetes.io/"
NGINX_URLS = {"mirror-target": "a copy of every request", "auth-url": "every request's headers (external auth)"}
NGINX_HOSTS = {"mirror-host": "a copy of every request"}
NGINX_VARIABLE = re.compile(r"\$(\{[A-Za-z_][A-Za-z0-9_]*\}|[A-Za-z_][A-Za-z0-9_]*)")
NGINX_SNIPPETS = ("configuration-snippet", "server-snippet", "auth-snippet", "stream-snippet", "modsecurity-snippet")
SERVICE_KIND = ("", "Service")
ROUTE_KINDS = frozenset({"HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute", "UDPRoute"})
GATEWAY_API = "gateway.networking.k8s.io"
ENVOY_GATEWAY = "gateway.envoyproxy.io"
IN_CLUSTER_FILTERS = frozenset({(ENVOY_GATEWAY, "HTTPRouteFilter")})
"""extensionRef filters known to change requests only (headers, rewrites, direct responses), not where they go."""


class _Judge:
    def __init__(self, ctx: RuleContext, objects: Sequence[K8sObject]) -> None:
        self.ctx = ctx
        self.jur = ctx.jurisdiction.id
        self.services = ServiceIndex(objects)
        self.by_kind = {(o.group, o.kind, o.namespace or "default", o.name) for o in objects}

    def has(self, group: str, kind: str, namespace: str, name: str) -> bool:
        """Whether the namespaced object is among the checked ones (a manifest without namespace is applied to
        ``default``; an object of the same name in another namespace is another object)."""
        return (group, kind, namespace or "default", name) in self.by_kind

    def host(self, obj: K8sObject, where: str, value: str, what: str) -> Iterator[str]:
        place = place_endpoint(self.ctx, value)
        if not place.inside:
            yield (f"{obj.ref} sends {what} to {value} ({where}), which lies in {place.where}, outside {self.jur}"
                   if place.inside is False else
                   f"{obj.ref} sends {what} to {value} ({where}), which cannot be placed: {place.where}")

    def url(self, obj: K8sObject, where: str, value: str, what: str) -> Iterator[str]:
        place = place_url(self.ctx, value)
        if place.inside is False:
            yield f"{obj.ref} sends {what} to {value} ({where}), which lies in {place.where}, outside {self.jur}"
        elif place.inside is None:
            yield (f"{obj.ref} sends {what} to {value} ({where}), which cannot be placed: {place.where}; it cannot "
                   f"be shown to stay in {self.jur}")

    def service(self, obj: K8sObject, where: str, namespace: str, name: str, what: str) -> Iterator[str]:
        target = self.services.target(namespace, name)
        if not target.resolved:
            yield unresolved_message(f"{obj.ref} ({where})", target, what, self.jur)

    def backend_ref(self, obj: K8sObject, where: str, ref: Mapping[str, Any], what: str) -> Iterator[str]:
        """A Gateway API BackendObjectReference (group "" and kind Service by default, the route's namespace)."""
        group, kind = text(ref.get("group")), text(ref.get("kind")) or "Service"
        namespace, name = text(ref.get("namespace")) or obj.namespace or "default", text(ref.get("name"))
        if (group, kind) == SERVICE_KIND:
            yield from self.service(obj, where, namespace, name, what)
        elif (group, kind) == ("networking.istio.io", "Hostname"):
            yield from self.host(obj, where, name, what)
        elif (group, kind) in ((ENVOY_GATEWAY, "Backend"), ("gateway.networking.x-k8s.io", "XBackend")):
            if not self.has(group, kind, namespace, name):
                yield (f"{obj.ref} sends {what} to {kind} {namespace}/{name} ({where}), which is not among the checked "
                       f"objects: where it goes cannot be shown to stay in {self.jur}")
        else:
            yield (f"{obj.ref} sends {what} to a {group or 'core'}/{kind} backend {name} ({where}), a kind the checker "
                   f"cannot resolve (a multi-cluster ServiceImport or an implementation's own backend may be "
                   f"anywhere): it cannot be shown to stay in {self.jur}")

    # -- kinds --------------------------------------------------------------------------------------------------
    def ingress(self, obj: K8sObject) -> Iterator[str]:
        spec = obj.spec
        backends = [("spec.defaultBackend", as_map(spec.get("defaultBackend")))] if spec.get("defaultBackend") else []
        for where, path in resolve(obj.props, "spec.rules[*].http.paths[*]"):
            backends.append((f"{where}.backend", as_map(as_map(path).get("backend"))))
        for where, backend in backends:
            service = as_map(backend.get("service"))
            resource = as_map(backend.get("resource"))
            if service:
                yield from self.service(obj, f"{where}.service", obj.namespace or "default", text(service.get("name")),
                                        "requests")
            elif resource:
                yield (f"{obj.ref} sends requests to a {text(resource.get('apiGroup')) or 'core'}/"
                       f"{text(resource.get('kind'))} resource backend {text(resource.get('name'))} ({where}), which "
                       f"the checker cannot resolve: it cannot be shown to stay in {self.jur}")
        annotations = obj.annotations()
        for key in sorted(annotations):
            if not key.startswith(NGINX):
                continue
            name, value = key[len(NGINX):], text(annotations[key])
            where = f"metadata.annotations['{key}']"
            literal = NGINX_VARIABLE.sub("", value)  # `https://h$request_uri`: nginx fills variables per request
            if name in NGINX_URLS and value:
                yield from self.url(obj, where, literal, NGINX_URLS[name])
            elif name in NGINX_HOSTS and value:
                yield from self.host(obj, where, literal, NGINX_HOSTS[name])
            elif name == "default-backend" and value:
                yield from self.service(obj, where, obj.namespace or "default", value, "unmatched requests")
            elif name in NGINX_SNIPPETS and value.strip():
                yield (f"[fail-closed] {obj.ref} sets {where}: raw nginx configuration, which can proxy requests to "
                       f"any address, so it cannot be shown to stay in {self.jur}. Fix: express it with annotations "
                       f"the checker reads, or exempt it after review")

    def route(self, obj: K8sObject) -> Iterator[str]:
        for where, ref in resolve(obj.props, "spec.rules[*].backendRefs[*]"):
            yield from self.backend_ref(obj, where, as_map(ref), "requests")
        filters = [*resolve(obj.props, "spec.rules[*].filters[*]"),
                   *resolve(obj.props, "spec.rules[*].backendRefs[*].filters[*]")]
        for where, raw in filters:
            f = as_map(raw)
            mirror = as_map(as_map(f.get("requestMirror")).get("backendRef"))
            if mirror:
                yield from self.backend_ref(obj, f"{where}.requestMirror.backendRef", mirror, "a copy of requests")
            auth = as_map(as_map(f.get("externalAuth")).get("backendRef"))
            if auth:
                yield from self.backend_ref(obj, f"{where}.externalAuth.backendRef", auth,
                                            "requests' headers for authorisation")
            ext = as_map(f.get("extensionRef"))
            if ext and (text(ext.get("group")), text(ext.get("kind"))) not in IN_CLUSTER_FILTERS:
                yield (f"{obj.ref} applies the filter {text(ext.get('group'))}/{text(ext.get('kind'))} "
                       f"{text(ext.get('name'))} ({where}.extensionRef), which the checker does not read: it may send "
                       f"requests elsewhere, so it cannot be shown to stay in {self.jur}")

    def xbackend(self, obj: K8sObject) -> Iterator[str]:
        host = text(as_map(obj.spec.get("externalHostname")).get("hostname"))
        if host:
            yield from self.host(obj, "spec.externalHostname.hostname", host, "the routes' requests")

    def envoy(self, obj: K8sObject) -> Iterator[str]:
        spec = obj.spec
        if obj.kind == "Backend":
            if text(spec.get("type")) == "DynamicResolver":
                yield (f"{obj.ref} is a dynamic forward proxy (spec.type DynamicResolver): it sends requests to "
                       f"whatever host they name, the world outside {self.jur} included")
            for where, ep in resolve(obj.props, "spec.endpoints[*]"):
                e = as_map(ep)
                for key, path in (("fqdn", "hostname"), ("ip", "address")):
                    value = text(as_map(e.get(key)).get(path))
                    if value:
                        yield from self.host(obj, f"{where}.{key}.{path}", value, "the routes' requests")
        elif obj.kind == "SecurityPolicy":
            for path, what in (("spec.extAuth.grpc.backendRefs[*]", "requests for authorisation"),
                               ("spec.extAuth.http.backendRefs[*]", "requests for authorisation"),
                               ("spec.extAuth.grpc.backendRef", "requests for authorisation"),
                               ("spec.extAuth.http.backendRef", "requests for authorisation"),
                               ("spec.oidc.provider.backendRefs[*]", "OIDC token exchanges")):
                for where, ref in resolve(obj.props, path):
                    yield from self.backend_ref(obj, where, as_map(ref), what)
            token = text(as_map(as_map(spec.get("oidc")).get("provider")).get("tokenEndpoint"))
            if token:
                yield from self.url(obj, "spec.oidc.provider.tokenEndpoint", token, "OIDC authorisation codes")
        elif obj.kind == "EnvoyExtensionPolicy":
            for where, ref in resolve(obj.props, "spec.extProc[*].backendRefs[*]"):
                yield from self.backend_ref(obj, where, as_map(ref), "requests and responses for external processing")
        elif obj.kind == "EnvoyProxy":
            if spec.get("bootstrap") is not None:
                yield (f"[fail-closed] {obj.ref} sets spec.bootstrap: raw Envoy bootstrap configuration, which can add "
                       f"clusters anywhere, so it cannot be shown to stay in {self.jur}")
            telemetry = ("spec.telemetry.accessLog.settings[*].sinks[*].openTelemetry",
                         "spec.telemetry.accessLog.settings[*].sinks[*].als",
                         "spec.telemetry.tracing.provider", "spec.telemetry.metrics.sinks[*].openTelemetry")
            for path in telemetry:
                for where, sink in resolve(obj.props, path):
                    s = as_map(sink)
                    host = text(s.get("host"))
                    if host:
                        yield from self.host(obj, f"{where}.host", host, "access logs, traces or metrics")
                    for ref_where, ref in resolve(s, "backendRefs[*]", where):
                        yield from self.backend_ref(obj, ref_where, as_map(ref), "access logs, traces or metrics")

    def traefik(self, obj: K8sObject) -> Iterator[str]:
        ns = obj.namespace or "default"
        refs: list[tuple[str, Any]] = [*resolve(obj.props, "spec.routes[*].services[*]"),
                                       *resolve(obj.props, "spec.mirroring.mirrors[*]"),
                                       *resolve(obj.props, "spec.weighted.services[*]"),
                                       *resolve(obj.props, "spec.failover.service"),
                                       *resolve(obj.props, "spec.failover.fallback"),
                                       *resolve(obj.props, "spec.errors.service")]
        if obj.kind == "TraefikService" and as_map(obj.spec.get("mirroring")):
            refs.append(("spec.mirroring", obj.spec["mirroring"]))
        for where, raw in refs:
            ref = as_map(raw)
            if text(ref.get("kind")) == "TraefikService":
                continue  # another TraefikService: judged where it is declared
            yield from self.service(obj, where, text(ref.get("namespace")) or ns, text(ref.get("name")), "requests")
        address = text(as_map(obj.spec.get("forwardAuth")).get("address"))
        if address:
            yield from self.url(obj, "spec.forwardAuth.address", address, "every request for authorisation")

    def contour(self, obj: K8sObject) -> Iterator[str]:
        ns = obj.namespace or "default"
        for path in ("spec.routes[*].services[*]", "spec.tcpproxy.services[*]"):
            for where, raw in resolve(obj.props, path):
                yield from self.service(obj, where, ns, text(as_map(raw).get("name")), "requests")


def check(ctx: RuleContext, objects: Sequence[K8sObject]) -> Iterator[Finding]:
    judge: _Judge | None = None
    for obj in objects:
        if not obj.has_role("route") or (obj.namespace and not ctx.governed(obj.namespace)):
            continue
        judge = judge or _Judge(ctx, objects)
        if obj.group == "networking.k8s.io" and obj.kind == "Ingress":
            messages = judge.ingress(obj)
        elif obj.group == GATEWAY_API and obj.kind in ROUTE_KINDS:
            messages = judge.route(obj)
        elif obj.kind == "XBackend":
            messages = judge.xbackend(obj)
        elif obj.group == ENVOY_GATEWAY:
            messages = judge.envoy(obj)
        elif obj.group == "traefik.io":
            messages = judge.traefik(obj)
        elif obj.group == "projectcontour.io":
            messages = judge.contour(obj)
        else:
            messages = iter([f"{obj.ref} routes traffic, but route-backends-in-jurisdiction has no reader for its "
                             f"kind: it cannot be shown to stay in {ctx.jurisdiction.id}"])
        for message in messages:
            yield Finding(message, obj.urn)


RULE = StackRule(
    id="route-backends-in-jurisdiction",
    protects="Ingress controllers and gateways (Ingress and ingress-nginx annotations, Gateway API routes, Envoy "
    "Gateway, Traefik, Contour) forward, mirror and authenticate requests only to destinations in the "
    "jurisdiction; a backend that cannot be resolved fails closed.",
    remediation="route to in-cluster Services (checked together with the route) or to hosts the jurisdiction owns; "
    "remove mirrors, external authorizers and telemetry sinks abroad, and raw configuration snippets",
    severity="critical",
    check=check,
    config={"excludedNamespaces": EXCLUDED_NAMESPACES_SCHEMA},
)
