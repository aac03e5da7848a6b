"""Read helpers over a captured resource graph (manifests as registered, camelCase)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

from sovereign.core import labels

CLUSTER_SCOPED = {
    "Namespace",
    "StorageClass",
    "AdminNetworkPolicy",
    "BaselineAdminNetworkPolicy",
    "ClusterNetworkPolicy",
    "CiliumClusterwideNetworkPolicy",
}
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "Job", "CronJob")


def pod_template(obj: dict[str, Any]) -> dict[str, Any]:
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]
    return obj["spec"]["template"]


def required_terms(pod_spec: dict[str, Any]) -> list[dict[str, Any]]:
    affinity = pod_spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    return affinity["nodeSelectorTerms"]


def expression(term: dict[str, Any], key: str) -> dict[str, Any] | None:
    for e in term["matchExpressions"]:
        if e["key"] == key:
            return e
    return None


def egress_ipblocks(policy: dict[str, Any]) -> Iterator[str]:
    for rule in policy["spec"].get("egress", []):
        for peer in rule.get("to", []):
            if "ipBlock" in peer:
                yield peer["ipBlock"]["cidr"]


def network(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(cidr)


def inside(cidr: str, networks: list[Any]) -> bool:
    net = network(cidr)
    return any(net.version == n.version and net.subnet_of(n) for n in networks)


def is_transfer_policy(obj: dict[str, Any]) -> bool:
    return labels.TRANSFER_APPROVAL in obj["metadata"].get("annotations", {})
