"""Hypothesis strategies for small random clusters: namespaces, labelled pods/workloads with named ports,
and NetworkPolicies using every peer kind (pod, namespace, both, ``{}``, ipBlock with except) and port form
(omitted, protocol only, number, named, endPort)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

NAMESPACES = ("ns-a", "ns-b", "ns-c")
KEYS = ("app", "tier")
VALUES = ("x", "y", "z")
PORT_NAMES = ("http", "dns", "metrics")
PORTS = (53, 80, 443, 8080, 9000)
PROTOCOLS = ("TCP", "UDP", "SCTP")
CIDRS = ("10.0.0.0/8", "0.0.0.0/0", "192.168.0.0/16", "203.0.113.0/24", "172.16.0.0/12")
EXCEPTS = {
    "10.0.0.0/8": ("10.1.0.0/16", "10.2.3.0/24"),
    "0.0.0.0/0": ("10.0.0.0/8", "203.0.113.0/25"),
    "192.168.0.0/16": ("192.168.1.0/24",),
    "203.0.113.0/24": ("203.0.113.128/25",),
    "172.16.0.0/12": ("172.16.0.0/16",),
}

labels = st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=2)


@st.composite
def selector(draw: Any) -> dict[str, Any]:
    sel: dict[str, Any] = {}
    ml = draw(labels)
    if ml:
        sel["matchLabels"] = ml
    if draw(st.integers(0, 3)) == 0:
        op = draw(st.sampled_from(("In", "NotIn", "Exists", "DoesNotExist")))
        expr: dict[str, Any] = {"key": draw(st.sampled_from(KEYS)), "operator": op}
        if op in ("In", "NotIn"):
            expr["values"] = sorted(draw(st.sets(st.sampled_from(VALUES), min_size=1, max_size=2)))
        sel["matchExpressions"] = [expr]
    return sel


@st.composite
def ns_selector(draw: Any) -> dict[str, Any]:
    if draw(st.booleans()):
        return {"matchLabels": {"kubernetes.io/metadata.name": draw(st.sampled_from(NAMESPACES))}}
    return draw(selector())


@st.composite
def peer(draw: Any) -> dict[str, Any]:
    kind = draw(st.sampled_from(("pod", "ns", "both", "allns", "ip")))
    if kind == "pod":
        return {"podSelector": draw(selector())}
    if kind == "ns":
        return {"namespaceSelector": draw(ns_selector())}
    if kind == "both":
        return {"podSelector": draw(selector()), "namespaceSelector": draw(ns_selector())}
    if kind == "allns":
        return {"namespaceSelector": {}}
    cidr = draw(st.sampled_from(CIDRS))
    block: dict[str, Any] = {"cidr": cidr}
    ex = draw(st.lists(st.sampled_from(EXCEPTS[cidr]), max_size=2, unique=True))
    if ex:
        block["except"] = ex
    return {"ipBlock": block}


@st.composite
def port(draw: Any) -> dict[str, Any]:
    form = draw(st.sampled_from(("proto", "num", "named", "range", "default")))
    proto = draw(st.sampled_from(PROTOCOLS))
    if form == "proto":
        return {"protocol": proto}
    if form == "num":
        return {"protocol": proto, "port": draw(st.sampled_from(PORTS))}
    if form == "named":
        return {"protocol": proto, "port": draw(st.sampled_from(PORT_NAMES))}
    if form == "range":
        a = draw(st.sampled_from(PORTS))
        return {"protocol": proto, "port": a, "endPort": a + draw(st.sampled_from((0, 1, 100, 1000)))}
    return {"port": draw(st.sampled_from(PORTS))}


@st.composite
def rule(draw: Any, peer_key: str) -> dict[str, Any]:
    r: dict[str, Any] = {}
    if draw(st.integers(0, 3)):
        r[peer_key] = draw(st.lists(peer(), min_size=1, max_size=3))
    if draw(st.booleans()):
        r["ports"] = draw(st.lists(port(), min_size=1, max_size=3))
    return r


@st.composite
def network_policy(draw: Any, index: int) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if draw(st.integers(0, 4)):
        spec["podSelector"] = draw(selector())
    types = draw(st.sampled_from(((), ("Ingress",), ("Egress",), ("Ingress", "Egress"))))
    if types:
        spec["policyTypes"] = list(types)
    for direction, key in (("ingress", "from"), ("egress", "to")):
        form = draw(st.sampled_from(("omit", "empty", "rules")))
        if form == "empty":
            spec[direction] = []
        elif form == "rules":
            spec[direction] = draw(st.lists(rule(key), min_size=1, max_size=3))
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": f"np-{index}", "namespace": draw(st.sampled_from(NAMESPACES))},
        "spec": spec,
    }


@st.composite
def workload(draw: Any, index: int) -> dict[str, Any]:
    ns = draw(st.sampled_from(NAMESPACES))
    lbl = draw(labels)
    ports = []
    used: set[str] = set()
    for _ in range(draw(st.integers(0, 2))):
        p: dict[str, Any] = {
            "containerPort": draw(st.sampled_from(PORTS)),
            "protocol": draw(st.sampled_from(PROTOCOLS)),
        }
        name = draw(st.sampled_from((None, *PORT_NAMES)))
        if name and name not in used:
            used.add(name)
            p["name"] = name
        ports.append(p)
    container: dict[str, Any] = {"name": "main", "image": "registry.example/app:1"}
    if ports:
        container["ports"] = ports
    pod_spec = {"containers": [container]}
    name = f"w{index}"
    if draw(st.booleans()):
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "labels": lbl},
            "spec": pod_spec,
        }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "replicas": draw(st.integers(1, 3)),
            "selector": {"matchLabels": lbl or {"w": name}},
            "template": {"metadata": {"labels": lbl or {"w": name}}, "spec": pod_spec},
        },
    }


@st.composite
def cluster(draw: Any) -> list[dict[str, Any]]:
    objs: list[dict[str, Any]] = []
    for ns in NAMESPACES:
        objs.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": draw(labels)}})
    n_workloads = draw(st.integers(1, 7))
    objs.extend(draw(workload(i)) for i in range(n_workloads))
    n_pol = draw(st.integers(0, 5))
    objs.extend(draw(network_policy(i)) for i in range(n_pol))
    return objs
