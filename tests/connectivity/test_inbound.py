"""Ingress from outside the cluster: which address ranges a policy admits, inbound cross-border paths, and
queries from ``world`` or an address outside the cluster (docs/connectivity.md, "Ingress from outside the
cluster")."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sovereign.core.errors import InputError
from tests.connectivity.builders import catalog, jurisdiction, netpol, ns, pod, run

EU = jurisdiction("eu", ["198.51.100.0/24"], ["*.example.eu"])
CN = jurisdiction("cn", ["203.0.113.0/24"], ["*.example.cn"])
CAT = catalog(EU, CN)
CLUSTER = [ipaddress.ip_network("10.0.0.0/16")]
DENY = netpol("a", "default-deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})


def admit(name: str, peers: list[dict[str, object]] | None, port: int = 8443) -> dict[str, object]:
    rule: dict[str, object] = {"ports": [{"port": port}]}
    if peers is not None:
        rule["from"] = peers
    return netpol("a", name, {"podSelector": {"matchLabels": {"app": "gw"}}, "policyTypes": ["Ingress"],
                              "ingress": [rule]})


def report(*extra: dict[str, object]):  # type: ignore[no-untyped-def]
    return run([ns("a"), pod("a", "gw"), DENY, *extra], catalog=CAT, jurisdiction="cn", cluster_cidrs=CLUSTER)


def test_an_ipblock_of_the_jurisdiction_is_admitted_and_stays_home() -> None:
    r = report(admit("from-home", [{"ipBlock": {"cidr": "203.0.113.0/25"}}]))
    [inbound] = r.inbound("a/gw")
    assert (inbound.source_range, inbound.source_jurisdiction, inbound.ports, inbound.explicit) == (
        "203.0.113.0/25", "cn", ((8443, 8443),), True)
    assert r.cross_border() == []
    assert r.query("203.0.113.9", "a/gw", 8443).allowed
    assert not r.query("198.51.100.9", "a/gw", 8443).allowed
    assert not r.query("203.0.113.9", "a/gw", 22).allowed


def test_a_client_abroad_is_an_inbound_cross_border_path() -> None:
    r = report(admit("from-eu", [{"ipBlock": {"cidr": "198.51.100.0/24"}}]))
    [path] = r.cross_border()
    assert (path.source, path.direction, path.destination_range, path.destination_jurisdiction) == (
        "a/gw", "inbound", "198.51.100.0/24", "eu")
    assert str(path.rules[-1]) == "NetworkPolicy a/from-eu ingress[0]"
    assert json.loads(json.dumps(r.to_json(include_reach=False)))["crossBorder"][0]["direction"] == "inbound"


def test_a_ports_only_rule_admits_the_whole_world() -> None:
    r = report(admit("from-anywhere", None))
    places = {p.destination_jurisdiction for p in r.cross_border()}
    assert places == {None, "eu"}  # unattributed space and eu; cn's own network is home
    answer = r.query("world", "a/gw", 8443)
    assert answer.allowed and answer.reason.startswith("allowed from 0.0.0.0-")


def test_the_default_allow_of_an_unisolated_pod_is_not_an_inbound_path() -> None:
    r = run([ns("a"), pod("a", "gw")], catalog=CAT, jurisdiction="cn", cluster_cidrs=CLUSTER)
    assert all(not i.explicit for i in r.inbound("a/gw"))
    assert [p for p in r.cross_border() if p.direction == "inbound"] == []
    assert r.query("world", "a/gw", 8443).allowed  # the policy answer; the door is judged elsewhere


def test_isolation_denies_every_client_outside() -> None:
    r = report()
    assert r.inbound("a/gw") == [] and not r.query("world", "a/gw", 8443).allowed


def test_a_pod_address_or_an_in_cluster_address_is_no_outside_source() -> None:
    r = report()
    with pytest.raises(InputError, match="outside the cluster"):
        r.query("10.0.3.4", "a/gw", 8443)
    with pytest.raises(InputError):
        r.query("world", "203.0.113.7", 443)  # from outside to outside: not the cluster's question


@settings(max_examples=60, deadline=None)
@given(prefix=st.integers(min_value=24, max_value=32), host=st.integers(min_value=0, max_value=255))
def test_an_address_is_admitted_exactly_when_an_admitted_block_holds_it(prefix: int, host: int) -> None:
    block = ipaddress.ip_network(f"198.51.100.0/{prefix}", strict=False)
    r = report(admit("from-block", [{"ipBlock": {"cidr": str(block)}}]))
    address = ipaddress.ip_address(f"198.51.100.{host}")
    assert r.query(str(address), "a/gw", 8443).allowed is (address in block)


def test_reach_from_world_on_the_rendered_cn_prod(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The README's flow: render cn-prod, then ask reach whether the fleet can upload and eu clients cannot."""
    from sovereign.cli.main import main

    out_dir = tmp_path / "out"
    assert main(["render", "cn-prod", "--out", str(out_dir)]) == 0
    manifests = str(out_dir / "cn-prod" / "manifests")
    capsys.readouterr()
    code = main(["reach", "--manifests", manifests, "--stack", "cn-prod", "--from", "world",
                 "--to", "fleet-ingest/ingest-gateway:8443"])
    out = capsys.readouterr().out
    assert code == 0 and out.startswith("world -> fleet-ingest/ingest-gateway 8443/TCP: allowed")
    assert "NetworkPolicy fleet-ingest/from-outside-ingest-gateway ingress[0]" in out
    code = main(["reach", "--manifests", manifests, "--stack", "cn-prod", "--from", "10.13.40.2",
                 "--to", "fleet-ingest/ingest-gateway:8443", "--expect", "allowed"])
    assert code == 0
    code = main(["reach", "--manifests", manifests, "--stack", "cn-prod", "--from", "10.20.5.1",
                 "--to", "fleet-ingest/ingest-gateway:8443", "--expect", "denied"])
    assert code == 0
    capsys.readouterr()
    assert main(["reach", "--manifests", manifests, "--stack", "cn-prod", "--from", "world"]) == 2
    assert main(["reach", "--manifests", manifests, "--stack", "cn-prod", "--summary"]) == 1  # the weights transfer
    summary = capsys.readouterr().out
    assert "model-registry/registry -> 10.20.5.0/24 (eu)" in summary and " <- " not in summary  # no client abroad
