"""Hand-written cases for Kubernetes NetworkPolicy semantics (one test per rule of upstream behaviour)."""

from __future__ import annotations

import pytest

from sovereign.connectivity import CniParams
from sovereign.core.errors import InputError
from sovereign.stackconfig.model import PolicyApi
from tests.connectivity.builders import UPSTREAM, allowed, deployment, netpol, ns, pod, run

BASE = [ns("a", team="red"), ns("b", team="blue"), pod("a", "web"), pod("a", "db"), pod("b", "api")]


def test_no_policy_means_default_allow_with_a_default_rule_in_the_chain() -> None:
    r = run(BASE)
    ans = r.query("a/web", "b/api", 80, "TCP")
    assert ans.allowed
    assert [x.kind for x in ans.rules] == ["default", "default"]
    assert allowed(r, "a/web", "8.8.8.8", 443)


def test_empty_egress_list_without_policy_types_is_ingress_only() -> None:
    r = run([*BASE, netpol("a", "p", {"podSelector": {}, "egress": []})])
    assert allowed(r, "a/web", "b/api")  # egress not restricted
    assert allowed(r, "a/web", "1.1.1.1")
    assert not allowed(r, "b/api", "a/web")  # ingress isolated, no ingress rules


def test_egress_in_policy_types_with_no_rules_denies_all_egress() -> None:
    r = run([*BASE, netpol("a", "p", {"podSelector": {}, "policyTypes": ["Egress"]})])
    assert not allowed(r, "a/web", "b/api")
    assert not allowed(r, "a/web", "1.1.1.1")
    assert allowed(r, "b/api", "a/web")  # ingress untouched
    ans = r.query("a/web", "1.1.1.1", 443, "TCP")
    assert "isolates" in ans.reason


def test_single_empty_egress_rule_allows_everything() -> None:
    r = run([*BASE, netpol("a", "p", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{}]})])
    assert allowed(r, "a/web", "b/api", 5)
    assert allowed(r, "a/web", "2001:db8::1", 443)


def test_egress_rules_are_ignored_when_policy_types_lacks_egress() -> None:
    spec = {"podSelector": {}, "policyTypes": ["Ingress"], "egress": [{"ports": [{"port": 1}]}]}
    r = run([*BASE, netpol("a", "p", spec)])
    assert allowed(r, "a/web", "b/api", 80)


def test_rule_with_only_ports_reaches_every_destination_including_internet() -> None:
    spec = {
        "podSelector": {"matchLabels": {"app": "web"}},
        "policyTypes": ["Egress"],
        "egress": [{"ports": [{"port": 443}]}],
    }
    r = run([*BASE, netpol("a", "p", spec)])
    assert allowed(r, "a/web", "9.9.9.9", 443)
    assert allowed(r, "a/web", "b/api", 443)
    assert not allowed(r, "a/web", "b/api", 80)


def test_rule_with_only_to_allows_every_port() -> None:
    spec = {
        "podSelector": {"matchLabels": {"app": "web"}},
        "policyTypes": ["Egress"],
        "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"team": "blue"}}}]}],
    }
    r = run([*BASE, netpol("a", "p", spec)])
    assert allowed(r, "a/web", "b/api", 1)
    assert allowed(r, "a/web", "b/api", 65535, "UDP")
    assert not allowed(r, "a/web", "a/db")


def test_pod_selector_alone_means_the_policy_namespace() -> None:
    spec = {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"to": [{"podSelector": {}}]}]}
    r = run([*BASE, netpol("a", "p", spec)])
    assert allowed(r, "a/web", "a/db")
    assert not allowed(r, "a/web", "b/api")


def test_empty_namespace_selector_matches_all_namespaces() -> None:
    spec = {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"to": [{"namespaceSelector": {}}]}]}
    r = run([*BASE, netpol("a", "p", spec)])
    assert allowed(r, "a/web", "b/api")
    assert not allowed(r, "a/web", "1.1.1.1")  # all pods, not the Internet


