"""Scenarios of the preview tail helper, each run in a fresh interpreter by tests/policies/test_rpc_independence.py.

The helper forks only from a process running a single thread, as ``sovereign check`` is; a pytest session may hold
other threads (gRPC channels of pack processes other tests started), so these run apart:
``python tests/policies/tail_helper_probe.py SCENARIO`` exits 0 when the scenario holds, else fails with the reason.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from typing import Any

from residency_testkit import EVALUATION_AT, PACK_DIR, vector_targets

import sovereign.forked_child as forked_child
import sovereign.report.preview_tail_helper as tail_helper
from sovereign.analyzer import Diagnostic
from sovereign.analyzer.resource import AnalyzerResource
from sovereign.analyzer.session import AnalyzerSession
from sovereign.report.policy_run import PackRun, PackTarget, run_pack
from sovereign.report.preview_tail_helper import PreviewTailHelper

PARENT = os.getpid()
ANSWERS: list[list[Diagnostic] | None] = []
"""What the helper answered in each run (None: the parent asked its own pack)."""

_real_diagnostics = PreviewTailHelper.diagnostics


def _recorded_diagnostics(helper: PreviewTailHelper) -> list[Diagnostic] | None:
    ANSWERS.append(_real_diagnostics(helper))
    return ANSWERS[-1]


PreviewTailHelper.diagnostics = _recorded_diagnostics  # type: ignore[method-assign, assignment]


def _run(target: PackTarget, *, helped: bool) -> PackRun:
    return run_pack(target, PACK_DIR, at=EVALUATION_AT, catalog=None, use_idle_core=helped)


def helped() -> None:
    """With the helper: the same result as without, every resource analysed once and in order (the parent's head,
    then the child's tail), AnalyzeStack over all of them, and the helper's answer used every time."""
    tail_helper.HELPER_ANALYZE_SHARE = 0.5  # small targets: give the child resources too
    here: list[str] = []
    forked: list[tuple[list[str], list[str]]] = []
    real_analyze, real_fork = AnalyzerSession.analyze, PreviewTailHelper.fork.__func__  # type: ignore[attr-defined]

    def analyze(session: AnalyzerSession, resource: AnalyzerResource, **kwargs: Any) -> list[Diagnostic]:
        if os.getpid() == PARENT:
            here.append(resource.urn)
        return real_analyze(session, resource, **kwargs)

    def fork(cls: type[PreviewTailHelper], pack: Any, analyze: Any, resources: Any) -> Any:
        forked.append(([r.urn for r in analyze], [r.urn for r in resources]))
        return real_fork(cls, pack, analyze, resources)

    AnalyzerSession.analyze = analyze  # type: ignore[method-assign, assignment]
    PreviewTailHelper.fork = classmethod(fork)  # type: ignore[method-assign, assignment]
    targets = [t for t in vector_targets() if len(t[1].resources) >= 4][:6]
    findings = 0
    for label, target in targets:
        here.clear()
        with_helper = _run(target, helped=True)
        urns = [r.urn for r in target.resources]
        tail, stack = forked[-1]
        assert here + tail == urns and tail and stack == urns, f"{label}: {here} + {tail} != {urns}"
        assert with_helper == _run(target, helped=False), label
        findings += len(with_helper.result.violations)
    assert len(ANSWERS) == len(targets) and all(a is not None for a in ANSWERS), f"helper not used: {ANSWERS}"
    assert findings > 0


def fails(how: str) -> None:
    """The child fails ``how``: the parent's fallback gives the result of a run without the helper."""
    real = AnalyzerSession.analyze_stack

    def analyze_stack(session: AnalyzerSession, resources: Any) -> Any:
        if os.getpid() != PARENT:
            if how == "raises":
                raise RuntimeError("planted")
            if how == "dies":
                os._exit(3)
            if how == "killed":
                os.kill(os.getpid(), signal.SIGKILL)
            if how == "wrong-type":
                return ["not a diagnostic"]
        return real(session, resources)

    AnalyzerSession.analyze_stack = analyze_stack  # type: ignore[method-assign, assignment]
    if how == "answers-then-dies":  # a complete answer, then a failed exit: not to be trusted
        real_write = forked_child._write_all

        def write_then_die(fd: int, data: bytes) -> None:
            real_write(fd, data)
            os._exit(3)

        forked_child._write_all = write_then_die
    tail_helper.HELPER_ANALYZE_SHARE = 1.0  # every resource's RPCs were the child's
    checked = 0
    for label, target in vector_targets():
        alone, with_helper = _run(target, helped=False), _run(target, helped=True)
        assert with_helper == alone, label
        checked += bool(alone.result.violations)
        if checked == 2:
            break
    assert checked == 2 and ANSWERS and all(a is None for a in ANSWERS), ANSWERS


def stuck() -> None:
    """A child that never answers is ended after ``HELPER_TIMEOUT_S`` and the parent answers the tail itself."""
    tail_helper.HELPER_TIMEOUT_S = 1.0
    real = AnalyzerSession.analyze_stack

    def analyze_stack(session: AnalyzerSession, resources: Any) -> Any:
        if os.getpid() != PARENT:
            time.sleep(60)
        return real(session, resources)

    AnalyzerSession.analyze_stack = analyze_stack  # type: ignore[method-assign, assignment]
    label, target = next((label, t) for label, t in vector_targets() if t.resources)
    started = time.monotonic()
    alone, with_helper = _run(target, helped=False), _run(target, helped=True)
    assert with_helper == alone, label
    assert time.monotonic() - started < 30 and ANSWERS == [None], ANSWERS


def stop() -> None:
    """``stop`` ends a child that is still working, at once."""

    class Slow:
        def analyze_stack(self, resources: Any) -> Any:
            time.sleep(60)

    helper = PreviewTailHelper.fork(Slow(), [], [])
    assert helper is not None, "no fork from a single-threaded process"
    started = time.monotonic()
    helper.stop()
    assert time.monotonic() - started < 10
    assert helper.diagnostics() is None


if __name__ == "__main__":
    scenario = sys.argv[1]
    if scenario == "helped":
        helped()
    elif scenario.startswith("fails:"):
        fails(scenario.split(":", 1)[1])
    elif scenario == "stop":
        stop()
    elif scenario == "stuck":
        stuck()
    else:
        raise SystemExit(f"unknown scenario {scenario}")
    print("ok")
