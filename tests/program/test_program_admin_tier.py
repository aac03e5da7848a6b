"""Layer a follows what the CNI enforces: ANP+BANP, ClusterNetworkPolicy, Cilium CCNP, or none (exported)."""

from __future__ import annotations

from typing import Any

from program_graph import inside
from program_overrides import with_cni_enforcing, with_transfer

from infra.policy_syntax import CILIUM_NAMESPACE_LABEL
from sovereign.catalog import default_catalog
from sovereign.core import labels
from sovereign.stackconfig.loader import load_stack

ALL = ["0.0.0.0/0", "::/0"]
ADMIN_KINDS = (
    "AdminNetworkPolicy",
    "BaselineAdminNetworkPolicy",
    "ClusterNetworkPolicy",
    "CiliumClusterwideNetworkPolicy",
)


def _estate_networks(stack: str) -> list[Any]:
    config = load_stack(stack)
    jur = default_catalog().jurisdiction(config.jurisdiction)
    assert jur is not None
    return [*jur.networks, *config.cluster.pod_cidrs, *config.cluster.service_cidrs]


def _kinds(built: Any) -> set[str]:
    return {r["inputs"]["kind"] for r in built.k8s if r["inputs"]["kind"] in ADMIN_KINDS}


def _check_rules(rules: list[dict[str, Any]], keep: str, stack: str) -> None:
    """Everything kept is in-cluster or in-jurisdiction; the last rule denies all of IPv4 and IPv6."""
    *kept, last = rules
    assert last["action"] == "Deny" and last["to"] == [{"networks": ALL}]
    for rule in kept:
        assert rule["action"] == keep
        for peer in rule["to"]:
            assert set(peer) <= {"namespaces", "networks"}
            for cidr in peer.get("networks", []):
                assert inside(cidr, _estate_networks(stack)), cidr


def test_anp_and_banp_when_cni_enforces_anp(capture: Any) -> None:
    built = capture("cn-prod")
    assert built.outputs["adminTier"] == "AdminNetworkPolicy"
    assert _kinds(built) == {"AdminNetworkPolicy", "BaselineAdminNetworkPolicy"}
    estate = [a for a in built.kind("AdminNetworkPolicy") if a["metadata"]["name"] == "sovereign-estate-egress"]
    (anp,) = estate
    assert anp["spec"]["subject"] == {"namespaces": {}}
    _check_rules(anp["spec"]["egress"], "Pass", "cn-prod")
    (banp,) = built.kind("BaselineAdminNetworkPolicy")
    assert banp["metadata"]["name"] == "default"
    _check_rules(banp["spec"]["egress"], "Allow", "cn-prod")


def test_cluster_network_policy_when_cni_enforces_cnp(capture: Any) -> None:
    stack = "us-prod"
    built = capture(
        stack,
        overrides=with_transfer(stack, "labelling/label-studio", "eu", "10.20.7.0/24", "labelled-frames"),
    )
    assert built.error is None
    assert built.outputs["adminTier"] == "ClusterNetworkPolicy"
    assert _kinds(built) == {"ClusterNetworkPolicy"}
    cnps = {c["metadata"]["name"]: c for c in built.kind("ClusterNetworkPolicy")}
    for cnp in cnps.values():
        assert cnp["apiVersion"] == "policy.networking.k8s.io/v1alpha2"
        for rule in cnp["spec"]["egress"]:
            assert "ports" not in rule and rule["action"] in {"Accept", "Deny", "Pass"}
    admin, baseline = cnps["sovereign-estate-egress"], cnps["sovereign-estate-baseline"]
    assert (admin["spec"]["tier"], baseline["spec"]["tier"]) == ("Admin", "Baseline")
    _check_rules(admin["spec"]["egress"], "Pass", stack)
    _check_rules(baseline["spec"]["egress"], "Accept", stack)
    (transfer,) = [c for c in cnps.values() if labels.TRANSFER_ID in c["metadata"]["labels"]]
    assert transfer["spec"]["tier"] == "Admin"
    assert transfer["spec"]["priority"] < admin["spec"]["priority"]
    (rule,) = transfer["spec"]["egress"]
    assert rule["action"] == "Pass" and rule["to"] == [{"networks": ["10.20.7.0/24"]}]
    assert rule["protocols"] == [
        {"tcp": {"destinationPort": {"number": 443}}},
        {"tcp": {"destinationPort": {"range": {"start": 8000, "end": 8100}}}},
    ]


