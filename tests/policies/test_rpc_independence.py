"""The residency pack answers each RPC from its request alone, so the tail of a preview may be served by a second
instance of the pack (sovereign/report/stack_analysis_helper.py): the same diagnostics, in the same order.

The property is checked directly (one instance serving every RPC vs a fresh instance taking over at several
points, on every rule sample, a crashing rule and the red-team vectors) and through ``run_pack`` with the helper
process (which must be used, and whose failures must cost time only).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from residency_testkit import EVALUATION_AT, PACK_DIR

import sovereign.report.stack_analysis_helper as stack_helper
from policies.framework.samples import SAMPLE_STACK_NAME, Sample, all_samples, rule_of
from sovereign.analyzer import Diagnostic, resource_from_manifest
from sovereign.analyzer.in_process import InProcessPolicyPack
from sovereign.analyzer.resource import AnalyzerResource
from sovereign.analyzer.session import AnalyzerSession
from sovereign.clock import AT_ENV
from sovereign.report.manifest_input import load_manifests
from sovereign.report.policy_run import PackTarget, run_pack, target_from_manifests
from sovereign.report.stack_analysis_helper import StackAnalysisHelper, StackJob, serves_rpcs_independently

SAMPLES = all_samples()
VECTORS = Path(__file__).resolve().parents[2] / "tests" / "redteam" / "vectors"
OVERFLOW = {"transfer-expiry-warning": {"warningDays": 1_000_000_000_000}}


def _preview(config: dict[str, Any], policy_config: dict[str, Any], resources: list[AnalyzerResource],
             start: int, stop: int, *, stack_rpc: bool) -> list[Diagnostic]:
    """A fresh instance of the pack, prepared as the CLI prepares it, serving resources[start:stop] (and
    AnalyzeStack over all of them)."""
    with InProcessPolicyPack.start(PACK_DIR, stack_config=config, stack=SAMPLE_STACK_NAME,
                                   env={AT_ENV: EVALUATION_AT}) as pack:
        pack.configure_stack(stack=SAMPLE_STACK_NAME)
        pack.get_analyzer_info()
        pack.configure(policy_config)
        diagnostics = [d for r in resources[start:stop] for d in pack.analyze(r)]
        return diagnostics + (pack.analyze_stack(resources) if stack_rpc else [])


def _assert_tail_can_move(config: dict[str, Any], policy_config: dict[str, Any],
                          resources: list[AnalyzerResource]) -> list[Diagnostic]:
    whole = _preview(config, policy_config, resources, 0, len(resources), stack_rpc=True)
    for split in sorted({0, len(resources) // 2, len(resources)}):
        head = _preview(config, policy_config, resources, 0, split, stack_rpc=False)
        tail = _preview(config, policy_config, resources, split, len(resources), stack_rpc=True)
        assert head + tail == whole, f"split at {split}"
    return whole


@pytest.mark.parametrize("sample", SAMPLES, ids=[s.id for s in SAMPLES])
def test_a_fresh_pack_continues_every_rule_sample_with_the_same_answers(sample: Sample) -> None:
    policy_config = {rule_of(sample.rule_pkg).id: dict(sample.policy_config)} if sample.policy_config else {}
    resources = [resource_from_manifest(m, stack=SAMPLE_STACK_NAME) for m in sample.manifests]
    whole = _assert_tail_can_move(dict(sample.stack_config), policy_config, resources)
    if sample.verdict == "disallowed":
        assert whole, f"{sample.id}: the comparison must cover a real finding"


def test_a_crash_of_an_advisory_rule_is_reported_by_whichever_instance_runs_it() -> None:
    sample = next(s for s in SAMPLES if s.verdict == "disallowed")
    resources = [resource_from_manifest(m, stack=SAMPLE_STACK_NAME) for m in sample.manifests]
    whole = _assert_tail_can_move(dict(sample.stack_config), OVERFLOW, resources)
    assert any(d.policy_name == "rule-failures" and d.mandatory for d in whole), whole


def _vector_targets(limit: int | None = None) -> list[tuple[str, PackTarget]]:
    targets = []
    for side in sorted(VECTORS.glob("*/*")):
        if not side.is_dir() or not any(side.glob("*.yaml")):
            continue
        try:
            docs = load_manifests(side)
        except Exception:  # noqa: BLE001 - sides that are bad input on purpose
            continue
        labelled = sorted({(obj.get("metadata") or {}).get("labels", {}).get("sovereign-clusters.dev/jurisdiction")
                           for _, _, obj in docs if obj.get("kind") == "Namespace"} - {None})
        targets.append((f"{side.parent.name}/{side.name}",
                        target_from_manifests("manifests", "p", labelled[0] if labelled else "cn", docs)))
    return targets[:limit]


def test_a_fresh_pack_continues_every_red_team_vector_with_the_same_answers() -> None:
    targets = _vector_targets()
    assert len(targets) >= 40
    for label, target in targets:
        try:
            _assert_tail_can_move(target.config, {}, target.resources)
        except AssertionError as exc:
            raise AssertionError(label) from exc


class _Spy:
    """Records what the helper answered (None: the caller asked its own pack)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.answers: list[list[Diagnostic] | None] = []
        real = StackAnalysisHelper.diagnostics

        def diagnostics(helper: StackAnalysisHelper) -> list[Diagnostic] | None:
            self.answers.append(real(helper))
            return self.answers[-1]

        monkeypatch.setattr(StackAnalysisHelper, "diagnostics", diagnostics)


