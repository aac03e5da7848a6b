"""Ingress from outside the cluster, through the mock runtime: cn-prod's ingest gateway admits the fleet uplink
(the catalog's named network, resolved by the program) through an ipBlock and an internal load balancer; a source
abroad is opened only by a policy carrying the approval of an active transfer, and not at all once it expired."""

from __future__ import annotations

from typing import Any

from program_overrides import NS
from program_support import DEFAULT_AT, stack_config_values

from sovereign.catalog import default_catalog
from sovereign.core import labels

STACK = "cn-prod"


def _named(built: Any, kind: str, name: str) -> dict[str, Any]:
    (found,) = [o for o in built.kind(kind) if o["metadata"]["name"] == name]
    return found  # type: ignore[no-any-return]


def test_the_fleet_uplink_reaches_the_gateway_through_an_internal_load_balancer(capture: Any) -> None:
    built = capture(STACK, at=DEFAULT_AT)
    uplink = [str(n) for n in default_catalog().jurisdictions["cn"].named_networks["fleet-uplink"].networks]
    policy = _named(built, "NetworkPolicy", "from-outside-ingest-gateway")
    assert policy["metadata"]["namespace"] == "fleet-ingest"
    assert policy["spec"]["podSelector"] == {"matchLabels": {labels.WORKLOAD: "ingest-gateway"}}
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    assert policy["spec"]["ingress"] == [{"from": [{"ipBlock": {"cidr": c}} for c in uplink],
                                          "ports": [{"protocol": "TCP", "port": 8443}]}]
    lb = _named(built, "Service", "ingest-gateway-lb")
    provider = default_catalog().provider("aws-cn")
    assert provider is not None
    assert lb["metadata"]["annotations"] == dict(provider.internal_load_balancer)
    assert lb["metadata"]["annotations"] == {"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"}
    spec = lb["spec"]
    assert spec["type"] == "LoadBalancer" and spec["externalTrafficPolicy"] == "Local"
    assert spec["loadBalancerSourceRanges"] == uplink
    assert spec["selector"] == {labels.WORKLOAD: "ingest-gateway"}
    assert spec["ports"] == [{"name": "https", "port": 8443, "protocol": "TCP", "targetPort": "https"}]
    assert built.outputs["allowedIngress"] == [{"workload": "fleet-ingest/ingest-gateway", "source": "fleet-uplink",
                                                "networks": uplink, "ports": ["8443/TCP"], "transfer": None}]
    assert [s["metadata"]["name"] for s in built.kind("Service") if s["spec"].get("type") == "LoadBalancer"] == [
        "ingest-gateway-lb"]


def _inbound_from_eu() -> dict[str, Any]:
    """cn-prod with the eu registry endpoint allowed to pull from the model registry on 8080 under weights-to-eu."""
    values = stack_config_values(STACK)
    workloads = [dict(w) for w in values[NS + "workloads"]]
    registry = next(w for w in workloads if w["name"] == "registry")
    registry["ingress"] = [{"name": "eu-registry", "cidrs": ["10.20.5.0/24"], "ports": [{"port": 8080}]}]
    transfers = [dict(t) for t in values[NS + "transfers"]]
    transfers[0] = {**transfers[0], "destination": {**transfers[0]["destination"],
                                                    "ports": [{"port": 443, "protocol": "TCP"},
                                                              {"port": 8080, "protocol": "TCP"}]}}
    return {NS + "workloads": workloads, NS + "transfers": transfers}


def test_a_source_abroad_opens_only_under_its_active_transfer(capture: Any) -> None:
    built = capture(STACK, at=DEFAULT_AT, overrides=_inbound_from_eu())
    policy = _named(built, "NetworkPolicy", "transfer-weights-to-eu-registry-inbound")
    assert policy["metadata"]["annotations"][labels.TRANSFER_APPROVAL] == "CAC-SA-2026-0042"
    assert policy["metadata"]["labels"][labels.TRANSFER_ID] == "weights-to-eu"
    assert policy["spec"]["ingress"] == [{"from": [{"ipBlock": {"cidr": "10.20.5.0/24"}}],
                                          "ports": [{"protocol": "TCP", "port": 8080}]}]
    assert not [p for p in built.kind("NetworkPolicy") if p["metadata"]["name"] == "from-outside-registry"]
    expired = capture(STACK, at="2027-03-01T00:00:00Z", overrides=_inbound_from_eu())
    names = {p["metadata"]["name"] for p in expired.kind("NetworkPolicy")}
    assert "transfer-weights-to-eu-registry-inbound" not in names
    assert [i for i in expired.outputs["allowedIngress"] if i["workload"] == "model-registry/registry"] == []
