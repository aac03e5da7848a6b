"""Ingress from outside the cluster: named sources declared once, networks named from the catalog (never
copied), ports the workload exposes, and a source abroad only under a transfer of the stack
(sovereign/stackconfig/ingress.py)."""

from __future__ import annotations

import copy
import ipaddress
from typing import Any

import pytest
from stackconfig_support import assert_error, catalog, errors_of, example_values, parse, source_file

from sovereign.core.errors import InputError
from sovereign.stackconfig.ingress import covering_transfers, source_networks, source_ports
from sovereign.stackconfig.model import LoadBalancerScheme

Values = dict[str, Any]
CN = source_file("cn-prod")
UPLINK = {"description": "the fleet's carrier uplink", "networks": ["fleet-uplink"]}


def gateway(values: Values) -> dict[str, Any]:
    return next(w for w in values["workloads"] if w["name"] == "ingest-gateway")


def with_uplink(values: Values, *entries: Any) -> Values:
    values["sources"] = {"fleet-uplink": copy.deepcopy(UPLINK)}
    gateway(values)["ingress"] = list(entries) or ["fleet-uplink"]
    gateway(values).pop("loadBalancer", None)
    return values


def rejected(values: Values) -> InputError:
    with pytest.raises(InputError) as info:
        parse(values)
    return info.value


def test_a_declared_source_loads_as_if_written_inline() -> None:
    shared = parse(with_uplink(example_values("cn-prod")))
    inline = parse(with_uplink(example_values("cn-prod"), {"name": "fleet-uplink", **UPLINK}))
    assert shared.workload("fleet-ingest/ingest-gateway") == inline.workload("fleet-ingest/ingest-gateway")
    [source] = shared.workload("fleet-ingest/ingest-gateway").ingress  # type: ignore[union-attr]
    placed = source_networks(source, catalog(), "cn")
    assert [(str(p.network), p.jurisdiction) for p in placed] == [("10.13.0.0/16", "cn")]
    w = shared.workload("fleet-ingest/ingest-gateway")
    assert w is not None and [(p.port, p.protocol.value) for p in source_ports(source, w)] == [(8443, "TCP")]


def test_an_undeclared_source_names_the_declared_ones() -> None:
    values = with_uplink(example_values("cn-prod"), "fleet-uplnk")
    assert_error(rejected(values), CN, "sovereign-clusters:workloads[0].ingress[0]",
                 "the name of a source declared under sovereign-clusters:sources (declared: fleet-uplink)",
                 "'fleet-uplnk', which is not declared there")


def test_an_unknown_network_name_lists_the_catalogs() -> None:
    values = with_uplink(example_values("cn-prod"))
    values["sources"]["fleet-uplink"]["networks"] = ["fleet-uplinks"]
    error = assert_error(rejected(values), CN, "sovereign-clusters:sources.fleet-uplink.networks[0]",
                         "a named network of the catalog's organisation layer: fleet-uplink", "'fleet-uplinks'")
    assert error.found == "'fleet-uplinks'"


def test_a_copied_network_of_the_jurisdiction_is_refused() -> None:
    values = with_uplink(example_values("cn-prod"), {"name": "copied", "cidrs": ["10.13.0.0/16"]})
    assert_error(rejected(values), CN, "sovereign-clusters:workloads[0].ingress[0].cidrs[0]",
                 "a network of cn named, not copied", "10.13.0.0/16 (inside cn's catalog networks)")


@pytest.mark.parametrize(("entry", "found"), [
    ({"name": "eu-net", "cidrs": ["10.20.9.0/24"]}, "cidr 10.20.9.0/24 (10.20.9.0/24, a network of eu)"),
    ({"name": "internet", "cidrs": ["0.0.0.0/0"]}, "cidr 0.0.0.0/0 (0.0.0.0/0, nobody's catalog network)"),
])
def test_a_source_abroad_without_a_transfer_is_refused(entry: dict[str, Any], found: str) -> None:
    values = with_uplink(example_values("cn-prod"), entry)
    assert_error(rejected(values), CN, "sovereign-clusters:workloads[0].ingress[0].cidrs[0]",
                 "a source in cn, or one covered by a transfer of this stack", found)


def test_a_source_abroad_covered_by_a_transfer_loads() -> None:
    values = example_values("cn-prod")
    registry = next(w for w in values["workloads"] if w["name"] == "registry")
    registry["ingress"] = [{"name": "eu-registry", "cidrs": ["10.20.5.0/24"], "ports": [{"port": 8080}]}]
    values["transfers"][0]["destination"]["ports"].append({"port": 8080, "protocol": "TCP"})
    config = parse(values)
    w = config.workload("model-registry/registry")
    assert w is not None
    [placed] = source_networks(w.ingress[0], catalog(), "cn")
    assert [t.id for t in covering_transfers(config, w, placed, w.ingress[0].ports)] == ["weights-to-eu"]
    values["transfers"][0]["destination"]["ports"].pop()  # the approval's ports do not cover 8080: refused
    assert_error(rejected(values), CN, "sovereign-clusters:workloads[4].ingress[0].cidrs[0]",
                 "covered by a transfer of this stack", "10.20.5.0/24, a network of eu")


def test_ports_must_be_the_workloads() -> None:
    values = with_uplink(example_values("cn-prod"))
    values["sources"]["fleet-uplink"]["ports"] = [{"port": 22}]
    assert_error(rejected(values), CN, "sovereign-clusters:sources.fleet-uplink.ports[0]",  # where it is declared
                 "a port fleet-ingest/ingest-gateway exposes: 8443/TCP", "22/TCP")


def test_load_balancer_needs_sources_and_a_known_internal_annotation() -> None:
    values = with_uplink(example_values("cn-prod"))
    gateway(values)["loadBalancer"] = {}
    config = parse(values)
    assert config.workload("fleet-ingest/ingest-gateway").load_balancer is LoadBalancerScheme.INTERNAL  # type: ignore[union-attr]
    gateway(values).pop("ingress")
    assert_error(rejected(values), CN, "sovereign-clusters:workloads[0].loadBalancer",
                 "ingress sources next to a load balancer", "no `ingress`")


def test_a_regional_load_balancer_admits_only_sources_in_the_jurisdiction() -> None:
    values = example_values("cn-prod")
    registry = next(w for w in values["workloads"] if w["name"] == "registry")
    registry["ingress"] = [{"name": "eu-registry", "cidrs": ["10.20.5.0/24"], "ports": [{"port": 8080}]}]
    registry["loadBalancer"] = {"scheme": "regional"}
    values["transfers"][0]["destination"]["ports"].append({"port": 8080, "protocol": "TCP"})
    errors = errors_of(rejected(values))
    assert [e.message for e in errors] == [
        f"{CN}: sovereign-clusters:workloads[4].loadBalancer.scheme: expected internal (a regional, internet-facing "
        "load balancer may only admit sources in cn; a transfer's source abroad comes in over the private network); "
        "found regional with source(s) outside cn: eu-registry"]


def test_a_named_network_of_another_jurisdiction_is_placed_there() -> None:
    values = with_uplink(example_values("cn-prod"), {"name": "hk", "networks": ["hk:nowhere"]})
    assert_error(rejected(values), CN, "sovereign-clusters:workloads[0].ingress[0].networks[0]",
                 "a named network of the catalog's organisation layer", "'hk:nowhere'")
    assert ipaddress.ip_network("10.13.0.0/16") in catalog().jurisdictions["cn"].networks