def test_cilium_estate_excludes_transfer_sources_which_get_their_own_deny(capture: Any) -> None:
    stack = "eu-prod"
    built = capture(
        stack,
        overrides=with_transfer(stack, "labelling/label-studio", "us", "10.30.7.0/24", "labelled-frames"),
    )
    assert built.error is None
    assert built.outputs["adminTier"] == "CiliumClusterwideNetworkPolicy"
    assert _kinds(built) == {"CiliumClusterwideNetworkPolicy"}
    ccnps = {c["metadata"]["name"]: c for c in built.kind("CiliumClusterwideNetworkPolicy")}
    estate = ccnps["sovereign-estate-egress"]["spec"]
    assert estate["endpointSelector"] == {
        "matchExpressions": [{"key": CILIUM_NAMESPACE_LABEL, "operator": "NotIn", "values": ["labelling"]}]
    }
    estate_ns = ccnps["sovereign-estate-egress-labelling"]["spec"]
    assert estate_ns["endpointSelector"] == {
        "matchLabels": {CILIUM_NAMESPACE_LABEL: "labelling"},
        "matchExpressions": [{"key": labels.WORKLOAD, "operator": "NotIn", "values": ["label-studio"]}],
    }
    source = ccnps["sovereign-transfer-source-labelling-label-studio"]["spec"]
    assert source["endpointSelector"] == {
        "matchLabels": {CILIUM_NAMESPACE_LABEL: "labelling", labels.WORKLOAD: "label-studio"}
    }
    for spec, extra in ((estate, set()), (estate_ns, set()), (source, {"10.30.7.0/24"})):
        # Deny-only policies: Cilium's `egress: []` pitfall does not apply, and they must not switch selected
        # pods to default deny (the namespace NetworkPolicies do that for tenants).
        assert "egress" not in spec and spec["enableDefaultDeny"] == {"egress": False, "ingress": False}
        ((v4, v6),) = [rule["toCIDRSet"] for rule in spec["egressDeny"]]
        assert (v4["cidr"], v6["cidr"]) == ("0.0.0.0/0", "::/0")
        excepted = set(v4["except"]) | set(v6["except"])
        assert extra <= excepted
        assert all(inside(c, _estate_networks(stack)) for c in excepted - extra)
    # Layer c still narrows the transfer to its ports.
    (np,) = [p for p in built.kind("NetworkPolicy") if p["metadata"]["name"].startswith("transfer-")]
    assert np["metadata"]["namespace"] == "labelling"


def test_cilium_domains_enforced_with_fqdn_policy(capture: Any) -> None:
    built = capture("eu-prod")
    config = load_stack("eu-prod")
    with_domains = {w.ref: w for w in config.workloads if any(n.domains for n in w.egress)}
    cnps = {(p["metadata"]["namespace"], p["metadata"]["name"]): p for p in built.kind("CiliumNetworkPolicy")}
    assert with_domains
    for w in with_domains.values():
        spec = cnps[(w.namespace, f"fqdn-{w.name}")]["spec"]
        names = {
            sel.get("matchName") or sel.get("matchPattern") for r in spec["egress"] for sel in r.get("toFQDNs", [])
        }
        assert names == {d for n in w.egress for d in n.domains}
        dns_rules = [r for r in spec["egress"] if "toEndpoints" in r]
        assert dns_rules and dns_rules[0]["toPorts"][0]["rules"] == {"dns": [{"matchPattern": "*"}]}
    assert built.outputs["notEnforceableAtL3"] == []


def test_domains_exported_as_not_enforceable_without_cilium(capture: Any) -> None:
    built = capture("cn-prod")
    config = load_stack("cn-prod")
    expected = {(w.ref, d) for w in config.workloads for n in w.egress for d in n.domains}
    assert expected
    assert {(e["workload"], e["domain"]) for e in built.outputs["notEnforceableAtL3"]} == expected
    assert not built.kind("CiliumNetworkPolicy")


def test_no_admin_tier_when_cni_enforces_only_networkpolicy(capture: Any) -> None:
    built = capture("cn-prod", overrides=with_cni_enforcing("cn-prod", ["NetworkPolicy"]))
    assert built.error is None
    assert built.outputs["adminTier"] == "none" and built.outputs["adminTierEnforced"] is False
    assert _kinds(built) == set()
    # Layer b still stands in every namespace.
    deny = [p for p in built.kind("NetworkPolicy") if p["metadata"]["name"] == "default-deny"]
    assert len(deny) == len(load_stack("cn-prod").tenants)
