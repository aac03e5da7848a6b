"""The residency pack answers each RPC from its request alone, so the tail of a preview may be served by a second
instance of the pack (sovereign/report/preview_tail_helper.py: a forked copy of the prepared pack): the same
diagnostics, in the same order.

The property is checked directly (one instance serving every RPC vs a fresh instance taking over at several
points, on every rule sample, a crashing rule and the red-team vectors) and through ``run_pack`` with the helper
process (which must be used, and whose failures must cost time only).
"""

from __future__ import annotations

import _thread
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from residency_testkit import EVALUATION_AT, PACK_DIR, vector_targets

from policies.framework.samples import SAMPLE_STACK_NAME, Sample, all_samples, rule_of
from sovereign.analyzer import Diagnostic, resource_from_manifest
from sovereign.analyzer.in_process import InProcessPolicyPack
from sovereign.analyzer.resource import AnalyzerResource
from sovereign.clock import AT_ENV
from sovereign.report.policy_run import run_pack
from sovereign.report.preview_tail_helper import PreviewTailHelper, can_fork, serves_rpcs_independently

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


def test_a_fresh_pack_continues_every_red_team_vector_with_the_same_answers() -> None:
    targets = vector_targets()
    assert len(targets) >= 40
    for label, target in targets:
        try:
            _assert_tail_can_move(target.config, {}, target.resources)
        except AssertionError as exc:
            raise AssertionError(label) from exc


PROBE = Path(__file__).resolve().parent / "tail_helper_probe.py"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the helper forks on Linux only")
@pytest.mark.parametrize("scenario", ["helped", "fails:raises", "fails:dies", "fails:killed", "fails:wrong-type",
                                      "fails:answers-then-dies", "stop", "stuck"])
def test_the_tail_helper_in_a_fresh_process(scenario: str) -> None:
    """Run apart (tail_helper_probe.py): the helper forks only from a single-threaded process, as ``sovereign
    check`` is, and this test session may hold gRPC threads of pack processes other tests started."""
    done = subprocess.run([sys.executable, str(PROBE), scenario], capture_output=True, text=True, timeout=600,
                          check=False)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stdout + done.stderr


def test_only_the_shipped_pack_is_trusted_with_a_helper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "policies"
    shutil.copytree(PACK_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert serves_rpcs_independently(PACK_DIR) and not serves_rpcs_independently(copy)
    forked: list[Any] = []
    monkeypatch.setattr(PreviewTailHelper, "fork", classmethod(lambda cls, *a: forked.append(a)))
    label, target = vector_targets()[0]
    run_pack(target, copy, at=EVALUATION_AT, catalog=None, use_idle_core=True)
    assert forked == [], "a pack that may keep state across RPCs must get every RPC in one process"


def test_no_fork_while_another_thread_runs() -> None:
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not can_fork()
        assert PreviewTailHelper.fork(object(), [], []) is None
    finally:
        stop.set()
        other.join()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/self/task is Linux's")
def test_no_fork_while_a_thread_unknown_to_python_runs() -> None:
    """A library's own thread (gRPC's, say) is not in ``threading``'s list; the kernel's list of the process's
    threads has it."""
    release = _thread.allocate_lock()
    release.acquire()
    started = _thread.allocate_lock()
    started.acquire()

    def wait() -> None:
        started.release()
        release.acquire()

    _thread.start_new_thread(wait, ())
    started.acquire()
    try:
        assert not can_fork()
    finally:
        release.release()
