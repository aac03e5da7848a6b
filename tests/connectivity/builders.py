"""Small manifest builders so each semantic case reads as the YAML it stands for."""

from __future__ import annotations

import ipaddress
from datetime import date
from types import MappingProxyType
from typing import Any

from sovereign.catalog.model import (
    AcceleratorPolicy,
    Catalog,
    Decision,
    Jurisdiction,
    Provenance,
)
from sovereign.connectivity import CniParams, ConnectivityReport, analyze
from sovereign.stackconfig.model import PolicyApi

UPSTREAM = CniParams.upstream()
CILIUM = CniParams(
    enforces=frozenset({PolicyApi.NETWORK_POLICY, PolicyApi.CILIUM}),
    ipblock_matches_pod_ips=False,
    end_port=True,
    sctp=True,
    host_network_selected=False,
)


def ns(name: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": dict(labels)}}


def pod(
    namespace: str,
    name: str,
    labels: dict[str, str] | None = None,
    ports: list[dict[str, Any]] | None = None,
    ip: str | None = None,
    host_network: bool = False,
) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "main", "image": "img", "ports": ports or []}]}
    if host_network:
        spec["hostNetwork"] = True
    obj: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {"app": name}},
        "spec": spec,
    }
    if ip:
        obj["status"] = {"podIP": ip}
    return obj


def deployment(
    namespace: str,
    name: str,
    labels: dict[str, str],
    replicas: int = 3,
    ports: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": {"owner": "me"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "c", "image": "img", "ports": ports or []}]},
            },
        },
    }


def netpol(namespace: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def anp(
    name: str,
    priority: int,
    subject: dict[str, Any],
    egress: list[dict[str, Any]] | None = None,
    ingress: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {"priority": priority, "subject": subject}
    if egress is not None:
        spec["egress"] = egress
    if ingress is not None:
        spec["ingress"] = ingress
    return {
        "apiVersion": "policy.networking.k8s.io/v1alpha1",
        "kind": "AdminNetworkPolicy",
        "metadata": {"name": name},
        "spec": spec,
    }


def banp(
    subject: dict[str, Any],
    egress: list[dict[str, Any]] | None = None,
    ingress: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {"subject": subject}
    if egress is not None:
        spec["egress"] = egress
    if ingress is not None:
        spec["ingress"] = ingress
    return {
        "apiVersion": "policy.networking.k8s.io/v1alpha1",
        "kind": "BaselineAdminNetworkPolicy",
        "metadata": {"name": "default"},
        "spec": spec,
    }


def cnp_v1alpha2(
    name: str, tier: str, priority: int, subject: dict[str, Any], egress: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    spec: dict[str, Any] = {"tier": tier, "priority": priority, "subject": subject}
    if egress is not None:
        spec["egress"] = egress
    return {
        "apiVersion": "policy.networking.k8s.io/v1alpha2",
        "kind": "ClusterNetworkPolicy",
        "metadata": {"name": name},
        "spec": spec,
    }


def cilium(namespace: str | None, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    if namespace is None:
        return {
            "apiVersion": "cilium.io/v2",
            "kind": "CiliumClusterwideNetworkPolicy",
            "metadata": {"name": name},
            "spec": spec,
        }
    return {
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumNetworkPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def run(objs: list[dict[str, Any]], cni: CniParams = UPSTREAM, **kw: Any) -> ConnectivityReport:
    return analyze(objs, cni=cni, **kw)


def allowed(report: ConnectivityReport, src: str, dst: str, port: int | None = 80, proto: str = "TCP") -> bool:
    return report.query(src, dst, port, proto).allowed


def jurisdiction(jid: str, networks: list[str], domains: list[str] = ()) -> Jurisdiction:  # type: ignore[assignment]
    prov = Provenance(date(2026, 1, 1), "test")
    return Jurisdiction(
        id=jid,
        name=jid.upper(),
        countries=(jid.upper(),),
        legal_basis=(),
        regions=MappingProxyType({}),
        networks=tuple(ipaddress.ip_network(n) for n in networks),
        domains=tuple(domains),
        data_classes=MappingProxyType({}),
        accelerators=AcceleratorPolicy(Decision.DENY, prov, ()),
        registries=(),
        provenance=prov,
    )


def catalog(*jurisdictions: Jurisdiction) -> Catalog:
    return Catalog(
        version="test",
        as_of=date(2026, 1, 1),
        providers=MappingProxyType({}),
        jurisdictions=MappingProxyType({j.id: j for j in jurisdictions}),
    )
