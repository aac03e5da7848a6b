"""The stack-rule helper of ``run_pack`` (sovereign/check/policy_run.py) changes who judges the stack rules, never
the result: the one-process result on every red-team vector, and a helper that fails in any way costs time only."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

PROBE = Path(__file__).resolve().parent / "stack_helper_probe.py"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the helper forks on Linux only")
@pytest.mark.parametrize("scenario", [
    "same", "caller-fails-first",
    "fails:raises", "fails:dies", "fails:killed", "fails:wrong-type", "fails:wrong-items", "fails:hangs",
])
def test_the_stack_rule_helper_in_a_fresh_process(scenario: str) -> None:
    """Run apart (stack_helper_probe.py): the helper forks only from a single-threaded process, as ``sovereign
    check`` is, and this test session may hold gRPC threads of pack processes other tests started."""
    done = subprocess.run([sys.executable, str(PROBE), scenario], capture_output=True, text=True, timeout=600,
                          check=False, cwd=PROBE.parent)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stdout + done.stderr
