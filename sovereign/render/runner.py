"""Render stacks: one worker process per stack (the Pulumi runtime is process-global), two at a time.

Every stack is rendered into a staging directory under ``--out``. ``render_stacks`` (``sovereign render``,
``diff``) is all or nothing: only when all succeeded are they moved into place; bad input in any stack ->
``InputError`` (exit 2), nothing written. ``render_each`` (``sovereign check``, which reports a bad stack as a
finding and checks the others) publishes the good ones and removes the failed ones' older renders.
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


@dataclass(frozen=True)
class RenderBatch:
    """What ``render_each`` did: the stacks rendered (and published), and why each other stack was not."""

    renders: list[StackRender]
    failures: dict[str, InputError | ToolFailure]
    """Stack -> its bad input (``InputError``/``InputErrors``) or the program's failure (``RenderFailed``)."""


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
    """Render ``stacks`` of the project at ``root`` into ``out/<stack>/``, all or nothing: bad input in any
    stack raises (every stack's problems together) and nothing is written; returns figures per stack."""
    batch = _render(stacks, out, root=root, at=at, isolate=isolate, jobs=jobs, on_done=on_done, each=False)
    return batch.renders


def render_each(
    stacks: Sequence[str],
    out: Path,
    *,
    root: Path,
    at: str | None = None,
    isolate: bool = False,
    jobs: int = DEFAULT_JOBS,
    on_done: Callable[[StackRender], None] | None = None,
) -> RenderBatch:
    """Render each stack on its own: the good ones are published, a failed one is reported in ``failures`` and
    its older render (if any) removed, so nothing downstream can read a stale render as this stack's."""
    return _render(stacks, out, root=root, at=at, isolate=isolate, jobs=jobs, on_done=on_done, each=True)


def _failure(outcome: _Outcome) -> InputError | ToolFailure | None:
    errors = [InputError(e["file"], e["keyPath"], e["expected"], found_text=e["found"])
              for e in outcome.result.get("inputErrors", [])]
    if errors:
        return errors[0] if len(errors) == 1 else InputErrors(errors)
    if not outcome.result.get("ok"):
        return RenderFailed(f"stack {outcome.stack}: the program failed under the mock runtime:\n"
                            f"{outcome.result.get('error', '')}{outcome.stderr}")
    return None


def _render(
    stacks: Sequence[str],
    out: Path,
    *,
    root: Path,
    at: str | None,
    isolate: bool,
    jobs: int,
    on_done: Callable[[StackRender], None] | None,
    each: bool,
) -> RenderBatch:
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
        failures = {s: f for s in stacks if (f := _failure(outcomes[s])) is not None}
        if failures and not each:
            errors = [e for f in failures.values() if isinstance(f, InputError)
                      for e in (f.errors if isinstance(f, InputErrors) else (f,))]
            if errors:
                raise InputErrors(errors)
            raise RenderFailed("\n".join(str(f) for f in failures.values()))
        good = [s for s in stacks if s not in failures]
        publish(staging, out, [stack_dir_name(s) for s in good], retire=[stack_dir_name(s) for s in failures])
    return RenderBatch([_figures(outcomes[s], out) for s in good], failures)


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
