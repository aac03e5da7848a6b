"""Turn manifests into namespaces, pod equivalence classes, services and policy objects.

Pods that agree on namespace, labels, named ports, hostNetwork and the address atoms of their IPs are
indistinguishable to every policy API, so they form one class: a Deployment with 50 replicas is one class,
and the engine's cost follows classes, not pods.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sovereign.core.errors import InputError
from sovereign.core.labels import JURISDICTION, METADATA_NAME
from sovereign.kinds.object_identity import DEFAULT_NAMESPACE
from sovereign.kinds.pods import PodShape, registered_shapes
from sovereign.kinds.registry import KindEntry, default_registry
from sovereign.kinds.shapes import pods_by_shape
from sovereign.kinds.tokens import api_group

NETWORK_POLICY_ROLE = "network-policy"
"""The registry role of the policy kinds this engine models (sovereign/kinds/registry)."""

SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")
"""``spec.type`` values of a core/v1 Service (Kubernetes API reference)."""

NamedPorts = tuple[tuple[str, str, int], ...]
"""(name, protocol, containerPort), sorted."""


@dataclass
class Manifest:
    """One object with the place it came from, for error messages."""

    obj: Mapping[str, Any]
    source: str
    index: int
    prefix: tuple[str | int, ...] | None = None
    """Key-path prefix inside ``source`` (e.g. ``("document 3",)``); default: the object's list index."""

    @property
    def kind(self) -> str:
        return str(self.obj.get("kind", ""))

    def path(self, *keys: str | int) -> list[str | int]:
        return [*(self.prefix if self.prefix is not None else (self.index,)), *keys]


@dataclass
class PodTemplate:
    ref: str
    kind: str
    namespace: str
    labels: dict[str, str]
    named_ports: NamedPorts
    host_network: bool
    ips: tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, ...]
    replicas: int


@dataclass
class Namespace:
    name: str
    labels: dict[str, str]


@dataclass
class ServicePort:
    name: str
    port: int
    protocol: str
    target: int | str


@dataclass
class Service:
    namespace: str
    name: str
    selector: dict[str, str] | None
    ports: tuple[ServicePort, ...]
    type: str = "ClusterIP"
    """``spec.type``: ClusterIP (default), NodePort, LoadBalancer or ExternalName."""
    headless: bool = False
    """``spec.clusterIP: None``: no virtual IP, no port translation; DNS names the backends' own addresses."""
    external_name: str = ""
    """``spec.externalName`` of an ExternalName Service: a DNS alias (CNAME), no backends of its own."""
    endpoint_ips: list[tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, ...]] = field(default_factory=list)
    endpoint_ports: list[tuple[str, int, str]] = field(default_factory=list)
    """(name, port, protocol) of EndpointSlices."""


def _str_map(m: Manifest, value: Any, *keys: str | int) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InputError(m.source, m.path(*keys), "a mapping of strings", value)
    out: dict[str, str] = {}
    for k, v in value.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise InputError(m.source, m.path(*keys, str(k)), "a string label value", v)
        out[k] = v
    return out


def _mapping(m: Manifest, value: Any, *keys: str | int) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InputError(m.source, m.path(*keys), "a mapping", value)
    return value


def _list(m: Manifest, value: Any, *keys: str | int) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError(m.source, m.path(*keys), "a list", value)
    return value


def name_of(m: Manifest) -> str:
    meta = _mapping(m, m.obj.get("metadata"), "metadata")
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        raise InputError(m.source, m.path("metadata", "name"), "a non-empty name", name)
    return name


def namespace_of(m: Manifest) -> str:
    meta = _mapping(m, m.obj.get("metadata"), "metadata")
    ns = meta.get("namespace", DEFAULT_NAMESPACE)
    if not isinstance(ns, str) or not ns:
        raise InputError(m.source, m.path("metadata", "namespace"), "a namespace name", ns)
    return ns


def parse_ip(m: Manifest, value: Any, *keys: str | int) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(str(value))
    except ValueError:
        raise InputError(m.source, m.path(*keys), "an IP address", value) from None


def _protocol(m: Manifest, value: Any, *keys: str | int) -> str:
    proto = "TCP" if value is None else value
    if proto not in ("TCP", "UDP", "SCTP"):
        raise InputError(m.source, m.path(*keys), "TCP, UDP or SCTP", value)
    return str(proto)


