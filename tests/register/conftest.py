"""Fixtures of the register tests: the example stacks rendered once, and their registers as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from register_support import AT, make_project, run_cli


@pytest.fixture(scope="session")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_project(tmp_path_factory.mktemp("register") / "project")


@pytest.fixture(scope="session")
def registers(project: Path) -> dict[str, Any]:
    """``sovereign register --all --format json`` of the example stacks (renders in ``<project>/out``)."""
    result = run_cli("register", "--all", "--at", AT, "--format", "json", "--output", project / "register.json",
                     root=project)
    assert result.returncode == 0, result.stderr
    document: dict[str, Any] = json.loads((project / "register.json").read_text(encoding="utf-8"))
    return document
