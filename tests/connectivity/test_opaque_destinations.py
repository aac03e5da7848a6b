"""Closed world for peers the engine cannot resolve offline: an Allow that cannot be resolved is a path to an
unknown place (an opaque destination, foreign unless attributed), an unresolvable Deny matches nothing.

Covers Cilium toGroups, CIDR groups (cidrGroupRef / cidrGroupSelector against CiliumCIDRGroup objects),
toServices (k8sService, k8sServiceSelector, Services missing from the input), node peers (Cilium toNodes and
the host / remote-node entities, ANP/BANP/ClusterNetworkPolicy ``nodes``: region attribution and hostNetwork
relays), the other Cilium entities, unknown fields, toRequires, and the determinism of the new destinations.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
from datetime import date
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sovereign.catalog.model import Catalog, Jurisdiction, Provider, Region
from sovereign.connectivity import ConnectivityReport
from sovereign.core.errors import InputError
from sovereign.core.labels import JURISDICTION
from tests.connectivity.builders import (
    CILIUM,
    UPSTREAM,
    allowed,
    anp,
    banp,
    cilium,
    cnp_v1alpha2,
    jurisdiction,
    ns,
    pod,
    run,
)

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CLUSTER = [ipaddress.ip_network("10.0.0.0/16")]
REGION = "topology.kubernetes.io/region"
WEB = {"matchLabels": {"app": "web"}}


def _jur(jid: str, networks: list[str], regions: dict[str, tuple[str, ...]] | None = None) -> Jurisdiction:
    return dataclasses.replace(jurisdiction(jid, networks), regions=MappingProxyType(regions or {}))


def _provider(pid: str, *regions: str) -> Provider:
    return Provider(pid, pid, "csi", "zone", MappingProxyType({r: Region(pid, r, r, "XX") for r in regions}))


EU = _jur("eu", ["198.51.100.0/24"], {"aws": ("eu-west-1", "eu-central-1"), "gcp": ("europe-west1",)})
CN = _jur("cn", ["203.0.113.0/24"], {"aws": ("cn-north-1",), "huawei": ("ap-southeast-1",)})
SG = _jur("sg", [], {"aws": ("ap-southeast-1",)})
CAT = Catalog(
    "test",
    date(2026, 1, 1),
    MappingProxyType(
        {
            "aws": _provider("aws", "eu-west-1", "eu-central-1", "cn-north-1", "ap-southeast-1", "us-east-1"),
            "gcp": _provider("gcp", "europe-west1"),
            "huawei": _provider("huawei", "ap-southeast-1"),
        }
    ),
    MappingProxyType({"eu": EU, "cn": CN, "sg": SG}),
)


def analyze(objs: list[dict[str, Any]], cni: Any = CILIUM) -> ConnectivityReport:
    return run(objs, cni=cni, catalog=CAT, jurisdiction="eu", cluster_cidrs=CLUSTER)


def dests(r: ConnectivityReport, src: str = "a/web") -> set[str]:
    return {x.destination for x in r.reach(src)}


def crossing(r: ConnectivityReport, src: str = "a/web") -> dict[str, str | None]:
    """Direct cross-border destinations of ``src`` -> their jurisdiction."""
    return {p.destination_range: p.destination_jurisdiction for p in r.cross_border() if p.source == src and not p.hops}


def egress(*rules: dict[str, Any], deny: list[dict[str, Any]] | None = None, name: str = "p") -> dict[str, Any]:
    spec: dict[str, Any] = {"endpointSelector": WEB, "egress": list(rules)}
    if deny is not None:
        spec["egressDeny"] = deny
    return cilium("a", name, spec)


def cidr_group(name: str, cidrs: list[str], **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "cilium.io/v2alpha1",
        "kind": "CiliumCIDRGroup",
        "metadata": {"name": name, "labels": labels},
        "spec": {"externalCIDRs": cidrs},
    }


def service(namespace: str, name: str, labels: dict[str, str], selector: dict[str, str] | None) -> dict[str, Any]:
    spec: dict[str, Any] = {"ports": [{"port": 443}]}
    if selector is not None:
        spec["selector"] = selector
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": spec,
    }


BASE = [ns("a"), ns("b"), pod("a", "web"), pod("b", "db", {"app": "db"})]
TO_GROUPS = {"toGroups": [{"aws": {"securityGroupsIds": ["sg-0123"]}}]}
GROUPS_LABEL = "unresolved:CiliumNetworkPolicy a/p egress[0] toGroups"


# ------------------------------------------------------------------------------- unresolved allow / deny


def test_to_groups_in_an_allow_is_an_unresolved_foreign_destination() -> None:
    r = analyze([*BASE, egress(TO_GROUPS)])
    assert GROUPS_LABEL in dests(r)
    assert crossing(r)[GROUPS_LABEL] is None  # unknown jurisdiction: foreign
    assert r.query("a/web", GROUPS_LABEL, 443).allowed
    assert not allowed(r, "a/web", "8.8.8.8")  # still nothing else
    assert any("toGroups cannot be resolved" in n for n in r.notes)


def test_to_groups_in_a_deny_matches_nothing() -> None:
    r = analyze([*BASE, egress(TO_GROUPS, {"toEntities": ["world"]}, deny=[TO_GROUPS])])
    assert allowed(r, "a/web", "8.8.8.8")
    assert allowed(r, "a/web", "203.0.113.9")
    assert {d for d in dests(r) if d.startswith("unresolved:")} == {GROUPS_LABEL}  # the deny removes nothing


def test_cluster_network_policy_unknown_peer_field_in_accept_is_unresolved_and_reaches_pods() -> None:
    rule = {"action": "Accept", "to": [{"futurePeer": {"x": 1}}]}
    deny_rest = {"action": "Deny", "to": [{"networks": ["0.0.0.0/0"]}, {"namespaces": {}}]}
    r = run([*BASE, cnp_v1alpha2("c", "Admin", 1, {"namespaces": {}}, egress=[rule, deny_rest])])
    label = "unresolved:ClusterNetworkPolicy c egress[0] (Accept) to[0] futurePeer"
    assert label in dests(r)
    assert allowed(r, "a/web", "b/db")  # the unknown field may select pods: they stay reachable
    assert not allowed(r, "a/web", "8.8.8.8")


def test_anp_unknown_peer_field_next_to_a_known_one_adds_the_unresolved_destination() -> None:
    rule = {"action": "Allow", "to": [{"namespaces": {"matchLabels": {"x": "y"}}, "futurePeer": {}}]}
    r = run([*BASE, anp("x", 1, {"namespaces": {}}, egress=[rule])])
    assert "unresolved:AdminNetworkPolicy x egress[0] (Allow) to[0] futurePeer" in dests(r)


def test_anp_unknown_peer_allow_then_deny_or_pass_keeps_matching_everything() -> None:
    unknown_allow = {"action": "Allow", "to": [{"futurePeer": {}}]}
    deny = anp("x", 1, {"namespaces": {}}, egress=[unknown_allow, {"action": "Deny", "to": [{"futurePeer": {}}]}])
    r = run([*BASE, deny])
    assert allowed(r, "a/web", "b/db")  # the Allow's unknown peer may be the pods: first match
    assert not allowed(r, "a/web", "8.8.8.8")  # the Deny's unknown peer matches everything else
    pass_ = anp("x", 1, {"namespaces": {}}, egress=[unknown_allow, {"action": "Pass", "to": [{"futurePeer": {}}]}])
    base = banp({"namespaces": {}}, egress=[{"action": "Deny", "to": [{"networks": ["0.0.0.0/0"]}]}])
    allow_after = anp("y", 2, {"namespaces": {}}, egress=[{"action": "Allow", "to": [{"networks": ["0.0.0.0/0"]}]}])
    r2 = run([*BASE, pass_, base, allow_after])
    assert allowed(r2, "a/web", "b/db")
    assert not allowed(r2, "a/web", "8.8.8.8")  # passed to the baseline, never reaching the later Allow


def test_anp_unknown_ingress_peer_in_allow_admits_every_pod() -> None:
    protect = anp(
        "in",
        1,
        {"namespaces": {"matchLabels": {"kubernetes.io/metadata.name": "b"}}},
        ingress=[{"action": "Allow", "from": [{"futurePeer": {}}]}, {"action": "Deny", "from": [{"namespaces": {}}]}],
    )
    assert allowed(run([*BASE, protect]), "a/web", "b/db")


def test_cilium_unknown_field_in_allow_is_unresolved_in_deny_denies_nothing() -> None:
    r = analyze([*BASE, egress({"toFutureThing": [{"x": 1}]})])
    assert "unresolved:CiliumNetworkPolicy a/p egress[0] toFutureThing" in dests(r)
    assert allowed(r, "a/web", "b/db")  # an unknown field may name pods
    r2 = analyze([*BASE, egress({"toEntities": ["all"]}, deny=[{"toCIDR": ["8.8.8.0/24"], "toFutureThing": {}}])])
    assert allowed(r2, "a/web", "8.8.8.8")  # the unknown field may narrow the deny: it covers nothing


def test_to_requires_grants_nothing_alone_and_makes_a_deny_match_nothing() -> None:
    requires = {"toRequires": [{"matchLabels": {"env": "prod"}}]}
    r = analyze([*BASE, egress(requires)])
    assert dests(r) == set()
    r2 = analyze([*BASE, egress({**requires, "toPorts": [{"ports": [{"port": "443"}]}]})])
    assert dests(r2) == set()  # like Cilium: toRequires stops the L3 wildcard of a ports-only rule
    r3 = analyze([*BASE, egress({"toEntities": ["all"]}, deny=[{**requires, "toCIDR": ["8.8.8.0/24"]}])])
    assert allowed(r3, "a/web", "8.8.8.8")


# ------------------------------------------------------------------------------------------ CIDR groups


def test_cidr_group_ref_resolves_to_the_group_cidrs() -> None:
    groups = [cidr_group("partners", ["203.0.113.0/25", "2001:db8::/64"]), cidr_group("other", ["192.0.2.0/24"])]
    r = analyze([*BASE, *groups, egress({"toCIDRSet": [{"cidrGroupRef": "partners"}]})])
    assert allowed(r, "a/web", "203.0.113.5") and allowed(r, "a/web", "2001:db8::1")
    assert not allowed(r, "a/web", "203.0.113.200") and not allowed(r, "a/web", "192.0.2.1")
    assert crossing(r) == {"203.0.113.0/25": "cn", "2001:db8::/64": None}


def test_missing_cidr_group_is_unresolved_in_allow_and_nothing_in_deny() -> None:
    r = analyze([*BASE, egress({"toCIDRSet": [{"cidrGroupRef": "nowhere"}]})])
    label = "unresolved:CiliumNetworkPolicy a/p egress[0] toCIDRSet[0] cidrGroupRef=nowhere"
    assert crossing(r) == {label: None}
    r2 = analyze([*BASE, egress({"toEntities": ["world"]}, deny=[{"toCIDRSet": [{"cidrGroupRef": "nowhere"}]}])])
    assert allowed(r2, "a/web", "203.0.113.5") and not any(d.startswith("unresolved:") for d in dests(r2))


def test_cidr_group_in_deny_and_except_is_applied_only_where_it_narrows() -> None:
    group = cidr_group("bad", ["203.0.113.0/24"])
    with_except = {"cidrGroupRef": "bad", "except": ["203.0.113.0/25"]}
    r = analyze([*BASE, group, egress({"toEntities": ["world"]}, deny=[{"toCIDRSet": [with_except]}])])
    assert allowed(r, "a/web", "203.0.113.5")  # deny: group minus except (never more than certain)
    assert not allowed(r, "a/web", "203.0.113.200")
    r2 = analyze([*BASE, group, egress({"toCIDRSet": [with_except]})])
    assert allowed(r2, "a/web", "203.0.113.5")  # allow: except not applied to groups (the wider reading)


def test_cidr_set_entry_must_name_exactly_one_source() -> None:
    with pytest.raises(InputError, match="exactly one of cidr, cidrGroupRef, cidrGroupSelector"):
        analyze([*BASE, egress({"toCIDRSet": [{"cidr": "8.8.8.0/24", "cidrGroupRef": "x"}]})])


GROUP_KEYS = ("env", "team")
GROUP_VALUES = ("a", "b")


@st.composite
def group_cases(draw: Any) -> tuple[list[dict[str, str]], dict[str, Any]]:
    groups = draw(
        st.lists(st.dictionaries(st.sampled_from(GROUP_KEYS), st.sampled_from(GROUP_VALUES)), min_size=0, max_size=4)
    )
    sel: dict[str, Any] = {}
    ml = draw(st.dictionaries(st.sampled_from(GROUP_KEYS), st.sampled_from(GROUP_VALUES), max_size=1))
    if ml:
        sel["matchLabels"] = ml
    if draw(st.booleans()):
        op = draw(st.sampled_from(("In", "NotIn", "Exists", "DoesNotExist")))
        expr: dict[str, Any] = {"key": draw(st.sampled_from(GROUP_KEYS)), "operator": op}
        if op in ("In", "NotIn"):
            expr["values"] = [draw(st.sampled_from(GROUP_VALUES))]
        sel["matchExpressions"] = [expr]
    return groups, sel


def _selects(sel: dict[str, Any], labels: dict[str, str]) -> bool:
    if any(labels.get(k) != v for k, v in sel.get("matchLabels", {}).items()):
        return False
    for e in sel.get("matchExpressions", []):
        k, op, vals = e["key"], e["operator"], e.get("values", [])
        ok = {
            "In": k in labels and labels[k] in vals,
            "NotIn": not (k in labels and labels[k] in vals),
            "Exists": k in labels,
            "DoesNotExist": k not in labels,
        }[op]
        if not ok:
            return False
    return True


@SETTINGS
@given(group_cases(), st.booleans())
def test_cidr_group_selector_selects_groups_by_label(
    case: tuple[list[dict[str, str]], dict[str, Any]], deny: bool
) -> None:
    groups, sel = case
    objs = [cidr_group(f"g{i}", [f"192.0.{i}.0/24"], **labels) for i, labels in enumerate(groups)]
    entry = {"toCIDRSet": [{"cidrGroupSelector": sel}]}
    policy = egress({"toEntities": ["world"]}, deny=[entry]) if deny else egress(entry)
    r = analyze([*BASE, *objs, policy])
    picked = [i for i, labels in enumerate(groups) if _selects(sel, labels)]
    for i in range(len(groups)):
        assert allowed(r, "a/web", f"192.0.{i}.7") == ((i not in picked) if deny else (i in picked)), (i, sel)
    unresolved = {d for d in dests(r) if d.startswith("unresolved:")}
    assert bool(unresolved) == (not deny and not picked)


# ------------------------------------------------------------------------------------------ toServices


SVC_OBJS = [
    service("a", "api", {"tier": "api"}, {"app": "web"}),
    service("b", "db", {"tier": "data"}, {"app": "db"}),
    service("a", "cache", {"tier": "data"}, None),  # selectorless, no EndpointSlice: addresses unknown
]


def test_k8s_service_selector_without_namespace_matches_every_namespace_in_an_allow() -> None:
    sel = {"toServices": [{"k8sServiceSelector": {"selector": {"matchLabels": {"tier": "data"}}}}]}
    r = analyze([*BASE, *SVC_OBJS, egress(sel)])
    assert allowed(r, "a/web", "workload:b/db")  # b/db's backends: Service in another namespace
    assert "unresolved:CiliumNetworkPolicy a/p egress[0] toServices[0] k8sService=a/cache" in dests(r)
    scoped = {"toServices": [{"k8sServiceSelector": {"selector": {"matchLabels": {"tier": "data"}}, "namespace": "a"}}]}
    r2 = analyze([*BASE, *SVC_OBJS, egress(scoped)])
    assert not allowed(r2, "a/web", "workload:b/db")


def test_k8s_service_selector_in_a_deny_without_namespace_covers_the_policy_namespace_only() -> None:
    deny = [{"toServices": [{"k8sServiceSelector": {"selector": {"matchLabels": {"tier": "data"}}}}]}]
    local = [pod("a", "kv", {"app": "kv"}), service("a", "kv", {"tier": "data"}, {"app": "kv"})]
    r = analyze([*BASE, *SVC_OBJS, *local, egress({"toEntities": ["cluster"]}, deny=deny)])
    assert not allowed(r, "a/web", "workload:a/kv")  # the policy's namespace: certainly covered
    assert allowed(r, "a/web", "workload:b/db")  # other namespaces: not certain, so not denied


def test_k8s_service_selector_matching_nothing_is_unresolved() -> None:
    sel = {"toServices": [{"k8sServiceSelector": {"selector": {"matchLabels": {"tier": "none"}}}}]}
    r = analyze([*BASE, *SVC_OBJS, egress(sel)])
    assert crossing(r) == {
        "unresolved:CiliumNetworkPolicy a/p egress[0] toServices[0] k8sServiceSelector=tier=none": None
    }


def test_k8s_service_missing_from_the_input_is_unresolved() -> None:
    ref = {"toServices": [{"k8sService": {"serviceName": "gone", "namespace": "z"}}]}
    r = analyze([*BASE, egress(ref)])
    assert crossing(r) == {"unresolved:CiliumNetworkPolicy a/p egress[0] toServices[0] k8sService=z/gone": None}


def test_selectorless_service_resolves_to_its_endpoint_slice_addresses_else_is_unresolved() -> None:
    eps = {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": "cache-1", "namespace": "a", "labels": {"kubernetes.io/service-name": "cache"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": ["203.0.113.9"]}],
        "ports": [{"port": 443}],
    }
    ref = {"toServices": [{"k8sService": {"serviceName": "cache", "namespace": "a"}},
                          {"k8sService": {"serviceName": "bare", "namespace": "a"}}]}
    bare = service("a", "bare", {}, None)  # no selector, no EndpointSlice: its addresses are unknown
    r = analyze([*BASE, *SVC_OBJS, bare, eps, egress(ref)])
    assert crossing(r) == {
        "203.0.113.9/32": "cn",
        "unresolved:CiliumNetworkPolicy a/p egress[0] toServices[1] k8sService=a/bare": None,
    }


# ---------------------------------------------------------------------------------------------- nodes


def _nodes(sel: dict[str, Any]) -> dict[str, Any]:
    return {"toNodes": [sel]}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ({}, {"nodes:*": "eu"}),
        ({"matchLabels": {"role": "gpu"}}, {"nodes:role=gpu": "eu"}),
        ({"matchLabels": {REGION: "eu-west-1"}}, {f"nodes:{REGION}=eu-west-1": "eu"}),
        ({"matchLabels": {REGION: "cn-north-1"}}, {f"nodes:{REGION}=cn-north-1": "cn"}),
        ({"matchLabels": {REGION: "us-east-1"}}, {f"nodes:{REGION}=us-east-1": None}),  # no jurisdiction
        ({"matchLabels": {REGION: "mars-1"}}, {f"nodes:{REGION}=mars-1": None}),  # no provider knows it
        ({"matchLabels": {REGION: "ap-southeast-1"}}, {f"nodes:{REGION}=ap-southeast-1": None}),  # sg or cn
        (
            {"matchExpressions": [{"key": REGION, "operator": "In", "values": ["cn-north-1", "europe-west1"]}]},
            {f"nodes:{REGION}=cn-north-1": "cn", f"nodes:{REGION}=europe-west1": "eu"},
        ),
        (
            {"matchExpressions": [{"key": REGION, "operator": "NotIn", "values": ["eu-west-1"]}]},
            {f"nodes:{REGION} notin (eu-west-1)": "eu"},  # pins no region: the cluster's nodes
        ),
    ],
)
def test_to_nodes_jurisdiction_follows_the_pinned_region(
    selector: dict[str, Any], expected: dict[str, str | None]
) -> None:
    r = analyze([*BASE, egress(_nodes(selector))])
    assert {d for d in dests(r) if d.startswith("nodes:")} == set(expected)
    assert crossing(r) == {d: j for d, j in expected.items() if j != "eu"}


def test_region_in_and_not_in_together_drop_the_excluded_region() -> None:
    sel = {"matchExpressions": [
        {"key": REGION, "operator": "In", "values": ["cn-north-1", "eu-west-1"]},
        {"key": REGION, "operator": "NotIn", "values": ["cn-north-1"]},
    ]}
    r = analyze([*BASE, egress(_nodes(sel))])
    assert {d for d in dests(r) if d.startswith("nodes:")} == {f"nodes:{REGION}=eu-west-1"}


HOSTNET = [pod("kube-system", "exporter", {"app": "exporter"}, host_network=True)]


def test_node_peer_allow_reaches_host_network_pods_so_relays_through_them_are_found() -> None:
    r = analyze([*BASE, *HOSTNET, egress(_nodes({"matchLabels": {"role": "gpu"}}))])
    assert allowed(r, "a/web", "kube-system/exporter")
    relays = [p for p in r.cross_border() if p.source == "a/web" and p.hops == ("kube-system/exporter",)]
    assert any(p.destination_jurisdiction == "cn" for p in relays)
    assert not allowed(r, "a/web", "8.8.8.8")


@pytest.mark.parametrize("entity", ["host", "remote-node", "kube-apiserver"])
def test_node_entities_reach_host_network_pods_and_stay_in_the_cluster_jurisdiction(entity: str) -> None:
    r = analyze([*BASE, *HOSTNET, egress({"toEntities": [entity]})])
    assert f"entity:{entity}" in dests(r)
    assert allowed(r, "a/web", "kube-system/exporter")
    assert f"entity:{entity}" not in crossing(r)  # the cluster's jurisdiction is the workload's


def test_anp_nodes_peer_allow_and_deny() -> None:
    allow_nodes = anp("n", 1, {"namespaces": {}}, egress=[
        {"action": "Allow", "to": [{"nodes": {"matchLabels": {REGION: "cn-north-1"}}}]},
        {"action": "Deny", "to": [{"namespaces": {}}, {"networks": ["0.0.0.0/0", "::/0"]}]},
    ])
    r = run([*BASE, *HOSTNET, allow_nodes], cni=UPSTREAM, catalog=CAT, jurisdiction="eu")
    assert crossing(r) == {f"nodes:{REGION}=cn-north-1": "cn"}
    assert allowed(r, "a/web", "kube-system/exporter")
    # Deny with a node selector: which nodes the hostNetwork pods run on is unknown, so they stay reachable;
    # with the empty selector (every node) they are certainly covered.
    for sel, reachable in (({"matchLabels": {"role": "gpu"}}, True), ({}, False)):
        deny = anp("d", 1, {"namespaces": {}}, egress=[{"action": "Deny", "to": [{"nodes": sel}]}])
        r2 = run([*BASE, *HOSTNET, deny], cni=UPSTREAM)
        assert allowed(r2, "a/web", "kube-system/exporter") == reachable


def test_cilium_deny_to_nodes_denies_the_same_node_set_only() -> None:
    sel = {"matchLabels": {REGION: "cn-north-1"}}
    r = analyze([*BASE, *HOSTNET, egress(_nodes(sel), deny=[_nodes(sel)])])
    assert f"nodes:{REGION}=cn-north-1" not in dests(r)
    assert allowed(r, "a/web", "kube-system/exporter")  # the exporter may run on another node


def test_from_nodes_admits_host_network_sources() -> None:
    ingress = cilium("b", "in", {"endpointSelector": {}, "ingress": [{"fromNodes": [{}]}]})
    r = analyze([*BASE, *HOSTNET, ingress])
    assert allowed(r, "kube-system/exporter", "b/db")
    assert not allowed(r, "a/web", "b/db")


# ------------------------------------------------------------------------------------------- entities


@pytest.mark.parametrize("entity", ["ingress", "health", "init", "unmanaged", "kube-apiserver"])
def test_in_cluster_entities_are_opaque_destinations_of_the_cluster_jurisdiction(entity: str) -> None:
    foreign_ns = ns("us-team", **{JURISDICTION: "us"})
    objs = [*BASE, foreign_ns, pod("us-team", "web"), egress({"toEntities": [entity]}),
            cilium("us-team", "p", {"endpointSelector": {}, "egress": [{"toEntities": [entity]}]})]
    r = analyze(objs)
    assert f"entity:{entity}" in dests(r)
    assert f"entity:{entity}" not in crossing(r)
    assert crossing(r, "us-team/web") == {f"entity:{entity}": "eu"}  # another jurisdiction's workload


def test_entity_none_selects_nothing_and_cluster_covers_host_network_pods() -> None:
    r = analyze([*BASE, *HOSTNET, egress({"toEntities": ["none"]})])
    assert dests(r) == set()
    r2 = analyze([*BASE, *HOSTNET, egress({"toEntities": ["cluster"]})])
    assert allowed(r2, "a/web", "kube-system/exporter")  # hostNetwork pods are node identities: in ``cluster``
    r3 = analyze([*BASE, *HOSTNET, egress({"toEntities": ["all"]}, deny=[{"toEntities": ["cluster"]}])])
    assert not allowed(r3, "a/web", "kube-system/exporter")
    both = analyze([*BASE, egress({"toEntities": ["kube-apiserver", "health"]}, deny=[{"toEntities": ["cluster"]}])])
    assert dests(both) == {"entity:kube-apiserver"}  # cluster certainly holds health, maybe the apiserver


# --------------------------------------------------------------------------------------- determinism


OPAQUE_RULES = [
    TO_GROUPS,
    {"toCIDRSet": [{"cidrGroupRef": "g0"}, {"cidrGroupRef": "nope"}]},
    {"toNodes": [{"matchExpressions": [{"key": REGION, "operator": "In", "values": ["cn-north-1", "mars-1"]}]}]},
    {"toEntities": ["kube-apiserver", "host"]},
    {"toServices": [{"k8sService": {"serviceName": "gone", "namespace": "z"}}]},
    {"toFQDNs": [{"matchName": "example.cn"}], "toPorts": [{"ports": [{"port": "443"}]}]},
]


@SETTINGS
@given(
    st.lists(st.sampled_from(range(len(OPAQUE_RULES))), min_size=1, max_size=4, unique=True),
    st.randoms(use_true_random=False),
)
def test_opaque_destinations_are_deterministic_and_query_agrees_with_reach(picked: list[int], rnd: Any) -> None:
    objs: list[dict[str, Any]] = [*BASE, *HOSTNET, cidr_group("g0", ["192.0.2.0/24"]),
                                  egress(*(OPAQUE_RULES[i] for i in picked))]
    shuffled = list(objs)
    rnd.shuffle(shuffled)
    a, b = analyze(objs), analyze(shuffled)
    assert json.dumps(a.to_json(), sort_keys=True) == json.dumps(b.to_json(), sort_keys=True)
    reach = a.reach("a/web")
    assert reach == sorted(reach, key=lambda x: (x.destination, x.protocol, x.ports, x.rules))
    opaque = {x.destination for x in reach if x.destination.startswith(("unresolved:", "nodes:", "entity:"))}
    assert bool(opaque) == any(i != len(OPAQUE_RULES) - 1 for i in picked)
    for x in reach:
        if x.destination.startswith(("unresolved:", "nodes:", "entity:")):
            for proto in ("TCP", "UDP"):
                expected = any(y.destination == x.destination and y.protocol == proto for y in reach)
                assert a.query("a/web", x.destination, 443, proto).allowed == expected


def test_destination_jurisdictions_places_every_kind_of_destination() -> None:
    """The one placement the diff (and every other reader of ``reach``) asks: opaque, FQDN, workload, ranges."""
    wide = {"toCIDR": ["198.51.100.0/23"]}  # the eu network and the next /24 (nobody's)
    r = analyze([*BASE, egress(TO_GROUPS, wide, {"toEndpoints": [{"matchLabels": {
        "app": "db", "k8s:io.kubernetes.pod.namespace": "b"}}]})])
    assert r.destination_jurisdictions(GROUPS_LABEL) == (None,)
    assert r.destination_jurisdictions("b/db") == ("eu",)
    assert r.destination_jurisdictions("198.51.100.0/23") == ("eu", None)
    assert r.destination_jurisdictions("203.0.113.0/24") == ("cn",)
    with pytest.raises(ValueError, match="not a reach destination"):
        r.destination_jurisdictions("no such thing")