def _pod_parts(m: Manifest, shape: PodShape) -> tuple[NamedPorts, bool]:
    """Named ports (of init and regular containers) and hostNetwork of one pod shape; malformed = bad input."""
    named: set[tuple[str, str, int]] = set()
    for where, c in shape.containers():
        if where.split(".")[-1].startswith("ephemeralContainers"):
            continue  # ephemeral containers may not declare ports
        for pi, p in enumerate(_list(m, c.get("ports"), where, "ports")):
            pk = (where, "ports", pi)
            p = _mapping(m, p, *pk)
            num = p.get("containerPort")
            if not isinstance(num, int) or isinstance(num, bool) or not 1 <= num <= 65535:
                raise InputError(m.source, m.path(*pk, "containerPort"), "a port 1..65535", num)
            proto = _protocol(m, p.get("protocol"), *pk, "protocol")
            name = p.get("name")
            if name is not None:
                if not isinstance(name, str):
                    raise InputError(m.source, m.path(*pk, "name"), "a port name", name)
                named.add((name, proto, num))
    where, host = shape.get("hostNetwork")
    host = False if host is None else host
    if not isinstance(host, bool):
        raise InputError(m.source, m.path(where), "true or false", host)
    return tuple(sorted(named)), host


def entry_of(m: Manifest) -> KindEntry | None:
    """The object's kind in the registry of kinds (None: a kind the registry does not know)."""
    return default_registry().entry(api_group(m.obj.get("apiVersion")), m.kind)


def pod_shapes(m: Manifest) -> list[PodShape]:
    """The pods an object runs: where its registered kind keeps them, else found by shape (RT-8); templates that
    other objects run (``runs: false``, e.g. a PodTemplate) are not pods."""
    entry = entry_of(m)
    if entry is not None and not entry.pods:
        return []  # a kind that makes no pods (a policy, a Service...): nothing to search
    shapes = registered_shapes(entry, m.obj) if entry is not None else pods_by_shape(m.obj)
    return [s for s in shapes if s.runs]


def pod_templates(m: Manifest) -> list[PodTemplate]:
    """Every pod an object runs: one class member per pod shape, named ``ns/name`` when the object has one, else
    ``ns/name/<where the template is>`` so that they stay apart."""
    shapes = pod_shapes(m)
    if not shapes:
        return []
    name, ns = name_of(m), namespace_of(m)
    if m.kind == "Pod" and api_group(m.obj.get("apiVersion")) == "":
        return [_pod(m, shapes[0], name, ns)]
    single = len(shapes) == 1
    out = []
    for shape in shapes:
        where = shape.path.removesuffix(".spec") if shape.path.endswith(".spec") else shape.path
        ref = f"{ns}/{name}" if single else f"{ns}/{name}/{where}"
        labels = _str_map(m, shape.metadata.get("labels") if isinstance(shape.metadata, Mapping) else None,
                          shape.metadata_path, "labels")
        named, host = _pod_parts(m, shape)
        out.append(PodTemplate(ref, m.kind, ns, labels, named, host, (), 1))
    if single and out:
        spec = _mapping(m, m.obj.get("spec"), "spec")
        replicas = spec.get("replicas", 1)
        if m.kind == "DaemonSet" or not isinstance(replicas, int) or isinstance(replicas, bool):
            replicas = 1
        out[0].replicas = max(replicas, 0)
    return out


def _pod(m: Manifest, shape: PodShape, name: str, ns: str) -> PodTemplate:
    """A Pod: its own labels, and its IPs from status when the manifest was read from a cluster."""
    meta = _mapping(m, m.obj.get("metadata"), "metadata")
    labels = _str_map(m, meta.get("labels"), "metadata", "labels")
    named, host = _pod_parts(m, shape)
    status = _mapping(m, m.obj.get("status"), "status")
    ips: list[Any] = []
    for i, entry in enumerate(_list(m, status.get("podIPs"), "status", "podIPs")):
        entry = _mapping(m, entry, "status", "podIPs", i)
        ips.append(parse_ip(m, entry.get("ip"), "status", "podIPs", i, "ip"))
    if not ips and status.get("podIP") is not None:
        ips.append(parse_ip(m, status.get("podIP"), "status", "podIP"))
    return PodTemplate(f"{ns}/{name}", m.kind, ns, labels, named, host, tuple(sorted(set(ips), key=str)), 1)


def namespace_object(m: Manifest) -> Namespace:
    name = name_of(m)
    meta = _mapping(m, m.obj.get("metadata"), "metadata")
    labels = _str_map(m, meta.get("labels"), "metadata", "labels")
    labels[METADATA_NAME] = name  # set by the control plane; rendered manifests usually lack it
    return Namespace(name, labels)


def namespace_jurisdiction(ns: Namespace, default: str | None) -> str | None:
    return ns.labels.get(JURISDICTION, default)


