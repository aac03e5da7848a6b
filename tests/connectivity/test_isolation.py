"""Which policy isolates a namespace's egress (sovereign/connectivity/isolation.py): the engine's reading of every
policy API, a default deny that takes every pod of the namespace, in an API the CNI enforces."""

from __future__ import annotations

from typing import Any

import pytest

from sovereign.connectivity import CniParams
from sovereign.connectivity.isolation import egress_isolation
from sovereign.stackconfig.model import PolicyApi

NS = {"team-a": {"kubernetes.io/metadata.name": "team-a", "tier": "batch"}}


def np(spec: dict[str, Any], name: str = "p") -> dict[str, Any]:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": "team-a"}, "spec": spec}


def anp(subject: dict[str, Any], networks: list[str], kind: str = "AdminNetworkPolicy") -> dict[str, Any]:
    spec: dict[str, Any] = {"subject": subject, "egress": [{"name": "deny", "action": "Deny",
                                                            "to": [{"networks": networks}]}]}
    if kind == "AdminNetworkPolicy":
        spec["priority"] = 10
    return {"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": kind, "metadata": {"name": "guard"},
            "spec": spec}


def ccnp(selector: dict[str, Any], egress: list[dict[str, Any]] | None = None,
         deny: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"endpointSelector": selector}
    if egress is not None:
        spec["egress"] = egress
    if deny is not None:
        spec["egressDeny"] = deny
    return {"apiVersion": "cilium.io/v2", "kind": "CiliumClusterwideNetworkPolicy", "metadata": {"name": "c"},
            "spec": spec}


EVERYTHING = ["0.0.0.0/0", "::/0"]
ALL_NS = {"namespaces": {}}


@pytest.mark.parametrize(
    ("objects", "expected"),
    [
        ([np({"podSelector": {}, "policyTypes": ["Egress"]})], "NetworkPolicy team-a/p"),
        ([np({"podSelector": {}, "policyTypes": ["Egress"],
              "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}]})], "NetworkPolicy team-a/p"),
        ([np({"podSelector": {"matchLabels": {"app": "x"}}, "policyTypes": ["Egress"]})], None),
        ([np({"podSelector": {"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]},
              "policyTypes": ["Egress"]})], None),
        ([np({"podSelector": {}})], None),  # no egress rules, no Egress type: ingress-only
        ([anp(ALL_NS, EVERYTHING)], "AdminNetworkPolicy guard"),
        ([anp(ALL_NS, ["0.0.0.0/0"])], None),  # IPv6 stays open
        ([anp({"namespaces": {"matchLabels": {"tier": "batch"}}}, ["0.0.0.0/1", "128.0.0.0/1", "::/0"])],
         "AdminNetworkPolicy guard"),
        ([anp({"namespaces": {"matchLabels": {"tier": "web"}}}, EVERYTHING)], None),
        ([anp({"pods": {"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "x"}}}}, EVERYTHING)], None),
        ([anp(ALL_NS, EVERYTHING, "BaselineAdminNetworkPolicy")], "BaselineAdminNetworkPolicy guard"),
        ([ccnp({"matchLabels": {"k8s:io.kubernetes.pod.namespace": "team-a"}}, egress=[{}])],
         "CiliumClusterwideNetworkPolicy c"),
        ([ccnp({"matchLabels": {"k8s:io.kubernetes.pod.namespace": "team-a", "app": "x"}}, egress=[{}])], None),
        ([ccnp({}, deny=[{"toEntities": ["world"]}])], "CiliumClusterwideNetworkPolicy c"),
        # Cilium puts an endpoint into default deny for a direction a policy has rules in, deny rules included
        # (docs.cilium.io, "Deny Policies"; enableDefaultDeny defaults to true for such a direction).
        ([ccnp({}, deny=[{"toCIDR": ["10.0.0.0/8"]}])], "CiliumClusterwideNetworkPolicy c"),
        ([{**ccnp({}, egress=[{"toCIDR": ["10.0.0.0/8"]}]),
           "spec": {"endpointSelector": {}, "egress": [{"toCIDR": ["10.0.0.0/8"]}],
                    "enableDefaultDeny": {"egress": False}}}], None),
    ],
    ids=["np-default-deny", "np-deny-with-allows", "np-one-app", "np-does-not-exist", "np-ingress-only",
         "anp-deny-all", "anp-deny-v4-only", "anp-by-namespace-label-in-halves", "anp-other-namespaces",
         "anp-some-pods", "banp-deny-all", "ccnp-namespace-label", "ccnp-namespace-and-app", "ccnp-deny-world",
         "ccnp-deny-some", "ccnp-default-deny-off"],
)
def test_isolation(objects: list[dict[str, Any]], expected: str | None) -> None:
    assert egress_isolation(objects, CniParams.upstream(), NS) == {"team-a": expected}


def test_an_api_the_cni_does_not_enforce_isolates_nothing() -> None:
    only_cilium = CniParams(enforces=frozenset({PolicyApi.CILIUM}), ipblock_matches_pod_ips=True, end_port=True,
                            sctp=True, host_network_selected=False)
    assert egress_isolation([np({"podSelector": {}, "policyTypes": ["Egress"]})], only_cilium, NS) == {"team-a": None}