def test_and_versus_or_peers() -> None:
    target = [pod("b", "api", {"app": "api"}), pod("b", "other", {"app": "db"})]
    objs = [ns("a"), ns("b", team="blue"), pod("a", "web"), pod("a", "db", {"app": "db"}), *target[1:]]
    and_spec = {
        "podSelector": {"matchLabels": {"app": "web"}},
        "policyTypes": ["Egress"],
        "egress": [
            {
                "to": [
                    {
                        "namespaceSelector": {"matchLabels": {"team": "blue"}},
                        "podSelector": {"matchLabels": {"app": "db"}},
                    }
                ]
            }
        ],
    }
    or_spec = {
        "podSelector": {"matchLabels": {"app": "web"}},
        "policyTypes": ["Egress"],
        "egress": [
            {
                "to": [
                    {"namespaceSelector": {"matchLabels": {"team": "blue"}}},
                    {"podSelector": {"matchLabels": {"app": "db"}}},
                ]
            }
        ],
    }
    r_and = run([*objs, netpol("a", "p", and_spec)])
    r_or = run([*objs, netpol("a", "p", or_spec)])
    assert allowed(r_and, "a/web", "b/other")
    assert not allowed(r_and, "a/web", "a/db")  # AND: db must also be in a blue namespace
    assert allowed(r_or, "a/web", "b/other")
    assert allowed(r_or, "a/web", "a/db")  # OR: podSelector alone matches db in the policy namespace


def test_metadata_name_label_is_synthesised_for_namespaces() -> None:
    spec = {
        "podSelector": {},
        "policyTypes": ["Egress"],
        "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "b"}}}]}],
    }
    # namespace b exists only implicitly (no Namespace object): the label must still be there
    objs = [ns("a"), pod("a", "web"), pod("b", "api"), netpol("a", "p", spec)]
    r = run(objs)
    assert allowed(r, "a/web", "b/api")


def test_ipblock_except_carves_out_addresses() -> None:
    spec = {
        "podSelector": {},
        "policyTypes": ["Egress"],
        "egress": [{"to": [{"ipBlock": {"cidr": "203.0.113.0/24", "except": ["203.0.113.128/25"]}}]}],
    }
    r = run([*BASE, netpol("a", "p", spec)])
    assert allowed(r, "a/web", "203.0.113.5", 443)
    assert not allowed(r, "a/web", "203.0.113.200", 443)
    assert not allowed(r, "a/web", "198.51.100.1", 443)


def test_ipblock_except_outside_cidr_is_bad_input() -> None:
    spec = {
        "podSelector": {},
        "policyTypes": ["Egress"],
        "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/16", "except": ["10.1.0.0/24"]}}]}],
    }
    with pytest.raises(InputError) as exc:
        run([*BASE, netpol("a", "p", spec)])
    assert "except" in exc.value.message


def test_ipv6_ipblock() -> None:
    spec = {
        "podSelector": {},
        "policyTypes": ["Egress"],
        "egress": [{"to": [{"ipBlock": {"cidr": "2001:db8::/64"}}]}],
    }
    r = run([*BASE, netpol("a", "p", spec)])
    assert allowed(r, "a/web", "2001:db8::99", 443)
    assert not allowed(r, "a/web", "2001:db9::1", 443)
    assert not allowed(r, "a/web", "10.0.0.1", 443)


@pytest.mark.parametrize("matches", [True, False])
def test_ipblock_matching_pod_ips_is_a_cni_parameter(matches: bool) -> None:
    objs = [
        ns("a"),
        pod("a", "web"),
        pod("a", "db", ip="10.244.1.7"),
        netpol(
            "a",
            "p",
            {
                "podSelector": {"matchLabels": {"app": "web"}},
                "policyTypes": ["Egress"],
                "egress": [{"to": [{"ipBlock": {"cidr": "10.244.0.0/16"}}]}],
            },
        ),
    ]
    cni = CniParams(frozenset(PolicyApi), matches, True, True, False)
    r = run(objs, cni=cni)
    assert allowed(r, "a/web", "a/db") is matches
    assert allowed(r, "a/web", "10.244.1.7") is matches  # the IP of db is db
    assert allowed(r, "a/web", "10.244.9.9")  # an address in the block that is no pod


def test_named_port_resolves_on_the_destination_for_egress() -> None:
    objs = [
        ns("a"),
        pod("a", "web"),
        pod("a", "db", ports=[{"containerPort": 5432, "name": "pg"}]),
        pod("a", "cache", ports=[{"containerPort": 6379, "name": "pg"}]),
        netpol(
            "a",
            "p",
            {
                "podSelector": {"matchLabels": {"app": "web"}},
                "policyTypes": ["Egress"],
                "egress": [{"ports": [{"port": "pg"}]}],
            },
        ),
    ]
    r = run(objs)
    assert allowed(r, "a/web", "a/db", 5432)
    assert not allowed(r, "a/web", "a/db", 6379)
    assert allowed(r, "a/web", "a/cache", 6379)
    assert not allowed(r, "a/web", "1.1.1.1", 5432)  # a named port never matches an address


