"""Fixtures of the evidence tests: one key pair and one bundle of cn-prod per module, made by the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from evidence_support import AT, STACK, make_project

from sovereign.cli.main import main


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = make_project(tmp_path_factory.mktemp("evidence") / "project")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOVEREIGN_ROOT", str(root))
        patch.setenv("KUBECONFIG", "/dev/null")
        patch.delenv("SOVEREIGN_AT", raising=False)
        patch.delenv("SOVEREIGN_ORGANISATION", raising=False)
        patch.delenv("SOVEREIGN_EVIDENCE_KEY", raising=False)
        yield root


@pytest.fixture(scope="module")
def keys(project: Path) -> tuple[Path, Path]:
    directory = project.parent / "keys"
    assert main(["evidence", "keygen", "--out", str(directory)]) == 0
    return directory / "evidence-key.pem", directory / "evidence-key.pub.pem"


@pytest.fixture(scope="module")
def bundle(project: Path, keys: tuple[Path, Path]) -> Path:
    out = project.parent / "bundle"
    assert main(["evidence", STACK, "--at", AT, "--out", str(out), "--key", str(keys[0])]) == 0
    return out
