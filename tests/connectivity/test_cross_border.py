"""Jurisdictions: catalog attribution of external ranges, in-cluster CIDRs, namespace labels, relay paths,
FQDNs, Services and bad input."""

from __future__ import annotations

import ipaddress
import json

import pytest

from sovereign.core.errors import InputError
from sovereign.core.labels import JURISDICTION
from tests.connectivity.builders import CILIUM, allowed, catalog, cilium, jurisdiction, netpol, ns, pod, run

EU = jurisdiction("eu", ["198.51.100.0/24", "2001:db8:e0::/48"], ["*.example.eu"])
CN = jurisdiction("cn", ["203.0.113.0/24"], ["*.example.cn"])
CAT = catalog(EU, CN)
CLUSTER = [ipaddress.ip_network("10.0.0.0/16")]


def egress_to(cidr: str, app: str, port: int = 443) -> dict[str, object]:
    return netpol(
        "a",
        f"to-{app}",
        {
            "podSelector": {"matchLabels": {"app": app}},
            "policyTypes": ["Egress"],
            "egress": [{"to": [{"ipBlock": {"cidr": cidr}}], "ports": [{"port": port}]}],
        },
    )


def test_external_ranges_are_attributed_by_catalog_networks() -> None:
    objs = [ns("a"), pod("a", "web"), egress_to("198.51.100.0/23", "web")]
    r = run(objs, catalog=CAT, jurisdiction="eu", cluster_cidrs=CLUSTER)
    paths = [p for p in r.cross_border() if p.source == "a/web"]
    assert [(p.destination_range, p.destination_jurisdiction, p.ports) for p in paths] == [
        ("198.51.101.0/24", None, ((443, 443),)),
    ]
    assert paths[0].rules[0].name == "to-web"


def test_foreign_jurisdiction_is_named() -> None:
    objs = [ns("a"), pod("a", "web"), egress_to("203.0.113.0/24", "web")]
    r = run(objs, catalog=CAT, jurisdiction="eu")
    (path,) = [p for p in r.cross_border() if p.source == "a/web"]
    assert (path.destination_range, path.destination_jurisdiction, path.source_jurisdiction) == (
        "203.0.113.0/24",
        "cn",
        "eu",
    )


def test_in_cluster_cidrs_are_not_cross_border() -> None:
    objs = [ns("a"), pod("a", "web"), egress_to("10.0.0.0/8", "web")]
    r = run(objs, catalog=CAT, jurisdiction="eu", cluster_cidrs=CLUSTER)
    dests = {p.destination_range for p in r.cross_border() if p.source == "a/web"}
    assert dests == {"10.1.0.0-10.255.255.255"}
    assert "10.0.0.0/16" not in dests


def test_default_allow_crosses_every_border() -> None:
    r = run([ns("a"), pod("a", "web")], catalog=CAT, jurisdiction="eu", cluster_cidrs=CLUSTER)
    jurs = {p.destination_jurisdiction for p in r.cross_border()}
    assert jurs == {None, "cn"}


def test_relay_path_is_found() -> None:
    # web may only talk to proxy; proxy may reach cn: web -> proxy -> cn is a path
    objs = [
        ns("a"),
        pod("a", "web"),
        pod("a", "proxy"),
        netpol(
            "a",
            "web",
            {
                "podSelector": {"matchLabels": {"app": "web"}},
                "policyTypes": ["Egress"],
                "egress": [{"to": [{"podSelector": {"matchLabels": {"app": "proxy"}}}]}],
            },
        ),
        egress_to("203.0.113.0/24", "proxy", 8443),
    ]
    r = run(objs, catalog=CAT, jurisdiction="eu", cluster_cidrs=CLUSTER)
    web = [p for p in r.cross_border() if p.source == "a/web"]
    assert [(p.hops, p.destination_range, p.destination_jurisdiction, p.ports) for p in web] == [
        (("a/proxy",), "203.0.113.0/24", "cn", ((8443, 8443),)),
    ]


def test_relay_blocked_by_destination_ingress_is_not_a_path() -> None:
    objs = [
        ns("a"),
        pod("a", "web"),
        pod("a", "proxy"),
        netpol(
            "a",
            "web",
            {
                "podSelector": {"matchLabels": {"app": "web"}},
                "policyTypes": ["Egress"],
                "egress": [{"to": [{"podSelector": {"matchLabels": {"app": "proxy"}}}]}],
            },
        ),
        netpol("a", "proxy-in", {"podSelector": {"matchLabels": {"app": "proxy"}}, "ingress": []}),
        egress_to("203.0.113.0/24", "proxy", 8443),
    ]
    r = run(objs, catalog=CAT, jurisdiction="eu", cluster_cidrs=CLUSTER)
    assert [p for p in r.cross_border() if p.source == "a/web"] == []


def test_namespace_label_sets_the_workload_jurisdiction() -> None:
    objs = [ns("a", **{JURISDICTION: "cn"}), pod("a", "web"), egress_to("203.0.113.0/24", "web")]
    r = run(objs, catalog=CAT, jurisdiction="eu")
    assert r.jurisdiction_of("a/web") == "cn"
    assert [p for p in r.cross_border() if p.source == "a/web"] == []


