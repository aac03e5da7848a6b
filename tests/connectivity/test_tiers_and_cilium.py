"""Hand-written cases for the tier order (ANP, NetworkPolicy, BANP, default), ClusterNetworkPolicy v1alpha2
and Cilium (default deny per direction, egressDeny precedence, entities, FQDNs, selectors)."""

from __future__ import annotations

from sovereign.connectivity import CniParams
from sovereign.stackconfig.model import PolicyApi
from tests.connectivity.builders import (
    CILIUM,
    allowed,
    anp,
    banp,
    cilium,
    cnp_v1alpha2,
    netpol,
    ns,
    pod,
    run,
)

BASE = [
    ns("a", team="red"),
    ns("b", team="blue"),
    pod("a", "web"),
    pod("a", "db"),
    pod("b", "api", ip="10.0.5.5"),
]
ALL_NS = {"namespaces": {}}
WEB = {"pods": {"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "web"}}}}
NP_ALLOW_ALL_EGRESS = netpol("a", "np", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{}]})
NP_DENY_EGRESS = netpol("a", "np", {"podSelector": {}, "policyTypes": ["Egress"]})


def to_ns(team: str) -> list[dict[str, object]]:
    return [{"namespaces": {"matchLabels": {"team": team}}}]


def test_admin_deny_beats_networkpolicy_allow() -> None:
    r = run(
        [
            *BASE,
            NP_ALLOW_ALL_EGRESS,
            anp("deny-blue", 10, ALL_NS, egress=[{"action": "Deny", "to": to_ns("blue")}]),
        ]
    )
    ans = r.query("a/web", "b/api", 80, "TCP")
    assert not ans.allowed
    assert ans.rules[0].kind == "AdminNetworkPolicy"
    assert allowed(r, "a/web", "a/db")


def test_admin_allow_beats_networkpolicy_isolation() -> None:
    r = run([*BASE, NP_DENY_EGRESS, anp("allow-blue", 10, WEB, egress=[{"action": "Allow", "to": to_ns("blue")}])])
    assert allowed(r, "a/web", "b/api")
    assert not allowed(r, "a/db", "b/api")


def test_lower_priority_number_wins_and_first_rule_matches_first() -> None:
    deny = anp("deny", 20, ALL_NS, egress=[{"action": "Deny", "to": to_ns("blue")}])
    allow = anp(
        "allow",
        10,
        ALL_NS,
        egress=[
            {"action": "Allow", "to": to_ns("blue"), "ports": [{"portNumber": {"port": 80}}]},
            {"action": "Deny", "to": to_ns("blue")},
        ],
    )
    r = run([*BASE, deny, allow])
    assert allowed(r, "a/web", "b/api", 80)
    ans = r.query("a/web", "b/api", 81, "TCP")
    assert not ans.allowed and ans.rules[0].name == "allow" and "egress[1]" in ans.rules[0].rule


def test_pass_delegates_to_networkpolicy_then_baseline() -> None:
    pass_blue = anp("pass", 5, ALL_NS, egress=[{"action": "Pass", "to": to_ns("blue")}])
    deny_blue = anp("deny", 50, ALL_NS, egress=[{"action": "Deny", "to": to_ns("blue")}])
    baseline = banp(ALL_NS, egress=[{"action": "Deny", "to": to_ns("blue")}])
    # no NP selects a/web: Pass -> baseline deny
    r = run([*BASE, pass_blue, deny_blue, baseline])
    ans = r.query("a/web", "b/api", 80, "TCP")
    assert not ans.allowed and [x.kind for x in ans.rules] == [
        "AdminNetworkPolicy",
        "BaselineAdminNetworkPolicy",
    ]
    # an NP selects a/web: Pass -> NP decides (allow), baseline not consulted
    r2 = run([*BASE, pass_blue, deny_blue, baseline, NP_ALLOW_ALL_EGRESS])
    ans2 = r2.query("a/web", "b/api", 80, "TCP")
    assert ans2.allowed and [x.kind for x in ans2.rules[:2]] == ["AdminNetworkPolicy", "NetworkPolicy"]


def test_baseline_applies_only_without_networkpolicy() -> None:
    baseline = banp(ALL_NS, egress=[{"action": "Deny", "to": [{"networks": ["0.0.0.0/0"]}]}])
    r = run([*BASE, baseline])
    assert not allowed(r, "a/web", "8.8.8.8")
    assert not allowed(r, "a/web", "b/api")  # networks also match pod IPs (b/api has 10.0.5.5)
    assert allowed(r, "a/web", "a/db")  # no IP known for a/db
    r2 = run([*BASE, baseline, NP_ALLOW_ALL_EGRESS])
    assert allowed(r2, "a/web", "8.8.8.8")