def test_named_port_is_per_protocol_and_unknown_name_allows_nothing() -> None:
    objs = [
        ns("a"),
        pod("a", "web"),
        pod(
            "a",
            "dns",
            ports=[
                {"containerPort": 53, "name": "dns", "protocol": "UDP"},
                {"containerPort": 5353, "name": "dns", "protocol": "TCP"},
            ],
        ),
        netpol(
            "a",
            "p",
            {
                "podSelector": {"matchLabels": {"app": "dns"}},
                "ingress": [{"ports": [{"port": "dns", "protocol": "UDP"}, {"port": "nope"}]}],
            },
        ),
    ]
    r = run(objs)
    assert allowed(r, "a/web", "a/dns", 53, "UDP")
    assert not allowed(r, "a/web", "a/dns", 5353, "TCP")
    assert not allowed(r, "a/web", "a/dns", 53, "TCP")


def test_end_port_and_cni_without_end_port() -> None:
    spec = {
        "podSelector": {},
        "policyTypes": ["Egress"],
        "egress": [{"ports": [{"port": 1000, "endPort": 2000}]}],
    }
    objs = [*BASE, netpol("a", "p", spec)]
    assert allowed(run(objs), "a/web", "1.1.1.1", 1500)
    no_end = CniParams(frozenset(PolicyApi), True, False, True, False)
    r = run(objs, cni=no_end)
    assert allowed(r, "a/web", "1.1.1.1", 1000)
    assert not allowed(r, "a/web", "1.1.1.1", 1500)


def test_end_port_needs_a_numeric_port() -> None:
    spec = {
        "podSelector": {},
        "policyTypes": ["Egress"],
        "egress": [{"ports": [{"port": "http", "endPort": 90}]}],
    }
    with pytest.raises(InputError):
        run([*BASE, netpol("a", "p", spec)])


def test_protocol_defaults_to_tcp_and_protocol_only_entry_means_all_ports() -> None:
    spec = {
        "podSelector": {},
        "policyTypes": ["Egress"],
        "egress": [{"ports": [{"port": 53}]}, {"ports": [{"protocol": "UDP"}]}],
    }
    r = run([*BASE, netpol("a", "p", spec)])
    assert allowed(r, "a/web", "1.1.1.1", 53, "TCP")
    assert allowed(r, "a/web", "1.1.1.1", 12345, "UDP")
    assert not allowed(r, "a/web", "1.1.1.1", 54, "TCP")


def test_sctp_rules_never_admit_tcp_and_need_cni_support() -> None:
    spec = {
        "podSelector": {},
        "policyTypes": ["Egress"],
        "egress": [{"ports": [{"port": 9000, "protocol": "SCTP"}]}],
    }
    objs = [*BASE, netpol("a", "p", spec)]
    r = run(objs)
    assert allowed(r, "a/web", "1.1.1.1", 9000, "SCTP")
    assert not allowed(r, "a/web", "1.1.1.1", 9000, "TCP")
    no_sctp = CniParams(frozenset(PolicyApi), True, True, False, False)
    assert not allowed(run(objs, cni=no_sctp), "a/web", "1.1.1.1", 9000, "SCTP")


def test_connection_needs_source_egress_and_destination_ingress() -> None:
    egress = {
        "podSelector": {"matchLabels": {"app": "web"}},
        "policyTypes": ["Egress"],
        "egress": [{"to": [{"podSelector": {"matchLabels": {"app": "db"}}}]}],
    }
    ingress = {
        "podSelector": {"matchLabels": {"app": "db"}},
        "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}], "ports": [{"port": 5432}]}],
    }
    r = run([*BASE, netpol("a", "e", egress), netpol("a", "i", ingress)])
    ans = r.query("a/web", "a/db", 5432, "TCP")
    assert ans.allowed
    assert [str(x) for x in ans.rules] == ["NetworkPolicy a/e egress[0]", "NetworkPolicy a/i ingress[0]"]
    denied = r.query("a/web", "a/db", 80, "TCP")
    assert not denied.allowed
    assert any(x.name == "i" for x in denied.rules)


