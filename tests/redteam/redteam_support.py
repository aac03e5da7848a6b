"""Shared machinery of the red-team suite: vector discovery and one way to run the residency check on a case.

A vector is a directory ``vectors/<id>/`` with ``leak/*.yaml`` (must be rejected by the named rule(s)),
``twin/*.yaml`` (the near-miss that must pass: a false positive is a failure too) and ``vector.yaml``.

Two modes, both exactly the command a CI job runs (through ``sovereign.cli.main.main`` in-process, report via
``--output``):

* ``manifests`` (default): ``sovereign check --manifests <dir> --jurisdiction <j> --format json``.
* ``stack`` (vector.yaml ``stack: <name>``): ``sovereign check <stack> --manifests <dir> --format json`` — the
  manifests judged under that stack's CNI, tenants and declared transfers (relays through an approved transfer,
  a policy kind the CNI does not enforce). Before RT-4 was fixed this mode drove ``run_pack`` directly.

Optional keys of either mode (used by the closed-world suite, ``closed_world/<id>/``):

* ``policy_config``: a policy pack config (``{"<rule>": {"exemptions": [...]}}``, the format of ``pulumi preview
  --policy-pack-config``) written to a temporary JSON file and passed as ``--policy-pack-config``; the same for
  both sides, or per side as ``{leak: {...}, twin: {...}}`` (a side left out gets none).
* ``provider``: a catalog provider id passed as ``--provider``; a string for both sides or ``{leak: .., twin: ..}``.

``load_vectors(directory)`` reads the vectors of any suite directory (default: ``vectors/``).

Runs are independent processes, so the suite runs them in parallel once per session (see ``run_all``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
VECTORS_DIR = Path(__file__).resolve().parent / "vectors"
VECTOR_KEYS = frozenset({"id", "class", "description", "jurisdiction", "rules", "expect", "twin", "stack", "at",
                         "leak_exit", "policy_config", "provider"})
BAD_INPUT = "bad-input"
"""``rules: [bad-input]`` with ``leak_exit: 2``: the leak must be refused as bad input (exit 2, message on stderr)."""
REQUIRED_KEYS = frozenset({"id", "class", "description", "jurisdiction", "rules", "expect", "twin"})
SIDES = ("leak", "twin")
FROM_LABELS = "labels"
"""vector.yaml ``jurisdiction: labels``: run without ``--jurisdiction`` (each Namespace's label decides)."""
CLOSED_WORLD_DIR = Path(__file__).resolve().parent / "closed_world"
"""The closed-world suite (tests/redteam/test_closed_world_vectors.py): same format, plus policy_config/provider."""


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
    leak_exit: int = 1
    policy_configs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Per side: the policy pack config passed as ``--policy-pack-config`` (a side not listed gets none)."""
    providers: Mapping[str, str] = field(default_factory=dict)
    """Per side: the ``--provider`` (a side not listed gets none)."""

    def side(self, name: str) -> Path:
        return self.path / name

    def policy_config(self, side: str) -> Mapping[str, Any] | None:
        return self.policy_configs.get(side)

    def provider(self, side: str) -> str | None:
        return self.providers.get(side)


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
    if (BAD_INPUT in rules) != (meta.get("leak_exit", 1) == 2):
        raise ValueError(f"{path}/vector.yaml: rules [{BAD_INPUT}] goes with leak_exit: 2 and only with it")
    if meta["id"] != path.name:
        raise ValueError(f"{path}/vector.yaml: id {meta['id']!r} differs from the directory name")
    policy_configs = _per_side(path, "policy_config", meta.get("policy_config"), dict)
    providers = _per_side(path, "provider", meta.get("provider"), str)
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
        leak_exit=int(meta.get("leak_exit", 1)),
        policy_configs=policy_configs,
        providers=providers,
    )


def _per_side(path: Path, key: str, value: Any, kind: type) -> dict[str, Any]:
    """``value`` for both sides, or ``{leak: ..., twin: ...}`` (only side names as keys) per side; None: none."""
    if value is None:
        return {}
    if isinstance(value, dict) and value and set(value) <= set(SIDES):
        sides = {s: v for s, v in value.items() if v is not None}
    else:
        sides = {s: value for s in SIDES}
    for side, v in sides.items():
        if not isinstance(v, kind):
            raise ValueError(f"{path}/vector.yaml: {key} ({side}) must be a {kind.__name__}, found {v!r}")
    return sides


def load_vectors(directory: Path = VECTORS_DIR) -> list[Vector]:
    """The vectors of a suite directory (each ``<id>/vector.yaml``), sorted by id."""
    return [load_vector(p) for p in sorted(directory.iterdir()) if (p / "vector.yaml").is_file()]


# ------------------------------------------------------------------------------------------------ running
def _check_args(directory: Path, jurisdiction: str | None, at: str | None, stack: str | None,
                config_file: Path | None, provider: str | None) -> list[str]:
    args = ["check", *([stack] if stack else []), "--manifests", str(directory)]
    if jurisdiction and jurisdiction != FROM_LABELS and not stack:
        args += ["--jurisdiction", jurisdiction]
    args += ["--format", "json"]
    if at:
        args += ["--at", at]
    if config_file is not None:
        args += ["--policy-pack-config", str(config_file)]
    if provider:
        args += ["--provider", provider]
    return args


def _write_config(tmp: str, policy_config: Mapping[str, Any] | None) -> Path | None:
    if policy_config is None:
        return None
    path = Path(tmp) / "policy-config.json"
    path.write_text(json.dumps(policy_config, indent=2, sort_keys=True), encoding="utf-8")
    return path


def check_manifests(directory: Path, jurisdiction: str | None, at: str | None = None, *,
                    stack: str | None = None, policy_config: Mapping[str, Any] | None = None,
                    provider: str | None = None) -> Outcome:
    """``sovereign check [STACK] --manifests DIR [--jurisdiction J] --format json [--policy-pack-config F]
    [--provider P]`` through ``sovereign.cli.main.main`` in this process (the report goes to ``--output``, not
    stdout); ``policy_config`` is written to a temporary JSON file."""
    import tempfile

    from sovereign.cli.main import main

    with tempfile.TemporaryDirectory(prefix="redteam-") as tmp:
        output = Path(tmp) / "report.json"
        args = _check_args(directory, jurisdiction, at, stack, _write_config(tmp, policy_config), provider)
        code = main([*args, "--output", str(output)])
        text = output.read_text(encoding="utf-8") if output.exists() else ""
    report = json.loads(text) if text.strip() else None
    return Outcome(code, report, text, "", f"stack:{stack}" if stack else "manifests", tuple(args))


def run_side(vector: Vector, side: str) -> Outcome:
    if side == "leak" and vector.leak_exit == 2:
        return check_subprocess(vector.side(side), vector.jurisdiction, vector.at, stack=vector.stack,
                                policy_config=vector.policy_config(side), provider=vector.provider(side))
    return check_manifests(vector.side(side), vector.jurisdiction, vector.at, stack=vector.stack,
                           policy_config=vector.policy_config(side), provider=vector.provider(side))


def check_subprocess(directory: Path, jurisdiction: str | None, at: str | None, *, stack: str | None,
                     policy_config: Mapping[str, Any] | None = None, provider: str | None = None) -> Outcome:
    """The same command as a subprocess, for cases judged by their exit status and stderr (bad input)."""
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory(prefix="redteam-") as tmp:
        args = _check_args(directory, jurisdiction, at, stack, _write_config(tmp, policy_config), provider)
        proc = subprocess.run([sys.executable, "-m", "sovereign", *args], cwd=ROOT, capture_output=True,
                              text=True, timeout=300, check=False)
    try:
        report = json.loads(proc.stdout) if proc.stdout.strip() else None
    except json.JSONDecodeError:
        report = None
    return Outcome(proc.returncode, report, proc.stdout, proc.stderr, "subprocess", tuple(args))


def run_all(vectors: Sequence[Vector]) -> dict[tuple[str, str], Outcome]:
    """Every (vector, side) once, one after another: ``sovereign check`` runs the pack in its own process
    (in-process transport), whose environment a concurrent run in another thread would share."""
    jobs = [(v, s) for v in vectors for s in SIDES]
    results = [run_side(*job) for job in jobs]
    return {(v.id, s): r for (v, s), r in zip(jobs, results, strict=True)}
