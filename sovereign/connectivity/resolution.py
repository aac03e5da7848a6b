"""What a destination name stands for: a Service resolved to the backends a connection to it reaches.

A Service is how clients address a workload (``web.shop.svc:5000``); kube-proxy (or the CNI's replacement) turns
a connection to the Service's port into one to a backend pod's ``targetPort``, and network policies judge that
connection (the backend pod and its port), never the Service. So a question about ``shop/web:5000`` is a question
about each backend: its pods (the Service's selector, in its namespace) on the target port (a number, or a name
looked up among each backend's container ports, per protocol), or, for a Service without a selector, the
addresses of its EndpointSlices/Endpoints on the endpoint port of the same name. A headless Service
(``clusterIP: None``) translates no port: DNS names the backends themselves. An ExternalName Service is a DNS
alias with no backends. Everything a resolution decided is kept as text (``steps``) for the answer to show.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sovereign.connectivity.intervals import iter_bits
from sovereign.connectivity.inventory import Service, ServicePort
from sovereign.connectivity.universe import Universe
from sovereign.core.errors import InputError

QUERY_SOURCE = "<query>"


@dataclass(frozen=True)
class Backend:
    """One place a connection to the Service lands: a pod class (``bit`` < class count) or an address atom."""

    bit: int
    port: int | None
    """The port the connection arrives on (None: any port)."""
    label: str
    """``Deployment shop/web`` (every workload of the class), or the endpoint address."""


@dataclass(frozen=True)
class ServiceResolution:
    service: str
    """``ns/name``."""
    type: str
    """``ClusterIP``, ``NodePort``, ``LoadBalancer``, ``ExternalName``, or ``headless``."""
    steps: tuple[str, ...]
    """How the name was resolved, one line per service port and backend: what the answer shows."""
    backends: tuple[Backend, ...]
    external_name: str = ""
    """ExternalName Services: the DNS name connections go to."""
    closed: str = ""
    """Non-empty: nothing listens there (a port the Service does not expose); the answer is denied, with this."""


def _ports_text(svc: Service) -> str:
    return ", ".join(f"{p.port}/{p.protocol}" + (f" ({p.name})" if p.name else "") + f" -> {p.target}"
                     for p in svc.ports) or "no port"


def _class_label(u: Universe, bit: int) -> str:
    c = u.classes[bit]
    return ", ".join(f"{kind} {ref}" for ref, kind in zip(c.refs, c.kinds, strict=True))


def _address_label(u: Universe, bit: int, svc: Service) -> str:
    for ips in svc.endpoint_ips:
        for ip in ips:
            if u.address_bit(ip) == 1 << bit:
                return f"address {ip}"
    return f"address bit {bit}"


def resolve(u: Universe, svc: Service, port: int | None, proto: str) -> ServiceResolution:
    """The backends of ``svc`` for a connection on ``port`` (None: any of its ports) / ``proto``; a Service whose
    backends the input does not hold is bad input (``InputError``): an answer over nobody would read as denied."""
    ref = f"{svc.namespace}/{svc.name}"
    if svc.type == "ExternalName":
        return ServiceResolution(ref, "ExternalName", (
            f"ExternalName Service {ref}: a DNS alias (CNAME) for {svc.external_name}; no backends, no port "
            f"translation: the connection goes to whatever {svc.external_name} resolves to",), (),
            svc.external_name)
    kind = "headless" if svc.headless else svc.type
    backends_mask = _backend_mask(u, svc)
    if not backends_mask:
        if svc.selector:
            selector = ",".join(f"{k}={v}" for k, v in sorted(svc.selector.items()))
            raise InputError(QUERY_SOURCE, ["to"], f"a Service whose backends are in the manifests ({ref} selects "
                             f"{selector} in namespace {svc.namespace}; no pod of the input matches: give the "
                             f"manifests of its workloads)", ref)
        raise InputError(QUERY_SOURCE, ["to"], f"a Service whose backends are in the manifests ({ref} has no "
                         "selector and no EndpointSlice or Endpoints in the input: its addresses are set outside "
                         "it)", ref)
    if svc.headless:
        head = (f"headless Service {ref} (clusterIP: None): DNS names its backends' own addresses, no port "
                f"translation: the connection arrives on port {port if port is not None else 'any'}")
        found = [Backend(b, port, _label(u, b, svc)) for b in iter_bits(backends_mask)]
        return ServiceResolution(ref, kind, (head, *(f"-> {b.label}" for b in found)), tuple(found))
    chosen = [p for p in svc.ports if p.protocol == proto and (port is None or p.port == port)]
    if not chosen:
        wanted = f"{proto} port {port}" if port is not None else f"{proto} port"
        return ServiceResolution(ref, kind, (), (), closed=f"{kind} Service {ref} exposes no {wanted} (it "
                                 f"exposes {_ports_text(svc)}): a connection to it there reaches no backend")
    steps: list[str] = []
    backends: list[Backend] = []
    for sp in chosen:
        head = f"{kind} Service {ref} port {sp.port}/{sp.protocol}" + (f" ({sp.name})" if sp.name else "")
        if svc.selector:
            picked = _selected(u, sp, backends_mask, proto)
            for bit, num, how in picked:
                label = _label(u, bit, svc)
                if num is None:
                    steps.append(f"{head} -> targetPort {sp.target}: {how} {label}: not a backend on this port")
                    continue
                steps.append(f"{head} -> targetPort {how}{num} -> pods of {label}")
                backends.append(Backend(bit, num, label))
        else:
            numbers = sorted({n for name, n, pr in svc.endpoint_ports if name == sp.name and pr == proto})
            if not numbers:
                steps.append(f"{head}: no EndpointSlice port named {sp.name or '(unnamed)'} on {proto}: no backend")
                continue
            for bit in iter_bits(backends_mask):
                label = _label(u, bit, svc)
                for num in numbers:
                    steps.append(f"{head} -> endpoint port {num} -> {label} (its EndpointSlices or Endpoints)")
                    backends.append(Backend(bit, num, label))
    if not backends:
        return ServiceResolution(ref, kind, tuple(steps), (), closed=f"{kind} Service {ref} has no backend "
                                 f"on {proto}" + (f" port {port}" if port is not None else ""))
    return ServiceResolution(ref, kind, tuple(steps), tuple(backends))


def _backend_mask(u: Universe, svc: Service) -> int:
    """Classes the selector takes (a selector Service's EndpointSlices, e.g. of a cluster dump, list the same
    pods), else the endpoint addresses (pod classes or address atoms)."""
    if svc.selector:
        m = u.ns_classes.get(svc.namespace, 0)
        for k, v in svc.selector.items():
            m &= u.pod_index.by_pair.get((k, v), 0)
        return m
    return u.service_mask(svc.namespace, svc.name)


def _selected(u: Universe, sp: ServicePort, mask: int, proto: str) -> list[tuple[int, int | None, str]]:
    """(class, target port or None, how it was found) per backend class of a selector Service."""
    out: list[tuple[int, int | None, str]] = []
    for bit in iter_bits(mask):
        if isinstance(sp.target, int):
            out.append((bit, sp.target, ""))
            continue
        named = sorted(num for name, pr, num in u.classes[bit].named_ports if name == sp.target and pr == proto)
        if named:
            out.append((bit, named[0], f"{sp.target} = "))
        else:
            out.append((bit, None, f"no {proto} container port named {sp.target} on the pods of"))
    return out


def _label(u: Universe, bit: int, svc: Service) -> str:
    return _class_label(u, bit) if bit < u.n else _address_label(u, bit, svc)


def fqdn_matches(pattern: str, name: str) -> bool:
    """Whether a DNS rule's pattern (Cilium ``matchName``/``matchPattern``, ANP ``domainNames``) covers ``name``:
    ``*`` stands for the characters of one label, a leading ``**.`` for any number of labels (Cilium)."""
    if pattern.startswith("**."):
        labels = name.split(".")
        return any(fqdn_matches(pattern[3:], ".".join(labels[i:])) for i in range(1, len(labels)))
    regex = "".join("[^.]*" if ch == "*" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, name) is not None
