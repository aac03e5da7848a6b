"""``resource-rule-failures`` and ``rule-failures``: an exception inside any rule is a mandatory violation naming
the rule, advisory rules included (CrossGuard reports a policy's violations at that policy's own level, so the
advisory ``transfer-expiry-warning`` cannot block a preview by itself; the pack records its exceptions and a
mandatory companion reports them in the same RPC: the resource's Analyze, or AnalyzeStack). Over gRPC, as the
engine drives the pack, and in process."""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from residency_testkit import PackPool

from policies.framework.guard import (
    COMPANIONS,
    FAIL_CLOSED,
    RESOURCE_RULE_FAILURES,
    RULE_FAILURES,
    RecordedFailure,
    record_failure,
    take_failures,
)
from policies.framework.runner import DirectPack
from policies.framework.samples import base_stack_config, pulumi_config_shape
from sovereign.analyzer.client import PolicyPackProcess
from sovereign.analyzer.model import Diagnostic
from sovereign.analyzer.resource import resource_from_manifest

NAMESPACE: dict[str, Any] = {"apiVersion": "v1", "kind": "Namespace", "metadata": {
    "name": "fleet-ingest", "labels": {"sovereign-clusters.dev/jurisdiction": "cn"}}}
OVERFLOW = {"transfer-expiry-warning": {"warningDays": 1_000_000_000_000}}


def _run(pack: Any) -> list[Diagnostic]:
    resources = [resource_from_manifest(NAMESPACE, stack="cn-prod")]
    diags: list[Diagnostic] = []
    for r in resources:
        diags.extend(pack.analyze(r))
    diags.extend(pack.analyze_stack(resources))
    return diags


def test_overflow_in_the_advisory_expiry_warning_is_a_mandatory_violation_naming_it(packs: PackPool) -> None:
    pack = packs.get(base_stack_config())
    pack.configure(OVERFLOW)
    diags = _run(pack)
    own = [d for d in diags if d.policy_name == "transfer-expiry-warning" and FAIL_CLOSED in d.message]
    assert own and all(not d.mandatory for d in own), diags  # the rule's own report stays at its level
    failures = [d for d in diags if d.policy_name == RULE_FAILURES]
    assert len(failures) == 1, diags
    [failure] = failures
    assert failure.mandatory and failure.enforcement_level == "mandatory"
    assert "rule transfer-expiry-warning failed on the stack with OverflowError" in failure.detail
    assert "The rule is transfer-expiry-warning" in failure.detail


def test_rule_failures_reports_each_exception_once_and_is_silent_otherwise(packs: PackPool) -> None:
    pack = packs.get(base_stack_config())
    pack.configure(OVERFLOW)
    _run(pack)  # drains what it recorded
    pack.configure({})
    diags = _run(pack)
    assert [d for d in diags if d.policy_name == RULE_FAILURES] == [], diags
    assert [d for d in diags if FAIL_CLOSED in d.message] == [], diags


def test_rule_failures_is_the_last_mandatory_stack_policy(packs: PackPool) -> None:
    info = packs.get(base_stack_config()).get_analyzer_info()
    mandatory_stack = [p for p in info.policies if p.policy_type == "stack" and p.enforcement_level == "mandatory"]
    assert mandatory_stack[-1].name == RULE_FAILURES
    assert info.policies.index(mandatory_stack[-1]) > max(
        i for i, p in enumerate(info.policies) if p.policy_type == "stack" and p.name not in COMPANIONS)


def test_resource_rule_failures_is_the_last_mandatory_resource_policy(packs: PackPool) -> None:
    info = packs.get(base_stack_config()).get_analyzer_info()
    mandatory_resource = [p for p in info.policies
                          if p.policy_type == "resource" and p.enforcement_level == "mandatory"]
    companion = mandatory_resource[-1]
    assert companion.name == RESOURCE_RULE_FAILURES
    assert info.policies.index(companion) > max(
        i for i, p in enumerate(info.policies) if p.policy_type == "resource" and p.name not in COMPANIONS)


def test_the_companions_come_after_every_rule(packs: PackPool) -> None:
    """The servicer runs an RPC's policies in pack order: every rule must have run before a companion reports."""
    info = packs.get(base_stack_config()).get_analyzer_info()
    assert [p.name for p in info.policies[-len(COMPANIONS):]] == list(COMPANIONS)


CRASHING_RULES = '''
from policies.framework.rule import Finding, ResourceRule, StackRule


def crash_on_bad(ctx, obj):
    if obj.name.startswith("bad"):
        raise ZeroDivisionError("planted")
    return []


def crash_in_stack(ctx, objs):
    if any(o.name == "stack-bad" for o in objs):
        raise KeyError("planted")
    return [Finding("advisory note")] if any(o.name == "note" for o in objs) else []


rules = [
    ResourceRule(id="crashy", protects="nothing", remediation="none", severity="low", enforcement="advisory",
                 check=crash_on_bad),
    ResourceRule(id="strict-crashy", protects="nothing", remediation="none", severity="low", check=crash_on_bad),
    StackRule(id="stack-crashy", protects="nothing", remediation="none", severity="low", enforcement="advisory",
              check=crash_in_stack),
]
'''
CRASHING_PACK = CRASHING_RULES + '''
from pulumi_policy import PolicyPack

from policies.framework.guard import failure_policies, to_policy

PolicyPack("crashing", [*(to_policy(r) for r in rules), *failure_policies()])
'''


