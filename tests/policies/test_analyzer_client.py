"""The analyzer client: resource shapes, config reconciliation as the CLI does it, and the pack's metadata."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from residency_testkit import EVALUATION_AT, PACK_DIR, PackPool

from policies.framework.guard import COMPANIONS
from policies.framework.samples import base_stack_config
from policies.pack import load_rules
from sovereign.analyzer.client import PolicyPackProcess, pack_python, stack_config_env
from sovereign.analyzer.config import effective_policy_config
from sovereign.analyzer.model import AnalyzerInfo, PolicyInfo
from sovereign.analyzer.resource import resource_from_manifest, type_token, urn_for
from sovereign.analyzer.session import AnalyzerError
from sovereign.core.errors import InputError

WORLD_POLICY = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "NetworkPolicy",
    "metadata": {"name": "open", "namespace": "labelling"},
    "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}]},
}


def test_type_tokens_and_urns() -> None:
    assert type_token("v1", "Namespace") == "kubernetes:core/v1:Namespace"
    assert type_token("apps/v1", "Deployment") == "kubernetes:apps/v1:Deployment"
    assert type_token("networking.k8s.io/v1", "NetworkPolicy") == "kubernetes:networking.k8s.io/v1:NetworkPolicy"
    assert urn_for("cn-prod", "kubernetes:core/v1:Pod", "ns/p") == (
        "urn:pulumi:cn-prod::sovereign-clusters::kubernetes:core/v1:Pod::ns/p")
    res = resource_from_manifest(WORLD_POLICY, stack="cn-prod")
    assert res.name == "labelling/open"
    assert res.urn == (
        "urn:pulumi:cn-prod::sovereign-clusters::kubernetes:networking.k8s.io/v1:NetworkPolicy::labelling/open")
    assert res.props is WORLD_POLICY
    cluster_scoped = resource_from_manifest({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}},
                                           stack="s")
    assert cluster_scoped.name == "x"
    with pytest.raises(ValueError):
        resource_from_manifest({"kind": "Pod"}, stack="s")


def test_pulumi_config_env_is_strings_or_json_text() -> None:
    env = json.loads(stack_config_env({"sovereign-clusters:jurisdiction": "cn",
                                       "sovereign-clusters:cluster": {"provider": "aws-cn", "regions": ["a"]}}))
    assert env == {"sovereign-clusters:cluster": '{"provider":"aws-cn","regions":["a"]}',
                   "sovereign-clusters:jurisdiction": "cn"}


def test_pulumi_config_text_is_what_go_json_marshal_writes() -> None:
    """Compact, sorted, UTF-8 kept, HTML characters escaped: the byte count decides whether execve succeeds."""
    text = stack_config_env({"b:x": {"z": "<a&b>", "a": "中"}, "a:y": "plain"})
    assert text == r'{"a:y":"plain","b:x":"{\"a\":\"中\",\"z\":\"\\u003ca\\u0026b\\u003e\"}"}'


def _info() -> AnalyzerInfo:
    return AnalyzerInfo(
        name="p", version="0.0.1", supports_config=True,
        policies=(
            PolicyInfo("a", "A", "mandatory", "resource", "high", "", {"at": {"type": "string", "default": "x"}}),
            PolicyInfo("b", "B", "advisory", "stack", "low", "", {"n": {"type": "integer"}}, ("n",)),
        ),
        initial_config={"b": {"n": 3, "enforcementLevel": "mandatory"}},
    )


def test_config_reconciliation_matches_the_cli_order() -> None:
    eff = effective_policy_config(_info(), {"a": {"at": "2027-01-01"}, "all": "advisory"})
    assert eff["a"] == {"enforcementLevel": "advisory", "properties": {"at": "2027-01-01"}}
    # initial config set b mandatory; "all" in the user file overrides every level, props stay
    assert eff["b"] == {"enforcementLevel": "advisory", "properties": {"n": 3}}
    eff = effective_policy_config(_info(), {})
    assert eff["a"]["properties"] == {"at": "x"} and eff["b"]["enforcementLevel"] == "mandatory"


def test_invalid_policy_config_is_an_input_error_naming_the_policy() -> None:
    with pytest.raises(InputError) as err:
        effective_policy_config(_info(), {"b": {"n": "three"}}, source="cfg.json")
    assert err.value.file == "cfg.json" and err.value.key_path == ("b", "n")
    assert "'three' is not of type 'integer'" in err.value.message
    with pytest.raises(InputError):
        effective_policy_config(_info(), {"a": "sometimes"})


def test_pack_python_comes_from_the_pack_venv() -> None:
    assert Path(pack_python(PACK_DIR)) == (PACK_DIR / ".." / ".venv").resolve() / "bin" / "python"


def test_analyzer_info_lists_every_rule(packs: PackPool) -> None:
    pack = packs.get(base_stack_config())
    info = pack.get_analyzer_info()
    assert info.name == "sovereign-residency" and info.supports_config
    rules = {r.id: r for r in load_rules()}
    companions = list(COMPANIONS)  # the reporters of exceptions in advisory rules and of exempted findings
    assert sorted(p.name for p in info.policies) == sorted([*rules, *companions])
    assert len(rules) >= 15
    for p in info.policies:
        if p.name in companions:  # guard.py
            continue
        rule = rules[p.name]
        assert p.enforcement_level == rule.enforcement
        assert p.severity == rule.severity
        assert p.remediation_steps == rule.remediation
        assert set(p.config_schema) == set(rule.config_schema()) == {*rule.config, "at", "exemptions"}
    by_name = {p.name: p for p in info.policies}
    assert by_name["transfer-expiry-warning"].enforcement_level == "advisory"
    advisory = {"transfer-expiry-warning", "resource-rule-exemptions", "rule-exemptions"}
    assert all(p.enforcement_level == "mandatory" for n, p in by_name.items() if n not in advisory)
    assert all(by_name[n].enforcement_level == "advisory" for n in advisory)
    assert by_name["no-cross-border-path"].policy_type == "stack"
    assert by_name["image-registry-allowed"].policy_type == "resource"
    assert "extraRegistries" in by_name["image-registry-allowed"].config_schema
    assert "at" in by_name["transfer-valid"].config_schema


def test_configure_rejects_invalid_config_like_the_cli(packs: PackPool) -> None:
    pack = packs.get(base_stack_config())
    with pytest.raises(InputError) as err:
        pack.configure({"transfer-valid": {"at": 5}})
    assert err.value.key_path == ("transfer-valid", "at")
    with pytest.raises(InputError):
        pack.configure({"transfer-valid": {"at": "next tuesday"}})


def test_enforcement_levels_from_config(packs: PackPool) -> None:
    pack = packs.get(base_stack_config())
    res = resource_from_manifest(WORLD_POLICY, stack="cn-prod")
    pack.configure({})
    [mandatory] = [d for d in pack.analyze(res) if d.policy_name == "egress-not-open-world"]
    assert mandatory.mandatory and mandatory.urn == res.urn
    pack.configure({"all": "advisory"})
    [advisory] = [d for d in pack.analyze(res) if d.policy_name == "egress-not-open-world"]
    assert advisory.enforcement_level == "advisory" and not advisory.mandatory
    pack.configure({"egress-not-open-world": "disabled"})
    assert [d for d in pack.analyze(res) if d.policy_name == "egress-not-open-world"] == []
    pack.configure({})


def test_pack_start_up_defers_the_catalog(tmp_path: Path) -> None:
    """Start-up stays cheap because the catalog, stack config and engine load on the first Analyze, not before:
    a pack pointed at a missing catalog still starts and describes itself (the timing itself is a benchmark
    figure, bench/profile_stages.py, not a test)."""
    missing = tmp_path / "no-catalog"
    with PolicyPackProcess.start(PACK_DIR, stack_config={"sovereign-clusters:jurisdiction": "cn"},
                                 env={"SOVEREIGN_AT": EVALUATION_AT, "SOVEREIGN_CATALOG": str(missing)}) as pack:
        info = pack.get_analyzer_info()
    assert info.name == "sovereign-residency"
    assert len(info.policies) >= 15


def test_stack_config_over_the_environment_limit_is_a_clear_error() -> None:
    """Linux caps one environment string at 128 KiB; the pack cannot start, so say why instead of an OSError."""
    huge = {"sovereign-clusters:jurisdiction": "cn", "sovereign-clusters:workloads": ["x" * 1000] * 200}
    with pytest.raises(AnalyzerError, match="over the 131072-byte limit Linux sets on one environment string"):
        PolicyPackProcess.start(PACK_DIR, stack_config=huge)
