"""The in-process transport gives exactly the answers of the pack process over gRPC.

``sovereign check`` calls the pack's own servicer in its process by default (sovereign/analyzer/in_process.py);
``--pack-transport grpc`` runs the pack as ``pulumi preview --policy-pack`` does. Here both transports get the
same inputs (every rule sample, every red-team vector side, the example stacks' renders) and must return
identical diagnostics, field by field, in the same order.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from residency_testkit import EVALUATION_AT, PACK_DIR, PackPool, vector_targets

from policies.framework.samples import SAMPLE_STACK_NAME, Sample, all_samples, rule_of
from sovereign.analyzer import AnalyzerError, Diagnostic, PolicyPackProcess, resource_from_manifest
from sovereign.analyzer.in_process import InProcessPolicyPack
from sovereign.analyzer.session import AnalyzerSession
from sovereign.clock import AT_ENV
from sovereign.report.policy_run import run_pack

SAMPLES = all_samples()
ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "redteam" / "vectors"


def _analysis(pack: AnalyzerSession, sample: Sample) -> list[Diagnostic]:
    pack.configure_stack(stack=SAMPLE_STACK_NAME)
    pack.get_analyzer_info()
    pack.configure({rule_of(sample.rule_pkg).id: dict(sample.policy_config)} if sample.policy_config else {})
    resources = [resource_from_manifest(m, stack=SAMPLE_STACK_NAME) for m in sample.manifests]
    diagnostics = [d for r in resources for d in pack.analyze(r)]
    return diagnostics + pack.analyze_stack(resources)


@pytest.mark.parametrize("sample", SAMPLES, ids=[s.id for s in SAMPLES])
def test_every_rule_sample_gets_the_same_diagnostics_in_process_and_over_grpc(sample: Sample, packs: PackPool) -> None:
    options = {"stack_config": sample.stack_config, "stack": SAMPLE_STACK_NAME, "env": {AT_ENV: EVALUATION_AT}}
    expected = _analysis(packs.get(sample.stack_config), sample)
    with InProcessPolicyPack.start(PACK_DIR, **options) as local:  # type: ignore[arg-type]
        got = _analysis(local, sample)
    assert got == expected
    if sample.verdict == "disallowed":
        assert got, f"{sample.id}: the comparison must cover a real finding"


def test_every_red_team_vector_gets_the_same_findings_in_process_and_over_grpc() -> None:
    targets = vector_targets()
    assert len(targets) >= 40
    findings = 0
    for label, target in targets:
        remote = run_pack(target, PACK_DIR, at=EVALUATION_AT, catalog=None, transport="grpc")
        local = run_pack(target, PACK_DIR, at=EVALUATION_AT, catalog=None, transport="in-process")
        assert local == remote, label
        findings += len(local.result.violations)
    assert findings > 0


def test_a_session_leaves_the_process_as_it_found_it() -> None:
    from pulumi.runtime import config as sdk_config

    before_env = {k: os.environ.get(k) for k in ("PULUMI_CONFIG", "PULUMI_STACK", AT_ENV)}
    before_cwd = os.getcwd()
    full = {"sovereign-clusters:jurisdiction": "cn", "sovereign-clusters:cluster": {"provider": "aws-cn"}}
    with InProcessPolicyPack.start(PACK_DIR, stack_config=full, stack="a", env={AT_ENV: EVALUATION_AT}) as pack:
        pack.get_analyzer_info()
        assert os.environ["PULUMI_STACK"] == "a"
    assert {k: os.environ.get(k) for k in before_env} == before_env
    assert os.getcwd() == before_cwd
    assert "sovereign-clusters:cluster" not in sdk_config.CONFIG.get()


def test_consecutive_sessions_do_not_see_each_others_config() -> None:
    """A partial (jurisdiction-only) config after a full one must be judged as partial, not inherit keys."""
    sample = next(s for s in SAMPLES if s.verdict == "disallowed")
    first = {"sovereign-clusters:jurisdiction": "eu"}
    second = dict(sample.stack_config)
    with InProcessPolicyPack.start(PACK_DIR, stack_config=first, stack=SAMPLE_STACK_NAME) as pack:
        pack.get_analyzer_info()
    options = {"stack_config": second, "stack": SAMPLE_STACK_NAME, "env": {AT_ENV: EVALUATION_AT}}
    with InProcessPolicyPack.start(PACK_DIR, **options) as local:  # type: ignore[arg-type]
        got = _analysis(local, sample)
    with PolicyPackProcess.start(PACK_DIR, **options) as remote:  # type: ignore[arg-type]
        assert got == _analysis(remote, sample)


def test_a_config_the_cli_could_not_pass_is_refused_in_process_too() -> None:
    huge = {"sovereign-clusters:jurisdiction": "cn", "sovereign-clusters:workloads": ["x" * 1000] * 200}
    with pytest.raises(AnalyzerError, match="over the 131072-byte limit"):
        InProcessPolicyPack.start(PACK_DIR, stack_config=huge)


def test_a_pack_that_fails_to_start_is_an_analyzer_error(tmp_path: Path) -> None:
    (tmp_path / "__main__.py").write_text("raise RuntimeError('broken pack')\n", encoding="utf-8")
    with pytest.raises(AnalyzerError, match="failed to start: RuntimeError: broken pack"):
        InProcessPolicyPack.start(tmp_path)
    (tmp_path / "__main__.py").write_text("x = 1\n", encoding="utf-8")
    with pytest.raises(AnalyzerError, match="did not create a PolicyPack"):
        InProcessPolicyPack.start(tmp_path)