@pytest.fixture(scope="module")
def crashing_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pack = tmp_path_factory.mktemp("crashing")
    (pack / "__main__.py").write_text(CRASHING_PACK)
    (pack / "PulumiPolicy.yaml").write_text(
        f"description: planted crashes\nruntime:\n  name: python\n  options:\n    virtualenv: {sys.prefix}\n")
    return pack


def _config_map(name: str) -> Any:
    return resource_from_manifest({"apiVersion": "v1", "kind": "ConfigMap",
                                   "metadata": {"name": name, "namespace": "fleet-ingest"}}, stack="cn-prod")


@contextlib.contextmanager
def _crashing(transport: str, pack_dir: Path) -> Iterator[Any]:
    """The crashing pack over gRPC (its __main__.py, as the CLI runs it) or its rules run directly."""
    if transport == "grpc":
        with PolicyPackProcess.start(pack_dir, stack_config=base_stack_config(), stack="cn-prod") as pack:
            yield pack
        return
    namespace: dict[str, Any] = {}
    exec(CRASHING_RULES, namespace)  # noqa: S102 - the test's own rule definitions
    pack = DirectPack("crashing", namespace["rules"], stack="cn-prod", config=pulumi_config_shape(base_stack_config()))
    pack.configure({})
    yield pack


@pytest.mark.parametrize("transport", ["grpc", "in-process"])
def test_each_failure_is_reported_in_the_rpc_that_raised_it(crashing_pack: Path, transport: str) -> None:
    names = ("good", "bad-one", "bad-two", "stack-bad")
    resources = [_config_map(n) for n in names]
    with _crashing(transport, crashing_pack) as pack:
        per_resource = {name: pack.analyze(r) for name, r in zip(names, resources, strict=True)}
        at_stack = pack.analyze_stack(resources)

    def reported(diags: list[Diagnostic]) -> list[tuple[str, str, bool]]:
        return sorted((d.policy_name, d.urn.rsplit("/", 1)[-1], d.mandatory) for d in diags)

    assert per_resource["good"] == []
    for name in ("bad-one", "bad-two"):
        assert reported(per_resource[name]) == [
            ("crashy", name, False),  # the rule's own report, at its level
            (RESOURCE_RULE_FAILURES, name, True),  # the companion's, mandatory, on the same resource
            ("strict-crashy", name, True),  # a mandatory rule reports its own crash
        ], per_resource[name]
        [failure] = [d for d in per_resource[name] if d.policy_name == RESOURCE_RULE_FAILURES]
        assert "rule crashy failed on ConfigMap" in failure.detail and "ZeroDivisionError" in failure.detail
    # The stack's RPC reports the stack rule's crash, and nothing left over from the resources' RPCs.
    assert [(d.policy_name, d.mandatory) for d in at_stack if FAIL_CLOSED in d.message] == [
        ("stack-crashy", False), (RULE_FAILURES, True)], at_stack
    [stack_failure] = [d for d in at_stack if d.policy_name == RULE_FAILURES]
    assert "rule stack-crashy failed on the stack with KeyError" in stack_failure.detail


@pytest.mark.parametrize("transport", ["grpc", "in-process"])
def test_a_disabled_companion_leaves_nothing_for_the_next_rpc(crashing_pack: Path, transport: str) -> None:
    with _crashing(transport, crashing_pack) as pack:
        pack.configure({RESOURCE_RULE_FAILURES: {"enforcementLevel": "disabled"}})
        assert RESOURCE_RULE_FAILURES not in {d.policy_name for d in pack.analyze(_config_map("bad-one"))}
        pack.configure({})
        assert pack.analyze(_config_map("good")) == []
        stack = pack.analyze_stack([_config_map("good")])
        assert [d for d in stack if FAIL_CLOSED in d.message] == []


def test_concurrent_rpcs_each_report_their_own_failures() -> None:
    """The servicer runs RPCs on a thread pool: one RPC's companion must neither report nor drop another's."""
    both_recorded, first_taken = threading.Barrier(2), threading.Event()
    taken: dict[str, list[RecordedFailure]] = {}

    def rpc(urn: str) -> None:
        record_failure(RecordedFailure("crashy", urn, "planted", urn))
        both_recorded.wait()
        if urn == "b":
            first_taken.wait()
        taken[urn] = take_failures(urn)
        first_taken.set()

    threads = [threading.Thread(target=rpc, args=(u,)) for u in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {u: [f.urn for f in fs] for u, fs in taken.items()} == {"a": ["a"], "b": ["b"]}