def test_admin_ingress_rules_apply_at_the_destination() -> None:
    deny_in = anp(
        "protect-blue",
        1,
        {"namespaces": {"matchLabels": {"team": "blue"}}},
        ingress=[{"action": "Deny", "from": [{"namespaces": {"matchLabels": {"team": "red"}}}]}],
    )
    r = run([*BASE, deny_in])
    assert not allowed(r, "a/web", "b/api")
    assert allowed(r, "b/api", "a/web")


def test_admin_policy_ignores_host_network_pods() -> None:
    objs = [
        ns("a"),
        pod("a", "agent", host_network=True),
        anp("deny", 1, ALL_NS, egress=[{"action": "Deny", "to": [{"networks": ["0.0.0.0/0"]}]}]),
    ]
    assert allowed(run(objs), "a/agent", "8.8.8.8")


def test_cluster_network_policy_v1alpha2_tiers_and_protocols() -> None:
    admin = cnp_v1alpha2(
        "admin",
        "Admin",
        1,
        ALL_NS,
        egress=[
            {
                "action": "Accept",
                "to": to_ns("blue"),
                "protocols": [{"tcp": {"destinationPort": {"number": 443}}}],
            },
            {
                "action": "Deny",
                "to": to_ns("blue"),
                "protocols": [{"udp": {"destinationPort": {"range": {"start": 1, "end": 100}}}}],
            },
        ],
    )
    base = cnp_v1alpha2("base", "Baseline", 1, ALL_NS, egress=[{"action": "Deny", "to": to_ns("blue")}])
    r = run([*BASE, admin, base, NP_DENY_EGRESS])
    assert allowed(r, "a/web", "b/api", 443)  # Admin Accept beats NP isolation
    assert not allowed(r, "a/web", "b/api", 53, "UDP")
    r2 = run([*BASE, admin, base])
    assert not allowed(r2, "a/web", "b/api", 80)  # baseline deny
    assert allowed(r2, "a/web", "a/db", 80)


def test_cluster_network_policy_domain_names_are_fqdn_destinations() -> None:
    admin = cnp_v1alpha2(
        "dns",
        "Admin",
        1,
        ALL_NS,
        egress=[
            {"action": "Accept", "to": [{"domainNames": ["*.example.eu"]}]},
            {"action": "Deny", "to": [{"networks": ["0.0.0.0/0"]}]},
        ],
    )
    r = run([*BASE, admin])
    dests = {x.destination for x in r.reach("a/web")}
    assert "fqdn:*.example.eu" in dests
    assert not allowed(r, "a/web", "8.8.8.8")


def test_anp_not_enforced_on_cilium_is_reported() -> None:
    r = run([*BASE, anp("x", 1, ALL_NS, egress=[{"action": "Deny", "to": to_ns("blue")}])], cni=CILIUM)
    assert allowed(r, "a/web", "b/api")
    assert r.ignored_policies[0].kind == "AdminNetworkPolicy"
    assert "does not enforce" in r.ignored_policies[0].reason


# ----------------------------------------------------------------------------------------------- Cilium


def test_cilium_empty_egress_rule_isolates_and_allows_nothing() -> None:
    r = run([*BASE, cilium("a", "dd", {"endpointSelector": {}, "egress": [{}]})], cni=CILIUM)
    assert not allowed(r, "a/web", "a/db")
    assert not allowed(r, "a/web", "8.8.8.8")
    assert allowed(r, "b/api", "a/web")  # ingress section absent: not restricted


def test_cilium_omitted_or_empty_egress_does_not_apply() -> None:
    r = run([*BASE, cilium("a", "x", {"endpointSelector": {}, "egress": [], "ingress": [{}]})], cni=CILIUM)
    assert allowed(r, "a/web", "8.8.8.8")
    assert not allowed(r, "b/api", "a/web")


def test_cilium_to_entities_world_is_outside_the_cluster_only() -> None:
    spec = {"endpointSelector": {"matchLabels": {"app": "web"}}, "egress": [{"toEntities": ["world"]}]}
    r = run(
        [*BASE, cilium("a", "w", spec)],
        cni=CILIUM,
        cluster_cidrs=[__import__("ipaddress").ip_network("10.0.0.0/16")],
    )
    assert allowed(r, "a/web", "8.8.8.8")
    assert allowed(r, "a/web", "2001:db8::1")
    assert not allowed(r, "a/web", "a/db")
    assert not allowed(r, "a/web", "10.0.9.9")  # inside the cluster CIDR: not world