def _runs(target: PackTarget, pack_dir: Path = PACK_DIR) -> tuple[Any, Any]:
    alone = run_pack(target, pack_dir, at=EVALUATION_AT, catalog=None)
    helped = run_pack(target, pack_dir, at=EVALUATION_AT, catalog=None, stack_apart=True)
    return alone, helped


def test_run_pack_with_the_helper_gives_the_same_result(monkeypatch: pytest.MonkeyPatch) -> None:
    spy = _Spy(monkeypatch)
    monkeypatch.setattr(stack_helper, "HELPER_ANALYZE_SHARE", 0.5)  # small targets: give the helper resources too
    here: list[str] = []
    jobs: list[StackJob] = []
    real_analyze, real_submit = AnalyzerSession.analyze, StackAnalysisHelper.submit

    def analyze(session: AnalyzerSession, resource: AnalyzerResource, **kwargs: Any) -> list[Diagnostic]:
        here.append(resource.urn)
        return real_analyze(session, resource, **kwargs)

    def submit(helper: StackAnalysisHelper, job: StackJob) -> None:
        jobs.append(job)
        real_submit(helper, job)

    monkeypatch.setattr(AnalyzerSession, "analyze", analyze)
    monkeypatch.setattr(StackAnalysisHelper, "submit", submit)
    targets = [t for t in _vector_targets() if len(t[1].resources) >= 4][:6]
    findings = 0
    for label, target in targets:
        here.clear()
        helped = run_pack(target, PACK_DIR, at=EVALUATION_AT, catalog=None, stack_apart=True)
        # Every resource analysed once, in order: this process's head, then the helper's tail.
        urns = [r.urn for r in target.resources]
        assert here + [r.urn for r in jobs[-1].analyze] == urns and jobs[-1].analyze, label
        assert list(jobs[-1].resources) == list(target.resources)
        assert helped == run_pack(target, PACK_DIR, at=EVALUATION_AT, catalog=None), label
        findings += len(helped.result.violations)
    assert len(spy.answers) == len(targets) and all(a is not None for a in spy.answers), "the helper was not used"
    assert findings > 0


def test_an_early_started_helper_is_used_and_left_to_its_owner(monkeypatch: pytest.MonkeyPatch) -> None:
    spy = _Spy(monkeypatch)
    label, target = _vector_targets(limit=1)[0]
    helper = StackAnalysisHelper.start()
    try:
        helped = run_pack(target, PACK_DIR, at=EVALUATION_AT, catalog=None, stack_helper=helper)
    finally:
        helper.stop()
    assert helped == run_pack(target, PACK_DIR, at=EVALUATION_AT, catalog=None), label
    assert len(spy.answers) == 1 and spy.answers[0] is not None


@pytest.mark.parametrize("script", [
    "import sys; sys.exit(3)",  # dies
    "import sys; sys.stdin.read(); sys.stdout.write('not a pickle')",  # answers nonsense
    "import pickle, sys; sys.stdin.buffer.read(); sys.stdout.buffer.write(pickle.dumps(('diagnostics', ['x'])))",
    "import pickle, sys; sys.stdin.buffer.read(); sys.stdout.buffer.write(pickle.dumps(('failed', 'no pack')))",
    "import pickle, sys; sys.stdout.buffer.write(pickle.dumps(('diagnostics', []))); sys.stdout.flush(); sys.exit(1)",
])
def test_a_failed_helper_costs_time_only(monkeypatch: pytest.MonkeyPatch, script: str) -> None:
    spy = _Spy(monkeypatch)
    real_popen = subprocess.Popen

    def broken_helper(argv: list[str], **kwargs: Any) -> Any:
        assert argv[1:] == ["-m", stack_helper.__name__]
        return real_popen([sys.executable, "-c", script], **kwargs)

    monkeypatch.setattr(stack_helper.subprocess, "Popen", broken_helper)
    monkeypatch.setattr(stack_helper, "HELPER_ANALYZE_SHARE", 1.0)  # every resource's RPCs were the helper's
    checked = 0
    for label, target in _vector_targets():
        alone, helped = _runs(target)
        assert helped == alone, label
        checked += bool(alone.result.violations)
        if checked == 2:
            break
    assert checked == 2 and spy.answers and all(a is None for a in spy.answers)


def test_only_the_shipped_pack_is_trusted_with_a_helper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "policies"
    shutil.copytree(PACK_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert serves_rpcs_independently(PACK_DIR) and not serves_rpcs_independently(copy)
    started: list[Any] = []
    monkeypatch.setattr(StackAnalysisHelper, "start", classmethod(lambda cls: started.append(cls)))
    label, target = _vector_targets(limit=1)[0]
    run_pack(target, copy, at=EVALUATION_AT, catalog=None, stack_apart=True)
    assert started == [], "a pack that may keep state across RPCs must get every RPC in one process"


def test_stop_ends_a_helper_that_never_got_a_job() -> None:
    helper = StackAnalysisHelper.start()
    process = helper._process
    helper.stop()
    assert process is not None and process.poll() is not None
    assert helper.diagnostics() is None
