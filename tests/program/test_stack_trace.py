"""The render's stack-trace builder gives exactly the SDK's ``StackTrace`` for every resource the program registers.

sovereign/render/stack_trace.py replaces ``pulumi.runtime.resource._get_stack_trace`` in render workers. Here a
real render of an example stack runs (in its own process: the runtime is process-global) with a spy in the SDK's
place that calls both the SDK's function and ours from the same frame and compares the messages.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SPY = r"""
import json, sys
from pathlib import Path
import pulumi.runtime.resource as sdk
from sovereign.render import capture, stack_trace
from sovereign.render.capture import emulate_shim_sys_path
from sovereign.render.worker import render_into

original = sdk._get_stack_trace
seen = {"calls": 0, "differ": 0, "frames": 0, "positions": 0}

def spy():
    expected = original()
    got = stack_trace.same_stack_trace()
    seen["calls"] += 1
    seen["frames"] += len(expected.frames)
    seen["positions"] += sum(1 for f in expected.frames if f.HasField("pc"))
    if got.SerializeToString(deterministic=True) != expected.SerializeToString(deterministic=True):
        seen["differ"] += 1
    return expected

def install():
    sdk._get_stack_trace = spy
    return True

capture.install_same_stack_trace = install
emulate_shim_sys_path()
render_into(sys.argv[1], Path(sys.argv[2]))
print(json.dumps(seen))
"""


@pytest.mark.parametrize("stack", ["cn-prod", "us-prod"])
def test_every_registration_gets_the_sdk_stack_trace(stack: str, tmp_path: Path) -> None:
    env = {**os.environ, "SOVEREIGN_ROOT": str(ROOT), "SOVEREIGN_AT": "2026-11-25T12:00:00Z"}
    env.pop("PYTHONPATH", None)
    done = subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "-c", SPY, stack, str(tmp_path / stack)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["calls"] > 20, seen  # every resource of the stack, components included
    assert seen["positions"] > seen["calls"], seen  # real frames with file positions were compared
    assert seen["differ"] == 0, seen


def test_the_sdk_hook_is_replaced_in_a_render_process() -> None:
    code = (
        "import pulumi.runtime.resource as r; from sovereign.render import stack_trace as s; "
        "print(s.install(), r._get_stack_trace is s.same_stack_trace)"
    )
    done = subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.split() == ["True", "True"]