def test_union_of_policies_selecting_the_same_pod() -> None:
    p1 = {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"ports": [{"port": 80}]}]}
    p2 = {
        "podSelector": {"matchLabels": {"app": "web"}},
        "policyTypes": ["Egress"],
        "egress": [{"ports": [{"port": 443}]}],
    }
    r = run([*BASE, netpol("a", "p1", p1), netpol("a", "p2", p2)])
    assert allowed(r, "a/web", "1.1.1.1", 80) and allowed(r, "a/web", "1.1.1.1", 443)
    assert not allowed(r, "a/db", "1.1.1.1", 443)


def test_host_network_pods_are_not_selected_unless_the_cni_says_so() -> None:
    objs = [
        ns("a"),
        pod("a", "agent", host_network=True),
        pod("a", "web"),
        netpol("a", "deny", {"podSelector": {}, "policyTypes": ["Egress"]}),
    ]
    assert allowed(run(objs), "a/agent", "1.1.1.1", 443)
    assert not allowed(run(objs), "a/web", "1.1.1.1", 443)
    selected = CniParams(frozenset(PolicyApi), True, True, True, True)
    assert not allowed(run(objs, cni=selected), "a/agent", "1.1.1.1", 443)


def test_workload_pod_template_labels_are_what_policies_select() -> None:
    objs = [
        ns("a"),
        deployment("a", "api", {"app": "api"}, replicas=5),
        pod("a", "web"),
        netpol("a", "p", {"podSelector": {"matchLabels": {"owner": "me"}}, "policyTypes": ["Egress"]}),
    ]
    r = run(objs)  # "owner" is on the Deployment's own metadata, not on its pods
    assert allowed(r, "a/api", "1.1.1.1", 443)
    assert r.class_count == 2


def test_replicas_are_one_class() -> None:
    objs = [ns("a"), *(deployment("a", f"d{i}", {"app": "same"}, replicas=10) for i in range(3))]
    r = run(objs)
    assert r.class_count == 1
    assert r.workloads == ("a/d0", "a/d1", "a/d2")


def test_policy_kind_not_enforced_is_ignored_and_reported() -> None:
    objs = [*BASE, netpol("a", "p", {"podSelector": {}, "policyTypes": ["Egress"]})]
    cni = CniParams(frozenset({PolicyApi.CILIUM}), False, True, True, False)
    r = run(objs, cni=cni)
    assert allowed(r, "a/web", "1.1.1.1")
    assert [(p.kind, p.namespace, p.name) for p in r.ignored_policies] == [("NetworkPolicy", "a", "p")]


def test_reach_lists_destinations_with_ports_and_chains() -> None:
    spec = {
        "podSelector": {"matchLabels": {"app": "web"}},
        "policyTypes": ["Egress"],
        "egress": [
            {"to": [{"podSelector": {"matchLabels": {"app": "db"}}}], "ports": [{"port": 5432}]},
            {"to": [{"ipBlock": {"cidr": "203.0.113.0/24"}}], "ports": [{"port": 443, "endPort": 444}]},
        ],
    }
    r = run([*BASE, netpol("a", "p", spec)])
    got = [(x.destination, x.protocol, x.ports, tuple(str(y) for y in x.rules)) for x in r.reach("a/web")]
    assert got == [
        ("203.0.113.0/24", "TCP", ((443, 444),), ("NetworkPolicy a/p egress[1]",)),
        (
            "a/db",
            "TCP",
            ((5432, 5432),),
            ("NetworkPolicy a/p egress[0]", "default: allow (no policy decides)"),
        ),
    ]


def test_upstream_params_enforce_everything() -> None:
    assert UPSTREAM.enforces == frozenset(PolicyApi)


def test_exists_and_does_not_exist_span_the_selected_namespaces() -> None:
    objs = [ns("a"), ns("b"), pod("a", "web"), pod("b", "tagged", {"app": "x"}), pod("b", "bare", {"w": "1"})]
    for op, reachable, unreachable in (("Exists", "b/tagged", "b/bare"), ("DoesNotExist", "b/bare", "b/tagged")):
        spec = {
            "podSelector": {"matchLabels": {"app": "web"}},
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [
                        {"namespaceSelector": {}, "podSelector": {"matchExpressions": [{"key": "app", "operator": op}]}}
                    ]
                }
            ],
        }
        r = run([*objs, netpol("a", "p", spec)])
        assert allowed(r, "a/web", reachable), op
        assert not allowed(r, "a/web", unreachable), op
