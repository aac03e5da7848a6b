"""Render stacks: one worker process per stack (the Pulumi runtime is process-global), two at a time.

All-or-nothing: every stack is rendered into a staging directory under ``--out``; only when all succeeded are
they moved into place. Bad input in any stack -> ``InputError`` (exit 2), nothing written.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sovereign.core.clock import AT_ENV
from sovereign.core.errors import InputError, InputErrors, ToolFailure
from sovereign.render.staging import publish, staging_area

DEFAULT_JOBS = 2
WORKER_TIMEOUT_S = 600


@dataclass(frozen=True)
class StackRender:
    stack: str
    directory: Path
    resources: int
    manifests: int
    schema_errors: int
    seconds: float
    program_messages: tuple[tuple[str, str], ...] = ()
    """(severity, message) of the program's own warnings and errors (``pulumi.log``), in preview.json order."""


class RenderFailed(ToolFailure):
    """The program could not run for a stack (not an input problem): message carries the traceback."""


@dataclass
class _Outcome:
    stack: str
    result: dict[str, Any]
    stderr: str
    seconds: float


def stack_dir_name(stack: str) -> str:
    """Directory of a stack under ``--out``: "/" becomes "-" as in stack file names."""
    return stack.replace("/", "-")


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity, which containers and `taskset` narrow)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def helpers_fit(jobs: int, stacks: int, cores: int) -> bool:
    """Whether each worker may start a manifest helper: only when the workers leave a core idle (otherwise
    the helper would compete with another stack's render for the same cores)."""
    return min(max(1, jobs), stacks) < cores


def _run_worker(stack: str, staging: Path, env: dict[str, str], isolate: bool, helper: bool) -> _Outcome:
    started = time.monotonic()
    name = stack_dir_name(stack)
    result_file = staging / f".{name}.result.json"
    argv = [
        sys.executable,
        "-m",
        "sovereign.render.worker",
        "--stack",
        stack,
        "--out",
        str(staging / name),
        "--result",
        str(result_file),
    ]
    if isolate:
        argv.append("--isolate")
    if helper:
        argv.append("--manifest-helper")
    proc = subprocess.run(  # noqa: S603 - fixed argv, no shell
        argv,
        cwd=staging,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=WORKER_TIMEOUT_S,
        check=False,
    )
    try:
        result = json.loads(result_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        result = {"ok": False, "error": f"worker exited with status {proc.returncode} and no result"}
    return _Outcome(stack, result, proc.stderr[-6000:], time.monotonic() - started)


def render_stacks(
    stacks: Sequence[str],
    out: Path,
    *,
    root: Path,
    at: str | None = None,
    isolate: bool = False,
    jobs: int = DEFAULT_JOBS,
    on_done: Callable[[StackRender], None] | None = None,
) -> list[StackRender]:
    """Render ``stacks`` of the project at ``root`` into ``out/<stack>/``; returns figures per stack."""
    env = dict(os.environ)
    env["SOVEREIGN_ROOT"] = str(root)
    if at:
        env[AT_ENV] = at
    out = out.resolve()
    with staging_area(out) as staging:
        outcomes: dict[str, _Outcome] = {}
        helper = helpers_fit(jobs, len(stacks), usable_cores())
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = {s: pool.submit(_run_worker, s, staging, env, isolate, helper) for s in stacks}
            for stack in stacks:
                outcome = futures[stack].result()
                outcomes[stack] = outcome
                if outcome.result.get("ok") and on_done is not None:
                    on_done(_figures(outcome, out))
        errors: list[InputError] = []
        for stack in stacks:
            for e in outcomes[stack].result.get("inputErrors", []):
                errors.append(InputError(e["file"], e["keyPath"], e["expected"], found_text=e["found"]))
        if errors:
            raise InputErrors(errors)
        failed = [o for o in (outcomes[s] for s in stacks) if not o.result.get("ok")]
        if failed:
            text = "\n".join(
                f"stack {o.stack}: the program failed under the mock runtime:\n{o.result.get('error', '')}{o.stderr}"
                for o in failed
            )
            raise RenderFailed(text)
        publish(staging, out, [stack_dir_name(s) for s in stacks])
    return [_figures(outcomes[s], out) for s in stacks]


def _figures(outcome: _Outcome, out: Path) -> StackRender:
    r = outcome.result
    return StackRender(
        stack=outcome.stack,
        directory=out / stack_dir_name(outcome.stack),
        resources=int(r.get("resources", 0)),
        manifests=int(r.get("manifests", 0)),
        schema_errors=int(r.get("schemaErrors", 0)),
        seconds=round(outcome.seconds, 2),
        program_messages=tuple(
            (str(m.get("severity", "")), str(m.get("message", ""))) for m in r.get("programMessages", [])
        ),
    )
