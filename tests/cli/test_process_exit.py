"""The fast exit of our command-line processes: output delivered, status kept, a failed flush reported."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from sovereign.process.exiting import FLUSH_FAILED

REPO = Path(__file__).resolve().parents[2]


def _run(body: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    program = "from sovereign.process.exiting import exit_now\n" + textwrap.dedent(body)
    # Buffered streams, as for most users: with PYTHONUNBUFFERED nothing would wait for the flush.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-c", program], cwd=REPO, capture_output=True, text=True, timeout=60, env=env, **kwargs
    )


def test_buffered_output_reaches_both_pipes_and_the_status_is_kept() -> None:
    # Piped stdout is block-buffered: without the flush these lines would be lost by os._exit.
    done = _run(
        """
        import sys
        print("x" * 10, "first")
        print("second", file=sys.stderr)
        sys.stdout.write("tail without newline")
        exit_now(3)
        """
    )
    assert done.returncode == 3
    assert done.stdout == "xxxxxxxxxx first\ntail without newline"
    assert done.stderr == "second\n"


def test_success_stays_success() -> None:
    assert _run("print('ok')\nexit_now(0)").returncode == 0


CLOSED_PIPE_AS_STDOUT = """
import os, sys
read_end, write_end = os.pipe()
os.close(read_end)  # like `sovereign check | head` after head has gone
sys.stdout = open(write_end, "w", buffering=8192)
print("lost")
"""


def test_a_stdout_that_cannot_be_flushed_turns_success_into_the_interpreters_own_status() -> None:
    assert _run(CLOSED_PIPE_AS_STDOUT + "exit_now(0)").returncode == FLUSH_FAILED


def test_a_failure_status_survives_a_failed_flush() -> None:
    assert _run(CLOSED_PIPE_AS_STDOUT + "exit_now(2)").returncode == 2


def test_the_program_entry_points_use_it() -> None:
    # `python -m sovereign` and the console script run `run`, which never returns to a normal teardown.
    done = subprocess.run(
        [sys.executable, "-m", "sovereign", "--help"], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and "render" in done.stdout
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert 'sovereign = "sovereign.cli.main:run"' in pyproject
