"""``rule-failures``: an exception inside any rule is a mandatory violation naming the rule, advisory rules
included (CrossGuard reports a policy's violations at that policy's own level, so the advisory
``transfer-expiry-warning`` cannot block a preview by itself; the pack records its exceptions and the mandatory
stack policy ``rule-failures`` reports them). Over gRPC, as the engine drives the pack."""

from __future__ import annotations

from typing import Any

from residency_testkit import PackPool

from policies.framework.guard import FAIL_CLOSED, RULE_FAILURES
from policies.framework.samples import base_stack_config
from sovereign.analyzer import Diagnostic, resource_from_manifest

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
    last = info.policies[-1]
    assert last.name == RULE_FAILURES
    assert last.enforcement_level == "mandatory" and last.policy_type == "stack"
