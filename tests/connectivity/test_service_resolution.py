"""What a destination name stands for (sovereign/connectivity/resolution.py), what a workload reaches by destination
class (``destinations``), hostNetwork links in the chain, and which objects the engine reads (coverage.py)."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sovereign.connectivity import DESTINATION_CLASSES, CniParams
from sovereign.connectivity.coverage import ENGINE_ROLES, engine_reads, not_read
from sovereign.connectivity.inventory import to_manifests
from sovereign.connectivity.resolution import fqdn_matches
from sovereign.core.errors import InputError
from sovereign.core.labels import JURISDICTION
from sovereign.kinds.registry import default_registry
from tests.connectivity.builders import UPSTREAM, catalog, cilium, deployment, jurisdiction, netpol, ns, pod, run

EU = jurisdiction("eu", ["198.51.100.0/24"], ["*.example.eu"])
CN = jurisdiction("cn", ["203.0.113.0/24"], ["*.example.cn"])
CAT = catalog(EU, CN)


def service(name: str, spec: dict[str, Any], namespace: str = "a") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def egress(app: str, rules: list[dict[str, Any]], name: str = "out") -> dict[str, Any]:
    return netpol("a", name, {"podSelector": {"matchLabels": {"app": app}}, "policyTypes": ["Egress"],
                              "egress": rules})


BASE = [ns("a"), pod("a", "web", {"app": "web"})]


def test_named_target_port_resolves_per_backend_and_mixed_backends_are_neither() -> None:
    objs = [
        *BASE,
        pod("a", "db-0", {"app": "db", "v": "1"}, ports=[{"containerPort": 5432, "name": "pg"}]),
        pod("a", "db-1", {"app": "db", "v": "2"}, ports=[{"containerPort": 6432, "name": "pg"}]),
        service("db", {"selector": {"app": "db"}, "ports": [{"port": 5432, "targetPort": "pg"}]}),
        egress("web", [{"ports": [{"port": 5432}]}]),
    ]
    ans = run(objs).query("a/web", "a/db", 5432, "TCP")
    assert not ans.allowed and ans.mixed
    assert [(b.backend, b.port, b.allowed) for b in ans.backends] == [("Pod a/db-0", 5432, True),
                                                                       ("Pod a/db-1", 6432, False)]
    assert "targetPort pg = 6432 -> pods of Pod a/db-1" in "\n".join(ans.resolved)
    every = run([*objs[:-1], egress("web", [{"ports": [{"port": 5432}, {"port": 6432}]}])])
    assert every.query("a/web", "a/db", 5432, "TCP").allowed


def test_backend_without_the_named_port_is_not_a_backend() -> None:
    objs = [*BASE, pod("a", "db-0", {"app": "db"}, ports=[{"containerPort": 5432, "name": "pg"}]),
            pod("a", "db-x", {"app": "db", "x": "1"}),
            service("db", {"selector": {"app": "db"}, "ports": [{"port": 5432, "targetPort": "pg"}]})]
    ans = run(objs).query("a/web", "a/db", 5432, "TCP")
    assert ans.allowed and [b.backend for b in ans.backends] == ["Pod a/db-0"]
    assert any("no TCP container port named pg on the pods of Pod a/db-x" in s for s in ans.resolved)


def test_headless_service_translates_no_port() -> None:
    objs = [*BASE, pod("a", "db-0", {"app": "db"}),
            service("db", {"clusterIP": "None", "selector": {"app": "db"}, "ports": [{"port": 80}]}),
            egress("web", [{"ports": [{"port": 5432}]}])]
    r = run(objs)
    assert r.query("a/web", "a/db", 5432, "TCP").allowed  # straight to the pod's port
    assert not r.query("a/web", "a/db", 80, "TCP").allowed
    assert "headless Service a/db (clusterIP: None)" in r.query("a/web", "a/db", 5432, "TCP").resolved[0]


@pytest.mark.parametrize("endpoints", ["EndpointSlice", "Endpoints"])
def test_selectorless_service_maps_its_port_to_the_endpoint_port_of_the_same_name(endpoints: str) -> None:
    if endpoints == "EndpointSlice":
        eps: dict[str, Any] = {
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
            "metadata": {"name": "ext-1", "namespace": "a", "labels": {"kubernetes.io/service-name": "ext"}},
            "endpoints": [{"addresses": ["203.0.113.9"]}], "ports": [{"name": "https", "port": 8443}]}
    else:
        eps = {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "ext", "namespace": "a"},
               "subsets": [{"addresses": [{"ip": "203.0.113.9"}], "ports": [{"name": "https", "port": 8443}]}]}
    objs = [*BASE, service("ext", {"ports": [{"name": "https", "port": 443}]}), eps,
            egress("web", [{"to": [{"ipBlock": {"cidr": "203.0.113.9/32"}}], "ports": [{"port": 8443}]}])]
    ans = run(objs).query("a/web", "a/ext", 443, "TCP")
    assert ans.allowed
    assert ans.resolved == ("ClusterIP Service a/ext port 443/TCP (https) -> endpoint port 8443 -> address "
                            "203.0.113.9 (its EndpointSlices or Endpoints)",)


def test_selectorless_service_without_endpoints_names_nothing() -> None:
    with pytest.raises(InputError, match="no selector and no EndpointSlice or Endpoints"):
        run([*BASE, service("ext", {"ports": [{"port": 443}]})]).query("a/web", "a/ext", 443, "TCP")


def _external(rules: list[dict[str, Any]], extra: tuple[dict[str, Any], ...] = ()) -> Any:
    objs = [*BASE, service("ext", {"type": "ExternalName", "externalName": "db.example.cn"}), *extra]
    if rules is not None:
        objs.append(egress("web", rules))
    return run(objs, cluster_cidrs=[ipaddress.ip_network("10.0.0.0/16")]).query("a/web", "a/ext", 443, "TCP")


def test_external_name_is_allowed_only_when_every_address_is() -> None:
    assert _external([{}]).allowed
    denied = _external([{"to": [{"ipBlock": {"cidr": "10.0.0.0/16"}}]}])
    assert not denied.allowed and not denied.mixed and "denied to every address db.example.cn" in denied.reason
    mixed = _external([{"to": [{"ipBlock": {"cidr": "203.0.113.0/24"}}]}])
    assert not mixed.allowed and mixed.mixed and "depends on what db.example.cn resolves to" in mixed.reason
    assert "ExternalName Service a/ext: a DNS alias (CNAME) for db.example.cn" in mixed.resolved[0]


def test_external_name_allowed_by_a_dns_rule_naming_it() -> None:
    fqdn = cilium("a", "dns", {"endpointSelector": {"matchLabels": {"app": "web"}},
                               "egress": [{"toFQDNs": [{"matchPattern": "*.example.cn"}]}]})
    objs = [*BASE, service("ext", {"type": "ExternalName", "externalName": "db.example.cn"}), fqdn]
    ans = run(objs).query("a/web", "a/ext", 443, "TCP")
    assert ans.allowed and any("toFQDNs" in r.rule or r.name == "dns" for r in ans.rules)


@pytest.mark.parametrize(("pattern", "name", "expected"), [
    ("db.example.cn", "db.example.cn", True),
    ("*.example.cn", "db.example.cn", True),
    ("*.example.cn", "a.db.example.cn", False),
    ("**.example.cn", "a.db.example.cn", True),
    ("**.example.cn", "example.cn", False),
    ("db*.example.cn", "db-1.example.cn", True),
    ("db.example.cn", "dbxexample.cn", False),
])
def test_fqdn_patterns(pattern: str, name: str, expected: bool) -> None:
    assert fqdn_matches(pattern, name) is expected


@given(st.from_regex(r"[a-z0-9-]{1,8}(\.[a-z0-9-]{1,8}){0,3}", fullmatch=True))
def test_a_name_matches_itself_and_its_one_label_wildcard(name: str) -> None:
    assert fqdn_matches(name, name)
    first, _, rest = name.partition(".")
    if rest:
        assert fqdn_matches("*." + rest, name) and fqdn_matches("**." + rest, name)


def test_service_name_wins_and_prefixes_choose() -> None:
    objs = [*BASE, pod("a", "db", {"app": "db"}, ports=[{"containerPort": 8080, "name": "http"}]),
            service("db", {"selector": {"app": "db"}, "ports": [{"port": 80, "targetPort": "http"}]}),
            egress("web", [{"ports": [{"port": 8080}]}])]
    r = run(objs)
    assert r.query("a/web", "a/db", 80, "TCP").allowed  # the Service: 80 -> 8080
    assert r.query("a/web", "service:a/db", 80, "TCP").allowed
    assert not r.query("a/web", "workload:a/db", 80, "TCP").allowed  # the pod itself on 80
    assert r.service_refs == ("a/db",)


def test_destinations_sort_every_class_with_jurisdictions() -> None:
    objs = [ns("a", **{JURISDICTION: "eu"}), pod("a", "web", {"app": "web"}), pod("a", "db", {"app": "db"}),
            egress("web", [{"to": [{"podSelector": {"matchLabels": {"app": "db"}}}]},
                           {"to": [{"ipBlock": {"cidr": "198.51.100.0/25"}}, {"ipBlock": {"cidr": "203.0.113.0/24"}},
                                   {"ipBlock": {"cidr": "192.0.2.0/24"}}, {"ipBlock": {"cidr": "10.0.1.0/24"}}],
                            "ports": [{"port": 443}]}])]
    r = run(objs, catalog=CAT, jurisdiction="eu", cluster_cidrs=[ipaddress.ip_network("10.0.0.0/16")])
    got = {(d.category, d.destination, d.jurisdiction) for d in r.destinations("a/web")}
    assert got == {
        ("in-cluster workloads", "a/db", "eu"),
        ("cluster address space", "10.0.1.0/24", "eu"),
        ("networks of its jurisdiction", "198.51.100.0/25", "eu"),
        ("other jurisdictions", "203.0.113.0/24", "cn"),
        ("unattributed address space", "192.0.2.0/24", None),
    }
    order = [DESTINATION_CLASSES.index(d.category) for d in r.destinations("a/web")]
    assert order == sorted(order)


@pytest.mark.parametrize("selected", [True, False])
def test_host_network_links_follow_the_cni_parameter(selected: bool) -> None:
    cni = CniParams(UPSTREAM.enforces, True, True, True, selected)
    objs = [*BASE, pod("a", "agent", {"app": "agent"}, host_network=True),
            netpol("a", "deny", {"podSelector": {}, "policyTypes": ["Egress"]})]
    r = run(objs, cni=cni)
    ans = r.query("a/agent", "203.0.113.1", 443, "TCP")
    assert ans.allowed is not selected  # selected: the namespace's default deny covers it
    assert ans.rules[0].kind == "hostNetwork" and ans.rules[0].rule.startswith("source a/agent runs with hostNetwork")
    assert ("--host-network-selected" in ans.rules[0].rule) is selected
    into = r.query("a/web", "a/agent", 443, "TCP")
    assert any(link.kind == "hostNetwork" and "destination a/agent" in link.rule for link in into.rules)
    assert all(d.rules[0].kind == "hostNetwork" for d in r.destinations("a/agent"))


def test_engine_roles_name_roles_of_the_registry() -> None:
    assert set(default_registry().roles) >= ENGINE_ROLES


def test_coverage_reads_modelled_kinds_and_names_the_rest() -> None:
    registry = default_registry()
    assert engine_reads(registry.entry("apps", "Deployment"), True)
    assert not engine_reads(registry.entry("networking.k8s.io", "Ingress"), False)
    assert engine_reads(None, True) and not engine_reads(None, False)
    objs = [
        deployment("a", "web", {"app": "web"}),
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "a"}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "i", "namespace": "a"}},
        {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "a"}},
        {"apiVersion": "apps/v1beta9", "kind": "Deployment", "metadata": {"name": "old", "namespace": "a"}},
    ]
    found = {(n.object, n.refused) for n in not_read(to_manifests(objs))}
    assert found == {
        ("v1 ConfigMap a/c", False),  # the registry: a mesh's configuration may say where traffic goes
        ("networking.k8s.io/v1 Ingress a/i", False),
        ("example.com/v1 Widget a/w", True),
        ("apps/v1beta9 Deployment a/old", True),
    }
