"""Fixtures for the CLI tests: a tiny project (fixture program + fixture stack + the real catalog and schema),
a tiny policy pack, and a helper that runs ``python -m sovereign`` as a user would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

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


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "project")


@pytest.fixture(scope="session")
def session_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project(tmp_path_factory.mktemp("session") / "project")


@pytest.fixture(scope="session")
def test_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_pack(tmp_path_factory.mktemp("pack") / "pack")


@pytest.fixture(scope="session")
def rendered(session_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture stack rendered once for the session (read-only for the tests that use it)."""
    out = tmp_path_factory.mktemp("rendered") / "out"
    result = run_cli("render", FIXTURE_STACK, "--out", out, "--at", AT, root=session_project)
    assert result.returncode == 0, result.stderr
    return out
