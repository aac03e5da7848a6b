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

from sovereign.errors import InputError
from sovereign.kube_kinds import api_group, is_builtin_podless
from sovereign.labels import JURISDICTION, METADATA_NAME

DEFAULT_NAMESPACE = "default"
"""Where a namespaced object without metadata.namespace lands (the usual apply-time default)."""

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob")
GENERIC_TEMPLATE_KEYS: tuple[tuple[str, ...], ...] = (("spec", "template"), ("spec", "jobTemplate", "spec", "template"))
"""Where any other kind may carry a pod template (RT-8: Argo Rollout, Knative Service, operators' kinds)."""
MAX_NESTING = 12
MAX_NESTED_NODES = 20_000
"""Bounds of the search for pod templates nested deeper in an unknown kind's spec."""
POLICY_KINDS = (
    "NetworkPolicy",
    "AdminNetworkPolicy",
    "BaselineAdminNetworkPolicy",
    "ClusterNetworkPolicy",
    "CiliumNetworkPolicy",
    "CiliumClusterwideNetworkPolicy",
)

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


def _pod_spec_parts(m: Manifest, spec: Any, *keys: str | int) -> tuple[NamedPorts, bool]:
    spec = _mapping(m, spec, *keys)
    named: set[tuple[str, str, int]] = set()
    for ckey in ("initContainers", "containers"):
        for ci, c in enumerate(_list(m, spec.get(ckey), *keys, ckey)):
            c = _mapping(m, c, *keys, ckey, ci)
            for pi, p in enumerate(_list(m, c.get("ports"), *keys, ckey, ci, "ports")):
                pk = (*keys, ckey, ci, "ports", pi)
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
    host = spec.get("hostNetwork", False)
    if not isinstance(host, bool):
        raise InputError(m.source, m.path(*keys, "hostNetwork"), "true or false", host)
    return tuple(sorted(named)), host


def _get(value: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def generic_template_keys(obj: Mapping[str, Any]) -> tuple[str, ...] | None:
    """Where an object of a kind the engine does not know carries its pods (RT-8).

    A pod spec with ``containers`` at ``spec.template.spec`` or ``spec.jobTemplate.spec.template.spec`` makes
    pods exactly as a Deployment or CronJob does; one at ``spec`` itself (``("spec",)``) is a bare pod spec.
    None: the object carries no pods we can see.
    """
    for keys in GENERIC_TEMPLATE_KEYS:
        if _get(obj, *keys, "spec", "containers") is not None:
            return keys
    if _get(obj, "spec", "containers") is not None:
        return ("spec",)
    return None


def nested_template_keys(obj: Mapping[str, Any]) -> list[tuple[str | int, ...]]:
    """Key paths of every ``template`` (with ``spec.containers``) nested anywhere below ``spec``: operators'
    kinds with several pod templates (Kubeflow ``replicaSpecs.Worker.template``, Ray ``workerGroupSpecs[0]
    .template``). Depth and node count are bounded."""
    found: list[tuple[str | int, ...]] = []
    budget = [MAX_NESTED_NODES]

    def walk(value: Any, keys: tuple[str | int, ...]) -> None:
        if len(keys) > MAX_NESTING or budget[0] <= 0:
            return
        budget[0] -= 1
        if isinstance(value, Mapping):
            for key, item in value.items():
                if key == "template" and _get(item, "spec", "containers") is not None:
                    found.append((*keys, key))
                else:
                    walk(item, (*keys, str(key)))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, (*keys, i))

    walk(obj.get("spec"), ("spec",))
    return found


def makes_pods(m: Manifest) -> bool:
    """A Pod, a built-in workload, or any other kind with a pod template (see ``generic_template_keys`` and
    ``nested_template_keys``)."""
    if m.kind == "Pod" or m.kind in WORKLOAD_KINDS:
        return True
    if is_builtin_podless(api_group(m.obj.get("apiVersion")), m.kind):  # as the pack sees them (kube_kinds.py)
        return False
    return generic_template_keys(m.obj) is not None or bool(nested_template_keys(m.obj))


def pod_templates(m: Manifest) -> list[PodTemplate]:
    """Every pod template of an object: one for Pods, built-in workloads and the usual places, else one per
    nested template, each named ``ns/name/<key path>`` so that they stay apart."""
    if m.kind == "Pod" or m.kind in WORKLOAD_KINDS or generic_template_keys(m.obj) is not None:
        return [pod_template(m)]
    name, ns = name_of(m), namespace_of(m)
    out = []
    for keys in nested_template_keys(m.obj):
        where = "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in keys).lstrip(".")
        out.append(_template_at(m, keys, f"{ns}/{name}/{where}"))
    return out


