"""Scenarios of the stack-rule helper of ``run_pack`` (sovereign/check/policy_run.py), each run in a fresh
interpreter by tests/cli/test_stack_rules_helper.py.

The helper forks only from a process running a single thread, as ``sovereign check`` is; a pytest session may hold
other threads (gRPC channels of pack processes other tests started), so these run apart:
``python tests/cli/stack_helper_probe.py SCENARIO`` prints ``ok`` and exits 0 when the scenario holds.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "policies"))

from residency_testkit import EVALUATION_AT, PACK_DIR, vector_targets  # noqa: E402

import sovereign.check.policy_run as policy_run  # noqa: E402
from policies.framework.runner import DirectPack  # noqa: E402
from sovereign.process.forked_child import ForkedChild, can_fork  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PARENT = os.getpid()
STACK_RULES_HERE: list[int] = []
"""One entry per ``AnalyzeStack`` this process (not a child) answered."""

_real_analyze_stack = DirectPack.analyze_stack


def _recorded_analyze_stack(pack: DirectPack, resources: Any) -> Any:
    if os.getpid() == PARENT:
        STACK_RULES_HERE.append(PARENT)
    return _real_analyze_stack(pack, resources)


DirectPack.analyze_stack = _recorded_analyze_stack  # type: ignore[method-assign]


def _targets() -> list[tuple[str, Any]]:
    targets = vector_targets(ROOT / "tests" / "redteam" / "vectors")
    assert len(targets) >= 40, len(targets)
    return targets


def _run(target: Any, helper: bool) -> Any:
    return policy_run.run_pack(target, PACK_DIR, at=EVALUATION_AT, catalog=None, helper=helper)


def same() -> None:
    """With the helper, every red-team vector gets the one-process result, and this process judges no stack rule."""
    assert can_fork(), "this probe must run single-threaded on Linux"
    stack_findings = 0
    for label, target in _targets():
        alone = _run(target, helper=False)
        STACK_RULES_HERE.clear()
        helped = _run(target, helper=True)
        assert STACK_RULES_HERE == [], f"{label}: the stack rules ran here, not in the helper"
        assert helped == alone, label
        stack_findings += sum(v.policy == "no-cross-border-path" for v in alone.result.violations)
    assert stack_findings > 0, "the comparison must cover findings of a stack rule"


def fails(how: str) -> None:
    """The helper fails ``how``: its answer is not used, this process asks ``AnalyzeStack`` itself, same result."""
    real_start = ForkedChild.start.__func__  # type: ignore[attr-defined]

    def failing(work: Any) -> Any:
        if how == "raises":
            raise RuntimeError("planted")
        if how == "dies":
            os._exit(3)
        if how == "killed":
            os.kill(os.getpid(), signal.SIGKILL)
        if how == "wrong-type":
            return "not diagnostics"
        if how == "wrong-items":
            return [("pretend", "diagnostic")]
        if how == "hangs":
            time.sleep(60)
        return work()

    def start(cls: type[ForkedChild], work: Any) -> Any:
        return real_start(cls, lambda: failing(work))

    ForkedChild.start = classmethod(start)  # type: ignore[method-assign, assignment]
    if how == "hangs":
        policy_run.STACK_HELPER_TIMEOUT_S = 1.0
    label, target, alone = next((label, t, run) for label, t in _targets()
                                for run in [_run(t, helper=False)]
                                if any(v.policy == "no-cross-border-path" for v in run.result.violations))
    STACK_RULES_HERE.clear()
    started = time.monotonic()
    helped = _run(target, helper=True)
    assert STACK_RULES_HERE == [PARENT], f"{how}: this process must judge the stack rules itself"
    assert helped == alone, label
    assert time.monotonic() - started < 30, "a hanging helper is ended at the timeout"


def caller_fails_first() -> None:
    """A resource rule's ``Analyze`` fails (an unexpected error in this process): the helper is ended, not waited
    for, and the error is raised as the one-process run raises it."""
    stopped: list[int] = []
    real_stop = ForkedChild.stop

    def stop(child: ForkedChild) -> None:
        stopped.append(1)
        real_stop(child)

    ForkedChild.stop = stop  # type: ignore[method-assign]

    def broken(pack: DirectPack, resource: Any) -> Any:
        raise RuntimeError("planted in Analyze")

    DirectPack.analyze = broken  # type: ignore[method-assign]
    _label, target = _targets()[0]
    try:
        _run(target, helper=True)
    except RuntimeError as exc:
        assert str(exc) == "planted in Analyze"
    else:
        raise AssertionError("the error of Analyze must be raised")
    assert stopped, "the helper must be stopped"
    assert STACK_RULES_HERE == [], "no stack rule is judged after Analyze failed"


def main() -> None:
    scenario = sys.argv[1]
    if scenario == "same":
        same()
    elif scenario.startswith("fails:"):
        fails(scenario.split(":", 1)[1])
    elif scenario == "caller-fails-first":
        caller_fails_first()
    else:
        raise SystemExit(f"unknown scenario {scenario}")
    print("ok")


if __name__ == "__main__":
    main()
