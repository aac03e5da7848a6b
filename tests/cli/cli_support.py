"""Helpers of the CLI tests: a tiny project (fixture program + fixture stack + the real catalog and schema),
a tiny policy pack, and ``run_cli``, which runs ``python -m sovereign`` as a user would.

A module of its own (not conftest.py) so test files import it by a name no other test directory uses."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
GOLDEN = REPO / "tests" / "golden"
FIXTURE_STACK = "fixture-cn"
AT = "2026-11-25T00:00:00Z"


def make_project(dest: Path) -> Path:
    """A project root the CLI accepts: Pulumi.yaml, the real stack schema and catalog, fixture stack + program."""
    (dest / "stacks").mkdir(parents=True)
    shutil.copy(REPO / "Pulumi.yaml", dest / "Pulumi.yaml")
    shutil.copy(REPO / "stacks" / "stack.schema.json", dest / "stacks" / "stack.schema.json")
    shutil.copy(FIXTURES / "stacks" / f"Pulumi.{FIXTURE_STACK}.yaml", dest / "stacks")
    shutil.copytree(REPO / "policies" / "catalog", dest / "policies" / "catalog")
    shutil.copytree(FIXTURES / "infra", dest / "infra")
    shutil.copytree(REPO / "examples", dest / "examples")  # the example organisation (the catalog's own layer)
    example = dest / "examples" / "automaker" / "organisation.yaml"  # written for the fixture stack too: no warning
    text = example.read_text(encoding="utf-8")
    example.write_text(text.replace("stacks: [cn-prod, eu-prod, us-prod]",
                                    f"stacks: [cn-prod, eu-prod, us-prod, {FIXTURE_STACK}]"), encoding="utf-8")
    return dest


def make_pack(dest: Path) -> Path:
    """The test pack, its ``virtualenv`` pointed at the interpreter running the tests (as the CLI resolves it)."""
    shutil.copytree(FIXTURES / "pack", dest)
    text = (dest / "PulumiPolicy.yaml").read_text().replace("VENV_PLACEHOLDER", str(Path(sys.prefix)))
    (dest / "PulumiPolicy.yaml").write_text(text)
    return dest


def run_cli(*args: str | Path, root: Path | None = None, env: Mapping[str, str] | None = None,
            cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    full_env = dict(os.environ)
    full_env.pop("SOVEREIGN_AT", None)
    if root is not None:
        full_env["SOVEREIGN_ROOT"] = str(root)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "sovereign", *map(str, args)],
        capture_output=True, text=True, env=full_env, cwd=cwd, timeout=600, check=False,
    )
