"""Helpers of the register tests: a copy of this repository's project (program, stacks, catalog, example
organisation) and ``run_cli``, which runs ``python -m sovereign`` as a user would, in that copy.

A module of its own (not conftest.py) so test files import it by a name no other test directory uses."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCHEMA = REPO / "docs" / "schemas" / "register.schema.json"
AT = "2026-12-07T09:00:00Z"
STACKS = ("cn-prod", "eu-prod", "us-prod")


def make_project(dest: Path) -> Path:
    """The repository's project as a user clones it: Pulumi.yaml, stacks, the program, the catalog, examples."""
    dest.mkdir(parents=True)
    shutil.copy(REPO / "Pulumi.yaml", dest / "Pulumi.yaml")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for part in ("stacks", "infra", "examples"):
        shutil.copytree(REPO / part, dest / part, ignore=ignore)
    shutil.copytree(REPO / "policies" / "catalog", dest / "policies" / "catalog", ignore=ignore)
    return dest


def run_cli(*args: str | Path, root: Path, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = dict(os.environ)
    full_env.pop("SOVEREIGN_AT", None)
    full_env["SOVEREIGN_ROOT"] = str(root)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "sovereign", *map(str, args)], capture_output=True, text=True,
                          env=full_env, cwd=root, timeout=600, check=False)