def test_cilium_egress_deny_beats_every_allow() -> None:
    allow = cilium("a", "allow", {"endpointSelector": {}, "egress": [{"toEntities": ["all"]}]})
    deny = cilium(None, "deny", {"endpointSelector": {}, "egressDeny": [{"toCIDR": ["8.8.8.0/24"]}]})
    k8s_allow = NP_ALLOW_ALL_EGRESS
    r = run([*BASE, allow, deny, k8s_allow], cni=CILIUM)
    ans = r.query("a/web", "8.8.8.8", 53, "UDP")
    assert not ans.allowed and ans.rules[0].kind == "CiliumClusterwideNetworkPolicy"
    assert allowed(r, "a/web", "9.9.9.9", 53, "UDP")


def test_cilium_to_endpoints_is_confined_to_the_policy_namespace_unless_it_names_one() -> None:
    own = cilium("a", "own", {"endpointSelector": {"matchLabels": {"app": "web"}}, "egress": [{"toEndpoints": [{}]}]})
    r = run([*BASE, own], cni=CILIUM)
    assert allowed(r, "a/web", "a/db")
    assert not allowed(r, "a/web", "b/api")
    named = cilium(
        "a",
        "named",
        {
            "endpointSelector": {"matchLabels": {"app": "web"}},
            "egress": [{"toEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": "b"}}]}],
        },
    )
    r2 = run([*BASE, named], cni=CILIUM)
    assert allowed(r2, "a/web", "b/api")
    assert not allowed(r2, "a/web", "a/db")


def test_cilium_namespace_label_selector_and_ports_only_rule() -> None:
    spec = {
        "endpointSelector": {},
        "egress": [
            {
                "toEndpoints": [
                    {
                        "matchLabels": {
                            "io.cilium.k8s.namespace.labels.team": "blue",
                            "io.kubernetes.pod.namespace": "b",
                        }
                    }
                ],
                "toPorts": [{"ports": [{"port": "8080", "protocol": "TCP"}]}],
            },
            {"toPorts": [{"ports": [{"port": "53", "protocol": "ANY"}]}]},
        ],
    }
    r = run([*BASE, cilium("a", "p", spec)], cni=CILIUM)
    assert allowed(r, "a/web", "b/api", 8080)
    assert not allowed(r, "a/web", "b/api", 80)
    assert allowed(r, "a/web", "8.8.8.8", 53, "UDP")  # ports-only rule: every destination
    assert allowed(r, "a/web", "8.8.8.8", 53, "TCP")


def test_cilium_to_cidr_does_not_match_pods() -> None:
    spec = {
        "endpointSelector": {},
        "egress": [{"toCIDRSet": [{"cidr": "10.0.0.0/8", "except": ["10.9.0.0/16"]}]}],
    }
    r = run([*BASE, cilium("a", "p", spec)], cni=CILIUM)
    assert not allowed(r, "a/web", "b/api")  # b/api has 10.0.5.5, but it is a Cilium endpoint
    assert allowed(r, "a/web", "10.1.1.1")
    assert not allowed(r, "a/web", "10.9.1.1")


def test_cilium_enable_default_deny_false_does_not_isolate() -> None:
    spec = {
        "endpointSelector": {},
        "enableDefaultDeny": {"egress": False},
        "egress": [{"toEntities": ["cluster"]}],
    }
    r = run([*BASE, cilium("a", "p", spec)], cni=CILIUM)
    assert allowed(r, "a/web", "8.8.8.8")


def test_cilium_fqdn_is_a_destination() -> None:
    spec = {"endpointSelector": {}, "egress": [{"toFQDNs": [{"matchPattern": "*.example.com"}]}]}
    r = run([*BASE, cilium("a", "p", spec)], cni=CILIUM)
    assert any(x.destination == "fqdn:*.example.com" for x in r.reach("a/web"))
    assert not allowed(r, "a/web", "8.8.8.8")


def test_cilium_not_enforced_without_the_api() -> None:
    cni = CniParams(frozenset({PolicyApi.NETWORK_POLICY}), True, True, True, False)
    r = run([*BASE, cilium("a", "dd", {"endpointSelector": {}, "egress": [{}]})], cni=cni)
    assert allowed(r, "a/web", "8.8.8.8")
    assert r.ignored_policies[0].kind == "CiliumNetworkPolicy"


def test_cilium_host_policy_is_reported_not_modelled() -> None:
    host = cilium(None, "host", {"nodeSelector": {}, "ingress": [{}]})
    r = run([*BASE, host], cni=CILIUM)
    assert r.ignored_policies[0].name == "host"
    assert "host" in r.ignored_policies[0].reason


def test_all_apis_enforced() -> None:
    assert CniParams.upstream().enforces == frozenset(PolicyApi)
