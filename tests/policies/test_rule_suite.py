"""The one suite runner: every rule, every sample, in-process and through the analyzer protocol.

Gatekeeper-library style: ``policies/rules/<rule_pkg>/samples/{allowed,disallowed}/*.yaml``. An allowed
sample must draw no diagnostic from its rule; a disallowed one must draw exactly the findings its ``# expect:``
lines state (resource, count, message fragments: policies/framework/samples.py), at the rule's enforcement level,
and nothing else. A rule without both kinds of samples fails.
"""

from __future__ import annotations

import re

import pytest
from residency_testkit import PackPool

from policies.framework.rule import ResourceRule
from policies.framework.samples import Sample, all_samples, evaluate_in_process, load_samples, resource_name, rule_of
from policies.pack import rule_packages
from sovereign.analyzer.model import Diagnostic
from sovereign.analyzer.resource import resource_from_manifest

SAMPLES = all_samples()


def _ids(samples: list[Sample]) -> list[str]:
    return [s.id for s in samples]


@pytest.mark.parametrize("rule_pkg", rule_packages())
def test_rule_unit_is_complete(rule_pkg: str) -> None:
    rule = rule_of(rule_pkg)
    samples = load_samples(rule_pkg)
    verdicts = {s.verdict for s in samples}
    assert verdicts == {"allowed", "disallowed"}, f"{rule_pkg} needs allowed and disallowed samples"
    for s in samples:
        if s.verdict == "disallowed":
            assert s.expect, f"{s.id}: a disallowed sample names the message it expects (# expect: ...)"
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.id), f"rule id {rule.id!r} is not kebab-case"
    assert rule.protects and rule.remediation and rule.check is not None


def _judge(sample: Sample, findings: list[tuple[str, str]]) -> None:
    """``findings``: (resource, message) of the sample's rule; matched one to one against the expectations."""
    if sample.verdict == "allowed":
        assert findings == [], f"{sample.id} should be allowed, got:\n" + "\n".join(m for _r, m in findings)
        return
    left = list(findings)
    missing = []
    for expectation in sample.expect:
        hit = next((f for f in left if expectation.matches(*f)), None)
        if hit is None:
            missing.append(str(expectation))
        else:
            left.remove(hit)
    assert (missing, left) == ([], []), (
        f"{sample.id}: expected findings not drawn: {missing}; findings not expected (the same problem reported "
        f"twice, or a new one the sample must name): " + "\n".join(f"{r}: {m}" for r, m in left))


@pytest.mark.parametrize("sample", SAMPLES, ids=_ids(SAMPLES))
def test_sample_in_process(sample: Sample) -> None:
    _judge(sample, evaluate_in_process(sample))


@pytest.mark.parametrize("sample", SAMPLES, ids=_ids(SAMPLES))
def test_sample_over_grpc(sample: Sample, packs: PackPool) -> None:
    rule = rule_of(sample.rule_pkg)
    pack = packs.get(sample.stack_config)
    pack.configure({rule.id: dict(sample.policy_config)} if sample.policy_config else {})
    resources = [resource_from_manifest(m, stack="cn-prod") for m in sample.manifests]
    diagnostics: list[Diagnostic] = []
    if isinstance(rule, ResourceRule):
        for r in resources:
            diagnostics.extend(pack.analyze(r))
    else:
        diagnostics.extend(pack.analyze_stack(resources))
    mine = [d for d in diagnostics if d.policy_name == rule.id]
    names = {r.urn: resource_name(m) for r, m in zip(resources, sample.manifests, strict=True)}
    _judge(sample, [(names.get(d.urn, "stack"), d.detail) for d in mine])
    for d in mine:
        assert d.enforcement_level == rule.enforcement, d
        assert d.severity == rule.severity, d
        assert d.policy_pack_name == "sovereign-residency"
        if isinstance(rule, ResourceRule):
            assert d.urn in {r.urn for r in resources}


def test_the_judge_refuses_a_finding_reported_twice_or_one_missing() -> None:
    """The suite can fail: one problem reported twice, or an expected finding not drawn."""
    from policies.framework.samples import Expectation

    sample = next(s for s in SAMPLES if s.verdict == "disallowed")
    once = Sample(sample.rule_pkg, "disallowed", sample.path, sample.manifests,
                  (Expectation("Pod a/b", ("runs abroad",)),))
    _judge(once, [("Pod a/b", "Pod a/b runs abroad")])
    with pytest.raises(AssertionError, match="findings not expected"):
        _judge(once, [("Pod a/b", "Pod a/b runs abroad"), ("Pod a/b", "Pod a/b runs abroad")])
    with pytest.raises(AssertionError, match="expected findings not drawn"):
        _judge(once, [("Pod a/c", "Pod a/c runs abroad")])