def test_workload_in_another_jurisdictions_namespace_is_cross_border() -> None:
    objs = [
        ns("a"),
        ns("b", **{JURISDICTION: "cn"}),
        pod("a", "web"),
        pod("b", "store"),
        netpol(
            "a",
            "web",
            {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"to": [{"namespaceSelector": {}}]}]},
        ),
    ]
    r = run(objs, catalog=CAT, jurisdiction="eu")
    web = [p for p in r.cross_border() if p.source == "a/web"]
    assert [(p.destination_range, p.destination_jurisdiction) for p in web if not p.hops] == [("b/store", "cn")] * 3
    # b/store is unrestricted, so a/web also leaves through it (relay) to everything b/store reaches
    assert {p.hops for p in web if p.hops} == {("b/store",)}


def test_fqdn_is_foreign_unless_a_catalog_domain() -> None:
    spec = {
        "endpointSelector": {},
        "egress": [
            {
                "toFQDNs": [
                    {"matchName": "api.example.eu"},
                    {"matchPattern": "*.example.cn"},
                    {"matchName": "unknown.example.org"},
                ]
            }
        ],
    }
    r = run([ns("a"), pod("a", "web"), cilium("a", "f", spec)], cni=CILIUM, catalog=CAT, jurisdiction="eu")
    got = {(p.destination_range, p.destination_jurisdiction) for p in r.cross_border()}
    assert got == {("fqdn:*.example.cn", "cn"), ("fqdn:unknown.example.org", None)}


def test_service_query_resolves_target_port_on_backends() -> None:
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "db-svc", "namespace": "a"},
        "spec": {"selector": {"app": "db"}, "ports": [{"port": 5432, "targetPort": "pg"}]},
    }
    objs = [
        ns("a"),
        pod("a", "web"),
        pod("a", "db", ports=[{"containerPort": 15432, "name": "pg"}]),
        svc,
        netpol(
            "a",
            "db",
            {"podSelector": {"matchLabels": {"app": "db"}}, "ingress": [{"ports": [{"port": 15432}]}]},
        ),
    ]
    r = run(objs)
    assert r.query("a/web", "a/db-svc", 5432, "TCP").allowed  # the Service resolves to backends + targetPort
    assert allowed(r, "a/web", "a/db", 15432)
    assert not allowed(r, "a/web", "a/db", 5432)  # workload a/db itself on 5432 is denied
    ans = r.query("a/web", "a/db-svc", 80, "TCP")
    assert not ans.allowed and "exposes no TCP port 80" in ans.reason  # 80 is not a port of the Service


def test_selectorless_service_uses_endpointslice_addresses() -> None:
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "ext", "namespace": "a"},
        "spec": {"ports": [{"port": 443}]},
    }
    eps = {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": "ext-1", "namespace": "a", "labels": {"kubernetes.io/service-name": "ext"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": ["203.0.113.9"]}],
        "ports": [{"port": 443}],
    }
    objs = [ns("a"), pod("a", "web"), svc, eps, egress_to("203.0.113.9/32", "web")]
    r = run(objs)
    assert r.query("a/web", "a/ext", 443, "TCP").allowed
    assert not r.query("a/web", "a/ext", 80, "TCP").allowed


def test_to_json_is_deterministic_and_serialisable() -> None:
    objs = [ns("a"), pod("a", "web"), pod("a", "db"), egress_to("203.0.113.0/24", "web")]
    a = json.dumps(run(objs, catalog=CAT, jurisdiction="eu").to_json(), sort_keys=True)
    b = json.dumps(run(list(reversed(objs)), catalog=CAT, jurisdiction="eu").to_json(), sort_keys=True)
    assert a == b
    assert '"crossBorder"' in a


@pytest.mark.parametrize(
    "bad",
    [
        ["not a mapping"],
        [
            {
                "kind": "Pod",
                "metadata": {"name": "x"},
                "spec": {"containers": [{"ports": [{"containerPort": 0}]}]},
            }
        ],
        [netpol("a", "p", {"podSelector": {}, "egress": [{"to": [{"ipBlock": {"cidr": "999.0.0.0/8"}}]}]})],
        [netpol("a", "p", {"podSelector": {}, "policyTypes": ["Sideways"]})],
        [netpol("a", "p", {"podSelector": {"matchExpressions": [{"key": "a", "operator": "In"}]}})],
        [
            {
                "kind": "AdminNetworkPolicy",
                "metadata": {"name": "x"},
                "spec": {"priority": 5000, "subject": {"namespaces": {}}},
            }
        ],
        [{"kind": "Pod", "metadata": {"name": "x", "labels": {"v": 1}}, "spec": {}}],
    ],
)
def test_bad_input_raises_input_error(bad: list[object]) -> None:
    with pytest.raises(InputError):
        run(bad)  # type: ignore[arg-type]


def test_unknown_query_target_is_input_error() -> None:
    r = run([ns("a"), pod("a", "web")])
    with pytest.raises(InputError):
        r.query("a/web", "a/nothing", 80, "TCP")
    with pytest.raises(InputError):
        r.query("a/nope", "a/web", 80, "TCP")
    with pytest.raises(InputError):
        r.query("a/web", "a/web", 80, "ICMP")
