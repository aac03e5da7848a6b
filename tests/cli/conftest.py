"""Fixtures for the CLI tests (helpers live in cli_support.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import AT, FIXTURE_STACK, make_pack, make_project, run_cli


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
