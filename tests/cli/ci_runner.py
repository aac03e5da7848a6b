"""Just enough of a GitHub Actions runner to run one ``run:`` step of action.yml or the residency workflow here.

What the runner does for a ``shell: bash`` step, and no more: the step's ``env:`` values get their ``${{ ... }}``
expressions (dotted context paths only; anything else is refused, so a test cannot pass on an expression it did
not evaluate), ``working-directory`` likewise, the script runs as ``bash --noprofile --norc -eo pipefail FILE``,
and ``GITHUB_OUTPUT`` / ``GITHUB_STEP_SUMMARY`` are files read back afterwards (``name=value`` lines and
``name<<DELIMITER`` blocks, as GitHub documents them).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)+")


def load(path: Path) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text())
    assert isinstance(doc, dict), f"{path}: expected a mapping"
    return doc


def expressions(text: str) -> list[str]:
    """The ``${{ ... }}`` expressions in ``text``, stripped."""
    return EXPRESSION.findall(text)


def evaluate(text: str, context: Mapping[str, Any]) -> str:
    """``text`` with each ``${{ a.b.c }}`` replaced by its value in ``context`` (missing step outputs are "")."""

    def one(match: re.Match[str]) -> str:
        expr = match.group(1)
        if not DOTTED.fullmatch(expr):
            raise ValueError(f"the test runner evaluates dotted context paths only, not {expr!r}")
        value: Any = context
        for part in expr.split("."):
            if not isinstance(value, Mapping):
                raise KeyError(expr)
            value = value.get(part, "" if value is not context else None)
            if value is None:
                raise KeyError(f"unknown context {expr!r}")
        return str(value)

    return EXPRESSION.sub(one, text)


def read_outputs(path: Path) -> dict[str, str]:
    """``GITHUB_OUTPUT``'s ``name=value`` lines and ``name<<EOF`` … ``EOF`` blocks."""
    out: dict[str, str] = {}
    lines = path.read_text().splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, i + 1)
            out[name] = "\n".join(lines[i + 1:end])
            i = end + 1
            continue
        name, _, value = line.partition("=")
        out[name] = value
        i += 1
    return out


@dataclass
class StepRun:
    returncode: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str


def step(doc: Mapping[str, Any], step_id_or_name: str) -> dict[str, Any]:
    """A step of an action (``runs.steps``) or of the workflow's only job, by id or name."""
    if "runs" in doc:
        steps = doc["runs"]["steps"]
    else:
        (job,) = doc["jobs"].values()
        steps = job["steps"]
    for s in steps:
        if step_id_or_name in (s.get("id"), s.get("name")):
            return dict(s)
    raise KeyError(step_id_or_name)


def action_inputs(action: Mapping[str, Any], given: Mapping[str, str]) -> dict[str, str]:
    """The inputs as the runner passes them: the given ones, the declared defaults for the rest (strings)."""
    declared = action.get("inputs") or {}
    unknown = set(given) - set(declared)
    assert not unknown, f"inputs the action does not declare: {sorted(unknown)}"
    return {name: str(given.get(name, spec.get("default", ""))) for name, spec in declared.items()}


def run_step(spec: Mapping[str, Any], context: Mapping[str, Any], workspace: Path,
             extra_env: Mapping[str, str] | None = None) -> StepRun:
    """Run one ``run:`` step with ``shell: bash`` in ``workspace`` as the runner would."""
    assert "run" in spec, f"step {spec.get('name')!r} has no run script"
    output, summary = workspace / ".github_output", workspace / ".github_step_summary"
    output.write_text("")
    summary.write_text("")
    env = dict(os.environ)
    env.pop("SOVEREIGN_AT", None)
    env.update(extra_env or {})
    env.update({k: evaluate(str(v), context) for k, v in (spec.get("env") or {}).items()})
    env.update(GITHUB_OUTPUT=str(output), GITHUB_STEP_SUMMARY=str(summary), GITHUB_WORKSPACE=str(workspace))
    cwd = workspace / evaluate(str(spec.get("working-directory", ".")), context)
    script = workspace / ".step.sh"
    script.write_text(str(spec["run"]))
    result = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    return StepRun(result.returncode, result.stdout, result.stderr, read_outputs(output), summary.read_text())