def pod_template(m: Manifest) -> PodTemplate:
    """The pod(s) an object stands for: a Pod itself or a workload's pod template."""
    kind = m.kind
    name, ns = name_of(m), namespace_of(m)
    spec = _mapping(m, m.obj.get("spec"), "spec")
    if kind == "Pod":
        meta = _mapping(m, m.obj.get("metadata"), "metadata")
        labels = _str_map(m, meta.get("labels"), "metadata", "labels")
        named, host = _pod_spec_parts(m, spec, "spec")
        status = _mapping(m, m.obj.get("status"), "status")
        ips: list[Any] = []
        for i, entry in enumerate(_list(m, status.get("podIPs"), "status", "podIPs")):
            entry = _mapping(m, entry, "status", "podIPs", i)
            ips.append(parse_ip(m, entry.get("ip"), "status", "podIPs", i, "ip"))
        if not ips and status.get("podIP") is not None:
            ips.append(parse_ip(m, status.get("podIP"), "status", "podIP"))
        return PodTemplate(f"{ns}/{name}", kind, ns, labels, named, host, tuple(sorted(set(ips), key=str)), 1)
    keys: tuple[str, ...] = ("spec", "template")
    if kind == "CronJob":
        keys = ("spec", "jobTemplate", "spec", "template")
    elif kind not in WORKLOAD_KINDS:
        keys = generic_template_keys(m.obj) or keys
    if keys == ("spec",):
        # A bare pod spec on a kind we do not know: its pods' labels are not in the manifest; the object's own
        # labels are the best guess (a policy selecting by other labels is not credited to it).
        meta = _mapping(m, m.obj.get("metadata"), "metadata")
        labels = _str_map(m, meta.get("labels"), "metadata", "labels")
        named, host = _pod_spec_parts(m, spec, "spec")
        return PodTemplate(f"{ns}/{name}", kind, ns, labels, named, host, (), 1)
    t = _template_at(m, keys, f"{ns}/{name}")
    replicas = spec.get("replicas", 1)
    if kind == "DaemonSet" or not isinstance(replicas, int) or isinstance(replicas, bool):
        replicas = 1
    t.replicas = max(replicas, 0)
    return t


def _template_at(m: Manifest, keys: tuple[str | int, ...], ref: str) -> PodTemplate:
    """The pod template at ``keys`` (its labels, named ports, hostNetwork), one replica."""
    template: Any = m.obj
    for i, key in enumerate(keys):  # the keys were found by walking this object, so list indexes exist
        parent, at = template, keys[:i]
        template = _list(m, parent, *at)[key] if isinstance(key, int) else _mapping(m, parent, *at).get(key)
    template = _mapping(m, template, *keys)
    tmeta = _mapping(m, template.get("metadata"), *keys, "metadata")
    labels = _str_map(m, tmeta.get("labels"), *keys, "metadata", "labels")
    named, host = _pod_spec_parts(m, template.get("spec"), *keys, "spec")
    return PodTemplate(ref, m.kind, namespace_of(m), labels, named, host, (), 1)


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
    return Service(ns, name, selector if selector else None, tuple(ports))


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
    """Wrap objects (``kind: List`` expanded); objects that are not mappings are bad input."""
    if sources is not None and len(sources) != len(objects):
        raise ValueError("sources must run parallel to objects")
    out: list[Manifest] = []
    for i, obj in enumerate(objects):
        src, prefix = sources[i] if sources is not None else (source, None)
        where = list(prefix) if prefix is not None else [i]
        if not isinstance(obj, Mapping):
            raise InputError(src, where, "a Kubernetes object (mapping)", obj)
        if str(obj.get("kind", "")).endswith("List") and "items" in obj:
            items = obj.get("items")
            if not isinstance(items, list):
                raise InputError(src, [*where, "items"], "a list of objects", items)
            for j, item in enumerate(items):
                if not isinstance(item, Mapping):
                    raise InputError(src, [*where, "items", j], "a Kubernetes object (mapping)", item)
                out.append(Manifest(item, src, i, (*where, "items", j)))
            continue
        out.append(Manifest(obj, src, i, prefix))
    return out
