"""Shared machinery of the red-team suite: vector discovery and one way to run the residency check on a case.

A vector is a directory ``vectors/<id>/`` with ``leak/*.yaml`` (must be rejected by the named rule(s)),
``twin/*.yaml`` (the near-miss that must pass: a false positive is a failure too) and ``vector.yaml``.

Two modes, because ``sovereign check --manifests`` passes only ``--jurisdiction`` to the pack:

* ``manifests`` (default): exactly ``sovereign check --manifests <dir> --jurisdiction <j> --format json`` as a
  subprocess; the exit code and the JSON report are what a CI job sees.
* ``stack`` (vector.yaml ``stack: <name>``): the vector needs the cluster's CNI, tenants and declared transfers
  (relays through an approved transfer, a policy kind the CNI does not enforce). ``check --manifests`` has no flag
  for that (reported in docs/red-team.md), so the same manifests run through the same pack over the same analyzer
  protocol (``sovereign.report.policy_run.run_pack``) with ``PULUMI_CONFIG`` = that stack file's config, which
  is what ``sovereign check <stack>`` hands the pack for a rendered stack. The report is rendered with the same
  JSON renderer and the exit code comes from the same ``CheckReport``.

Runs are independent processes, so the suite runs them in parallel once per session (see ``run_all``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
VECTORS_DIR = Path(__file__).resolve().parent / "vectors"
VECTOR_KEYS = frozenset({"id", "class", "description", "jurisdiction", "rules", "expect", "twin", "stack", "at"})
REQUIRED_KEYS = frozenset({"id", "class", "description", "jurisdiction", "rules", "expect", "twin"})
SIDES = ("leak", "twin")
PARALLEL = int(os.environ.get("REDTEAM_JOBS", "4"))


@dataclass(frozen=True)
class Vector:
    id: str
    cls: str
    description: str
    jurisdiction: str
    rules: tuple[str, ...]
    expect: str
    twin_note: str
    path: Path
    stack: str | None = None
    at: str | None = None

    def side(self, name: str) -> Path:
        return self.path / name


@dataclass(frozen=True)
class Outcome:
    """What one check run produced: exit code, parsed JSON report (None if stdout was not JSON), stderr."""

    code: int
    report: Mapping[str, Any] | None
    stdout: str
    stderr: str
    mode: str
    argv: tuple[str, ...] = field(default_factory=tuple)

    def violations(self) -> list[Mapping[str, Any]]:
        return list((self.report or {}).get("violations") or [])

    def policies(self) -> set[str]:
        return {str(v.get("policy")) for v in self.violations()}

    def describe(self) -> str:
        lines = [f"mode={self.mode} exit={self.code} argv={' '.join(self.argv)}"]
        for v in self.violations():
            lines.append(f"  [{v.get('policy')}] {str(v.get('message'))[:300]}")
        if self.stderr.strip():
            lines.append("  stderr: " + self.stderr.strip()[-1500:])
        return "\n".join(lines)


def load_vector(path: Path) -> Vector:
    meta = yaml.safe_load((path / "vector.yaml").read_text(encoding="utf-8"))
    if not isinstance(meta, dict):
        raise ValueError(f"{path}/vector.yaml: expected a mapping")
    unknown = set(meta) - VECTOR_KEYS
    missing = REQUIRED_KEYS - set(meta)
    if unknown or missing:
        raise ValueError(f"{path}/vector.yaml: unknown keys {sorted(unknown)}, missing keys {sorted(missing)}")
    rules = meta["rules"]
    if not isinstance(rules, list) or not rules or not all(isinstance(r, str) for r in rules):
        raise ValueError(f"{path}/vector.yaml: rules must be a non-empty list of rule ids")
    if meta["id"] != path.name:
        raise ValueError(f"{path}/vector.yaml: id {meta['id']!r} differs from the directory name")
    return Vector(
        id=str(meta["id"]),
        cls=str(meta["class"]),
        description=str(meta["description"]),
        jurisdiction=str(meta["jurisdiction"]),
        rules=tuple(rules),
        expect=str(meta["expect"]),
        twin_note=str(meta["twin"]),
        path=path,
        stack=str(meta["stack"]) if meta.get("stack") else None,
        at=str(meta["at"]) if meta.get("at") else None,
    )


def load_vectors() -> list[Vector]:
    return [load_vector(p) for p in sorted(VECTORS_DIR.iterdir()) if (p / "vector.yaml").is_file()]


# ------------------------------------------------------------------------------------------------ running
def cli_argv(*args: str) -> list[str]:
    """``sovereign <args>`` as a subprocess of this interpreter (the venv's), from the project root."""
    return [sys.executable, "-m", "sovereign", *args]


def run_cli(args: Sequence[str], *, env: Mapping[str, str] | None = None, timeout: float = 300) -> Outcome:
    argv = cli_argv(*args)
    child_env = dict(os.environ)
    child_env.update(env or {})
    proc = subprocess.run(  # noqa: S603 - fixed argv
        argv, cwd=ROOT, env=child_env, capture_output=True, text=True, timeout=timeout, check=False
    )
    try:
        report = json.loads(proc.stdout) if proc.stdout.strip() else None
    except json.JSONDecodeError:
        report = None
    return Outcome(proc.returncode, report, proc.stdout, proc.stderr, "cli", tuple(args))


def check_manifests(directory: Path, jurisdiction: str, at: str | None = None) -> Outcome:
    """``sovereign check --manifests DIR --jurisdiction J --format json`` through ``sovereign.cli.main.main``
    in-process (thread-safe: the report goes to ``--output``, not stdout; the pack is its own process)."""
    import tempfile

    from sovereign.cli.main import main

    with tempfile.TemporaryDirectory(prefix="redteam-") as tmp:
        output = Path(tmp) / "report.json"
        args = ["check", "--manifests", str(directory), "--jurisdiction", jurisdiction, "--format", "json",
                "--output", str(output)]
        if at:
            args += ["--at", at]
        code = main(args)
        text = output.read_text(encoding="utf-8") if output.exists() else ""
    report = json.loads(text) if text.strip() else None
    return Outcome(code, report, text, "", "cli-in-process", tuple(args[:-2]))


def stack_pack_config(stack: str) -> dict[str, Any]:
    """The stack file's ``config:`` as the language host puts it in ``PULUMI_CONFIG`` (namespaced keys)."""
    data = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8"))
    config = dict(data["config"])
    if any(isinstance(v, Mapping) and "secure" in v for v in config.values()):
        raise ValueError(f"stack {stack} has secure values; the red-team stack mode does not decrypt them")
    return config


def check_with_stack_config(directory: Path, stack: str, at: str | None) -> Outcome:
    """The pack over ``directory``'s manifests with ``stack``'s full config (see module docstring)."""
    from sovereign.analyzer.resource import PROJECT
    from sovereign.report.formats import RENDERERS
    from sovereign.report.manifest_input import load_manifests
    from sovereign.report.model import CheckReport
    from sovereign.report.policy_run import run_pack, target_from_manifests

    docs = load_manifests(directory)
    config = stack_pack_config(stack)
    target = target_from_manifests(stack, PROJECT, str(config["sovereign-clusters:jurisdiction"]), docs)
    target.config = config
    run = run_pack(target, ROOT / "policies", at=at, catalog=None)
    report = CheckReport(pack_name=run.pack_name, pack_version=run.pack_version, stacks=(run.result,),
                         policies=run.policies, at=at)
    text = RENDERERS["json"](report)
    return Outcome(report.exit_code, json.loads(text), text, "", f"stack:{stack}",
                   ("pack", "--stack-config", stack, "--manifests", str(directory), "--at", str(at)))


def run_side(vector: Vector, side: str) -> Outcome:
    directory = vector.side(side)
    if vector.stack:
        return check_with_stack_config(directory, vector.stack, vector.at)
    return check_manifests(directory, vector.jurisdiction, vector.at)


def run_all(vectors: Sequence[Vector]) -> dict[tuple[str, str], Outcome]:
    """Every (vector, side) once, in parallel (each run is its own pack process)."""
    jobs = [(v, s) for v in vectors for s in SIDES]
    with ThreadPoolExecutor(max_workers=max(1, PARALLEL)) as pool:
        results = list(pool.map(lambda job: run_side(*job), jobs))
    return {(v.id, s): r for (v, s), r in zip(jobs, results, strict=True)}