def service_object(m: Manifest) -> Service:
    name, ns = name_of(m), namespace_of(m)
    spec = _mapping(m, m.obj.get("spec"), "spec")
    sel_raw = spec.get("selector")
    selector = None if sel_raw is None else _str_map(m, sel_raw, "spec", "selector")
    ports: list[ServicePort] = []
    for i, p in enumerate(_list(m, spec.get("ports"), "spec", "ports")):
        p = _mapping(m, p, "spec", "ports", i)
        num = p.get("port")
        if not isinstance(num, int) or isinstance(num, bool) or not 1 <= num <= 65535:
            raise InputError(m.source, m.path("spec", "ports", i, "port"), "a port 1..65535", num)
        target = p.get("targetPort", num)
        if not isinstance(target, int | str) or isinstance(target, bool):
            raise InputError(m.source, m.path("spec", "ports", i, "targetPort"), "a number or name", target)
        ports.append(
            ServicePort(
                str(p.get("name", "")),
                num,
                _protocol(m, p.get("protocol"), "spec", "ports", i, "protocol"),
                target,
            )
        )
    stype = spec.get("type", "ClusterIP")
    if stype not in SERVICE_TYPES:
        raise InputError(m.source, m.path("spec", "type"), "one of " + ", ".join(SERVICE_TYPES), stype)
    external = spec.get("externalName", "")
    if stype == "ExternalName" and (not isinstance(external, str) or not external):
        raise InputError(m.source, m.path("spec", "externalName"), "a DNS name (type ExternalName)", external)
    headless = spec.get("clusterIP") == "None"
    return Service(ns, name, selector if selector else None, tuple(ports), str(stype), headless,
                   external if stype == "ExternalName" else "")


def endpoints_object(m: Manifest) -> tuple[str, str, list[Any], list[tuple[str, int, str]]]:
    """(namespace, service name, addresses, ports) of a core/v1 Endpoints: the hand-written addresses of a
    selectorless Service (the control plane mirrors them into EndpointSlices); not-ready addresses count, they
    receive traffic once ready."""
    ns, svc = namespace_of(m), name_of(m)
    addrs: list[Any] = []
    ports: list[tuple[str, int, str]] = []
    for i, subset in enumerate(_list(m, m.obj.get("subsets"), "subsets")):
        subset = _mapping(m, subset, "subsets", i)
        for field_name in ("addresses", "notReadyAddresses"):
            for j, a in enumerate(_list(m, subset.get(field_name), "subsets", i, field_name)):
                a = _mapping(m, a, "subsets", i, field_name, j)
                addrs.append(parse_ip(m, a.get("ip"), "subsets", i, field_name, j, "ip"))
        for j, p in enumerate(_list(m, subset.get("ports"), "subsets", i, "ports")):
            p = _mapping(m, p, "subsets", i, "ports", j)
            num = p.get("port")
            if not isinstance(num, int) or isinstance(num, bool) or not 1 <= num <= 65535:
                raise InputError(m.source, m.path("subsets", i, "ports", j, "port"), "a port 1..65535", num)
            ports.append((str(p.get("name", "")), num, _protocol(m, p.get("protocol"), "subsets", i, "ports", j,
                                                                 "protocol")))
    return ns, svc, addrs, ports


def endpoint_slice(m: Manifest) -> tuple[str, str, list[Any], list[tuple[str, int, str]]]:
    """(namespace, service name, addresses, ports) of an EndpointSlice."""
    ns = namespace_of(m)
    meta = _mapping(m, m.obj.get("metadata"), "metadata")
    labels = _str_map(m, meta.get("labels"), "metadata", "labels")
    svc = labels.get("kubernetes.io/service-name", "")
    addrs: list[Any] = []
    for i, ep in enumerate(_list(m, m.obj.get("endpoints"), "endpoints")):
        ep = _mapping(m, ep, "endpoints", i)
        for j, a in enumerate(_list(m, ep.get("addresses"), "endpoints", i, "addresses")):
            addrs.append(parse_ip(m, a, "endpoints", i, "addresses", j))
    ports: list[tuple[str, int, str]] = []
    for i, p in enumerate(_list(m, m.obj.get("ports"), "ports")):
        p = _mapping(m, p, "ports", i)
        num = p.get("port")
        if isinstance(num, int) and not isinstance(num, bool):
            ports.append((str(p.get("name", "")), num, _protocol(m, p.get("protocol"), "ports", i, "protocol")))
    return ns, svc, addrs, ports


def to_manifests(
    objects: Sequence[Mapping[str, Any]],
    sources: Sequence[tuple[str, tuple[str | int, ...]]] | None = None,
    source: str = "<objects>",
) -> list[Manifest]:
    """Wrap objects, Lists expanded to any depth as kubectl does (``manifest_input.expand_lists``: any object with
    ``items``); objects that are not mappings, and Lists that are malformed or nested too deep, are bad input."""
    from sovereign.core.manifests import expand_lists  # the loader's rules, so both paths agree

    if sources is not None and len(sources) != len(objects):
        raise ValueError("sources must run parallel to objects")
    out: list[Manifest] = []
    for i, obj in enumerate(objects):
        src, prefix = sources[i] if sources is not None else (source, None)
        if not isinstance(obj, Mapping):
            raise InputError(src, list(prefix) if prefix is not None else [i], "a Kubernetes object (a mapping)", obj)
        if "items" not in obj:
            out.append(Manifest(obj, src, i, prefix))
            continue
        for key, _indices, item in expand_lists(obj, src, tuple(prefix) if prefix is not None else (i,)):
            out.append(Manifest(item, src, i, key))
    return out
