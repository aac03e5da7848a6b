"""The project is found from the working directory upward, as ``pulumi`` finds ``Pulumi.yaml``; ``SOVEREIGN_ROOT``
overrides it; outside any project a command that needs one is bad input (exit 2), one that needs none uses the
installed copy's pack and catalog; ``sovereign --version`` (docs/cli.md, "Where the project is")."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from cli_support import REPO, run_cli

from sovereign.core import paths

FIXTURE_MANIFESTS = REPO / "tests" / "redteam" / "vectors" / "world-with-except" / "leak"


@pytest.fixture
def no_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(paths.ROOT_ENV, raising=False)


def _project(dest: Path, *, with_data: bool) -> Path:
    dest.mkdir(parents=True)
    shutil.copy(REPO / "Pulumi.yaml", dest / "Pulumi.yaml")
    (dest / "stacks").mkdir()
    if with_data:
        shutil.copytree(REPO / "policies" / "catalog", dest / "policies" / "catalog")
    return dest


@pytest.mark.usefixtures("no_override")
def test_found_from_the_working_directory_and_its_parents(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(tmp_path / "proj", with_data=True)
    deep = project / "apps" / "shop"
    deep.mkdir(parents=True)
    for where in (project, deep):
        monkeypatch.chdir(where)
        assert paths.project_root() == project.resolve()
        assert paths.stacks_dir() == project.resolve() / "stacks"
        assert paths.catalog_dir() == project.resolve() / "policies" / "catalog"


@pytest.mark.usefixtures("no_override")
def test_the_nearest_project_wins_and_pulumi_yml_counts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outer = _project(tmp_path / "outer", with_data=False)
    inner = outer / "inner"
    inner.mkdir()
    (inner / "Pulumi.yml").write_text("name: inner\nruntime: python\n")
    monkeypatch.chdir(inner)
    assert paths.project_root() == inner.resolve()


@pytest.mark.usefixtures("no_override")
def test_a_project_without_the_catalog_takes_the_installed_pack_and_catalog(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(tmp_path / "other", with_data=False)
    (project / "policies").mkdir()  # a policies/ of its own is not ours
    monkeypatch.chdir(project)
    assert paths.project_root() == project.resolve()
    assert paths.data_root() == paths.installed_root() == REPO
    assert paths.catalog_dir() == REPO / "policies" / "catalog"


@pytest.mark.usefixtures("no_override")
def test_outside_any_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(paths.NoProjectError) as raised:
        paths.project_root()
    assert raised.value.file == str(tmp_path.resolve())
    assert "Pulumi.yaml" in raised.value.message and "SOVEREIGN_ROOT" in raised.value.message
    assert paths.data_root() == REPO
    assert paths.stack_schema_path() == REPO / "stacks" / "stack.schema.json"


def test_sovereign_root_overrides_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(tmp_path / "proj", with_data=False)
    monkeypatch.setenv(paths.ROOT_ENV, str(project))
    monkeypatch.chdir(REPO)
    assert paths.project_root() == project.resolve()
    assert paths.data_root() == project.resolve()  # named explicitly: its data is the data, even if missing


def _cli(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, cwd=cwd)


@pytest.fixture
def outside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv(paths.ROOT_ENV, raising=False)
    return tmp_path


def test_cli_outside_a_project_needs_one_for_stacks(outside: Path) -> None:
    for args in (("render", "cn-prod", "--out", str(outside / "out")), ("validate",)):
        result = _cli(*args, cwd=outside)
        assert result.returncode == 2, (args, result.stderr)
        assert "Pulumi.yaml" in result.stderr and "Traceback" not in result.stderr
        assert f"sovereign {args[0]}: error: {outside.resolve()}" in result.stderr
    assert not (outside / "out").exists()


def test_cli_outside_a_project_lists_the_installed_pack(outside: Path) -> None:
    result = _cli("rules", cwd=outside)
    assert result.returncode == 0, result.stderr
    assert "sovereign-residency" in result.stdout


def test_cli_outside_a_project_checks_manifests_with_the_installed_pack(outside: Path) -> None:
    shutil.copytree(FIXTURE_MANIFESTS, outside / "manifests")
    result = _cli("check", "--manifests", "manifests", "--jurisdiction", "cn", "--format", "json", cwd=outside)
    assert result.returncode == 1, result.stderr  # the vector leaks: judged, not refused
    assert '"no-cross-border-path"' in result.stdout


def test_cli_in_a_subdirectory_of_the_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(paths.ROOT_ENV, raising=False)
    result = _cli("validate", cwd=REPO / "docs")
    assert result.returncode == 0, result.stderr


def test_version(outside: Path) -> None:
    for cwd in (REPO, outside):
        result = _cli("--version", cwd=cwd)
        assert result.returncode == 0, result.stderr
        package, pack = result.stdout.splitlines()
        assert package == "sovereign 0.1.0"  # pyproject.toml's version, from the installed metadata
        assert pack == f"policy pack 0.1.0 ({REPO / 'policies'})"  # PulumiPolicy.yaml's version
    assert "--version" in _cli("--help", cwd=REPO).stdout
